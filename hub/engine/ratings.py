"""The 好差评 rules and device health: a citizen rates the service of one ticket, at the window
that served it, once, and only while the keypad was asked (no rating without a served ticket).

Mixed into QueueEngine, whose configuration and window checks these rules use.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from .errors import DomainError, Invalid, NotFound
from .model import (
    DeviceStateChanged,
    Event,
    HallState,
    RatingExpired,
    RatingReasonAdded,
    RatingRequested,
    RatingStatus,
    Ticket,
    TicketRated,
    WindowState,
)

if TYPE_CHECKING:
    from hub.config import HallConfig


class RatingRules:
    cfg: HallConfig

    def _window(self, state: HallState, no: int) -> WindowState:  # provided by QueueEngine
        raise NotImplementedError

    def _staffed(self, state: HallState, no: int, allow_paused: bool = False) -> WindowState:
        raise NotImplementedError

    def _ask_rating(
        self, state: HallState, now: dt.datetime, win: WindowState, ticket: Ticket
    ) -> list[Event]:
        """Open the window's keypad for a rating of `ticket`, ending any rating still open there."""
        assert win.clerk is not None
        events = self._expire_rating(state, now, win, unless=ticket.id)
        request_id = state.rating_seq % 65535 + 1
        deadline = now + dt.timedelta(seconds=self.cfg.rating.timeout_s)
        return [
            *events,
            RatingRequested(
                at=now,
                ticket_id=ticket.id,
                number=ticket.number,
                window_no=win.no,
                clerk=win.clerk.username,
                request_id=request_id,
                deadline=deadline,
                clerk_name=win.clerk.name,
                staff_no=win.clerk.staff_no,
            ),
        ]

    def _expire_rating(
        self, state: HallState, now: dt.datetime, win: WindowState, unless: str | None = None
    ) -> list[Event]:
        ticket = state.tickets.get(win.rating_ticket or "")
        if ticket is None or ticket.id == unless or ticket.rating is None:
            return []
        if ticket.rating.status is not RatingStatus.PENDING:
            return []
        return [
            RatingExpired(
                at=now,
                ticket_id=ticket.id,
                number=ticket.number,
                window_no=win.no,
                clerk=ticket.rating.clerk,
                request_id=ticket.rating.request_id,
            )
        ]

    def request_rating(self, state: HallState, now: dt.datetime, no: int) -> list[Event]:
        """The clerk's "request rating" key: ask again about the ticket last served here."""
        win = self._staffed(state, no, allow_paused=True)
        ticket = state.tickets.get(win.last_served or "")
        if ticket is None:
            raise DomainError(
                "nothing_to_rate",
                "本窗口今天还没有办结的号",
                "no ticket has been served at this window today",
            )
        if ticket.rating and ticket.rating.status is RatingStatus.RATED:
            raise DomainError(
                "already_rated",
                f"{ticket.number}号已评价",
                f"{ticket.number} has been rated already",
            )
        return self._ask_rating(state, now, win, ticket)

    def expire_ratings(self, state: HallState, now: dt.datetime) -> list[Event]:
        """Ratings whose time ran out without a press become "not rated"."""
        events: list[Event] = []
        for win in state.windows.values():
            ticket = state.tickets.get(win.rating_ticket or "")
            if ticket and ticket.rating and now > ticket.rating.deadline:
                events += self._expire_rating(state, now, win)
        return events

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
        """A citizen's press, accepted only inside the window a request opened; once per ticket.

        A press that happened in time but reached the hub late (the agent buffered it while the
        hub restarted) still counts, even if the rating was meanwhile stored as "not rated".
        """
        self._window(state, no)
        if isinstance(level, bool) or level not in range(1, 6):
            raise Invalid("invalid", "评价等级应为1-5", "a rating level is 1 (非常满意) to 5")
        pressed = min(pressed_at or now, now)
        ticket = next(
            (
                t
                for t in state.tickets.values()
                if t.rating and t.rating.window == no and t.rating.request_id == request_id
            ),
            None,
        )
        if ticket is None or ticket.rating is None:
            raise DomainError(
                "no_rating_open", "当前没有待评价的办件", "no rating was asked for at this window"
            )
        if ticket.rating.status is RatingStatus.RATED:
            raise DomainError(
                "already_rated",
                f"{ticket.number}号已评价",
                f"{ticket.number} has been rated already",
            )
        if pressed > ticket.rating.deadline or pressed < ticket.rating.requested_at:
            raise DomainError("rating_closed", "评价时间已过", "the time to rate has passed")
        return [
            TicketRated(
                at=now,
                ticket_id=ticket.id,
                number=ticket.number,
                window_no=no,
                clerk=ticket.rating.clerk,
                request_id=request_id,
                level=level,
                reason=(reason or "").strip() or None if level >= 4 else None,
                pressed_at=pressed,
                source=source,
            )
        ]

    def add_rating_reason(
        self, state: HallState, now: dt.datetime, ticket_id: str, reason: str, source: str
    ) -> list[Event]:
        """The reason for a 差评, added later at the kiosk or by the office."""
        ticket = state.tickets.get(ticket_id)
        if ticket is None:
            raise NotFound("no_ticket", "今日无此号", f"no ticket {ticket_id} today")
        rating = ticket.rating
        if rating is None or rating.status is not RatingStatus.RATED or (rating.level or 0) < 4:
            raise DomainError("no_bad_rating", "该号没有差评", "that ticket has no 不满意 rating")
        if rating.reason:
            raise DomainError("has_reason", "已有原因", "a reason is recorded already")
        if not reason.strip():
            raise Invalid("invalid", "需要原因", "a reason is needed")
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
            raise Invalid("invalid", "设备状态无效", "status is online, offline or error")
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

