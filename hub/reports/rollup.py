"""Summing up closed days (and whole months of histograms) into the report tables, so a
year's report reads sums, not 1.5 M tickets.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.config import HallConfig
from hub.store.database import Database

from .periods import days
from .summary import FIELDS, Summary

_UNSETTLED = ("waiting", "called", "return_pending")


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
    for day in days(start, end):
        if day >= open_day or day in unsettled:
            live.append(day)
            if day in rolled:  # summed up before something reopened it: forget that sum
                with db.transaction() as tx:
                    _forget(tx, day)
        elif day not in rolled:
            roll_up_day(db, cfg, day, now)
    return live
