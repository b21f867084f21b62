"""A simulated day driven through the real queue engine: its waits against hand-worked cases
and against Erlang C, where queueing theory has the answer in closed form."""

from __future__ import annotations

import datetime as dt
import statistics

import pytest

from hub.simulation import erlang
from hub.simulation.demand import Arrival, Demand, Distribution, ItemDemand, arrivals
from hub.simulation.engine_day import (
    NO_SHOW_MINUTES,
    Plan,
    PlanWindow,
    hall_for_plan,
    quantile,
    simulate_day,
)
from hub.simulation.pauses import PlannedPause
from tests.engine_helpers import TZ, hall_config

DAY = dt.date(2026, 11, 24)  # a Tuesday of the test hall
ALL_DAY = {"standard": {"weekdays": [1, 2, 3, 4, 5, 6, 7], "periods": [["01:00", "23:00"]]}}


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour, minute), tzinfo=TZ)


def one_item(service_minutes: Distribution, no_show: float = 0.0, rate: float = 0.0) -> Demand:
    item = ItemDemand("biz_change", dict.fromkeys(range(1, 23), rate), service_minutes,
                      no_show=no_show)
    return Demand({"biz_change": item}, 1, 23)


def day(plan: Plan, demand: Demand, came: list[Arrival], seed: int = 1):  # type: ignore[no-untyped-def]
    cfg = hall_for_plan(hall_config(hours=ALL_DAY), plan)
    return simulate_day(cfg, demand, plan, DAY, came, seed)


def test_one_window_serves_in_turn() -> None:
    # Fixed 10-minute cases at one window: arrivals at 9:00, 9:01, 9:02 wait 0, 9 and 18.
    plan = Plan.dedicated({"biz_change": {9: 1}})
    came = [Arrival(at(9, m), "biz_change", i) for i, m in enumerate((0, 1, 2), start=1)]
    result = day(plan, one_item(Distribution(10, kind="fixed")), came)
    assert [round(w.wait_min, 6) for w in result.waits] == [0, 9, 18]
    assert all(w.called for w in result.waits)
    # The window serves out its queue (to 9:30) and closes: busy all the time it was open.
    assert result.open_min == {1: pytest.approx(30)}
    assert result.utilisation() == {1: pytest.approx(1.0)}


def test_naive_arrival_times_are_the_halls_local_time() -> None:
    plan = Plan.dedicated({"biz_change": {9: 1}})
    naive = [Arrival(at(9).replace(tzinfo=None), "biz_change", 1),
             Arrival(at(9, 1).replace(tzinfo=None), "biz_change", 2)]
    result = day(plan, one_item(Distribution(10, kind="fixed")), naive)
    assert [(w.issued_min, round(w.wait_min, 6)) for w in result.waits] == [(540, 0), (541, 9)]


def test_a_window_opens_at_its_hour_and_serves_who_waits() -> None:
    plan = Plan.dedicated({"biz_change": {10: 1}})
    came = [Arrival(at(9, 30), "biz_change", 1)]
    result = day(plan, one_item(Distribution(5, kind="fixed")), came)
    assert result.waits[0].wait_min == pytest.approx(30)
    assert result.quantiles() == {("biz_change", 9): pytest.approx(30)}


def test_no_show_goes_back_behind_the_queue_by_the_engines_rule() -> None:
    # Everyone is a no-show: each ticket is called, skipped after NO_SHOW_MINUTES, requeued
    # once (the engine's rule), called again, skipped and dropped. Its wait is to the first call.
    plan = Plan.dedicated({"biz_change": {9: 1}})
    came = [Arrival(at(9), "biz_change", 1), Arrival(at(9), "biz_change", 2)]
    result = day(plan, one_item(Distribution(5, kind="fixed"), no_show=1.0), came)
    assert sorted(w.wait_min for w in result.waits) == [0, pytest.approx(NO_SHOW_MINUTES)]
    assert result.busy_min[1] == pytest.approx(4 * NO_SHOW_MINUTES)


def test_two_items_at_one_window_take_its_calling_order() -> None:
    plan = Plan((PlanWindow(1, ("biz_reg", "biz_change"), frozenset({9})),))
    demand = Demand({
        "biz_change": ItemDemand("biz_change", {}, Distribution(10, kind="fixed")),
        "biz_reg": ItemDemand("biz_reg", {}, Distribution(10, kind="fixed")),
    }, 9, 12)
    came = [Arrival(at(9), "biz_change", 1), Arrival(at(9, 1), "biz_change", 2),
            Arrival(at(9, 2), "biz_reg", 3)]
    result = day(plan, demand, came)
    waits = {(w.service, round(w.issued_min)): round(w.wait_min, 6) for w in result.waits}
    # biz_reg comes first in the window's order: called at 9:10, before the earlier biz_change.
    assert waits == {("biz_change", 540): 0, ("biz_reg", 542): 8, ("biz_change", 541): 19}


def test_same_seed_same_day() -> None:
    demand = one_item(Distribution(5), no_show=0.1, rate=30)
    plan = Plan.dedicated({"biz_change": dict.fromkeys(range(1, 23), 3)})
    came = arrivals(demand, DAY, 4, tz=TZ)
    first, again = day(plan, demand, came, seed=9), day(plan, demand, came, seed=9)
    assert [w.wait_min for w in first.waits] == [w.wait_min for w in again.waits]
    assert first.busy_min == again.busy_min


def test_simulated_p90_matches_erlang_c_for_an_mmc_queue() -> None:
    """The oracle. One item, Poisson arrivals λ = 24/h, exponential service of mean 5 minutes,
    c = 3 windows all day: an M/M/3 queue with a = 2 erlangs, so Erlang C gives
    P(wait) = 4/9, mean wait C/(cμ−λ) = 2.22 min and p90 = ln(10·C)/(cμ−λ) = 7.46 min.

    The simulated day starts empty, which Erlang C (steady state) does not: only tickets
    issued from 03:00 to 21:00 count (two hours of warm-up, 20 times the mean wait). 48 seeded
    days pool about 21,000 waits. Tolerance, and why: the waits of one day are strongly
    correlated, so the pooled p90's standard error is measured, not assumed: over batches of 8
    days it is about 1.5 min (20 %), so about 0.6 min (8 %) for 48 days; ±20 % is about 2.5
    standard errors. A real fault (a rule that lets a window idle, a service time drawn
    wrongly) moves it by more than that; noise almost never does, and the seeds make the test
    deterministic anyway.
    """
    lam, mean, c = 24.0, 5.0, 3
    demand = one_item(Distribution(mean, kind="exponential"), rate=lam)
    plan = Plan.dedicated({"biz_change": dict.fromkeys(range(1, 23), c)})
    cfg = hall_for_plan(hall_config(hours=ALL_DAY), plan)
    waits: list[float] = []
    busy = opened = 0.0
    for seed in range(48):
        result = simulate_day(cfg, demand, plan, DAY, arrivals(demand, DAY, seed, tz=TZ), seed)
        waits += [w.wait_min for w in result.waits if 3 * 60 <= w.issued_min < 21 * 60]
        busy += sum(result.busy_min.values())
        opened += sum(result.open_min.values())
    expected_p90 = erlang.wait_quantile_minutes(c, lam, mean, 0.9)
    assert expected_p90 == pytest.approx(7.458, abs=1e-3)
    assert quantile(waits, 0.9) == pytest.approx(expected_p90, rel=0.20)
    assert statistics.fmean(waits) == pytest.approx(erlang.mean_wait_minutes(c, lam, mean),
                                                    rel=0.20)
    share_waited = sum(w > 1e-9 for w in waits) / len(waits)
    assert share_waited == pytest.approx(4 / 9, abs=0.04)
    assert busy / opened == pytest.approx(lam * mean / 60 / c, abs=0.03)  # ρ = 2/3


def test_more_windows_shorter_waits_same_arrivals() -> None:
    demand = one_item(Distribution(5, kind="exponential"), rate=30)
    came = arrivals(demand, DAY, 2, tz=TZ)
    p90 = [
        quantile([w.wait_min for w in day(
            Plan.dedicated({"biz_change": dict.fromkeys(range(1, 23), c)}), demand, came).waits],
            0.9)
        for c in (3, 4, 5)
    ]
    assert p90[0] > p90[1] >= p90[2]


# --- pauses ------------------------------------------------------------------------------------

def away(window: int, start: dt.datetime, minutes: float) -> PlannedPause:
    begin = (start - at(0)).total_seconds() / 60
    return PlannedPause(begin, begin + minutes, window, "break", "lunch")


def paused_day(plan: Plan, demand: Demand, came: list[Arrival],
               pauses: dict[int, list[PlannedPause]]):  # type: ignore[no-untyped-def]
    cfg = hall_for_plan(hall_config(hours=ALL_DAY), plan)
    return simulate_day(cfg, demand, plan, DAY, came, 1, pauses)


def test_a_clerk_finishes_the_citizen_at_hand_then_pauses_and_nobody_is_called() -> None:
    # One window, 10-minute cases; lunch due at 9:05 for 30 min. The 9:00 citizen is served
    # to 9:10, the window pauses 9:10-9:40, the 9:06 citizen waits to 9:40.
    plan = Plan.dedicated({"biz_change": {9: 1}})
    came = [Arrival(at(9), "biz_change", 1), Arrival(at(9, 6), "biz_change", 2)]
    result = paused_day(plan, one_item(Distribution(10, kind="fixed")), came,
                        {1: [away(1, at(9, 5), 30)]})
    assert [round(w.wait_min, 6) for w in result.waits] == [0, 34]
    # Open 9:00-9:50 less the 30 paused minutes, busy 20 of them.
    assert result.open_min[1] == pytest.approx(20)
    assert result.utilisation() == {1: pytest.approx(1.0)}
    unpaused = day(plan, one_item(Distribution(10, kind="fixed")), came)
    assert [round(w.wait_min, 6) for w in unpaused.waits] == [0, 4]


def two_windows(backup: int | None) -> tuple[Plan, Demand]:
    plan = Plan((PlanWindow(1, ("biz_change",), frozenset({9, 10}), backup),
                 PlanWindow(2, ("biz_reg",), frozenset({9, 10}))))
    demand = Demand({
        "biz_change": ItemDemand("biz_change", {}, Distribution(10, kind="fixed")),
        "biz_reg": ItemDemand("biz_reg", {}, Distribution(10, kind="fixed")),
    }, 9, 12)
    return plan, demand


def test_the_ab_post_serves_an_away_windows_citizens_as_the_engine_decides() -> None:
    came = [Arrival(at(9, 10), "biz_change", 1), Arrival(at(9, 12), "biz_reg", 2)]
    pauses = {1: [away(1, at(9), 60)]}
    plan, demand = two_windows(backup=2)
    waits = {w.service: round(w.wait_min, 6) for w in paused_day(plan, demand, came, pauses).waits}
    # Window 2 covers window 1 (同岗替代): biz_change at once, its own biz_reg after it.
    assert waits == {"biz_change": 0, "biz_reg": 8}
    plan, demand = two_windows(backup=None)
    waits = {w.service: round(w.wait_min, 6) for w in paused_day(plan, demand, came, pauses).waits}
    assert waits == {"biz_change": 50, "biz_reg": 0}  # nobody covers: back at 10:00
