"""What every rule of the engine needs: the hall's configuration, its local time, and the
checks of an item, a window and the ticket at it, each raising the DomainError a clerk sees.
"""

from __future__ import annotations

import datetime as dt

from hub.config import HallConfig
from hub.i18n import Catalogs, catalogs

from . import queries
from .errors import DomainError, NotFound
from .model import HallState, Ticket, WindowState


class RulesBase:
    def __init__(self, cfg: HallConfig, records: Catalogs | None = None) -> None:
        self.cfg = cfg
        # The catalogs the texts of records (an alert's message) are said from: read once per
        # process, before any rule runs.
        self.records = records if records is not None else catalogs()

    def local(self, now: dt.datetime) -> dt.datetime:
        if now.tzinfo is None:
            raise ValueError("the engine needs aware datetimes")
        return now.astimezone(self.cfg.zone)

    def _check_day(self, state: HallState, now: dt.datetime) -> None:
        if self.local(now).date() != state.day:
            raise DomainError("day_not_rolled", "error.day_not_rolled")

    def _service(self, code: str):
        if not self.cfg.has_service(code or ""):
            raise NotFound("unknown_service", "error.unknown_service", code=code)
        return self.cfg.service(code)

    def _window(self, state: HallState, no: int) -> WindowState:
        if not self.cfg.has_window(no):
            raise NotFound("unknown_window", "error.unknown_window", no=no)
        return queries.window_state(state, no)

    def _staffed(self, state: HallState, no: int, allow_paused: bool = False) -> WindowState:
        win = self._window(state, no)
        if win.clerk is None:
            raise DomainError("no_clerk", "error.no_clerk")
        if win.pause and not allow_paused:
            raise DomainError(
                "window_paused", "error.window_paused"
            )
        return win

    def _ready(self, state: HallState, no: int) -> WindowState:
        win = self._staffed(state, no)
        if win.current:
            current = state.tickets[win.current]
            raise DomainError(
                "ticket_in_service",
                "error.ticket_in_service", number=current.number,
            )
        return win

    def _current(self, state: HallState, no: int) -> tuple[WindowState, Ticket]:
        win = self._staffed(state, no, allow_paused=True)
        if not win.current:
            raise DomainError("no_current", "error.no_current")
        return win, state.tickets[win.current]
