"""Staffing advice (hub/reports/staffing.py): how long a week of hours' advice takes.

Builds the history the advice reads — `--weeks` weeks (default 4, the hall file's default) of
the example hall's day profile (config/hall-day.example.toml: about 3,000 tickets a weekday,
every item, no-shows, lognormal service times; Saturdays the extended-hours items only) — in
a fresh SQLite store through Store.save_tickets, then times `reports.staffing.advice` for the
week after it, as the hub's child process runs it: the history read from SQL, every open day
of the week advised (Erlang C, the per-item search over simulated days, the hall as
configured), the days spread over the cores. Target: ≤ 10 s.

    .venv/bin/python benchmarks/staffing.py [--weeks 4] [--seeds 3] [--workers N] [--repeats 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from common import REPO_ROOT, machine

from hub.config import load_config
from hub.reports import staffing
from hub.runtime import open_database
from hub.simulation.advice import SEEDS
from hub.simulation.demand import load_profile
from hub.simulation.history import open_on
from hub.simulation.synthetic import tickets_for
from hub.store.store import Store

HALL = REPO_ROOT / "config" / "hall.example.toml"
PROFILE = REPO_ROOT / "config" / "hall-day.example.toml"
OUT = Path(__file__).parent / "out" / "staffing.json"
MONDAY = dt.date(2026, 11, 30)  # the advised week: 2026-W49, a week without holidays
TARGET_S = 10.0


def fill(data: Path, weeks: int) -> int:
    cfg = load_config(HALL)
    demand = load_profile(PROFILE)
    db = open_database(data)
    store = Store(db)
    count = 0
    for i in range(7 * weeks):
        day = MONDAY - dt.timedelta(days=7 * weeks - i)
        items = {c: d for c, d in demand.items.items() if open_on(cfg, cfg.service(c), day)}
        if not items:
            continue
        tickets = tickets_for(type(demand)(items, demand.day_start, demand.day_end), day, i,
                              cfg.zone)
        with db.transaction() as tx:
            store.save_tickets(tx, tickets)
        count += len(tickets)
    db.close()
    return count


def cpu_s() -> float:
    """CPU seconds of this process and of its children that have ended (the pool's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=SEEDS)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cfg = load_config(HALL)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        started = time.perf_counter()
        tickets = fill(data, args.weeks)
        print(f"history: {tickets} tickets over {args.weeks} weeks, "
              f"written in {time.perf_counter() - started:.1f} s")
        db = open_database(data)
        times, cpus, found = [], [], {}
        for _ in range(args.repeats):
            started, cpu = time.perf_counter(), cpu_s()
            found = staffing.advice(db, cfg, MONDAY, MONDAY, args.seeds, args.workers)
            times.append(time.perf_counter() - started)
            cpus.append(cpu_s() - cpu)
        db.close()
    cells = sum(len(d["rows"]) for d in found["days"])
    hours = sum(len(d["hours"]) for d in found["days"])
    median = statistics.median(times)
    verdict = "met" if median <= TARGET_S else "**not met**"
    workers = args.workers or os.cpu_count()
    load = os.getloadavg()[0]
    print("| benchmark | setting | measured | target | verdict |")
    print("|---|---|---|---|---|")
    print(f"| staffing advice, one week | {len(found['days'])} days, {hours} hours, {cells} "
          f"item-hours; {args.seeds} seeds, {workers} workers | median **{median:.1f} s** "
          f"(runs {', '.join(f'{t:.1f}' for t in times)}); CPU {statistics.median(cpus):.1f} s "
          f"over all processes; load average {load:.1f} | ≤ {TARGET_S:.0f} s | {verdict} |")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({"machine": machine(), "times_s": times, "days": len(found["days"]),
                               "cpu_s": cpus, "load_average": load,
                               "hours": hours, "cells": cells, "seeds": args.seeds,
                               "workers": workers, "tickets": tickets}, indent=1))
    return 0 if median <= TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
