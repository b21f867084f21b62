"""The call screens as pages of the hub: `/display/hall` (综合屏), `/display/window/<no>` (窗口屏).

A page is plain HTML, CSS and JS (ES modules, no build step) served from this package and from
`shared/` (a closed network: nothing is loaded from outside). The page carries only the hall's
public catalogue (items, departments, windows); everything live comes over the `/display`
Socket.IO namespace with the screen token given in the URL (`?token=...`), as a kiosk-mode
Chromium is started.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, send_file

from hub import presenters
from hub.service import HallService
from hub.web.page_headers import secure_pages

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
    return render_template(
        "display/window.html",
        catalogue=_catalogue(service),
        config={"room": f"window:{no}", "window": no},
        no=no,
    )


@pages.get("/badge/<staff_no>")
def badge_photo(staff_no: str):
    """The photo on a clerk's work badge (art. 17). An <img> cannot send a bearer header, so the
    screen's token comes in the query, as it does for the page itself."""
    service = _service()
    service.authenticate(request.args.get("token"))
    found = service.accounts.photo_of(staff_no)
    if found is None:
        abort(404)
    data, mimetype = found
    return send_file(io.BytesIO(data), mimetype=mimetype, max_age=300)


secure_pages(pages, framed=True, cache=True)
