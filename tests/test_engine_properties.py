"""Properties of the queue engine under random sequences of commands (hypothesis).

A state machine drives the small hall of engine_helpers with every command a hall sees — issue
(normal, green, appointment), call, call by number, recall, no-show, transfer, finish with every
outcome, 退件 decisions, pause/resume, sign in/out, supervisors closing items, time passing and
days rolling — and after every step checks what must always hold: a refusal changes nothing,
each ticket is at most at one window, no ticket ends twice or gets lost, numbers are unique per
day, fairness holds at every window, and replaying the committed events rebuilds the state.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from hub.engine import Channel, DomainError, HallState, OutcomeKind, TicketStatus, apply, queries
from hub.engine.model import (
    AnyEvent,
    DayRolled,
    Event,
    ReturnDecided,
    ReturnRequested,
    TicketCalled,
    TicketFinished,
    TicketIssued,
    TicketNoShow,
    TicketTransferred,
)
from tests.engine_helpers import (
    FAIRNESS,
    NOW,
    REQUEUE_BEHIND,
    TZ,
    Hall,
    clerk,
    encode,
    hall_config,
    replay,
)

CFG = hall_config()
SERVICES = [s.code for s in CFG.services]
WINDOWS = [w.no for w in CFG.windows]
CLERKS = [clerk(name) for name in ("zhang", "li", "wang", "zhao", "chen", "liu")]
TERMINAL = {TicketStatus.DONE, TicketStatus.NO_SHOW, TicketStatus.RETURN_REFUSED,
            TicketStatus.EXPIRED}

services = st.sampled_from(SERVICES)
windows = st.sampled_from(WINDOWS)
codes = st.integers(0, 5)


class HallMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.h = Hall(CFG)
        self.shadow = Hall(CFG).state  # rebuilt from JSON-encoded events, step by step
        self.refusals: Counter[str] = Counter()
        self.issued: set[str] = set()
        self.purged: set[str] = set()  # dropped from the state by a DayRolled
        self.numbers: set[tuple[dt.date, str]] = set()
        self.expected: dict[str, TicketStatus] = {}
        self.ended: set[str] = set()  # tickets that reached an end state (one at most)
        self.runs: dict[int, int] = dict.fromkeys(WINDOWS, 0)  # priority calls in a row

    # --- plumbing -------------------------------------------------------------------------

    @property
    def state(self) -> HallState:
        return self.h.state

    def attempt(self, method: str, *args, **kw) -> list[Event] | None:
        before = encode(self.state)
        normal_waiting = None
        if method in ("call_next", "call_number"):
            found = queries.candidates(CFG, self.state, args[0])
            normal_waiting = any(not t.priority for t in found)
        try:
            events = self.h.do(method, *args, **kw)
        except DomainError as err:
            assert encode(self.state) == before, f"refused {method} ({err.code}) changed the state"
            self.refusals[err.code] += 1
            return None
        for event in events:
            apply(self.shadow, msgspec.json.decode(msgspec.json.encode(event), type=AnyEvent))
            self.track(event, method, normal_waiting)
        return events

    def end(self, ticket_id: str, status: TicketStatus) -> None:
        assert ticket_id not in self.ended, f"{ticket_id} ended twice"
        self.ended.add(ticket_id)
        self.expected[ticket_id] = status

    def track(self, e: Event, method: str, normal_waiting: bool | None) -> None:
        if isinstance(e, TicketIssued):
            key = (self.state.day, e.number)
            assert key not in self.numbers, f"number {e.number} issued twice on {key[0]}"
            assert e.ticket_id not in self.issued
            self.numbers.add(key)
            self.issued.add(e.ticket_id)
            self.expected[e.ticket_id] = TicketStatus.WAITING
        elif isinstance(e, TicketCalled):
            assert self.expected[e.ticket_id] is TicketStatus.WAITING
            self.expected[e.ticket_id] = TicketStatus.CALLED
            priority = self.state.tickets[e.ticket_id].priority
            if not priority or not normal_waiting:
                self.runs[e.window_no] = 0
            else:
                self.runs[e.window_no] += 1
                if method == "call_next":
                    assert self.runs[e.window_no] <= FAIRNESS, (
                        f"window {e.window_no}: {self.runs[e.window_no]} priority calls in a row "
                        "while a normal ticket waited")
        elif isinstance(e, TicketNoShow):
            if e.requeued:
                self.expected[e.ticket_id] = TicketStatus.WAITING
            else:
                self.end(e.ticket_id, TicketStatus.NO_SHOW)
        elif isinstance(e, TicketTransferred):
            self.expected[e.ticket_id] = TicketStatus.WAITING
        elif isinstance(e, TicketFinished):
            self.end(e.ticket_id, TicketStatus.DONE)
        elif isinstance(e, ReturnRequested):
            self.expected[e.ticket_id] = TicketStatus.RETURN_PENDING
        elif isinstance(e, ReturnDecided):
            if e.approved:
                self.end(e.ticket_id, TicketStatus.DONE)
            elif e.requeued_to is not None:
                self.expected[e.ticket_id] = TicketStatus.WAITING
            else:
                self.end(e.ticket_id, TicketStatus.RETURN_REFUSED)
        elif isinstance(e, DayRolled):
            for ticket_id in e.expired:
                assert self.expected[ticket_id] in (TicketStatus.WAITING, TicketStatus.CALLED)
                self.end(ticket_id, TicketStatus.EXPIRED)
            for ticket_id, status in list(self.expected.items()):
                if status is not TicketStatus.RETURN_PENDING:
                    self.purged.add(ticket_id)
                    del self.expected[ticket_id]
            self.runs = dict.fromkeys(WINDOWS, 0)

    def pick(self, items: list, i: int, default=None):
        return items[i % len(items)] if items else default

    # --- setup and time -------------------------------------------------------------------

    @initialize(staffed=st.sets(windows, max_size=5))
    def open_hall(self, staffed):
        for no in sorted(staffed):
            self.attempt("sign_in", no, CLERKS[no - 1])

    @rule(minutes=st.integers(1, 90))
    def time_passes(self, minutes):
        later = self.h.now + dt.timedelta(minutes=minutes)
        end_of_day = dt.datetime.combine(self.state.day, dt.time(23, 59), TZ)
        self.h.now = min(later, end_of_day)

    @rule(service=services)
    def next_day(self, service):
        day = self.state.day + dt.timedelta(days=1)
        while not CFG.is_workday(day):
            day += dt.timedelta(days=1)
        self.h.now = dt.datetime.combine(day, dt.time(9, 0), TZ)
        # nothing is issued or called on a day that has not been rolled over
        assert self.attempt("issue_ticket", service) is None
        assert self.attempt("rollover")
        assert self.attempt("rollover") == []

    # --- issuing --------------------------------------------------------------------------

    @rule(service=services)
    def issue(self, service):
        self.attempt("issue_ticket", service)

    @rule(i=codes, service=st.none() | services)
    def grant_pass(self, i, service):
        self.attempt("grant_green_pass", f"G{i}", "重点项目", "boss", service=service)

    @rule(i=codes, service=services)
    def issue_green(self, i, service):
        self.attempt("issue_ticket", service, channel=Channel.GREEN, reference=f"G{i}")

    @rule(i=codes, service=services, days=st.integers(0, 1))
    def book(self, i, service, days):
        self.attempt("book_appointment", f"AP{i}", service,
                     self.state.day + dt.timedelta(days=days))

    @rule(i=codes, service=st.just("") | services)
    def check_in(self, i, service):
        self.attempt("issue_ticket", service, channel=Channel.APPOINTMENT, reference=f"AP{i}")

    @rule(service=services, close=st.booleans())
    def supervise(self, service, close):
        if close:
            self.attempt("close_service", service, "系统维护")
        else:
            self.attempt("reopen_service", service)

    # --- windows --------------------------------------------------------------------------

    @rule(no=windows, who=st.integers(0, len(CLERKS) - 1))
    def sign_in(self, no, who):
        self.attempt("sign_in", no, CLERKS[who])

    @rule(no=windows)
    def sign_out(self, no):
        self.attempt("sign_out", no)

    @rule(no=windows, reason=st.sampled_from(["break", "meeting", ""]))
    def pause(self, no, reason):
        self.attempt("pause", no, reason)

    @rule(no=windows)
    def resume(self, no):
        self.attempt("resume", no)

    # --- calling and serving --------------------------------------------------------------

    @rule(no=windows)
    def call_next(self, no):
        self.attempt("call_next", no)

    @rule(no=windows, data=st.data())
    def call_next_twice(self, no, data):
        """Call-next is the most frequent command at a hall: give it more weight."""
        self.attempt("call_next", no)
        if data.draw(st.booleans()):
            self.attempt("finish", no, kind=OutcomeKind.IMMEDIATE)
        self.attempt("call_next", data.draw(windows))

    @rule(no=windows, i=st.integers(0, 50))
    def call_number(self, no, i):
        numbers = sorted(t.number for t in self.state.tickets.values()
                         if t.day == self.state.day)
        self.attempt("call_number", no, self.pick(numbers, i, "Z999"))

    @rule(no=windows)
    def recall(self, no):
        self.attempt("recall", no)

    @rule(no=windows)
    def skip(self, no):
        current = self.state.windows[no].current
        if current is None or self.state.windows[no].clerk is None:
            self.attempt("skip", no)
            return
        ticket = self.state.tickets[current]
        peers = sorted(
            (t.rank, t.id) for t in queries.waiting(self.state)
            if t.service == ticket.service and t.target_window == ticket.target_window
        )
        events = self.attempt("skip", no)
        assert events and isinstance(events[0], TicketNoShow)
        if not events[0].requeued:
            return
        rank = self.state.tickets[current].rank
        ahead = [p for p in peers if p[0] < rank]
        k = min(REQUEUE_BEHIND, len(peers))
        # the first K waiting tickets of its item go before it; beyond them only tickets
        # requeued earlier into the same slot (same first rank component) may
        assert peers[:k] == ahead[:k], (peers, rank)
        for extra_rank, _ in ahead[k:]:
            assert extra_rank[1] != 0 and extra_rank[0] == peers[k - 1][0][0], (peers, rank)
        if len(peers) < REQUEUE_BEHIND:
            assert len(ahead) == len(peers)

    @rule(no=windows, service=st.none() | services, to_window=st.none() | windows,
          reason=st.sampled_from(["", "联办"]))
    def transfer(self, no, service, to_window, reason):
        self.attempt("transfer", no, service=service, to_window=to_window, reason=reason)

    @rule(
        no=windows,
        kind=st.sampled_from([None, *OutcomeKind]),
        departments=st.lists(st.sampled_from(["SJ", "GA", "RS", "XX"]), max_size=3),
        authority=st.sampled_from([None, "", "省公安厅"]),
        reason=st.sampled_from([None, "", "申请人撤回"]),
    )
    def finish(self, no, kind, departments, authority, reason):
        self.attempt("finish", no, kind=kind, departments=departments, authority=authority,
                     reason=reason)

    @rule(i=st.integers(0, 50), approve=st.booleans())
    def decide_return(self, i, approve):
        pending = sorted(k for k, t in self.state.tickets.items()
                         if t.status is TicketStatus.RETURN_PENDING)
        anything = sorted(self.state.tickets)
        ticket_id = self.pick(pending, i) if i % 4 else self.pick(anything, i, "nope")
        self.attempt("decide_return", ticket_id or "nope", approve=approve, supervisor="boss")

    # --- invariants -----------------------------------------------------------------------

    @invariant()
    def windows_and_tickets_agree(self):
        currents = [w.current for w in self.state.windows.values() if w.current]
        assert len(currents) == len(set(currents)), "a ticket at two windows"
        for win in self.state.windows.values():
            if win.pause is not None:
                assert win.clerk is not None, f"window {win.no} paused without a clerk"
            if win.current:
                t = self.state.tickets[win.current]
                assert t.status is TicketStatus.CALLED and t.window == win.no
                assert win.clerk is not None, f"window {win.no} holds {t.number} with no clerk"
                assert win.pause is None
        for t in self.state.tickets.values():
            if t.status is TicketStatus.CALLED:
                assert t.window is not None and self.state.windows[t.window].current == t.id
            else:
                assert t.window is None
            if t.status in TERMINAL:
                assert t.finished_at is not None

    @invariant()
    def nothing_lost(self):
        tickets = self.state.tickets
        assert set(tickets) == self.issued - self.purged
        assert {k: t.status for k, t in tickets.items()} == self.expected
        counts = Counter(t.status for t in tickets.values())
        assert set(counts) <= set(TicketStatus)
        assert sum(counts.values()) == len(tickets)
        waiting = [t for t in tickets.values() if t.status is TicketStatus.WAITING]
        assert sum(queries.waiting_counts(self.state).values()) == len(waiting)

    @invariant()
    def numbers_and_ranks_unique(self):
        today = [t for t in self.state.tickets.values() if t.day == self.state.day]
        assert len({t.number for t in today}) == len(today)
        ranks = [t.rank for t in queries.waiting(self.state)]
        assert len(set(ranks)) == len(ranks)
        for prefix, last in self.state.counters.items():
            assert f"{prefix}{last:03d}" in {n for d, n in self.numbers if d == self.state.day}

    @invariant()
    def quota_held(self):
        for svc in CFG.services:
            assert self.state.issued.get(svc.code, 0) <= svc.daily_quota

    @invariant()
    def replay_matches(self):
        assert encode(self.shadow) == encode(self.state)

    def teardown(self):
        rebuilt = replay(CFG, NOW, self.h.events)
        assert encode(rebuilt) == encode(self.state)
        decoded = msgspec.json.decode(msgspec.json.encode(self.state), type=HallState)
        assert decoded == self.state


HallMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestHall = HallMachine.TestCase


# --- fairness, densely: one window, random arrivals and calls -----------------------------


@settings(max_examples=200, deadline=None)
@given(
    ratio=st.integers(1, 4),
    ops=st.lists(st.sampled_from(["normal", "green", "appointment", "call", "call"]),
                 min_size=1, max_size=60),
)
def test_fairness_at_one_window(ratio, ops):
    h = Hall(hall_config(queue={"fairness_ratio": ratio}))
    h.staff(1)
    run = streak = 0
    for i, op in enumerate(ops):
        if op == "normal":
            h.issue("biz_reg")
        elif op == "green":
            h.do("grant_green_pass", f"G{i}", "项目", "boss")
            h.issue("biz_change", channel=Channel.GREEN, reference=f"G{i}")
        elif op == "appointment":
            h.do("book_appointment", f"AP{i}", "biz_reg", h.state.day)
            h.issue("", channel=Channel.APPOINTMENT, reference=f"AP{i}")
        else:
            found = queries.candidates(h.cfg, h.state, 1)
            if not found:
                continue
            normal = next((t for t in found if not t.priority), None)
            prio = next((t for t in found if t.priority), None)
            called = h.call(1)
            ticket = h.ticket(called.ticket_id)
            # priority first, but never more than R priority calls in a row while a normal
            # ticket waits; the window's streak counts every priority call in a row
            if ticket.priority:
                run = run + 1 if normal else 0
                assert run <= ratio
                assert streak < ratio or normal is None
                assert called.ticket_id == prio.id and not called.fairness
                streak += 1
            else:
                assert called.ticket_id == normal.id
                assert called.fairness == (prio is not None)
                assert streak >= ratio or prio is None
                run = streak = 0
            h.do("finish", 1, kind=OutcomeKind.IMMEDIATE)
