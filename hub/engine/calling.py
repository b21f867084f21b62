"""Calling at a window: the next ticket or a given number, a recall, a no-show (过号) and a
transfer (联办) to another item or window.
"""

from __future__ import annotations

import datetime as dt

from . import queries
from .base import RulesBase
from .errors import DomainError, Invalid, NotFound
from .model import (
    Event,
    HallState,
    Ticket,
    TicketCalled,
    TicketNoShow,
    TicketRecalled,
    TicketStatus,
    TicketTransferred,
    WindowState,
    queue_key,
)


class CallingRules(RulesBase):
    def call_next(self, state: HallState, now: dt.datetime, no: int) -> list[Event]:
        self._check_day(state, now)
        win = self._ready(state, no)
        ticket, fairness = queries.pick_next(self.cfg, state, no)
        if ticket is None:
            raise DomainError("queue_empty", "当前无人等候", "nobody is waiting for this window")
        return [self._called(state, win, ticket, now, fairness)]

    def call_number(self, state: HallState, now: dt.datetime, no: int, number: str) -> list[Event]:
        self._check_day(state, now)
        win = self._ready(state, no)
        ticket = queries.find_by_number(state, number)
        if ticket is None:
            raise NotFound("no_ticket", f"今日无{number}号", f"no ticket {number} today")
        if ticket.status is not TicketStatus.WAITING:
            raise DomainError(
                "not_waiting", f"{ticket.number}号不在等候", f"{ticket.number} is not waiting"
            )
        if not queries.can_serve(self.cfg, state, no, ticket):
            raise DomainError(
                "not_served_here",
                "本窗口不办理该号的事项",
                "this window does not serve that ticket's item",
            )
        return [self._called(state, win, ticket, now, False)]

    def _called(
        self, state: HallState, win: WindowState, ticket: Ticket, now: dt.datetime, fairness: bool
    ) -> TicketCalled:
        assert win.clerk is not None
        covering = ticket.target_window if ticket.target_window not in (None, win.no) else None
        if covering is None and ticket.service not in self.cfg.window(win.no).services:
            covering = next(
                (
                    c
                    for c in queries.covered_windows(self.cfg, state, win.no)
                    if ticket.service in self.cfg.window(c).services
                ),
                None,
            )
        return TicketCalled(
            at=now,
            ticket_id=ticket.id,
            number=ticket.number,
            window_no=win.no,
            clerk=win.clerk.username,
            service=ticket.service,
            covering=covering,
            fairness=fairness,
        )

    def recall(self, state: HallState, now: dt.datetime, no: int) -> list[Event]:
        win, ticket = self._current(state, no)
        if ticket.recalls >= self.cfg.queue.recall_limit:
            raise DomainError(
                "recall_limit",
                f"已重呼{ticket.recalls}次，请按过号处理",
                f"recalled {ticket.recalls} times already: skip it as a no-show",
            )
        return [
            TicketRecalled(
                at=now,
                ticket_id=ticket.id,
                number=ticket.number,
                window_no=no,
                clerk=win.clerk.username,  # type: ignore[union-attr]  # _current: staffed
                service=ticket.service,
                recalls=ticket.recalls + 1,
            )
        ]

    def skip(self, state: HallState, now: dt.datetime, no: int) -> list[Event]:
        """No-show (过号): back behind K waiting tickets the first time, dropped the second."""
        win, ticket = self._current(state, no)
        requeue = not ticket.requeued
        rank = self._requeue_rank(state, ticket) if requeue else None
        return [
            TicketNoShow(
                at=now,
                ticket_id=ticket.id,
                number=ticket.number,
                window_no=no,
                clerk=win.clerk.username,  # type: ignore[union-attr]  # _current: staffed
                service=ticket.service,
                requeued=requeue,
                rank=rank,
            )
        ]

    def _requeue_rank(self, state: HallState, ticket: Ticket) -> tuple[int, int]:
        behind = sorted(
            t.rank
            for t in queries.waiting(state, [queue_key(ticket)])
            if t.service == ticket.service
        )
        k = self.cfg.queue.no_show_requeue_behind
        if k == 0:
            return ticket.rank
        if len(behind) < k:
            return (state.next_rank, 0)
        # Same first component as the k-th ticket, a later second one: right behind it.
        return (behind[k - 1][0], state.next_sub)

    def transfer(
        self,
        state: HallState,
        now: dt.datetime,
        no: int,
        *,
        service: str | None = None,
        to_window: int | None = None,
        reason: str = "",
    ) -> list[Event]:
        """Send the current ticket on (联办), keeping its number, rank and history."""
        win, ticket = self._current(state, no)
        if service is None and to_window is None:
            raise Invalid("invalid", "请指定转办事项或窗口", "transfer needs a service or a window")
        target_service = self._service(service).code if service else ticket.service
        if to_window is not None:
            self._window(state, to_window)
            if to_window == no:
                raise Invalid("invalid", "不能转给本窗口", "cannot transfer to the same window")
            if target_service not in self.cfg.window(to_window).services:
                raise Invalid(
                    "not_served_here",
                    f"{to_window}号窗口不办理该事项",
                    f"window {to_window} does not serve that item",
                )
        elif target_service == ticket.service:
            raise Invalid("invalid", "转办事项与当前相同", "that is the ticket's current item")
        return [
            TicketTransferred(
                at=now,
                ticket_id=ticket.id,
                number=ticket.number,
                window_no=no,
                clerk=win.clerk.username,  # type: ignore[union-attr]  # _current: staffed
                to_service=target_service,
                to_window=to_window,
                reason=reason.strip(),
            )
        ]
