"""The ticket kiosk's touchscreen as a page of the hub: `/kiosk/` (paired once by code, it keeps its
token in the page's storage: shared/static/pairing.js; `?token=` still works for one release).

The page carries the hall's catalogue with every item's six disclosures (六公开) and materials
(一次性告知) — public information — so browsing never waits on the network; everything live
(waiting counts, tickets, slip lookups, complaints, scans, print results) goes over the `/kiosk`
Socket.IO namespace with the kiosk's token.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, send_file

from hub import presenters
from hub.i18n import default_texts
from hub.service import HallService
from hub.web.page_headers import secure_pages, token_in_address
from kiosk import prompts

pages = Blueprint(
    "kiosk",
    __name__,
    url_prefix="/kiosk",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


def _catalogue(service: HallService) -> dict[str, Any]:
    cfg = service.cfg
    return {
        "center": {"name": cfg.center.name, "name_en": cfg.center.name_en,
                   "timezone": cfg.center.timezone,
                   "complaint_phone": cfg.center.complaint_phone},
        "departments": presenters.catalogue(cfg)["departments"],
        # id_required: the page asks for the ID card first for an item that needs one.
        "services": [{**presenters.service_view(cfg, s), "id_required": s.id_required.value}
                     for s in cfg.services],
        "windows": [{"no": w.no, "name": w.name or default_texts().t("common.window", no=w.no)}
                    for w in cfg.windows],
        "complaint_categories": [
            {"code": c.code, "name": c.name, "name_en": c.name_en}
            for c in cfg.kiosk.complaint_categories
        ],
        "idle_seconds": cfg.kiosk.idle_seconds,
        "green_channel": cfg.green_channel.enabled,
        "slip_prefix": cfg.queue.slip_prefix,
        # Elderly mode's spoken prompts: the page asks for none when they are off.
        "voice_prompts": cfg.kiosk.voice_prompts,
    }


@pages.get("/")
def kiosk():
    service: HallService = current_app.extensions["onestop"]
    token_in_address("/kiosk/")
    return render_template("kiosk/kiosk.html", catalogue=_catalogue(service),
                           socket_path="/socket.io")


@pages.get("/prompts/<key>.<lang>.wav")
def prompt(key: str, lang: str):
    """A spoken prompt (elderly mode). No token: fixed public sentences, nothing personal, and
    an `<audio>` element cannot send one. Only names from the allowlist are ever opened; 404
    until the hub has rendered the file (or when espeak-ng is missing or prompts are off)."""
    name = prompts.file_name(key, lang)
    directory = current_app.extensions.get(prompts.EXTENSION_KEY)
    if name is None or directory is None or not (directory / name).is_file():
        abort(404)
    resp = send_file(directory / name, mimetype="audio/wav", max_age=3600)
    resp.headers["Cache-Control"] = "max-age=3600"  # fixed sentences: no need to ask each time
    return resp


secure_pages(pages, media=True)
