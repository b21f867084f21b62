"""The people of the soak's hall: citizens taking tickets at the kiosk (over `/kiosk`, as the
kiosk's page does), clerks at their panels (over `/caller`, with a person's pauses between
keys), citizens rating at the window's keypad (the simulator's keys, read by the real agent),
and the hall's screens (`/display`). Each runs on its own thread on the sped-up clock, and
writes what it was told into the Ledger the end checks read."""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from devices.sim import SimRatingKeypad
from hub.clock import SetClock
from hub.config import HallConfig
from hub.simulation.demand import Arrival, Demand, ItemDemand
from hub.simulation.pauses import PlannedPause

from .processes import Hub, clerk_name
from .sio import Closed, SioClient

log = logging.getLogger(__name__)

RETRY_S = 0.3  # real seconds between attempts while the hub is away
KEY_GAP_S = (0.8, 3.0)  # hall seconds between a clerk's keys (reading the screen, a click)
IDLE_POLL_S = 20.0  # hall seconds a clerk with an empty queue waits before calling again
PRESS_AFTER_S = (2.0, 12.0)  # hall seconds from the keypad lighting up to the citizen's press
REASON_SHARE = 0.8  # 差评 given with a reason key (the others latch when the reason wait ends)
KEYPAD_WAIT_S = 5.0  # real seconds a citizen waits for the keypad to light up


class Board:
    """Who is away from the hall's windows, as the clerks see it across the room: a clerk
    whose AB partner is away stays (同岗替代: one of the two is always at the post)."""

    def __init__(self, partners: dict[int, set[int]]) -> None:
        self.partners = partners
        self.away: set[int] = set()
        self.lock = threading.Lock()

    def leave(self, no: int) -> bool:
        with self.lock:
            if self.away & self.partners.get(no, set()):
                return False
            self.away.add(no)
            return True

    def back(self, no: int) -> None:
        with self.lock:
            self.away.discard(no)


@dataclass
class Ledger:
    """What the hall's people were told (acks) and did (presses): the checks' side of the
    story, held against the hub's store and the backend."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: dict[str, str] = field(default_factory=dict)  # ticket id -> service, acknowledged
    refused: Counter = field(default_factory=Counter)  # kiosk refusals by error code
    printed: Counter = field(default_factory=Counter)  # the kiosk answer's print state
    pressed: dict[str, int] = field(default_factory=dict)  # ticket id -> level pressed
    not_pressed: int = 0
    actions: Counter = field(default_factory=Counter)  # window actions acknowledged
    paused: list[tuple[int, str]] = field(default_factory=list)  # (window, reason) acknowledged
    pauses_deferred: int = 0  # pauses put off while the AB partner was away
    action_errors: Counter = field(default_factory=Counter)
    reconnects: Counter = field(default_factory=Counter)
    late_issues: int = 0  # arrivals issued more than a minute late (the hub was away)

    def count(self, counter: str, key: str, n: int = 1) -> None:
        with self.lock:
            getattr(self, counter)[key] += n


class Timeline:
    """The hall's time and real time, both ways, and sleeping until a time of the hall."""

    def __init__(self, clock: SetClock, stop: threading.Event) -> None:
        self.clock, self.stop = clock, stop

    def now(self) -> dt.datetime:
        return self.clock()

    def real_at(self, when: dt.datetime) -> float:
        return self.clock.anchor + (when - self.clock.start).total_seconds() / self.clock.rate

    def until(self, when: dt.datetime) -> bool:
        """Sleep until `when` by the hall's clock; False if the soak is stopping."""
        return not self.stop.wait(max(0.0, self.real_at(when) - time.time()))

    def pause(self, hall_s: float) -> bool:
        return not self.stop.wait(max(0.0, hall_s / self.clock.rate))


def connect(hub: Hub, namespace: str, token: str, ledger: Ledger, who: str,
            stop: threading.Event, **auth: Any) -> SioClient | None:
    """A socket to `namespace`, trying again while the hub is away; None once stopping."""
    first = True
    while not stop.is_set():
        try:
            client = SioClient(hub.url, namespace, token, **auth)
            if not first:
                ledger.count("reconnects", who)
            return client
        except (Closed, OSError):
            first = False
            stop.wait(RETRY_S)
    return None


class Kiosk(threading.Thread):
    """Citizens taking their tickets at the kiosk at the day's arrival times. An answer lost
    with the hub is asked again with the same request id, as the kiosk's page does: the hub
    gives the same ticket, never a second one."""

    def __init__(self, no: int, hub: Hub, token: str, day: list[Arrival], time_: Timeline,
                 ledger: Ledger, seed: int) -> None:
        super().__init__(name=f"kiosk{no}", daemon=True)
        self.hub, self.token, self.day, self.time, self.ledger = hub, token, day, time_, ledger
        self.seed = seed
        self.done = threading.Event()

    def run(self) -> None:
        try:
            self._take()
        except Exception:  # the soak's own bug: in its log, where the checks look for it
            log.exception("the kiosk stopped")

    def _take(self) -> None:
        client: SioClient | None = None
        try:
            for arrival in self.day:
                if not self.time.until(arrival.at):
                    return
                client = self._issue(client, arrival)
        finally:
            self.done.set()
            if client is not None:
                client.close()

    def _issue(self, client: SioClient | None, arrival: Arrival) -> SioClient | None:
        request = {"service": arrival.service, "request_id": f"soak{self.seed}n{arrival.id}"}
        while not self.time.stop.is_set():
            if client is None or client.closed.is_set():
                client = connect(self.hub, "/kiosk", self.token, self.ledger, self.name,
                                 self.time.stop)
                if client is None:
                    return None
            try:
                answer = client.call("issue_ticket", request, timeout_s=10)
            except Closed:
                client.close()
                continue
            if (self.time.now() - arrival.at).total_seconds() > 60:
                with self.ledger.lock:
                    self.ledger.late_issues += 1
            if answer.get("ok"):
                result = answer["result"]
                with self.ledger.lock:
                    self.ledger.acked[result["ticket"]["id"]] = arrival.service
                print_state = result.get("print")
                self.ledger.count("printed", str(print_state.get("status") if isinstance(
                    print_state, dict) else print_state))
            else:
                self.ledger.count("refused", answer["error"]["code"])
            return client
        return client


@dataclass
class Away:
    """The clerk's pauses of the day (hub/simulation/pauses.py's plan, as times of the hall)
    and the board they share with the other clerks."""

    planned: list[PlannedPause]
    midnight: dt.datetime
    board: Board


class Clerk(threading.Thread):
    """A clerk at their window's panel: call the next, serve for the item's service time (or
    call again and mark a no-show, or transfer), finish with the case's outcome; the citizen
    then rates at the window's keypad, or walks away. At the plan's times, once the citizen
    at hand is done and the AB partner is at their post, the clerk pauses with the plan's
    reason and resumes when the pause's length has passed."""

    def __init__(self, no: int, hub: Hub, cfg: HallConfig, demand: Demand,
                 keypad: SimRatingKeypad, time_: Timeline, ledger: Ledger, seed: int,
                 until: threading.Event, leaving: threading.Event,
                 away: Away | None = None) -> None:
        super().__init__(name=f"clerk{no}", daemon=True)
        self.no, self.hub, self.cfg, self.demand, self.keypad = no, hub, cfg, demand, keypad
        self.time, self.ledger, self.until, self.leaving = time_, ledger, until, leaving
        self.rng = random.Random(f"{seed}:window{no}")
        self.seed = seed
        self.client: SioClient | None = None
        self.token: str | None = None
        self.transferred: set[str] = set()
        self.away = away
        self.pauses = sorted(away.planned) if away else []
        self.deferred: PlannedPause | None = None

    def run(self) -> None:
        try:
            self._work()
        except Exception:  # the soak's own bug: in its log, where the checks look for it
            log.exception("the clerk of window %d stopped", self.no)

    def _work(self) -> None:
        token = self.token = self._login()
        while token and not self.time.stop.is_set():
            if self.client is None or self.client.closed.is_set():
                if not self._connect():
                    return
                current = self._current_after_connect()
                if current:
                    self._serve(current, resumed=True)
                    continue
            if self.leaving.is_set():
                break  # the day is over: no new citizen (the one being served is finished)
            if self._pause_due():
                continue
            try:
                answer = self._act("call-next")
            except Closed:
                continue
            if answer.get("error", {}).get("code") == "ticket_in_service":
                # A call the hub made while its answer was lost: the panel's snapshot on a
                # new socket shows the citizen at the window.
                assert self.client is not None
                self.client.close()
                continue
            current = answer.get("result", {}).get("current") if answer.get("ok") else None
            if current:
                self._serve(current)
            elif self.until.is_set():
                break  # the kiosks are closed and the queue is empty for this window
            else:
                self.time.pause(IDLE_POLL_S)
        if self.client is not None:
            self.client.close()

    def _connect(self) -> bool:
        assert self.token is not None
        self.client = connect(self.hub, "/caller", self.token, self.ledger, self.name,
                              self.time.stop)
        return self.client is not None

    # --- pauses -------------------------------------------------------------------------

    def _pause_due(self) -> bool:
        """Take the next planned pause if its time has come (the citizen at hand is done: this
        runs between two calls) and the AB partner is back. True: start the loop over (the
        clerk paused and resumed, or the socket has to be connected again)."""
        if not self.pauses or self.away is None:
            return False
        due = self.pauses[0]
        start, end = due.at(self.away.midnight)
        now = self.time.now()
        if now < start:
            return False
        if not self.away.board.leave(self.no):
            if due is not self.deferred:  # counted once per pause put off
                self.deferred = due
                with self.ledger.lock:
                    self.ledger.pauses_deferred += 1
            return False  # the partner is away: serve on, and look again after this citizen
        try:
            paused = self._pause(due.reason)
            if paused is None:
                return True  # the hub is away: the loop connects again, the pause still due
            self.pauses.pop(0)
            if paused:
                self.time.until(self.time.now() + (end - start))
                self._resume()
            return paused
        finally:
            self.away.board.back(self.no)

    def _pause(self, reason: str) -> bool | None:
        """Pause with `reason`: True if the window is paused, False if the hub refused (the
        pause is dropped), None if the answer was lost (try again once connected)."""
        try:
            answer = self._act("pause", {"reason": reason})
        except Closed:
            return None
        code = answer.get("error", {}).get("code")
        if answer.get("ok") or code == "already_paused":  # a lost answer's pause stands
            with self.ledger.lock:
                self.ledger.paused.append((self.no, reason))
            return True
        if code == "ticket_in_service":  # a call whose answer was lost: serve them first
            assert self.client is not None
            self.client.close()
            return None
        return False

    def _resume(self) -> None:
        """Resume, through the hub's restarts; a window the hub no longer has paused (a lost
        answer) is resumed already. Given up only when the soak ends (the day's end closes
        the pause)."""
        while True:
            if (self.client is None or self.client.closed.is_set()) and not self._connect():
                return
            try:
                self._act("resume")
            except Closed:
                if self.time.stop.is_set():
                    return
                continue
            # Done, or refused: not_paused (a lost answer's resume stands), or the clerk is no
            # longer signed in (nothing to resume).
            return

    def _login(self) -> str | None:
        while not self.time.stop.is_set():
            try:
                return self.hub.login(clerk_name(self.no), self.no)
            except (OSError, ValueError) as err:  # requests' errors are OSErrors
                self.ledger.count("action_errors", f"sign-in:{str(err)[:60]}")
            self.time.stop.wait(RETRY_S)
        return None

    def _current_after_connect(self) -> dict[str, Any] | None:
        """The ticket at this window after a reconnect (the panel's snapshot says)."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.client and not self.client.snapshot:
            time.sleep(0.02)
        snap = self.client.snapshot if self.client else None
        for w in (snap or {}).get("windows", []):
            if w.get("no") == self.no:
                return w.get("current")
        return None

    def _act(self, action: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """One key of the panel, after a person's pause; Closed (the socket is dropped) if the
        hub did not answer."""
        self.time.pause(self.rng.uniform(*KEY_GAP_S))
        assert self.client is not None
        try:
            answer = self.client.call(action, data or {}, timeout_s=10)
        except Closed:
            self.client.close()
            raise
        if answer.get("ok"):
            self.ledger.count("actions", action)
        else:
            self.ledger.count("action_errors", f"{action}:{answer['error']['code']}")
            if action != "call-next":
                log.warning("window %d: %s refused: %s", self.no, action, answer["error"])
        return answer

    def _serve(self, current: dict[str, Any], resumed: bool = False) -> None:
        item = self.demand.items.get(current["service"])
        rng = random.Random(f"{self.seed}:{current['id']}:{current.get('recalls', 0)}")
        try:
            if item is not None and not resumed and rng.random() < item.no_show:
                self._act("recall")
                self.time.pause(30)
                self._act("skip")
                return
            if item is not None and not resumed and current["id"] not in self.transferred \
                    and rng.random() < item.transfer and (target := self._transfer_to(current)):
                self.transferred.add(current["id"])
                self._act("transfer", {"service": target, "reason": "转办"})
                return
            minutes = item.service_minutes.sample(rng) if item is not None else 5.0
            if not self.time.pause(minutes * 60):
                return
            answer = self._act("finish", self._outcome(current["service"], item, rng))
        except Closed:
            return
        if answer.get("ok") and item is not None:
            self._rate(current["id"], answer["result"], item, rng)

    def _transfer_to(self, current: dict[str, Any]) -> str | None:
        """Another item of the same department, served at some window."""
        dept = self.cfg.service(current["service"]).department
        served = {s for w in self.cfg.windows for s in w.services}
        others = sorted(s.code for s in self.cfg.services if s.department == dept
                        and s.code != current["service"] and s.code in served)
        return self.rng.choice(others) if others else None

    def _outcome(self, service: str, item: ItemDemand | None,
                 rng: random.Random) -> dict[str, Any]:
        """The case's art. 4 outcome: the item's own kind, or a 联办件 / 承诺件 by the
        profile's shares."""
        svc = self.cfg.service(service)
        draw = rng.random()
        if svc.case_type == "joint" or (item is not None and draw < item.joint):
            other = next(d.code for d in self.cfg.departments if d.code != svc.department)
            return {"outcome": "joint", "departments": [svc.department, other]}
        if item is not None and draw < item.joint + item.commitment:
            return {"outcome": "commitment"}
        if svc.case_type == "report":
            return {"outcome": "report", "authority": "市行政审批局"}
        return {}

    def _rate(self, ticket_id: str, view: dict[str, Any], item: ItemDemand,
              rng: random.Random) -> None:
        asked = next((e for e in view.get("events", []) if e.get("type") == "rating.requested"),
                     None)
        level = item.rating.draw(rng)
        if asked is None or level is None:
            with self.ledger.lock:
                self.ledger.not_pressed += 1
            return
        request_id = asked["data"]["request_id"] if "data" in asked else asked.get("request_id")
        deadline = time.monotonic() + KEYPAD_WAIT_S
        while self.keypad.window != request_id:
            if time.monotonic() > deadline or self.time.stop.is_set():
                with self.ledger.lock:
                    self.ledger.not_pressed += 1
                return
            time.sleep(0.02)
        if not self.time.pause(rng.uniform(*PRESS_AFTER_S)):
            return
        reason = rng.randint(1, len(self.cfg.rating.reasons)) \
            if level >= 4 and rng.random() < REASON_SHARE else 0
        if self.keypad.window == request_id and self.keypad.press_rating(level, reason):
            with self.ledger.lock:
                self.ledger.pressed[ticket_id] = level
        else:
            with self.ledger.lock:
                self.ledger.not_pressed += 1


class Screen(threading.Thread):
    """A call screen: a socket on `/display` taking the hub's pushes, reconnected as the page
    does when the hub comes back."""

    def __init__(self, room: str, hub: Hub, token: str, ledger: Ledger,
                 stop: threading.Event) -> None:
        super().__init__(name=f"screen-{room}", daemon=True)
        self.room = room
        self.hub, self.token, self.ledger, self.stop = hub, token, ledger, stop
        self.pushes = 0

    def run(self) -> None:
        while not self.stop.is_set():
            client = connect(self.hub, "/display", self.token, self.ledger, self.name, self.stop,
                             room=self.room)
            if client is None:
                return
            while not (self.stop.is_set() or client.closed.wait(0.5)):
                pass
            self.pushes += client.pushes
            client.close()
