"""The office's pages: `/office/` (live monitor), `/office/reports` (statistics and
assessment), `/office/admin` (the hall file, changed while the hall runs), `/office/poster`
(扫码取号's poster of the day, printed on A4).

Like the clerk panel, a page carries only the hall's catalogue; a supervisor or admin signs in
with `POST /api/v1/login` (no window), keeps the session token in sessionStorage, and reads and
acts through the API and the `/monitor` Socket.IO namespace. Nothing is loaded from outside.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

from caller.pages import _catalogue
from hub.service import HallService
from hub.web.page_headers import secure_pages

pages = Blueprint(
    "office",
    __name__,
    url_prefix="/office",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


def _service() -> HallService:
    return current_app.extensions["onestop"]


def catalogue() -> dict[str, Any]:
    return _catalogue(_service())


@pages.get("/")
def monitor():
    return render_template("office/monitor.html", catalogue=catalogue())


@pages.get("/reports")
def reports():
    return render_template("office/reports.html", catalogue=catalogue())


@pages.get("/admin")
def admin():
    return render_template("office/admin.html", catalogue=catalogue())


@pages.get("/poster")
def poster():
    """扫码取号's printable poster: today's QR code after sign-in (office/static/poster.js)."""
    return render_template("office/poster.html", catalogue=catalogue())


secure_pages(pages)
