"""The supervisor's move of a clerk to another window, on the small hall of
engine_helpers: a sign-out at the old window (reason "moved") and a sign-in at the new one."""

from __future__ import annotations

import pytest

from hub.engine import DomainError
from hub.engine.model import ClerkSignedIn, ClerkSignedOut, WindowResumed
from tests.engine_helpers import Hall, clerk, encode, replay


def refuse(h: Hall, code: str, *args: object) -> None:
    with pytest.raises(DomainError) as err:
        h.do("move_clerk", *args)
    assert err.value.code == code


def test_a_clerk_moves_to_a_free_window_and_replay_agrees():
    h = Hall()
    h.do("sign_in", 1, clerk("zhang"))
    h.do("pause", 1, "break")
    events = h.do("move_clerk", "zhang", 2)
    assert [type(e) for e in events] == [WindowResumed, ClerkSignedOut, ClerkSignedIn]
    out, into = events[1], events[2]
    assert (out.window_no, out.username, out.reason) == (1, "zhang", "moved")
    assert (into.window_no, into.clerk) == (2, clerk("zhang"))
    assert h.state.windows[1].clerk is None and h.state.windows[1].pause is None
    assert h.state.windows[2].clerk == clerk("zhang") and h.state.windows[2].pause is None
    # The moved clerk calls at the new window.
    ticket = h.issue("biz_change")
    assert h.call(2).ticket_id == ticket.ticket_id
    assert encode(replay(h.cfg, h.start, h.events)) == encode(h.state)


def test_the_move_is_refused_unless_the_clerk_is_free_and_the_window_empty():
    h = Hall()
    refuse(h, "not_signed_in", "zhang", 2)  # not at any window
    h.do("sign_in", 1, clerk("zhang"))
    h.do("sign_in", 2, clerk("li"))
    refuse(h, "unknown_window", "zhang", 9)
    refuse(h, "invalid", "zhang", 1)  # already there
    refuse(h, "window_taken", "zhang", 2)  # never replaces someone silently
    h.issue("biz_reg")
    h.call(1)
    refuse(h, "ticket_in_service", "zhang", 3)  # the called citizen keeps their clerk
    assert h.state.windows[1].clerk == clerk("zhang")
    h.do("finish", 1)
    assert [type(e) for e in h.do("move_clerk", "zhang", 3)] == [ClerkSignedOut, ClerkSignedIn]
    assert h.state.windows[3].clerk == clerk("zhang")
