"""Ratings (好差评): a request opens the window's keypad, a press or its end closes it."""

from __future__ import annotations

from ..model import (
    HallState,
    Rating,
    RatingExpired,
    RatingReasonAdded,
    RatingRequested,
    RatingStatus,
    TicketRated,
)
from .dispatch import rule, window_at


@rule.register
def _(e: RatingRequested, state: HallState) -> None:
    ticket = state.tickets[e.ticket_id]
    old = ticket.rating
    # The same request asked again (the clerk's key, a keypad that lost it): one request, open
    # since it was first asked; the request counter has moved on meanwhile and stays.
    again = (old is not None and old.request_id == e.request_id and old.window == e.window_no
             and old.status is RatingStatus.PENDING)
    ticket.rating = Rating(
        request_id=e.request_id,
        window=e.window_no,
        clerk=e.clerk,
        requested_at=old.requested_at if again and old else e.at,
        deadline=e.deadline,
    )
    for win in state.windows.values():  # served again elsewhere: this request supersedes
        if win.rating_ticket == ticket.id:
            win.rating_ticket = None
    window_at(state, e.window_no).rating_ticket = ticket.id
    if not again:
        state.rating_seq = e.request_id


def _close_rating(state: HallState, window: int, ticket_id: str) -> None:
    win = window_at(state, window)
    if win.rating_ticket == ticket_id:
        win.rating_ticket = None


@rule.register
def _(e: TicketRated, state: HallState) -> None:
    ticket = state.tickets[e.ticket_id]
    if ticket.rating is None:  # rated by phone, never asked at a keypad
        ticket.rating = Rating(request_id=e.request_id, window=e.window_no, clerk=e.clerk,
                               requested_at=e.at, deadline=e.at)
    rating = ticket.rating
    rating.status = RatingStatus.RATED
    rating.level, rating.reason = e.level, e.reason
    rating.rated_at, rating.source = e.pressed_at, e.source
    _close_rating(state, e.window_no, e.ticket_id)


@rule.register
def _(e: RatingExpired, state: HallState) -> None:
    rating = state.tickets[e.ticket_id].rating
    assert rating is not None
    rating.status = RatingStatus.NOT_RATED
    _close_rating(state, e.window_no, e.ticket_id)


@rule.register
def _(e: RatingReasonAdded, state: HallState) -> None:
    rating = state.tickets[e.ticket_id].rating
    assert rating is not None
    rating.reason = e.reason
