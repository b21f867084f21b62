"""The clerk's panel as a page of the hub: `/caller/`.

Plain HTML, CSS and JS served from this package, with the modules and the Socket.IO client
every page shares (`shared/static/`): nothing is loaded from outside. The page carries only
the hall's catalogue (items with their time limits and target minutes, windows, departments,
pause reasons); the clerk signs in with `POST /api/v1/login`, keeps the session token in
sessionStorage (gone with the tab), and acts over the `/caller` Socket.IO namespace.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

from hub import presenters
from hub.engine.model import OUTCOME_LABELS, SLIP_STATUS_LABELS
from hub.service import HallService
from hub.web.page_headers import secure_pages

pages = Blueprint(
    "caller",
    __name__,
    url_prefix="/caller",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

_OUTCOMES_EN = {
    "immediate": "Done on the spot",
    "commitment": "Promised",
    "joint": "Joint",
    "report": "Reported up",
    "returned": "Returned",
}


def _catalogue(service: HallService) -> dict[str, Any]:
    """What the panel needs before it signs in: names and rules, nothing live or personal."""
    cfg = service.cfg
    found = presenters.catalogue(cfg)
    for s in cfg.services:  # the panel also shows the item's time limits
        found["services"][s.code].update(
            case_type=s.case_type.value, time_limit_days=s.time_limit_days,
            target_minutes=s.target_minutes)
    return {
        **found,
        "windows": [
            {"no": w.no, "name": w.name or f"{w.no}号窗口", "department": w.department,
             "services": list(w.services)}
            for w in cfg.windows
        ],
        "pause_reasons": list(cfg.queue.pause_reasons),
        "outcomes": [
            {"code": k.value, "name": label, "name_en": _OUTCOMES_EN[k.value]}
            for k, label in OUTCOME_LABELS.items()
        ],
        "slip_statuses": [
            {"code": k.value, "name": zh, "name_en": en}
            for k, (zh, en) in SLIP_STATUS_LABELS.items()
        ],
    }


@pages.get("/")
def panel():
    service: HallService = current_app.extensions["onestop"]
    return render_template("caller/panel.html", catalogue=_catalogue(service))


@pages.get("/returns")
def returns():
    """退件审批: the supervisors' queue of returns awaiting consent (art. 4(5))."""
    service: HallService = current_app.extensions["onestop"]
    return render_template("caller/returns.html", catalogue=_catalogue(service))


secure_pages(pages)
