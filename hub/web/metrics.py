"""`GET /metrics`: the hall in the Prometheus text format, for the center's monitoring.

Every figure is read from the hub's state (and the store, for forwarding) when scraped, by one
collector (hub/web/metrics_collector.py): nothing is counted in the hot path. prometheus_client
is loaded at the first scrape, so a hall that is never scraped does not carry it in memory.
A scrape needs a bearer token of the `metrics` role (`onestop token add --role metrics`) or an
office session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, request

from hub.auth import OFFICE_ROLES, Role
from hub.service import HallService

from .operations import READ, documented

metrics = Blueprint("metrics", __name__)

_REGISTRY = "onestop_metrics_registry"
_SOURCES = "onestop_metrics_sources"


def install(app: Any, sockets: Callable[[], dict[str, int]],
            forwarding: Callable[[], dict[str, Any] | None]) -> None:
    """Where the figures come from besides the service: connected sockets, the forwarder
    (the route itself is registered with the others: hub.web.app.add_routes)."""
    app.extensions[_SOURCES] = (sockets, forwarding)


@metrics.get("/metrics")
@documented(None, *READ, media="text/plain", schema={"type": "string"}, tag="operations")
def scrape() -> Response:
    """The hall in the Prometheus text format (a metrics token or an office session)"""
    service: HallService = current_app.extensions["onestop"]
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    who = service.authenticate(token or None)
    service.require(who, Role.METRICS, *OFFICE_ROLES)
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest  # noqa: PLC0415

    from hub.web.metrics_collector import registry_for  # noqa: PLC0415

    registry = current_app.extensions.get(_REGISTRY)
    if registry is None:
        registry = registry_for(service, *current_app.extensions[_SOURCES])
        current_app.extensions[_REGISTRY] = registry
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
