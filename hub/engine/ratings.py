"""The 好差评 rules and device health: a citizen rates the service of one ticket, at the window
that served it, once, and only while the keypad was asked (no rating without a served ticket).

Part of QueueEngine; the configuration and the window checks are RulesBase's.
"""

from __future__ import annotations

import datetime as dt

from .base import RulesBase
from .errors import DomainError, Invalid, NotFound
from .model import (
    DeviceRemoved,
    DeviceStateChanged,
    Event,
    HallState,
    RatingExpired,
    RatingLevel,
    RatingReasonAdded,
    RatingRequested,
    RatingStatus,
    Ticket,
    TicketRated,
    TicketStatus,
    WindowState,
)

# A keypad that lost its window (it restarted) is asked again only if at least this much of the
# window is left: less is no time to read the clerk's badge and press.
REOPEN_MIN_S = 3.0
_LEVELS = frozenset(RatingLevel)
# A ticket whose service at a window is over: finished, or a 退件 waiting for its supervisor
# (the citizen was served and left, and the keypad was asked). A no-show, a ticket still
# waiting or at a window, or one that expired unserved has nothing to rate.
_SERVED = frozenset({TicketStatus.DONE, TicketStatus.RETURN_PENDING})
_NOT_YET = frozenset({TicketStatus.WAITING, TicketStatus.CALLED})
# The request id of a phone rating that answers no keypad request (none was open): keypads'
# requests are numbered from 1, so no keypad press or agent ever takes it for one of theirs.
NO_REQUEST = 0


class RatingRules(RulesBase):
    """Who ends a rating: a window's rating keypad reports every request's outcome through its
    agent, in the order the keypad saw them (a press, or the window closing without one), so
    the hub never calls a keypad's rating "not rated" while a press made in time may still be
    on its way (a 不满意 waiting for its reason key, an agent buffering while the hub was away).
    Where no rating keypad is known, nothing can press: the hub ends the rating itself at its
    deadline (`next_rating_deadline`). Either way a rating ends once, and what ends it is final.
    """

    @staticmethod
    def keypad_windows(state: HallState) -> set[int]:
        """Windows with a rating keypad an agent reported (whatever its health now)."""
        return {d.window for d in state.devices.values()
                if d.kind == "rating" and d.window is not None}

    def _ask_rating(
        self, state: HallState, now: dt.datetime, win: WindowState, ticket: Ticket,
        deadline: dt.datetime | None = None,
    ) -> list[Event]:
        """Open the window's keypad for a rating of `ticket`. A rating of this ticket still open
        here keeps its request id (a press for it counts); a new deadline unless given."""
        assert win.clerk is not None
        if ticket.rating is not None and ticket.rating.status is RatingStatus.RATED:
            return []  # one rating per ticket: served again (a 退件 refused), it is not re-asked
        events: list[Event] = []
        if win.no not in self.keypad_windows(state):  # no keypad: nothing can still come
            events = self._expire_rating(state, now, win, unless=ticket.id)
        open_here = rating_open(ticket) and ticket.rating.window == win.no  # type: ignore[union-attr]
        request_id = (ticket.rating.request_id if open_here  # type: ignore[union-attr]
                      else state.rating_seq % 65535 + 1)
        return [
            *events,
            RatingRequested(
                at=now,
                ticket_id=ticket.id,
                number=ticket.number,
                window_no=win.no,
                clerk=win.clerk.username,
                request_id=request_id,
                deadline=deadline or now + dt.timedelta(seconds=self.cfg.rating.timeout_s),
                clerk_name=win.clerk.name,
                staff_no=win.clerk.staff_no,
            ),
        ]

    def _expire_rating(
        self, state: HallState, now: dt.datetime, win: WindowState, unless: str | None = None
    ) -> list[Event]:
        ticket = state.tickets.get(win.rating_ticket or "")
        if ticket is None or ticket.id == unless or not rating_open(ticket):
            return []
        return [expired_event(now, ticket)]

    def request_rating(self, state: HallState, now: dt.datetime, no: int) -> list[Event]:
        """The clerk's "request rating" key: ask again about the ticket last served here."""
        win = self._staffed(state, no, allow_paused=True)
        ticket = state.tickets.get(win.last_served or "")
        if ticket is None:
            raise DomainError(
                "nothing_to_rate",
                "error.nothing_to_rate",
            )
        if ticket.rating and ticket.rating.status is RatingStatus.RATED:
            raise DomainError(
                "already_rated",
                "error.already_rated", number=ticket.number,
            )
        return self._ask_rating(state, now, win, ticket)

    def expire_ratings(self, state: HallState, now: dt.datetime) -> list[Event]:
        """Ratings past their deadline at windows without a rating keypad become "not rated"
        (a keypad's agent reports its own: `rating_ended`)."""
        keypads = self.keypad_windows(state)
        events: list[Event] = []
        for win in state.windows.values():
            ticket = state.tickets.get(win.rating_ticket or "")
            if win.no not in keypads and ticket and ticket.rating and now > ticket.rating.deadline:
                events += self._expire_rating(state, now, win)
        return events

    def next_rating_deadline(self, state: HallState) -> dt.datetime | None:
        """The earliest deadline of a rating the hub ends itself (`expire_ratings`), if any:
        the hub sleeps until then instead of looking every few seconds."""
        keypads = self.keypad_windows(state)
        deadlines = [
            t.rating.deadline  # type: ignore[union-attr]
            for win in state.windows.values()
            if win.no not in keypads
            and (t := state.tickets.get(win.rating_ticket or "")) is not None and rating_open(t)
        ]
        return min(deadlines, default=None)

    def rate(
        self,
        state: HallState,
        now: dt.datetime,
        no: int,
        request_id: int,
        level: int,
        reason: str | None = None,
        pressed_at: dt.datetime | None = None,
        source: str = "keypad",
    ) -> list[Event]:
        """A citizen's press, accepted if made inside the window its request opened; once per
        ticket. When it reaches the hub does not matter (a 不满意 waits for its reason key, the
        agent buffers while the hub restarts): the rating stays open until its keypad says how
        it ended. A rating already ended is final.
        """
        self._window(state, no)
        if isinstance(level, bool) or level not in _LEVELS:
            raise Invalid("invalid", "error.rating_level")
        ticket = self._asked(state, no, request_id)
        rating = ticket.rating
        assert rating is not None
        if rating.status is RatingStatus.RATED:
            raise DomainError(
                "already_rated",
                "error.already_rated", number=ticket.number,
            )
        # A keypad takes a press for a request only after it was opened: an earlier time is the
        # agent's clock being a little behind the hub's, not an early press.
        pressed = max(min(pressed_at or now, now), rating.requested_at)
        if rating.status is RatingStatus.NOT_RATED or pressed > rating.deadline:
            raise DomainError("rating_closed", "error.rating_closed")
        return [
            *self._settle_earlier(state, now, no, ticket),
            TicketRated(
                at=now,
                ticket_id=ticket.id,
                number=ticket.number,
                window_no=no,
                clerk=rating.clerk,
                request_id=request_id,
                level=level,
                reason=(reason or "").strip() or None if RatingLevel(level).needs_reason else None,
                pressed_at=pressed,
                source=source,
            ),
        ]

    def rate_by_phone(
        self, state: HallState, now: dt.datetime, ticket_id: str, level: int,
        reason: str | None = None,
    ) -> list[Event]:
        """A citizen's rating from the ticket's phone page, once the service is over and until
        the ticket's day ends; one rating per ticket, whichever channel comes first.

        A keypad request still open settles with this rating (the same window and request id,
        so the keypad's agent closes its window as for a press, and a press the keypad takes
        after all is refused `already_rated`). A keypad request already ended "not rated" does
        not stop the phone: 未评价 means the citizen did not rate at the window, and the
        national scheme lets them rate by another channel; the phone's rating then answers no
        keypad request (request id NO_REQUEST), so that request's 未评价 stays final for it.
        """
        ticket = self._phone_rateable(state, now, ticket_id)
        if isinstance(level, bool) or level not in _LEVELS:
            raise Invalid("invalid", "error.rating_level")
        rating = ticket.rating
        if rating is not None and rating.status is RatingStatus.PENDING:
            window_no, clerk, request_id = rating.window, rating.clerk, rating.request_id
        else:
            visit = ticket.visits[-1]  # a served ticket has had a visit
            window_no = rating.window if rating else visit.window
            clerk = rating.clerk if rating else visit.clerk
            request_id = NO_REQUEST
        return [TicketRated(
            at=now, ticket_id=ticket.id, number=ticket.number, window_no=window_no, clerk=clerk,
            request_id=request_id, level=level, reason=self._phone_reason(level, reason),
            pressed_at=now, source="phone",
        )]

    def can_rate_by_phone(self, state: HallState, now: dt.datetime, ticket_id: str) -> bool:
        """Whether the ticket's phone page may offer a rating now (`rate_by_phone`'s rule)."""
        try:
            self._phone_rateable(state, now, ticket_id)
        except DomainError:
            return False
        return True

    def _phone_rateable(self, state: HallState, now: dt.datetime, ticket_id: str) -> Ticket:
        """The ticket, if the phone may rate it now (else why not)."""
        ticket = state.tickets.get(ticket_id)
        if ticket is None:
            raise NotFound("no_ticket", "error.no_ticket_id_today", ticket_id=ticket_id)
        if ticket.rating is not None and ticket.rating.status is RatingStatus.RATED:
            raise DomainError("already_rated", "error.already_rated", number=ticket.number)
        if ticket.day != self.local(now).date() or ticket.day != state.day:
            raise DomainError("rating_closed", "error.rating_closed")
        if ticket.status in _NOT_YET:
            raise DomainError("not_finished", "error.rating_not_finished")
        if ticket.status not in _SERVED or not ticket.visits:
            raise DomainError("not_served", "error.rating_not_served")
        return ticket

    def _phone_reason(self, level: int, reason: str | None) -> str | None:
        """A 差评's reason: one of the hall's (the phone lists them); none for a good rating."""
        if not RatingLevel(level).needs_reason:
            return None
        reasons = self.cfg.rating.reasons
        if not isinstance(reason, str) or reason.strip() not in reasons:
            raise Invalid("invalid", "error.rating_reason", reasons="、".join(reasons))
        return reason.strip()

    def close_late_press(
        self, state: HallState, now: dt.datetime, no: int, request_id: int
    ) -> list[Event]:
        """A press refused as too late still ends its request: the keypad took it, so its window
        there is closed, and nothing in time can follow."""
        try:
            ticket = self._asked(state, no, request_id)
        except DomainError:
            return []
        if not rating_open(ticket) or ticket.rating.deadline >= now:  # type: ignore[union-attr]
            return []
        return [*self._settle_earlier(state, now, no, ticket), expired_event(now, ticket)]

    def rating_ended(
        self, state: HallState, now: dt.datetime, no: int, request_id: int, why: str
    ) -> list[Event]:
        """A keypad's agent reports that a request's window closed without a press (`why`:
        timeout, replaced, cancelled, device restarted). Its events come in the keypad's order,
        so no press for it can follow: it is "not rated". A keypad that lost the window in a
        restart is asked again instead, for the same deadline, while enough of it is left."""
        self._window(state, no)
        ticket = self._asked(state, no, request_id)
        if not rating_open(ticket):
            return []
        rating = ticket.rating
        assert rating is not None
        win = state.windows[no]
        if (why == "device restarted" and win.rating_ticket == ticket.id
                and win.clerk is not None and win.clerk.username == rating.clerk
                and (rating.deadline - now).total_seconds() >= REOPEN_MIN_S):
            return self._ask_rating(state, now, win, ticket, deadline=rating.deadline)
        return [*self._settle_earlier(state, now, no, ticket), expired_event(now, ticket)]

    def _asked(self, state: HallState, no: int, request_id: int) -> Ticket:
        """The ticket whose rating request `request_id` was opened at window `no`."""
        for ticket in state.tickets.values():
            rating = ticket.rating
            if rating and rating.window == no and rating.request_id == request_id:
                return ticket
        raise DomainError(
            "no_rating_open", "error.no_rating_open"
        )

    @staticmethod
    def _settle_earlier(
        state: HallState, now: dt.datetime, no: int, ticket: Ticket
    ) -> list[Event]:
        """Ratings asked at this keypad before `ticket`'s and still open end now: the keypad
        showed `ticket`'s request after theirs, and whatever it took for them came first."""
        asked_at = ticket.rating.requested_at  # type: ignore[union-attr]
        return [
            expired_event(now, t)
            for t in state.tickets.values()
            if t.id != ticket.id and rating_open(t) and t.rating.window == no  # type: ignore[union-attr]
            and t.rating.requested_at < asked_at  # type: ignore[union-attr]
        ]

    def add_rating_reason(
        self, state: HallState, now: dt.datetime, ticket_id: str, reason: str, source: str
    ) -> list[Event]:
        """The reason for a 差评, added later at the kiosk or by the office."""
        ticket = state.tickets.get(ticket_id)
        if ticket is None:
            raise NotFound("no_ticket", "error.no_ticket_id_today", ticket_id=ticket_id)
        rating = ticket.rating
        if (rating is None or rating.status is not RatingStatus.RATED or not rating.level
                or not RatingLevel(rating.level).needs_reason):
            raise DomainError("no_bad_rating", "error.no_bad_rating")
        if rating.reason:
            raise DomainError("has_reason", "error.has_reason")
        if not reason.strip():
            raise Invalid("invalid", "error.rating_needs_reason")
        return [
            RatingReasonAdded(
                at=now,
                ticket_id=ticket_id,
                number=ticket.number,
                reason=reason.strip()[:200],
                source=source,
            )
        ]

    # --- devices ------------------------------------------------------------------------

    def report_device(
        self,
        state: HallState,
        now: dt.datetime,
        device: str,
        kind: str,
        window: int | None,
        agent: str,
        status: str,
        detail: str = "",
        windows: list[int] | None = None,
    ) -> list[Event]:
        """A device's state as its agent reports it: an event when it changed. `windows`: all
        the windows a device serves when it serves several (a slip printer), `window` first."""
        windows = list(windows or [])
        if status not in ("online", "offline", "error"):
            raise Invalid("invalid", "error.device_status")
        known = state.devices.get(device)
        if known and (known.status, known.detail, known.window, known.windows) == (
                status, detail, window, windows):
            return []
        return [
            DeviceStateChanged(
                at=now,
                device=device,
                kind=kind,
                window_at=window,
                windows_at=windows,
                agent=agent,
                status=status,
                detail=detail[:200],
            )
        ]

    @staticmethod
    def forget_devices(state: HallState, now: dt.datetime, agent: str,
                       kept: set[str]) -> list[Event]:
        """The devices `agent` reported before and no longer has (`kept`: all it has now)."""
        return [DeviceRemoved(at=now, device=d.device, kind=d.kind, window_at=d.window,
                              agent=agent)
                for d in state.devices.values() if d.agent == agent and d.device not in kept]


def rating_open(ticket: Ticket) -> bool:
    return ticket.rating is not None and ticket.rating.status is RatingStatus.PENDING


def expired_event(now: dt.datetime, ticket: Ticket) -> RatingExpired:
    rating = ticket.rating
    assert rating is not None
    return RatingExpired(
        at=now,
        ticket_id=ticket.id,
        number=ticket.number,
        window_no=rating.window,
        clerk=rating.clerk,
        request_id=rating.request_id,
    )
