"""The soak's runner: the hall's processes started, its people set going on the sped-up clock,
the faults applied on their schedule, the day ended at midnight, and the end checks made."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import requests

from hub.auth import Role
from hub.clock import SetClock
from hub.config import HallConfig, load_config
from hub.simulation.demand import Demand, arrivals, load_profile
from hub.simulation.pauses import PausePattern, load_pauses, partners_of, plan

from . import checks
from .actors import Away, Board, Clerk, Kiosk, Ledger, Screen, Timeline
from .backend import Backend
from .faults import Step, schedule
from .processes import SUPERVISOR, Devices, Hub, Process, Provisioned, hall_file
from .recount import lives, minutes_up, p90

log = logging.getLogger(__name__)

LEAD_S = 8.0  # real seconds from the clock's anchor to the day's start: the processes start
NIGHT_LEAD_S = 15.0  # the same before 23:59: the agent is back well before midnight
LAST_CASE = dt.timedelta(minutes=45)  # the longest a clerk may take over the day's last case
AGENT_CATCH_UP_S = 1.0  # the agent polls the last presses before the night stops it
KIOSKS = 3
NIGHT_START = dt.time(23, 59, 0)  # the rollover: the evening's idle hours are skipped
DELIVERY_WAIT_S = 120.0  # real seconds for the forwarder to catch up at the end
RSS_EVERY_MIN = 5.0  # the hall's minutes between two samples of the hub's memory


@dataclass
class Options:
    profile: Path
    hall: Path
    out: Path
    day: dt.date
    start: dt.time
    end: dt.time
    speed: float = 30.0
    seed: int = 1
    faults: str = "default"
    drain_minutes: float = 60.0  # the clerks go on serving this long after the kiosk closes


@dataclass
class Outcome:
    checks: list[checks.Check]
    figures: dict[str, Any]
    faults: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def as_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "checks": [asdict(c) for c in self.checks],
                "figures": self.figures, "faults": self.faults}


class Soak:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        opts.out.mkdir(parents=True, exist_ok=True)
        self.cfg: HallConfig = load_config(opts.hall)
        self.demand: Demand = load_profile(opts.profile)
        self.pauses: PausePattern = load_pauses(opts.profile)
        self.pauses.check_reasons(self.cfg.queue.pause_reasons)
        zone = self.cfg.zone
        self.start = dt.datetime.combine(opts.day, opts.start, tzinfo=zone)
        self.end = dt.datetime.combine(opts.day, opts.end, tzinfo=zone)
        if self.end <= self.start:
            raise ValueError("--hours: the day's window ends before it starts")
        self.steps = schedule(opts.faults, self.start, self.end)
        self.clock = SetClock(self.start, time.time() + LEAD_S, opts.speed)
        self.stop = threading.Event()
        self.clerks_stop = threading.Event()  # at once (the soak is ending)
        self.leaving = threading.Event()  # once the citizen being served is done
        self.closed = threading.Event()  # the kiosk took its last ticket
        self.ledger = Ledger()
        self.rss: list[tuple[dt.datetime, int]] = []  # (the hall's time, KiB)
        self.applied: list[dict[str, Any]] = []
        self.backend = Backend().start()
        self.data = opts.out / "hub-data"
        # The soak's own log (an actor's failure, with its traceback): checked like the others.
        self.own_log = opts.out / "simulate.log"
        handler = logging.FileHandler(self.own_log, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.getLogger("hub.simulation").addHandler(handler)

    # --- the day ------------------------------------------------------------------------

    def run(self) -> Outcome:
        try:
            began = time.monotonic()
            self._start_processes()
            self._day()
            end_rss = self._rss()
            log.info("the day ran (%.0f s); the night", time.monotonic() - began)
            self._night()
            log.info("rolled over (%.0f s); waiting for the backend", time.monotonic() - began)
            self._wait_delivered()
            log.info("delivered (%.0f s); checking", time.monotonic() - began)
            return self._checks(end_rss)
        finally:
            self.stop.set()
            self.clerks_stop.set()
            for p in self._processes():
                p.stop()
            self.devices.hall.stop()
            self.backend.close()

    def _start_processes(self) -> None:
        config = hall_file(self.opts.hall, self.opts.out, self.backend.url, self.opts.speed)
        self.accounts = Provisioned(self.data, self.cfg, self.clock())
        self.hub = Hub(config, self.data, self.opts.out, self.clock).start()
        self.devices = Devices([w.no for w in self.cfg.windows], self.hub,
                               self.accounts.tokens[Role.AGENT], self.opts.out, self.clock)
        self.devices.agent.start()
        self.forwarder = Process("forward", ["forward", "--config", str(config), "--data",
                                             str(self.data)], self.opts.out, self.clock)
        self.forwarder.start()

    def _processes(self) -> list[Process]:
        return [p for p in (getattr(self, "forwarder", None), getattr(self, "devices", None)
                            and self.devices.agent, getattr(self, "hub", None)) if p]

    def _day(self) -> None:
        time_ = Timeline(self.clock, self.stop)
        clerk_time = Timeline(self.clock, self.clerks_stop)
        day = [a for a in arrivals(self.demand, self.opts.day, self.opts.seed, self.cfg.zone)
               if self.start <= a.at < self.end]
        # A hall's kiosk stand: several touchscreens, so a burst of citizens is not queued
        # behind one screen's round trips (they share the one printer the agent has).
        kiosks = [Kiosk(i, self.hub, self.accounts.tokens[Role.KIOSK], day[i::KIOSKS], time_,
                        self.ledger, self.opts.seed) for i in range(KIOSKS)]
        screens = [Screen(room, self.hub, self.accounts.tokens[Role.SCREEN], self.ledger,
                          self.stop) for room in ("hall", "window:1")]
        away = self._away()
        clerks = [Clerk(w.no, self.hub, self.cfg, self.demand, self.devices.hall.at[w.no][0],
                        clerk_time, self.ledger, self.opts.seed, self.closed, self.leaving,
                        away[w.no]) for w in self.cfg.windows]
        self.screens = screens
        threading.Thread(target=self._faults, args=(time_,), name="faults", daemon=True).start()
        threading.Thread(target=self._sample_rss, args=(time_,), name="rss", daemon=True).start()
        time_.until(self.start)
        for actor in (*kiosks, *screens, *clerks):
            actor.start()
        log.info("the day: %d arrivals from %s to %s at %g×", len(day), self.start, self.end,
                 self.opts.speed)
        for kiosk in kiosks:
            kiosk.done.wait()
        time_.until(self.end)
        self.closed.set()
        drain_end = self.end + dt.timedelta(minutes=self.opts.drain_minutes)
        for clerk in clerks:
            clerk.join(max(0.0, time_.real_at(drain_end) - time.time()))
        self.leaving.set()
        for clerk in clerks:
            clerk.join(max(0.0, time_.real_at(drain_end + LAST_CASE) - time.time()))
        self.clerks_stop.set()
        for clerk in clerks:
            clerk.join(15)
        time_.until(max(self.steps[-1].at if self.steps else self.end, self.clock()))
        time.sleep(AGENT_CATCH_UP_S)

    def _away(self) -> dict[int, Away]:
        """Each clerk's pauses: the profile's plan for the day, those that start within the
        soak's hours (one begun before them is taken for what is left of it)."""
        windows = [(w.no, w.backup) for w in self.cfg.windows]
        midnight = dt.datetime.combine(self.opts.day, dt.time(), tzinfo=self.cfg.zone)
        first = (self.start - midnight).total_seconds() / 60
        last = (self.end - midnight).total_seconds() / 60
        board = Board(partners_of(windows))
        day_plan = plan(self.pauses, windows, self.opts.day, self.opts.seed)
        return {no: Away([replace(p, start=max(p.start, first)) for p in pauses
                          if p.start < last and p.end > first], midnight, board)
                for no, pauses in day_plan.items()}

    # --- faults -------------------------------------------------------------------------

    def _faults(self, time_: Timeline) -> None:
        """Each fault on a thread of its own at its time, and undone its duration after it
        was applied: a hub that takes seconds to start again delays no other fault."""
        undo = {(s.kind, i): s for i, s in enumerate(self.steps) if s.undo}
        for i, step in enumerate(self.steps):
            if step.undo:
                continue
            end = next((u for (kind, j), u in undo.items() if kind == step.kind and j > i), None)
            lasts = end.at - step.at if end else None
            threading.Thread(target=self._fault, args=(time_, step, lasts), daemon=True,
                             name=f"fault-{step.kind}").start()

    def _fault(self, time_: Timeline, step: Step, lasts: dt.timedelta | None) -> None:
        if not time_.until(step.at):
            return
        self._step(step)
        if lasts is not None and time_.pause(lasts.total_seconds()):
            self._step(Step(self.clock(), step.kind, undo=True))
        # A process started here ends with this thread (hub/children.py): it stays until the
        # day is over, when the night stops and starts every process again.
        self.stop.wait()

    def _step(self, step: Step) -> None:
        try:
            self._apply(step)
        except Exception as err:  # a fault that cannot be applied is reported, not fatal
            log.exception("fault %s", step)
            self.applied.append({"at": step.at.isoformat(), "kind": step.kind,
                                 "error": repr(err)})
            return
        self.applied.append({"at": self.clock().isoformat(), "kind": step.kind,
                             "undo": step.undo})
        log.info("%s %s", "end of" if step.undo else "fault:", step.kind)

    def _apply(self, step: Step) -> None:
        hall = self.devices.hall
        if step.kind == "hub_kill":
            self.hub.kill()
            time.sleep(1.0)  # systemd's RestartSec
            self.hub.start()
        elif step.kind == "agent_restart":
            self.devices.agent.stop()
            self.devices.agent.start()
        elif step.kind == "forwarder_restart":
            self.forwarder.stop()
            self.forwarder.start()
        elif step.kind == "paper_out":
            hall.set_paper_out(not step.undo)
        elif step.kind == "bus_unplug":
            if step.undo:
                hall.buses[0].plug()
            else:
                hall.buses[0].unplug()
        elif step.kind == "backend_down":
            with self.backend.lock:
                self.backend.down = not step.undo

    # --- memory -------------------------------------------------------------------------

    def _sample_rss(self, time_: Timeline) -> None:
        when = self.start
        while time_.until(when):
            kib = self.hub.rss_kib()
            if kib:
                self.rss.append((self.clock(), kib))
            when += dt.timedelta(minutes=RSS_EVERY_MIN)

    def _rss(self) -> int | None:
        return self.hub.rss_kib()

    def _first_hour_rss(self) -> int | None:
        """The hub's memory an hour into the day (half-way through a shorter window)."""
        hour = self.start + min(dt.timedelta(hours=1), (self.end - self.start) / 2)
        after = [kib for at, kib in self.rss if at >= hour]
        return after[0] if after else None

    # --- the night: midnight passes ----------------------------------------------------

    def _night(self) -> None:
        """The evening skipped: the processes stopped, and started again on a clock a minute
        before midnight, so the hub ends the day as a hall's does (what is still open expires,
        the day's report is made) and the forwarder sends it all."""
        self.stop.set()
        for p in self._processes():
            p.stop()
        night = dt.datetime.combine(self.opts.day, NIGHT_START, tzinfo=self.cfg.zone)
        # Read NIGHT_START only once the processes are up: they start earlier on the clock.
        self.clock = SetClock(night, time.time() + NIGHT_LEAD_S, self.opts.speed)
        for p in self._processes():
            p.clock = self.clock
        self.hub.start()
        self.devices.agent.start()
        self.forwarder.start()
        deadline = time.monotonic() + NIGHT_LEAD_S + 60
        while time.monotonic() < deadline and not self._rolled():
            time.sleep(0.2)
        self.applied.append({"at": self.clock().isoformat(), "kind": "rollover",
                             "undo": False, "rolled": self._rolled()})

    def _rolled(self) -> bool:
        with self._db() as db:
            rolled = db.execute("SELECT data FROM events WHERE type = 'day.rolled'").fetchall()
        return any(json.loads(r[0])["day"] > self.opts.day.isoformat() for r in rolled)

    def _db(self) -> sqlite3.Connection:
        from hub.runtime import DB_FILE  # noqa: PLC0415

        return sqlite3.connect(f"file:{self.data / DB_FILE}?mode=ro", uri=True, timeout=30)

    def _wait_delivered(self) -> None:
        deadline = time.monotonic() + DELIVERY_WAIT_S
        while time.monotonic() < deadline:
            if not ({e["id"] for e in self._events()} - self.backend.ids()):
                return
            time.sleep(0.5)

    def _events(self) -> list[dict[str, Any]]:
        with self._db() as db:
            rows = db.execute("SELECT seq, id, type, at, day, window_no, ticket_id, data FROM "
                              "events ORDER BY seq").fetchall()
        return [{"seq": r[0], "id": r[1], "type": r[2], "at": dt.datetime.fromisoformat(r[3]),
                 "day": r[4], "window_no": r[5], "ticket_id": r[6], "data": json.loads(r[7])}
                for r in rows]

    # --- the end ------------------------------------------------------------------------

    def _report(self) -> dict[str, Any]:
        token = self._office_login()
        day = self.opts.day.isoformat()
        r = requests.get(f"{self.hub.url}/api/v1/reports", params={"from": day, "to": day,
                                                                   "by": "service"},
                         headers={"Authorization": f"Bearer {token}"}, timeout=60)
        r.raise_for_status()
        return r.json()

    def _office_login(self) -> str:
        """The office signs in with its authenticator's code: at high speed a code's 30 s
        step lasts a fraction of a real second, so a code may be stale on arrival; the next
        one is tried, as a person would."""
        for _ in range(20):
            try:
                return self.hub.login(SUPERVISOR, totp=self.accounts.totp)
            except requests.HTTPError:
                time.sleep(0.1)
        return self.hub.login(SUPERVISOR, totp=self.accounts.totp)

    def _checks(self, end_rss: int | None) -> Outcome:
        events = self._events()
        day_events = [e for e in events if e["day"] == self.opts.day.isoformat()
                      or e["type"] == "day.rolled"]
        report = self._report()
        (self.opts.out / "report.json").write_text(json.dumps(report, ensure_ascii=False,
                                                              indent=1), encoding="utf-8")
        logs = {p.name: p.read_text(errors="replace") for proc in self._processes()
                for p in proc.logs}
        logs[self.own_log.name] = self.own_log.read_text(errors="replace")
        found = [
            checks.final_states(day_events),
            checks.acknowledged_kept(day_events, self.ledger.acked),
            checks.ratings(day_events, self.ledger.pressed),
            checks.delivered(events, self.backend.ids(), len(self.backend.bad)),
            checks.report_matches(report, day_events, self.cfg.zone),
            checks.memory(self._first_hour_rss(), end_rss),
            checks.no_tracebacks(logs),
        ]
        return Outcome(found, self._figures(day_events, report), self.applied)

    def _figures(self, events: list[dict[str, Any]], report: dict[str, Any]) -> dict[str, Any]:
        waits: dict[str, list[float]] = defaultdict(list)
        busy: dict[int, float] = defaultdict(float)
        for life in lives(events).values():
            if life.visits:
                waits[life.visits[0].service].append(
                    (life.visits[0].called - life.issued).total_seconds())
            for v in life.visits:
                if v.ended is not None and v.end != "expired":
                    busy[v.window] += (v.ended - v.called).total_seconds()
        last = max((v.ended for life in lives(events).values() for v in life.visits
                    if v.ended is not None and v.end != "expired"), default=self.end)
        open_s = (max(last, self.end) - self.start).total_seconds()
        every = [w for ws in waits.values() for w in ws]
        ledger = self.ledger
        return {
            "tickets": len(ledger.acked), "refused": dict(ledger.refused),
            "printed": dict(ledger.printed), "ratings_pressed": len(ledger.pressed),
            "not_rated_by_choice": ledger.not_pressed, "actions": dict(ledger.actions),
            "action_errors": dict(ledger.action_errors), "reconnects": dict(ledger.reconnects),
            "late_issues": ledger.late_issues,
            "pauses_taken": len(ledger.paused), "pauses_deferred": ledger.pauses_deferred,
            "paused_min_by_reason": {r: round(sec / 60, 1) for r, sec in report.get(
                "total", {}).get("pause_by_reason", {}).items()},
            "screen_pushes": sum(s.pushes for s in self.screens),
            "backend": {"events": len(self.backend.received), "copies": self.backend.copies,
                        "refused_while_down": self.backend.refused_while_down},
            "wait_mean_min": round(sum(every) / len(every) / 60, 1) if every else None,
            "wait_p90_min": p90([minutes_up(w) for w in every]),
            "wait_p90_min_by_item": {s: p90([minutes_up(w) for w in ws])
                                     for s, ws in sorted(waits.items())},
            "utilisation_by_window": {str(w): round(b / open_s, 2)
                                      for w, b in sorted(busy.items())},
            "satisfaction": report.get("total", {}).get("satisfaction"),
            "rss_kib": [(at.isoformat(), kib) for at, kib in self.rss],
        }


def print_outcome(outcome: Outcome) -> None:
    for check in outcome.checks:
        print(check.line())
    f = outcome.figures
    print(f"\nThe day: {f['tickets']} tickets, {f['ratings_pressed']} ratings pressed, "
          f"wait mean {f['wait_mean_min']} min, p90 {f['wait_p90_min']} min, "
          f"satisfaction {f['satisfaction']}")
    print("  p90 wait by item (min): " + ", ".join(
        f"{k} {v}" for k, v in f["wait_p90_min_by_item"].items()))
    print("  utilisation by window: " + ", ".join(
        f"{k}: {v:.0%}" for k, v in f["utilisation_by_window"].items()))
    print(f"  pauses: {f['pauses_taken']} taken ({f['pauses_deferred']} put off while the AB "
          "partner was away), minutes by reason: " + ", ".join(
              f"{k} {v}" for k, v in f["paused_min_by_reason"].items()))
    faults = (a["kind"] + (" ends" if a.get("undo") else "") for a in outcome.faults)
    print(f"  faults: {', '.join(faults)}")
    print("PASS" if outcome.passed else "FAIL")
