"""The ticket's phone page, `/t/<capability>`: the capability alone authorizes it (no sign-in,
no token), so an unknown, forged or expired one gets the same plain refusal page (404) and the
page itself carries nothing of the ticket: its script reads the citizen view with the same
capability (`GET /api/v1/citizen/<cap>`, then the `/citizen` namespace).

The capability is in the address, so the page is never cached and never sent on as a referrer
(hub/web/page_headers.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

from hub.engine.errors import NotFound
from hub.service import HallService
from hub.web.citizen_api import limited
from hub.web.page_headers import secure_pages

pages = Blueprint(
    "citizen",
    __name__,
    url_prefix="",
    template_folder="templates",
    static_folder="static",
    static_url_path="/citizen/static",
)

# What the page's script says, by key prefix (shared/pages.py: page_strings).
STRINGS = ["citizen.", "rating.level.", "common.window", "lang."]
# Without sockets the page reads its view this often.
POLL_S = 30


def _center(service: HallService) -> dict[str, Any]:
    cfg = service.cfg
    return {"center": {"name": cfg.center.name, "name_en": cfg.center.name_en}}


def _linked(service: HallService, capability: str) -> bool:
    """Whether `capability` opens a ticket's page: the same no for unknown, forged, expired or
    a slip's (its page is `/s/<cap>`), so the answer tells nothing more."""
    try:
        kind, _ = service.citizen_link(capability)
    except NotFound:
        return False
    return kind == "ticket"


@pages.get("/t/<cap>")
@limited  # a public route: one request of the caller's address, as the citizen API's
def ticket(cap: str):
    service: HallService = current_app.extensions["onestop"]
    catalogue = _center(service)
    if not _linked(service, cap):
        return render_template("citizen/refused.html", catalogue=catalogue,
                               strings_for=STRINGS), 404
    return render_template(
        "citizen/ticket.html", catalogue=catalogue, strings_for=STRINGS,
        config={"api": f"/api/v1/citizen/{cap}", "capability": cap,
                "namespace": "/citizen", "socket_path": "/socket.io", "poll_s": POLL_S})


secure_pages(pages)
