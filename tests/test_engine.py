"""The queue engine's rules, one test (or a few) per rule, on the small hall of engine_helpers."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import msgspec
import pytest

from hub.engine import (
    Channel,
    DomainError,
    HallState,
    OutcomeKind,
    QueueEngine,
    TicketStatus,
    apply,
    new_state,
)
from hub.engine.model import (
    ClerkSignedIn,
    ClerkSignedOut,
    DayRolled,
    ReturnRequested,
    TicketCalled,
    TicketFinished,
    WindowPaused,
    WindowResumed,
)
from tests.engine_helpers import (
    FAIRNESS,
    HOLIDAY,
    MAKEUP,
    NOW,
    RECALL_LIMIT,
    TODAY,
    TZ,
    Hall,
    clerk,
    encode,
    hall_config,
    replay,
    run,
)

UTC = dt.UTC


def at(hh: int, mm: int = 0, day: dt.date = TODAY, tz: ZoneInfo = TZ) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm), tz)


def refuse(h: Hall, code: str, method: str, *args, **kw) -> DomainError:
    """The command is refused with `code` and leaves the state exactly as it was."""
    before = encode(h.state)
    with pytest.raises(DomainError) as err:
        h.do(method, *args, **kw)
    assert err.value.code == code, err.value.message
    assert encode(h.state) == before
    return err.value


def serve(h: Hall, no: int) -> TicketCalled:
    """Call the next ticket at window `no` and finish it straight away."""
    called = h.call(no)
    h.do("finish", no, kind=OutcomeKind.IMMEDIATE)
    return called


def green(h: Hall, service: str, code: str, pass_service: str | None = None) -> str:
    """Grant a green pass (for `pass_service`, default the same item) and issue with it."""
    h.do("grant_green_pass", code, "重点项目", "supervisor", service=pass_service or service)
    return h.issue(service, channel=Channel.GREEN, reference=code).ticket_id


def numbers(h: Hall, no: int, count: int) -> list[str]:
    return [serve(h, no).number for _ in range(count)]


# --- the run helper ---------------------------------------------------------------------------


def test_run_decides_then_applies():
    cfg = hall_config()
    engine, state = QueueEngine(cfg), new_state(cfg, NOW)
    events = run(engine, state, "issue_ticket", NOW, "biz_reg")
    assert [e.number for e in events] == ["A001"]
    assert state.tickets["20261124-A001"].status is TicketStatus.WAITING


# --- issuing ------------------------------------------------------------------------------


def test_numbers_follow_the_prefix_daily_sequence():
    h = Hall()
    issued = [h.issue(s) for s in ("biz_reg", "biz_change", "id_card", "biz_reg", "id_card")]
    # biz_reg and biz_change share prefix A: one sequence; id_card (B) has its own
    assert [e.number for e in issued] == ["A001", "A002", "B001", "A003", "B002"]
    assert [e.service for e in issued] == ["biz_reg", "biz_change", "id_card", "biz_reg", "id_card"]
    assert issued[0].ticket_id == "20261124-A001"
    assert len({e.ticket_id for e in issued}) == 5
    ranks = [e.rank for e in issued]
    assert ranks == sorted(ranks) and len(set(ranks)) == 5
    t = h.ticket(issued[0].ticket_id)
    assert (t.status, t.channel, t.priority, t.day) == (
        TicketStatus.WAITING,
        Channel.NORMAL,
        False,
        TODAY,
    )


@pytest.mark.parametrize("hhmm", [(8, 59), (12, 0), (12, 30), (13, 29), (17, 0), (20, 0)])
def test_refused_outside_opening_hours_and_at_lunch(hhmm):
    h = Hall()
    refuse(h, "closed", "issue_ticket", "biz_reg", at=at(*hhmm))


@pytest.mark.parametrize("hhmm", [(9, 0), (11, 59), (13, 30), (16, 59)])
def test_open_within_the_periods(hhmm):
    h = Hall()
    assert h.issue("biz_reg", at=at(*hhmm)).number == "A001"


def test_refused_on_a_holiday_and_a_weekend():
    h = Hall(now=at(10, day=HOLIDAY))
    assert HOLIDAY.isoweekday() == 4  # a Thursday, closed all the same
    refuse(h, "closed", "issue_ticket", "biz_reg")
    sunday = dt.date(2026, 11, 29)
    refuse(Hall(now=at(10, day=sunday)), "closed", "issue_ticket", "biz_reg")


def test_open_on_a_make_up_workday():
    assert MAKEUP.isoweekday() == 6
    h = Hall(now=at(10, day=MAKEUP))
    assert h.issue("biz_reg").number == "A001"
    refuse(h, "closed", "issue_ticket", "biz_reg", at=at(12, 15, day=MAKEUP))


def test_daily_quota_counts_the_normal_channel_only():
    h = Hall()
    assert [h.issue("id_card").number for _ in range(3)] == ["B001", "B002", "B003"]
    err = refuse(h, "quota_exhausted", "issue_ticket", "id_card")
    assert "3" in err.message
    # green channel and appointments are not held to the quota, nor do they use it up
    green(h, "id_card", "G1")
    h.do("book_appointment", "AP1", "id_card", TODAY)
    h.issue("", channel=Channel.APPOINTMENT, reference="AP1")
    assert h.state.issued["id_card"] == 3
    refuse(h, "quota_exhausted", "issue_ticket", "id_card")
    # quota is per item: another item of the hall is unaffected
    assert h.issue("biz_reg").number == "A001"


def test_green_tickets_do_not_use_up_the_quota():
    h = Hall()
    green(h, "id_card", "G1")
    assert [h.issue("id_card").number for _ in range(3)] == ["B002", "B003", "B004"]


def test_unknown_service_is_refused():
    h = Hall()
    err = refuse(h, "unknown_service", "issue_ticket", "no_such_item")
    assert err.kind == "not_found"


def test_supervisor_closes_and_reopens_a_service():
    h = Hall()
    refuse(h, "invalid", "close_service", "biz_reg", "  ")
    refuse(h, "unknown_service", "close_service", "nope", "系统维护")
    h.do("close_service", "biz_reg", "系统维护")
    err = refuse(h, "service_closed", "issue_ticket", "biz_reg")
    assert "系统维护" in err.message
    assert h.issue("biz_change").number == "A001"  # other items still issue
    h.do("reopen_service", "biz_reg")
    assert h.issue("biz_reg").number == "A002"
    refuse(h, "not_closed", "reopen_service", "biz_reg")


def test_green_channel_needs_a_pass_granted_for_today():
    h = Hall()
    refuse(h, "code_required", "issue_ticket", "biz_reg", channel=Channel.GREEN)
    refuse(h, "bad_pass", "issue_ticket", "biz_reg", channel=Channel.GREEN, reference="NOPE")
    h.do("grant_green_pass", "G1", "重大项目", "boss", service="biz_reg")
    assert h.state.passes["G1"].day == TODAY
    e = h.issue("biz_reg", channel=Channel.GREEN, reference=" G1 ")
    assert (e.channel, e.priority, e.reference) == (Channel.GREEN, True, "G1")
    assert h.state.passes["G1"].used_by == e.ticket_id
    refuse(h, "pass_used", "issue_ticket", "biz_reg", channel=Channel.GREEN, reference="G1")


def test_green_pass_is_for_its_service_only():
    h = Hall()
    h.do("grant_green_pass", "G1", "重大项目", "boss", service="biz_reg")
    refuse(h, "wrong_service", "issue_ticket", "id_card", channel=Channel.GREEN, reference="G1")
    # a pass without an item fits any item
    h.do("grant_green_pass", "G2", "重大项目", "boss")
    assert h.issue("id_card", channel=Channel.GREEN, reference="G2").priority


def test_granting_a_green_pass_is_validated():
    h = Hall()
    refuse(h, "invalid", "grant_green_pass", " ", "项目", "boss")
    refuse(h, "invalid", "grant_green_pass", "G1", " ", "boss")
    refuse(h, "unknown_service", "grant_green_pass", "G1", "项目", "boss", service="nope")
    h.do("grant_green_pass", "G1", "项目", "boss")
    refuse(h, "duplicate", "grant_green_pass", "G1", "项目", "boss")


def test_green_channel_can_be_disabled():
    h = Hall(hall_config(green_channel={"enabled": False}))
    h.do("grant_green_pass", "G1", "项目", "boss")
    refuse(h, "green_disabled", "issue_ticket", "biz_reg", channel=Channel.GREEN, reference="G1")


def test_appointment_check_in_takes_the_service_from_the_appointment():
    h = Hall()
    h.do("book_appointment", "AP1", "id_card", TODAY)
    e = h.issue("", channel=Channel.APPOINTMENT, reference="AP1")
    assert (e.service, e.number, e.priority) == ("id_card", "B001", True)
    assert e.channel is Channel.APPOINTMENT
    assert h.state.appointments["AP1"].used_by == e.ticket_id
    refuse(h, "appointment_used", "issue_ticket", "", channel=Channel.APPOINTMENT, reference="AP1")
    refuse(
        h,
        "appointment_used",
        "issue_ticket",
        "id_card",
        channel=Channel.APPOINTMENT,
        reference="AP1",
    )


def test_appointment_is_valid_today_only():
    h = Hall()
    tomorrow = TODAY + dt.timedelta(days=1)
    h.do("book_appointment", "AP2", "biz_reg", tomorrow)
    refuse(h, "bad_appointment", "issue_ticket", "", channel=Channel.APPOINTMENT, reference="AP2")
    refuse(
        h,
        "bad_appointment",
        "issue_ticket",
        "biz_reg",
        channel=Channel.APPOINTMENT,
        reference="NOPE",
    )
    # tomorrow it is valid
    h.now = at(9, 30, day=tomorrow)
    h.do("rollover")
    assert h.issue("", channel=Channel.APPOINTMENT, reference="AP2").number == "A001"


def test_appointment_for_another_service_is_refused():
    h = Hall()
    h.do("book_appointment", "AP1", "id_card", TODAY)
    refuse(
        h, "wrong_service", "issue_ticket", "biz_reg", channel=Channel.APPOINTMENT, reference="AP1"
    )
    assert h.issue("id_card", channel=Channel.APPOINTMENT, reference="AP1").service == "id_card"


def test_booking_is_validated():
    h = Hall()
    refuse(h, "invalid", "book_appointment", " ", "biz_reg", TODAY)
    refuse(h, "unknown_service", "book_appointment", "AP1", "nope", TODAY)
    refuse(h, "invalid", "book_appointment", "AP1", "biz_reg", TODAY - dt.timedelta(days=1))
    h.do("book_appointment", "AP1", "biz_reg", TODAY)
    refuse(h, "duplicate", "book_appointment", "AP1", "biz_reg", TODAY)


def test_appointment_priority_is_configurable():
    h = Hall(hall_config(queue={"appointment_priority": False}))
    h.do("book_appointment", "AP1", "biz_reg", TODAY)
    assert not h.issue("", channel=Channel.APPOINTMENT, reference="AP1").priority


# --- calling: priority and fairness -----------------------------------------------------------


def test_priority_tickets_are_called_first():
    h = Hall()
    h.staff(1)
    h.issue("biz_reg")  # A001, normal, issued first
    gid = green(h, "biz_reg", "G1")  # A002, green
    called = h.call(1)
    assert called.ticket_id == gid and not called.fairness


def test_fairness_ratio_lets_a_normal_ticket_through():
    h = Hall()
    h.staff(1)
    n1, n2 = h.issue("biz_reg").number, h.issue("biz_reg").number
    ps = [h.ticket(green(h, "biz_reg", f"G{i}")).number for i in range(5)]
    calls = [serve(h, 1) for _ in range(7)]
    assert FAIRNESS == 2
    assert [c.number for c in calls] == [ps[0], ps[1], n1, ps[2], ps[3], n2, ps[4]]
    assert [c.fairness for c in calls] == [False, False, True, False, False, True, False]


def test_fairness_never_more_than_ratio_priority_calls_in_a_row_while_normal_waits():
    for ratio in (1, 2, 3):
        h = Hall(hall_config(queue={"fairness_ratio": ratio}))
        h.staff(1)
        normal = {h.issue("biz_reg").ticket_id for _ in range(4)}
        for i in range(12):
            green(h, "biz_reg", f"G{i}")
        run_length = 0
        for _ in range(16):
            c = serve(h, 1)
            waiting_normal = any(t.status is TicketStatus.WAITING for t in map(h.ticket, normal))
            if c.ticket_id in normal:
                run_length = 0
            else:
                run_length += 1
                assert run_length <= ratio or not waiting_normal


def test_priority_streak_counts_without_a_normal_ticket_waiting():
    """Priority calls made while nobody normal waited still count: the next normal goes first."""
    h = Hall()
    h.staff(1)
    for i in range(2):
        green(h, "biz_reg", f"G{i}")
    numbers(h, 1, 2)
    n = h.issue("biz_reg").ticket_id
    green(h, "biz_reg", "G9")
    c = h.call(1)
    assert c.ticket_id == n and c.fairness


def test_fairness_streak_is_per_window_and_survives_a_change_of_clerk():
    h = Hall()
    h.staff(1, 2)
    n = h.issue("biz_reg").ticket_id
    for i in range(4):
        green(h, "biz_reg", f"G{i}")
    assert h.ticket(serve(h, 1).ticket_id).priority
    serve(h, 1)
    # window 2 has its own streak: the priority ticket still goes first there
    assert h.ticket(serve(h, 2).ticket_id).priority
    # a new clerk at window 1 does not reset its run: the normal ticket is due
    h.do("sign_in", 1, clerk("relief"))
    c = h.call(1)
    assert c.ticket_id == n and c.fairness


# --- calling: order, refusals, by number ------------------------------------------------------


def test_call_next_follows_the_windows_service_order():
    h = Hall()
    h.staff(1, 2)
    change = h.issue("biz_change").ticket_id  # A001
    reg1 = h.issue("biz_reg").ticket_id  # A002
    reg2 = h.issue("biz_reg").ticket_id  # A003
    # window 1 calls biz_reg before biz_change, rank order within biz_reg
    assert serve(h, 1).ticket_id == reg1
    # window 2 calls biz_change first
    assert serve(h, 2).ticket_id == change
    assert serve(h, 2).ticket_id == reg2


def test_priority_goes_before_the_service_order():
    """Priority first: a green ticket of the window's last item before a normal one of its first."""
    h = Hall()
    h.staff(1)
    reg = h.issue("biz_reg").ticket_id
    gid = green(h, "biz_change", "G1")
    assert serve(h, 1).ticket_id == gid
    assert serve(h, 1).ticket_id == reg


def test_a_backup_calls_its_own_items_first():
    """Window 1 backs up 5 (no clerk): its own biz_reg first, then 5's social, by rank."""
    h = Hall()
    h.staff(1)
    social = h.issue("social").ticket_id
    reg = h.issue("biz_reg").ticket_id
    assert serve(h, 1).ticket_id == reg
    c = h.call(1)
    assert (c.ticket_id, c.covering) == (social, 5)


def test_call_next_refusals():
    h = Hall()
    refuse(h, "no_clerk", "call_next", 1)
    refuse(h, "unknown_window", "call_next", 99)
    h.staff(1)
    refuse(h, "queue_empty", "call_next", 1)
    h.issue("id_card")  # window 3's item; window 1 backs up 2 and 5, not 3
    refuse(h, "queue_empty", "call_next", 1)
    h.issue("biz_reg")
    h.issue("biz_reg")
    h.do("pause", 1, "break")
    refuse(h, "window_paused", "call_next", 1)
    h.do("resume", 1)
    h.call(1)
    refuse(h, "ticket_in_service", "call_next", 1)


def test_call_number_calls_out_of_order():
    h = Hall()
    h.staff(1, 3)
    h.issue("biz_reg")
    h.issue("biz_reg")
    c = h.one("call_number", 1, " a002 ")
    assert c.number == "A002" and h.by_number("A002").status is TicketStatus.CALLED
    assert h.state.windows[1].current == c.ticket_id


def test_call_number_refusals():
    h = Hall()
    h.staff(1, 2, 3)
    h.issue("biz_reg")  # A001
    h.issue("id_card")  # B001
    h.issue("biz_reg")  # A002
    refuse(h, "no_ticket", "call_number", 1, "A999")
    refuse(h, "not_served_here", "call_number", 1, "B001")
    h.one("call_number", 1, "A001")
    refuse(h, "ticket_in_service", "call_number", 1, "A002")
    refuse(h, "not_waiting", "call_number", 2, "A001")  # at window 1
    h.do("finish", 1)
    refuse(h, "not_waiting", "call_number", 2, "A001")  # done
    refuse(h, "no_clerk", "call_number", 5, "A002")


# --- recall ---------------------------------------------------------------------------------


def test_recall_up_to_the_limit():
    h = Hall()
    h.staff(1)
    refuse(h, "no_current", "recall", 1)
    h.issue("biz_reg")
    h.call(1)
    got = [h.one("recall", 1).recalls for _ in range(RECALL_LIMIT)]
    assert got == list(range(1, RECALL_LIMIT + 1))
    refuse(h, "recall_limit", "recall", 1)
    assert h.state.recent_calls[0].recall == RECALL_LIMIT


# --- no-show --------------------------------------------------------------------------------


def _call_then_finish_previous(h: Hall, no: int) -> str:
    if h.state.windows[no].current:
        h.do("finish", no, kind=OutcomeKind.IMMEDIATE)
    return h.call(no).ticket_id


def test_no_show_requeues_behind_k_waiting_tickets_then_drops():
    h = Hall()
    h.staff(1)
    x = h.issue("biz_reg").ticket_id
    others = [h.issue("biz_reg").ticket_id for _ in range(4)]
    h.issue("biz_change")  # another item: it does not count
    assert h.call(1).ticket_id == x
    skip = h.one("skip", 1)
    assert skip.requeued and skip.rank is not None
    t = h.ticket(x)
    assert (t.status, t.requeued, t.window) == (TicketStatus.WAITING, True, None)
    assert h.state.windows[1].current is None
    assert t.visits[-1].end == "no_show"
    # exactly the K = 2 tickets waiting before it go first, then it, then the rest
    order = [_call_then_finish_previous(h, 1) for _ in range(3)]
    assert order[:2] == others[:2]
    assert order[2] == x
    # second no-show: dropped
    skip = h.one("skip", 1)
    assert not skip.requeued and skip.rank is None
    assert h.ticket(x).status is TicketStatus.NO_SHOW
    assert h.ticket(x).finished_at == NOW
    assert h.state.windows[1].current is None
    assert serve(h, 1).ticket_id == others[2]


def test_no_show_with_fewer_than_k_waiting_goes_to_the_end():
    h = Hall()
    h.staff(1)
    x = h.issue("biz_reg").ticket_id
    w1 = h.issue("biz_reg").ticket_id
    h.call(1)
    h.do("skip", 1)
    later = h.issue("biz_reg").ticket_id  # issued after the no-show: behind it
    order = [_call_then_finish_previous(h, 1) for _ in range(3)]
    assert order == [w1, x, later]


def test_no_show_requeue_behind_zero_keeps_its_place():
    h = Hall(hall_config(queue={"no_show_requeue_behind": 0}))
    h.staff(1)
    x = h.issue("biz_reg").ticket_id
    h.issue("biz_reg")
    h.call(1)
    h.do("skip", 1)
    assert h.call(1).ticket_id == x


# --- transfer -------------------------------------------------------------------------------


def test_transfer_to_another_service_keeps_id_number_and_history():
    h = Hall()
    h.staff(1, 5)
    x = h.issue("biz_reg").ticket_id
    h.call(1)
    ev = h.one("transfer", 1, service="social", reason=" 需人社会办 ")
    assert (ev.to_service, ev.to_window, ev.reason) == ("social", None, "需人社会办")
    t = h.ticket(x)
    assert (t.id, t.number, t.service, t.status) == (x, "A001", "social", TicketStatus.WAITING)
    assert h.state.windows[1].current is None
    assert t.visits[0].end == "transferred" and t.visits[0].note == "需人社会办"
    refuse(h, "queue_empty", "call_next", 1)
    c = h.call(5)
    assert c.ticket_id == x and c.number == "A001"
    assert [(v.window, v.service) for v in h.ticket(x).visits] == [(1, "biz_reg"), (5, "social")]


def test_transfer_to_a_window_is_called_there_first():
    h = Hall()
    h.staff(1, 2)
    first = h.issue("biz_change").ticket_id  # A001: window 2's first item, issued earlier
    h.issue("biz_change")  # A002
    x = h.issue("biz_reg").ticket_id  # A003
    assert h.call(1).ticket_id == x
    ev = h.one("transfer", 1, to_window=2)
    assert (ev.to_service, ev.to_window) == ("biz_reg", 2)
    t = h.ticket(x)
    assert (t.target_window, t.service, t.number) == (2, "biz_reg", "A003")
    refuse(h, "not_served_here", "call_number", 1, "A003")
    assert h.call(1).ticket_id == first  # window 1 no longer takes it
    # window 2 calls it before A002, of its first item and issued earlier
    c = h.call(2)
    assert c.ticket_id == x and c.covering is None
    assert [v.window for v in h.ticket(x).visits] == [1, 2]


def test_transfer_to_a_window_and_service():
    h = Hall()
    h.staff(3, 4)
    x = h.issue("id_card").ticket_id
    h.call(3)
    h.do("transfer", 3, service="permit", to_window=4)
    assert h.call(4).ticket_id == x
    assert h.ticket(x).service == "permit"


def test_transfer_validation():
    h = Hall()
    h.staff(1)
    refuse(h, "no_current", "transfer", 1, service="social")
    h.issue("biz_reg")
    h.call(1)
    refuse(h, "invalid", "transfer", 1)
    refuse(h, "invalid", "transfer", 1, service="biz_reg")  # its current item
    refuse(h, "unknown_service", "transfer", 1, service="nope")
    refuse(h, "unknown_window", "transfer", 1, to_window=42)
    refuse(h, "invalid", "transfer", 1, to_window=1)
    refuse(h, "not_served_here", "transfer", 1, to_window=3)
    refuse(h, "not_served_here", "transfer", 1, service="permit", to_window=5)


def test_a_transferred_ticket_may_be_skipped_again_once():
    """Transfer starts a new stay: a ticket requeued earlier gets one requeue at its new place."""
    h = Hall()
    h.staff(1, 5)
    x = h.issue("biz_reg").ticket_id
    h.call(1)
    h.do("skip", 1)
    h.call(1)
    h.do("transfer", 1, service="social")
    assert not h.ticket(x).requeued
    h.call(5)
    assert h.one("skip", 5).requeued


# --- pause / resume -------------------------------------------------------------------------


def test_pause_and_resume_accounts_the_time():
    h = Hall()
    refuse(h, "no_clerk", "pause", 1, "break")
    h.staff(1)
    refuse(h, "invalid", "pause", 1, "  ")
    refuse(h, "not_paused", "resume", 1)
    ev = h.one("pause", 1, " break ")
    assert isinstance(ev, WindowPaused) and ev.reason == "break"
    assert h.state.windows[1].pause.since == NOW
    refuse(h, "already_paused", "pause", 1, "meeting")
    later = NOW + dt.timedelta(minutes=15, seconds=30)
    ev = h.one("resume", 1, at=later)
    assert isinstance(ev, WindowResumed)
    assert (ev.reason, ev.paused_s) == ("break", 930.0)
    assert h.state.windows[1].pause is None


def test_pause_is_refused_while_serving():
    h = Hall()
    h.staff(1)
    h.issue("biz_reg")
    h.call(1)
    refuse(h, "ticket_in_service", "pause", 1, "break")


def test_sign_out_while_paused_resumes_first():
    h = Hall()
    h.staff(1)
    h.do("pause", 1, "meeting")
    events = h.do("sign_out", 1, at=NOW + dt.timedelta(minutes=5))
    assert [type(e) for e in events] == [WindowResumed, ClerkSignedOut]
    assert events[0].paused_s == 300.0 and events[0].reason == "meeting"
    assert events[1].reason == "signed_out"
    assert h.state.windows[1].clerk is None and h.state.windows[1].pause is None


# --- finishing ------------------------------------------------------------------------------


def _at_window(h: Hall, service: str, no: int) -> str:
    h.staff(no)
    tid = h.issue(service).ticket_id
    assert h.call(no).ticket_id == tid
    return tid


def test_finish_immediate_by_default_for_an_immediate_item():
    h = Hall()
    x = _at_window(h, "biz_change", 1)
    ev = h.first("finish", 1)
    assert isinstance(ev, TicketFinished)
    assert ev.outcome.kind is OutcomeKind.IMMEDIATE and ev.outcome.slip is None
    t = h.ticket(x)
    assert (t.status, t.finished_at, t.window) == (TicketStatus.DONE, NOW, None)
    assert t.visits[-1].end == "finished"
    assert h.state.windows[1].current is None
    refuse(h, "no_current", "finish", 1)


def test_finish_commitment_gets_a_slip_and_a_promised_date():
    h = Hall()
    _at_window(h, "biz_reg", 1)
    out = h.first("finish", 1).outcome
    assert out.kind is OutcomeKind.COMMITMENT
    assert out.slip == "CN202611240001"
    # 5 working days from Tue 24: Wed 25, (Thu 26 holiday), Fri 27, Sat 28 (make-up),
    # (Sun 29), Mon 30, Tue 1 Dec
    assert out.promised_date == dt.date(2026, 12, 1)
    assert out.promised_date == h.cfg.add_workdays(TODAY, 5)
    assert out.items == ["biz_reg事项"]
    h.issue("biz_reg")
    h.call(1)
    out = h.first("finish", 1, items=["设立登记", " ", "章程备案"]).outcome
    assert out.slip == "CN202611240002"
    assert out.items == ["设立登记", "章程备案"]


def test_promised_date_skips_weekends():
    h = Hall(now=at(10, day=dt.date(2026, 11, 20)))  # a Friday
    _at_window(h, "biz_reg", 1)
    out = h.first("finish", 1).outcome
    # Mon 23, Tue 24, Wed 25, Fri 27, Sat 28 (make-up)
    assert out.promised_date == dt.date(2026, 11, 28)
    assert out.slip == "CN202611200001"


def test_finish_with_an_outcome_other_than_the_case_type():
    h = Hall()
    _at_window(h, "biz_change", 1)
    out = h.first("finish", 1, kind=OutcomeKind.COMMITMENT).outcome
    assert out.kind is OutcomeKind.COMMITMENT and out.slip == "CN202611240001"
    assert out.promised_date == dt.date(2026, 11, 25)  # at least one working day
    h.issue("biz_reg")
    h.call(1)
    assert h.first("finish", 1, kind=OutcomeKind.IMMEDIATE).outcome.slip is None


def test_finish_joint_needs_two_existing_departments():
    h = Hall()
    _at_window(h, "social", 5)
    refuse(h, "invalid", "finish", 5)
    refuse(h, "invalid", "finish", 5, departments=["RS"])
    refuse(h, "invalid", "finish", 5, departments=["RS", "RS"])
    refuse(h, "invalid", "finish", 5, departments=["RS", "XX"])
    out = h.first("finish", 5, departments=["RS", "SJ", "RS"]).outcome
    assert out.kind is OutcomeKind.JOINT and out.departments == ["RS", "SJ"]
    assert out.slip == "CN202611240001"
    assert out.promised_date == h.cfg.add_workdays(TODAY, 10)


def test_finish_report_needs_the_authority():
    h = Hall()
    _at_window(h, "permit", 4)
    refuse(h, "invalid", "finish", 4)
    refuse(h, "invalid", "finish", 4, authority="  ")
    out = h.first("finish", 4, authority=" 省公安厅 ").outcome
    assert (out.kind, out.authority, out.reported_on) == (OutcomeKind.REPORT, "省公安厅", TODAY)
    h.issue("permit")
    h.call(4)
    out = h.first("finish", 4, authority="公安部", reported_on=dt.date(2026, 11, 23)).outcome
    assert out.reported_on == dt.date(2026, 11, 23)


def test_return_needs_a_reason_and_frees_the_window():
    h = Hall()
    x = _at_window(h, "biz_reg", 1)
    refuse(h, "invalid", "finish", 1, kind=OutcomeKind.RETURNED)
    refuse(h, "invalid", "finish", 1, kind=OutcomeKind.RETURNED, reason=" ")
    ev = h.first("finish", 1, kind=OutcomeKind.RETURNED, reason=" 申请人撤回 ")
    assert isinstance(ev, ReturnRequested) and ev.reason == "申请人撤回"
    t = h.ticket(x)
    assert t.status is TicketStatus.RETURN_PENDING and t.window is None
    assert t.outcome.kind is OutcomeKind.RETURNED and t.outcome.reason == "申请人撤回"
    assert t.visits[-1].end == "return_requested"
    assert h.state.windows[1].current is None
    h.issue("biz_reg")
    h.call(1)  # the window serves on meanwhile


def test_return_approved_is_done():
    h = Hall()
    x = _at_window(h, "biz_reg", 1)
    h.do("finish", 1, kind=OutcomeKind.RETURNED, reason="材料不实")
    later = NOW + dt.timedelta(minutes=20)
    ev = h.one("decide_return", x, approve=True, supervisor="boss", note=" ok ", at=later)
    assert ev.approved and ev.requeued_to is None and ev.note == "ok"
    t = h.ticket(x)
    assert (t.status, t.finished_at) == (TicketStatus.DONE, later)
    assert t.outcome.approved_by == "boss" and t.outcome.kind is OutcomeKind.RETURNED
    refuse(h, "not_pending", "decide_return", x, approve=False, supervisor="boss")
    refuse(h, "no_ticket", "decide_return", "nope", approve=True, supervisor="boss")


def test_return_refused_goes_back_to_its_window_first():
    h = Hall()
    h.staff(1, 2)
    x = h.issue("biz_change").ticket_id  # A001: second item at window 1
    h.one("call_number", 1, "A001")
    h.do("finish", 1, kind=OutcomeKind.RETURNED, reason="申请人撤回")
    refuse(
        h,
        "not_pending",
        "decide_return",
        h.issue("biz_reg").ticket_id,
        approve=True,
        supervisor="boss",
    )
    ev = h.one("decide_return", x, approve=False, supervisor="boss", note="材料可补正")
    assert not ev.approved and ev.requeued_to == 1
    t = h.ticket(x)
    assert (t.status, t.target_window, t.outcome) == (TicketStatus.WAITING, 1, None)
    # window 2 (whose first item is biz_change) does not get it
    assert h.call(2).ticket_id != x
    # window 1 calls it before its first item (biz_reg) ...
    h.issue("biz_reg")
    c = h.call(1)
    assert c.ticket_id == x and c.covering is None
    refuse(h, "not_pending", "decide_return", x, approve=True, supervisor="boss")


# --- AB posts (同岗替代) ---------------------------------------------------------------------


def test_backup_serves_an_unstaffed_window():
    h = Hall()
    h.staff(3)
    d = h.issue("permit").ticket_id  # window 4's item; window 4 has no clerk
    b = h.issue("id_card").ticket_id
    # own items first, then the covered window's
    c1 = serve(h, 3)
    assert c1.ticket_id == b and c1.covering is None
    c2 = h.call(3)
    assert (c2.ticket_id, c2.covering, c2.service) == (d, 4, "permit")


def test_backup_does_not_serve_a_staffed_open_window():
    h = Hall()
    h.staff(3, 4)
    h.issue("permit")
    refuse(h, "queue_empty", "call_next", 3)
    refuse(h, "not_served_here", "call_number", 3, "D001")
    # paused: the backup takes over
    h.do("pause", 4, "meeting")
    c = h.call(3)
    assert c.number == "D001" and c.covering == 4


def test_backup_by_number_while_away():
    h = Hall()
    h.staff(3)
    h.issue("permit")
    c = h.one("call_number", 3, "D001")
    assert c.covering == 4


def test_backup_serves_tickets_transferred_to_the_away_window():
    h = Hall()
    h.staff(1, 2)
    x = h.issue("biz_reg").ticket_id
    h.call(1)
    h.do("transfer", 1, to_window=2)
    h.do("sign_out", 2)
    # window 2 is away; window 1 backs it up and takes its targeted ticket, covering 2
    c = h.call(1)
    assert (c.ticket_id, c.covering) == (x, 2)


def test_backup_is_not_symmetric():
    """Window 3 backs up 4 and 4 backs up 3, but a staffed 3 does not lose its items."""
    h = Hall()
    h.staff(3, 4)
    h.issue("id_card")
    refuse(h, "queue_empty", "call_next", 4)
    h.do("sign_out", 3)
    assert h.call(4).covering == 3


# --- sign-in --------------------------------------------------------------------------------


def test_signing_in_elsewhere_signs_out_of_the_first_window():
    h = Hall()
    zhang = clerk("zhang")
    h.do("sign_in", 1, zhang)
    events = h.do("sign_in", 2, zhang)
    assert [type(e) for e in events] == [ClerkSignedOut, ClerkSignedIn]
    assert (events[0].window_no, events[0].username, events[0].reason) == (
        1,
        "zhang",
        "signed_in_elsewhere",
    )
    assert h.state.windows[1].clerk is None
    assert h.state.windows[2].clerk == zhang
    assert h.do("sign_in", 2, zhang) == []  # already there


def test_another_clerk_replaces_the_one_signed_in():
    h = Hall()
    h.do("sign_in", 1, clerk("zhang"))
    h.do("pause", 1, "break")
    events = h.do("sign_in", 1, clerk("li"))
    assert [type(e) for e in events] == [WindowResumed, ClerkSignedOut, ClerkSignedIn]
    assert (events[1].username, events[1].reason) == ("zhang", "replaced")
    assert h.state.windows[1].clerk.username == "li" and h.state.windows[1].pause is None


def test_sign_out_refused_while_a_ticket_is_current():
    h = Hall()
    refuse(h, "unknown_window", "sign_in", 9, clerk("zhang"))
    assert h.do("sign_out", 1) == []  # nobody there
    h.staff(1)
    h.issue("biz_reg")
    h.call(1)
    refuse(h, "ticket_in_service", "sign_out", 1)
    h.do("finish", 1)
    assert h.one("sign_out", 1).reason == "signed_out"


def test_signing_in_elsewhere_refused_while_a_ticket_is_current():
    """Like sign_out: the clerk cannot walk away from a called ticket by signing in elsewhere."""
    h = Hall()
    zhang = clerk("zhang")
    h.do("sign_in", 1, zhang)
    h.issue("biz_reg")
    h.call(1)
    refuse(h, "ticket_in_service", "sign_in", 2, zhang)


def test_a_replacing_clerk_takes_over_the_current_ticket():
    h = Hall()
    h.do("sign_in", 1, clerk("zhang"))
    x = h.issue("biz_reg").ticket_id
    h.call(1)
    h.do("sign_in", 1, clerk("li"))
    assert h.state.windows[1].current == x
    assert h.first("finish", 1).clerk == "li"


# --- day rollover ---------------------------------------------------------------------------


def test_rollover_at_local_midnight():
    h = Hall()
    # 15:59:59 UTC is 23:59:59 in Shanghai: still the same day
    assert h.do("rollover", at=dt.datetime(2026, 11, 24, 15, 59, 59, tzinfo=UTC)) == []
    midnight = dt.datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    ev = h.one("rollover", at=midnight)
    assert isinstance(ev, DayRolled) and ev.day == dt.date(2026, 11, 25)
    assert h.state.day == dt.date(2026, 11, 25)
    assert h.do("rollover", at=midnight + dt.timedelta(hours=3)) == []


def test_rollover_expires_open_tickets_and_restarts_numbering():
    h = Hall()
    h.staff(1, 2)
    waiting = h.issue("biz_reg").ticket_id  # A001
    called = h.issue("biz_reg").ticket_id  # A002
    done = h.issue("biz_reg").ticket_id  # A003
    pending = h.issue("biz_change").ticket_id  # A004
    h.one("call_number", 2, "A004")
    h.do("finish", 2, kind=OutcomeKind.RETURNED, reason="申请人撤回")
    h.one("call_number", 1, "A003")
    h.do("finish", 1)
    h.one("call_number", 1, "A002")
    h.do("grant_green_pass", "G1", "项目", "boss")
    tomorrow = dt.date(2026, 11, 25)
    h.do("book_appointment", "AP-old", "biz_reg", TODAY)
    h.do("book_appointment", "AP-new", "biz_reg", tomorrow)
    refuse(h, "day_not_rolled", "issue_ticket", "biz_reg", at=at(9, 0, day=tomorrow))
    refuse(h, "day_not_rolled", "call_next", 2, at=at(9, 0, day=tomorrow))

    events = h.do("rollover", at=at(0, 0, day=tomorrow))
    ev = events[-1]
    # clerks are signed out at the day's end: they sign in again in the morning
    outs = [e for e in events if isinstance(e, ClerkSignedOut)]
    assert [(e.window_no, e.reason) for e in outs] == [(1, "day_end"), (2, "day_end")]
    # ratings still open (A003 finished at 1, A004 returned at 2) end as "not rated"
    assert sorted(
        (type(e).__name__, e.ticket_id)
        for e in events
        if not isinstance(e, ClerkSignedOut | DayRolled)
    ) == [("RatingExpired", done), ("RatingExpired", pending)]
    assert sorted(ev.expired) == sorted([waiting, called])
    assert done not in ev.expired and pending not in ev.expired
    # only the 退件 awaiting a supervisor survives the day
    assert list(h.state.tickets) == [pending]
    assert h.state.tickets[pending].status is TicketStatus.RETURN_PENDING
    assert h.state.windows[1].current is None and h.state.windows[1].clerk is None
    assert h.state.counters == {} and h.state.issued == {} and h.state.recent_calls == []
    assert list(h.state.passes) == [] and list(h.state.appointments) == ["AP-new"]

    h.now = at(9, 0, day=tomorrow)
    e = h.issue("biz_reg")
    assert (e.number, e.ticket_id) == ("A001", "20261125-A001")
    h.staff(1)
    h.call(1)
    assert h.first("finish", 1).outcome.slip == "CN202611250001"
    # a green pass of yesterday is gone
    refuse(h, "bad_pass", "issue_ticket", "biz_reg", channel=Channel.GREEN, reference="G1")
    # yesterday's 退件 refused today cannot go back to a queue of yesterday
    ev = h.one("decide_return", pending, approve=False, supervisor="boss")
    assert ev.requeued_to is None
    assert h.state.tickets[pending].status is TicketStatus.RETURN_REFUSED


def test_a_pause_open_at_midnight_is_counted_to_midnight_only():
    h = Hall()
    h.staff(1)
    h.do("pause", 1, "暂离", at=at(16, 30))
    events = h.do("rollover", at=at(0, 5, day=dt.date(2026, 11, 25)))
    resumed = events[0]
    assert isinstance(resumed, WindowResumed)
    assert resumed.paused_s == 7.5 * 3600
    assert h.state.windows[1].pause is None and h.state.windows[1].clerk is None


def test_yesterdays_return_can_still_be_approved():
    h = Hall()
    x = _at_window(h, "biz_reg", 1)
    h.do("finish", 1, kind=OutcomeKind.RETURNED, reason="申请人撤回")
    h.now = at(9, 0, day=dt.date(2026, 11, 25))
    h.do("rollover")
    h.do("decide_return", x, approve=True, supervisor="boss")
    assert h.state.tickets[x].status is TicketStatus.DONE
    # today's A001 does not clash with yesterday's pending A001
    assert h.issue("biz_reg").ticket_id == "20261125-A001"


def test_rollover_follows_the_configured_time_zone():
    berlin = ZoneInfo("Europe/Berlin")
    h = Hall(
        hall_config(center={"name": "Testhalle", "timezone": "Europe/Berlin"}),
        now=at(10, tz=berlin),
    )
    shanghai = Hall()
    at_16_utc = dt.datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    assert shanghai.do("rollover", at=at_16_utc) != []
    assert h.do("rollover", at=at_16_utc) == []  # 17:00 in Berlin
    # opening hours are local too: 15:30 UTC is 16:30 in Berlin (and 23:30 in Shanghai)
    assert h.issue("biz_reg", at=dt.datetime(2026, 11, 24, 15, 30, tzinfo=UTC)).number == "A001"
    assert h.do("rollover", at=dt.datetime(2026, 11, 24, 22, 59, tzinfo=UTC)) == []
    ev = h.one("rollover", at=dt.datetime(2026, 11, 24, 23, 0, tzinfo=UTC))
    assert ev.day == dt.date(2026, 11, 25)


def test_naive_datetimes_are_rejected():
    h = Hall()
    with pytest.raises(ValueError):
        h.do("issue_ticket", "biz_reg", at=dt.datetime(2026, 11, 24, 10, 0))


# --- replay and snapshots -------------------------------------------------------------------


def _busy_day() -> Hall:
    h = Hall()
    h.staff(1, 2, 3, 5)
    h.do("grant_green_pass", "G1", "项目", "boss", service="biz_reg")
    h.do("book_appointment", "AP1", "id_card", TODAY)
    h.do("book_appointment", "AP2", "biz_reg", dt.date(2026, 11, 25))
    for s in ("biz_reg", "biz_change", "id_card", "social", "permit", "biz_reg", "biz_reg"):
        h.issue(s)
    h.issue("biz_reg", channel=Channel.GREEN, reference="G1")
    h.issue("", channel=Channel.APPOINTMENT, reference="AP1")
    h.now = at(10, 5)
    serve(h, 1)
    h.call(1)
    h.do("recall", 1)
    h.do("skip", 1)
    h.call(2)
    h.do("transfer", 2, service="social", reason="会办")
    h.call(3)
    h.do("finish", 3)
    h.call(5)
    h.do("finish", 5, departments=["RS", "SJ"])
    h.call(1)
    h.do("finish", 1, kind=OutcomeKind.RETURNED, reason="撤回")
    h.call(1)
    h.do("finish", 1)
    h.do("pause", 2, "meeting")
    h.now = at(10, 30)
    h.call(3)  # covers window 4: permit
    h.do("finish", 3, authority="省厅")
    h.do("resume", 2)
    h.do("close_service", "biz_change", "系统维护")
    h.do("sign_in", 2, clerk("c1"))  # c1 moves from window 1 to window 2
    h.call(2)
    h.now = at(0, 0, day=dt.date(2026, 11, 25))
    h.do("rollover")
    h.now = at(9, 0, day=dt.date(2026, 11, 25))
    h.issue("biz_reg")
    return h


def test_replay_rebuilds_the_same_state():
    h = _busy_day()
    assert len(h.events) > 40
    rebuilt = replay(h.cfg, h.start, h.events)
    assert encode(rebuilt) == encode(h.state)


def test_state_survives_a_json_round_trip():
    h = _busy_day()
    # mid-day, with tickets in every state, too
    for state in (h.state, replay(h.cfg, h.start, h.events[:-3])):
        decoded = msgspec.json.decode(msgspec.json.encode(state), type=HallState)
        assert decoded == state
        assert encode(decoded) == encode(state)


def test_replay_of_each_prefix_matches_the_live_state():
    """Apply is deterministic at every point of the day, not only at its end."""
    cfg = hall_config()
    engine, live = QueueEngine(cfg), new_state(cfg, NOW)
    h = _busy_day()
    for i, event in enumerate(h.events):
        apply(live, event)
        if i % 7 == 0:
            assert encode(replay(cfg, NOW, h.events[: i + 1])) == encode(live)
    assert encode(live) == encode(h.state)
    assert engine.rollover(live, h.now) == []


def test_a_pause_reason_is_one_of_the_halls_codes():
    h = Hall()
    h.staff(1)
    err = refuse(h, "unknown_reason", "pause", 1, "coffee")
    assert "break" in err.message and "meeting" in err.message
    assert h.one("pause", 1, " meeting ").reason == "meeting"


def test_a_supervisor_sets_the_notice_and_an_empty_one_restores_the_halls():
    h = Hall()
    set_ = h.one("set_notice", " 今日系统升级 ", "", "boss")
    assert (set_.text, set_.reset) == ("今日系统升级", False)
    assert h.state.notice.text == "今日系统升级"
    reset = h.one("set_notice", "", "", "boss")
    assert reset.reset and reset.text == h.cfg.center.notice
    assert h.state.notice is None
    refuse(h, "invalid", "set_notice", "长" * 301, "", "boss")


def test_a_green_pass_naming_its_item_needs_no_item_chosen():
    h = Hall()
    h.do("grant_green_pass", "G1", "重大项目", "boss", service="biz_reg")
    h.do("grant_green_pass", "G2", "重大项目", "boss")
    e = h.issue("", channel=Channel.GREEN, reference="G1")
    assert (e.service, e.priority) == ("biz_reg", True)
    # A pass for any item: the citizen picks one, and then it is used.
    refuse(h, "choose_service", "issue_ticket", "", channel=Channel.GREEN, reference="G2")
    assert h.state.passes["G2"].used_by is None
    assert h.issue("id_card", channel=Channel.GREEN, reference="G2").service == "id_card"


def test_complaints_are_numbered_checked_and_kept():
    h = Hall()
    refuse(h, "invalid", "file_complaint", "nope", "服务差")
    refuse(h, "invalid", "file_complaint", "attitude", "   ")
    refuse(h, "invalid", "file_complaint", "attitude", "x" * 501)
    refuse(h, "invalid", "file_complaint", "attitude", "服务差", phone="call me")
    refuse(h, "unknown_window", "file_complaint", "attitude", "服务差", window=99)
    first = h.one("file_complaint", "attitude", " 服务差 ", window=3, phone="0416 123")
    assert (first.complaint_id, first.text, first.window_about) == ("TS202611240001", "服务差", 3)
    second = h.one("file_complaint", "suggestion", "建议增加座椅")
    assert second.complaint_id == "TS202611240002" and second.phone is None
    # The count starts again with the day, as slip and ticket numbers do.
    h.do("rollover", at=NOW + dt.timedelta(days=1))
    assert h.one("file_complaint", "other", "好", at=NOW + dt.timedelta(days=1)).complaint_id \
        == "TS202611250001"


def test_estimated_wait_follows_the_recent_pace_and_the_open_windows():
    from hub.engine import queries

    h = Hall()
    tickets = [h.issue("id_card", channel=Channel.NORMAL) for _ in range(3)]
    last = h.ticket(tickets[-1].ticket_id)
    # Nobody served yet: the item's target time (15 min) per person ahead, one window assumed.
    assert queries.estimated_wait_minutes(h.cfg, h.state, last) == 2 * 15
    h.staff(3)
    h.call(3)
    h.now += dt.timedelta(minutes=6)
    h.do("finish", 3)
    h.call(3)
    h.now += dt.timedelta(minutes=4)
    h.do("finish", 3)
    assert queries.minutes_per_case(h.cfg, h.state, "id_card") == 5
    assert queries.estimated_wait_minutes(h.cfg, h.state, last) == 0  # nobody ahead now
    waiting = [h.ticket(h.issue("permit").ticket_id) for _ in range(3)]
    # Window 4 (permit) is away: window 3 covers it (AB post), so one window is open for it.
    assert queries.open_windows(h.cfg, h.state) == {"id_card": 1, "permit": 1}
    assert queries.estimated_wait_minutes(h.cfg, h.state, waiting[-1]) == 2 * 15
    h.staff(4)
    assert queries.open_windows(h.cfg, h.state)["permit"] == 1  # 3 no longer covers 4
    h.do("pause", 4, "meeting")
    assert queries.open_windows(h.cfg, h.state)["permit"] == 1  # paused: 3 covers it again
    h.do("pause", 3, "meeting")
    assert queries.open_windows(h.cfg, h.state) == {}


def test_a_case_closed_in_seconds_still_counts_as_a_minute():
    from hub.engine import queries

    h = Hall()
    h.staff(3)
    h.issue("id_card")
    h.call(3)
    h.now += dt.timedelta(seconds=5)
    h.do("finish", 3)
    assert queries.minutes_per_case(h.cfg, h.state, "id_card") == 1.0
