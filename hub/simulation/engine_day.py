"""A hall's day simulated event by event with the real queue engine, in a fraction of a second.

The engine is pure (rules take `(state, now)`), so a simulated clock can drive it: each citizen
in `arrivals` takes a ticket (`issue_ticket`), windows open and close by the hour as a staffing
plan says (`sign_in`/`sign_out`), a free window calls the next ticket (`call_next`, with the
hall's fairness and AB rules), a citizen who does not come is marked a no-show after a while
(`skip`: back behind K waiting tickets once, then dropped), and the case ends after a drawn
service time (`finish`). Every rule is the engine's; this module only decides *when* each act
happens. Its output is the figures the office asks about: each ticket's wait (issue to first
call), p50/p90 per item and hour of issue, and each window's utilisation.

Pauses (a clerk at lunch, on a short break, at a meeting), when a plan of them is given
(hub/simulation/pauses.py): at its start the clerk finishes the citizen at hand, then the
window pauses (the engine's `pause`) and calls nobody until its end; a window whose AB post
(`backup`) is staffed is covered by it, as the hub's calling rules say. Paused minutes are
not counted as open in the window's utilisation.

What it leaves out, on purpose: transfers (the history does not say where a case went, and a
transfer rarely changes waits), ratings (the keypad does not hold the window), and
priority tickets (issued as normal ones: a pass or an appointment is needed for the others;
they are a few per cent and reorder, not add, work).
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import msgspec

from hub.config import HallConfig
from hub.config.schema import Window
from hub.engine import Clerk, DomainError, HallState, OutcomeKind, QueueEngine, apply, new_state
from hub.engine.model import TicketCalled, TicketIssued
from hub.engine.queries import scope

from .demand import Arrival, Demand
from .pauses import PlannedPause

# How long a clerk waits for a called citizen before marking the ticket a no-show (minutes):
# the call, the recalls the screen repeats, and the walk from the far end of the hall.
NO_SHOW_MINUTES = 2.0
# Quantiles reported; p90 is the staffing target's.
P50, P90 = 0.5, 0.9

# Event kinds, in the order they are handled at one instant.
_ARRIVE, _DONE, _HOUR, _PAUSE, _RESUME = 0, 1, 2, 3, 4
Pauses = dict[int, list[PlannedPause]]  # window → its pauses (hub/simulation/pauses.py)


@dataclass(frozen=True)
class PlanWindow:
    """A window of a plan: the items it calls (in its calling order) and the clock hours a
    clerk sits at it."""

    no: int
    services: tuple[str, ...]
    hours: frozenset[int]
    backup: int | None = None  # the AB post that covers it while its clerk is away


@dataclass(frozen=True)
class Plan:
    windows: tuple[PlanWindow, ...]

    @classmethod
    def as_configured(cls, cfg: HallConfig, hours: range) -> Plan:
        """The hall's windows with their items, every one staffed every hour of `hours`."""
        return cls(tuple(PlanWindow(w.no, tuple(w.services), frozenset(hours), w.backup)
                         for w in cfg.windows))

    @classmethod
    def dedicated(cls, counts: dict[str, dict[int, int]]) -> Plan:
        """Windows that serve one item each: `counts[item][hour]` of them open in that hour
        (window k of an item is open in the hours that need at least k)."""
        windows: list[PlanWindow] = []
        for code in sorted(counts):
            per_hour = counts[code]
            for k in range(1, max(per_hour.values(), default=0) + 1):
                hours = frozenset(h for h, n in per_hour.items() if n >= k)
                windows.append(PlanWindow(len(windows) + 1, (code,), hours))
        return cls(tuple(windows))

    def count(self, code: str, hour: int) -> int:
        return sum(1 for w in self.windows if code in w.services and hour in w.hours)


@dataclass
class TicketWait:
    service: str
    issued_min: float  # minutes after midnight
    wait_min: float  # to the first call; to the day's end if never called (a lower bound)
    called: bool


@dataclass
class DayResult:
    waits: list[TicketWait]
    busy_min: dict[int, float]  # window → minutes at a case (or waiting for a no-show)
    open_min: dict[int, float]  # window → minutes a clerk sat at it
    refused: int = 0  # arrivals the engine refused (quota, closed)

    def utilisation(self) -> dict[int, float]:
        return {no: self.busy_min[no] / m for no, m in self.open_min.items() if m > 0}

    def quantiles(self, q: float = P90) -> dict[tuple[str, int], float]:
        """(item, hour of issue) → the q-quantile of the waits, minutes."""
        groups: dict[tuple[str, int], list[float]] = {}
        for w in self.waits:
            groups.setdefault((w.service, int(w.issued_min // 60)), []).append(w.wait_min)
        return {key: quantile(v, q) for key, v in groups.items()}

    def item_quantile(self, code: str, q: float = P90) -> float | None:
        waits = [w.wait_min for w in self.waits if w.service == code]
        return quantile(waits, q) if waits else None


def quantile(values: list[float], q: float) -> float:
    """The q-quantile by linear interpolation between order statistics (numpy's default)."""
    xs = sorted(values)
    pos = q * (len(xs) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def hall_for_plan(cfg: HallConfig, plan: Plan) -> HallConfig:
    """The hall with the plan's windows instead of its own (AB posts only where the plan
    keeps them: the hall as configured; a plan of its own staffs each window it needs), every
    quota lifted so the plan is judged on the demand it is given."""
    raw = msgspec.to_builtins(cfg)
    raw["windows"] = [
        msgspec.to_builtins(
            Window(no=w.no, department=cfg.service(w.services[0]).department,
                   services=list(w.services), backup=w.backup)
        )
        for w in plan.windows
    ]
    for svc in raw["services"]:
        svc["daily_quota"] = 1_000_000
    return msgspec.convert(raw, HallConfig)


class _Day:
    """One simulated day: the engine's state, the event heap, and the figures collected."""

    def __init__(self, cfg: HallConfig, demand: Demand, plan: Plan, day: dt.date, seed: int,
                 pauses: Pauses | None = None):
        self.cfg, self.demand, self.plan = cfg, demand, plan
        self.pauses = pauses or {}
        self.paused: dict[int, float] = {}  # window → minute its pause began
        self.pause_due: dict[int, PlannedPause] = {}  # window → pause waiting for its case
        self.engine = QueueEngine(cfg)
        self.zone: ZoneInfo = cfg.zone
        self.midnight = dt.datetime.combine(day, dt.time(), tzinfo=self.zone)
        self.state: HallState = new_state(cfg, self.midnight)
        self.rng = random.Random(f"engine-day:{seed}:{day.isoformat()}")
        self.heap: list[tuple[float, int, int, object]] = []
        self.seq = 0
        self.issued: dict[str, tuple[str, float]] = {}  # ticket id → (item, issued minute)
        self.first_call: dict[str, float] = {}
        self.busy: dict[int, float] = {w.no: 0.0 for w in plan.windows}
        self.opened_at: dict[int, float] = {}
        self.open_min: dict[int, float] = {w.no: 0.0 for w in plan.windows}
        self.at_work: dict[int, tuple[str, bool]] = {}  # window → (ticket id, came)
        self.windows = {w.no: w for w in plan.windows}
        self.serving: dict[str, list[int]] = {}
        for w in plan.windows:
            for code in w.services:
                self.serving.setdefault(code, []).append(w.no)
        self.refused = 0
        self.clock = 0.0
        self._now_at = 0.0
        self._now = self.midnight

    # ---- the engine, driven -------------------------------------------------------------

    def now(self) -> dt.datetime:
        if self._now_at != self.clock:  # several acts share an instant: one datetime for them
            self._now_at = self.clock
            self._now = self.midnight + dt.timedelta(minutes=self.clock)
        return self._now

    def act(self, events: list) -> None:
        for event in events:
            apply(self.state, event)

    def push(self, at: float, kind: int, payload: object) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at, kind, self.seq, payload))

    def run(self, arrivals: list[Arrival]) -> DayResult:
        for a in arrivals:
            at = a.at if a.at.tzinfo else a.at.replace(tzinfo=self.zone)  # naive: hall time
            minute = (at - self.midnight).total_seconds() / 60
            self.push(minute, _ARRIVE, a.service)
        hours = sorted({h for w in self.plan.windows for h in w.hours})
        for h in hours:
            self.push(h * 60.0, _HOUR, h)
        for no in self.windows:
            for p in self.pauses.get(no, ()):
                self.push(p.start, _PAUSE, p)
        while self.heap:
            self.clock, kind, _, payload = heapq.heappop(self.heap)
            if kind == _ARRIVE:
                self.arrive(payload)  # type: ignore[arg-type]
            elif kind == _DONE:
                self.done(payload)  # type: ignore[arg-type]
            elif kind == _HOUR:
                self.hour(payload)  # type: ignore[arg-type]
            elif kind == _PAUSE:
                self.pause(payload)  # type: ignore[arg-type]
            else:
                self.resume(payload)  # type: ignore[arg-type]
        return self.result()

    # ---- pauses ---------------------------------------------------------------------------

    def pause(self, p: PlannedPause) -> None:
        """The clerk leaves once the citizen at hand is done (`done` calls back here)."""
        if p.window not in self.opened_at or p.window in self.paused:
            return  # not at work now (the window is closed): nothing to leave
        if p.window in self.at_work:
            self.pause_due[p.window] = p
            return
        self.act(self.engine.pause(self.state, self.now(), p.window, p.reason))
        self.paused[p.window] = self.clock
        self.push(self.clock + p.minutes, _RESUME, p.window)
        self.wake_backup(p.window)

    def resume(self, no: int) -> None:
        since = self.paused.pop(no, None)
        if since is None or no not in self.opened_at:
            return
        self.act(self.engine.resume(self.state, self.now(), no))
        self.open_min[no] -= self.clock - since
        self.call(no)

    def wake_backup(self, no: int) -> None:
        """An idle AB post starts on the away window's queue at once."""
        backup = self.windows[no].backup
        if backup is not None and self.idle(backup):
            self.call(backup)

    def covering(self, service: str) -> list[int]:
        """Windows that call `service` now: its own, then the AB posts of away ones."""
        own = self.serving.get(service, [])
        if not self.paused:
            return own
        extra = [b for no in own if no in self.paused
                 and (b := self.windows[no].backup) is not None and b not in own]
        return [*own, *extra]

    def arrive(self, service: str) -> None:
        try:
            events = self.engine.issue_ticket(self.state, self.now(), service)
        except DomainError:
            self.refused += 1
            return
        self.act(events)
        issued = next(e for e in events if isinstance(e, TicketIssued))
        self.issued[issued.ticket_id] = (service, self.clock)
        # One new ticket: at most one idle window can call it (an idle window has nothing of
        # its own waiting), the first in the plan's order, as the quickest clerk would.
        for no in self.covering(service):
            if self.idle(no):
                self.call(no)
                break

    def idle(self, no: int) -> bool:
        return no in self.opened_at and no not in self.at_work and no not in self.paused

    def hour(self, h: int) -> None:
        for w in self.plan.windows:
            staffed = w.no in self.opened_at
            if h in w.hours and not staffed:
                self.sign_in(w.no)
                self.call(w.no)
            elif h not in w.hours and staffed and w.no not in self.at_work:
                self.maybe_close(w.no)

    def sign_in(self, no: int) -> None:
        clerk = Clerk(username=f"sim{no}", name=f"窗口{no}", staff_no=str(no))
        self.act(self.engine.sign_in(self.state, self.now(), no, clerk))
        self.opened_at[no] = self.clock

    def sign_out(self, no: int) -> None:
        self.act(self.engine.sign_out(self.state, self.now(), no))
        self.open_min[no] += self.clock - self.opened_at.pop(no)
        if no in self.paused:  # signing out ends the pause (the engine says so too)
            self.open_min[no] -= self.clock - self.paused.pop(no)

    def waiting_for(self, no: int) -> bool:
        if self.paused:  # an AB post also calls for the away windows it covers
            services, targets = scope(self.cfg, self.state, no)
            return any(self.state.queues.get(s) for s in services) or any(
                self.state.queues.get(f"@{t}") for t in targets)
        return any(self.state.queues.get(s) for s in self.windows[no].services)

    def call(self, no: int) -> None:
        if no in self.paused:
            return
        if not self.waiting_for(no):  # what call-next would answer with queue_empty, cheaper
            self.maybe_close(no)
            return
        try:
            events = self.engine.call_next(self.state, self.now(), no)
        except DomainError:  # nobody waiting for this window
            self.maybe_close(no)
            return
        self.act(events)
        called = next(e for e in events if isinstance(e, TicketCalled))
        self.first_call.setdefault(called.ticket_id, self.clock)
        item = self.demand.items.get(called.service)
        came = item is None or self.rng.random() >= item.no_show
        if came:
            assert item is not None
            minutes = item.service_minutes.sample(self.rng)
        else:
            minutes = NO_SHOW_MINUTES
        self.at_work[no] = (called.ticket_id, came)
        self.busy[no] += minutes
        self.push(self.clock + minutes, _DONE, no)

    def done(self, no: int) -> None:
        _, came = self.at_work.pop(no)
        if came:
            events = self.engine.finish(self.state, self.now(), no, kind=OutcomeKind.IMMEDIATE)
        else:
            events = self.engine.skip(self.state, self.now(), no)
        self.act(events)
        if no in self.pause_due:
            self.pause(self.pause_due.pop(no))
            if no in self.paused:
                return
        self.call(no)

    def maybe_close(self, no: int) -> None:
        """A window outside its planned hours closes once nothing it serves waits: a clerk
        does not leave citizens holding tickets (nor does the hall at closing time)."""
        planned = int(self.clock // 60) in self.windows[no].hours
        if not planned and no in self.opened_at and not self.waiting_for(no):
            self.sign_out(no)

    def result(self) -> DayResult:
        end = self.clock
        for no in list(self.opened_at):
            self.open_min[no] += end - self.opened_at.pop(no)
        for no, since in self.paused.items():
            self.open_min[no] -= end - since
        waits = [
            TicketWait(
                service=service,
                issued_min=issued,
                wait_min=self.first_call.get(tid, end) - issued,
                called=tid in self.first_call,
            )
            for tid, (service, issued) in self.issued.items()
        ]
        return DayResult(waits=waits, busy_min=self.busy, open_min=self.open_min,
                         refused=self.refused)


def simulate_day(
    cfg: HallConfig, demand: Demand, plan: Plan, day: dt.date, arrivals: list[Arrival],
    seed: int, pauses: Pauses | None = None,
) -> DayResult:
    """Run one day of `arrivals` through the engine with the plan's windows. `cfg` must hold
    the plan's windows (see `hall_for_plan`); `seed` draws service times and no-shows;
    `pauses`: when each window's clerk is away (none: never)."""
    return _Day(cfg, demand, plan, day, seed, pauses).run(arrivals)
