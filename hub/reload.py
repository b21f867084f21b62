"""Changing the hall file while the hall runs (art. 6, 动态管理; issue 8).

A new hall file goes through three gates before it applies: it must load (the same strict
schema and cross-check as at start, `ConfigError`), it must be safe against the live state
(`blockers`: no ticket of today may lose its item or window), and it must not need a restart
(the time zone decides what "today" is). Only then does `HallService.reload` swap it in and
commit a `config.reloaded` event, which every screen, kiosk and panel reloads its page on.

`HallFile` is the hub's hall file on disk: the admin page writes it (atomically, keeping the
previous version as a .bak beside it) and `onestop reload` (SIGHUP) re-reads it, so the file
and the running hall never disagree for longer than one reload.
"""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import json
import logging
import os
import re
import signal
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from hub.auth import Principal, Role
from hub.config import ConfigError, HallConfig, parse_config
from hub.engine.errors import DomainError
from hub.engine.model import OPEN_STATUSES, HallState, TicketStatus

if TYPE_CHECKING:
    from hub.service import HallService

log = logging.getLogger(__name__)

RESULT_FILE = "reload-result.json"  # the last SIGHUP reload's outcome, for `onestop reload`
PID_FILE = "hub.pid"
HUB_FILE = "hub.json"  # the running hub's pid, hall file and address, for `onestop reload`


def config_hash(text: str | bytes) -> str:
    """The hall file's identity: what `/healthz` reports and `onestop reload` waits for."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()[:16]


def parse_text(text: str, file: str = "<config>") -> HallConfig:
    """A hall file's text, checked exactly as `load_config` checks a file at start."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(file, "", f"not valid TOML: {err}") from err
    return parse_config(raw, file)


def problem(err: ConfigError) -> dict[str, str]:
    """A ConfigError as the admin page shows it: the key and the reason, and the full line."""
    return {"key": err.key, "reason": err.reason, "message": str(err)}


# --- what changed ---------------------------------------------------------------------------


def _by_key(items: list[Any], key: str) -> dict[Any, bytes]:
    return {getattr(i, key): msgspec.json.encode(i) for i in items}


def diff(old: HallConfig, new: HallConfig) -> dict[str, Any]:
    """A short summary of a change: departments, items and windows added, removed or changed,
    and the other sections that changed. Empty when the two halls are the same."""
    out: dict[str, Any] = {}
    for section, key in (("departments", "code"), ("services", "code"), ("windows", "no")):
        before, after = _by_key(getattr(old, section), key), _by_key(getattr(new, section), key)
        part = {
            "added": [k for k in after if k not in before],
            "removed": [k for k in before if k not in after],
            "changed": [k for k in after if k in before and after[k] != before[k]],
        }
        part = {k: v for k, v in part.items() if v}
        if part:
            out[section] = part
    others = [
        f.name for f in msgspec.structs.fields(HallConfig)
        if f.name not in ("departments", "services", "windows")
        and msgspec.json.encode(getattr(old, f.name)) != msgspec.json.encode(getattr(new, f.name))
    ]
    if others:
        out["sections"] = others
    return out


def describe(summary: dict[str, Any]) -> str:
    """The summary in one line, for the log and the command line."""
    parts = []
    for section in ("departments", "services", "windows"):
        for how, keys in summary.get(section, {}).items():
            parts.append(f"{section} {how}: {', '.join(map(str, keys))}")
    if summary.get("sections"):
        parts.append(f"sections changed: {', '.join(summary['sections'])}")
    return "; ".join(parts) or "no change"


# --- is it safe now? -----------------------------------------------------------------------


def blockers(old: HallConfig, new: HallConfig, state: HallState) -> list[tuple[str, str]]:
    """What in the live hall forbids this change, as (Chinese, English) reasons.

    Tickets already issued keep their numbers and items whatever the file says; but an item
    cannot disappear (or change its number prefix) under a ticket still waiting or at a
    window, nor a window under a clerk signed in there or a ticket sent to it.
    """
    found: list[tuple[str, str]] = []
    if new.center.timezone != old.center.timezone:
        found.append((
            f"时区变更（{old.center.timezone} → {new.center.timezone}）须重启中心服务",
            f"changing center.timezone ({old.center.timezone} -> {new.center.timezone}) "
            "needs a restart of the hub",
        ))
    live: dict[str, int] = {}
    for t in state.tickets.values():
        if t.day == state.day and (t.status in OPEN_STATUSES
                                   or t.status is TicketStatus.RETURN_PENDING):
            live[t.service] = live.get(t.service, 0) + 1
    for svc in old.services:
        count = live.get(svc.code, 0)
        if not count:
            continue
        if not new.has_service(svc.code):
            found.append((f"事项 {svc.code}（{svc.name}）今日尚有 {count} 张号未办结，不能删除",
                           f"item {svc.code} has {count} ticket(s) waiting or called today: "
                           "it cannot be removed"))
        elif new.service(svc.code).prefix != svc.prefix:
            found.append((f"事项 {svc.code} 今日尚有 {count} 张号未办结，不能修改号码前缀",
                           f"item {svc.code} has {count} ticket(s) waiting or called today: "
                           "its prefix cannot change"))
    for w in old.windows:
        if new.has_window(w.no):
            continue
        win = state.windows.get(w.no)
        if win is not None and win.clerk is not None:
            found.append((f"{w.no}号窗口有工作人员 {win.clerk.username} 登录，不能删除",
                          f"window {w.no} has clerk {win.clerk.username} signed in: "
                          "it cannot be removed"))
        elif win is not None and (win.current or win.rating_ticket):
            found.append((f"{w.no}号窗口尚有号在办理，不能删除",
                          f"window {w.no} still has a ticket at it: it cannot be removed"))
        sent = sum(1 for t in state.tickets.values()
                   if t.target_window == w.no and t.status is TicketStatus.WAITING)
        if sent:
            found.append((f"有 {sent} 张号转至{w.no}号窗口等候，不能删除该窗口",
                          f"{sent} ticket(s) wait for window {w.no}: it cannot be removed"))
    return found


# --- the file on disk ----------------------------------------------------------------------


@dataclass
class HallFile:
    """The hub's `--config` file: read for a reload, written (atomically) by the admin page.

    `adjust` is applied to every parsed config before it runs: the demo keeps its hall open
    around the clock whatever the hours in the file say.
    """

    path: Path | None
    data_dir: Path | None = None
    adjust: Callable[[HallConfig], HallConfig] = field(default=lambda cfg: cfg)

    @property
    def writable(self) -> bool:
        return self.path is not None and os.access(self.path.parent, os.W_OK) and (
            not self.path.exists() or os.access(self.path, os.W_OK))

    def read_text(self) -> str:
        if self.path is None:
            raise ConfigError("<config>", "", "this hub was started without a hall file")
        try:
            return self.path.read_text(encoding="utf-8")
        except OSError as err:
            raise ConfigError(str(self.path), "", f"cannot read: {err.strerror}") from err
        except UnicodeDecodeError as err:
            raise ConfigError(str(self.path), "", f"not UTF-8 text (byte {err.start})") from err

    def parse(self, text: str) -> HallConfig:
        """Validate `text` as this hub's hall file (ConfigError if it cannot run)."""
        return self.adjust(parse_text(text, str(self.path or "<config>")))

    def write(self, text: str, now: dt.datetime) -> Path | None:
        """Replace the file atomically: a temporary file beside it, fsync, rename; the previous
        version is kept as `<name>.<timestamp>.bak`. A crash leaves the old or the new file,
        never half of one. Returns the backup's path (None if there was no file before)."""
        if self.path is None:
            raise OSError("this hub was started without a hall file")
        backup = None
        if self.path.exists():
            backup = self.path.with_name(f"{self.path.name}.{now:%Y%m%dT%H%M%S%f}.bak")
            backup.write_bytes(self.path.read_bytes())
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the rename itself survives a power cut
        finally:
            os.close(dir_fd)
        return backup

    def save_result(self, result: dict[str, Any]) -> None:
        """The last SIGHUP reload's outcome, where `onestop reload` reads why it was refused."""
        if self.data_dir is None:
            return
        target = self.data_dir / RESULT_FILE
        tmp = target.with_name(f".{RESULT_FILE}.tmp")
        tmp.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, target)


# --- quick edits: the common changes without touching the text by hand ----------------------

_HEADER_RE = re.compile(r"^\s*\[")


def _blocks(lines: list[str], table: str) -> list[tuple[int, int]]:
    """(start, end) line ranges of each `[[table]]` entry's own keys (up to its next header)."""
    out = []
    for i, line in enumerate(lines):
        if line.strip() == f"[[{table}]]":
            end = next((j for j in range(i + 1, len(lines)) if _HEADER_RE.match(lines[j])),
                       len(lines))
            out.append((i, end))
    return out


def _value_span(lines: list[str], i: int) -> int:
    """The line after the value that starts on line `i` (a multi-line array ends at `]`)."""
    depth = 0
    for j in range(i, len(lines)):
        text = lines[j].split("#", 1)[0] if '"' not in lines[j] else lines[j]
        depth += text.count("[") - text.count("]")
        if depth <= 0:
            return j + 1
    return len(lines)


def _set_key(lines: list[str], start: int, end: int, key: str, value: str | None) -> None:
    """Set (or, with None, remove) `key = value` among lines start+1..end of one entry."""
    key_re = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for i in range(start + 1, end):
        if key_re.match(lines[i]):
            stop = _value_span(lines, i)
            lines[i:stop] = [] if value is None else [f"{key} = {value}"]
            return
    if value is not None:
        # After the entry's last key line, before trailing blank lines and comments.
        at = end
        while at > start + 1 and (not lines[at - 1].strip() or lines[at - 1].lstrip()
                                  .startswith("#")):
            at -= 1
        lines.insert(at, f"{key} = {value}")


def _find(lines: list[str], table: str, key: str, want: str) -> tuple[int, int]:
    key_re = re.compile(rf"^\s*{key}\s*=\s*(.+?)\s*(#.*)?$")
    for start, end in _blocks(lines, table):
        for i in range(start + 1, end):
            m = key_re.match(lines[i])
            if m and m.group(1) == want:
                return start, end
    raise KeyError(f"no {table} with {key} = {want}")


def quick_edit(text: str, cfg: HallConfig, edit: dict[str, Any]) -> str:
    """The hall file's text with one common change made in place (comments kept):

    - `{"service": code, "daily_quota": n, "hours": name}` (either field may be left out),
    - `{"window": no, "services": [codes], "backup": no or None}`.

    Raises KeyError (no such item or window) or ValueError (a malformed edit); the result
    still has to pass `parse_text` like any other text.
    """
    lines = text.splitlines()
    if "service" in edit:
        code = edit["service"]
        if not isinstance(code, str) or not cfg.has_service(code):
            raise KeyError(f"no service item {code!r}")
        start, end = _find(lines, "services", "code", json.dumps(code, ensure_ascii=False))
        if edit.get("daily_quota") is not None:
            quota = edit["daily_quota"]
            if isinstance(quota, bool) or not isinstance(quota, int):
                raise ValueError("daily_quota must be an integer")
            _set_key(lines, start, end, "daily_quota", str(quota))
            start, end = _find(lines, "services", "code", json.dumps(code, ensure_ascii=False))
        if edit.get("hours") is not None:
            if not isinstance(edit["hours"], str):
                raise ValueError("hours must be the name of an [hours.NAME] table")
            _set_key(lines, start, end, "hours", json.dumps(edit["hours"], ensure_ascii=False))
    elif "window" in edit:
        no = edit["window"]
        if isinstance(no, bool) or not isinstance(no, int) or not cfg.has_window(no):
            raise KeyError(f"no window {no!r}")
        services = edit.get("services")
        if services is not None:
            if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
                raise ValueError("services must be a list of item codes")
            start, end = _find(lines, "windows", "no", str(no))
            _set_key(lines, start, end, "services", json.dumps(services, ensure_ascii=False))
        if "backup" in edit:
            backup = edit["backup"]
            if backup is not None and (isinstance(backup, bool) or not isinstance(backup, int)):
                raise ValueError("backup must be a window number or null")
            start, end = _find(lines, "windows", "no", str(no))
            _set_key(lines, start, end, "backup", None if backup is None else str(backup))
    else:
        raise ValueError("an edit names a service (item) or a window")
    return "\n".join(lines) + "\n"


# --- `onestop reload`: SIGHUP ---------------------------------------------------------------

# Who a SIGHUP reload is audited as: the admin role, named for the command (actor admin:reload).
RELOAD_PRINCIPAL = Principal(role=Role.ADMIN, name="reload", display_name="onestop reload")


def reload_from_file(service: HallService, hall_file: HallFile) -> dict[str, Any]:
    """Re-read the hub's hall file and apply it; the outcome is logged and saved for
    `onestop reload`. An invalid or refused file changes nothing."""
    started = service.clock()
    result: dict[str, Any] = {"at": started.isoformat(), "hash": "", "ok": False}
    try:
        text = hall_file.read_text()
        result["hash"] = config_hash(text)
        cfg = hall_file.parse(text)
        done = service.reload(RELOAD_PRINCIPAL, cfg, "sighup", result["hash"],
                              by="onestop reload", text=text)
        result.update(ok=True, applied=done["applied"], summary=done["summary"],
                      text=done["text"])
        log.info("reload of %s: %s", hall_file.path, done["text"])
    except ConfigError as err:
        result.update(code="invalid_config", error=str(err), problems=[problem(err)])
        log.error("reload of %s refused, the hall runs on unchanged: %s", hall_file.path, err)
    except DomainError as err:
        result.update(code=err.code, error=err.message)
        log.error("reload of %s refused, the hall runs on unchanged: %s", hall_file.path,
                  err.message)
    except Exception as err:  # never let a reload take the hub down
        log.exception("reload of %s failed", hall_file.path)
        result.update(code="error", error=str(err))
    try:
        hall_file.save_result(result)
    except OSError:
        log.exception("could not save the reload result")
    return result


def watch_sighup(socketio: Any, service: HallService, hall_file: HallFile,
                 poll_s: float = 0.25) -> None:
    """Reload the hall file on SIGHUP. The signal handler only sets a flag: the reload takes
    the service lock and writes the database, which must not happen inside a handler that
    interrupted whoever holds them. A background task (a green thread under eventlet) polls
    the flag, so the event loop also wakes for it within `poll_s`."""
    pending = [False]

    def on_hup(signum: int, frame: Any) -> None:
        pending[0] = True

    def loop() -> None:
        while True:
            socketio.sleep(poll_s)
            if pending[0]:
                pending[0] = False
                reload_from_file(service, hall_file)

    signal.signal(signal.SIGHUP, on_hup)
    socketio.start_background_task(loop)


def write_pid(data_dir: Path) -> Path:
    """`DATA/hub.pid`, where `onestop reload` finds whom to signal; removed at a clean exit."""
    path = data_dir / PID_FILE
    path.write_text(f"{os.getpid()}\n", encoding="ascii")
    pid = os.getpid()

    def remove() -> None:
        try:
            if path.read_text(encoding="ascii").strip() == str(pid):
                path.unlink()
        except OSError:
            pass

    atexit.register(remove)
    return path


def start_watching(app: Any, socketio: Any, service: HallService, hall_file: HallFile,
                   host: str = "127.0.0.1", port: int = 8080) -> None:
    """What the hub's entry point does for issue 8: note the running file's hash, tell the app
    where the file is (the admin page writes it), write DATA/hub.pid and DATA/hub.json (where
    `onestop reload` finds the hub, its file and its /healthz), reload on SIGHUP.

    The file is also recorded in the store as the hall's current config, or, on a shared
    store already running another one, that one runs instead (`HallService.adopt_hall_file`):
    several hubs must decide with one set of rules."""
    if hall_file.path is not None:
        service.adopt_hall_file(hall_file.path.read_bytes().decode("utf-8"), hall_file.parse)
    app.config["ONESTOP_CONFIG_PATH"] = str(hall_file.path) if hall_file.path else None
    app.extensions["onestop_hall_file"] = hall_file
    if hall_file.data_dir is not None:
        write_pid(hall_file.data_dir)
        local = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "[::1]"}.get(host, host)
        if ":" in local and not local.startswith("["):
            local = f"[{local}]"
        info = {"pid": os.getpid(), "config": str(hall_file.path or ""),
                "url": f"http://{local}:{port}"}
        (hall_file.data_dir / HUB_FILE).write_text(json.dumps(info), encoding="utf-8")
    if hall_file.path is not None:
        watch_sighup(socketio, service, hall_file)
