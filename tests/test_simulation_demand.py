"""The demand model shared by the soak and the staffing advice: seeded arrivals, distributions,
the example hall's day profile."""

from __future__ import annotations

import datetime as dt
import random
import statistics
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.config import load_config
from hub.simulation.demand import (
    Demand,
    Distribution,
    ItemDemand,
    ProfileError,
    RatingBehaviour,
    arrivals,
    load_profile,
    parse_profile,
)

ROOT = Path(__file__).resolve().parent.parent
PROFILE = ROOT / "config" / "hall-day.example.toml"
DAY = dt.date(2026, 12, 7)  # a Monday


def one_item(rate: float = 30.0, **kw: object) -> Demand:
    item = ItemDemand("X", dict.fromkeys(range(9, 17), rate), Distribution(5.0), **kw)  # type: ignore[arg-type]
    return Demand({"X": item}, day_start=9, day_end=17)


def test_same_seed_same_day_other_seed_other_day() -> None:
    demand = load_profile(PROFILE)
    assert arrivals(demand, DAY, 7) == arrivals(demand, DAY, 7)
    assert arrivals(demand, DAY, 7) != arrivals(demand, DAY, 8)
    assert arrivals(demand, DAY, 7) != arrivals(demand, DAY + dt.timedelta(days=1), 7)


def test_arrivals_sorted_numbered_and_inside_the_day() -> None:
    day = arrivals(one_item(), DAY, 1, tz=ZoneInfo("Asia/Shanghai"))
    assert [a.id for a in day] == list(range(1, len(day) + 1))
    assert [a.at for a in day] == sorted(a.at for a in day)
    assert all(9 <= a.at.hour < 17 and a.at.date() == DAY for a in day)
    assert day[0].at.tzinfo == ZoneInfo("Asia/Shanghai")


def test_poisson_counts_have_the_mean_and_variance_of_the_rate() -> None:
    # 200 days of one hour at 30/h: a Poisson count has mean = variance = 30.
    counts = [
        len(arrivals(Demand({"X": ItemDemand("X", {9: 30.0}, Distribution(5))}, 9, 10), DAY, s))
        for s in range(200)
    ]
    assert statistics.mean(counts) == pytest.approx(30, abs=1.5)
    assert statistics.variance(counts) == pytest.approx(30, rel=0.3)


def test_adding_an_item_leaves_the_others_arrivals_alone() -> None:
    base = one_item()
    more = Demand({**base.items, "Y": ItemDemand("Y", {10: 50.0}, Distribution(3))}, 9, 17)
    times = [a.at for a in arrivals(base, DAY, 3)]
    assert [a.at for a in arrivals(more, DAY, 3) if a.service == "X"] == times


def test_arrivals_fall_only_in_open_periods() -> None:
    lunch = one_item(rate=60.0, periods=((9 * 60, 12 * 60), (13 * 60 + 30, 17 * 60)))
    day = arrivals(lunch, DAY, 5)
    assert not [a for a in day if dt.time(12) <= a.at.time() < dt.time(13, 30)]
    # The hour 13's mean falls in its open half-hour, not lost.
    assert 15 <= len([a for a in day if a.at.hour == 13]) <= 110


def test_priority_share() -> None:
    day = arrivals(one_item(rate=200.0, priority=0.25), DAY, 2)
    assert sum(a.priority for a in day) / len(day) == pytest.approx(0.25, abs=0.04)


@pytest.mark.parametrize("cv", [0.3, 0.6, 1.2])
def test_lognormal_has_the_mean_and_cv_asked_for(cv: float) -> None:
    rng = random.Random(1)
    xs = [Distribution(8.0, cv).sample(rng) for _ in range(40_000)]
    mean = statistics.fmean(xs)
    assert mean == pytest.approx(8.0, rel=0.03)
    assert statistics.pstdev(xs) / mean == pytest.approx(cv, rel=0.08)


def test_exponential_and_fixed() -> None:
    rng = random.Random(2)
    xs = [Distribution(4.0, kind="exponential").sample(rng) for _ in range(40_000)]
    assert statistics.fmean(xs) == pytest.approx(4.0, rel=0.03)
    assert statistics.pstdev(xs) == pytest.approx(4.0, rel=0.05)
    assert Distribution(4.0, 0.5, "fixed").sample(rng) == 4.0


def test_rating_behaviour_draws_levels_and_silence() -> None:
    rng = random.Random(3)
    draws = [RatingBehaviour(0.5, (0, 0, 0, 0, 1.0)).draw(rng) for _ in range(4000)]
    assert set(draws) == {None, 5}
    assert draws.count(None) / len(draws) == pytest.approx(0.5, abs=0.04)


@pytest.mark.parametrize(
    "bad",
    [
        lambda: Distribution(0),
        lambda: Distribution(5, -1),
        lambda: Distribution(5, kind="weibull"),
        lambda: RatingBehaviour(1.2),
        lambda: RatingBehaviour(0.5, (0.5, 0.5)),
        lambda: RatingBehaviour(0.5, (0.5, 0.5, 0.5, 0, 0)),
        lambda: ItemDemand("X", {9: -1.0}, Distribution(5)),
        lambda: ItemDemand("X", {25: 1.0}, Distribution(5)),
        lambda: ItemDemand("X", {9: 1.0}, Distribution(5), no_show=1.5),
        lambda: Demand({}, 18, 8),
    ],
)
def test_bad_values_are_refused(bad) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        bad()


def test_example_profile_is_a_realistic_day_of_the_example_hall() -> None:
    demand = load_profile(PROFILE)
    hall = load_config(ROOT / "config" / "hall.example.toml")
    assert set(demand.items) == {s.code for s in hall.services}
    assert 2800 <= demand.per_day() <= 3200
    per_hour = {
        h: sum(i.arrivals_per_hour.get(h, 0) for i in demand.items.values()) for h in demand.hours
    }
    top_morning = max(range(8, 12), key=per_hour.__getitem__)
    top_afternoon = max(range(12, 18), key=per_hour.__getitem__)
    assert (top_morning, top_afternoon) == (9, 14)
    for code, item in demand.items.items():
        # Mean day below the item's quota, so the quota is a rare event, not the day's shape.
        assert round(item.per_day, 6) <= hall.service(code).daily_quota * 0.9, code
        # Arrivals only when the hall issues tickets for it.
        for a in arrivals(Demand({code: item}, demand.day_start, demand.day_end), DAY, 1):
            assert hall.is_open(hall.service(code), a.at), (code, a.at)


def test_profile_errors_name_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[items.X]\nper_day = 10\nservice_minutes = 3\ncurve = "none"\n', encoding="utf-8"
    )
    with pytest.raises(ProfileError, match="none"):
        load_profile(bad)
    bad.write_text("[items.X]\nper_day = 10\nservice_minutes = 3\nsurprise = 1\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="surprise"):
        load_profile(bad)
    bad.write_text("day_start = [", encoding="utf-8")
    with pytest.raises(ProfileError):
        load_profile(bad)
    with pytest.raises(ValueError, match="at least one"):
        parse_profile({})


def test_explicit_arrivals_table() -> None:
    demand = parse_profile({"items": {"X": {"arrivals": {"9": 12, "10": 3}, "service_minutes": 4}}})
    assert demand.items["X"].arrivals_per_hour == {9: 12.0, 10: 3.0}
