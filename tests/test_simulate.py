"""`onestop simulate`: two hours of the example hall's busy day at 150× with every process real
(hub, forwarder, agent with simulated keypads, LEDs and printer on ptys, a backend), kiosks,
clerks and screens over their sockets, the default faults compressed into the two hours, and the
day ended at midnight; every end check passes. And the checks themselves can fail: each one,
given a doctored log or report, says FAIL with its numbers."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from hub.runtime import DB_FILE
from hub.simulation.soak import checks
from hub.simulation.soak.faults import schedule
from hub.simulation.soak.recount import recount

UTC = dt.UTC
T0 = dt.datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 09:00 in the hall


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_two_hours_of_a_busy_day_under_faults_pass_every_check(tmp_path):
    out = tmp_path / "soak"
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli", "--log-level", "warning", "simulate", "--hours",
         "9:00-11:00", "--speed", "150", "--drain", "10", "--faults", "default", "--seed", "3",
         "--out", str(out)], capture_output=True, text=True, timeout=280, check=False)
    print(done.stdout[-4000:], done.stderr[-4000:])
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert done.returncode == 0, [c for c in results["checks"] if not c["passed"]]
    assert results["passed"] and len(results["checks"]) == 7
    assert all(line.startswith("PASS") for line in done.stdout.splitlines()[:7])
    applied = {f["kind"] for f in results["faults"] if "error" not in f}
    assert {"hub_kill", "backend_down", "bus_unplug", "paper_out", "agent_restart",
            "forwarder_restart", "rollover"} <= applied
    figures = results["figures"]
    assert figures["tickets"] > 500 and figures["ratings_pressed"] > 100
    assert figures["backend"]["refused_while_down"] > 0  # the backend really was away
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["total"]["ratings"]["4"] + report["total"]["ratings"]["5"] > 0  # 差评 too
    assert report["total"]["not_rated"] > 0
    # The clerks took the profile's short breaks (and a meeting) over /caller: paused and
    # resumed in the log, counted by the report (which the recount check compared).
    assert figures["pauses_taken"] > 0
    with sqlite3.connect(out / "hub-data" / DB_FILE) as db:
        kinds = Counter(t for (t,) in db.execute(
            "SELECT type FROM events WHERE type IN ('window.paused', 'window.resumed')"))
    assert kinds["window.paused"] == kinds["window.resumed"] >= figures["pauses_taken"] > 0
    assert report["total"]["pause_by_reason"].get("暂离", 0) > 0


# --- the checks can fail --------------------------------------------------------------------

def ev(seq: int, kind: str, minute: float, **data) -> dict:
    return {"seq": seq, "id": f"e{seq}", "type": kind, "at": T0 + dt.timedelta(minutes=minute),
            "day": "2026-11-25", "window_no": data.get("window_no"),
            "ticket_id": data.get("ticket_id"), "data": data}


def a_day() -> list[dict]:
    """A served ticket rated 4 (不满意), a no-show dropped at its second call, one never called
    that expires at midnight."""
    a, b, c = "20261125-A001", "20261125-A002", "20261125-A003"
    return [
        ev(1, "ticket.issued", 0, ticket_id=a, service="S1"),
        ev(2, "ticket.issued", 1, ticket_id=b, service="S1"),
        ev(3, "ticket.called", 5, ticket_id=a, window_no=1, service="S1"),
        ev(4, "ticket.finished", 12, ticket_id=a, window_no=1, service="S1"),
        ev(5, "rating.requested", 12, ticket_id=a, window_no=1, request_id=1),
        ev(6, "ticket.rated", 12.2, ticket_id=a, window_no=1, request_id=1, level=4),
        ev(7, "ticket.called", 13, ticket_id=b, window_no=1, service="S1"),
        ev(8, "ticket.no_show", 14, ticket_id=b, window_no=1, service="S1", requeued=True),
        ev(9, "ticket.called", 15, ticket_id=b, window_no=1, service="S1"),
        ev(10, "ticket.no_show", 16, ticket_id=b, window_no=1, service="S1", requeued=False),
        ev(11, "ticket.issued", 20, ticket_id=c, service="S2"),
        ev(12, "day.rolled", 900, day="2026-11-26", expired=[c]),
    ]


def test_a_whole_day_passes():
    day = a_day()
    report = {"rows": [{"key": k, **v} for k, v in recount(day).items() if k],
              "total": recount(day)[""]}
    found = [checks.final_states(day),
             checks.acknowledged_kept(day, {"20261125-A001": "S1", "20261125-A002": "S1",
                                            "20261125-A003": "S2"}),
             checks.ratings(day, {"20261125-A001": 4}),
             checks.delivered(day, {e["id"] for e in day}, 0),
             checks.report_matches(report, day),
             checks.memory(100_000, 105_000),
             checks.no_tracebacks({"hub-1.log": "INFO all well\n"})]
    assert [c.name for c in found if not c.passed] == []


def test_recount_counts_a_day_as_the_report_defines_it():
    figures = recount(a_day())
    s1, total = figures["S1"], figures[""]
    assert (s1["issued"], s1["called"], s1["served"], s1["no_shows"]) == (2, 3, 1, 2)
    assert (total["issued"], total["expired"], figures["S2"]["expired"]) == (3, 1, 1)
    assert s1["ratings"]["4"] == 1
    assert s1["wait_mean_s"] == (5 * 60 + 12 * 60) / 2  # A001 5 min, A002 12 min
    assert (s1["wait_p90_min"], s1["serve_p90_min"]) == (12, 7)


def without(day: list[dict], seq: int) -> list[dict]:
    return [e for e in day if e["seq"] != seq]


def test_a_ticket_left_open_or_ended_twice_fails():
    open_one = checks.final_states(without(a_day(), 12))
    assert not open_one.passed and open_one.numbers["not ended"] == 1
    twice = [*a_day(), ev(13, "ticket.finished", 901, ticket_id="20261125-A001", window_no=1)]
    assert checks.final_states(twice).numbers["ended twice"] == 1
    assert "FAIL" in open_one.line() and "20261125-A003" in open_one.line()


def test_an_acknowledged_ticket_missing_from_the_log_fails():
    found = checks.acknowledged_kept(without(a_day(), 2), {"20261125-A001": "S1",
                                                          "20261125-A002": "S1",
                                                          "20261125-A003": "S2"})
    assert not found.passed and found.numbers["lost"] == 1


def test_a_press_stored_as_expired_or_a_rating_twice_fails():
    day = a_day()
    lost = [e if e["seq"] != 6 else ev(6, "rating.expired", 12.5, ticket_id="20261125-A001",
                                       window_no=1, request_id=1) for e in day]
    assert checks.ratings(lost, {"20261125-A001": 4}).numbers["lost"] == 1
    doubled = [*day, ev(13, "ticket.rated", 12.3, ticket_id="20261125-A001", request_id=2,
                         level=1)]
    assert checks.ratings(doubled, {"20261125-A001": 4}).numbers["doubled"] == 1


def test_an_event_the_backend_never_got_fails():
    found = checks.delivered(a_day(), {f"e{i}" for i in range(1, 12)}, 0)
    assert not found.passed and found.numbers["missing"] == 1 and "12" in found.detail


def test_a_report_that_differs_from_the_log_fails():
    day = a_day()
    report = {"rows": [{"key": k, **v} for k, v in recount(day).items() if k],
              "total": recount(day)[""]}
    report["rows"][0] = {**report["rows"][0], "not_rated": 1}  # what the log does not say
    found = checks.report_matches(report, day)
    assert not found.passed and "not_rated" in found.detail


def test_memory_growth_and_a_traceback_fail():
    assert not checks.memory(100_000, 111_000).passed
    assert not checks.memory(None, 100_000).passed  # not measured is not a pass
    log = "INFO ok\nTraceback (most recent call last):\n  File \"x.py\"\nKeyError: 1\n"
    found = checks.no_tracebacks({"hub-2.log": log, "agent-1.log": ""})
    assert not found.passed and found.numbers["tracebacks"] == 1 and "hub-2.log" in found.detail


def test_the_default_faults_fit_any_window_and_the_backend_hour_is_capped():
    start = T0
    steps = schedule("default", start, start + dt.timedelta(hours=2))
    kinds = [s.kind for s in steps if not s.undo]
    assert kinds.count("hub_kill") == 2 and {"agent_restart", "forwarder_restart", "paper_out",
                                            "bus_unplug", "backend_down"} <= set(kinds)
    down = [s.at for s in steps if s.kind == "backend_down"]
    assert down[1] - down[0] == dt.timedelta(minutes=30)  # a quarter of two hours
    full = schedule("default", start, start + dt.timedelta(hours=9))
    down = [s.at for s in full if s.kind == "backend_down"]
    assert down[1] - down[0] == dt.timedelta(hours=1)
    with pytest.raises(ValueError, match="--faults"):
        schedule("chaos", start, start)


def test_the_cli_refuses_bad_hours():
    done = subprocess.run([sys.executable, "-m", "hub.cli", "simulate", "--hours", "nine",
                           "--out", str(Path("/nonexistent"))], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2 and "--hours" in done.stderr
