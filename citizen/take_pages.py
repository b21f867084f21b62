"""扫码取号 on a phone: `/q/<poster secret>`, the page today's poster QR code opens.

It lists the items as the kiosk's tiles do (waiting counts, outside hours, suspended), worked
out on the hub with the hub's own rules (hours with holidays and make-up days, suspensions), so
an old phone needs no clock or hall zone of its own. Taking a ticket posts to
`POST /api/v1/citizen/take` with the random id the page keeps in localStorage, then goes to the
ticket's own page. Yesterday's poster, or any other address: one clear refusal (404).
Public: nothing on it is personal; no socket, no token. Like the ticket's page, its script is
one classic script in ES2017 (citizen/static/take.js): an old Android browser runs it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

from hub.engine import DomainError
from hub.i18n import N_
from hub.service import HallService
from hub.web.page_headers import secure_pages

from .pages import _center, limited_page

# The citizen blueprint (citizen/pages.py) serves this page's script and style.
pages = Blueprint("take", __name__, url_prefix="/q", template_folder="templates")
STRINGS = ["take."]


def _service() -> HallService:
    return current_app.extensions["onestop"]


def _items(service: HallService, seen: dict[str, Any]) -> list[dict[str, Any]]:
    """Each item as a tile: its department, waiting count, and why it takes no ticket now."""
    cfg = service.cfg
    now = service.engine.local(service.clock())
    items = []
    for svc in cfg.services:
        dept = cfg.department(svc.department)
        if svc.code in seen["closed_services"]:
            state = "suspended"
        elif not cfg.is_open(svc, now):
            state = "hours"
        else:
            state = "open"
        items.append({
            "code": svc.code, "name": svc.name, "name_en": svc.name_en, "prefix": svc.prefix,
            "department": dept.name, "department_en": dept.name_en,
            "hours": cfg.hours[svc.hours].periods, "state": state,
            "why": seen["closed_services"].get(svc.code) or "",
            "waiting": seen["waiting"].get(svc.code, 0),
        })
    return items


def refused(service: HallService, err: DomainError, title_key: str, hint_key: str):
    """A phone page's one refusal (404), said as a page: a citizen reads it, not a program."""
    return render_template("citizen/take_refused.html", catalogue=_center(service),
                           strings_for=STRINGS, message=err.message, title_key=title_key,
                           hint_key=hint_key), 404


@pages.get("/<poster>")
@limited_page
def take_page(poster: str):
    service = _service()
    try:
        seen = service.takes.poster(poster)
    except DomainError as err:  # not today's poster: one refusal, whatever the reason
        return refused(service, err, N_("take.title"), N_("take.scan_todays_poster"))
    return render_template("citizen/take.html", catalogue=_center(service),
                           strings_for=STRINGS, poster=poster,
                           day=seen["day"], items=_items(service, seen),
                           limit=service.cfg.citizen.take_per_device_per_day)


secure_pages(pages)
