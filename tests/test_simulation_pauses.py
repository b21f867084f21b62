"""The clerks' pause patterns of a day profile: a seeded plan per window (lunch in shifts kept
apart by AB post, short breaks, meetings), the profile's checks, and the recount of paused
time the soak compares with the office's report."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest

from hub.config import load_config
from hub.simulation.demand import Distribution, ProfileError, load_profile, parse_profile
from hub.simulation.pauses import (
    PauseKind,
    PausePattern,
    PlannedPause,
    load_pauses,
    parse_pauses,
    partners_of,
    plan,
)
from hub.simulation.soak import checks
from hub.simulation.soak.actors import Board
from hub.simulation.soak.recount import paused_by_reason, recount

ROOT = Path(__file__).resolve().parent.parent
PROFILE = ROOT / "config" / "hall-day.example.toml"
HALL = ROOT / "config" / "hall.example.toml"
DAY = dt.date(2026, 12, 7)  # a Monday


@pytest.fixture(scope="module")
def hall():
    return load_config(HALL)


def windows_of(cfg) -> list[tuple[int, int | None]]:
    return [(w.no, w.backup) for w in cfg.windows]


def lunch(*shifts: int, minutes: float = 40, cv: float = 0.1) -> PauseKind:
    return PauseKind("lunch", "午休", Distribution(minutes, cv), shifts=shifts)


def every_pause(p: dict[int, list[PlannedPause]]) -> list[PlannedPause]:
    return [x for pauses in p.values() for x in pauses]


# --- the plan ---------------------------------------------------------------------------------

def test_the_same_seed_is_the_same_plan_another_seed_another(hall):
    pattern = load_pauses(PROFILE)
    windows = windows_of(hall)
    assert plan(pattern, windows, DAY, 4) == plan(pattern, windows, DAY, 4)
    assert plan(pattern, windows, DAY, 4) != plan(pattern, windows, DAY, 5)
    assert plan(pattern, windows, DAY, 4) != plan(pattern, windows, DAY + dt.timedelta(days=1), 4)


def test_the_example_hall_lunches_in_two_shifts_and_takes_short_breaks(hall):
    p = plan(load_pauses(PROFILE), windows_of(hall), DAY, 1)
    lunches = [x for x in every_pause(p) if x.kind == "lunch"]
    assert sorted(x.window for x in lunches) == [w.no for w in hall.windows]  # one each
    assert {x.reason for x in lunches} == {"午休"}
    assert {int(x.start) for x in lunches} >= {12 * 60, 12 * 60 + 45}
    assert all(x.start >= 12 * 60 and x.end <= 14 * 60 for x in lunches)
    days = [plan(load_pauses(PROFILE), windows_of(hall), DAY, s) for s in range(30)]
    short = sum(1 for d in days for x in every_pause(d) if x.reason == "暂离")
    assert 1.5 <= short / (30 * len(hall.windows)) <= 3  # about 3 a day, some too close dropped
    assert any(x.reason == "会议" for d in days for x in every_pause(d))


@pytest.mark.parametrize("seed", range(20))
def test_no_window_and_its_ab_post_are_away_at_once(hall, seed):
    p = plan(load_pauses(PROFILE), windows_of(hall), DAY, seed)
    partners = partners_of(windows_of(hall))
    for no, pauses in p.items():
        for q in partners[no]:
            assert not [(a, b) for a in pauses for b in p[q] if a.overlaps(b)]
        assert all(not a.overlaps(b) for a, b in itertools.pairwise(pauses))


@pytest.mark.parametrize("seed", range(10))
def test_every_item_has_a_window_at_any_time_of_the_day(hall, seed):
    """At every moment some clerk can call each item: a window serving it is staffed, or the
    AB post of an away window serving it is (the hub calls for the away window)."""
    p = plan(load_pauses(PROFILE), windows_of(hall), DAY, seed)
    instants = sorted({t for x in every_pause(p) for t in (x.start + 0.01, x.end - 0.01)})
    for t in instants:
        away = {x.window for x in every_pause(p) if x.start <= t < x.end}
        for svc in hall.services:
            serving = [w for w in hall.windows if svc.code in w.services]
            assert any(w.no not in away or (w.backup is not None and w.backup not in away)
                       for w in serving), (svc.code, t, away)


def test_one_shift_sends_every_window_at_once_as_configured(hall):
    p = plan(PausePattern((lunch(12 * 60),)), windows_of(hall), DAY, 1)
    assert {x.start for x in every_pause(p)} == {12 * 60}


def test_a_later_shift_waits_for_its_partner_of_the_earlier_one():
    long_lunch = lunch(12 * 60, 12 * 60 + 10, minutes=60, cv=0)
    p = plan(PausePattern((long_lunch,)), [(1, 2), (2, 1), (3, None)], DAY, 1)
    assert p[1][0].start == 12 * 60 and p[2][0].start == 13 * 60  # after window 1 is back
    assert p[3][0].start == 12 * 60  # shifts balanced: window 3 goes with window 1


def test_ab_partners_put_in_the_same_shift_go_one_after_the_other():
    """Three windows backing each other up in a ring (1 by 2, 2 by 3, 3 by 1) cannot be split
    into two shifts without two partners sharing one: the second waits for the first."""
    ring = [(1, 2), (2, 3), (3, 1)]
    for seed in range(5):
        p = plan(PausePattern((lunch(12 * 60, 12 * 60 + 45),)), ring, DAY, seed)
        partners = partners_of(ring)
        for no, pauses in p.items():
            for q in partners[no]:
                assert not [(a, b) for a in pauses for b in p[q] if a.overlaps(b)], (seed, no, q)


def test_random_pauses_fall_in_their_periods_and_move_past_a_partner():
    periods = ((9 * 60, 12 * 60), (13 * 60 + 30, 17 * 60))
    short = PauseKind("short", "暂离", Distribution(5, 0.5), per_day=4, periods=periods)
    windows = [(1, 2), (2, 1)]
    for seed in range(40):
        p = plan(PausePattern((short,)), windows, DAY, seed)
        for x in every_pause(p):
            assert any(a <= x.start and x.end <= b for a, b in periods)
        assert not [(a, b) for a in p[1] for b in p[2] if a.overlaps(b)]


# --- the profile ------------------------------------------------------------------------------

def test_the_example_profile_loads_with_its_pauses_and_the_halls_reasons(hall):
    pattern = load_pauses(PROFILE)
    assert [k.name for k in pattern.kinds] == ["lunch", "short", "meeting"]
    assert pattern.reasons <= set(hall.queue.pause_reasons)
    pattern.check_reasons(hall.queue.pause_reasons)
    assert load_profile(PROFILE).per_day() > 2500  # the demand side reads past [pauses]


def base(**pauses: dict) -> dict:
    return {"schedules": {"standard": [["09:00", "12:00"]]},
            "items": {"X": {"per_day": 10, "service_minutes": 3, "curve": "c"}},
            "curves": {"c": {"9": 1}}, "pauses": pauses}


@pytest.mark.parametrize(("spec", "says"), [
    ({"reason": "暂离", "minutes": 5}, "either shifts"),
    ({"reason": "暂离", "minutes": 5, "per_day": 2, "shifts": ["12:00"]}, "either shifts"),
    ({"reason": "暂离", "minutes": 5, "per_day": 2, "often": 1}, "unknown keys ['often']"),
    ({"reason": "", "minutes": 5, "per_day": 2}, "pauses.p.reason"),
    ({"reason": "暂离", "minutes": 0, "per_day": 2}, "minutes must be"),
    ({"reason": "暂离", "minutes": 5, "cv": -1, "per_day": 2}, "cv ≥ 0"),
    ({"reason": "暂离", "minutes": "5", "per_day": 2}, "pauses.p.minutes: a number"),
    ({"reason": "暂离", "minutes": 5, "per_day": -1}, "pauses.p.per_day"),
    ({"reason": "暂离", "minutes": 5, "per_day": 1, "schedule": "late"}, "'late' is not in"),
    ({"reason": "午休", "minutes": 40, "shifts": ["12:45", "12:00"]}, "increasing order"),
    ({"reason": "午休", "minutes": 40, "shifts": ["noon"]}, "'noon' is not a time of day"),
    ({"reason": "午休", "minutes": 40, "shifts": []}, "a list of start times"),
])
def test_a_bad_pause_table_is_refused_naming_its_key(spec, says):
    with pytest.raises(ValueError, match=r"pauses\.p") as err:
        parse_pauses(base(p=spec))
    assert says in str(err.value)


def test_a_reason_the_hall_does_not_list_is_refused(hall, tmp_path):
    path = tmp_path / "day.toml"
    path.write_text(PROFILE.read_text(encoding="utf-8").replace('reason = "会议"',
                                                                  'reason = "开会"'),
                    encoding="utf-8")
    with pytest.raises(ProfileError, match=r"pauses\.meeting\.reason: '开会' is not one of"):
        load_pauses(path).check_reasons(hall.queue.pause_reasons)


def test_a_bad_schedule_time_is_refused_for_the_demand_too():
    raw = base()
    raw["schedules"]["standard"] = [["09:00", "25:00"]]
    with pytest.raises(ValueError, match=r"schedules\.standard: '25:00'"):
        parse_profile(raw)


def test_a_profile_without_pauses_has_none():
    assert parse_pauses({"items": {}}).kinds == ()


# --- the soak's side --------------------------------------------------------------------------

def test_a_clerk_whose_ab_partner_is_away_stays():
    board = Board(partners_of([(1, 2), (2, 1), (3, None)]))
    assert board.leave(1)
    assert not board.leave(2)  # 1 is away: 2 covers
    assert board.leave(3)
    board.back(1)
    assert board.leave(2)


T0 = dt.datetime(2026, 11, 25, 1, 0, tzinfo=dt.UTC)


def ev(seq: int, kind: str, minute: float, **data) -> dict:
    return {"seq": seq, "id": f"e{seq}", "type": kind, "at": T0 + dt.timedelta(minutes=minute),
            "day": "2026-11-25", "window_no": data.get("window_no"), "data": data}


def test_the_recount_times_pauses_from_the_log_per_reason():
    day = [
        ev(1, "window.paused", 0, window_no=1, reason="暂离"),
        ev(2, "window.paused", 1, window_no=2, reason="午休"),
        ev(3, "window.resumed", 5, window_no=1, reason="暂离", paused_s=300),
        ev(4, "window.paused", 10, window_no=1, reason="暂离"),
        ev(5, "window.resumed", 12.5, window_no=1, reason="暂离", paused_s=150),
        ev(6, "window.paused", 20, window_no=3, reason="会议"),  # never resumed: not counted
        # Closed by the day's end after midnight (23:00 UTC): counted up to midnight only.
        ev(7, "window.resumed", 23 * 60 + 30, window_no=2, reason="午休", paused_s=0),
    ]
    assert paused_by_reason(day) == {"暂离": 450.0, "午休": (23 * 60 - 1) * 60.0}
    shanghai = dt.timezone(dt.timedelta(hours=8))  # local midnight is 16:00 UTC
    assert paused_by_reason(day, shanghai)["午休"] == (15 * 60 - 1) * 60.0
    assert recount(day)[""]["pause_s"] == 450.0 + (23 * 60 - 1) * 60.0


def test_a_report_whose_paused_time_differs_from_the_log_fails():
    day = [ev(1, "window.paused", 0, window_no=1, reason="暂离"),
           ev(2, "window.resumed", 5, window_no=1, reason="暂离", paused_s=300)]
    total = recount(day)[""]
    assert checks.report_matches({"rows": [], "total": total}, day).passed
    wrong = {**total, "pause_by_reason": {"暂离": 240.0}}
    found = checks.report_matches({"rows": [], "total": wrong}, day)
    assert not found.passed and "pause_by_reason.暂离" in found.detail
