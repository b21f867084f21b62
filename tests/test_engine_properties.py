"""Properties of the queue engine under random sequences of commands (hypothesis).

A state machine drives the small hall of engine_helpers with every command a hall sees — issue
(normal, green, appointment, and with a swiped ID card: identified, elderly), call, call by
number, recall, no-show, transfer, finish with every outcome, 退件 decisions, pause/resume, sign
in/out, supervisors closing items, time passing and days rolling — and after every step checks
what must always hold: a refusal changes nothing, each ticket is at most at one window, no ticket
ends twice or gets lost, numbers are unique per day, fairness holds at every window (elderly
tickets among the priority ones), the per-person rules are never broken and their index is
exactly today's identified tickets, and replaying the committed events rebuilds the state.
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
    PACE_SAMPLE,
    AnyEvent,
    DayRolled,
    Event,
    RatingExpired,
    RatingRequested,
    RatingStatus,
    ReturnDecided,
    ReturnRequested,
    TicketCalled,
    TicketFinished,
    TicketIssued,
    TicketNoShow,
    TicketRated,
    TicketTransferred,
    queue_key,
    queue_order,
)
from hub.engine.persons import Identified
from tests.engine_helpers import (
    FAIRNESS,
    NOW,
    REQUEUE_BEHIND,
    TZ,
    Hall,
    all_candidates,
    clerk,
    encode,
    finished_cases,
    hall_config,
    replay,
)

CFG = hall_config()
PER_DAY, OPEN_PER_ITEM = CFG.identity.per_day, CFG.identity.open_per_item
PERSONS = ["p0", "p1", "p2", "p3"]
ELDERLY_PERSONS = {"p1", "p3"}
SERVICES = [s.code for s in CFG.services]
WINDOWS = [w.no for w in CFG.windows]
CLERKS = [clerk(name) for name in ("zhang", "li", "wang", "zhao", "chen", "liu")]
TERMINAL = {
    TicketStatus.DONE,
    TicketStatus.NO_SHOW,
    TicketStatus.RETURN_REFUSED,
    TicketStatus.EXPIRED,
}

services = st.sampled_from(SERVICES)
windows = st.sampled_from(WINDOWS)
codes = st.integers(0, 5)
rarely_not = st.integers(0, 5).map(bool)  # True 5 times in 6
persons = st.sampled_from(PERSONS)


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
        self.rated: set[str] = set()  # tickets with a rating (one at most)
        # requests (ticket, request id) that ended: 未评价 or rated is final for its request; only
        # a new request (the clerk asks again) can bring a rating after 未评价
        self.settled: set[tuple[str, int]] = set()
        self.runs: dict[int, int] = dict.fromkeys(WINDOWS, 0)  # priority calls in a row
        self.by_person: dict[str, list[str]] = {}  # today's identified tickets per person

    # --- plumbing -------------------------------------------------------------------------

    @property
    def state(self) -> HallState:
        return self.h.state

    def attempt(self, method: str, *args, **kw) -> list[Event] | None:
        before = encode(self.state)
        normal_waiting = None
        if method in ("call_next", "call_number"):
            found = all_candidates(CFG, self.state, args[0])
            normal_waiting = any(not t.priority for t in found)
            # call-next reads the queues' heads; they are the full sort's first ones
            assert queries.heads(CFG, self.state, args[0]) == (
                next((t for t in found if t.priority), None),
                next((t for t in found if not t.priority), None))
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
        self.track_rating(e)
        if isinstance(e, TicketIssued):
            self.track_person(e)
            key = (self.state.day, e.number)
            assert key not in self.numbers, f"number {e.number} issued twice on {key[0]}"
            assert e.ticket_id not in self.issued
            self.numbers.add(key)
            self.issued.add(e.ticket_id)
            self.expected[e.ticket_id] = TicketStatus.WAITING
        elif isinstance(e, TicketCalled):
            self.track_call(e, method, normal_waiting)
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
            self.track_return(e)
        elif isinstance(e, DayRolled):
            self.track_day_end(e)

    def track_person(self, e: TicketIssued) -> None:
        """An identified ticket: issued only within its person's limits, elderly as its card."""
        assert e.identified == (e.person is not None)
        if e.person is None:
            assert e.channel is not Channel.ELDERLY
            return
        mine = self.by_person.setdefault(e.person, [])
        mine.append(e.ticket_id)
        assert len(mine) <= PER_DAY, f"{e.person}: {len(mine)} tickets today"
        open_here = [i for i in mine if self.state.tickets[i].service == e.service
                     and self.state.tickets[i].status in (TicketStatus.WAITING,
                                                          TicketStatus.CALLED)]
        assert len(open_here) <= OPEN_PER_ITEM, f"{e.person}: {open_here} open for {e.service}"
        if e.channel in (Channel.NORMAL, Channel.ELDERLY):
            assert (e.channel is Channel.ELDERLY) == (e.person in ELDERLY_PERSONS)
            assert e.priority == (e.channel is Channel.ELDERLY)

    def track_rating(self, e: Event) -> None:
        if isinstance(e, TicketRated):
            assert e.ticket_id not in self.rated, f"{e.ticket_id} rated twice"
            self.rated.add(e.ticket_id)
        if isinstance(e, RatingExpired):
            assert e.ticket_id not in self.rated, f"{e.ticket_id} 未评价 after its rating"
        if isinstance(e, (TicketRated, RatingExpired, RatingRequested)):
            request = (e.ticket_id, e.request_id)
            assert request not in self.settled, f"{request} after it ended (未评价 or rated)"
            if not isinstance(e, RatingRequested):
                self.settled.add(request)

    def track_call(self, e: TicketCalled, method: str, normal_waiting: bool | None) -> None:
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
                    "while a normal ticket waited"
                )

    def track_return(self, e: ReturnDecided) -> None:
        if e.approved:
            self.end(e.ticket_id, TicketStatus.DONE)
        elif e.requeued_to is not None:
            self.expected[e.ticket_id] = TicketStatus.WAITING
        else:
            self.end(e.ticket_id, TicketStatus.RETURN_REFUSED)

    def track_day_end(self, e: DayRolled) -> None:
        for ticket_id in e.expired:
            assert self.expected[ticket_id] in (TicketStatus.WAITING, TicketStatus.CALLED)
            self.end(ticket_id, TicketStatus.EXPIRED)
        for ticket_id, status in list(self.expected.items()):
            if status is not TicketStatus.RETURN_PENDING:
                self.purged.add(ticket_id)
                del self.expected[ticket_id]
        self.runs = dict.fromkeys(WINDOWS, 0)
        self.by_person = {}

    def pick(self, items: list, i: int, default=None):
        return items[i % len(items)] if items else default

    def busy(self, data) -> int:
        """A window serving a ticket, mostly (commands on the current ticket): one calls if none."""
        if not data.draw(rarely_not):
            return data.draw(windows)
        found = [w.no for w in self.state.windows.values() if w.current]
        if found:
            return data.draw(st.sampled_from(found))
        no = self.staffed(data)
        self.attempt("call_next", no)
        return no

    def staffed(self, data) -> int:
        """A staffed, idle window, mostly (calling)."""
        found = [w.no for w in self.state.windows.values() if w.clerk and not w.current]
        return data.draw(st.sampled_from(found) if found and data.draw(rarely_not) else windows)

    # --- setup and time -------------------------------------------------------------------

    @initialize(absent=st.sets(windows, max_size=2))
    def open_hall(self, absent):
        for no in WINDOWS:
            if no not in absent:
                self.attempt("sign_in", no, CLERKS[no - 1])

    @rule(minutes=st.integers(1, 40))
    def time_passes(self, minutes):
        later = self.h.now + dt.timedelta(minutes=minutes)
        end_of_day = dt.datetime.combine(self.state.day, dt.time(23, 59), TZ)
        self.h.now = min(later, end_of_day)

    @rule(service=services, dice=st.integers(0, 7))
    def next_day(self, service, dice):
        if dice:  # rarely: most of a run stays within one day
            return
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

    @rule(who=persons, service=services, channel=st.sampled_from(
        [Channel.NORMAL, Channel.NORMAL, Channel.NORMAL, Channel.GREEN]), i=codes)
    def swipe_and_issue(self, who, service, channel, i):
        """A citizen swipes their card (the same person swipes the same card: elderly or
        not) and takes a ticket, or checks in a green pass with it."""
        identity = Identified(persons=(who,), elderly=who in ELDERLY_PERSONS)
        reference = f"G{i}" if channel is Channel.GREEN else None
        self.attempt("issue_ticket", service, channel, reference, identity)

    @rule(batch=st.lists(services, min_size=1, max_size=4))
    def crowd_arrives(self, batch):
        for service in batch:
            self.attempt("issue_ticket", service)

    @rule(i=codes, service=st.none() | services, data=st.data())
    def issue_green(self, i, service, data):
        code = f"G{i}"
        if code not in self.state.passes or data.draw(st.booleans()):
            self.attempt("grant_green_pass", code, "重点项目", "boss", service=service)
        self.attempt(
            "issue_ticket",
            data.draw(st.just(service) | services) if service else data.draw(services),
            channel=Channel.GREEN,
            reference=code,
        )

    @rule(i=codes, service=services, days=st.integers(0, 1), data=st.data())
    def check_in(self, i, service, days, data):
        code = f"AP{i}"
        if code not in self.state.appointments or data.draw(st.booleans()):
            self.attempt(
                "book_appointment", code, service, self.state.day + dt.timedelta(days=days)
            )
        self.attempt(
            "issue_ticket",
            data.draw(st.just("") | services),
            channel=Channel.APPOINTMENT,
            reference=code,
        )

    @rule(service=services, close=st.integers(0, 3))
    def supervise(self, service, close):
        if close == 0:
            self.attempt("close_service", service, "系统维护")
        else:
            self.attempt("reopen_service", service)

    # --- windows --------------------------------------------------------------------------

    @rule(no=windows, who=st.integers(0, len(CLERKS) - 1))
    def sign_in(self, no, who):
        self.attempt("sign_in", no, CLERKS[who])

    @rule(no=windows, dice=st.integers(0, 2))
    def sign_out(self, no, dice):
        if not dice:
            self.attempt("sign_out", no)

    # --- ratings (好差评) ------------------------------------------------------------------

    @rule(no=windows, level=st.integers(0, 6), stale=st.booleans(), data=st.data())
    def citizen_rates(self, no, level, stale, data):
        """A keypad press: mostly for the open request, sometimes stale or out of range."""
        ticket = self.state.tickets.get(self.state.windows[no].rating_ticket or "")
        request_id = ticket.rating.request_id if ticket and ticket.rating else 1
        self.attempt("rate", no, request_id + (1 if stale else 0), level,
                     data.draw(st.none() | st.just("办事效率")))

    @rule(i=st.integers(0, 50), level=st.integers(0, 6),
          reason=st.sampled_from([None, "办事效率", "柜员玩手机"]))
    def citizen_rates_by_phone(self, i, level, reason):
        """The ticket's phone page: any ticket of the state, served or not, rated or not."""
        found = sorted(self.state.tickets)
        if found:
            self.attempt("rate_by_phone", found[i % len(found)], level, reason)

    @rule(no=windows)
    def ask_again(self, no):
        self.attempt("request_rating", no)

    @rule(no=windows, online=st.booleans())
    def keypad_reported(self, no, online):
        self.attempt("report_device", f"bus1/rating@{no}", "rating", no, "agent-1",
                     "online" if online else "offline")

    @rule(no=windows, why=st.sampled_from(["timeout", "replaced", "device restarted"]),
          back=st.integers(0, 2), data=st.data())
    def keypad_reports_an_end(self, no, why, back, data):
        """The keypad's agent: a request's window closed without a press (or a late press)."""
        asked = sorted((t.rating.requested_at, t.rating.request_id)
                       for t in self.state.tickets.values() if t.rating and t.rating.window == no)
        if not asked:
            return
        request_id = asked[max(0, len(asked) - 1 - back)][1]
        if data.draw(st.booleans()):
            self.attempt("rating_ended", no, request_id, why)
        else:
            self.attempt("close_late_press", no, request_id)

    @rule()
    def ratings_time_out(self):
        self.attempt("expire_ratings")

    @rule(no=windows, reason=st.sampled_from(["break", "meeting", ""]), dice=st.integers(0, 2))
    def pause(self, no, reason, dice):
        if not dice:
            self.attempt("pause", no, reason)

    @rule(no=windows)
    def resume(self, no):
        self.attempt("resume", no)

    # --- calling and serving --------------------------------------------------------------

    @rule(data=st.data())
    def call_next(self, data):
        self.attempt("call_next", self.staffed(data))

    @rule(
        data=st.data(),
        action=st.sampled_from(["finish", "skip", "recall", "transfer", "return", "keep"]),
    )
    def serve(self, data, action):
        """Call-next and deal with the ticket at once, the usual rhythm of a window."""
        no = self.staffed(data)
        if not self.attempt("call_next", no):
            return
        if action == "finish":
            self.attempt("finish", no, departments=["RS", "GA"], authority="省厅")
        elif action == "skip":
            self.attempt("skip", no)
        elif action == "recall":
            self.attempt("recall", no)
        elif action == "transfer":
            self.attempt(
                "transfer",
                no,
                service=data.draw(st.none() | services),
                to_window=data.draw(st.none() | windows),
            )
        elif action == "return":
            self.attempt("finish", no, kind=OutcomeKind.RETURNED, reason="材料不符")

    @rule(data=st.data(), i=st.integers(0, 50))
    def call_number(self, data, i):
        numbers = sorted(t.number for t in self.state.tickets.values() if t.day == self.state.day)
        self.attempt("call_number", self.staffed(data), self.pick(numbers, i, "Z999"))

    @rule(data=st.data())
    def recall(self, data):
        self.attempt("recall", self.busy(data))

    @rule(data=st.data())
    def skip(self, data):
        no = self.busy(data)
        current = self.state.windows[no].current
        if current is None or self.state.windows[no].clerk is None:
            self.attempt("skip", no)
            return
        ticket = self.state.tickets[current]
        peers = sorted(
            (t.rank, t.id)
            for t in queries.waiting(self.state)
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

    @rule(
        data=st.data(),
        service=st.none() | services,
        to_window=st.none() | windows,
        reason=st.sampled_from(["", "联办"]),
    )
    def transfer(self, data, service, to_window, reason):
        no = self.busy(data)
        if service and data.draw(rarely_not):  # mostly a window that serves the item
            at = [w.no for w in CFG.windows if service in w.services and w.no != no]
            to_window = data.draw(st.none() | st.sampled_from(at)) if at else None
        self.attempt("transfer", no, service=service, to_window=to_window, reason=reason)

    @rule(
        data=st.data(),
        kind=st.sampled_from([None, *OutcomeKind]),
        departments=st.lists(st.sampled_from(["SJ", "GA", "RS", "XX"]), max_size=3),
        authority=st.sampled_from([None, "", "省公安厅"]),
        reason=st.sampled_from([None, "", "申请人撤回"]),
    )
    def finish(self, data, kind, departments, authority, reason):
        self.attempt(
            "finish",
            self.busy(data),
            kind=kind,
            departments=departments,
            authority=authority,
            reason=reason,
        )

    @rule(data=st.data())
    def finish_default(self, data):
        no = self.busy(data)
        self.attempt("finish", no, departments=["RS", "SJ"], authority="省厅")

    @rule(i=st.integers(0, 50), approve=st.booleans())
    def decide_return(self, i, approve):
        pending = sorted(
            k for k, t in self.state.tickets.items() if t.status is TicketStatus.RETURN_PENDING
        )
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
    def pace_is_the_days_last_finished_cases(self):
        for code in SERVICES:
            spans, kept = finished_cases(self.state, code), self.state.pace.get(code, [])
            assert len(kept) == min(len(spans), PACE_SAMPLE), code
            if kept:  # the last ones; cases that ended at the same instant may go either way
                cut = spans[-len(kept)][0]
                newer = Counter(m for at, m in spans if at > cut)
                assert newer <= Counter(kept) <= newer + Counter(m for at, m in spans
                                                                 if at == cut), code

    @invariant()
    def nothing_lost(self):
        tickets = self.state.tickets
        assert set(tickets) == self.issued - self.purged
        assert {k: t.status for k, t in tickets.items()} == self.expected
        counts = Counter(t.status for t in tickets.values())
        assert set(counts) <= set(TicketStatus)
        assert sum(counts.values()) == len(tickets)
        waiting = [t for t in tickets.values() if t.status is TicketStatus.WAITING]
        assert queries.waiting_counts(self.state) == Counter(t.service for t in waiting)

    @invariant()
    def numbers_and_ranks_unique(self):
        today = [t for t in self.state.tickets.values() if t.day == self.state.day]
        assert len({t.number for t in today}) == len(today)
        ranks = [t.rank for t in queries.waiting(self.state)]
        assert len(set(ranks)) == len(ranks)
        for prefix, last in self.state.counters.items():
            assert f"{prefix}{last:03d}" in {n for d, n in self.numbers if d == self.state.day}

    @invariant()
    def queues_index_every_waiting_ticket_once(self):
        indexed = sorted(i for ids in self.state.queues.values() for i in ids)
        waiting = sorted(t.id for t in self.state.tickets.values()
                         if t.status is TicketStatus.WAITING)
        assert indexed == waiting
        for key, ids in self.state.queues.items():
            assert ids, f"empty queue {key} kept"
            assert all(queue_key(self.state.tickets[i]) == key for i in ids)
            order = [queue_order(self.state.tickets[i]) for i in ids]
            assert order == sorted(order), f"queue {key} out of order"

    @invariant()
    def one_rating_per_ticket_and_only_where_served(self):
        for t in self.state.tickets.values():
            if t.rating is None:
                continue
            served_at = {v.window for v in t.visits}
            assert t.rating.window in served_at, "rated at a window that did not serve it"
        for win in self.state.windows.values():
            if win.rating_ticket:
                pending = self.state.tickets[win.rating_ticket].rating
                assert pending is not None and pending.status is RatingStatus.PENDING

    @invariant()
    def person_index_is_today_s_identified_tickets(self):
        assert self.state.persons == self.by_person
        for ids in self.state.persons.values():
            assert all(self.state.tickets[i].identified for i in ids)

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
    max_examples=300,
    stateful_step_count=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestHall = HallMachine.TestCase


# --- fairness, densely: one window, random arrivals and calls -----------------------------


@settings(max_examples=200, deadline=None)
@given(
    ratio=st.integers(1, 4),
    ops=st.lists(
        st.sampled_from(["normal", "green", "appointment", "call", "call", "relief"]),
        min_size=1,
        max_size=60,
    ),
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
        elif op == "relief":  # another clerk takes over the window: the people waiting stay
            h.do("sign_in", 1, CLERKS[i % 2])
        else:
            found = all_candidates(h.cfg, h.state, 1)
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
