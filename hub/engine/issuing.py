"""Issuing tickets (normal, green channel, appointment), and granting the passes and booking
the appointments that green-channel and appointment tickets are issued against.
"""

from __future__ import annotations

import datetime as dt

from hub.config import IdRequired, Service

from .base import RulesBase
from .errors import DomainError, Invalid
from .model import AppointmentBooked, Channel, Event, GreenPassGranted, HallState, TicketIssued
from .model.vocabulary import QUOTA_CHANNELS
from .persons import Identified, check_person


class IssuingRules(RulesBase):
    def issue_ticket(
        self,
        state: HallState,
        now: dt.datetime,
        service: str,
        channel: Channel = Channel.NORMAL,
        reference: str | None = None,
        identity: Identified | None = None,
    ) -> list[Event]:
        """A ticket; with `identity` (a swiped ID card) bound to that person under the
        per-person rules, and an elderly person's normal ticket is an elderly (适老) one."""
        self._check_day(state, now)
        if channel is Channel.APPOINTMENT and not service:
            service = self._appointment(state, reference).service
        if channel is Channel.GREEN and not service:
            service = self._green_pass(state, reference, None)
        svc = self._service(service)
        if svc.code in state.closed_services:
            reason = state.closed_services[svc.code]
            raise DomainError(
                "service_closed", "error.service_closed", reason=reason
            )
        if not self.cfg.is_open(svc, self.local(now)):
            hours = ", ".join(f"{a}-{b}" for a, b in self.cfg.hours[svc.hours].periods)
            raise DomainError(
                "closed", "error.closed", hours=hours
            )
        identity = self._identity(state, now, svc, channel, identity)
        if identity is not None and identity.elderly and channel is Channel.NORMAL:
            channel = Channel.ELDERLY
        priority = channel is Channel.ELDERLY
        if channel in QUOTA_CHANNELS:
            if state.issued.get(svc.code, 0) >= svc.daily_quota:
                raise DomainError(
                    "quota_exhausted",
                    "error.quota_exhausted", daily_quota=svc.daily_quota,
                )
        elif channel is Channel.GREEN:
            self._green_pass(state, reference, svc.code)
            priority = True
        else:
            appt = self._appointment(state, reference)
            if appt.service != svc.code:
                raise Invalid(
                    "wrong_service", "error.appointment_other_service"
                )
            priority = self.cfg.queue.appointment_priority
        n = state.counters.get(svc.prefix, 0) + 1
        number = f"{svc.prefix}{n:03d}"
        return [
            TicketIssued(
                at=now,
                ticket_id=f"{state.day:%Y%m%d}-{number}",
                number=number,
                service=svc.code,
                channel=channel,
                priority=priority,
                rank=(state.next_rank, 0),
                reference=reference.strip() if reference else None,
                identified=identity is not None,
                person=identity.persons[0] if identity is not None else None,
            )
        ]

    def _identity(self, state: HallState, now: dt.datetime, svc: Service, channel: Channel,
                  identity: Identified | None) -> Identified | None:
        """The identity the ticket is bound to: none for an item that never binds one; a
        refusal if the item needs one and none was swiped (a green pass vouches instead, an
        appointment was booked by the office), or if the person's rules refuse it."""
        if svc.id_required is IdRequired.NEVER:
            return None
        if identity is None:
            if svc.id_required is IdRequired.REQUIRED and channel in QUOTA_CHANNELS:
                raise DomainError("identity_required", "error.identity_required")
            return None
        check_person(self.cfg, state, now, identity.persons, svc.code)
        return identity

    def _green_pass(self, state: HallState, code: str | None, service: str | None) -> str:
        """Check a pass for `service` (None: any item) and return the item it is for."""
        if not self.cfg.green_channel.enabled:
            raise DomainError(
                "green_disabled", "error.green_disabled"
            )
        if not (code or "").strip():
            raise Invalid("code_required", "error.code_required")
        found = state.passes.get((code or "").strip())
        if found is None or found.day != state.day:
            raise Invalid("bad_pass", "error.bad_pass")
        if found.used_by:
            raise DomainError(
                "pass_used", "error.pass_used"
            )
        if found.service and service and found.service != service:
            raise Invalid("wrong_service", "error.pass_other_service")
        if not (found.service or service):
            raise Invalid("choose_service", "error.choose_service")
        return found.service or service  # type: ignore[return-value]

    def _appointment(self, state: HallState, code: str | None):
        found = state.appointments.get((code or "").strip())
        if found is None or found.day != state.day:
            raise Invalid(
                "bad_appointment", "error.bad_appointment"
            )
        if found.used_by:
            raise DomainError(
                "appointment_used", "error.appointment_used"
            )
        return found

    def grant_green_pass(
        self,
        state: HallState,
        now: dt.datetime,
        code: str,
        project: str,
        by: str,
        service: str | None = None,
    ) -> list[Event]:
        code = code.strip()
        if not code or not project.strip():
            raise Invalid("invalid", "error.pass_needs_code")
        if code in state.passes:
            raise DomainError("duplicate", "error.pass_exists")
        if service is not None:
            self._service(service)
        return [
            GreenPassGranted(
                at=now,
                code=code,
                project=project.strip(),
                day=state.day,
                service=service,
                granted_by=by,
            )
        ]

    def book_appointment(
        self, state: HallState, now: dt.datetime, code: str, service: str, day: dt.date,
        person: str | None = None,
    ) -> list[Event]:
        code = code.strip()
        self._service(service)
        if not code:
            raise Invalid("invalid", "error.appointment_needs_code")
        if code in state.appointments:
            raise DomainError("duplicate", "error.appointment_exists")
        if day < state.day:
            raise Invalid("invalid", "error.appointment_past")
        return [AppointmentBooked(at=now, code=code, service=service, day=day, person=person)]
