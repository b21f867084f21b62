"""考核: scoring and ranking a report's windows or clerks by the hall's [assessment] formula."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from hub.config import HallConfig
from hub.store.database import Database

from .reading import report

ASSESSED = ("window", "clerk")


def score_rows(cfg: HallConfig, rows: list[dict[str, Any]],
               total: dict[str, Any]) -> list[dict[str, Any]]:
    """Score and rank report rows by the hall's [assessment] formula (see hub.config.Assessment).

    Returns new rows with `score`, `rank` (1 = best; equal scores share a rank) and `parts`, the
    terms of the formula, so a clerk can see why."""
    a = cfg.assessment
    most = max((r["served"] for r in rows), default=0)
    exempt = set(a.pause_exempt)
    out = []
    for r in rows:
        # A share the row cannot have (nothing rated, no 承诺件 due) is the hall's; one the hall
        # has not either leaves its weight out, so a score stays out of 100 whatever the month.
        shares = {"satisfaction": "satisfaction", "within_target": "within_target_share",
                  "on_time": "slips_on_time_share"}
        values = {k: r[f] if r[f] is not None else total[f] for k, f in shares.items()}
        weights = {"served": a.served, **{k: getattr(a, k) for k, v in values.items()
                                           if v is not None}}
        whole = sum(weights.values()) or 1.0
        parts = {"served": 100 * a.served * (r["served"] / most if most else 0.0) / whole}
        parts.update({k: 100 * weights.get(k, 0.0) * (values[k] or 0.0) / whole
                      for k in shares})
        no_show = r["no_show_share"] if r["no_show_share"] is not None else 0.0
        pause_s = sum(s for reason, s in r["pause_by_reason"].items() if reason not in exempt)
        parts["no_shows"] = -100 * a.no_show_penalty * no_show
        parts["complaints"] = -a.complaint_penalty * r["complaints"]
        parts["pauses"] = -a.pause_penalty_per_hour * pause_s / 3600
        out.append({**r, "score": round(sum(parts.values()), 2),
                    "parts": {k: round(v, 2) + 0.0 for k, v in parts.items()}})
    out.sort(key=lambda r: (-r["score"], r["key"]))
    for i, r in enumerate(out):
        same = i and out[i - 1]["score"] == r["score"]
        r["rank"] = out[i - 1]["rank"] if same else i + 1
    return out


def assessment(db: Database, cfg: HallConfig, start: dt.date, end: dt.date, by: str,
               open_day: dt.date, now: dt.datetime | None = None) -> dict[str, Any]:
    """考核: the report's figures per window or clerk, each with its score and rank."""
    if by not in ASSESSED:
        raise ValueError(f"by must be one of {ASSESSED}")
    found = report(db, cfg, start, end, by, open_day, now)
    found["rows"] = score_rows(cfg, found["rows"], found["total"])
    found["formula"] = msgspec.to_builtins(cfg.assessment)
    return found
