"""Statistics and assessment (统计与考核, issue 8): figures of a range of days per department,
window, clerk or service item, and a configurable score with a ranking per window or clerk.

Everything here reads the store and returns plain dicts (the API shapes them into JSON, CSV or
XLSX). What is counted, and why so:

- `issued`: tickets, by the item they were first called for (or issued for, if never called);
  a ticket is not issued *to* a window, so window and clerk rows leave it out (None).
- `called`, `served`, `no_shows`, `transferred`, `returned`: stays at a window (a ticket's
  `visits`), by how each ended; a ticket transferred once counts at both windows, and a ticket
  that did not come twice is two no-shows (two calls nobody answered).
- `expired`: tickets that ended their day unserved, waiting or at a window.
- wait: from issue to the first call, at the first window; service time: a finished stay.
  Means are exact; p90 is to the whole minute, rounded up (nearest rank on minute histograms,
  which is what makes a year's p90 a sum instead of a sort of 1.5 M times).
- `within_target`: finished stays no longer than the item's `target_minutes`.
- 承诺件 (slips with a promised date) *due* in the range: done (done/ready/collected) on or before
  the promised date, late, or still pending; by the ticket's last window and clerk.
- ratings 1-5 (1 = 非常满意), `satisfaction` = levels 1-3 over rated, by the rated window/clerk.
- complaints (complaint.filed, by the window and staff number named) and paused seconds by
  reason (window.resumed carries them; the clerk is whoever paused).

Speed: a closed day (rolled over, no ticket of it still open) is summed up once from its
`tickets` rows into `report_counts` and `report_hist` (migration 0008), in one transaction with
its `report_days` marker; open days are read live. The summary is a pure function of committed
rows, so a hub restart loses nothing: a day without a marker is summed up again when asked.

All SQL is portable (SQLite and PostgreSQL); the only JSON look-up is a LIKE on the events'
text in `_SLIPS_SQL` (the slip status an event moved to), kept in that one place.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from hub.config import HallConfig
from hub.store.database import Database

GROUPINGS = ("department", "window", "clerk", "service")
ASSESSED = ("window", "clerk")
PERIODS = ("day", "week", "month", "year")
MAX_DAYS = 367 * 2  # two years at most in one report: bounds the work a request can ask for

FIELDS = ("issued", "called", "served", "no_shows", "transferred", "returned", "expired",
          "wait_n", "wait_s", "serve_n", "serve_s", "within_target",
          "r1", "r2", "r3", "r4", "r5", "not_rated",
          "slips_on_time", "slips_late", "slips_pending")
_I = {name: i for i, name in enumerate(FIELDS)}
_UNSETTLED = ("waiting", "called", "return_pending")
_DONE = ("done", "ready", "collected")


# --- the part of a ticket a report reads (unknown fields are skipped: decoding stays cheap) --

class _Visit(msgspec.Struct, kw_only=True):
    window: int
    clerk: str
    service: str
    called_at: dt.datetime
    ended_at: dt.datetime | None = None
    end: str | None = None


class _Rating(msgspec.Struct, kw_only=True):
    window: int
    clerk: str
    status: str = "pending"
    level: int | None = None


class _Ticket(msgspec.Struct, kw_only=True):
    service: str
    status: str = "waiting"
    issued_at: dt.datetime
    rating: _Rating | None = None
    visits: list[_Visit] = []


_decode_ticket = msgspec.json.Decoder(_Ticket).decode
Key = tuple[int, str, str]  # (window_no, clerk, service); (0, "", service): never called
HistKey = tuple[str, str, str, int]  # (dim, k, metric, bucket)


def minutes_up(seconds: float) -> int:
    """Whole minutes, rounded up, capped at a day: the histograms' bucket of a time."""
    return min(1440, max(0, math.ceil(seconds / 60 - 1e-9)))


class Summary:
    """Counts and histograms of some tickets: of one day (to store) or of the open days."""

    def __init__(self, cfg: HallConfig) -> None:
        self.zone = cfg.zone
        self.targets = {s.code: s.target_minutes * 60 for s in cfg.services}
        self.counts: dict[Key, list[float]] = defaultdict(lambda: [0] * len(FIELDS))
        self.hist: dict[HistKey, int] = defaultdict(int)
        self.tickets = 0

    def _times(self, metric: str, seconds: float, visit: _Visit) -> None:
        bucket = minutes_up(seconds)
        for dim, k in (("all", ""), ("service", visit.service), ("window", str(visit.window)),
                       ("clerk", visit.clerk)):
            self.hist[(dim, k, metric, bucket)] += 1

    def add(self, t: _Ticket) -> None:
        self.tickets += 1
        visits = t.visits
        first: Key = (visits[0].window, visits[0].clerk, visits[0].service) if visits else (
            0, "", t.service)
        row = self.counts[first]
        row[_I["issued"]] += 1
        self.hist[("all", "", "issued_hour", t.issued_at.astimezone(self.zone).hour)] += 1
        if visits:
            wait = (visits[0].called_at - t.issued_at).total_seconds()
            row[_I["wait_n"]] += 1
            row[_I["wait_s"]] += wait
            self._times("wait", wait, visits[0])
        elif t.status == "expired":
            row[_I["expired"]] += 1
        for v in visits:
            row = self.counts[(v.window, v.clerk, v.service)]
            row[_I["called"]] += 1
            if v.end == "finished" and v.ended_at is not None:
                took = (v.ended_at - v.called_at).total_seconds()
                row[_I["served"]] += 1
                row[_I["serve_n"]] += 1
                row[_I["serve_s"]] += took
                row[_I["within_target"]] += took <= self.targets.get(v.service, 15 * 60)
                self._times("serve", took, v)
                self.hist[("all", "", "served_hour", v.ended_at.astimezone(self.zone).hour)] += 1
            elif v.end == "no_show":
                row[_I["no_shows"]] += 1
            elif v.end == "transferred":
                row[_I["transferred"]] += 1
            elif v.end == "return_requested":
                row[_I["returned"]] += 1
            elif v.end == "expired":
                row[_I["expired"]] += 1
        r = t.rating
        if r is not None and r.status in ("rated", "not_rated"):
            row = self.counts[(r.window, r.clerk, t.service)]
            if r.status == "rated" and r.level in (1, 2, 3, 4, 5):
                row[_I[f"r{r.level}"]] += 1
            else:
                row[_I["not_rated"]] += 1

    def add_rows(self, rows: Iterable[Any]) -> None:
        for row in rows:
            self.add(_decode_ticket(row["data"]))

    def add_slips(self, db: Database, start: dt.date, end: dt.date, open_day: dt.date) -> None:
        """承诺件 due in [start, end]: done by the end of the promised (local) day, late (done
        after it, or not done and the day is over), or pending (not done, not yet due)."""
        deadline: dict[str, str] = {}  # promised date -> first UTC instant after it, as stored
        for row in db.query(_SLIPS_SQL, (start.isoformat(), end.isoformat())):
            promised = row["promised_date"]
            if promised not in deadline:
                after = dt.datetime.combine(
                    dt.date.fromisoformat(promised) + dt.timedelta(days=1), dt.time(),
                    tzinfo=self.zone)
                deadline[promised] = after.astimezone(dt.UTC).isoformat(timespec="microseconds")
            done = row["done_at"]
            if done is not None and done < deadline[promised]:
                field = "slips_on_time"
            elif done is not None or dt.date.fromisoformat(promised) < open_day:
                field = "slips_late"
            else:
                field = "slips_pending"
            role, _, clerk = (row["actor"] or "").partition(":")
            key = (row["window_no"] or 0, clerk if role == "clerk" else "", row["service"])
            self.counts[key][_I[field]] += 1


# --- summing up closed days ----------------------------------------------------------------

def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def roll_up_day(db: Database, cfg: HallConfig, day: dt.date, now: dt.datetime) -> int:
    """Sum up one closed day into the report tables, replacing whatever was there, in one
    transaction (marker included). Returns its number of tickets."""
    summary = Summary(cfg)
    summary.add_rows(db.query("SELECT data FROM tickets WHERE day = ?", (day.isoformat(),)))
    summary.add_slips(db, day, day, day + dt.timedelta(days=1))
    d = day.isoformat()
    with db.transaction() as tx:
        _forget(tx, day)
        tx.executemany(
            f"INSERT INTO report_counts (day, window_no, clerk, service, {', '.join(FIELDS)}) "
            f"VALUES ({', '.join('?' * (len(FIELDS) + 4))})",
            [(d, *key, *values) for key, values in summary.counts.items()],
        )
        tx.executemany(
            "INSERT INTO report_hist (day, dim, k, metric, bucket, n) VALUES (?, ?, ?, ?, ?, ?)",
            [(d, *key, n) for key, n in summary.hist.items()],
        )
        tx.execute("INSERT INTO report_days (day, tickets, rolled_at) VALUES (?, ?, ?)",
                   (d, summary.tickets, now.astimezone(dt.UTC).isoformat()))
    return summary.tickets


def month_key(day: dt.date) -> str:
    """The `day` of a month's sum: "M2025-06". The M sorts after every date, so a month sum is
    never inside a range of days (a bare "2025-06" would be: "2025-01-01" < it < "2025-12-31")."""
    return f"M{day:%Y-%m}"


def _forget(tx: Any, day: dt.date) -> None:
    """Drop a day's sums and its month's (a month sum holds the day)."""
    for key in (day.isoformat(), month_key(day)):
        for table in ("report_counts", "report_hist", "report_days"):
            tx.execute(f"DELETE FROM {table} WHERE day = ?", (key,))


def _months(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The whole calendar months inside [start, end]."""
    found = []
    first = start if start.day == 1 else (start.replace(day=28) + dt.timedelta(days=4)).replace(
        day=1)
    while True:
        month_start, month_end = period("month", first)
        if month_end > end:
            return found
        found.append((month_start, month_end))
        first = month_end + dt.timedelta(days=1)


def sum_up_month(db: Database, start: dt.date, end: dt.date, now: dt.datetime) -> None:
    """One month's histograms as one set of rows (`day` = YYYY-MM), from its summed-up days,
    in one transaction with its marker."""
    key = month_key(start)
    with db.transaction() as tx:
        tx.execute("DELETE FROM report_hist WHERE day = ?", (key,))
        tx.execute("DELETE FROM report_days WHERE day = ?", (key,))
        tx.execute(
            "INSERT INTO report_hist (day, dim, k, metric, bucket, n) "
            "SELECT CAST(? AS TEXT), dim, k, metric, bucket, SUM(n) FROM report_hist "
            "WHERE day >= ? AND day <= ? GROUP BY dim, k, metric, bucket",
            (key, start.isoformat(), end.isoformat()))
        tx.execute(
            "INSERT INTO report_days (day, tickets, rolled_at) SELECT CAST(? AS TEXT), "
            "COALESCE(SUM(tickets), 0), CAST(? AS TEXT) FROM report_days "
            "WHERE day >= ? AND day <= ?",
            (key, now.astimezone(dt.UTC).isoformat(), start.isoformat(), end.isoformat()))


def settle(db: Database, cfg: HallConfig, start: dt.date, end: dt.date, open_day: dt.date,
           now: dt.datetime) -> list[dt.date]:
    """Sum up the closed days of [start, end] not summed up yet; return the days to read live:
    the open day and later, and days with a ticket still open (their rows may still change)."""
    s, e = start.isoformat(), end.isoformat()
    marks = "', '".join(_UNSETTLED)
    unsettled = {
        dt.date.fromisoformat(r["day"]) for r in db.query(
            f"SELECT DISTINCT day FROM tickets WHERE status IN ('{marks}') "
            "AND day >= ? AND day <= ?", (s, e))
    }
    rolled = {dt.date.fromisoformat(r["day"]) for r in db.query(
        "SELECT day FROM report_days WHERE day >= ? AND day <= ?", (s, e))}
    live = []
    for day in _days(start, end):
        if day >= open_day or day in unsettled:
            live.append(day)
            if day in rolled:  # summed up before something reopened it: forget that sum
                with db.transaction() as tx:
                    _forget(tx, day)
        elif day not in rolled:
            roll_up_day(db, cfg, day, now)
    return live


# --- reading a range -----------------------------------------------------------------------

_SUMS = ", ".join(f"SUM({f})" for f in FIELDS)

# The one JSON look-up: the slip status an event moved to, matched in the event's text
# (msgspec writes compact JSON). Portable LIKE rather than json_extract / ->>.
_DONE_LIKE = " OR ".join(f"e.data LIKE '%\"status\":\"{s}\"%'" for s in _DONE)
# The window and clerk of a slip are those of its ticket.finished event (a finished ticket's
# row no longer names them: it left the window).
_SLIPS_SQL = (
    "SELECT s.service, s.promised_date, f.window_no, f.actor, "
    "(SELECT MIN(e.at) FROM events e WHERE e.ticket_id = s.ticket_id "
    f"AND e.type = 'slip.status_changed' AND ({_DONE_LIKE})) AS done_at "
    "FROM slips s LEFT JOIN events f ON f.ticket_id = s.ticket_id AND f.type = 'ticket.finished' "
    "WHERE s.promised_date >= ? AND s.promised_date <= ?"
)


class _Group:
    """One row of a report while it is being summed."""

    def __init__(self) -> None:
        self.v = [0.0] * len(FIELDS)
        self.hist: dict[tuple[str, int], int] = defaultdict(int)  # (metric, minute) -> n
        self.complaints = 0
        self.pauses: dict[str, float] = defaultdict(float)


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


def _figures(g: _Group, with_issued: bool) -> dict[str, Any]:
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
        "not_rated": int(v["not_rated"]),
        "satisfaction": _share(v["r1"] + v["r2"] + v["r3"], rated),
        "complaints": g.complaints,
        "pause_s": round(sum(g.pauses.values()), 1),
        "pause_by_reason": {k: round(s, 1) for k, s in sorted(g.pauses.items())},
    }


class _Namer:
    """Names of groups, from the hall file and the staff accounts."""

    def __init__(self, cfg: HallConfig, db: Database) -> None:
        self.cfg = cfg
        self.users = {r["username"]: (r["name"], r["staff_no"])
                      for r in db.query("SELECT username, name, staff_no FROM users")}
        self.by_staff_no = {no: u for u, (_, no) in self.users.items() if no}
        self.departments = {d.code: d for d in cfg.departments}
        self.services = {s.code: s for s in cfg.services}
        self.windows = {w.no: w for w in cfg.windows}

    def department_of_service(self, code: str) -> str:
        return self.cfg.service(code).department if self.cfg.has_service(code) else "?"

    def department_of_window(self, no: int) -> str:
        return self.cfg.window(no).department if self.cfg.has_window(no) else "?"

    def grouper(self, by: str) -> Callable[[Key], str | None]:
        if by == "department":
            return lambda k: self.department_of_service(k[2])
        if by == "service":
            return lambda k: k[2]
        if by == "window":
            return lambda k: str(k[0]) if k[0] else None
        return lambda k: k[1] or None

    def label(self, by: str, key: str) -> dict[str, Any]:
        if by == "department":
            d = self.departments.get(key)
            return {"name": d.name if d else key, "name_en": d.name_en if d else ""}
        if by == "service":
            s = self.services.get(key)
            return {"name": s.name if s else key, "name_en": s.name_en if s else ""}
        if by == "window":
            w = self.windows.get(int(key))
            return {"name": (w.name if w and w.name else f"{key}号窗口"),
                    "name_en": f"Window {key}"}
        name, staff_no = self.users.get(key, (key, ""))
        return {"name": name, "name_en": key, "staff_no": staff_no}


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
    names = _Namer(cfg, db)
    group_of = names.grouper(by)
    groups: dict[str, _Group] = defaultdict(_Group)
    total = _Group()
    s, e = start.isoformat(), end.isoformat()

    # Counts: the summed-up days in SQL, the live days in Python, then by group.
    counts: dict[Key, list[float]] = defaultdict(lambda: [0] * len(FIELDS))
    for row in db.query(
        f"SELECT window_no, clerk, service, {_SUMS} FROM report_counts "
        "WHERE day >= ? AND day <= ? GROUP BY window_no, clerk, service", (s, e)):
        counts[(row[0], row[1], row[2])] = [row[i + 3] or 0 for i in range(len(FIELDS))]
    live = Summary(cfg)
    for day in live_days:
        live.add_rows(db.query("SELECT data FROM tickets WHERE day = ?", (day.isoformat(),)))
        live.add_slips(db, day, day, open_day)
    for key, values in live.counts.items():
        counts[key] = [a + b for a, b in zip(counts[key], values, strict=True)]
    for key, values in counts.items():
        total.v = [a + b for a, b in zip(total.v, values, strict=True)]
        g = group_of(key)
        if g is not None:
            groups[g].v = [a + b for a, b in zip(groups[g].v, values, strict=True)]

    # Histograms: by the grouping's own dimension (departments sum their items') and `all`.
    dim = "service" if by == "department" else by
    hist: dict[HistKey, int] = defaultdict(int)
    for row in _hist_rows(db, dim, start, end, set(live_days), now):
        hist[(row[0], row[1], row[2], row[3])] += row[4]
    for (d, k, metric, bucket), n in live.hist.items():
        if d in (dim, "all"):
            hist[(d, k, metric, bucket)] += n
    by_hour = {h: {"hour": h, "issued": 0, "served": 0} for h in range(24)}
    for (d, k, metric, bucket), n in hist.items():
        if d == "all":
            total.hist[(metric, bucket)] += n
            if metric in ("issued_hour", "served_hour") and 0 <= bucket < 24:
                by_hour[bucket][metric.removesuffix("_hour")] += n
            continue
        g = names.department_of_service(k) if by == "department" else k
        if g:
            groups[g].hist[(metric, bucket)] += n

    _add_events(db, names, by, s, e, groups, total)

    with_issued = by in ("department", "service")
    rows = [
        {"key": key, **names.label(by, key), **_figures(g, with_issued)}
        for key, g in groups.items()
    ]
    order = ([d.code for d in cfg.departments] if by == "department" else
             [x.code for x in cfg.services] if by == "service" else [])
    rank = {k: i for i, k in enumerate(order)}
    rows.sort(key=lambda r: (rank.get(r["key"], len(rank)),
                             int(r["key"]) if by == "window" and r["key"].isdigit() else 0,
                             r["key"]))
    return {
        "from": s, "to": e, "by": by, "days": (end - start).days + 1,
        "live_days": [d.isoformat() for d in live_days],
        "generated_at": now.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "rows": rows,
        "total": {"key": "", "name": "合计", "name_en": "Total", **_figures(total, True)},
        "by_hour": list(by_hour.values()),
    }


def _hist_rows(db: Database, dim: str, start: dt.date, end: dt.date, live: set[dt.date],
               now: dt.datetime) -> list[Any]:
    """The summed-up histogram rows of [start, end] for `dim` and `all`: whole closed months
    from their month sums (made here when missing), the days around them one by one."""
    months = [(a, b) for a, b in _months(start, end)
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


def _add_events(db: Database, names: _Namer, by: str, s: str, e: str,
                groups: dict[str, _Group], total: _Group) -> None:
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


# --- assessment ----------------------------------------------------------------------------

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


def period(kind: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The day, ISO week (Monday first), month or year that holds `day`."""
    if kind == "day":
        return day, day
    if kind == "week":
        start = day - dt.timedelta(days=day.weekday())
        return start, start + dt.timedelta(days=6)
    if kind == "month":
        nxt = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return day.replace(day=1), nxt - dt.timedelta(days=1)
    if kind == "year":
        return day.replace(month=1, day=1), day.replace(month=12, day=31)
    raise ValueError(f"period must be one of {PERIODS}")


# --- exports -------------------------------------------------------------------------------

COLUMNS: tuple[tuple[str, str, str], ...] = (
    # (field, 中文, English)
    ("key", "编码", "Key"),
    ("name", "名称", "Name"),
    ("issued", "取号", "Issued"),
    ("called", "叫号", "Called"),
    ("served", "办结", "Served"),
    ("no_shows", "过号", "No-shows"),
    ("transferred", "转办", "Transferred"),
    ("returned", "退件", "Returned"),
    ("expired", "未办", "Unserved"),
    ("wait_mean_s", "平均等候(秒)", "Mean wait (s)"),
    ("wait_p90_min", "等候P90(分)", "Wait p90 (min)"),
    ("serve_mean_s", "平均办理(秒)", "Mean service (s)"),
    ("serve_p90_min", "办理P90(分)", "Service p90 (min)"),
    ("within_target_share", "时限内办结率", "Within target"),
    ("slips_on_time", "承诺件按时", "Slips on time"),
    ("slips_late", "承诺件超期", "Slips late"),
    ("slips_on_time_share", "承诺件按时率", "Slips on-time share"),
    ("r1", "非常满意", "Very satisfied"),
    ("r2", "满意", "Satisfied"),
    ("r3", "基本满意", "Basically satisfied"),
    ("r4", "不满意", "Dissatisfied"),
    ("r5", "非常不满意", "Very dissatisfied"),
    ("satisfaction", "满意率", "Satisfaction"),
    ("complaints", "投诉", "Complaints"),
    ("pause_min", "暂停(分)", "Paused (min)"),
)
SCORE_COLUMNS = (("rank", "名次", "Rank"), ("score", "得分", "Score"))


def table(found: dict[str, Any]) -> tuple[list[str], list[str], list[list[Any]]]:
    """Field names, header and rows of a report or an assessment, flat, for CSV and XLSX
    (the total last)."""
    cols = list(COLUMNS)
    if "formula" in found:
        cols = [*SCORE_COLUMNS, *cols]
    header = [f"{zh} {en}" for _, zh, en in cols]
    out = []
    for r in [*found["rows"], found["total"]]:
        flat = {**r, **{f"r{i}": r["ratings"][str(i)] for i in range(1, 6)},
                "pause_min": round(r["pause_s"] / 60, 1)}
        out.append([flat.get(name) for name, _, _ in cols])
    return [c[0] for c in cols], header, out


def to_csv(found: dict[str, Any]) -> str:
    """UTF-8 CSV with a BOM (so Excel in a Chinese locale reads the headers right)."""
    _, header, rows = table(found)
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([f"{found['from']} – {found['to']}", f"by {found['by']}"])
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return buf.getvalue()


def to_xlsx(found: dict[str, Any], title: str) -> bytes:
    """One sheet, header frozen, shares as percentages: what the office files each month."""
    import xlsxwriter  # noqa: PLC0415 (only for an export: stays out of the hub's memory)

    names, header, rows = table(found)
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    sheet = book.add_worksheet(title[:31])
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    pct = book.add_format({"num_format": "0.0%"})
    sheet.write(0, 0, f"{found['from']} – {found['to']} ({found['by']})", bold)
    sheet.write_row(1, 0, header, bold)
    for i, row in enumerate(rows, start=2):
        for j, value in enumerate(row):
            if value is None:
                continue
            fmt = pct if names[j].endswith(("share", "satisfaction")) else None
            sheet.write(i, j, value, fmt)
    sheet.set_column(0, len(header) - 1, 12)
    sheet.freeze_panes(2, 2)
    book.close()
    return buf.getvalue()
