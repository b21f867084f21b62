"""The day's figures counted again from the event log alone, for the soak's end check: each
ticket's life replayed from its events (issued, called, finished, no-show, transferred, rated,
expired at the day's end), then counted per item; and the windows' pauses, from each
`window.paused` to its `window.resumed`, per reason (the report's total has them). Written
apart from hub/reports on purpose: the report reads the tickets' stored state, this reads only
the events, so a bug in either (an event lost, a state not applied, a count in the wrong row)
shows as a difference."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

COUNTS = ("issued", "called", "served", "no_shows", "transferred", "expired", "not_rated")


@dataclass
class Visit:
    service: str
    window: int
    called: dt.datetime
    end: str = ""
    ended: dt.datetime | None = None


@dataclass
class Life:
    """One ticket as its events tell it."""

    service: str
    issued: dt.datetime
    visits: list[Visit] = field(default_factory=list)
    rated: list[int] = field(default_factory=list)  # the level of each ticket.rated
    expired_rating: bool = False
    expired: bool = False  # open at the day's end


def lives(events: list[dict[str, Any]]) -> dict[str, Life]:
    """Every ticket's life, from the events in seq order."""
    out: dict[str, Life] = {}
    for e in events:
        kind, data, at = e["type"], e["data"], e["at"]
        if kind == "ticket.issued":
            out[data["ticket_id"]] = Life(data["service"], at)
            continue
        if kind == "day.rolled":
            for tid in data.get("expired", []):
                if tid in out:
                    _expire(out[tid], at)
            continue
        life = out.get(data.get("ticket_id", ""))
        if life is None:
            continue
        _apply(life, kind, data, at, e.get("window_no"))
    return out


def _apply(life: Life, kind: str, data: dict[str, Any], at: dt.datetime,
           window: int | None) -> None:
    ends = {"ticket.finished": "finished", "ticket.no_show": "no_show",
            "ticket.transferred": "transferred", "ticket.return_requested": "return_requested"}
    if kind == "ticket.called":
        life.visits.append(Visit(data.get("service", life.service), window or 0, at))
    elif kind in ends and life.visits and not life.visits[-1].end:
        life.visits[-1].end, life.visits[-1].ended = ends[kind], at
        if kind == "ticket.transferred":
            life.service = data.get("to_service") or life.service
    elif kind == "ticket.rated":
        life.rated.append(int(data["level"]))
    elif kind == "rating.expired":
        life.expired_rating = True


def _expire(life: Life, at: dt.datetime) -> None:
    life.expired = True
    if life.visits and not life.visits[-1].end:
        life.visits[-1].end, life.visits[-1].ended = "expired", at


def minutes_up(seconds: float) -> int:
    return min(1440, max(0, math.ceil(seconds / 60 - 1e-9)))


def p90(minutes: list[int]) -> int | None:
    """Nearest rank: the smallest value with at least 90 % of them at or below it."""
    if not minutes:
        return None
    ordered = sorted(minutes)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


@dataclass
class Row:
    n: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    ratings: dict[str, int] = field(default_factory=lambda: {str(i): 0 for i in range(1, 6)})
    waits: list[float] = field(default_factory=list)
    serves: list[float] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        return {**self.n, "ratings": dict(self.ratings),
                "wait_mean_s": _mean(self.waits), "serve_mean_s": _mean(self.serves),
                "wait_p90_min": p90([minutes_up(s) for s in self.waits]),
                "serve_p90_min": p90([minutes_up(s) for s in self.serves])}


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def paused_by_reason(events: list[dict[str, Any]],
                     zone: dt.tzinfo = dt.UTC) -> dict[str, float]:
    """Seconds windows were paused, per reason: from each pause to the window's resume, or to
    the midnight ending the pause's day if the resume came later (the day's end closes a
    pause still open; the night is not paused time). Pauses never resumed are not counted
    (nor does the report count them)."""
    since: dict[int, tuple[dt.datetime, str]] = {}
    out: dict[str, float] = defaultdict(float)
    for e in events:
        window = e.get("window_no")
        if e["type"] == "window.paused" and window is not None:
            since[window] = (e["at"], e["data"].get("reason") or "")
        elif e["type"] == "window.resumed" and window in since:
            start, reason = since.pop(window)
            local = start.astimezone(zone)
            midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(),
                                           tzinfo=zone)
            out[reason] += max(0.0, (min(e["at"], midnight) - start).total_seconds())
    return {reason: round(s, 1) for reason, s in sorted(out.items())}


def recount(events: list[dict[str, Any]], zone: dt.tzinfo = dt.UTC) -> dict[str, dict[str, Any]]:
    """Per item (and "" for the whole day): the report's ticket figures, from the events; the
    whole day's also the paused seconds (`pause_s`, `pause_by_reason`: no item's)."""
    rows: dict[str, Row] = defaultdict(Row)
    for life in lives(events).values():
        first = life.visits[0].service if life.visits else life.service
        for key in (first, ""):
            rows[key].n["issued"] += 1
            if life.visits:
                rows[key].waits.append((life.visits[0].called - life.issued).total_seconds())
            elif life.expired:
                rows[key].n["expired"] += 1
        for v in life.visits:
            for key in (v.service, ""):
                row = rows[key]
                row.n["called"] += 1
                if v.end == "finished" and v.ended is not None:
                    row.n["served"] += 1
                    row.serves.append((v.ended - v.called).total_seconds())
                elif v.end in ("no_show", "transferred", "expired"):
                    row.n[{"no_show": "no_shows", "transferred": "transferred",
                           "expired": "expired"}[v.end]] += 1
        for key in (life.service, ""):
            if life.rated:
                rows[key].ratings[str(life.rated[0])] += 1
            elif life.expired_rating:
                rows[key].n["not_rated"] += 1
    figures = {key: row.figures() for key, row in rows.items()}
    pauses = paused_by_reason(events, zone)
    figures.setdefault("", Row().figures()).update(
        pause_s=round(sum(pauses.values()), 1), pause_by_reason=pauses)
    return figures
