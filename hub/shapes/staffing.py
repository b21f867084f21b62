"""Staffing advice (GET /api/v1/reports/staffing): its query and its answer."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from msgspec import Meta

from .base import FIRST_YEAR, LAST_YEAR, Shape
from .responses import Answer

Minutes = Annotated[float | None, Meta(description="minutes; null: nobody in that hour")]


class StaffingQuery(Shape):
    week: Annotated[str, Meta(pattern=r"^[0-9]{4}-W[0-9]{2}$", max_length=8,
                              description="ISO week YYYY-Www; default: next week")] | None = None

    def __post_init__(self) -> None:
        if self.week is None:
            return
        year, week = int(self.week[:4]), int(self.week[6:])
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError(f"`week` must be in {FIRST_YEAR}-{LAST_YEAR}")
        try:
            dt.date.fromisocalendar(year, week, 1)
        except ValueError:
            raise ValueError(f"`week`: {year} has no week {week}") from None


class StaffingRow(Answer):
    """One item in one hour of a day."""

    hour: Annotated[int, Meta(ge=0, le=23, description="clock hour of issue")]
    service: str
    name: str
    name_en: str
    arrivals: Annotated[float, Meta(description="expected tickets issued in the hour")]
    service_minutes: Annotated[float, Meta(description="mean minutes at a window")]
    no_show: Annotated[float, Meta(description="share of calls nobody answered")]
    load: Annotated[float, Meta(description="erlangs: windows the work keeps busy")]
    windows: Annotated[int, Meta(description="suggested, by simulated days")]
    p90: Annotated[Minutes, Meta(description="simulated p90 wait with the suggestion (median "
                                             "over the seeds)")]
    met: Annotated[bool, Meta(description="the suggestion meets the target")]
    erlang_windows: Annotated[int, Meta(description="Erlang C's fewest windows for the target")]
    erlang_p90: Annotated[Minutes, Meta(description="Erlang C's p90 with the suggested windows")]
    configured_windows: Annotated[int, Meta(description="the hall's windows serving the item "
                                                        "(shared with their other items)")]
    configured_p90: Annotated[Minutes, Meta(description="simulated p90 with the hall as "
                                                        "configured")]


class StaffingHour(Answer):
    hour: int
    windows: Annotated[int, Meta(description="suggested windows, all items")]
    load: Annotated[float, Meta(description="erlangs, all items")]


class WindowUse(Answer):
    window: int
    share: Annotated[float, Meta(description="simulated share of its open time at a case")]


class StaffingDay(Answer):
    day: dt.date
    tickets: Annotated[float, Meta(description="expected tickets of the day")]
    hours: list[StaffingHour]
    rows: list[StaffingRow]
    utilisation: Annotated[list[WindowUse], Meta(description="the hall as configured")]


class StaffingHistory(Answer):
    """The days the advice learnt from: whole weeks before the advised one (or this one)."""

    start: dt.date = msgspec.field(name="from")
    end: dt.date = msgspec.field(name="to")
    weeks: int
    tickets: int


class StaffingAdvice(Answer):
    """Per day of the week the hall opens, per hour and item: windows suggested for the p90
    target, Erlang C beside it, the hall as configured beside both."""

    week: str
    target_p90_minutes: float
    seeds: Annotated[int, Meta(description="simulated days per plan")]
    days: list[StaffingDay]
    history: StaffingHistory
