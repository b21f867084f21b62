"""Issuing tickets (normal, green channel, appointment), and granting the passes and booking
the appointments that green-channel and appointment tickets are issued against.
"""

from __future__ import annotations

import datetime as dt

from .base import RulesBase
from .errors import DomainError, Invalid
from .model import AppointmentBooked, Channel, Event, GreenPassGranted, HallState, TicketIssued


class IssuingRules(RulesBase):
    def issue_ticket(
        self,
        state: HallState,
        now: dt.datetime,
        service: str,
        channel: Channel = Channel.NORMAL,
        reference: str | None = None,
    ) -> list[Event]:
        self._check_day(state, now)
        if channel is Channel.APPOINTMENT and not service:
            service = self._appointment(state, reference).service
        if channel is Channel.GREEN and not service:
            service = self._green_pass(state, reference, None)
        svc = self._service(service)
        if svc.code in state.closed_services:
            reason = state.closed_services[svc.code]
            raise DomainError(
                "service_closed", f"该事项暂停受理：{reason}", f"item suspended: {reason}"
            )
        if not self.cfg.is_open(svc, self.local(now)):
            hours = ", ".join(f"{a}-{b}" for a, b in self.cfg.hours[svc.hours].periods)
            raise DomainError(
                "closed", f"不在办理时间（{hours}）", f"outside opening hours ({hours})"
            )
        priority = False
        if channel is Channel.NORMAL:
            if state.issued.get(svc.code, 0) >= svc.daily_quota:
                raise DomainError(
                    "quota_exhausted",
                    f"今日号源已发完（{svc.daily_quota}）",
                    f"today's quota of {svc.daily_quota} tickets is used up",
                )
        elif channel is Channel.GREEN:
            self._green_pass(state, reference, svc.code)
            priority = True
        else:
            appt = self._appointment(state, reference)
            if appt.service != svc.code:
                raise Invalid(
                    "wrong_service", "预约事项不符", "the appointment is for another item"
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
            )
        ]

    def _green_pass(self, state: HallState, code: str | None, service: str | None) -> str:
        """Check a pass for `service` (None: any item) and return the item it is for."""
        if not self.cfg.green_channel.enabled:
            raise DomainError(
                "green_disabled", "未开通绿色通道", "the green channel is not enabled"
            )
        if not (code or "").strip():
            raise Invalid("code_required", "请出示绿色通道码", "a green-channel code is required")
        found = state.passes.get((code or "").strip())
        if found is None or found.day != state.day:
            raise Invalid("bad_pass", "绿色通道码无效", "unknown or expired green-channel code")
        if found.used_by:
            raise DomainError(
                "pass_used", "绿色通道码已使用", "this green-channel code was already used"
            )
        if found.service and service and found.service != service:
            raise Invalid("wrong_service", "绿色通道码不适用该事项", "the code is for another item")
        if not (found.service or service):
            raise Invalid("choose_service", "请选择办理事项", "choose the item for this pass")
        return found.service or service  # type: ignore[return-value]

    def _appointment(self, state: HallState, code: str | None):
        found = state.appointments.get((code or "").strip())
        if found is None or found.day != state.day:
            raise Invalid(
                "bad_appointment", "预约码无效或非当日预约", "unknown appointment, or not for today"
            )
        if found.used_by:
            raise DomainError(
                "appointment_used", "该预约已签到", "this appointment has already checked in"
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
            raise Invalid("invalid", "需要通行码和项目名称", "a code and a project name are needed")
        if code in state.passes:
            raise DomainError("duplicate", "绿色通道码已存在", "that code already exists")
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
        self, state: HallState, now: dt.datetime, code: str, service: str, day: dt.date
    ) -> list[Event]:
        code = code.strip()
        self._service(service)
        if not code:
            raise Invalid("invalid", "需要预约码", "an appointment code is needed")
        if code in state.appointments:
            raise DomainError("duplicate", "预约码已存在", "that appointment code already exists")
        if day < state.day:
            raise Invalid("invalid", "预约日期已过", "the appointment date has passed")
        return [AppointmentBooked(at=now, code=code, service=service, day=day)]
