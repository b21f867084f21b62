"""A window's actions (call-next, call, recall, skip, transfer, pause, resume, finish, request a
rating) by its clerk or its caller keypad, and the parsing of their arguments.

A clerk acts only at the window they signed in at (art. 21); a device agent only for the
windows its devices serve. Both are checked under the lock, with the decision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from hub import presenters, shapes
from hub.auth import Principal, Role
from hub.engine import HallState, Invalid, NotFound
from hub.engine.model import Event

from .commit import Decide, Inbox
from .core import ServiceCore
from .errors import Forbidden

WINDOW_ACTIONS = (
    "call-next",
    "call",
    "recall",
    "skip",
    "transfer",
    "pause",
    "resume",
    "finish",
    "request-rating",
)


class Calling:
    def __init__(self, core: ServiceCore) -> None:
        self.core = core

    def window_action(
        self,
        who: Principal,
        no: int,
        action: str,
        args: shapes.WindowAction | dict[str, Any],
        addr: str = "",
        agent_windows: frozenset[int] = frozenset(),
        inbox: Inbox | None = None,
    ) -> dict:
        """call-next, call, recall, … at window `no`: by its clerk, or by its caller keypad.

        A device agent acts only for the windows its devices serve, and the engine refuses any
        window action while no clerk is signed in there. `args` comes decoded from the edge
        (hub/shapes/); the keypad's, built by the hub, is converted alike.
        """
        core = self.core
        if isinstance(args, dict):
            args = shapes.convert(args, shapes.WindowAction)
        if who.role is Role.AGENT and no not in agent_windows:
            raise Forbidden(
                "wrong_window",
                "error.wrong_window", no=no,
            )
        decider = self._window_decider(no, action, args)

        def decide(state: HallState, now: dt.datetime) -> list[Event]:
            if who.role is not Role.AGENT:
                self._at_window(who, no)  # under the lock: nobody signs in between
            return decider(state, now)

        records = core.execute(who, decide, addr, inbox, action=action, detail=args.given())
        with core.lock:
            view = presenters.window_view(core.cfg, core.state, core.state.windows[no])
        view["events"] = [r.public() for r in records]
        return view

    def _at_window(self, who: Principal, no: int) -> None:
        """A clerk acts only at the window they signed in at (art. 21)."""
        self.core.require(who, Role.CLERK)
        if who.window != no:
            raise Forbidden(
                "wrong_window",
                "error.signed_in_elsewhere", window=who.window, no=no,
            )
        win = self.core.state.windows.get(no)
        if win is None or win.clerk is None or win.clerk.username != who.name:
            raise Forbidden(
                "not_signed_in",
                "error.session_moved",
            )

    def _window_decider(self, no: int, action: str, a: shapes.WindowAction) -> Decide:
        e = self.core.engine
        deciders: dict[str, Callable[[HallState, dt.datetime], list[Event]]] = {
            "call-next": lambda s, now: e.call_next(s, now, no),
            "call": lambda s, now: e.call_number(
                s, now, no, given(a.number, "number", required=True) or ""),
            "recall": lambda s, now: e.recall(s, now, no),
            "skip": lambda s, now: e.skip(s, now, no),
            "transfer": lambda s, now: e.transfer(
                s,
                now,
                no,
                service=given(a.service, "service"),
                to_window=a.window,
                reason=given(a.reason, "reason") or "",
            ),
            "pause": lambda s, now: e.pause(
                s, now, no, given(a.reason, "reason", required=True) or ""),
            "resume": lambda s, now: e.resume(s, now, no),
            "finish": lambda s, now: e.finish(s, now, no, **_finish_args(a)),
            "request-rating": lambda s, now: e.request_rating(s, now, no),
        }
        if action not in deciders:
            raise NotFound("unknown_action", "error.unknown_action", action=action)
        return deciders[action]


def given(value: str | None, key: str, required: bool = False) -> str | None:
    """A text argument (its type and length checked by hub/shapes/); blank is not given."""
    if value is None or not value.strip():
        if required:
            raise Invalid("invalid", "error.field_required", key=key)
        return None
    return value


def _finish_args(a: shapes.WindowAction) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if a.outcome is not None:
        out["kind"] = a.outcome
    for key in ("items", "departments"):
        if getattr(a, key) is not None:
            out[key] = getattr(a, key)
    out["authority"] = given(a.authority, "authority")
    out["reason"] = given(a.reason, "reason")
    if a.reported_on is not None:
        out["reported_on"] = a.reported_on
    return out
