"""The citizen's phone over HTTP (hub/service/citizen.py; docs/citizen.md). Public: the
capability in the path is the only credential.

    GET  /api/v1/citizen/<cap>            the ticket's view (what its phone page shows)
    POST /api/v1/citizen/<cap>/complaint  {category, text, window?, phone?}: the kiosk's path
    POST /api/v1/citizen/<cap>/rating     {level, reason?}: the phone's 好差评

Every public route of the phone (these, the pages, the /citizen socket's connect) is limited per
network address (`limited`): a token bucket of `[citizen] burst` refilled at
`requests_per_minute`. Each hub counts its own clients: with several hubs behind one address a
phone may get up to that many times the rate, which still bounds what one address costs a hub.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, current_app, jsonify, request

from hub import shapes
from hub.engine import DomainError
from hub.i18n import N_
from hub.service.citizen import Citizen

from .api import body, client_addr, service
from .operations import documented

citizen_api = Blueprint("citizen_api", __name__, url_prefix="/api/v1/citizen")

ADDRESSES_KEPT = 10_000  # buckets kept; the least recently seen address is forgotten first
_PUBLIC = (404, 413, 422, 429)


class RateLimited(DomainError):
    kind = "rate_limited"

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        super().__init__("rate_limited", N_("error.citizen_rate_limited", "seconds"),
                         seconds=int(retry_after_s) + 1)


class AddressLimiter:
    """A token bucket per network address: `burst` requests at once, then
    `per_minute` a minute. `clock` is monotonic seconds (a test may pass its own)."""

    def __init__(self, limits: Callable[[], tuple[int, int]],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits, self.clock = limits, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, addr: str) -> None:
        """Spend one request of `addr`; RateLimited (with when to retry) if it has none."""
        per_minute, burst = self.limits()
        rate = per_minute / 60.0
        now = self.clock()
        with self._lock:
            tokens, since = self._buckets.pop(addr, (float(burst), now))
            tokens = min(float(burst), tokens + (now - since) * rate)
            if tokens < 1.0:
                self._buckets[addr] = (tokens, now)
                raise RateLimited((1.0 - tokens) / rate)
            self._buckets[addr] = (tokens - 1.0, now)
            while len(self._buckets) > ADDRESSES_KEPT:
                self._buckets.popitem(last=False)


def limiter() -> AddressLimiter:
    """The app's limiter of the phone's public routes (made on first use)."""
    found = current_app.extensions.get("onestop_citizen_limiter")
    if found is None:
        hall = service()  # its config read at each request: a reload changes the limits
        found = AddressLimiter(lambda: (hall.cfg.citizen.requests_per_minute,
                                        hall.cfg.citizen.burst))
        current_app.extensions["onestop_citizen_limiter"] = found
    return found


V = TypeVar("V", bound=Callable[..., Any])


def limited(view: V) -> V:
    """A public route of the phone: one request of the caller's address spent first."""

    @wraps(view)
    def spend(*args: Any, **kwargs: Any) -> Any:
        limiter().take(client_addr())
        return view(*args, **kwargs)

    return spend  # type: ignore[return-value]


def citizen() -> Citizen:
    return service().citizen


def seen_base() -> str:
    """The hub's own address as this request reached it (`[citizen] base_url` overrides)."""
    return request.host_url


@citizen_api.url_value_preprocessor
def _bounded_path(_endpoint: str | None, values: dict | None) -> None:
    if values:
        shapes.path(values)


@citizen_api.get("/<cap>")
@documented(shapes.CitizenView, *_PUBLIC, auth=False)
@limited
def view(cap: str):
    """The ticket's view on the citizen's phone: number, item, place, estimated wait, windows,
    materials, the call, the rating; nothing personal. 404 `unknown_link` for a forged, expired
    or unknown capability alike; 429 `rate_limited` (Retry-After) past the address's limit"""
    return jsonify(citizen().view(cap, seen_base()))


@citizen_api.post("/<cap>/complaint")
@documented(shapes.CitizenComplaintFiled, *_PUBLIC, 409, ok=201,
            body=shapes.CitizenComplaint, auth=False)
@limited
def complaint(cap: str):
    """A complaint from the ticket's phone: filed as a kiosk's is (source `phone`), its case
    opens with it"""
    data = body(shapes.CitizenComplaint)
    return jsonify(citizen().complain(cap, data, client_addr())), 201


@citizen_api.post("/<cap>/rating")
@documented(shapes.CitizenView, *_PUBLIC, 409, body=shapes.CitizenRating, auth=False)
@limited
def rating(cap: str):
    """The phone's rating of its finished ticket (1 非常满意 … 5 非常不满意, a reason from the
    hall's list for 4-5), until its day ends; one rating per ticket across keypad and phone
    (409 `already_rated`). Answers the ticket's view"""
    data = body(shapes.CitizenRating)
    return jsonify(citizen().rate(cap, data, client_addr(), seen_base()))
