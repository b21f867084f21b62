"""好差评 from the citizen's phone (the engine's rules): once the service is over and until the
ticket's day ends, one rating per ticket whichever channel comes first, a 差评 with one of the
hall's reasons, and a keypad request still open settled by the phone's rating."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.engine import DomainError
from hub.engine.model import OutcomeKind, RatingExpired, RatingStatus, TicketRated
from hub.engine.ratings import NO_REQUEST
from tests.engine_helpers import NOW, Hall, encode, replay
from tests.test_engine_ratings import refuse, served, with_keypad

S = dt.timedelta(seconds=1)


def story(h: Hall, ticket_id: str) -> list[str]:
    return [type(e).__name__ for e in h.events
            if isinstance(e, TicketRated | RatingExpired) and e.ticket_id == ticket_id]


def one_ending_each(h: Hall) -> None:
    """Never two ratings of a ticket, never 未评价 after a rating, and a keypad request that
    ended 未评价 never rated after all (a phone's later rating answers no request)."""
    rated, expired = set(), set()
    for e in h.events:
        if isinstance(e, TicketRated):
            assert e.ticket_id not in rated, "rated twice"
            assert (e.ticket_id, e.request_id) not in expired, "request rated after 未评价"
            rated.add(e.ticket_id)
        if isinstance(e, RatingExpired):
            assert e.ticket_id not in rated, "未评价 after a rating"
            assert (e.ticket_id, e.request_id) not in expired, "expired twice"
            expired.add((e.ticket_id, e.request_id))


def test_the_phone_rates_a_finished_ticket_against_its_window_and_clerk():
    h = Hall()
    asked = served(h)
    rated = h.one("rate_by_phone", asked.ticket_id, 2, at=NOW + 60 * S)
    assert isinstance(rated, TicketRated)
    assert (rated.window_no, rated.clerk, rated.request_id, rated.level, rated.source) == (
        1, "c1", asked.request_id, 2, "phone")
    assert rated.pressed_at == NOW + 60 * S and rated.reason is None
    rating = h.ticket(asked.ticket_id).rating
    assert (rating.status, rating.level, rating.source) == (RatingStatus.RATED, 2, "phone")
    assert h.state.windows[1].rating_ticket is None
    assert encode(replay(h.cfg, h.start, h.events)) == encode(h.state)


def test_phone_first_then_the_keypads_press_is_refused():
    h = Hall()
    with_keypad(h)
    asked = served(h)
    h.do("rate_by_phone", asked.ticket_id, 1, at=NOW + 5 * S)
    refuse(h, "already_rated", "rate", 1, asked.request_id, 3, at=NOW + 6 * S)
    refuse(h, "already_rated", "request_rating", 1)
    one_ending_each(h)


def test_keypad_first_then_the_phone_is_refused():
    h = Hall()
    with_keypad(h)
    asked = served(h)
    h.do("rate", 1, asked.request_id, 2, at=NOW + 5 * S)
    refuse(h, "already_rated", "rate_by_phone", asked.ticket_id, 1, at=NOW + 6 * S)
    one_ending_each(h)


def test_the_phone_settles_the_keypads_open_request_and_its_end_follows_as_nothing():
    """The phone's rating answers the keypad's open request (same window and request id: its
    agent closes the keypad's window as after a press); the keypad then reports the window
    cancelled, which ends nothing, and a level it latched meanwhile is refused."""
    h = Hall()
    with_keypad(h)
    asked = served(h)
    assert h.state.windows[1].rating_ticket == asked.ticket_id
    rated = h.one("rate_by_phone", asked.ticket_id, 5, "服务态度", at=NOW + 10 * S)
    assert (rated.window_no, rated.request_id) == (asked.window_no, asked.request_id)
    assert h.state.windows[1].rating_ticket is None  # the keypad no longer asks for it
    assert h.do("rating_ended", 1, asked.request_id, "cancelled", at=NOW + 11 * S) == []
    refuse(h, "already_rated", "rate", 1, asked.request_id, 4, at=NOW + 12 * S,
           pressed_at=NOW + 9 * S)  # a 不满意 latched by the cancel: the phone came first
    assert h.do("rollover", at=NOW + dt.timedelta(days=1)) and not any(
        isinstance(e, RatingExpired) for e in h.events)
    assert story(h, asked.ticket_id) == ["TicketRated"]
    one_ending_each(h)


def test_without_a_keypad_the_phone_settles_the_request_the_hub_would_have_ended():
    h = Hall()
    asked = served(h)
    h.do("rate_by_phone", asked.ticket_id, 3, at=NOW + 5 * S)
    assert h.engine.next_rating_deadline(h.state) is None
    assert h.do("expire_ratings", at=NOW + 60 * S) == []
    one_ending_each(h)


def test_a_keypads_not_rated_leaves_the_phone_free_to_rate_once():
    """未评价 at the keypad means the citizen did not rate there; the national scheme lets them
    rate by another channel. The phone's rating answers no keypad request, so that request's
    未评价 stays final for it, and the ticket still has one rating."""
    h = Hall()
    with_keypad(h)
    asked = served(h)
    h.one("rating_ended", 1, asked.request_id, "timeout", at=NOW + 30 * S)
    rated = h.one("rate_by_phone", asked.ticket_id, 4, "办事效率", at=NOW + 600 * S)
    assert (rated.request_id, rated.window_no, rated.clerk) == (NO_REQUEST, 1, "c1")
    rating = h.ticket(asked.ticket_id).rating
    assert (rating.status, rating.level, rating.reason) == (RatingStatus.RATED, 4, "办事效率")
    refuse(h, "already_rated", "rate_by_phone", asked.ticket_id, 1, at=NOW + 601 * S)
    refuse(h, "already_rated", "rate", 1, asked.request_id, 1, at=NOW + 602 * S)
    assert story(h, asked.ticket_id) == ["RatingExpired", "TicketRated"]
    assert encode(replay(h.cfg, h.start, h.events)) == encode(h.state)
    one_ending_each(h)


def test_a_bad_rating_needs_one_of_the_halls_reasons():
    h = Hall()
    asked = served(h)
    for level in (4, 5):
        refuse(h, "invalid", "rate_by_phone", asked.ticket_id, level)
        refuse(h, "invalid", "rate_by_phone", asked.ticket_id, level, "  ")
        refuse(h, "invalid", "rate_by_phone", asked.ticket_id, level, "柜员玩手机")
        refuse(h, "invalid", "rate_by_phone", asked.ticket_id, level, 1)  # not a key's number
        refuse(h, "invalid", "rate_by_phone", asked.ticket_id, level, ["服务态度"])
    for level in (0, 6, True, "1"):
        refuse(h, "invalid", "rate_by_phone", asked.ticket_id, level)
    rated = h.one("rate_by_phone", asked.ticket_id, 5, " 材料告知 ")
    assert rated.reason == "材料告知"
    other = served(h, 2)
    assert h.one("rate_by_phone", other.ticket_id, 2, "服务态度").reason is None  # a 好评 says none


def test_only_a_ticket_whose_service_is_over_can_be_rated():
    h = Hall()
    h.staff(1)
    waiting = h.issue("biz_change")
    assert not h.engine.can_rate_by_phone(h.state, h.now, waiting.ticket_id)
    refuse(h, "not_finished", "rate_by_phone", waiting.ticket_id, 1)
    h.call(1)
    refuse(h, "not_finished", "rate_by_phone", waiting.ticket_id, 1)
    refuse(h, "no_ticket", "rate_by_phone", "nope", 1)
    h.do("finish", 1)
    assert h.engine.can_rate_by_phone(h.state, h.now, waiting.ticket_id)  # what the page offers
    absent = h.issue("biz_change")
    h.call(1)
    h.do("skip", 1)
    refuse(h, "not_finished", "rate_by_phone", absent.ticket_id, 1)  # requeued: waits again
    h.call(1)
    h.do("skip", 1)
    assert h.ticket(absent.ticket_id).status.value == "no_show"
    refuse(h, "not_served", "rate_by_phone", absent.ticket_id, 1)


def test_a_return_waiting_for_its_supervisor_was_served_and_can_be_rated():
    h = Hall()
    asked = served(h, kind=OutcomeKind.RETURNED, reason="材料不全")
    assert h.ticket(asked.ticket_id).status.value == "return_pending"
    assert h.engine.can_rate_by_phone(h.state, h.now, asked.ticket_id)
    assert h.one("rate_by_phone", asked.ticket_id, 1).source == "phone"
    assert not h.engine.can_rate_by_phone(h.state, h.now, asked.ticket_id)  # rated


def test_the_phone_may_rate_until_the_tickets_day_ends():
    h = Hall()
    asked = served(h)
    late = dt.datetime.combine(NOW.date(), dt.time(23, 59, 59), tzinfo=NOW.tzinfo)
    h.do("rate_by_phone", asked.ticket_id, 2, at=late)
    unrated = served(h, 2)
    refuse(h, "rating_closed", "rate_by_phone", unrated.ticket_id, 2, at=late + S)


def test_a_return_kept_past_its_day_can_no_longer_be_rated():
    h = Hall()
    asked = served(h, kind=OutcomeKind.RETURNED, reason="材料不全")
    h.do("rollover", at=NOW + dt.timedelta(days=1))
    assert asked.ticket_id in h.state.tickets  # still waiting for its supervisor
    refuse(h, "rating_closed", "rate_by_phone", asked.ticket_id, 2,
           at=NOW + dt.timedelta(days=1, seconds=1))


@pytest.mark.parametrize("first", ["phone", "keypad"])
def test_whichever_channel_comes_first_the_other_sees_it_done(first):
    h = Hall()
    with_keypad(h)
    asked = served(h)
    phone = ("rate_by_phone", asked.ticket_id, 1)
    keypad = ("rate", 1, asked.request_id, 2)
    h.do(*(phone if first == "phone" else keypad))
    with pytest.raises(DomainError) as err:
        h.do(*(keypad if first == "phone" else phone))
    assert err.value.code == "already_rated"
    assert h.ticket(asked.ticket_id).rating.source == first


@pytest.mark.parametrize("channel", ["phone", "keypad"])
def test_a_rated_return_served_again_is_not_asked_again(channel):
    """A 退件 rated while it waited for its supervisor, refused and served again the same day:
    still one rating per ticket, so its second finish asks for none (it would wipe the first)."""
    h = Hall()
    asked = served(h, kind=OutcomeKind.RETURNED, reason="材料不全")
    if channel == "phone":
        h.do("rate_by_phone", asked.ticket_id, 2)
    else:
        h.do("rate", 1, asked.request_id, 2)
    h.do("decide_return", asked.ticket_id, approve=False, supervisor="s")
    h.call(1)
    assert [type(e).__name__ for e in h.do("finish", 1)] == ["TicketFinished"]
    rating = h.ticket(asked.ticket_id).rating
    assert (rating.status, rating.level, rating.source) == (RatingStatus.RATED, 2, channel)
    refuse(h, "already_rated", "rate_by_phone", asked.ticket_id, 1)
    one_ending_each(h)
