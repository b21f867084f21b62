"""Print jobs: which agent prints for which kiosk or window, and where each result goes.

A device agent with a receipt printer says at connect whom it prints for: `auth.kiosk` (the
name of the kiosk token of the touchscreen beside it) and/or `auth.printer = {"windows": [3]}`.
A ticket taken at a kiosk prints at that kiosk's printer; a 承诺单 prints at its window's
printer, or else at a kiosk's printer (art. 4: the citizen leaves with the slip either way).
The agent answers each job with `print_result`, and the hub tells the page that asked: the
kiosk (`printed` with the ticket id) or the window's clerk panel (`printed` with the slip).

Jobs are not queued at the hub: a ticket printed minutes late is worse than a clear "ask the
front desk" now, and both documents can be printed again on request.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_socketio import SocketIO

from hub.config import HallConfig
from hub.engine.model import TicketFinished

log = logging.getLogger(__name__)

JOB_TTL_S = 60.0  # a job without an answer by then is forgotten (the page gave up long before)


@dataclass(frozen=True)
class Seat:
    """One connected agent's printer."""

    agent: str
    kiosk: str | None
    windows: frozenset[int]


@dataclass
class Job:
    job_id: str
    printer_sid: str
    namespace: str  # where the result goes: "/kiosk" (a sid) or "/caller" (a window's room)
    to: str
    about: dict[str, Any]  # {"ticket_id": ...} or {"slip": ...}
    sent: float = field(default_factory=time.monotonic)


class PrintDesk:
    def __init__(self, socketio: SocketIO, cfg: Callable[[], HallConfig]) -> None:
        self.socketio, self._cfg = socketio, cfg
        self.seats: dict[str, Seat] = {}  # agent sid -> its printer
        self.jobs: dict[str, Job] = {}

    @property
    def cfg(self) -> HallConfig:
        """Read at use time, not kept: the hall file can be reloaded while the hub runs."""
        return self._cfg()

    # --- printers come and go -----------------------------------------------------------

    def attach(self, sid: str, agent: str, kiosk: str | None, spec: Any) -> None:
        """Record an agent's printer from its connect auth (`kiosk`, `printer: {windows}`);
        ValueError if malformed. Without `printer`, the agent has none."""
        if spec is None:
            return
        windows = spec.get("windows", []) if isinstance(spec, dict) else None
        if not isinstance(windows, list) or not all(
            isinstance(w, int) and not isinstance(w, bool) and self.cfg.has_window(w)
            for w in windows
        ):
            raise ValueError("auth.printer is {windows: [existing window numbers]}")
        if kiosk is None and not windows:
            raise ValueError("a printer prints for the agent's kiosk, or for windows")
        self.seats[sid] = Seat(agent, kiosk, frozenset(windows))
        log.info("printer of agent %s attached (kiosk %s, windows %s)", agent, kiosk,
                 sorted(windows))

    def detach(self, sid: str) -> None:
        if self.seats.pop(sid, None) is None:
            return
        for job in [j for j in self.jobs.values() if j.printer_sid == sid]:
            self._answer(job, ok=False, message="打印机已离线",
                         message_en="The printer went offline")

    def has_kiosk_printer(self, kiosk: str) -> bool:
        return self._kiosk_printer(kiosk) is not None

    def _kiosk_printer(self, kiosk: str) -> str | None:
        return next((sid for sid, s in self.seats.items() if s.kiosk == kiosk), None)

    def _slip_printer(self, window: int) -> str | None:
        at_window = [sid for sid, s in self.seats.items() if window in s.windows]
        if at_window:
            return at_window[0]
        kiosks = sorted((s.kiosk, sid) for sid, s in self.seats.items() if s.kiosk)
        return kiosks[0][1] if kiosks else None

    # --- jobs -----------------------------------------------------------------------------

    def print_ticket(self, kiosk: str, ticket: dict[str, Any], materials: bool) -> str:
        """Send a ticket to the kiosk's printer: "queued", or "no_printer"."""
        sid = self._kiosk_printer(kiosk)
        if sid is None:
            return "no_printer"
        svc = self.cfg.service(ticket["service"])
        doc = {
            "ticket_id": ticket["id"],
            "number": ticket["number"],
            "center_name": self.cfg.center.name,
            "center_name_en": self.cfg.center.name_en,
            "item": svc.name,
            "item_en": svc.name_en,
            "windows": [self._window_name(no) for no in ticket["windows"]],
            "windows_en": _windows_en(ticket["windows"]),
            "ahead": ticket["people_ahead"],
            "issued_at": self._local(ticket["issued_at"]),
            "materials": list(svc.materials) if materials else [],
        }
        # To the kiosk's room, not the asking socket: a page that reconnected meanwhile (a new
        # sid) still learns whether its ticket printed.
        self._send(sid, "ticket", doc, "/kiosk", f"kiosk:{kiosk}", {"ticket_id": ticket["id"]})
        return "queued"

    def print_slip(self, window: int, slip: str, service: str, accepted_at: dt.datetime | str,
                   promised_date: str | None, items: list[str]) -> str:
        """Print a 承诺单 for the clerk at `window`: "queued", or "no_printer"."""
        sid = self._slip_printer(window)
        room = f"window:{window}"
        if sid is None:
            self.socketio.emit(
                "printed",
                {"slip": slip, "ok": False, "message": "没有可用的打印机",
                 "message_en": "No printer is connected"},
                namespace="/caller", to=room,
            )
            return "no_printer"
        doc = {
            "slip_no": slip,
            "center_name": self.cfg.center.name,
            "item": self.cfg.service(service).name if self.cfg.has_service(service) else service,
            "item_en": self.cfg.service(service).name_en if self.cfg.has_service(service) else "",
            "accepted_at": self._local(accepted_at),
            "promised_date": promised_date,
            "promised": list(items),
        }
        self._send(sid, "slip", doc, "/caller", room, {"slip": slip})
        return "queued"

    def print_finished(self, event: TicketFinished) -> str:
        outcome = event.outcome
        return self.print_slip(
            event.window_no, outcome.slip or "", event.service, event.at,
            outcome.promised_date.isoformat() if outcome.promised_date else None, outcome.items,
        )

    def result(self, sid: str, data: Any) -> dict[str, Any]:
        """An agent's answer to a job; passed on to the page that asked."""
        if not isinstance(data, dict) or not isinstance(data.get("job"), str):
            return {"ok": False, "error": {"code": "invalid", "message": "打印结果格式错误"}}
        job = self.jobs.get(data["job"])
        if job is None or job.printer_sid != sid:
            return {"ok": False, "error": {"code": "unknown_job", "message": "无此打印任务"}}
        self._answer(job, ok=data.get("ok") is True, message=str(data.get("message") or ""),
                     message_en=str(data.get("message_en") or ""))
        return {"ok": True}

    def _send(self, sid: str, kind: str, doc: dict[str, Any], namespace: str, to: str,
              about: dict[str, Any]) -> None:
        self._forget_old()
        job = Job(uuid.uuid4().hex, sid, namespace, to, about)
        self.jobs[job.job_id] = job
        self.socketio.emit("print", {"job": job.job_id, "kind": kind, kind: doc},
                           namespace="/device", to=sid)

    def _answer(self, job: Job, *, ok: bool, message: str, message_en: str) -> None:
        self.jobs.pop(job.job_id, None)
        if ok:
            message = message or "已打印"
            message_en = message_en or "Printed"
        self.socketio.emit("printed", {**job.about, "ok": ok, "message": message,
                                       "message_en": message_en},
                           namespace=job.namespace, to=job.to)

    def _forget_old(self) -> None:
        now = time.monotonic()
        for job_id in [j for j, job in self.jobs.items() if now - job.sent > JOB_TTL_S]:
            del self.jobs[job_id]

    def _window_name(self, no: int) -> str:
        return self.cfg.window(no).name or f"{no}号窗口"

    def _local(self, when: dt.datetime | str) -> str:
        if isinstance(when, str):
            when = dt.datetime.fromisoformat(when)
        return when.astimezone(self.cfg.zone).replace(tzinfo=None).isoformat(timespec="seconds")


def _windows_en(nos: list[int]) -> str:
    if not nos:
        return ""
    return ("Window " if len(nos) == 1 else "Windows ") + ", ".join(str(n) for n in nos)
