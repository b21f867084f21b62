"""承诺单 (commitment slips) and 联办件 (joint cases): moved on by clerks and the office, looked
up by the citizen at the kiosk.

A slip lives in the store (its projection, written with the ticket's finish), not in the day's
state: it outlives the day. A joint case waits for each department's part.
"""

from __future__ import annotations

import datetime as dt

from hub.auth import OFFICE_ROLES, Principal, Role
from hub.engine import HallState, Invalid, NotFound
from hub.engine.model import SLIP_STATUS_LABELS, Event, SlipStatus

from .core import ServiceCore
from .errors import Forbidden


class Slips:
    def __init__(self, core: ServiceCore) -> None:
        self.core = core

    def set_slip_status(self, who: Principal, number: str, status: str, addr: str = "") -> dict:
        """A clerk (signed in anywhere) or the office moves a 承诺单 on; the kiosk shows it."""
        core = self.core
        core.require(who, Role.CLERK, *OFFICE_ROLES)

        def decide(state: HallState, now: dt.datetime) -> list[Event]:
            found = core.store.slip(number)  # read inside the commit's transaction, under the lock
            current = (found["ticket_id"], found["status"]) if found else None
            return core.engine.slip_status(state, now, number, current, status, who.name)

        core.execute(who, decide, addr, action="set-slip-status",
                     detail={"slip": number, "status": status})
        return self.slip(who, number)

    def part_done(self, who: Principal, number: str, department: str | None = None,
                  addr: str = "") -> dict:
        """A joint department's part of a 联办件 is done. A clerk acts for the department of the
        window they are signed in at; the office names the department."""
        core = self.core
        dept = self._joint_department(who, department)

        def decide(state: HallState, now: dt.datetime) -> list[Event]:
            found = core.store.slip(number)
            current = None
            if found is not None:
                current = (found["ticket_id"], found["status"], core.store.slip_parts(number))
            return core.engine.part_done(state, now, number, current, dept, who.name)

        core.execute(who, decide, addr, action="part-done",
                     detail={"slip": number, "department": dept})
        return self.slip(who, number)

    def _joint_department(self, who: Principal, department: str | None) -> str:
        """Whose part of a 联办件 `who` acts on: a clerk, their window's department only; the
        office, the department it names."""
        cfg = self.core.cfg
        self.core.require(who, Role.CLERK, *OFFICE_ROLES)
        if who.role is Role.CLERK:
            if who.window is None:
                raise Forbidden("not_at_window", "请先在窗口登录", "sign in at a window first")
            own = cfg.window(who.window).department
            if department not in (None, own):
                raise Forbidden("wrong_department", "只能处理本部门的联办件",
                                "a clerk acts on their own department's part only")
            return own
        if not department:
            raise Invalid("invalid", "请指定部门", "give a department")
        if department not in {d.code for d in cfg.departments}:
            raise NotFound("unknown_department", f"无此部门：{department}",
                           f"no department {department!r}")
        return department

    def joint_cases(self, who: Principal, department: str | None = None) -> list[dict]:
        """联办件 waiting for a department's part: the clerk's own department by default."""
        dept = self._joint_department(who, department)
        return [self.slip(who, n) for n in self.core.store.joint_pending(dept)]

    def slip(self, who: Principal, number: str) -> dict:
        """A slip as the kiosk shows it: status, promised date, item. Nothing about the citizen.
        Kiosks (the citizen's lookup), clerks and the office; not screens or agents."""
        core = self.core
        cfg = core.cfg
        core.require(who, Role.KIOSK, Role.CLERK, *OFFICE_ROLES)
        found = core.store.slip(number)
        if found is None:
            raise NotFound("no_slip", f"无此承诺单：{number}", f"no slip {number!r}")
        status = SlipStatus(found["status"])
        depts = {d.code for d in cfg.departments}
        svc = cfg.service(found["service"]) if cfg.has_service(found["service"]) else None
        zh, en = SLIP_STATUS_LABELS[status]
        return {
            "number": found["number"],
            "status": status.value,
            "status_name": zh,
            "status_name_en": en,
            "kind": found["kind"],
            "promised_date": found["promised_date"],
            "accepted_at": found["created_at"],
            "accepted_on": dt.datetime.fromisoformat(found["created_at"])
            .astimezone(cfg.zone).date().isoformat(),
            "service": found["service"],
            "service_name": svc.name if svc else found["service"],
            "service_name_en": svc.name_en if svc else "",
            "items": list(found["outcome"].get("items", [])),
            "departments": [
                {"code": code, "name": cfg.department(code).name if code in depts else code,
                 "name_en": cfg.department(code).name_en if code in depts else "",
                 "done": done}
                for code, done in core.store.slip_parts(number).items()
            ],
            "updated_at": found["updated_at"],
        }
