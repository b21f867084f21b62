"""What every rule of the engine needs: the hall's configuration, its local time, and the
checks of an item, a window and the ticket at it, each raising the DomainError a clerk sees.
"""

from __future__ import annotations

import datetime as dt

from hub.config import HallConfig

from . import queries
from .errors import DomainError, NotFound
from .model import HallState, Ticket, WindowState


class RulesBase:
    def __init__(self, cfg: HallConfig) -> None:
        self.cfg = cfg

    def local(self, now: dt.datetime) -> dt.datetime:
        if now.tzinfo is None:
            raise ValueError("the engine needs aware datetimes")
        return now.astimezone(self.cfg.zone)

    def _check_day(self, state: HallState, now: dt.datetime) -> None:
        if self.local(now).date() != state.day:
            raise DomainError(
                "day_not_rolled", "营业日未切换", "the business day has not rolled over"
            )

    def _service(self, code: str):
        if not self.cfg.has_service(code or ""):
            raise NotFound("unknown_service", f"无此事项：{code}", f"no service item {code!r}")
        return self.cfg.service(code)

    def _window(self, state: HallState, no: int) -> WindowState:
        if not self.cfg.has_window(no):
            raise NotFound("unknown_window", f"无{no}号窗口", f"no window {no}")
        return queries.window_state(state, no)

    def _staffed(self, state: HallState, no: int, allow_paused: bool = False) -> WindowState:
        win = self._window(state, no)
        if win.clerk is None:
            raise DomainError("no_clerk", "窗口无人登录", "no clerk is signed in at this window")
        if win.pause and not allow_paused:
            raise DomainError(
                "window_paused", "窗口暂停中，请先恢复", "the window is paused: resume first"
            )
        return win

    def _ready(self, state: HallState, no: int) -> WindowState:
        win = self._staffed(state, no)
        if win.current:
            current = state.tickets[win.current]
            raise DomainError(
                "ticket_in_service",
                f"请先办结、过号或转办{current.number}号",
                f"finish, skip or transfer {current.number} first",
            )
        return win

    def _current(self, state: HallState, no: int) -> tuple[WindowState, Ticket]:
        win = self._staffed(state, no, allow_paused=True)
        if not win.current:
            raise DomainError("no_current", "当前没有在办的号", "no ticket at this window")
        return win, state.tickets[win.current]
