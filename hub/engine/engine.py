"""The queue engine: the hall's rules as pure functions from (state, command, time) to events.

No I/O, no Flask, no clock of its own: every method takes the state and `now` and either returns
the events the command produces or raises a DomainError. It never changes the state; `apply`
(evolve.py) does, once the store has committed the events. That split is what lets the store
put a change and its outbox event in one transaction, and lets a restarted hub rebuild its state.
"""

from __future__ import annotations

import datetime as dt

from hub.config import CaseType, HallConfig

from . import queries
from .alerts import AlertRules
from .errors import DomainError, Invalid, NotFound
from .model import (
    AppointmentBooked,
    Channel,
    Clerk,
    ClerkSignedIn,
    ClerkSignedOut,
    ComplaintFiled,
    DayRolled,
    Event,
    GreenPassGranted,
    HallState,
    JointPartDone,
    NoticeSet,
    Outcome,
    OutcomeKind,
    ReturnDecided,
    ReturnRequested,
    ServiceClosed,
    ServiceReopened,
    SlipStatus,
    SlipStatusChanged,
    Ticket,
    TicketCalled,
    TicketFinished,
    TicketIssued,
    TicketNoShow,
    TicketRecalled,
    TicketStatus,
    TicketTransferred,
    WindowPaused,
    WindowResumed,
    WindowState,
    queue_key,
)
from .ratings import RatingRules, expired_event, rating_open

_CASE_OUTCOME = {
    CaseType.IMMEDIATE: OutcomeKind.IMMEDIATE,
    CaseType.COMMITMENT: OutcomeKind.COMMITMENT,
    CaseType.JOINT: OutcomeKind.JOINT,
    CaseType.REPORT: OutcomeKind.REPORT,
}
COMPLAINT_MAX = 500  # characters of a complaint's text
_PHONE_CHARS = frozenset("0123456789-+ ")

_SLIP_OUTCOMES = {OutcomeKind.COMMITMENT, OutcomeKind.JOINT, OutcomeKind.REPORT}


def new_state(cfg: HallConfig, now: dt.datetime) -> HallState:
    """The state of a hall that has never run: today's date, every window closed."""
    return HallState(
        day=now.astimezone(cfg.zone).date(),
        windows={w.no: WindowState(no=w.no) for w in cfg.windows},
    )


class QueueEngine(RatingRules, AlertRules):
    def __init__(self, cfg: HallConfig) -> None:
        self.cfg = cfg

    # --- time ---------------------------------------------------------------------------

    def local(self, now: dt.datetime) -> dt.datetime:
        if now.tzinfo is None:
            raise ValueError("the engine needs aware datetimes")
        return now.astimezone(self.cfg.zone)

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

    def _check_day(self, state: HallState, now: dt.datetime) -> None:
        if self.local(now).date() != state.day:
            raise DomainError(
                "day_not_rolled", "营业日未切换", "the business day has not rolled over"
            )

    # --- tickets ------------------------------------------------------------------------

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

    # --- windows ------------------------------------------------------------------------

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

    # --- calling ------------------------------------------------------------------------

    def call_next(self, state: HallState, now: dt.datetime, no: int) -> list[Event]:
        self._check_day(state, now)
        win = self._ready(state, no)
        ticket, fairness = queries.pick_next(self.cfg, state, no)
        if ticket is None:
            raise DomainError("queue_empty", "当前无人等候", "nobody is waiting for this window")
        return [self._called(state, win, ticket, now, fairness)]

    def call_number(self, state: HallState, now: dt.datetime, no: int, number: str) -> list[Event]:
        self._check_day(state, now)
        win = self._ready(state, no)
        ticket = queries.find_by_number(state, number)
        if ticket is None:
            raise NotFound("no_ticket", f"今日无{number}号", f"no ticket {number} today")
        if ticket.status is not TicketStatus.WAITING:
            raise DomainError(
                "not_waiting", f"{ticket.number}号不在等候", f"{ticket.number} is not waiting"
            )
        if not queries.can_serve(self.cfg, state, no, ticket):
            raise DomainError(
                "not_served_here",
                "本窗口不办理该号的事项",
                "this window does not serve that ticket's item",
            )
        return [self._called(state, win, ticket, now, False)]

    def _called(
        self, state: HallState, win: WindowState, ticket: Ticket, now: dt.datetime, fairness: bool
    ) -> TicketCalled:
        assert win.clerk is not None
        covering = ticket.target_window if ticket.target_window not in (None, win.no) else None
        if covering is None and ticket.service not in self.cfg.window(win.no).services:
            covering = next(
                (
                    c
                    for c in queries.covered_windows(self.cfg, state, win.no)
                    if ticket.service in self.cfg.window(c).services
                ),
                None,
            )
        return TicketCalled(
            at=now,
            ticket_id=ticket.id,
            number=ticket.number,
            window_no=win.no,
            clerk=win.clerk.username,
            service=ticket.service,
            covering=covering,
            fairness=fairness,
        )

    def recall(self, state: HallState, now: dt.datetime, no: int) -> list[Event]:
        win, ticket = self._current(state, no)
        if ticket.recalls >= self.cfg.queue.recall_limit:
            raise DomainError(
                "recall_limit",
                f"已重呼{ticket.recalls}次，请按过号处理",
                f"recalled {ticket.recalls} times already: skip it as a no-show",
            )
        return [
            TicketRecalled(
                at=now,
                ticket_id=ticket.id,
                number=ticket.number,
                window_no=no,
                clerk=win.clerk.username,
                service=ticket.service,  # type: ignore[union-attr]
                recalls=ticket.recalls + 1,
            )
        ]

    def skip(self, state: HallState, now: dt.datetime, no: int) -> list[Event]:
        """No-show (过号): back behind K waiting tickets the first time, dropped the second."""
        win, ticket = self._current(state, no)
        requeue = not ticket.requeued
        rank = self._requeue_rank(state, ticket) if requeue else None
        return [
            TicketNoShow(
                at=now,
                ticket_id=ticket.id,
                number=ticket.number,
                window_no=no,
                clerk=win.clerk.username,
                service=ticket.service,
                requeued=requeue,
                rank=rank,
            )
        ]  # type: ignore[union-attr]

    def _requeue_rank(self, state: HallState, ticket: Ticket) -> tuple[int, int]:
        behind = sorted(
            t.rank
            for t in queries.waiting(state, [queue_key(ticket)])
            if t.service == ticket.service
        )
        k = self.cfg.queue.no_show_requeue_behind
        if k == 0:
            return ticket.rank
        if len(behind) < k:
            return (state.next_rank, 0)
        # Same first component as the k-th ticket, a later second one: right behind it.
        return (behind[k - 1][0], state.next_sub)

    def transfer(
        self,
        state: HallState,
        now: dt.datetime,
        no: int,
        *,
        service: str | None = None,
        to_window: int | None = None,
        reason: str = "",
    ) -> list[Event]:
        """Send the current ticket on (联办), keeping its number, rank and history."""
        win, ticket = self._current(state, no)
        if service is None and to_window is None:
            raise Invalid("invalid", "请指定转办事项或窗口", "transfer needs a service or a window")
        target_service = self._service(service).code if service else ticket.service
        if to_window is not None:
            self._window(state, to_window)
            if to_window == no:
                raise Invalid("invalid", "不能转给本窗口", "cannot transfer to the same window")
            if target_service not in self.cfg.window(to_window).services:
                raise Invalid(
                    "not_served_here",
                    f"{to_window}号窗口不办理该事项",
                    f"window {to_window} does not serve that item",
                )
        elif target_service == ticket.service:
            raise Invalid("invalid", "转办事项与当前相同", "that is the ticket's current item")
        return [
            TicketTransferred(
                at=now,
                ticket_id=ticket.id,
                number=ticket.number,
                window_no=no,
                clerk=win.clerk.username,
                to_service=target_service,  # type: ignore[union-attr]
                to_window=to_window,
                reason=reason.strip(),
            )
        ]

    # --- finishing ----------------------------------------------------------------------

    def finish(
        self,
        state: HallState,
        now: dt.datetime,
        no: int,
        *,
        kind: OutcomeKind | None = None,
        items: list[str] | None = None,
        departments: list[str] | None = None,
        authority: str | None = None,
        reported_on: dt.date | None = None,
        reason: str | None = None,
    ) -> list[Event]:
        """Close the current case with its art. 4 outcome (the item's case type by default)."""
        win, ticket = self._current(state, no)
        clerk = win.clerk.username  # type: ignore[union-attr]
        svc = self.cfg.service(ticket.service)
        kind = kind or _CASE_OUTCOME[svc.case_type]
        if kind is OutcomeKind.RETURNED:
            if not (reason or "").strip():
                raise Invalid("invalid", "退件需要说明原因", "a return (退件) needs a reason")
            return [
                ReturnRequested(
                    at=now,
                    ticket_id=ticket.id,
                    number=ticket.number,
                    window_no=no,
                    clerk=clerk,
                    reason=reason.strip(),
                ),  # type: ignore[union-attr]
                *self._ask_rating(state, now, win, ticket),
            ]
        outcome = Outcome(kind=kind)
        if kind is OutcomeKind.JOINT:
            depts = list(dict.fromkeys(departments or []))
            if len(depts) < 2:
                raise Invalid(
                    "invalid", "联办件需要两个以上部门", "a joint case needs 2 or more departments"
                )
            for code in depts:
                if code not in {d.code for d in self.cfg.departments}:
                    raise Invalid("invalid", f"无此部门：{code}", f"no department {code!r}")
            outcome.departments = depts
        if kind is OutcomeKind.REPORT:
            if not (authority or "").strip():
                raise Invalid(
                    "invalid", "上报件需要上级机关", "a report case needs the higher authority"
                )
            outcome.authority = authority.strip()  # type: ignore[union-attr]
            outcome.reported_on = reported_on or state.day
        if kind in _SLIP_OUTCOMES:
            outcome.slip = f"{self.cfg.queue.slip_prefix}{state.day:%Y%m%d}{state.slip_seq + 1:04d}"
            outcome.promised_date = self.cfg.add_workdays(state.day, max(svc.time_limit_days, 1))
            outcome.items = [i.strip() for i in (items or [svc.name]) if i.strip()] or [svc.name]
        return [
            TicketFinished(
                at=now,
                ticket_id=ticket.id,
                number=ticket.number,
                window_no=no,
                clerk=clerk,
                service=ticket.service,
                outcome=outcome,
            ),
            *self._ask_rating(state, now, win, ticket),
        ]

    def decide_return(
        self,
        state: HallState,
        now: dt.datetime,
        ticket_id: str,
        *,
        approve: bool,
        supervisor: str,
        note: str = "",
    ) -> list[Event]:
        """A supervisor's consent to a 退件 (art. 4(5)). Refused, the case goes back to its window
        (the same day) or is handled off-queue (a later day)."""
        ticket = state.tickets.get(ticket_id)
        if ticket is None:
            raise NotFound("no_ticket", "无此号", f"no ticket {ticket_id}")
        if ticket.status is not TicketStatus.RETURN_PENDING:
            raise DomainError("not_pending", "该号没有待审批的退件", "no return is pending for it")
        back_to = None
        if not approve and ticket.day == state.day and ticket.visits:
            back_to = ticket.visits[-1].window
        return [
            ReturnDecided(
                at=now,
                ticket_id=ticket.id,
                number=ticket.number,
                approved=approve,
                supervisor=supervisor,
                note=note.strip(),
                requeued_to=back_to,
            )
        ]

    # --- supervisor ---------------------------------------------------------------------

    def slip_status(
        self,
        state: HallState,
        now: dt.datetime,
        slip: str,
        current: tuple[str, str] | None,
        status: str,
        by: str,
    ) -> list[Event]:
        """Move a commitment slip (承诺单) on: 受理 → 办理中 → 已办结 → 可取件 → 已取件, forward
        only (steps may be skipped, never undone; no exceptions).

        Slips outlive the day's state (the citizen collects days or weeks later), so the state
        keeps none: the caller reads the slip's row from the store inside the same transaction
        and passes `current` as (ticket id, status), or None when there is no such slip. That
        keeps this rule pure and the state small, and the `slips` row stays the one place a
        slip's status lives (updated with this event in the same transaction).
        """
        try:
            wanted = SlipStatus(status)
        except ValueError:
            raise Invalid(
                "invalid",
                "承诺单状态无效",
                "status must be one of " + ", ".join(s.value for s in SlipStatus),
            ) from None
        if current is None:
            raise NotFound("no_slip", f"无此承诺单：{slip}", f"no slip {slip!r}")
        ticket_id, now_status = current
        previous = SlipStatus(now_status)
        order = list(SlipStatus)
        if order.index(wanted) <= order.index(previous):
            raise DomainError(
                "slip_status_not_forward",
                "承诺单状态只能向前推进",
                f"a slip's status only moves forward: it is {previous.value}, not before "
                f"{wanted.value}",
            )
        return [
            SlipStatusChanged(
                at=now, ticket_id=ticket_id, slip=slip, status=wanted, previous=previous, by=by
            )
        ]

    def part_done(
        self,
        state: HallState,
        now: dt.datetime,
        slip: str,
        current: tuple[str, str, dict[str, bool]] | None,
        department: str,
        by: str,
    ) -> list[Event]:
        """A joint department has done its part of a 联办件. When the last part is done the
        case is done (已办结); the first part done moves an accepted case to 办理中.

        As with `slip_status`, the caller reads the slip from the store in the transaction and
        passes `current` = (ticket id, status, {department: done}), or None for no such slip.
        """
        if current is None:
            raise NotFound("no_slip", f"无此承诺单：{slip}", f"no slip {slip!r}")
        ticket_id, status, parts = current
        if department not in parts:
            raise DomainError("not_joint_department", "该部门不是此联办件的联办部门",
                              f"department {department!r} has no part in {slip}")
        if parts[department]:
            raise DomainError("part_already_done", "本部门已办结", "this part is already done")
        events: list[Event] = [
            JointPartDone(at=now, ticket_id=ticket_id, slip=slip, department=department, by=by)
        ]
        previous = SlipStatus(status)
        order = list(SlipStatus)
        last = all(done for d, done in parts.items() if d != department)
        wanted = SlipStatus.DONE if last else SlipStatus.IN_PROGRESS
        if order.index(wanted) > order.index(previous):
            events.append(SlipStatusChanged(at=now, ticket_id=ticket_id, slip=slip,
                                            status=wanted, previous=previous, by=by))
        return events

    def close_service(
        self, state: HallState, now: dt.datetime, service: str, reason: str
    ) -> list[Event]:
        self._service(service)
        if not reason.strip():
            raise Invalid("invalid", "需要暂停原因", "a reason is needed")
        return [ServiceClosed(at=now, service=service, reason=reason.strip())]

    def set_notice(self, state: HallState, now: dt.datetime, text: str, text_en: str,
                   by: str) -> list[Event]:
        """A supervisor's scrolling line for every screen; an empty text restores the hall's."""
        text, text_en = text.strip(), text_en.strip()
        if len(text) > 300 or len(text_en) > 300:
            raise Invalid("invalid", "公告不超过300字", "a notice has at most 300 characters")
        if not text:
            center = self.cfg.center
            return [NoticeSet(at=now, text=center.notice, text_en=center.notice_en, by=by,
                              reset=True)]
        return [NoticeSet(at=now, text=text, text_en=text_en, by=by)]

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
    ) -> list[Event]:
        """A complaint or suggestion (art. 27): checked here, kept and forwarded as an event."""
        self._check_day(state, now)
        if category not in {c.code for c in self.cfg.kiosk.complaint_categories}:
            raise Invalid("invalid", "请选择投诉类别", f"no complaint category {category!r}")
        text = text.strip()
        if not 1 <= len(text) <= COMPLAINT_MAX:
            raise Invalid("invalid", f"请填写内容（不超过{COMPLAINT_MAX}字）",
                          f"the text is 1-{COMPLAINT_MAX} characters")
        if window is not None:
            self._window(state, window)
        staff_no = (staff_no or "").strip() or None
        if staff_no is not None and not (len(staff_no) <= 20 and staff_no.isprintable()):
            raise Invalid("invalid", "工号格式错误", "a staff number has at most 20 characters")
        phone = (phone or "").strip() or None
        if phone is not None and not (
            len(phone) <= 20 and set(phone) <= _PHONE_CHARS and any(c.isdigit() for c in phone)
        ):
            raise Invalid("invalid", "电话号码格式错误", "a phone number is digits, '-', '+'")
        return [
            ComplaintFiled(
                at=now,
                complaint_id=f"TS{state.day:%Y%m%d}{state.complaint_seq + 1:04d}",
                category=category,
                text=text,
                window_about=window,
                staff_no=staff_no,
                phone=phone,
            )
        ]

    def reopen_service(self, state: HallState, now: dt.datetime, service: str) -> list[Event]:
        if service not in state.closed_services:
            raise DomainError("not_closed", "该事项未暂停", "that item is not suspended")
        return [ServiceReopened(at=now, service=service)]

    # --- checks -------------------------------------------------------------------------

    def _service(self, code: str):
        if not self.cfg.has_service(code or ""):
            raise NotFound("unknown_service", f"无此事项：{code}", f"no service item {code!r}")
        return self.cfg.service(code)

    def _window(self, state: HallState, no: int) -> WindowState:
        if not self.cfg.has_window(no):
            raise NotFound("unknown_window", f"无{no}号窗口", f"no window {no}")
        return queries.window_state(state, no)

    def _staffed(self, state: HallState, no: int, allow_paused: bool = False) -> WindowState:
        win = self._window(state, no)
        if win.clerk is None:
            raise DomainError("no_clerk", "窗口无人登录", "no clerk is signed in at this window")
        if win.pause and not allow_paused:
            raise DomainError(
                "window_paused", "窗口暂停中，请先恢复", "the window is paused: resume first"
            )
        return win

    def _ready(self, state: HallState, no: int) -> WindowState:
        win = self._staffed(state, no)
        if win.current:
            current = state.tickets[win.current]
            raise DomainError(
                "ticket_in_service",
                f"请先办结、过号或转办{current.number}号",
                f"finish, skip or transfer {current.number} first",
            )
        return win

    def _current(self, state: HallState, no: int) -> tuple[WindowState, Ticket]:
        win = self._staffed(state, no, allow_paused=True)
        if not win.current:
            raise DomainError("no_current", "当前没有在办的号", "no ticket at this window")
        return win, state.tickets[win.current]
