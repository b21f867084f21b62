"""How a case ends at the window (art. 4): its outcome, the 承诺单 a commitment, joint or report
case gets, and a 退件 that waits for a supervisor's consent. Finishing asks for the rating.
"""

from __future__ import annotations

import datetime as dt

from hub.config import CaseType

from .errors import DomainError, Invalid, NotFound
from .model import (
    Event,
    HallState,
    Outcome,
    OutcomeKind,
    ReturnDecided,
    ReturnRequested,
    TicketFinished,
    TicketStatus,
)
from .ratings import RatingRules

_CASE_OUTCOME = {
    CaseType.IMMEDIATE: OutcomeKind.IMMEDIATE,
    CaseType.COMMITMENT: OutcomeKind.COMMITMENT,
    CaseType.JOINT: OutcomeKind.JOINT,
    CaseType.REPORT: OutcomeKind.REPORT,
}

_SLIP_OUTCOMES = {OutcomeKind.COMMITMENT, OutcomeKind.JOINT, OutcomeKind.REPORT}


class FinishingRules(RatingRules):
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
            why = (reason or "").strip()
            if not why:
                raise Invalid("invalid", "退件需要说明原因", "a return (退件) needs a reason")
            return [
                ReturnRequested(
                    at=now,
                    ticket_id=ticket.id,
                    number=ticket.number,
                    window_no=no,
                    clerk=clerk,
                    reason=why,
                ),
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
