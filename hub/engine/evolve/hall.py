"""Windows, passes, appointments, items, devices, notices, alerts: the rest of the state."""

from __future__ import annotations

from ..model import (
    Alert,
    AlertCleared,
    AlertRaised,
    Appointment,
    AppointmentBooked,
    AuditHead,
    CaseOpened,
    CaseStepped,
    ClerkSignedIn,
    ClerkSignedOut,
    ComplaintFiled,
    ConfigReloaded,
    DeviceHealth,
    DeviceRemoved,
    DeviceStateChanged,
    GreenPass,
    GreenPassGranted,
    HallState,
    JointPartDone,
    Notice,
    NoticeSet,
    Pause,
    ServiceClosed,
    ServiceReopened,
    SlipStatusChanged,
    WindowPaused,
    WindowResumed,
)
from .dispatch import rule, window_at


@rule.register
def _(e: ClerkSignedIn, state: HallState) -> None:
    window_at(state, e.window_no).clerk = e.clerk


@rule.register
def _(e: ClerkSignedOut, state: HallState) -> None:
    win = window_at(state, e.window_no)
    win.clerk = None
    win.pause = None
    # priority_streak stays: fairness is owed to the people waiting, whoever is at the window


@rule.register
def _(e: WindowPaused, state: HallState) -> None:
    window_at(state, e.window_no).pause = Pause(reason=e.reason, since=e.at)


@rule.register
def _(e: WindowResumed, state: HallState) -> None:
    window_at(state, e.window_no).pause = None


@rule.register
def _(e: GreenPassGranted, state: HallState) -> None:
    state.passes[e.code] = GreenPass(
        code=e.code, project=e.project, day=e.day, service=e.service, granted_by=e.granted_by
    )


@rule.register
def _(e: AppointmentBooked, state: HallState) -> None:
    state.appointments[e.code] = Appointment(code=e.code, service=e.service, day=e.day,
                                             person=e.person)


@rule.register
def _(e: ServiceClosed, state: HallState) -> None:
    state.closed_services[e.service] = e.reason


@rule.register
def _(e: ServiceReopened, state: HallState) -> None:
    state.closed_services.pop(e.service, None)


@rule.register
def _(e: DeviceRemoved, state: HallState) -> None:
    state.devices.pop(e.device, None)


@rule.register
def _(e: DeviceStateChanged, state: HallState) -> None:
    state.devices[e.device] = DeviceHealth(
        device=e.device,
        kind=e.kind,
        window=e.window_at,
        windows=list(e.windows_at),
        agent=e.agent,
        status=e.status,
        detail=e.detail,
        since=e.at,
    )


@rule.register
def _(e: NoticeSet, state: HallState) -> None:
    state.notice = None if e.reset else Notice(text=e.text, text_en=e.text_en, by=e.by)


@rule.register
def _(e: SlipStatusChanged, state: HallState) -> None:
    """Nothing in the state: slips live in the store's projection (see QueueEngine.slip_status)."""


@rule.register
def _(e: ComplaintFiled, state: HallState) -> None:
    state.complaint_seq += 1


@rule.register
def _(e: CaseOpened, state: HallState) -> None:
    """Only the day's counter of case numbers: cases live in the store (hub/engine/casework.py)."""
    state.case_seq += 1


@rule.register
def _(e: CaseStepped, state: HallState) -> None:
    """Nothing in the state: a case's steps live in the store's projection."""


@rule.register
def _(e: JointPartDone, state: HallState) -> None:
    """Nothing in the state: a joint case's parts live in the store (see QueueEngine.part_done)."""


@rule.register
def _(e: AlertRaised, state: HallState) -> None:
    state.alerts[e.key] = Alert(key=e.key, kind=e.kind, since=e.at, message=e.message,
                                message_en=e.message_en, window=e.window_at, service=e.service)


@rule.register
def _(e: AlertCleared, state: HallState) -> None:
    state.alerts.pop(e.key, None)


@rule.register
def _(e: ConfigReloaded, state: HallState) -> None:
    """Nothing in the state: the hall file is config, swapped by HallService.reload; the event
    is the record (and the screens' cue) that it changed."""


@rule.register
def _(e: AuditHead, state: HallState) -> None:
    state.audit_head_day = e.day
