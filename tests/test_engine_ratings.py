"""好差评 rules of the engine: a rating only inside the window a served ticket opened, once."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.engine import DomainError
from hub.engine.model import (
    DeviceRemoved,
    DeviceStateChanged,
    OutcomeKind,
    RatingExpired,
    RatingRequested,
    RatingStatus,
    TicketRated,
)
from tests.engine_helpers import NOW, Hall, encode, replay

TIMEOUT = dt.timedelta(seconds=30)  # the schema's default rating.timeout_s


def refuse(h: Hall, code: str, method: str, *args, **kw) -> None:
    before = encode(h.state)
    with pytest.raises(DomainError) as err:
        h.do(method, *args, **kw)
    assert err.value.code == code, err.value.message
    assert encode(h.state) == before


def served(h: Hall, no: int = 1, service: str = "biz_change", **finish) -> RatingRequested:
    h.staff(no)
    h.issue(service)
    h.call(no)
    events = h.do("finish", no, **finish)
    asked = events[-1]
    assert isinstance(asked, RatingRequested)
    return asked


def test_finishing_asks_the_windows_keypad_for_a_rating():
    h = Hall()
    asked = served(h)
    assert (asked.window_no, asked.clerk, asked.clerk_name, asked.staff_no) == (
        1,
        "c1",
        "窗口人员c1",
        "S-c1",
    )
    assert asked.deadline == NOW + TIMEOUT
    rating = h.ticket(asked.ticket_id).rating
    assert rating.status is RatingStatus.PENDING and rating.request_id == asked.request_id


def test_a_press_inside_the_window_is_stored_against_ticket_window_and_clerk():
    h = Hall()
    asked = served(h)
    rated = h.one("rate", 1, asked.request_id, 2, pressed_at=NOW + dt.timedelta(seconds=5))
    assert isinstance(rated, TicketRated)
    assert (rated.ticket_id, rated.window_no, rated.clerk, rated.level) == (
        asked.ticket_id,
        1,
        "c1",
        2,
    )
    rating = h.ticket(asked.ticket_id).rating
    assert rating.status is RatingStatus.RATED and rating.level == 2
    assert h.state.windows[1].rating_ticket is None


def test_one_rating_per_ticket_and_none_without_a_request():
    h = Hall()
    refuse(h, "no_rating_open", "rate", 1, 1, 1)  # nothing served: no rating to give
    asked = served(h)
    refuse(h, "no_rating_open", "rate", 1, asked.request_id + 1, 1)  # a stale request id
    refuse(h, "no_rating_open", "rate", 2, asked.request_id, 1)  # another window's keypad
    h.do("rate", 1, asked.request_id, 1)
    refuse(h, "already_rated", "rate", 1, asked.request_id, 5)
    refuse(h, "already_rated", "request_rating", 1)


def test_rating_levels_are_the_five_of_the_national_scheme():
    h = Hall()
    asked = served(h)
    for bad in (0, 6, -1, True):
        with pytest.raises(DomainError) as err:
            h.do("rate", 1, asked.request_id, bad)
        assert err.value.code == "invalid"


def test_no_press_in_time_is_stored_as_not_rated():
    h = Hall()
    asked = served(h)
    assert h.do("expire_ratings", at=NOW + TIMEOUT) == []
    expired = h.one("expire_ratings", at=NOW + TIMEOUT + dt.timedelta(seconds=1))
    assert isinstance(expired, RatingExpired)
    assert h.ticket(asked.ticket_id).rating.status is RatingStatus.NOT_RATED
    refuse(
        h,
        "rating_closed",
        "rate",
        1,
        asked.request_id,
        1,
        at=NOW + TIMEOUT + dt.timedelta(seconds=2),
    )


def test_a_press_made_in_time_but_delivered_late_still_counts():
    """The agent buffered the press while the hub restarted: the keypad's rating stayed open."""
    h = Hall()
    h.do("report_device", "bus1/rating@1", "rating", 1, "agent-1", "offline")
    asked = served(h)
    assert h.do("expire_ratings", at=NOW + TIMEOUT + dt.timedelta(seconds=1)) == []
    late = h.one(
        "rate",
        1,
        asked.request_id,
        4,
        "办事效率",
        at=NOW + dt.timedelta(minutes=3),
        pressed_at=NOW + dt.timedelta(seconds=10),
    )
    assert late.pressed_at == NOW + dt.timedelta(seconds=10)
    rating = h.ticket(asked.ticket_id).rating
    assert (rating.status, rating.level, rating.reason) == (RatingStatus.RATED, 4, "办事效率")


def test_a_press_cannot_claim_a_time_in_the_future():
    h = Hall()
    asked = served(h)
    rated = h.one("rate", 1, asked.request_id, 3, pressed_at=NOW + dt.timedelta(hours=1))
    assert rated.pressed_at == NOW


def test_the_next_finish_ends_the_previous_rating_as_not_rated():
    h = Hall()
    first = served(h)
    h.issue("biz_change")
    h.call(1)
    events = h.do("finish", 1)
    assert [type(e).__name__ for e in events] == [
        "TicketFinished",
        "RatingExpired",
        "RatingRequested",
    ]
    assert h.ticket(first.ticket_id).rating.status is RatingStatus.NOT_RATED
    assert events[-1].request_id == first.request_id + 1


def test_request_rating_asks_again_about_the_last_ticket_served():
    h = Hall()
    refuse(h, "no_clerk", "request_rating", 1)
    h.staff(1)
    refuse(h, "nothing_to_rate", "request_rating", 1)
    first = served(h)
    h.do("expire_ratings", at=NOW + TIMEOUT + dt.timedelta(seconds=1))
    again = h.do("request_rating", 1, at=NOW + dt.timedelta(minutes=1))
    assert [type(e).__name__ for e in again] == ["RatingRequested"]
    assert again[0].ticket_id == first.ticket_id and again[0].request_id != first.request_id
    h.do("rate", 1, again[0].request_id, 1, at=NOW + dt.timedelta(minutes=1, seconds=3))
    assert h.ticket(first.ticket_id).rating.level == 1


def test_a_return_asks_for_a_rating_too():
    h = Hall()
    asked = served(h, kind=OutcomeKind.RETURNED, reason="申请人撤回")
    assert h.ticket(asked.ticket_id).rating.status is RatingStatus.PENDING


def test_a_reason_goes_with_a_bad_rating_only_and_can_be_added_later_once():
    h = Hall()
    asked = served(h)
    h.do("rate", 1, asked.request_id, 2, "服务态度")
    assert h.ticket(asked.ticket_id).rating.reason is None  # 满意 needs no reason
    refuse(h, "no_bad_rating", "add_rating_reason", asked.ticket_id, "态度", "kiosk")
    h.issue("biz_change")
    h.call(1)
    bad = h.do("finish", 1)[-1]
    h.do("rate", 1, bad.request_id, 5)
    refuse(h, "invalid", "add_rating_reason", bad.ticket_id, "  ", "kiosk")
    h.do("add_rating_reason", bad.ticket_id, "等候时间太长", "kiosk")
    assert h.ticket(bad.ticket_id).rating.reason == "等候时间太长"
    refuse(h, "has_reason", "add_rating_reason", bad.ticket_id, "又一个", "office")


def test_device_health_changes_are_events_and_repeats_are_not():
    h = Hall()
    changed = h.one("report_device", "bus1/rating@1", "rating", 1, "agent-1", "online")
    assert isinstance(changed, DeviceStateChanged) and changed.window == 1
    assert h.do("report_device", "bus1/rating@1", "rating", 1, "agent-1", "online") == []
    h.one("report_device", "bus1/rating@1", "rating", 1, "agent-1", "offline", "no reply")
    assert h.state.devices["bus1/rating@1"].status == "offline"
    refuse(h, "invalid", "report_device", "x", "rating", 1, "agent-1", "exploded")


def test_a_keypad_its_agent_no_longer_has_holds_no_rating_open():
    """Taken out of its agent.toml (sent for repair): its window has no keypad any more, so its
    rating ends at the deadline; another agent's devices stay."""
    h = Hall()
    h.do("report_device", "bus1/rating@1", "rating", 1, "agent-1", "online")
    h.do("report_device", "bus1/led@1", "led", 1, "agent-2", "online")
    asked = served(h)
    assert h.do("expire_ratings", at=NOW + TIMEOUT + dt.timedelta(seconds=1)) == []
    removed = h.one("forget_devices", "agent-1", {"bus1/caller@2"})
    assert isinstance(removed, DeviceRemoved) and (removed.device, removed.window) == (
        "bus1/rating@1", 1)
    assert set(h.state.devices) == {"bus1/led@1"}
    assert h.do("forget_devices", "agent-1", set()) == []
    h.one("expire_ratings", at=NOW + TIMEOUT + dt.timedelta(seconds=2))
    assert h.ticket(asked.ticket_id).rating.status is RatingStatus.NOT_RATED
    assert replay(h.cfg, NOW, h.events).devices.keys() == {"bus1/led@1"}


def test_ratings_survive_replay_and_the_day_end():
    h = Hall()
    asked = served(h)
    h.do("rate", 1, asked.request_id, 5, "环境设施")
    h.do("sign_out", 1)
    assert encode(replay(h.cfg, h.start, h.events)) == encode(h.state)
    h.staff(1)
    h.issue("biz_change")
    h.call(1)
    pending = h.do("finish", 1)[-1]
    events = h.do("rollover", at=NOW + dt.timedelta(days=1))
    assert any(isinstance(e, RatingExpired) and e.ticket_id == pending.ticket_id for e in events)
    assert h.state.windows[1].rating_ticket is None and h.state.windows[1].last_served is None


# --- a keypad's rating is never lost, and never contradicted ------------------------------------

S = dt.timedelta(seconds=1)


def with_keypad(h: Hall, no: int = 1) -> None:
    """An agent reports the window's rating keypad: its presses may still be on their way."""
    h.do("report_device", f"bus1/rating@{no}", "rating", no, "agent-1", "online")


def no_contradiction(h: Hall) -> None:
    """The feed never says 未评价 and then a rating (or anything else) for the same ticket."""
    expired = set()
    for e in h.events:
        if isinstance(e, RatingExpired):
            assert e.ticket_id not in expired, "expired twice"
            expired.add(e.ticket_id)
        if isinstance(e, TicketRated):
            assert e.ticket_id not in expired, "rated after 未评价"


def test_an_unhappy_press_in_time_counts_though_its_reason_wait_outlasts_the_window():
    """Defaults (30 s): 不满意 pressed at +20 s, no reason key; the keypad latches it when its
    reason wait ends (+35 s here) and the press reaches the hub after the deadline."""
    h = Hall()
    with_keypad(h)
    asked = served(h)
    assert h.do("expire_ratings", at=NOW + 31 * S) == []  # the keypad may still send it
    assert h.engine.next_rating_deadline(h.state) is None
    rated = h.one("rate", 1, asked.request_id, 4, at=NOW + 35 * S, pressed_at=NOW + 20 * S)
    assert (rated.level, rated.reason, rated.pressed_at) == (4, None, NOW + 20 * S)
    h.do("add_rating_reason", asked.ticket_id, "办事效率", "kiosk")  # the reason, later
    assert h.ticket(asked.ticket_id).rating.reason == "办事效率"
    no_contradiction(h)


def test_a_keypads_window_ends_when_its_agent_says_so_once():
    h = Hall()
    with_keypad(h)
    asked = served(h)
    ended = h.one("rating_ended", 1, asked.request_id, "timeout", at=NOW + 30 * S)
    assert isinstance(ended, RatingExpired) and ended.ticket_id == asked.ticket_id
    assert h.do("rating_ended", 1, asked.request_id, "timeout", at=NOW + 31 * S) == []
    refuse(h, "rating_closed", "rate", 1, asked.request_id, 2, at=NOW + 32 * S,
           pressed_at=NOW + 10 * S)  # final: a press it did not send cannot undo it
    refuse(h, "no_rating_open", "rating_ended", 1, asked.request_id + 5, "timeout")
    no_contradiction(h)


def test_without_a_keypad_a_rating_expires_at_its_deadline_and_is_final():
    h = Hall()
    asked = served(h)
    assert h.engine.next_rating_deadline(h.state) == asked.deadline == NOW + TIMEOUT
    h.one("expire_ratings", at=NOW + TIMEOUT + S)
    assert h.engine.next_rating_deadline(h.state) is None
    refuse(h, "rating_closed", "rate", 1, asked.request_id, 4, at=NOW + 3 * TIMEOUT,
           pressed_at=NOW + 10 * S)
    no_contradiction(h)


def test_next_rating_deadline_is_the_earliest_one_the_hub_must_end_itself():
    h = Hall()
    with_keypad(h, 2)
    first = served(h, 1)
    h.now = NOW + 5 * S
    served(h, 2)  # its keypad's agent ends it
    h.now = NOW + 9 * S
    third = served(h, 3, "id_card")
    assert h.engine.next_rating_deadline(h.state) == first.deadline
    h.do("expire_ratings", at=first.deadline + S)
    assert h.engine.next_rating_deadline(h.state) == third.deadline


def test_the_next_finish_at_a_keypad_leaves_the_previous_rating_to_the_keypad():
    """The keypad shows one request: the next one replaces it, and a 不满意 still waiting for its
    reason is latched for the previous request. It reaches the hub after the new request."""
    h = Hall()
    with_keypad(h)
    first = served(h)
    h.issue("biz_change")
    h.call(1)
    events = h.do("finish", 1, at=NOW + 10 * S)
    assert [type(e).__name__ for e in events] == ["TicketFinished", "RatingRequested"]
    assert h.ticket(first.ticket_id).rating.status is RatingStatus.PENDING
    late = h.one("rate", 1, first.request_id, 5, at=NOW + 11 * S, pressed_at=NOW + 8 * S)
    assert late.ticket_id == first.ticket_id
    no_contradiction(h)


def test_a_replaced_request_that_got_no_press_ends_when_the_keypad_says_so():
    h = Hall()
    with_keypad(h)
    first = served(h)
    h.issue("biz_change")
    h.call(1)
    second = h.do("finish", 1, at=NOW + 10 * S)[-1]
    ended = h.one("rating_ended", 1, first.request_id, "replaced", at=NOW + 10.2 * S)
    assert ended.ticket_id == first.ticket_id
    refuse(h, "rating_closed", "rate", 1, first.request_id, 1, at=NOW + 11 * S,
           pressed_at=NOW + 9 * S)
    assert h.ticket(second.ticket_id).rating.status is RatingStatus.PENDING
    no_contradiction(h)


def test_an_outcome_of_the_next_request_settles_a_previous_one_the_agent_never_reported():
    """The keypad's events come in order: once the next request's press arrives, nothing can
    still come for the one it replaced (an agent that died before reporting it, say)."""
    h = Hall()
    with_keypad(h)
    first = served(h)
    h.issue("biz_change")
    h.call(1)
    second = h.do("finish", 1, at=NOW + 10 * S)[-1]
    events = h.do("rate", 1, second.request_id, 2, at=NOW + 15 * S)
    assert [(type(e).__name__, e.ticket_id) for e in events] == [
        ("RatingExpired", first.ticket_id), ("TicketRated", second.ticket_id)]
    no_contradiction(h)


def test_a_press_dated_after_the_deadline_ends_a_keypads_rating_as_not_rated():
    h = Hall()
    with_keypad(h)
    asked = served(h)
    refuse(h, "rating_closed", "rate", 1, asked.request_id, 2, at=NOW + 40 * S,
           pressed_at=NOW + 39 * S)
    expired = h.one("close_late_press", 1, asked.request_id, at=NOW + 40 * S)
    assert isinstance(expired, RatingExpired)
    assert h.do("close_late_press", 1, asked.request_id, at=NOW + 41 * S) == []


def test_a_keypad_that_lost_its_window_is_asked_again_while_time_is_left():
    h = Hall()
    with_keypad(h)
    asked = served(h)
    again = h.one("rating_ended", 1, asked.request_id, "device restarted", at=NOW + 10 * S)
    assert isinstance(again, RatingRequested)
    assert (again.ticket_id, again.request_id, again.deadline) == (
        asked.ticket_id, asked.request_id, asked.deadline)
    assert again.clerk_name == asked.clerk_name and again.staff_no == asked.staff_no
    rating = h.ticket(asked.ticket_id).rating
    assert rating.status is RatingStatus.PENDING and rating.requested_at == NOW
    assert h.state.rating_seq == asked.request_id
    h.do("rate", 1, asked.request_id, 3, at=NOW + 20 * S)
    assert rating.status is RatingStatus.RATED


def test_a_keypad_that_lost_its_window_too_late_ends_it():
    h = Hall()
    with_keypad(h)
    asked = served(h)
    ended = h.one("rating_ended", 1, asked.request_id, "device restarted", at=NOW + 28 * S)
    assert isinstance(ended, RatingExpired)


def test_asking_again_while_a_rating_is_open_keeps_its_request_so_a_press_for_it_counts():
    h = Hall()
    with_keypad(h)
    asked = served(h)
    again = h.one("request_rating", 1, at=NOW + 20 * S)
    assert again.request_id == asked.request_id and again.deadline == NOW + 20 * S + TIMEOUT
    h.do("rate", 1, asked.request_id, 4, at=NOW + 21 * S, pressed_at=NOW + 19 * S)
    assert h.ticket(asked.ticket_id).rating.level == 4
    assert encode(replay(h.cfg, h.start, h.events)) == encode(h.state)


def test_the_day_end_settles_every_open_rating_once():
    h = Hall()
    with_keypad(h)
    first = served(h)
    h.issue("biz_change")
    h.call(1)
    second = h.do("finish", 1)[-1]
    events = h.do("rollover", at=NOW + dt.timedelta(days=1))
    expired = [e.ticket_id for e in events if isinstance(e, RatingExpired)]
    assert sorted(expired) == sorted([first.ticket_id, second.ticket_id])
    no_contradiction(h)
