"""The admin page's API (art. 6 动态管理): the hall file, read, checked and applied.

    GET  /api/v1/admin/config        the running file's text, hash and last SIGHUP reload
    POST /api/v1/admin/config/check  {toml} -> problems (ConfigError's key and reason), the
                                     change it makes and what in the live hall blocks it
    POST /api/v1/admin/config/edit   {edit} -> the file's text with one common change made
    POST /api/v1/admin/config        {toml} -> validated, checked, written, reloaded (admin)

Reading and checking are for the office (a supervisor sees the file read-only); writing is the
admin's. The text travels whole: a hall file is tens of kilobytes, above the API's usual body
limit, so these routes allow up to 1 MiB.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
from flask import Blueprint, current_app, request

from hub import shapes
from hub.auth import OFFICE_ROLES, Role
from hub.config import ConfigError
from hub.engine import Invalid
from hub.hall_file import RESULT_FILE, HallFile, blockers, config_hash, diff, problem, quick_edit
from hub.i18n import default_texts

from .api import body, client_addr, service, who
from .operations import READ, WRITE, documented, reply

admin_api = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin")

MAX_HALL_FILE = shapes.MAX_HALL_FILE


@admin_api.before_request
def _bigger_body() -> None:
    request.max_content_length = MAX_HALL_FILE


def hall_file() -> HallFile:
    """The hub's `--config` file (set by hub.main); a hub started without one can't be edited."""
    found = current_app.extensions.get("onestop_hall_file")
    return found if found is not None else HallFile(None)


def running_text(hf: HallFile) -> str:
    """The text of the hall file the hall runs on: this hub's file, or, when another hub on the
    same store reloaded a newer one (hub/store/hall_config.py), that one, so an admin edits
    what runs rather than this hub's stale copy and undoes the other change."""
    text = hf.read_text()
    svc = service()
    if svc.config_hash and config_hash(text) != svc.config_hash:
        stored = svc.configs.current()
        if stored is not None and stored.hash == svc.config_hash:
            return stored.toml
    return text


def _problem(err: ConfigError) -> shapes.Problem:
    return shapes.Problem(**problem(err))


def _change(summary: dict[str, Any]) -> shapes.HallChange:
    return msgspec.convert(summary, shapes.HallChange)


def _invalid(err: ConfigError):
    return reply(shapes.Error(error=shapes.ErrorBody(code="invalid_config", message=str(err)),
                              problems=[_problem(err)]), 422)


def _text(data: shapes.HallFile) -> str:
    text = data.toml
    if not text.strip():
        raise Invalid("invalid", "error.hall_file_empty")
    return text


@admin_api.get("/config")
@documented(shapes.RunningHallFile, *READ)
def get_config():
    """The running hall file: text, hash, last SIGHUP reload (supervisor, admin)"""
    principal = who()
    service().require(principal, *OFFICE_ROLES)
    hf = hall_file()
    last = None
    if hf.data_dir is not None and (hf.data_dir / RESULT_FILE).exists():
        try:
            last = json.loads((hf.data_dir / RESULT_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            last = None
    try:
        text = running_text(hf)
    except ConfigError as err:
        text = f"# {err}\n"
    cfg = service().cfg
    return reply(shapes.RunningHallFile(
        toml=text,
        hash=service().config_hash,
        path=str(hf.path) if hf.path else None,
        editable=principal.role is Role.ADMIN and hf.path is not None and hf.writable,
        last_reload=last,
        # What the quick-edit form starts from: the running values.
        hours=list(cfg.hours),
        services=[shapes.QuickEditItem(code=s.code, name=s.name, daily_quota=s.daily_quota,
                                       hours=s.hours) for s in cfg.services],
        windows=[shapes.QuickEditWindow(
            no=w.no, name=w.name or default_texts().t("common.window", no=w.no),
            services=list(w.services), backup=w.backup)
                 for w in cfg.windows],
    ))


@admin_api.post("/config/check")
@documented(shapes.HallFileCheck, *WRITE, body=shapes.HallFile)
def check_config():
    """Problems (key, reason), the change and what blocks it, nothing applied (supervisor,
    admin)"""
    principal = who()
    svc = service()
    svc.require(principal, *OFFICE_ROLES)
    text = _text(body(shapes.HallFile))
    try:
        cfg = hall_file().parse(text)
    except ConfigError as err:
        return reply(shapes.HallFileCheck(ok=False, problems=[_problem(err)],
                                          summary=shapes.HallChange(), blocked=[]))
    blocked = svc.read(lambda state: blockers(svc.cfg, cfg, state))  # a consistent look
    return reply(shapes.HallFileCheck(ok=not blocked, problems=[],
                                      summary=_change(diff(svc.cfg, cfg)),
                                      blocked=[default_texts().joined(b.key, **b.params)
                                               for b in blocked],
                                      hash=config_hash(text)))


@admin_api.post("/config/edit")
@documented(shapes.HallFileEdited, *WRITE, 404, body=shapes.ConfigEdit)
def edit_config():
    """The hall file's text with one common change made (an item's daily_quota and hours, a
    window's services and backup) (admin)"""
    principal = who()
    svc = service()
    svc.require(principal, Role.ADMIN)
    data = body(shapes.ConfigEdit)
    text = data.toml if data.toml and data.toml.strip() else running_text(hall_file())
    try:
        new_text = quick_edit(text, svc.cfg, data.edit.given())
    except KeyError as err:
        raise Invalid("not_found", "error.quick_edit_target", detail=str(err.args[0])) from None
    except ValueError as err:
        raise Invalid("invalid", "error.quick_edit_invalid", err=str(err)) from None
    try:
        cfg = hall_file().parse(new_text)
    except ConfigError as err:
        return reply(shapes.HallFileEdited(toml=new_text, problems=[_problem(err)],
                                           summary=shapes.HallChange()))
    return reply(shapes.HallFileEdited(toml=new_text, problems=[],
                                       summary=_change(diff(svc.cfg, cfg))))


@admin_api.post("/config")
@documented(shapes.HallFileApplied, *WRITE, 409, body=shapes.HallFile)
def apply_config():
    """Validate, check against today's tickets, write (keeping a .bak) and reload the hall
    file; 422 with problems, 409 if refused (admin)"""
    principal = who()
    svc = service()
    svc.require(principal, Role.ADMIN)
    text = _text(body(shapes.HallFile))
    hf = hall_file()
    if hf.path is None:
        raise Invalid("no_config_file", "error.no_config_file")
    try:
        cfg = hf.parse(text)
    except ConfigError as err:
        return _invalid(err)
    result: dict[str, Any] = {}

    def write() -> None:
        backup = hf.write(text, svc.clock().astimezone(svc.cfg.zone))
        result["backup"] = str(backup) if backup else None

    try:
        done = svc.reload(principal, cfg, "admin", config_hash(text), addr=client_addr(),
                          before_swap=write, text=text)
    except Exception:
        # Written inside the transaction, but the change did not commit: put the old file
        # back, or a restart would apply a change the live-hall check never passed.
        if result.get("backup"):
            old = Path(result["backup"]).read_text(encoding="utf-8")
            hf.write(old, svc.clock().astimezone(svc.cfg.zone))
        raise
    return reply(shapes.HallFileApplied(
        applied=done["applied"], hash=done["hash"], summary=_change(done["summary"]),
        text=done["text"], **result))
