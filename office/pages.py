"""The office's pages: `/office/` (live monitor), `/office/reports` (statistics and
assessment), `/office/admin` (the hall file, changed while the hall runs), the casework:
`/office/cases` (督办: 差评 and complaints through to closed cases), `/office/spot-checks`
(办件抽查) and `/office/staff` (效能记录, one member at `/office/staff/<username>`), and
`/office/poster` (扫码取号's poster of the day, printed on A4).

Like the clerk panel, a page carries only the hall's catalogue; a supervisor or admin signs in
with `POST /api/v1/login` (no window), keeps the session token in sessionStorage, and reads and
acts through the API and the `/monitor` Socket.IO namespace. Nothing is loaded from outside.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, render_template

from caller.pages import _catalogue
from hub.service import HallService
from hub.web.page_headers import InlineScript, secure_pages

pages = Blueprint(
    "office",
    __name__,
    url_prefix="/office",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


# The casework page's first read of the queue, carried in the page (see the script).
FIRST_CASES = InlineScript.read(Path(__file__).parent / "static" / "cases" / "early.js")


def _service() -> HallService:
    return current_app.extensions["onestop"]


def catalogue() -> dict[str, Any]:
    return _catalogue(_service())


def casework_catalogue() -> dict[str, Any]:
    """The casework pages also name what the hall file lists for cases: the complaint
    categories, the 差评 reasons and the spot checks' checklist (codes kept by the events)."""
    cfg = _service().cfg
    return {
        **catalogue(),
        "complaint_categories": [
            {"code": c.code, "name": c.name, "name_en": c.name_en}
            for c in cfg.kiosk.complaint_categories
        ],
        "rating_reasons": list(cfg.rating.reasons),
        "checklist": [
            {"code": c.code, "text": c.text, "text_en": c.text_en}
            for c in cfg.spot_check.checklist
        ],
    }


@pages.get("/")
def monitor():
    return render_template("office/monitor.html", catalogue=catalogue())


@pages.get("/reports")
def reports():
    return render_template("office/reports.html", catalogue=catalogue())


@pages.get("/admin")
def admin():
    return render_template("office/admin.html", catalogue=catalogue())


@pages.get("/cases")
def cases():
    return render_template("office/cases.html", catalogue=casework_catalogue(),
                           first_cases=FIRST_CASES.text)


@pages.get("/spot-checks")
def spot_checks():
    return render_template("office/spot_checks.html", catalogue=casework_catalogue())


@pages.get("/staff")
def staff_list():
    return render_template("office/staff.html", catalogue=casework_catalogue(), username="")


@pages.get("/staff/<username>")
def staff_member(username: str):
    # The name only says whom to load: the page reads the records through the API, signed in.
    return render_template("office/staff.html", catalogue=casework_catalogue(),
                           username=username)


@pages.get("/poster")
def poster():
    """扫码取号's printable poster: today's QR code after sign-in (office/static/poster.js)."""
    return render_template("office/poster.html", catalogue=catalogue())


secure_pages(pages, inline=[FIRST_CASES])
