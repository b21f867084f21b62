"""hub/clock.py: the set clock every process of a test (or a simulated day) reads instead of the
system's, so nothing depends on the date or the hour it runs at."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time

import pytest

from hub.clock import SetClock, child_spec, parse_clock, reading_at, real_seconds, system_clock

START = dt.datetime(2031, 7, 14, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def test_no_spec_is_the_system_clock():
    assert parse_clock(None) is system_clock and parse_clock("") is system_clock
    assert child_spec(system_clock) is None


def test_a_set_clock_reads_its_start_and_runs_on():
    clock = parse_clock(START.isoformat())
    first = clock()
    assert dt.timedelta(0) <= first - START < dt.timedelta(seconds=5)
    time.sleep(0.01)
    assert clock() > first


def test_processes_given_one_spec_share_one_timeline():
    """A hub, its restart and its agents started seconds apart read the same time."""
    parent = SetClock(START, anchor=time.time() - 100.0)
    child = parse_clock(parent.spec())
    assert abs(child() - parent()) < dt.timedelta(seconds=1)
    assert child() - START > dt.timedelta(seconds=99)  # 100 s after the anchor, not at START


def test_a_rate_runs_the_clock_faster():
    clock = parse_clock(f"{START.isoformat()}@{time.time() - 60:.3f}*30")
    assert dt.timedelta(minutes=29) < clock() - START < dt.timedelta(minutes=31)
    assert parse_clock(clock.spec()).rate == 30  # type: ignore[attr-defined]


def test_a_press_dated_by_the_system_clock_reads_as_the_set_clock_did_then():
    clock = SetClock(START, anchor=1_000_000.0, rate=2)
    assert reading_at(clock, 1_000_010.0) == START + dt.timedelta(seconds=20)
    assert reading_at(system_clock, 0.0) == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def test_a_sped_up_clock_gives_devices_its_seconds_in_real_seconds():
    assert real_seconds(SetClock(START, anchor=0.0, rate=30), 30.0) == 1.0
    assert real_seconds(SetClock(START), 30.0) == 30.0
    assert real_seconds(system_clock, 30.0) == 30.0


@pytest.mark.parametrize("spec", ["2031-07-14", "tomorrow", "2031-07-14T23:59",
                                  f"{START.isoformat()}*0", f"{START.isoformat()}*fast",
                                  f"{START.isoformat()}@noon"])
def test_a_bad_spec_says_what_is_wrong(spec):
    with pytest.raises(ValueError, match="clock"):
        parse_clock(spec)


def test_the_cli_refuses_a_bad_clock_cleanly():
    done = subprocess.run([sys.executable, "-m", "hub.cli", "--clock", "tomorrow",
                           "check-config", "config/hall.example.toml"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "clock 'tomorrow'" in done.stderr, done.stderr
