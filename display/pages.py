"""The call screens as pages of the hub: `/display/hall` (综合屏), `/display/window/<no>` (窗口屏).

A page is plain HTML, CSS and JS (ES modules, no build step) served from this package and from
`shared/` (a closed network: nothing is loaded from outside). The page carries only the hall's
public catalogue (items, departments, windows); everything live comes over the `/display`
Socket.IO namespace with the screen's token, which the page keeps in its storage after it was
paired (shared/static/pairing.js). A `?token=` in the address still works for one release.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, send_file

from hub import presenters
from hub.service import HallService
from hub.web.page_headers import secure_pages, token_in_address

pages = Blueprint(
    "display",
    __name__,
    url_prefix="/display",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

# Calls kept in a page: bounded, so a screen that runs for days holds the same amount of state.
HALL_CALLS = 10


def _catalogue(service: HallService) -> dict[str, Any]:
    return presenters.catalogue(service.cfg)


def _service() -> HallService:
    return current_app.extensions["onestop"]


@pages.get("/hall")
def hall():
    zone = request.args.get("zone", "").strip()[:32]
    token_in_address("/display/hall")
    return render_template(
        "display/hall.html",
        catalogue=_catalogue(_service()),
        config={"room": "hall", "zone": zone, "calls": HALL_CALLS},
    )


@pages.get("/window/<int:no>")
def window(no: int):
    service = _service()
    if not service.cfg.has_window(no):
        abort(404)
    token_in_address("/display/window")
    return render_template(
        "display/window.html",
        catalogue=_catalogue(service),
        config={"room": f"window:{no}", "window": no},
        no=no,
    )


@pages.get("/badge/<staff_no>")
def badge_photo(staff_no: str):
    """The photo on a clerk's work badge (art. 17), for the screen's token in the Authorization
    header (the page fetches it and shows a blob: URL); `?token=` still works for one release."""
    service = _service()
    header = request.headers.get("Authorization", "")
    scheme, _, bearer = header.partition(" ")
    token = bearer if scheme.lower() == "bearer" and bearer else None
    service.authenticate(token or token_in_address("/display/badge"))
    found = service.accounts.photo_of(staff_no)
    if found is None:
        abort(404)
    data, mimetype = found
    return send_file(io.BytesIO(data), mimetype=mimetype, max_age=300)


secure_pages(pages, framed=True, cache=True)
