"""The ticket's phone page, `/t/<capability>`: the capability alone authorizes it (no sign-in,
no token), so an unknown, forged or expired one gets the same plain refusal page (404) and the
page itself carries nothing of the ticket: its script reads the citizen view with the same
capability (`GET /api/v1/citizen/<cap>`, then the `/citizen` namespace).

The capability is in the address, so the page is never cached and never sent on as a referrer
(hub/web/page_headers.py).

The phone's pages (this one, 扫码取号's and the 承诺单's) are limited per network address as the
citizen API is; past the limit a browser gets a page saying so (429, Chinese then English, with
Retry-After), an API client the API's JSON refusal (`limited_page`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, current_app, render_template, request

from hub.engine.errors import NotFound
from hub.service import HallService
from hub.web.citizen_api import RateLimited, limited
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


V = TypeVar("V", bound=Callable[..., Any])


def _wants_html() -> bool:
    """A browser asks for HTML first; an API client (`*/*`, JSON) gets the API's refusal."""
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def limited_page(view: V) -> V:
    """A phone page, limited as the citizen API is (`limited`): past the address's limit, a
    browser reads why and when to come back (429 with Retry-After), not a JSON refusal."""
    spend = limited(view)

    @wraps(view)
    def answer(*args: Any, **kwargs: Any) -> Any:
        try:
            return spend(*args, **kwargs)
        except RateLimited as err:
            if not _wants_html():
                raise
            service: HallService = current_app.extensions["onestop"]
            page = render_template("citizen/busy.html", catalogue=_center(service),
                                   strings_for=[], err=err)
            return page, 429, {"Retry-After": str(int(err.retry_after_s) + 1)}

    return answer  # type: ignore[return-value]


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
@limited_page  # a public route: one request of the caller's address, as the citizen API's
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
