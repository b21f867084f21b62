"""Supervision casework (督办工单): every 差评 and complaint through to a closed case.

A case opens by reaction (`open_cases`): every commit passes its decided events here, and each
`ticket.rated` of 不满意/非常不满意 and each `complaint.filed` gets its `case.opened` in the same
transaction, so no 差评 or complaint exists without its case. The office then moves it on
(`case_step`): 待核实 → 已回访 → 整改中 → 已整改 → 已办结, or 已回访 → 已办结 when the
verification finds it unfounded; the clerk a case names may appeal it once (申诉), and a
supervisor decides the appeal.

Cases outlive the day, so the state keeps none (only the day's counter of case numbers): the
caller reads the case's row from the store inside the commit's transaction and passes it here
as a `Case`; `advance` is how a step changes that row, the store's projection uses it. Deadlines
are working days of the hall's calendar from the opening day (`deadlines`), and a step is
overdue once the hall's date is past its due day and the step is not done (`overdue_steps`).
Part of QueueEngine; no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import msgspec

from hub.config import HallConfig

from .base import RulesBase
from .errors import DomainError, Invalid, NotFound, NotPermitted
from .model import (
    FINAL_CASE_STATUSES,
    AlertCleared,
    CaseOpened,
    CaseStatus,
    CaseStepped,
    ComplaintFiled,
    Event,
    HallState,
    RatingLevel,
    TicketRated,
)

S = CaseStatus
TEXT_MAX = 2000  # characters of a step's text field (a callback's result, a cause, a reply)
ATTACHMENTS_MAX = 10  # text attachments of one step
SUMMARY_MAX = 500
APPEALABLE_KINDS = frozenset({"rating", "complaint"})
OFFICE = frozenset({"supervisor", "admin"})
COMPLAINT_CHANNELS = ("phone", "box", "letter", "visit")  # office-entered complaints
STEPS = ("callback", "rectify")  # the steps with a deadline
ACTIONS = ("callback", "rectify", "rectified", "close", "appeal", "decide_appeal")
# Each action's fields: (name, kind) with kind "text" (required, bounded), "bool" (required),
# or a tuple of the values allowed.
ACTION_FIELDS: dict[str, tuple[tuple[str, Any], ...]] = {
    "callback": (("result", "text"), ("reached", "bool")),
    "rectify": (("cause", "text"), ("plan", "text")),
    "rectified": (("fix", "text"),),
    "close": (("reply", "text"), ("verdict", ("founded", "unfounded"))),
    "appeal": (("grounds", "text"),),
    "decide_appeal": (("upheld", "bool"), ("note", "text")),
}
_UNHAPPY = frozenset(level for level in RatingLevel if level.needs_reason)
# A phone number a citizen typed into a complaint's text stays out of the summary (which reaches
# the clerk and the monitor): 7 or more digits, spaces and dashes allowed between them.
_PHONE = re.compile(r"\+?\d(?:[\d\- ]{5,}\d)")


class Case(msgspec.Struct, kw_only=True):
    """A case as the store's `cases` row has it (dates as dates, times as UTC datetimes)."""

    case_id: str
    kind: str
    source: str
    status: CaseStatus
    day: dt.date
    opened_at: dt.datetime
    summary: str
    callback_due: dt.date
    rectify_due: dt.date
    resumed: CaseStatus | None = None  # the status before an appeal, to go on from
    channel: str | None = None
    ticket_id: str | None = None
    number: str | None = None
    window_no: int | None = None
    clerk: str | None = None
    staff_no: str | None = None
    department: str | None = None
    service: str | None = None
    level: int | None = None
    reason: str | None = None
    complaint_id: str | None = None
    category: str | None = None
    called_back_at: dt.datetime | None = None
    rectified_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    verdict: str | None = None
    appeal: str | None = None  # None | appealing | upheld | rejected
    updated_at: dt.datetime | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL_CASE_STATUSES

    @property
    def base(self) -> CaseStatus:
        """The status the case goes on from: during and after an appeal, the one before it."""
        if self.status in (S.APPEALING, S.APPEAL_REJECTED) and self.resumed is not None:
            return self.resumed
        return self.status


@dataclass(frozen=True)
class OverdueStep:
    """A case's step past its due day and not done (read from the store: hub/store/cases.py)."""

    case_id: str
    step: str  # callback | rectify
    due: dt.date
    window: int | None = None


@dataclass(frozen=True)
class Staff:
    """Who is who among the accounts a commit's events name (read by the service for the
    reaction, so the engine can name the clerk of a complaint given by staff number)."""

    usernames: Mapping[str, str] = field(default_factory=dict)  # staff_no -> username
    staff_nos: Mapping[str, str] = field(default_factory=dict)  # username -> staff_no


# --- pure questions about a case ------------------------------------------------------------


def deadlines(cfg: HallConfig, day: dt.date, kind: str) -> tuple[dt.date, dt.date]:
    """(callback_due, rectify_due): the N-th and M-th working day after the opening `day`."""
    callback, rectify = cfg.supervision.case_deadlines(kind)
    return cfg.add_workdays(day, callback), cfg.add_workdays(day, rectify)


def step_done(case: Case, step: str) -> bool:
    """Whether `step` needs nothing more: done, or the case ended (closed, appeal upheld)."""
    if case.final:
        return True
    return (case.called_back_at if step == "callback" else case.rectified_at) is not None


def overdue_steps(case: Case, today: dt.date) -> list[str]:
    """The steps of `case` past their due day at the hall's date `today`, not done. An appeal
    does not stop the clock."""
    due = {"callback": case.callback_due, "rectify": case.rectify_due}
    return [step for step in STEPS if due[step] < today and not step_done(case, step)]


def next_due(case: Case) -> dt.date | None:
    """The due day of the next step to do, or None (none left with a deadline)."""
    for step in STEPS:
        if not step_done(case, step):
            return case.callback_due if step == "callback" else case.rectify_due
    return None


def queue_key(case: Case) -> str:
    """The case's place in the office's list: open ones by their next due day, then the
    final ones newest first (what the store sorts and pages by)."""
    if case.final:
        ended = case.closed_at or case.updated_at or case.opened_at
        return f"1|{10**11 - int(ended.timestamp()):012d}"
    due = next_due(case)
    return f"0|{due.isoformat() if due else '9999-12-31'}"


def _transition(case: Case, action: str, verdict: str | None = None,
                upheld: bool | None = None) -> CaseStatus | None:
    """The status `action` takes the case to, or None if not from where it stands."""
    if case.final:
        return None
    if case.status is S.APPEALING:
        if action == "decide_appeal":
            return S.APPEAL_UPHELD if upheld else S.APPEAL_REJECTED
        return None
    base = case.base
    if action == "appeal":
        ok = (case.appeal is None and case.kind in APPEALABLE_KINDS and case.clerk is not None
              and base is not S.RECTIFIED)
        return S.APPEALING if ok else None
    moves = {("callback", S.PENDING): S.CALLED_BACK, ("rectify", S.CALLED_BACK): S.RECTIFYING,
             ("rectified", S.RECTIFYING): S.RECTIFIED}
    if action == "close":
        wanted = {S.RECTIFIED: "founded", S.CALLED_BACK: "unfounded"}.get(base)
        return S.CLOSED if wanted is not None and verdict in (None, wanted) else None
    return moves.get((action, base))


def may_act(case: Case, action: str, username: str, role: str) -> bool:
    """Whether `username` (of `role`) may take `action` on `case`, whatever its status: the
    office moves cases on, a supervisor decides appeals, only the clerk a case names appeals
    it (their own account: the office does not appeal for them)."""
    if action == "appeal":
        return role == "clerk" and case.clerk == username
    if action == "decide_appeal":
        return role == "supervisor"
    return role in OFFICE


def actions_for(case: Case, username: str, role: str) -> list[str]:
    """What `username` may do to `case` now (the pages offer these, nothing else)."""
    out = []
    for action in ACTIONS:
        if not may_act(case, action, username, role):
            continue
        if action == "close":
            possible = _transition(case, action) is not None
        else:
            possible = _transition(case, action, upheld=True) is not None
        if possible:
            out.append(action)
    return out


def advance(case: Case, e: CaseStepped) -> Case:
    """The case after its step `e` (the store's projection writes this row)."""
    changes: dict[str, Any] = {"status": e.status, "updated_at": e.at}
    if e.action == "callback":
        changes["called_back_at"] = e.at
    elif e.action == "rectified":
        changes["rectified_at"] = e.at
    elif e.action == "close":
        changes.update(closed_at=e.at, verdict=e.verdict)
    elif e.action == "appeal":
        changes.update(resumed=e.previous, appeal="appealing")
    elif e.action == "decide_appeal":
        changes["appeal"] = "upheld" if e.upheld else "rejected"
        if e.upheld:
            changes["closed_at"] = e.at
    return msgspec.structs.replace(case, **changes)


def opened_case(e: CaseOpened) -> Case:
    """A new case's row, from its event."""
    fields = {f: getattr(e, f) for f in Case.__struct_fields__ if hasattr(e, f)}
    return Case(**{**fields, "status": S.PENDING, "day": _case_day(e.case_id),
                   "opened_at": e.at, "updated_at": e.at})


def _case_day(case_id: str) -> dt.date:
    return dt.datetime.strptime(case_id[2:10], "%Y%m%d").date()


def redact_phones(text: str) -> str:
    """`text` with every run of 7 or more digits (spaces and dashes between them allowed) put
    as ***: a phone number, never "20 - 30 分钟"."""
    return _PHONE.sub(lambda m: "***" if sum(c.isdigit() for c in m.group()) >= 7
                      else m.group(), text)


# --- the rules --------------------------------------------------------------------------------


class CaseRules(RulesBase):
    def open_cases(self, state: HallState, now: dt.datetime, events: Iterable[Event],
                   staff: Staff | None = None) -> list[Event]:
        """The reaction every commit runs on its decided `events`: a `case.opened` for each
        差评 (`ticket.rated` 不满意/非常不满意) and each complaint, numbered after any case the
        events open themselves (a spot-check finding's)."""
        staff = staff or Staff()
        events = list(events)
        seq = state.case_seq + sum(isinstance(e, CaseOpened) for e in events)
        opened: list[Event] = []
        for e in events:
            made = None
            if isinstance(e, TicketRated) and e.level in _UNHAPPY:
                made = self._rating_case(state, now, e, staff, seq + len(opened) + 1)
            elif isinstance(e, ComplaintFiled):
                made = self._complaint_case(state, now, e, staff, seq + len(opened) + 1)
            if made is not None:
                opened.append(made)
        return opened

    def case_id(self, state: HallState, counter: int) -> str:
        return f"GD{state.day:%Y%m%d}{counter:04d}"

    def new_case(self, state: HallState, now: dt.datetime, counter: int, kind: str, source: str,
                 summary: str, **about: Any) -> CaseOpened:
        """A `case.opened` of `kind`, the `counter`-th of the day, due by the hall's calendar
        (also for the spot-check part, which opens a case from a finding)."""
        callback_due, rectify_due = deadlines(self.cfg, state.day, kind)
        if about.get("window_no") is not None and not about.get("department"):
            no = about["window_no"]
            about["department"] = self.cfg.window(no).department if self.cfg.has_window(no) \
                else None
        return CaseOpened(at=now, case_id=self.case_id(state, counter), kind=kind,
                          source=source, summary=redact_phones(summary)[:SUMMARY_MAX],
                          callback_due=callback_due, rectify_due=rectify_due, **about)

    def _rating_case(self, state: HallState, now: dt.datetime, e: TicketRated, staff: Staff,
                     counter: int) -> CaseOpened:
        ticket = state.tickets.get(e.ticket_id)
        served = [v for v in ticket.visits if v.window == e.window_no] if ticket else []
        service = served[-1].service if served else (ticket.service if ticket else None)
        win = state.windows.get(e.window_no)
        staff_no = staff.staff_nos.get(e.clerk)
        if staff_no is None and win is not None and win.clerk and win.clerk.username == e.clerk:
            staff_no = win.clerk.staff_no
        level = self.records.t_in("zh_CN", f"rating.level.{e.level}")
        name = self.cfg.service(service).name if service and self.cfg.has_service(service) \
            else service or ""
        summary = self.records.t_in("zh_CN", "casework.summary_rating", level=level,
                                    number=e.number, window=e.window_no, service=name)
        return self.new_case(state, now, counter, "rating", e.source, summary,
                             ticket_id=e.ticket_id, number=e.number, window_no=e.window_no,
                             clerk=e.clerk, staff_no=staff_no, service=service, level=e.level,
                             reason=e.reason)

    def _complaint_case(self, state: HallState, now: dt.datetime, e: ComplaintFiled,
                        staff: Staff, counter: int) -> CaseOpened:
        names = {c.code: c.name for c in self.cfg.kiosk.complaint_categories}
        summary = f"{names.get(e.category, e.category)}：{e.text}"
        clerk = staff.usernames.get(e.staff_no) if e.staff_no else None
        return self.new_case(state, now, counter, "complaint", e.source, summary,
                             channel=e.channel, window_no=e.window_about, clerk=clerk,
                             staff_no=e.staff_no, complaint_id=e.complaint_id,
                             category=e.category)

    def case_step(self, state: HallState, now: dt.datetime, case: Case | None, action: str,
                  fields: Mapping[str, Any], by: str, role: str,
                  case_id: str = "") -> list[Event]:
        """Move `case` (its row, read in the commit's transaction; None: no such case) on by
        `action` with its `fields`, for `by` of `role`; an overdue alert of a step this
        completes is cleared with it."""
        if action not in ACTIONS:
            raise Invalid("invalid", "error.case_action", actions=", ".join(ACTIONS))
        if case is None:
            raise NotFound("no_case", "error.no_case", case_id=case_id)
        self._may(case, action, by, role)
        given = self._fields(action, fields)
        status = _transition(case, action, given.get("verdict"), given.get("upheld"))
        if status is None:
            self._refuse(case, action)
        stepped = CaseStepped(at=now, case_id=case.case_id, action=action, status=status,
                              previous=case.status, by=by, clerk=case.clerk,
                              window_no=case.window_no, **given)
        after = advance(case, stepped)
        cleared = [self._clear(state, now, case.case_id, step) for step in STEPS
                   if step_done(after, step)]
        return [stepped, *(c for c in cleared if c is not None)]

    @staticmethod
    def _may(case: Case, action: str, by: str, role: str) -> None:
        if may_act(case, action, by, role):
            return
        if action == "appeal":
            raise NotPermitted("not_your_case", "error.not_your_case", case_id=case.case_id)
        if action == "decide_appeal":
            raise NotPermitted("supervisor_only", "error.case_supervisor_only")
        raise NotPermitted("office_only", "error.case_office_only")

    @staticmethod
    def _fields(action: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        given: dict[str, Any] = {}
        for name, kind in ACTION_FIELDS[action]:
            value = fields.get(name)
            if kind == "bool":
                if not isinstance(value, bool):
                    raise Invalid("invalid", "error.case_field_bool", field=name)
            elif kind == "text":
                value = value.strip() if isinstance(value, str) else ""
                if not 1 <= len(value) <= TEXT_MAX:
                    raise Invalid("invalid", "error.case_field_text", field=name, most=TEXT_MAX)
            elif value not in kind:
                raise Invalid("invalid", "error.case_field_choice", field=name,
                              values=", ".join(kind))
            given[name] = value
        attachments = fields.get("attachments") or []
        if not (isinstance(attachments, list | tuple) and len(attachments) <= ATTACHMENTS_MAX
                and all(isinstance(a, str) and len(a) <= TEXT_MAX for a in attachments)):
            raise Invalid("invalid", "error.case_attachments", most=ATTACHMENTS_MAX,
                          chars=TEXT_MAX)
        kept = [a.strip() for a in attachments if a.strip()]
        if kept:
            given["attachments"] = kept
        return given

    @staticmethod
    def _refuse(case: Case, action: str) -> NoReturn:
        if case.final:
            raise DomainError("case_final", "error.case_final", case_id=case.case_id)
        if case.status is S.APPEALING:
            raise DomainError("case_in_appeal", "error.case_in_appeal")
        if action == "appeal":
            if case.appeal is not None:
                raise DomainError("case_appealed", "error.case_appealed")
            if case.kind not in APPEALABLE_KINDS or case.clerk is None:
                raise DomainError("case_not_appealable", "error.case_not_appealable")
        if action == "close" and case.base in (S.RECTIFIED, S.CALLED_BACK):
            raise DomainError("case_verdict", "error.case_verdict")
        raise DomainError("case_step_not_allowed", "error.case_step_not_allowed",
                          action=action, status=case.status.value)

    @staticmethod
    def _clear(state: HallState, now: dt.datetime, case_id: str, step: str) -> Event | None:
        alert = state.alerts.get(f"case_overdue:{case_id}:{step}")
        if alert is None:
            return None
        return AlertCleared(at=now, key=alert.key, kind=alert.kind, raised_at=alert.since,
                            window_at=alert.window, service=alert.service)
