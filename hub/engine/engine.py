"""The queue engine: the hall's rules as pure functions from (state, command, time) to events.

No I/O, no Flask, no clock of its own: every method takes the state and `now` and either returns
the events the command produces or raises a DomainError. It never changes the state; `apply`
(evolve/) does, once the store has committed the events. That split is what lets the store
put a change and its outbox event in one transaction, and lets a restarted hub rebuild its state.
"""

from __future__ import annotations

import datetime as dt

from hub.config import HallConfig

from .alerts import AlertRules
from .calling import CallingRules
from .casework import CaseRules
from .finishing import FinishingRules
from .hall import HallRules
from .issuing import IssuingRules
from .model import (
    ClerkSignedOut,
    DayRolled,
    Event,
    HallState,
    TicketStatus,
    WindowResumed,
    WindowState,
)
from .ratings import expired_event, rating_open
from .slips import SlipRules
from .windows import WindowRules


def new_state(cfg: HallConfig, now: dt.datetime) -> HallState:
    """The state of a hall that has never run: today's date, every window closed."""
    return HallState(
        day=now.astimezone(cfg.zone).date(),
        windows={w.no: WindowState(no=w.no) for w in cfg.windows},
    )


class QueueEngine(IssuingRules, WindowRules, CallingRules, FinishingRules, SlipRules, HallRules,
                  AlertRules, CaseRules):
    """Every rule of the hall, one module per kind of act (the rating rules come with
    finishing, which asks for a rating)."""

    def rollover(self, state: HallState, now: dt.datetime) -> list[Event]:
        """Events that end the day if local midnight has passed since `state.day`, else none.

        Tickets still waiting or at a window expire; numbers start again at 001 only on a new day.
        Clerks still signed in are signed out (they sign in again in the morning), and a pause
        still open is closed with its time counted up to midnight, not through the night.
        """
        today = self.local(now).date()
        if today <= state.day:
            return []
        midnight = dt.datetime.combine(
            state.day + dt.timedelta(days=1), dt.time(), tzinfo=self.cfg.zone
        )
        # Every rating still open ends with its day, also one a keypad never reported.
        events: list[Event] = [
            expired_event(now, t) for t in state.tickets.values() if rating_open(t)
        ]
        for win in state.windows.values():
            if win.pause:
                paused_s = max(0.0, (midnight - win.pause.since).total_seconds())
                events.append(
                    WindowResumed(
                        at=now, window_no=win.no, reason=win.pause.reason, paused_s=paused_s
                    )
                )
            if win.clerk:
                events.append(
                    ClerkSignedOut(
                        at=now, window_no=win.no, username=win.clerk.username, reason="day_end"
                    )
                )
        expired = [
            t.id
            for t in state.tickets.values()
            if t.status in (TicketStatus.WAITING, TicketStatus.CALLED)
        ]
        return [*events, DayRolled(at=now, day=today, expired=expired)]
