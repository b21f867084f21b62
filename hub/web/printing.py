"""Print jobs: which agent prints for which kiosk or window, and where each result goes.

A device agent with a receipt printer says at connect whom it prints for: `auth.kiosk` (the
name of the kiosk token of the touchscreen beside it) and/or `auth.printer = {"windows": [3]}`.
A ticket taken at a kiosk prints at that kiosk's printer; a 承诺单 prints at its window's
printer, or else at a kiosk's printer (art. 4: the citizen leaves with the slip either way).
The agent answers each job with `print_result`, and the hub tells the page that asked: the
kiosk (`printed` with the ticket id) or the window's clerk panel (`printed` with the slip).

Jobs are not queued at the hub: a ticket printed minutes late is worse than a clear "ask the
front desk" now, and both documents can be printed again on request.

Several hubs: an agent's printer is attached to the hub its agent is connected to,
and a window's clerk PC may be on another. Each hub tells the others its printers (on every
change, and every SEATS_EVERY_S so a restarted hub learns them), and a job for a printer of
another hub goes to that hub, which sends it to its agent; the answer reaches the page through
the message queue like any push. Another hub's printers are forgotten SEATS_TTL_S after its
last word (a hub that died), by then its agents are on a living hub and announced from there.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_socketio import SocketIO

from hub import shapes
from hub.config import HallConfig
from hub.engine.model import TicketFinished
from hub.i18n import default_texts
from hub.web.message_queue import Peers
from hub.web.print_docs import slip_doc, ticket_doc

log = logging.getLogger(__name__)

JOB_TTL_S = 60.0  # a job without an answer by then is forgotten (the page gave up long before)
SEATS_EVERY_S = 10.0  # each hub tells the others its printers this often, and on every change
SEATS_TTL_S = 35.0  # another hub's printers are forgotten this long after its last word
REMOTE_JOB_S = 10.0  # a job handed to another hub without an answer by then did not print
REPLY_TO = frozenset({"/kiosk", "/caller"})  # where a job's answer may go
MATERIALS_KEPT = 5000  # tickets whose first print's materials choice a reprint repeats


@dataclass(frozen=True)
class Seat:
    """One connected agent's printer."""

    agent: str
    kiosk: str | None
    windows: frozenset[int]


@dataclass(frozen=True)
class Target:
    """A printer to send a job to: an agent's sid on this hub (host "") or on another."""

    sid: str
    host: str = ""


@dataclass
class Job:
    job_id: str
    printer_sid: str
    namespace: str  # where the result goes: "/kiosk" (a sid) or "/caller" (a window's room)
    to: str
    about: dict[str, Any]  # {"ticket_id": ...} or {"slip": ...}
    sent: float = field(default_factory=time.monotonic)
    origin: str = ""  # the hub that handed this job to this one (its host id), if another


class PrintDesk:
    def __init__(self, socketio: SocketIO, cfg: Callable[[], HallConfig],
                 peers: Peers | None = None) -> None:
        self.socketio, self._cfg = socketio, cfg
        self.seats: dict[str, Seat] = {}  # agent sid -> its printer
        self.jobs: dict[str, Job] = {}
        self.peers = peers or Peers(None)
        # Other hubs' printers: host -> (when heard, agent sid -> its printer)
        self.remote: dict[str, tuple[float, dict[str, Seat]]] = {}
        self.handed: set[str] = set()  # jobs handed to another hub, not answered yet
        # ticket id -> whether its first print had the materials list (一次性告知): a reprint
        # prints the same, also for a client that does not say (the newest MATERIALS_KEPT)
        self.materials: dict[str, bool] = {}
        # Sockets' handlers, the Redis listener and the announcer touch these at once under
        # `--async-mode threading` (under eventlet they cannot interleave).
        self._lock = threading.RLock()
        if self.peers.shared:
            self.peers.on("printers", self._heard_seats)
            self.peers.on("print", self._heard_job)
            self.peers.on("print_done", self._heard_done)
            socketio.start_background_task(self._announce_every)

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
        with self._lock:
            self.seats[sid] = Seat(agent, kiosk, frozenset(windows))
        log.info("printer of agent %s attached (kiosk %s, windows %s)", agent, kiosk,
                 sorted(windows))
        self._announce()

    def detach(self, sid: str) -> None:
        with self._lock:
            if self.seats.pop(sid, None) is None:
                return
            orphans = [j for j in self.jobs.values() if j.printer_sid == sid]
        self._announce()
        for job in orphans:
            gone, gone_en = default_texts().each("printer.offline")
            self._answer(job, ok=False, message=gone, message_en=gone_en)

    def windows_of(self, sid: str) -> frozenset[int]:
        """The windows whose 承诺单 the printer of this hub's agent `sid` prints."""
        with self._lock:
            seat = self.seats.get(sid)
        return seat.windows if seat is not None else frozenset()

    def has_kiosk_printer(self, kiosk: str) -> bool:
        return self._kiosk_printer(kiosk) is not None

    def _all_seats(self) -> list[tuple[Target, Seat]]:
        """Every printer of the hall: this hub's first, then the others' heard lately."""
        with self._lock:
            here = [(Target(sid), seat) for sid, seat in self.seats.items()]
        there = sorted(self._remote_seats(), key=lambda ts: (ts[0].host, ts[0].sid))
        return here + there

    def _kiosk_printer(self, kiosk: str) -> Target | None:
        """The printer of the agent beside the kiosk: usually on the kiosk page's hub (one
        address for both), but after a failover the two may reconnect to different hubs."""
        return next((t for t, s in self._all_seats() if s.kiosk == kiosk), None)

    def _slip_printer(self, window: int) -> Target | None:
        """The window's printer (this hub's, else another's), else a kiosk's (likewise)."""
        seats = self._all_seats()
        at_window = [t for t, s in seats if window in s.windows]
        if at_window:
            return at_window[0]
        kiosks = [(s.kiosk, t.host != "", t.host, t.sid, t) for t, s in seats if s.kiosk]
        return min(kiosks)[-1] if kiosks else None

    # --- the other hubs' printers ---------------------------------------------------------

    def _announce(self, ask: bool = False) -> None:
        if not self.peers.shared:
            return
        with self._lock:
            seats = {sid: {"agent": s.agent, "kiosk": s.kiosk, "windows": sorted(s.windows)}
                     for sid, s in self.seats.items()}
        self.peers.tell("printers", {"host": self.peers.host_id, "ask": ask, "seats": seats})

    def _announce_every(self) -> None:
        self._announce(ask=True)  # and the others answer with theirs: known at once
        while True:
            self.socketio.sleep(SEATS_EVERY_S)
            try:
                self._announce()
            except Exception:
                log.exception("could not tell the other hubs this hub's printers")

    def _heard_seats(self, said: Any) -> None:
        if not isinstance(said, dict) or not isinstance(host := said.get("host"), str):
            return
        seats = said.get("seats")
        if not isinstance(seats, dict):
            return
        heard: dict[str, Seat] = {}
        for sid, seat in seats.items():
            if not isinstance(seat, dict) or not isinstance(seat.get("windows"), list):
                continue
            kiosk = seat.get("kiosk")
            heard[str(sid)] = Seat(str(seat.get("agent", "")),
                                   kiosk if isinstance(kiosk, str) else None,
                                   frozenset(w for w in seat["windows"] if isinstance(w, int)))
        with self._lock:
            self.remote[host] = (time.monotonic(), heard)
        if said.get("ask"):
            self._announce()

    def _remote_seats(self) -> list[tuple[Target, Seat]]:
        """Other hubs' printers heard lately; an agent heard on two hubs (it moved after a hub
        died) counts on the one heard last."""
        now = time.monotonic()
        newest: dict[tuple[str, str | None, frozenset[int]], tuple[float, Target, Seat]] = {}
        with self._lock:
            heard = list(self.remote.items())
        for host, (heard_at, seats) in heard:
            if now - heard_at > SEATS_TTL_S:
                with self._lock:
                    self.remote.pop(host, None)
                continue
            for sid, seat in seats.items():
                key = (seat.agent, seat.kiosk, seat.windows)
                if key not in newest or newest[key][0] < heard_at:
                    newest[key] = (heard_at, Target(sid, host), seat)
        return [(target, seat) for _, target, seat in newest.values()]

    def _hand_over(self, target: Target, kind: str, doc: dict[str, Any], namespace: str,
                   to: str, about: dict[str, Any]) -> None:
        """A job for another hub's printer: that hub sends it to its agent and answers the page.
        If it never does (it died, Redis dropped the message), the page hears so here."""
        job_id = uuid.uuid4().hex
        with self._lock:
            self.handed.add(job_id)
        self.peers.tell("print", {"host": target.host, "sid": target.sid, "job": job_id,
                                  "from": self.peers.host_id, "kind": kind, "doc": doc,
                                  "namespace": namespace, "to": to, "about": about})

        def unanswered() -> None:
            self.socketio.sleep(REMOTE_JOB_S)
            with self._lock:
                if job_id not in self.handed:
                    return
                self.handed.discard(job_id)
            message, message_en = default_texts().each("printer.no_answer")
            self.socketio.emit("printed", {**about, "ok": False, "message": message,
                                           "message_en": message_en},
                               namespace=namespace, to=to)

        self.socketio.start_background_task(unanswered)

    def _heard_job(self, said: Any) -> None:
        """Another hub's job for a printer of this one."""
        if not (isinstance(said, dict) and said.get("host") == self.peers.host_id
                and said.get("namespace") in REPLY_TO and isinstance(said.get("to"), str)
                and isinstance(said.get("about"), dict)
                and said.get("kind") in ("ticket", "slip") and isinstance(said.get("doc"), dict)
                and isinstance(said.get("job"), str) and isinstance(said.get("from"), str)):
            return
        job = Job(said["job"], str(said.get("sid")), said["namespace"], said["to"],
                  said["about"], origin=said["from"])
        with self._lock:
            present = job.printer_sid in self.seats
        if not present:  # its agent left meanwhile
            gone, gone_en = default_texts().each("printer.offline")
            self._answer(job, ok=False, message=gone, message_en=gone_en)
            return
        self._send(job, said["kind"], said["doc"])

    def _heard_done(self, said: Any) -> None:
        """Another hub answered a job this one handed it."""
        if isinstance(said, dict) and said.get("host") == self.peers.host_id:
            with self._lock:
                self.handed.discard(str(said.get("job")))

    # --- jobs -----------------------------------------------------------------------------

    def print_ticket(self, kiosk: str, ticket: dict[str, Any], materials: bool) -> str:
        """Send a ticket to the kiosk's printer: "queued", or "no_printer"."""
        with self._lock:
            self.materials.setdefault(ticket["id"], materials)
            while len(self.materials) > MATERIALS_KEPT:
                del self.materials[next(iter(self.materials))]
        target = self._kiosk_printer(kiosk)
        if target is None:
            return "no_printer"
        doc = ticket_doc(self.cfg, ticket, materials)
        # To the kiosk's room, not the asking socket: a page that reconnected meanwhile (a new
        # sid) still learns whether its ticket printed.
        self._route(target, "ticket", doc, "/kiosk", f"kiosk:{kiosk}",
                    {"ticket_id": ticket["id"]})
        return "queued"

    def reprint_ticket(self, kiosk: str, ticket: dict[str, Any], materials: Any) -> str:
        """Print a ticket again as it was first printed: with the materials list if the first
        print had it (`materials`, a bool, from the page that asked; else as remembered)."""
        if not isinstance(materials, bool):
            with self._lock:
                materials = self.materials.get(ticket["id"], False)
        return self.print_ticket(kiosk, ticket, materials)

    def print_slip(self, window: int, slip: str, service: str, accepted_at: dt.datetime | str,
                   promised_date: str | None, items: list[str], link: str = "") -> str:
        """Print a 承诺单 for the clerk at `window`: "queued", or "no_printer"."""
        target = self._slip_printer(window)
        room = f"window:{window}"
        if target is None:
            message, message_en = default_texts().each("printer.none")
            self.socketio.emit(
                "printed",
                {"slip": slip, "ok": False, "message": message, "message_en": message_en},
                namespace="/caller", to=room,
            )
            return "no_printer"
        doc = slip_doc(self.cfg, slip, service, accepted_at, promised_date, items, link)
        self._route(target, "slip", doc, "/caller", room, {"slip": slip})
        return "queued"

    def print_finished(self, event: TicketFinished, link: str = "") -> str:
        """The 承诺单 a finish just made; `link` its phone page (its QR), if minted."""
        outcome = event.outcome
        return self.print_slip(
            event.window_no, outcome.slip or "", event.service, event.at,
            outcome.promised_date.isoformat() if outcome.promised_date else None, outcome.items,
            link,
        )

    def result(self, sid: str, data: Any) -> dict[str, Any]:
        """An agent's answer to a job; passed on to the page that asked."""
        said = shapes.convert(data, shapes.PrintResult)  # Invalid: its ack says why
        with self._lock:
            job = self.jobs.get(said.job)
        if job is None or job.printer_sid != sid:
            return {"ok": False, "error": {"code": "unknown_job",
                                           "message": default_texts().t("printer.unknown_job")}}
        self._answer(job, ok=said.ok is True, message=str(said.message or ""),
                     message_en=str(said.message_en or ""))
        return {"ok": True}

    def _route(self, target: Target, kind: str, doc: dict[str, Any], namespace: str, to: str,
               about: dict[str, Any]) -> None:
        if target.host:
            self._hand_over(target, kind, doc, namespace, to, about)
        else:
            self._send(Job(uuid.uuid4().hex, target.sid, namespace, to, about), kind, doc)

    def _send(self, job: Job, kind: str, doc: dict[str, Any]) -> None:
        """To this hub's agent; its `print_result` answers the page (`_answer`)."""
        with self._lock:
            self._forget_old()
            self.jobs[job.job_id] = job
        self.socketio.emit("print", {"job": job.job_id, "kind": kind, kind: doc},
                           namespace="/device", to=job.printer_sid)

    def _answer(self, job: Job, *, ok: bool, message: str, message_en: str) -> None:
        with self._lock:
            self.jobs.pop(job.job_id, None)
        if job.origin:  # the hub that handed it over stops waiting
            self.peers.tell("print_done", {"host": job.origin, "job": job.job_id})
        if ok:
            printed, printed_en = default_texts().each("printer.printed")
            message, message_en = message or printed, message_en or printed_en
        self.socketio.emit("printed", {**job.about, "ok": ok, "message": message,
                                       "message_en": message_en},
                           namespace=job.namespace, to=job.to)

    def _forget_old(self) -> None:
        now = time.monotonic()
        for job_id in [j for j, job in self.jobs.items() if now - job.sent > JOB_TTL_S]:
            del self.jobs[job_id]
