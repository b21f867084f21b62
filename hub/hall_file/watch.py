"""`onestop reload` and the hub's start: the hall file re-read on SIGHUP, and the files where
`onestop reload` finds the running hub (DATA/hub.pid, DATA/hub.json) and the last outcome."""

from __future__ import annotations

import atexit
import json
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from hub.auth import Principal, Role
from hub.clock import Clock
from hub.config import ConfigError, HallConfig
from hub.engine.errors import DomainError

from .disk import HUB_FILE, PID_FILE, HallFile
from .text import config_hash, problem

log = logging.getLogger(__name__)


class Reloadable(Protocol):
    """The service as a reload sees it (hub.service.HallService)."""

    clock: Clock

    def reload(self, who: Principal | None, new_cfg: HallConfig, source: str, new_hash: str,
               *, by: str | None = None, text: str | None = None) -> dict[str, Any]: ...

    def adopt_hall_file(
        self, text: str, parse: Callable[[str], HallConfig] | None = None) -> None: ...


# Who a SIGHUP reload is audited as: the admin role, named for the command (actor admin:reload).
RELOAD_PRINCIPAL = Principal(role=Role.ADMIN, name="reload", display_name="onestop reload")


def reload_from_file(service: Reloadable, hall_file: HallFile) -> dict[str, Any]:
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


def watch_sighup(socketio: Any, service: Reloadable, hall_file: HallFile,
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


def start_watching(app: Any, socketio: Any, service: Reloadable, hall_file: HallFile,
                   host: str = "127.0.0.1", port: int = 8080, scheme: str = "http") -> None:
    """What the hub's entry point does for the hall file: note the running file's hash, tell
    the app where the file is (the admin page writes it), write DATA/hub.pid and DATA/hub.json
    (where `onestop reload` finds the hub, its file and its /healthz), reload on SIGHUP.

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
                "url": f"{scheme}://{local}:{port}"}
        (hall_file.data_dir / HUB_FILE).write_text(json.dumps(info), encoding="utf-8")
    if hall_file.path is not None:
        watch_sighup(socketio, service, hall_file)
