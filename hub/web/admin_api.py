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

from flask import Blueprint, current_app, jsonify, request

from hub import shapes
from hub.auth import OFFICE_ROLES, Role
from hub.config import ConfigError
from hub.engine import Invalid
from hub.hall_file import RESULT_FILE, HallFile, blockers, config_hash, diff, problem, quick_edit

from .api import body, client_addr, service, who

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


def _invalid(err: ConfigError):
    payload = {"error": {"code": "invalid_config", "message": str(err)},
               "problems": [problem(err)]}
    return jsonify(payload), 422


def _text(data: shapes.HallFile) -> str:
    text = data.toml
    if not text.strip():
        raise Invalid("invalid", "配置内容为空", "the hall file text is empty")
    return text


@admin_api.get("/config")
def get_config():
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
    return jsonify({
        "toml": text,
        "hash": service().config_hash,
        "path": str(hf.path) if hf.path else None,
        "editable": principal.role is Role.ADMIN and hf.path is not None and hf.writable,
        "last_reload": last,
        # What the quick-edit form starts from: the running values.
        "hours": list(cfg.hours),
        "services": [{"code": s.code, "name": s.name, "daily_quota": s.daily_quota,
                      "hours": s.hours} for s in cfg.services],
        "windows": [{"no": w.no, "name": w.name or f"{w.no}号窗口", "services": list(w.services),
                     "backup": w.backup} for w in cfg.windows],
    })


@admin_api.post("/config/check")
def check_config():
    principal = who()
    svc = service()
    svc.require(principal, *OFFICE_ROLES)
    text = _text(body(shapes.HallFile))
    try:
        cfg = hall_file().parse(text)
    except ConfigError as err:
        return jsonify({"ok": False, "problems": [problem(err)], "summary": {}, "blocked": []})
    blocked = svc.read(lambda state: blockers(svc.cfg, cfg, state))  # a consistent look
    return jsonify({"ok": not blocked, "problems": [], "summary": diff(svc.cfg, cfg),
                    "blocked": [f"{zh} / {en}" for zh, en in blocked],
                    "hash": config_hash(text)})


@admin_api.post("/config/edit")
def edit_config():
    principal = who()
    svc = service()
    svc.require(principal, Role.ADMIN)
    data = body(shapes.ConfigEdit)
    text = data.toml if data.toml and data.toml.strip() else running_text(hall_file())
    try:
        new_text = quick_edit(text, svc.cfg, data.edit.given())
    except KeyError as err:
        raise Invalid("not_found", "无此事项或窗口", str(err.args[0])) from None
    except ValueError as err:
        raise Invalid("invalid", "修改内容无效", str(err)) from None
    try:
        cfg = hall_file().parse(new_text)
    except ConfigError as err:
        return jsonify({"toml": new_text, "problems": [problem(err)], "summary": {}})
    return jsonify({"toml": new_text, "problems": [], "summary": diff(svc.cfg, cfg)})


@admin_api.post("/config")
def apply_config():
    principal = who()
    svc = service()
    svc.require(principal, Role.ADMIN)
    text = _text(body(shapes.HallFile))
    hf = hall_file()
    if hf.path is None:
        raise Invalid("no_config_file", "本中心服务未指定配置文件，无法修改",
                      "this hub was started without a hall file to write")
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
    return jsonify({**done, **result})
