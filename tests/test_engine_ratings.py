"""好差评 rules of the engine: a rating only inside the window a served ticket opened, once."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.engine import DomainError
from hub.engine.model import (
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
    """The agent buffered the press while the hub restarted; the hub had meanwhile expired it."""
    h = Hall()
    asked = served(h)
    h.do("expire_ratings", at=NOW + TIMEOUT + dt.timedelta(seconds=1))
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
