"""Supervision casework (督办工单): the office's queue of cases, a case with its steps, a step
taken (audited, like every staff change), complaints the office enters from the phone, the box,
a letter or a visit, and a clerk's own cases and appeal.

A case lives in the store (its projection, hub/store/cases.py); the rules are the engine's
(hub/engine/casework.py): this module reads the case inside the commit, under the hall's lock,
and lets the engine decide.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from hub import shapes
from hub.auth import OFFICE_ROLES, STAFF_ROLES, Principal, Role
from hub.engine import HallState, NotFound
from hub.engine.casework import Case, actions_for, next_due, overdue_steps
from hub.engine.model import CASE_STATUS_KEYS, CaseOpened, ComplaintFiled, Event
from hub.i18n import default_texts
from hub.shapes.casework import CasesQuery, CaseStep, OfficeComplaint
from hub.store.cases import CaseFilter, Cases

from .commit import the_event
from .core import ServiceCore
from .errors import Forbidden


class Casework:
    def __init__(self, core: ServiceCore) -> None:
        self.core = core
        self.store = Cases(core.db)

    def today(self) -> dt.date:
        """The hall's date, by its clock (what overdue is measured against)."""
        return self.core.engine.local(self.core.clock()).date()

    # --- reads -----------------------------------------------------------------------------

    def cases(self, who: Principal, asked: CasesQuery) -> dict[str, Any]:
        """The office's list: open cases by their next due day (then final ones, newest first),
        filtered, a page at a time."""
        self.core.require(who, *OFFICE_ROLES)
        today = self.today()
        where = CaseFilter(
            status=asked.status.value if asked.status else None, kind=asked.kind,
            window=asked.window, clerk=asked.clerk, department=asked.department,
            open=True if asked.open else None, overdue_at=today if asked.overdue else None)
        found, cursor = self.store.page(where, asked.limit, asked.after)
        return {"cases": [self.view(c, who, today) for c in found], "next": cursor}

    def case(self, who: Principal, case_id: str) -> dict[str, Any]:
        """A case with its steps: the office, or the clerk it names (read-only for them but
        for their appeal)."""
        found = self._readable(who, case_id)
        view = self.view(found, who, self.today())
        if who.role in OFFICE_ROLES:
            view["contact"] = self.store.complaint_contact(found)
        return {"case": view, "steps": self.store.steps(case_id)}

    def my_cases(self, who: Principal) -> dict[str, Any]:
        """The cases naming the signed-in clerk (their panel's "about me"), newest first."""
        self.core.require(who, Role.CLERK)
        today = self.today()
        return {"cases": [self.view(c, who, today) for c in self.store.of_clerk(who.name)]}

    def _readable(self, who: Principal, case_id: str) -> Case:
        self.core.require(who, *STAFF_ROLES)
        found = self.store.get(case_id)
        if found is None:
            raise NotFound("no_case", "error.no_case", case_id=case_id)
        if who.role is Role.CLERK and found.clerk != who.name:
            raise Forbidden("not_your_case", "error.not_your_case", case_id=case_id)
        return found

    @staticmethod
    def view(case: Case, who: Principal, today: dt.date) -> dict[str, Any]:
        zh, en = default_texts().each(CASE_STATUS_KEYS[case.status])
        out = msgspec.to_builtins(case)
        out.update(status_name=zh, status_name_en=en, overdue=overdue_steps(case, today),
                   next_due=msgspec.to_builtins(next_due(case)),
                   actions=actions_for(case, who.name, who.role.value))
        return out

    # --- changes -----------------------------------------------------------------------------

    def step(self, who: Principal, case_id: str, data: CaseStep | dict[str, Any],
             addr: str = "") -> dict[str, Any]:
        """Take a case's step: the office moves it on, a supervisor decides an appeal, the clerk
        it names appeals it. Audited (a refusal too); answers the case as it now stands."""
        core = self.core
        core.require(who, *STAFF_ROLES)
        if isinstance(data, dict):
            data = shapes.convert(data, CaseStep)
        fields = data.given()
        action = fields.pop("action")

        def decide(state: HallState, now: dt.datetime) -> list[Event]:
            current = self.store.get(case_id)  # inside the commit, under the hall's lock
            return core.engine.case_step(state, now, current, action, fields, who.name,
                                         who.role.value, case_id)

        core.execute(who, decide, addr, action="case-step",
                     detail={"case": case_id, "action": action})
        return self.case(who, case_id)

    def file_complaint(self, who: Principal, data: OfficeComplaint | dict[str, Any],
                       addr: str = "") -> dict[str, Any]:
        """A complaint the office enters (the complaint phone, the box, a letter, a visit): kept
        and forwarded like a kiosk's, and its case opens with it. Audited."""
        core = self.core
        core.require(who, *OFFICE_ROLES)
        if isinstance(data, dict):
            data = shapes.convert(data, OfficeComplaint)
        records = core.execute(
            who,
            lambda s, now: core.engine.file_complaint(
                s, now, data.category, data.text, window=data.window, staff_no=data.staff_no,
                phone=data.phone, channel=data.channel),
            addr, action="file-complaint",
            detail={"channel": data.channel, "category": data.category, "window": data.window},
        )
        return {"id": the_event(records, ComplaintFiled).complaint_id,
                "case_id": the_event(records, CaseOpened).case_id}
