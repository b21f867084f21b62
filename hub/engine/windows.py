"""A window's clerk: signing in and out (own account only, art. 21), a supervisor moving a clerk,
and pausing with a reason code and resuming (paused time is accounted per reason).
"""

from __future__ import annotations

import datetime as dt

from .base import RulesBase
from .errors import DomainError, Invalid
from .model import (
    Clerk,
    ClerkSignedIn,
    ClerkSignedOut,
    Event,
    HallState,
    WindowPaused,
    WindowResumed,
    WindowState,
)


class WindowRules(RulesBase):
    def sign_in(self, state: HallState, now: dt.datetime, no: int, clerk: Clerk) -> list[Event]:
        """Own account only (art. 21): signing in elsewhere ends the clerk's other sign-in."""
        win = self._window(state, no)
        events: list[Event] = []
        for other in state.windows.values():
            if other.clerk and other.clerk.username == clerk.username and other.no != no:
                if other.current:  # as sign_out: a called ticket is not left without a clerk
                    raise DomainError(
                        "ticket_in_service",
                        f"请先在{other.no}号窗口办结或转办当前号",
                        f"finish or transfer the ticket at window {other.no} first",
                    )
                events += self._leave(other, now, "signed_in_elsewhere")
        if win.clerk is not None:
            if win.clerk.username == clerk.username:
                return events
            events += self._leave(win, now, "replaced")
        return [*events, ClerkSignedIn(at=now, window_no=no, clerk=clerk)]

    def sign_out(self, state: HallState, now: dt.datetime, no: int) -> list[Event]:
        win = self._window(state, no)
        if win.clerk is None:
            return []
        if win.current:
            raise DomainError(
                "ticket_in_service",
                "请先办结、过号或转办当前号",
                "finish, skip or transfer the current ticket first",
            )
        return self._leave(win, now, "signed_out")

    def move_clerk(
        self, state: HallState, now: dt.datetime, username: str, to_window: int
    ) -> list[Event]:
        """A supervisor moves a signed-in clerk to a free window (a queue building up there).

        The move is the clerk's sign-out at the old window (reason "moved") and sign-in at the
        new one, so replay, the screens and the time accounts see the two ordinary events. As
        with signing in elsewhere, a called ticket must not be left without its clerk, and the
        target must have nobody at it: a move never silently replaces another clerk.
        """
        old = next(
            (w for w in state.windows.values() if w.clerk and w.clerk.username == username), None
        )
        if old is None or old.clerk is None:
            raise DomainError(
                "not_signed_in", "该工作人员未在窗口登录",
                f"{username} is not signed in at a window",
            )
        target = self._window(state, to_window)
        if to_window == old.no:
            raise Invalid("invalid", "已在该窗口", f"{username} is already at window {to_window}")
        if target.clerk is not None:
            raise DomainError(
                "window_taken",
                f"{to_window}号窗口已有工作人员",
                f"window {to_window} has a clerk signed in",
            )
        if old.current:
            raise DomainError(
                "ticket_in_service",
                f"请先在{old.no}号窗口办结或转办当前号",
                f"finish or transfer the ticket at window {old.no} first",
            )
        clerk = old.clerk
        return [*self._leave(old, now, "moved"),
                ClerkSignedIn(at=now, window_no=to_window, clerk=clerk)]

    def _leave(self, win: WindowState, now: dt.datetime, reason: str) -> list[Event]:
        assert win.clerk is not None
        events: list[Event] = []
        if win.pause:
            events.append(self._resumed(win, now))
        events.append(
            ClerkSignedOut(at=now, window_no=win.no, username=win.clerk.username, reason=reason)
        )
        return events

    def pause(self, state: HallState, now: dt.datetime, no: int, reason: str) -> list[Event]:
        win = self._staffed(state, no, allow_paused=True)  # already paused: say so below
        reason = reason.strip()
        if not reason:
            raise Invalid("invalid", "需要暂停原因", "a pause needs a reason code")
        if reason not in self.cfg.queue.pause_reasons:
            codes = self.cfg.queue.pause_reasons
            raise Invalid("unknown_reason", f"暂停原因应为：{'、'.join(codes)}",
                          f"the pause reason must be one of: {', '.join(codes)}")
        if win.pause:
            raise DomainError("already_paused", "窗口已暂停", "the window is already paused")
        if win.current:
            raise DomainError(
                "ticket_in_service",
                "请先办结、过号或转办当前号",
                "finish, skip or transfer the current ticket first",
            )
        return [WindowPaused(at=now, window_no=no, reason=reason)]

    def resume(self, state: HallState, now: dt.datetime, no: int) -> list[Event]:
        win = self._staffed(state, no, allow_paused=True)
        if not win.pause:
            raise DomainError("not_paused", "窗口未暂停", "the window is not paused")
        return [self._resumed(win, now)]

    def _resumed(self, win: WindowState, now: dt.datetime) -> WindowResumed:
        assert win.pause is not None
        paused_s = max(0.0, (now - win.pause.since).total_seconds())
        return WindowResumed(at=now, window_no=win.no, reason=win.pause.reason, paused_s=paused_s)
