"""The one entry point, `apply`, and the rule each event type registers with `rule`."""

from __future__ import annotations

from functools import singledispatch

from ..model import Event, HallState, WindowState


def apply(state: HallState, event: Event, seq: int | None = None) -> None:
    rule(event, state)
    if seq is not None:
        state.seq = seq


@singledispatch
def rule(event: Event, state: HallState) -> None:
    raise TypeError(f"no rule to apply {type(event).__name__}")


def window_at(state: HallState, no: int) -> WindowState:
    return state.windows.setdefault(no, WindowState(no=no))
