"""效能告诫 and the other efficiency records (art. 16, 18): a supervisor records 批评教育,
通报批评 or 效能告诫 against a staff member with its grounds; the office lists them per staff
member; a 效能告诫 keeps the staff member out of that year's 评先评优 (`excluded_from_awards`,
read by the assessment). Audited like every change, and forwarded as `staff.record_added`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.auth import OFFICE_ROLES, Principal, Role
from hub.engine import HallState, NotFound
from hub.engine import spot_checks as rules
from hub.engine.model import Event, StaffRecordAdded
from hub.store.spot_checks import SpotChecks

from .commit import the_event
from .core import ServiceCore


class StaffRecords:
    def __init__(self, core: ServiceCore) -> None:
        self.core = core
        self.rows = SpotChecks(core.db)

    def add(self, who: Principal, username: str, kind: str, grounds: str, detail: str = "",
            addr: str = "") -> dict:
        """Record `kind` (criticism | notice | warning) against `username` (supervisor)."""
        core = self.core

        def decide(state: HallState, now: dt.datetime) -> list[Event]:
            core.require(who, Role.SUPERVISOR)  # in the commit: a refusal is audited too
            today = core.engine.local(now).date()
            staff = core.accounts.user(username)
            return [rules.add_record(now, today, staff, kind, grounds, detail,
                                     self.rows.records_on(today), who.name)]

        records = core.execute(who, decide, addr, action="staff-record",
                               detail={"username": username, "kind": kind,
                                       "grounds": grounds[:200]})
        added = the_event(records, StaffRecordAdded)
        return next(r for r in self.rows.records_of(username)
                    if r["record_id"] == added.record_id)

    def of(self, who: Principal, username: str) -> dict:
        """A staff member's records, newest first, and the years they are out of 评先评优
        (office)."""
        self.core.require(who, *OFFICE_ROLES)
        staff = self.core.accounts.user(username)
        if staff is None:
            raise NotFound("unknown_staff", "error.unknown_staff")
        records = self.rows.records_of(username)
        excluded = sorted({r["year"] for r in records if r["kind"] == rules.EXCLUDING_KIND})
        return {"staff": _member(staff), "records": records, "excluded_years": excluded}

    def staff(self, who: Principal, year: int | None = None) -> dict:
        """Every staff account with its records of `year` (default: the hall's current year)
        by kind, all its records, and whether it is out of the year's 评先评优 (office)."""
        core = self.core
        core.require(who, *OFFICE_ROLES)
        year = year or core.engine.local(core.clock()).year
        counts = self.rows.record_counts(year)
        excluded = self.rows.excluded_from_awards(year)
        out = []
        for user in core.accounts.users():
            mine = counts.get(user["username"], {})
            out.append({**_member(user),
                        "records": {k: mine.get(k, 0) for k in rules.RECORD_KINDS},
                        "total": mine.get("total", 0),
                        "excluded": user["username"] in excluded})
        return {"year": year, "staff": out}

    def excluded_from_awards(self, year: int) -> set[str]:
        """Usernames with a 效能告诫 in `year` (the hall's calendar year of the record): out
        of that year's 评先评优. For the assessment; no caller to authorize."""
        return self.rows.excluded_from_awards(year)


def _member(user: dict[str, Any]) -> dict[str, Any]:
    return {"username": user["username"], "name": user["name"], "staff_no": user["staff_no"],
            "role": user["role"], "active": bool(user["active"])}
