"""督办 figures of a report: what the office did with 差评, complaints, spot checks and
efficiency records, beside the ticket figures, per window, clerk and department.

Periods: a case counts in the period in which it was *opened* (`cases.day`, the hall day of
its case.opened), whatever happened to it later, so a month's 整改率 is about that month's
差评 and keeps moving while they are worked on; a spot-check review in the period of the
reviewed ticket's day (the work judged, not the week it was judged in); an efficiency record
by the (local) day it was recorded. Attribution: by the case's window, clerk (username) and
department (the case's, else its window's); a review by the ticket's window and clerk; a
record by the person only (window and department rows show none: a record is against a
person, and a person is not a window). Item rows (by service) show none of these.

The figures, each exactly:

- `cases`: 差评 and complaint cases (kind rating or complaint) opened in the period;
  `called_back`: those with a callback recorded (`called_back_at`); 回访率
  `callback_share` = called_back / cases.
- `rectify_needed`: rating cases found founded — they entered 整改中 (a `rectify` step) or
  were rectified — and whose appeal was not upheld (an unfounded 差评, closed from 已回访,
  and an upheld appeal need no rectification); `rectified`: those that reached 已整改 (then
  perhaps 已办结) after rectification (`rectified_at` set); 差评整改率
  `rectified_share` = rectified / rectify_needed.
- `rectified_on_time`: rectified ones whose `rectified_at`, as a hall (local) date, is on or
  before `rectify_due` (the deadline in working days: overdue means past that day); 按期整改率
  `rectified_on_time_share` = rectified_on_time / rectified.
- `appeals`: rating and complaint cases with an appeal filed; `appeals_upheld`: upheld ones.
- `complaints_verified`: complaint cases called back (回访核实); `complaints_excluded`:
  complaint cases whose appeal was upheld (not deducted by the assessment).
- `ratings_excluded`: ratings taken out of the figures by an upheld appeal, in the period of
  the rated ticket's day (where the rating itself is counted). They are never deleted: the
  ticket keeps its rating and the case its history; reports subtract them when they read
  (see `excluded_ratings`) and show how many.
- `spot_reviewed`: spot-check items reviewed; `spot_findings`: reviews with any item failed.
- `records`: efficiency records by kind (`criticism` 批评教育, `notice` 通报批评, `warning`
  效能告诫), on clerk rows and the total.

Why an upheld appeal is applied when a report is read, not by forgetting the rated day's sums
when the appeal is decided: the summed-up days stay a pure function of the `tickets` rows (as
rollup.py promises), the casework commit path stays free of report tables, and a rating
excluded by any route (a restored backup, a case written by another hub) changes every report
after it, summed-up day or not. The cost is one query per report: the cases whose appeal
was upheld (a scan of `cases`, which holds the 差评 and complaints, not the tickets) joined
to their tickets by id.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import msgspec

from hub.config import HallConfig
from hub.store.database import Database
from hub.store.spot_checks import SpotChecks
from hub.store.store import utc_iso

from .names import Namer
from .summary import Key

CASE_FIELDS = ("cases", "called_back", "rectify_needed", "rectified", "rectified_on_time",
               "appeals", "appeals_upheld", "complaints_verified", "complaints_excluded",
               "spot_reviewed", "spot_findings")
RECORD_KINDS = ("criticism", "notice", "warning")
ATTRIBUTED = ("department", "window", "clerk")  # the groupings casework figures are kept for

Counter = dict[str, int]
GroupOf = Callable[[int | None, str | None, str | None], str | None]


class _Rated(msgspec.Struct, kw_only=True):
    window: int
    clerk: str
    status: str = "pending"
    level: int | None = None


class _RatedTicket(msgspec.Struct, kw_only=True):
    service: str
    rating: _Rated | None = None


_decode_rated = msgspec.json.Decoder(_RatedTicket).decode


def excluded_ratings(db: Database, start: str, end: str) -> dict[Key, dict[int, int]]:
    """Ratings of tickets of [start, end] whose 差评 case's appeal was upheld, keyed as the
    report counts them (the rating's window and clerk, the ticket's item) -> level -> n."""
    found: dict[Key, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in db.query(
        "SELECT t.data FROM cases c JOIN tickets t ON t.id = c.ticket_id "
        "WHERE c.kind = 'rating' AND c.appeal = 'upheld' AND t.day >= ? AND t.day <= ?",
            (start, end)):
        t = _decode_rated(row[0])
        r = t.rating
        if r is not None and r.status == "rated" and r.level in (1, 2, 3, 4, 5):
            found[(r.window, r.clerk, t.service)][r.level] += 1
    return found


class Casework:
    """One group's casework counts while a report is summed."""

    def __init__(self) -> None:
        self.n: Counter = defaultdict(int)
        self.records: Counter = defaultdict(int)
        self.ratings_excluded = 0


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(c: Casework, by: str | None) -> dict[str, Any]:
    """A row's casework figures; None where the grouping does not hold them (see above)."""
    kept = by is None or by in ATTRIBUTED
    n = {f: (c.n[f] if kept else None) for f in CASE_FIELDS}
    people = by is None or by == "clerk"
    return {
        **n,
        "callback_share": _share(c.n["called_back"], c.n["cases"]) if kept else None,
        "rectified_share": _share(c.n["rectified"], c.n["rectify_needed"]) if kept else None,
        "rectified_on_time_share": (_share(c.n["rectified_on_time"], c.n["rectified"])
                                    if kept else None),
        "ratings_excluded": c.ratings_excluded,
        "records": {k: c.records[k] for k in RECORD_KINDS} if people else None,
    }


def _grouper(names: Namer, by: str) -> GroupOf:
    def group(window: int | None, clerk: str | None, department: str | None) -> str | None:
        if by == "window":
            return str(window) if window else None
        if by == "clerk":
            return clerk or None
        if by == "department":
            return department or (names.department_of_window(window) if window else None)
        return None
    return group


def add_casework(db: Database, cfg: HallConfig, names: Namer, by: str, start: dt.date,
                 end: dt.date, of: Callable[[str], Casework], total: Casework) -> None:
    """Add the casework of [start, end] to the total and to each group (`of` a group's key:
    its counts, made when first asked)."""
    group = _grouper(names, by)
    s, e = start.isoformat(), end.isoformat()
    deadline = _Deadlines(cfg)
    for row in db.query(_CASES_SQL, (s, e)):
        counts = _case_counts(row, deadline)
        g = group(row[1], row[2], row[3])
        for target in (total, of(g) if g is not None else None):
            if target is not None:
                for f, v in counts.items():
                    target.n[f] += v
    for row in db.query(_SPOT_SQL, (s, e)):
        g = group(row[0], row[1], None)
        for target in (total, of(g) if g is not None else None):
            if target is not None:
                target.n["spot_reviewed"] += 1
                target.n["spot_findings"] += bool(row[2])
    for username, kind in _records(db, cfg, start, end):
        total.records[kind] += 1
        if by == "clerk":
            of(username).records[kind] += 1


class _Deadlines:
    """The first UTC instant after each due day (local), as stored text: a rectification is on
    time when its `rectified_at` sorts before it (one format, utc_iso, so text order is time
    order), without parsing a time per case."""

    def __init__(self, cfg: HallConfig) -> None:
        self.zone = cfg.zone
        self.after: dict[str, str] = {}

    def __call__(self, due: str) -> str:
        if due not in self.after:
            day = dt.date.fromisoformat(due) + dt.timedelta(days=1)
            self.after[due] = utc_iso(dt.datetime.combine(day, dt.time(), tzinfo=self.zone))
        return self.after[due]


def _case_counts(row: Any, deadline: _Deadlines) -> Counter:
    kind, called_back_at, rectified_at, rectify_due, appeal, rectify_began = (
        row[0], row[4], row[5], row[6], row[7], row[8])
    citizen = kind in ("rating", "complaint")
    upheld = appeal == "upheld"
    needed = kind == "rating" and not upheld and bool(rectify_began or rectified_at)
    rectified = needed and rectified_at is not None
    return {
        "cases": int(citizen),
        "called_back": int(citizen and called_back_at is not None),
        "appeals": int(citizen and appeal is not None),
        "appeals_upheld": int(citizen and upheld),
        "complaints_verified": int(kind == "complaint" and called_back_at is not None),
        "complaints_excluded": int(kind == "complaint" and upheld),
        "rectify_needed": int(needed),
        "rectified": int(rectified),
        "rectified_on_time": int(rectified and bool(rectify_due)
                                 and rectified_at < deadline(rectify_due)),
    }


def _records(db: Database, cfg: HallConfig, start: dt.date,
             end: dt.date) -> list[tuple[str, str]]:
    """(username, kind) of the efficiency records made on a (local) day of [start, end]."""
    found = []
    for row in db.query("SELECT username, kind, at FROM staff_records "
                        "WHERE year >= ? AND year <= ?", (start.year, end.year)):
        day = dt.datetime.fromisoformat(row["at"]).astimezone(cfg.zone).date()
        if start <= day <= end and row["kind"] in RECORD_KINDS:
            found.append((row["username"], row["kind"]))
    return found


def award_excluded(db: Database, start: dt.date, end: dt.date) -> set[str]:
    """Clerks with a 效能告诫 in a year of [start, end]: not ranked for 评先评优 that year (the
    store's one definition of who is out)."""
    rows = SpotChecks(db)
    return set().union(*(rows.excluded_from_awards(y) for y in range(start.year, end.year + 1)))


# Cases opened in a range, with whether each entered 整改中 (its steps are its history).
_CASES_SQL = (
    "SELECT c.kind, c.window_no, c.clerk, c.department, c.called_back_at, c.rectified_at, "
    "c.rectify_due, c.appeal, EXISTS (SELECT 1 FROM case_steps s WHERE s.case_id = c.case_id "
    "AND s.action = 'rectify') FROM cases c WHERE c.day >= ? AND c.day <= ?"
)
# Reviews of the tickets of a range (a draw's item not yet reviewed has no reviewed_at).
_SPOT_SQL = (
    "SELECT i.window_no, i.clerk, i.finding FROM spot_items i "
    "JOIN tickets t ON t.id = i.ticket_id "
    "WHERE i.reviewed_at IS NOT NULL AND t.day >= ? AND t.day <= ?"
)
