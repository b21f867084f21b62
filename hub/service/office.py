"""What the center's office (supervisors and admins) changes in the hall: returns decided,
green passes and appointments, a rating's reason, the screens' notice, items suspended and
reopened, clerks moved between windows. Every one of them is audited with its change."""

from __future__ import annotations

import datetime as dt
import logging

from hub.auth import OFFICE_ROLES, Principal, Role
from hub.engine.model import (
    AppointmentBooked,
    ClerkSignedOut,
    GreenPassGranted,
    NoticeSet,
    RatingReasonAdded,
    ReturnDecided,
    ServiceClosed,
    ServiceReopened,
)

from .commit import the
from .core import ServiceCore

log = logging.getLogger(__name__)


class Office:
    def __init__(self, core: ServiceCore) -> None:
        self.core = core

    def decide_return(
        self, who: Principal, ticket_id: str, approve: bool, note: str = "", addr: str = ""
    ) -> dict:
        core = self.core
        core.require(who, *OFFICE_ROLES)
        records = core.execute(
            who,
            lambda s, now: core.engine.decide_return(
                s, now, ticket_id, approve=approve, supervisor=who.name, note=note
            ),
            addr,
            action="approve-return" if approve else "refuse-return",
            detail={"ticket": ticket_id, "note": note},
        )
        return the(records, ReturnDecided).public()

    def grant_green_pass(
        self, who: Principal, code: str, project: str, service: str | None = None, addr: str = ""
    ) -> dict:
        core = self.core
        core.require(who, *OFFICE_ROLES)
        records = core.execute(
            who,
            lambda s, now: core.engine.grant_green_pass(s, now, code, project, who.name, service),
            addr,
            action="grant-green-pass",
            detail={"code": code, "project": project, "service": service},
        )
        return the(records, GreenPassGranted).public()

    def book_appointment(
        self, who: Principal, code: str, service: str, day: dt.date, addr: str = "",
        id_number: str | None = None,
    ) -> dict:
        """An appointment; with the citizen's `id_number`, booked under its pseudonym for the
        day (never the number: hub/service/identity.py), so a swipe at the kiosk finds it."""
        core = self.core
        core.require(who, *OFFICE_ROLES)
        person = None
        if id_number:
            person = core.identity.appointment_person(  # type: ignore[attr-defined]
                id_number, day)
        records = core.execute(
            who, lambda s, now: core.engine.book_appointment(s, now, code, service, day, person),
            addr, action="book-appointment",
            detail={"code": code, "service": service, "day": day.isoformat(),
                    "for_id_card": person is not None},
        )
        return the(records, AppointmentBooked).public()

    def add_rating_reason(
        self, who: Principal, ticket_id: str, reason: str, addr: str = ""
    ) -> dict:
        """The reason for a 差评, given later at the kiosk or recorded by the office."""
        core = self.core
        core.require(who, Role.KIOSK, *OFFICE_ROLES)
        source = "kiosk" if who.role is Role.KIOSK else "office"
        records = core.execute(
            who,
            lambda s, now: core.engine.add_rating_reason(s, now, ticket_id, reason, source),
            addr,
        )
        return the(records, RatingReasonAdded).public()

    def set_notice(self, who: Principal, text: str, text_en: str = "", addr: str = "") -> dict:
        """The scrolling line on every screen, set live by the office (empty: the hall file's)."""
        core = self.core
        core.require(who, *OFFICE_ROLES)
        records = core.execute(
            who, lambda s, now: core.engine.set_notice(s, now, text, text_en, who.name), addr,
            action="set-notice", detail={"text": text, "text_en": text_en})
        return the(records, NoticeSet).public()

    def close_service(self, who: Principal, service: str, reason: str, addr: str = "") -> dict:
        """Suspend an item (its system is down, its staff are away): kiosks refuse tickets for
        it with `service_closed` and show the reason, until the office reopens it."""
        core = self.core
        core.require(who, *OFFICE_ROLES)
        records = core.execute(
            who, lambda s, now: core.engine.close_service(s, now, service, reason), addr,
            action="close-service", detail={"service": service, "reason": reason})
        return the(records, ServiceClosed).public()

    def reopen_service(self, who: Principal, service: str, addr: str = "") -> dict:
        """Take tickets for a suspended item again."""
        core = self.core
        core.require(who, *OFFICE_ROLES)
        records = core.execute(
            who, lambda s, now: core.engine.reopen_service(s, now, service), addr,
            action="reopen-service", detail={"service": service})
        return the(records, ServiceReopened).public()

    def move_clerk(self, who: Principal, username: str, to_window: int, addr: str = "") -> dict:
        """Move a signed-in clerk to a free window without signing them out of their panel.

        The events and the session's new window are written under the one lock, and the
        move listeners run under it too, so the clerk's token never acts for the old window
        after the move and their panel joins the new window's room before its next event.
        """
        core = self.core
        core.require(who, *OFFICE_ROLES)
        with core.lock:
            records = core.execute(
                who, lambda s, now: core.engine.move_clerk(s, now, username, to_window), addr,
                action="move-clerk", detail={"clerk": username, "window": to_window})
            moved = core.accounts.move_sessions(username, to_window, core.clock())
            from_window = next(
                r.event.window_no for r in records
                if isinstance(r.event, ClerkSignedOut) and r.event.reason == "moved"
            )
            core.clerk_moved(username, from_window, to_window, moved)
        return {"username": username, "from_window": from_window, "window": to_window,
                "events": [r.public() for r in records]}
