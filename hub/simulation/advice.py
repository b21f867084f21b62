"""Staffing advice for one day: per hour and item, the fewest windows that keep the p90 wait
at most the hall's target, found by simulating days with the queue engine and shown beside
Erlang C's answer and beside the plan as the hall is configured today.

The method (the office page's help says the same in words):

1. Erlang C per item and hour (erlang.py) gives a first count: the fewest windows for which a
   steady M/M/c queue meets the target.
2. Each item is simulated alone with that many windows of its own per hour (engine_day.py,
   several seeded days; the item's arrivals, its measured service times and no-shows). For
   every hour whose median p90 misses the target, a window is added there; again, until every
   hour meets it (or a bound is reached). Then hours that meet it with half the target to
   spare try one window less (if the windows left stay busy at most 90 % of the time), kept
   only if every hour still meets the target on every simulated day.
3. The whole hall is simulated as it is configured — its windows, each with its items in its
   calling order, staffed whenever one of its items is open — for the expected p90 of today's
   plan; with the clerks' pauses if a pause pattern is given (their AB posts covering).

Simulation and Erlang C differ for reasons the page names: a day starts with an empty queue
(Erlang C assumes a queue already in its steady state, so it asks for more at opening),
service times are not exponential, no-shows hold a window for a while and come back, an hour
is not long enough for a steady state, and in the configured plan windows share items.
Pure and seeded: the same history gives the same advice.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field

from hub.config import HallConfig

from . import erlang
from .demand import Demand, arrivals
from .engine_day import P90, DayResult, Plan, PlanWindow, hall_for_plan, simulate_day
from .pauses import PausePattern
from .pauses import plan as pause_plan

SEEDS = 3  # simulated days per plan; the median of their p90s is reported
MAX_ROUNDS = 8  # rounds of adding windows before giving up on an hour
# The busiest a window may be where the search takes one away (offered load ÷ windows): the
# common ceiling of workforce planning, below which a queue does not live on the next hour.
MAX_OCCUPANCY = 0.9
Counts = dict[int, int]  # hour → windows


@dataclass
class Cell:
    """One item in one hour: the demand, the advice and the figures beside it."""

    service: str
    hour: int
    arrivals: float  # expected tickets issued in the hour
    service_minutes: float
    no_show: float
    windows: int = 0  # suggested
    p90: float | None = None  # simulated, median over seeds, with the suggestion
    erlang_windows: int = 0
    erlang_p90: float | None = None  # Erlang C's p90 with the suggested windows
    configured_windows: int = 0  # the hall's windows that serve the item (shared with others)
    configured_p90: float | None = None  # simulated with the hall as configured
    met: bool = True  # the suggestion meets the target (False: not within MAX_ROUNDS)


@dataclass
class DayAdvice:
    day: dt.date
    cells: list[Cell]
    utilisation: dict[int, float] = field(default_factory=dict)  # configured plan, per window
    tickets: float = 0.0  # expected tickets of the day


def advise_day(cfg: HallConfig, demand: Demand, day: dt.date, target: float,
               seeds: int = SEEDS, pauses: PausePattern | None = None) -> DayAdvice:
    """The advice counts windows with a clerk at them (docs/staffing.md says why pauses are
    not in it); `pauses` only makes the as-configured figures the hall's with its breaks."""
    cells = _cells(demand)
    counts = _erlang_counts(demand, cells, target)
    for code in demand.items:
        counts[code] = _search(cfg, demand, code, day, counts[code], target, seeds, cells)
    utilisation = _configured(cfg, demand, day, seeds, cells, pauses)
    ordered = sorted(cells.values(), key=lambda c: (c.hour, c.service))
    return DayAdvice(day, ordered, utilisation, sum(c.arrivals for c in ordered))


def _cells(demand: Demand) -> dict[tuple[str, int], Cell]:
    cells: dict[tuple[str, int], Cell] = {}
    for code, item in demand.items.items():
        for hour, rate in item.arrivals_per_hour.items():
            if rate > 0 and item.open_minutes(hour) and hour in demand.hours:
                cells[(code, hour)] = Cell(code, hour, rate, item.service_minutes.mean,
                                           item.no_show)
    return cells


def _hourly_rate(demand: Demand, code: str, hour: int) -> float:
    """Arrivals per hour of the open part of `hour` (13:30–14:00 holds an hour's worth in
    half an hour: a rate twice as high)."""
    item = demand.items[code]
    open_min = sum(b - a for a, b in item.open_minutes(hour))
    return item.arrivals_per_hour.get(hour, 0.0) * 60 / open_min if open_min else 0.0


def _erlang_counts(demand: Demand, cells: dict[tuple[str, int], Cell],
                   target: float) -> dict[str, Counts]:
    counts: dict[str, Counts] = {code: {} for code in demand.items}
    for (code, hour), cell in cells.items():
        rate = _hourly_rate(demand, code, hour)
        cell.erlang_windows = erlang.servers_needed(rate, cell.service_minutes, target, P90)
        counts[code][hour] = max(1, cell.erlang_windows)
    return counts


def _simulate(cfg: HallConfig, demand: Demand, plan: Plan, day: dt.date,
              seeds: int, pauses: PausePattern | None = None) -> list[DayResult]:
    hall = hall_for_plan(cfg, plan)
    zone = cfg.zone
    windows = [(w.no, w.backup) for w in plan.windows]
    return [simulate_day(hall, demand, plan, day, arrivals(demand, day, s, tz=zone), s,
                         pause_plan(pauses, windows, day, s) if pauses else None)
            for s in range(1, seeds + 1)]


def _p90s(results: list[DayResult]) -> dict[tuple[str, int], list[float]]:
    """(item, hour) → the p90 wait of each simulated day that had tickets then."""
    per_seed: dict[tuple[str, int], list[float]] = {}
    for r in results:
        for key, p90 in r.quantiles(P90).items():
            per_seed.setdefault(key, []).append(p90)
    return per_seed


def _median_p90(results: list[DayResult]) -> dict[tuple[str, int], float]:
    return {key: statistics.median(v) for key, v in _p90s(results).items()}


def _search(cfg: HallConfig, demand: Demand, code: str, day: dt.date, counts: Counts,
            target: float, seeds: int, cells: dict[tuple[str, int], Cell]) -> Counts:
    """The fewest windows per hour for one item alone (see the module's step 2)."""
    alone = Demand({code: demand.items[code]}, demand.day_start, demand.day_end)
    p90 = _median_p90(_simulate(cfg, alone, Plan.dedicated({code: counts}), day, seeds))
    for _ in range(MAX_ROUNDS):
        missed = [h for h in counts if p90.get((code, h), 0.0) > target]
        if not missed:
            break
        counts = {h: n + (h in missed) for h, n in counts.items()}
        p90 = _median_p90(_simulate(cfg, alone, Plan.dedicated({code: counts}), day, seeds))
    counts, p90 = _fewer(cfg, alone, code, day, counts, p90, target, seeds)
    for hour, n in counts.items():
        cell = cells[(code, hour)]
        cell.windows = n
        cell.p90 = p90.get((code, hour))
        cell.met = (cell.p90 or 0.0) <= target
        rate = _hourly_rate(demand, code, hour)
        cell.erlang_p90 = _finite(erlang.wait_quantile_minutes(n, rate, cell.service_minutes, P90))
    return counts


def _fewer(cfg: HallConfig, alone: Demand, code: str, day: dt.date, counts: Counts,
           p90: dict[tuple[str, int], float], target: float,
           seeds: int) -> tuple[Counts, dict[tuple[str, int], float]]:
    """One window less in the hours with half the target to spare whose windows would still
    be busy at most MAX_OCCUPANCY of the time, kept only if every hour meets the target on
    every simulated day, not only on the median one. An hour run close to its capacity meets
    the target only by living on the next hour's windows (the backlog is theirs), and a day
    a little busier than the history's mean shows it: Erlang C would say the queue grows
    without end."""
    item = alone.items[code]
    spare = {h: n - 1 for h, n in counts.items()
             if n > 1 and p90.get((code, h), 0.0) <= target / 2
             and n - 1 >= _hourly_rate(alone, code, h) * item.service_minutes.mean / 60
             / MAX_OCCUPANCY}
    if not spare:
        return counts, p90
    fewer = {**counts, **spare}
    results = _simulate(cfg, alone, Plan.dedicated({code: fewer}), day, seeds)
    if all(max(v) <= target for v in _p90s(results).values()):
        return fewer, _median_p90(results)
    return counts, p90


def _finite(x: float) -> float | None:
    return None if x == float("inf") else x


def configured_plan(cfg: HallConfig, demand: Demand, ab_posts: bool = False) -> Plan:
    """The hall's windows with their items, each staffed in every hour one of its items is
    open (a window whose items close at noon is free over lunch); with their AB posts if
    `ab_posts` (they matter only when clerks pause)."""
    windows = []
    for w in cfg.windows:
        hours = {h for code in w.services if code in demand.items
                 for h in demand.hours if demand.items[code].open_minutes(h)}
        windows.append(PlanWindow(w.no, tuple(w.services), frozenset(hours),
                                  w.backup if ab_posts else None))
    return Plan(tuple(windows))


def _configured(cfg: HallConfig, demand: Demand, day: dt.date, seeds: int,
                cells: dict[tuple[str, int], Cell],
                pauses: PausePattern | None = None) -> dict[int, float]:
    """Fill in the configured plan's figures; its windows' utilisation over the seeds."""
    plan = configured_plan(cfg, demand, ab_posts=pauses is not None)
    results = _simulate(cfg, demand, plan, day, seeds, pauses)
    p90 = _median_p90(results)
    for (code, hour), cell in cells.items():
        cell.configured_windows = plan.count(code, hour)
        cell.configured_p90 = p90.get((code, hour))
    busy: dict[int, float] = {}
    opened: dict[int, float] = {}
    for r in results:
        for no, m in r.open_min.items():
            busy[no] = busy.get(no, 0.0) + r.busy_min[no]
            opened[no] = opened.get(no, 0.0) + m
    return {no: busy[no] / m for no, m in opened.items() if m > 0}
