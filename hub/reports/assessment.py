"""考核: scoring and ranking a report's windows or clerks by the hall's [assessment] formula."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from hub.config import Assessment, HallConfig
from hub.store.database import Database

from .casework import award_excluded
from .reading import report

ASSESSED = ("window", "clerk", "department")

# The formula's shares: its weight's name -> the row's figure.
_SHARES = {"satisfaction": "satisfaction", "within_target": "within_target_share",
           "on_time": "slips_on_time_share", "rectification": "rectified_share",
           "rectify_on_time": "rectified_on_time_share", "callback": "callback_share"}


def score_rows(cfg: HallConfig, rows: list[dict[str, Any]],
               total: dict[str, Any]) -> list[dict[str, Any]]:
    """Score and rank report rows by the hall's [assessment] formula (see hub.config.Assessment).

    Returns new rows with `score`, `rank` (1 = best; equal scores share a rank) and `parts`, the
    terms of the formula, so a clerk can see why."""
    a = cfg.assessment
    most = max((r["served"] for r in rows), default=0)
    out = [{**r, **_scored(a, r, total, most)} for r in rows]
    out.sort(key=lambda r: (-r["score"], r["key"]))
    _rank(out, "rank", out)
    return out


def _scored(a: Assessment, r: dict[str, Any], total: dict[str, Any],
            most: int) -> dict[str, Any]:
    # A share the row cannot have (nothing rated, no 承诺件 due, no 差评 to rectify) is the
    # hall's; one the hall has not either leaves its weight out, so a score stays out of 100
    # whatever the month, and a hall without casework scores as it did before it.
    values = {k: r[f] if r[f] is not None else total[f] for k, f in _SHARES.items()}
    weights = {"served": a.served, **{k: getattr(a, k) for k, v in values.items()
                                       if v is not None}}
    whole = sum(weights.values()) or 1.0
    parts = {"served": 100 * a.served * (r["served"] / most if most else 0.0) / whole}
    parts.update({k: 100 * weights.get(k, 0.0) * (values[k] or 0.0) / whole for k in _SHARES})
    no_show = r["no_show_share"] if r["no_show_share"] is not None else 0.0
    pause_s = sum(s for reason, s in r["pause_by_reason"].items()
                  if reason not in set(a.pause_exempt))
    parts["no_shows"] = -100 * a.no_show_penalty * no_show
    # A complaint whose appeal was upheld is not the window's or clerk's doing.
    complaints = max(0, r["complaints"] - (r["complaints_excluded"] or 0))
    parts["complaints"] = -a.complaint_penalty * complaints
    parts["pauses"] = -a.pause_penalty_per_hour * pause_s / 3600
    parts["findings"] = -a.finding_penalty * (r["spot_findings"] or 0)
    records = r["records"] or {}
    parts["records"] = -sum(getattr(a, f"{kind}_penalty") * n for kind, n in records.items())
    return {"score": round(sum(parts.values()), 2),
            "parts": {k: round(v, 2) + 0.0 for k, v in parts.items()}}


def _rank(rows: list[dict[str, Any]], field: str, ranked: list[dict[str, Any]]) -> None:
    """Rank `ranked` (sorted best first, a subset of `rows`) into `field`: 1 = best, equal
    scores share a rank; rows not ranked get None."""
    for r in rows:
        r[field] = None
    for i, r in enumerate(ranked):
        same = i and ranked[i - 1]["score"] == r["score"]
        r[field] = ranked[i - 1][field] if same else i + 1


def mark_awards(db: Database, rows: list[dict[str, Any]], start: dt.date,
                end: dt.date) -> None:
    """评先评优: a clerk with a 效能告诫 in a year of the range is shown with a score and rank
    but not ranked for awards (`award_excluded`, `award_rank` None); the others get
    `award_rank` among themselves."""
    out = award_excluded(db, start, end)
    for r in rows:
        r["award_excluded"] = r["key"] in out
    _rank(rows, "award_rank", [r for r in rows if not r["award_excluded"]])


def assessment(db: Database, cfg: HallConfig, start: dt.date, end: dt.date, by: str,
               open_day: dt.date, now: dt.datetime | None = None) -> dict[str, Any]:
    """考核: the report's figures per window, clerk or department, each with its score and
    rank (clerks also with their 评先评优 standing)."""
    if by not in ASSESSED:
        raise ValueError(f"by must be one of {ASSESSED}")
    found = report(db, cfg, start, end, by, open_day, now)
    found["rows"] = score_rows(cfg, found["rows"], found["total"])
    if by == "clerk":
        mark_awards(db, found["rows"], start, end)
    found["formula"] = msgspec.to_builtins(cfg.assessment)
    return found
