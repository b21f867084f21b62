"""Days, ISO weeks, months and years: the periods a report covers."""

from __future__ import annotations

import datetime as dt

PERIODS = ("day", "week", "month", "year")


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


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def whole_months(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The whole calendar months inside [start, end]."""
    found: list[tuple[dt.date, dt.date]] = []
    first = start if start.day == 1 else (start.replace(day=28) + dt.timedelta(days=4)).replace(
        day=1)
    while True:
        month_start, month_end = period("month", first)
        if month_end > end:
            return found
        found.append((month_start, month_end))
        first = month_end + dt.timedelta(days=1)
