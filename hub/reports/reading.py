"""Reading a range of days: the summed-up days in SQL, the open ones live, one row per group."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import msgspec

from hub.config import HallConfig
from hub.i18n import default_texts
from hub.store.database import Database

from .casework import add_casework, excluded_ratings
from .figures import Group, row_figures
from .names import Namer
from .periods import whole_months
from .rollup import month_key, settle, sum_up_month
from .summary import FIELDS, HistKey, Key, Summary, field_index

GROUPINGS = ("department", "window", "clerk", "service")
MAX_DAYS = 367 * 2  # two years at most in one report: bounds the work a request can ask for

_SUMS = ", ".join(f"SUM({f})" for f in FIELDS)


def report(db: Database, cfg: HallConfig, start: dt.date, end: dt.date, by: str,
           open_day: dt.date, now: dt.datetime | None = None) -> dict[str, Any]:
    """The figures of [start, end] (local business days, both included), one row per group.

    `open_day` is the hall's current day (HallService.state.day): it and later days are read
    live, earlier ones from their summary (made here if missing)."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {GROUPINGS}")
    if end < start:
        raise ValueError("the range ends before it starts")
    now = now or dt.datetime.now(dt.UTC)
    live_days = settle(db, cfg, start, end, open_day, now)
    sums = _Sums(Namer(cfg, db), by)
    s, e = start.isoformat(), end.isoformat()
    live = _live_summary(db, cfg, live_days, open_day)
    counts = _counts(db, s, e, live)
    sums.exclude(counts, excluded_ratings(db, s, e))
    sums.add_counts(counts)
    # Histograms by the grouping's own dimension (departments sum their items') and `all`.
    dim = "service" if by == "department" else by
    by_hour = sums.add_histograms(_histograms(db, dim, start, end, live_days, live, now))
    _add_events(db, sums.names, by, s, e, sums.groups, sums.total)
    add_casework(db, cfg, sums.names, by, start, end,
                 lambda g: sums.groups[g].casework, sums.total.casework)
    total, total_en = default_texts().each("export.total")
    return {
        "from": s, "to": e, "by": by, "days": (end - start).days + 1,
        "live_days": [d.isoformat() for d in live_days],
        "generated_at": now.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "rows": sums.rows(cfg),
        "total": {"key": "", "name": total, "name_en": total_en,
                  **row_figures(sums.total, True, None)},
        "by_hour": by_hour,
    }


class _Sums:
    """A report's groups and its total while they are summed."""

    def __init__(self, names: Namer, by: str) -> None:
        self.names, self.by = names, by
        self.groups: dict[str, Group] = defaultdict(Group)
        self.total = Group()

    def exclude(self, counts: dict[Key, list[float]],
                excluded: dict[Key, dict[int, int]]) -> None:
        """Take ratings excluded by an upheld appeal out of `counts`, and count them per
        group (see casework.py: applied as the report is read, never deleted)."""
        group_of = self.names.grouper(self.by)
        for key, levels in excluded.items():
            row = counts[key]
            for level, n in levels.items():
                i = field_index(f"r{level}")
                taken = int(min(n, row[i]))  # never below zero, whatever the sums say
                row[i] -= taken
                self.total.casework.ratings_excluded += taken
                g = group_of(key)
                if g is not None:
                    self.groups[g].casework.ratings_excluded += taken

    def add_counts(self, counts: dict[Key, list[float]]) -> None:
        group_of = self.names.grouper(self.by)
        for key, values in counts.items():
            self.total.v = [a + b for a, b in zip(self.total.v, values, strict=True)]
            g = group_of(key)
            if g is not None:
                self.groups[g].v = [a + b for a, b in zip(self.groups[g].v, values, strict=True)]

    def add_histograms(self, hist: dict[HistKey, int]) -> list[dict[str, int]]:
        """Add the minute histograms; returns the hall's tickets issued and served by hour."""
        by_hour = {h: {"hour": h, "issued": 0, "served": 0} for h in range(24)}
        for (d, k, metric, bucket), n in hist.items():
            if d == "all":
                self.total.hist[(metric, bucket)] += n
                if metric in ("issued_hour", "served_hour") and 0 <= bucket < 24:
                    by_hour[bucket][metric.removesuffix("_hour")] += n
                continue
            g = self.names.department_of_service(k) if self.by == "department" else k
            if g:
                self.groups[g].hist[(metric, bucket)] += n
        return list(by_hour.values())

    def rows(self, cfg: HallConfig) -> list[dict[str, Any]]:
        """One row per group: departments and items in the hall file's order, windows by number,
        clerks by username."""
        by = self.by
        with_issued = by in ("department", "service")
        rows = [
            {"key": key, **self.names.label(by, key), **row_figures(g, with_issued, by)}
            for key, g in self.groups.items()
        ]
        order = ([d.code for d in cfg.departments] if by == "department" else
                 [x.code for x in cfg.services] if by == "service" else [])
        rank = {k: i for i, k in enumerate(order)}
        rows.sort(key=lambda r: (rank.get(r["key"], len(rank)),
                                 int(r["key"]) if by == "window" and r["key"].isdigit() else 0,
                                 r["key"]))
        return rows


def _live_summary(db: Database, cfg: HallConfig, live_days: list[dt.date],
                  open_day: dt.date) -> Summary:
    """The days read live (open, or with a ticket still open), summed up in Python."""
    live = Summary(cfg)
    for day in live_days:
        live.add_rows(db.query("SELECT data FROM tickets WHERE day = ?", (day.isoformat(),)))
        live.add_slips(db, day, day, open_day)
    return live


def _counts(db: Database, s: str, e: str, live: Summary) -> dict[Key, list[float]]:
    """Counts per (window, clerk, item): the summed-up days in SQL, plus the live days."""
    counts: dict[Key, list[float]] = defaultdict(lambda: [0] * len(FIELDS))
    for row in db.query(
        f"SELECT window_no, clerk, service, {_SUMS} FROM report_counts "
        "WHERE day >= ? AND day <= ? GROUP BY window_no, clerk, service", (s, e)):
        counts[(row[0], row[1], row[2])] = [row[i + 3] or 0 for i in range(len(FIELDS))]
    for key, values in live.counts.items():
        counts[key] = [a + b for a, b in zip(counts[key], values, strict=True)]
    return counts


def _histograms(db: Database, dim: str, start: dt.date, end: dt.date,
                live_days: list[dt.date], live: Summary,
                now: dt.datetime) -> dict[HistKey, int]:
    """The minute histograms of `dim` and `all`: the summed-up ones, plus the live days'."""
    hist: dict[HistKey, int] = defaultdict(int)
    for row in _hist_rows(db, dim, start, end, set(live_days), now):
        hist[(row[0], row[1], row[2], row[3])] += row[4]
    for (d, k, metric, bucket), n in live.hist.items():
        if d in (dim, "all"):
            hist[(d, k, metric, bucket)] += n
    return hist


def _hist_rows(db: Database, dim: str, start: dt.date, end: dt.date, live: set[dt.date],
               now: dt.datetime) -> list[Any]:
    """The summed-up histogram rows of [start, end] for `dim` and `all`: whole closed months
    from their month sums (made here when missing), the days around them one by one."""
    months = [(a, b) for a, b in whole_months(start, end)
              if not any(a <= d <= b for d in live)]
    if months:
        keys = [month_key(a) for a, _ in months]
        marks = ", ".join("?" * len(keys))
        have = {r["day"] for r in db.query(
            f"SELECT day FROM report_days WHERE day IN ({marks})", keys)}
        for (a, b), key in zip(months, keys, strict=True):
            if key not in have:
                sum_up_month(db, a, b, now)
    spans, cursor = [], start
    for a, b in months:
        if cursor < a:
            spans.append((cursor, a - dt.timedelta(days=1)))
        cursor = b + dt.timedelta(days=1)
    if cursor <= end:
        spans.append((cursor, end))
    where = " OR ".join(["(day >= ? AND day <= ?)"] * len(spans))
    params: list[Any] = [dim]
    for a, b in spans:
        params += [a.isoformat(), b.isoformat()]
    if months:
        where = " OR ".join(filter(None, [where, f"day IN ({', '.join('?' * len(months))})"]))
        params += [month_key(a) for a, _ in months]
    return db.query(
        "SELECT dim, k, metric, bucket, SUM(n) FROM report_hist WHERE dim IN (?, 'all') "
        f"AND ({where}) GROUP BY dim, k, metric, bucket", params)


def _add_events(db: Database, names: Namer, by: str, s: str, e: str,
                groups: dict[str, Group], total: Group) -> None:
    """Complaints and pauses: sparse events, read as they are. Neither belongs to an item, so
    item rows show none (departments get them through the window's department)."""
    def group(window: int | None, clerk: str | None) -> str | None:
        if by == "window":
            return str(window) if window else None
        if by == "clerk":
            return clerk or None
        if by == "department":
            return names.department_of_window(window) if window else None
        return None

    for row in db.query("SELECT window_no, data FROM events WHERE type = 'complaint.filed' "
                        "AND day >= ? AND day <= ?", (s, e)):
        data = msgspec.json.decode(row["data"])
        total.complaints += 1
        g = group(row["window_no"], names.by_staff_no.get(data.get("staff_no") or ""))
        if g is not None:
            groups[g].complaints += 1

    paused_by: dict[int, str] = {}
    for row in db.query(
        "SELECT type, window_no, actor, data FROM events WHERE type IN "
        "('window.paused', 'window.resumed') AND day >= ? AND day <= ? ORDER BY seq", (s, e)):
        role, _, name = row["actor"].partition(":")
        if row["type"] == "window.paused":
            paused_by[row["window_no"]] = name if role == "clerk" else ""
            continue
        data = msgspec.json.decode(row["data"])
        clerk = paused_by.pop(row["window_no"], "") or (name if role == "clerk" else "")
        seconds = float(data.get("paused_s") or 0)
        reason = data.get("reason") or ""
        total.pauses[reason] += seconds
        g = group(row["window_no"], clerk)
        if g is not None:
            groups[g].pauses[reason] += seconds
