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
from hub.engine.model import CaseOpened, Event, SpotCheckReviewed
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
        """Record one sampled ticket's review; with `open_case`, a finding opens a case
        (kind spot_check) in the same transaction, and the review names it."""
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
            if not reviewed.finding or item is None:
                raise DomainError("no_finding", "error.spot_no_finding")
            opened = self._case(state, now, found, item, reviewed)
            return [opened, rules.review(now, item, codes, answers, note, who.name,
                                         case_id=opened.case_id)]

        core.execute(who, decide, addr, action="spot-check-review",
                     detail={"draw": draw_id, "ticket": ticket_id, "answers": answers,
                             "open_case": open_case})
        return self._view(draw_id)

    def _case(self, state: HallState, now: dt.datetime, found: dict[str, Any],
              item: dict[str, Any], reviewed: SpotCheckReviewed) -> CaseOpened:
        """The case (kind spot_check) a finding opens, numbered and due like every case
        (hub/engine/casework.py), about the ticket's window and clerk; committed with the
        review that opens it."""
        core = self.core
        texts = {c["code"]: c["text"] for c in found["checklist"]}
        failed = "、".join(texts[c] for c, a in reviewed.answers.items() if a == "fail")
        said = core.engine.records
        summary = said.t_in("zh_CN", "spot_check.case_summary", draw_id=found["draw_id"],
                            number=item["number"] or item["ticket_id"],
                            window=item["window_no"], failed=failed)
        if reviewed.note:
            summary = said.t_in("zh_CN", "spot_check.case_note", summary=summary,
                                note=reviewed.note)
        user = core.accounts.user(item["clerk"]) if item["clerk"] else None
        return core.engine.new_case(
            state, now, state.case_seq + 1, "spot_check", "spot_check", summary,
            ticket_id=item["ticket_id"], number=item["number"], window_no=item["window_no"],
            clerk=item["clerk"], staff_no=user["staff_no"] if user else None,
            service=item["service"])

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
            "population_digest": {str(k): v for k, v in found["population_digest"].items()},
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
