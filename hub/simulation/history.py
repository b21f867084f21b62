"""A hall's demand estimated from its own history: what the staffing advice simulates.

From the tickets of the last weeks: arrivals per item and hour of the week (tickets issued,
divided by the number of such weekdays the hall was open), service times per item (a stay at
a window from its call to its finish, so the walk to the window counts, as it does for the
next citizen), and the share of calls nobody answered (no-shows) and of stays transferred.

Pure: the store is read by hub/reports/staffing.py, which feeds each ticket in here. Tickets
refused at the kiosk (a quota reached) are not in the history, so a day that hit its quota
shows less demand than there was; the quotas are in the hall file for the office to compare.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field

from hub.config import HallConfig
from hub.config.schema import Service

from .demand import Demand, Distribution, ItemDemand

# Fewer finished stays than this and an item's service time is its target_minutes (the hall
# file's expectation), with a typical spread, rather than the mean of a handful.
MIN_SAMPLES = 8
DEFAULT_CV = 0.6
WEEKDAYS = range(1, 8)


@dataclass(frozen=True)
class Visit:
    """One stay of a ticket at a window: its item, when it was called and how it ended
    (finished, no_show, transferred, return_requested, expired, or None while open)."""

    service: str
    called_at: dt.datetime
    ended_at: dt.datetime | None
    end: str | None


@dataclass
class _Moments:
    n: int = 0
    total: float = 0.0
    squares: float = 0.0

    def add(self, x: float) -> None:
        self.n += 1
        self.total += x
        self.squares += x * x

    def mean_cv(self) -> tuple[float, float]:
        mean = self.total / self.n
        var = max(0.0, self.squares / self.n - mean * mean)
        return mean, (math.sqrt(var) / mean if mean > 0 else 0.0)


@dataclass
class History:
    """What the tickets of some days say about demand. Feed tickets with `add`, the days the
    hall was open with `open_day`, then ask `demand_for(day)`."""

    cfg: HallConfig
    arrivals: Counter[tuple[str, int, int]] = field(default_factory=Counter)  # item, wd, hour
    days: Counter[int] = field(default_factory=Counter)  # isoweekday → open days seen
    service: dict[str, _Moments] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    no_shows: Counter[str] = field(default_factory=Counter)
    transfers: Counter[str] = field(default_factory=Counter)
    tickets: int = 0

    def open_day(self, day: dt.date) -> None:
        """Count `day` in the denominators if the hall issued tickets for anything on it."""
        if any(open_on(self.cfg, svc, day) for svc in self.cfg.services):
            self.days[day.isoweekday()] += 1

    def add(self, service: str, issued_at: dt.datetime, visits: list[Visit]) -> None:
        local = issued_at.astimezone(self.cfg.zone)
        self.tickets += 1
        self.arrivals[(service, local.isoweekday(), local.hour)] += 1
        for v in visits:
            self.calls[v.service] += 1
            if v.end == "no_show":
                self.no_shows[v.service] += 1
            elif v.end == "transferred":
                self.transfers[v.service] += 1
            elif v.end == "finished" and v.ended_at is not None:
                minutes = (v.ended_at - v.called_at).total_seconds() / 60
                if minutes > 0:
                    self.service.setdefault(v.service, _Moments()).add(minutes)

    def service_minutes(self, svc: Service) -> tuple[Distribution, bool]:
        """The item's service time, and whether it was measured (else the target's)."""
        m = self.service.get(svc.code)
        if m is None or m.n < MIN_SAMPLES:
            return Distribution(float(svc.target_minutes), DEFAULT_CV), False
        mean, cv = m.mean_cv()
        return Distribution(max(mean, 0.05), cv), True

    def rates(self, code: str, day: dt.date) -> dict[int, float]:
        """Mean tickets per clock hour on a day like `day`. A make-up workday (调休补班, a
        weekend day worked as a weekday) takes the weekdays' mean: its own weekday's history
        is the weekend's."""
        weekday = day.isoweekday()
        pool = range(1, 6) if weekday > 5 and day in self.cfg.calendar.workdays else [weekday]
        days = sum(self.days[w] for w in pool)
        if not days:
            return {}
        return {
            h: n / days
            for h in range(24)
            if (n := sum(self.arrivals[(code, w, h)] for w in pool))
        }

    def demand_for(self, day: dt.date) -> Demand:
        """The demand the history predicts for `day`: every item the hall serves that day with
        arrivals in its history."""
        items: dict[str, ItemDemand] = {}
        for svc in self.cfg.services:
            if not open_on(self.cfg, svc, day):
                continue
            per_hour = self.rates(svc.code, day)
            if not per_hour:
                continue
            calls = self.calls[svc.code]
            items[svc.code] = ItemDemand(
                service=svc.code,
                arrivals_per_hour=per_hour,
                service_minutes=self.service_minutes(svc)[0],
                no_show=self.no_shows[svc.code] / calls if calls else 0.0,
                transfer=self.transfers[svc.code] / calls if calls else 0.0,
                periods=periods_of(self.cfg, svc),
            )
        return Demand(items, *_day_span(items))


def open_on(cfg: HallConfig, svc: Service, day: dt.date) -> bool:
    """Whether the hall issues tickets for `svc` at some time of `day`."""
    if day in cfg.calendar.holidays:
        return False
    return day.isoweekday() in cfg.hours[svc.hours].weekdays or day in cfg.calendar.workdays


def periods_of(cfg: HallConfig, svc: Service) -> tuple[tuple[int, int], ...]:
    """The item's ticket periods as minutes of the day."""
    return tuple((_minute(a), _minute(b)) for a, b in cfg.hours[svc.hours].periods)


def _minute(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _day_span(items: dict[str, ItemDemand]) -> tuple[int, int]:
    hours = [h for item in items.values() for h in item.arrivals_per_hour]
    if not hours:
        return 8, 18
    return min(hours), max(hours) + 1
