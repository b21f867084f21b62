"""Commitment slips (承诺单) after the day: a slip moves forward only, and a joint case (联办件)
is done when each of its departments has done its part.
"""

from __future__ import annotations

import datetime as dt

from .base import RulesBase
from .errors import DomainError, Invalid, NotFound
from .model import Event, HallState, JointPartDone, SlipStatus, SlipStatusChanged


class SlipRules(RulesBase):
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
