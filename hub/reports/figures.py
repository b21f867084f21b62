"""A report row's figures from its sums: counts, means, p90s and shares."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from hub.engine.model import RATING_CHANNELS

from .casework import Casework, figures
from .summary import FIELDS


class Group:
    """One row of a report while it is being summed."""

    def __init__(self) -> None:
        self.v = [0.0] * len(FIELDS)
        self.hist: dict[tuple[str, int], int] = defaultdict(int)  # (metric, minute) -> n
        self.complaints = 0
        self.pauses: dict[str, float] = defaultdict(float)
        self.casework = Casework()


def _p90(hist: dict[tuple[str, int], int], metric: str) -> int | None:
    """Nearest-rank 90th percentile in whole minutes (the smallest minute with ≥ 90 % at or
    below it)."""
    buckets = sorted((b, n) for (m, b), n in hist.items() if m == metric and n)
    total = sum(n for _, n in buckets)
    if not total:
        return None
    rank, seen = math.ceil(0.9 * total), 0
    for bucket, n in buckets:
        seen += n
        if seen >= rank:
            return bucket
    return buckets[-1][0]


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def row_figures(g: Group, with_issued: bool, by: str | None = None) -> dict[str, Any]:
    """A row's figures (`by` None: the total, which holds every figure)."""
    v = dict(zip(FIELDS, g.v, strict=True))
    rated = sum(v[f"r{i}"] for i in range(1, 6))
    on_time, late, pending = (int(v[f]) for f in ("slips_on_time", "slips_late",
                                                  "slips_pending"))
    return {
        "issued": int(v["issued"]) if with_issued else None,
        "called": int(v["called"]),
        "served": int(v["served"]),
        "no_shows": int(v["no_shows"]),
        "transferred": int(v["transferred"]),
        "returned": int(v["returned"]),
        "expired": int(v["expired"]),
        "no_show_share": _share(v["no_shows"], v["called"]),
        "wait_mean_s": round(v["wait_s"] / v["wait_n"], 1) if v["wait_n"] else None,
        "wait_p90_min": _p90(g.hist, "wait"),
        "serve_mean_s": round(v["serve_s"] / v["serve_n"], 1) if v["serve_n"] else None,
        "serve_p90_min": _p90(g.hist, "serve"),
        "within_target": int(v["within_target"]),
        "within_target_share": _share(v["within_target"], v["serve_n"]),
        "slips_on_time": on_time,
        "slips_late": late,
        "slips_pending": pending,
        "slips_on_time_share": _share(on_time, on_time + late),
        "ratings": {str(i): int(v[f"r{i}"]) for i in range(1, 6)},
        "rated": int(rated),
        "rated_by_channel": {c: int(v[f"rated_{c}"]) for c in RATING_CHANNELS},
        "not_rated": int(v["not_rated"]),
        "satisfaction": _share(v["r1"] + v["r2"] + v["r3"], rated),
        "complaints": g.complaints,
        "pause_s": round(sum(g.pauses.values()), 1),
        "pause_by_reason": {k: round(s, 1) for k, s in sorted(g.pauses.items())},
        **figures(g.casework, by),
    }
