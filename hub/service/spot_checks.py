"""办件抽查 (spot checks): the office draws a week's sample per window and reviews each sampled
ticket against the hall file's checklist; a finding may open a case.

The seed is drawn here (`secrets`, 128 bits) and handed to the pure rule with the week's
finished tickets, read from the store inside the commit's transaction: the rule, the sample
and the record are then one thing anyone can recompute (`onestop spot-check verify`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from hub.auth import OFFICE_ROLES, Principal
from hub.engine import DomainError, HallState, NotFound
from hub.engine import spot_checks as rules
from hub.engine.model import Event
from hub.store.spot_checks import SpotChecks

from .core import ServiceCore


class SpotCheckDesk:
    def __init__(self, core: ServiceCore) -> None:
        self.core = core
        self.rows = SpotChecks(core.db)

    def draw(self, who: Principal, week: dt.date | None = None, addr: str = "") -> dict:
        """Draw `week`'s sample (its Monday; default: the week before the hall's current
        one). Once a week; only a week that is over."""
        core = self.core
        seed = secrets.token_bytes(rules.SEED_BYTES)
        asked: dict[str, Any] = {}

        def decide(state: HallState, now: dt.datetime) -> list[Event]:
            core.require(who, *OFFICE_ROLES)  # in the commit: a refusal is audited too
            today = core.engine.local(now).date()
            monday = week or rules.week_monday(today) - dt.timedelta(days=7)
            asked["draw_id"] = rules.draw_id(monday)
            start, end = rules.week_bounds(monday, core.cfg.zone)
            spot = core.cfg.spot_check
            return [rules.draw(
                now, today, monday, seed, spot.per_window, self.rows.finished_between(start, end),
                spot.checklist, self.rows.draw(asked["draw_id"]) is not None, who.name)]

        core.execute(who, decide, addr, action="spot-check-draw",
                     detail={"week": week.isoformat() if week else "last"})
        return self._view(asked["draw_id"])

    def review(self, who: Principal, draw_id: str, ticket_id: str, answers: dict[str, str],
               note: str = "", open_case: bool = False, addr: str = "") -> dict:
        """Record one sampled ticket's review; with `open_case`, a finding opens a case."""
        core = self.core

        def decide(state: HallState, now: dt.datetime) -> list[Event]:
            core.require(who, *OFFICE_ROLES)
            found = self.rows.draw(draw_id)
            if found is None:
                raise NotFound("no_draw", "error.spot_no_draw", draw_id=draw_id)
            item = self.rows.item(draw_id, ticket_id)
            codes = [c["code"] for c in found["checklist"]]
            reviewed = rules.review(now, item, codes, answers, note, who.name)
            if not open_case:
                return [reviewed]
            if not reviewed.finding:
                raise DomainError("no_finding", "error.spot_no_finding")
            # The cases core is not part of this hub yet: refuse rather than record a
            # finding whose case the reviewer believes is open.
            raise DomainError("cases_unavailable", "error.spot_cases_unavailable")

        core.execute(who, decide, addr, action="spot-check-review",
                     detail={"draw": draw_id, "ticket": ticket_id, "answers": answers,
                             "open_case": open_case})
        return self._view(draw_id)

    def draws(self, who: Principal, week: dt.date | None = None) -> list[dict]:
        """The draw of `week`, or the latest ones, newest first (office)."""
        self.core.require(who, *OFFICE_ROLES)
        return [self._view(d) for d in self.rows.draw_ids(week)]

    def one(self, who: Principal, draw_id: str) -> dict:
        self.core.require(who, *OFFICE_ROLES)
        return self._view(draw_id)

    def _view(self, draw_id: str) -> dict:
        found = self.rows.draw(draw_id)
        if found is None:
            raise NotFound("no_draw", "error.spot_no_draw", draw_id=draw_id)
        items = [_item(i) for i in self.rows.items(draw_id)]
        return {
            "draw_id": found["draw_id"],
            "week": found["week"],
            "seed": found["seed"],
            "per_window": found["per_window"],
            "method": found["method"],
            "drawn_at": found["drawn_at"],
            "by": found["by"],
            "population": {str(k): v for k, v in found["population"].items()},
            "sample": {str(k): v for k, v in found["sample"].items()},
            "checklist": found["checklist"],
            "items": items,
            "reviewed": sum(1 for i in items if i["reviewed"]),
            "findings": sum(1 for i in items if i["finding"]),
        }


def _item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "ticket_id": row["ticket_id"],
        "window_no": row["window_no"],
        "number": row["number"],
        "service": row["service"],
        "clerk": row["clerk"],
        "reviewed": row["reviewed_at"] is not None,
        "reviewed_at": row["reviewed_at"],
        "by": row["by"],
        "answers": row["answers"],
        "note": row["note"],
        "finding": bool(row["finding"]),
        "case_id": row["case_id"],
    }
