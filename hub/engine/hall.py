"""Hall-wide acts: a supervisor suspending and reopening an item, the screens' scrolling notice,
a citizen's complaint or suggestion (art. 27), and the audit head published for the feed.
"""

from __future__ import annotations

import datetime as dt

from .base import RulesBase
from .casework import COMPLAINT_CHANNELS
from .errors import DomainError, Invalid
from .model import (
    AuditHead,
    ComplaintFiled,
    Event,
    HallState,
    NoticeSet,
    ServiceClosed,
    ServiceReopened,
)

COMPLAINT_MAX = 500  # characters of a complaint's text
_PHONE_CHARS = frozenset("0123456789-+ ")


class HallRules(RulesBase):
    def close_service(
        self, state: HallState, now: dt.datetime, service: str, reason: str
    ) -> list[Event]:
        self._service(service)
        if not reason.strip():
            raise Invalid("invalid", "error.close_needs_reason")
        return [ServiceClosed(at=now, service=service, reason=reason.strip())]

    def set_notice(self, state: HallState, now: dt.datetime, text: str, text_en: str,
                   by: str) -> list[Event]:
        """A supervisor's scrolling line for every screen; an empty text restores the hall's."""
        text, text_en = text.strip(), text_en.strip()
        if len(text) > 300 or len(text_en) > 300:
            raise Invalid("invalid", "error.notice_too_long")
        if not text:
            center = self.cfg.center
            return [NoticeSet(at=now, text=center.notice, text_en=center.notice_en, by=by,
                              reset=True)]
        return [NoticeSet(at=now, text=text, text_en=text_en, by=by)]

    def publish_audit_head(self, state: HallState, now: dt.datetime, seq: int,
                           head: str) -> list[Event]:
        """The audit log's head (`seq`, `head`) for the feed, once a business day: nothing if
        this day's is out already (the state keeps its day, so a restart does not repeat it)."""
        if state.audit_head_day == state.day:
            return []
        return [AuditHead(at=now, day=state.day, seq=seq, hash=head)]

    def file_complaint(
        self,
        state: HallState,
        now: dt.datetime,
        category: str,
        text: str,
        *,
        window: int | None = None,
        staff_no: str | None = None,
        phone: str | None = None,
        channel: str | None = None,
        source: str | None = None,
    ) -> list[Event]:
        """A complaint or suggestion (art. 27): checked here, kept and forwarded as an event.
        Left at a kiosk or on the citizen's phone (`source="phone"`), or entered by the office
        from another `channel` (the complaint phone, the box, a letter, a visit); either way
        its case opens with it (hub/engine/casework.py).
        """
        self._check_day(state, now)
        if channel is not None and channel not in COMPLAINT_CHANNELS:
            raise Invalid("invalid", "error.complaint_channel",
                          channels=", ".join(COMPLAINT_CHANNELS))
        if category not in {c.code for c in self.cfg.kiosk.complaint_categories}:
            raise Invalid("invalid", "error.complaint_category", category=category)
        text = text.strip()
        if not 1 <= len(text) <= COMPLAINT_MAX:
            raise Invalid("invalid", "error.complaint_text", most=COMPLAINT_MAX)
        if window is not None:
            self._window(state, window)
        staff_no = (staff_no or "").strip() or None
        if staff_no is not None and not (len(staff_no) <= 20 and staff_no.isprintable()):
            raise Invalid("invalid", "error.staff_no_format")
        phone = (phone or "").strip() or None
        if phone is not None and not (
            len(phone) <= 20 and set(phone) <= _PHONE_CHARS and any(c.isdigit() for c in phone)
        ):
            raise Invalid("invalid", "error.phone_format")
        return [
            ComplaintFiled(
                at=now,
                complaint_id=f"TS{state.day:%Y%m%d}{state.complaint_seq + 1:04d}",
                category=category,
                text=text,
                window_about=window,
                staff_no=staff_no,
                phone=phone,
                source=source or ("office" if channel else "kiosk"),
                channel=channel,
            )
        ]

    def reopen_service(self, state: HallState, now: dt.datetime, service: str) -> list[Event]:
        if service not in state.closed_services:
            raise DomainError("not_closed", "error.not_closed")
        return [ServiceReopened(at=now, service=service)]
