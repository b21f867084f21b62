"""Statistics and assessment (hub/reports/): how long a report takes over a month and a year.

Builds a year of a busy hall in a fresh SQLite data directory, through the store
(Store.save_tickets, save_slip, append for events) in one big transaction per day: the hall of
config/hall.example.toml (36 items, 22 windows), two clerks a window (morning, afternoon: 44),
250 working days of 6,000 tickets (1.5 M), items drawn Zipf-like, issues peaking mid-morning and
mid-afternoon, waits exponential (mean 10 min), service times log-normal around each item's
target; 5 % no-shows (half come back and are served), 3 % transfers, 1 % never called, 0.5 %
退件; 75 % of served tickets rated (60/25/8/5/2 % over levels 1-5). 承诺件 get their slip, the
ticket.finished event and a slip.status_changed "done" event (4 % late). Pauses (two a window a
day) and complaints (two a day) are written as events, as the hub writes them.

Then times, for every grouping: the one-off summing-up of the year's closed days (what the first
report after an upgrade pays; afterwards a day is summed up once, by the first report after it
ends), then reports and assessments for a month and for the year (median of `repeats`), a month
whose last day is still open (read live), and the CSV / XLSX exports of a year.

    .venv/bin/python benchmarks/reports.py [--tickets-per-day 6000] [--days 250] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import statistics
import tempfile
import time
from pathlib import Path

from common import REPO_ROOT, machine

from hub import reports
from hub.auth import Role
from hub.config import CaseType, HallConfig, load_config
from hub.engine.model import (
    Channel,
    ComplaintFiled,
    Outcome,
    OutcomeKind,
    Rating,
    RatingStatus,
    SlipStatus,
    SlipStatusChanged,
    Ticket,
    TicketFinished,
    TicketStatus,
    Visit,
    WindowPaused,
    WindowResumed,
)
from hub.runtime import open_database
from hub.store.accounts import Accounts
from hub.store.database import Database
from hub.store.store import Store

HALL = REPO_ROOT / "config" / "hall.example.toml"
OUT = Path(__file__).parent / "out" / "reports.json"
YEAR = 2025
LEVELS = (1, 2, 3, 4, 5)
LEVEL_WEIGHTS = (60, 25, 8, 5, 2)


def working_days(cfg: HallConfig, count: int) -> list[dt.date]:
    days, day = [], dt.date(YEAR, 1, 1)
    while len(days) < count:
        if day.isoweekday() <= 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


class Generator:
    def __init__(self, cfg: HallConfig, seed: int = 8) -> None:
        self.cfg = cfg
        self.rng = random.Random(seed)
        self.services = [s.code for s in cfg.services]
        self.weights = [1 / (i + 1) ** 0.8 for i in range(len(self.services))]
        self.windows_of = {s: [w.no for w in cfg.windows if s in w.services]
                           for s in self.services}
        self.zone = cfg.zone
        self.slips = 0

    def clerk(self, window: int, at: dt.datetime) -> str:
        return f"c{window:02d}{'a' if at.astimezone(self.zone).hour < 13 else 'b'}"

    def issue_second(self) -> float:
        """Seconds after local midnight: 60 % in the morning (peak 09:40), 40 % after lunch."""
        if self.rng.random() < 0.6:
            return self.rng.triangular(9 * 3600, 12 * 3600, 9.66 * 3600)
        return self.rng.triangular(13.5 * 3600, 17 * 3600, 14.5 * 3600)

    def visit(self, service: str, at: dt.datetime, end: str, took: float) -> Visit:
        window = self.rng.choice(self.windows_of[service])
        return Visit(window=window, clerk=self.clerk(window, at), service=service, called_at=at,
                     ended_at=at + dt.timedelta(seconds=took), end=end)

    def service_s(self, service: str) -> float:
        target = self.cfg.service(service).target_minutes * 60
        return min(4 * 3600, self.rng.lognormvariate(math.log(0.6 * target), 0.6))

    def day(self, day: dt.date, count: int) -> tuple[list[Ticket], list[tuple[Ticket, Visit]]]:
        """The tickets of one day, and the (ticket, finishing visit) of its 承诺件."""
        rng, cfg = self.rng, self.cfg
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=self.zone).astimezone(dt.UTC)
        codes = rng.choices(self.services, self.weights, k=count)
        tickets, commitments = [], []
        for n, first_code in enumerate(codes):
            code = first_code
            issued = midnight + dt.timedelta(seconds=self.issue_second())
            t = Ticket(id=f"{day:%Y%m%d}-{n:05d}", number=f"{n % 1000:03d}", service=code,
                       day=day, channel=Channel.NORMAL, priority=False, rank=(n, 0),
                       issued_at=issued, status=TicketStatus.DONE)
            r = rng.random()
            if r < 0.01:  # never called
                t.status, t.finished_at = TicketStatus.EXPIRED, midnight + dt.timedelta(hours=24)
                tickets.append(t)
                continue
            at = issued + dt.timedelta(seconds=min(7200, rng.expovariate(1 / 600)))
            visits = []
            if r < 0.06:  # a no-show; half come back and are served
                visits.append(self.visit(code, at, "no_show", 60))
                if r < 0.035:
                    t.status = TicketStatus.NO_SHOW
                    t.visits, t.finished_at = visits, visits[-1].ended_at
                    tickets.append(t)
                    continue
                at += dt.timedelta(seconds=rng.uniform(300, 1800))
            elif r < 0.09:  # transferred to another item after a few minutes
                visits.append(self.visit(code, at, "transferred", rng.uniform(60, 300)))
                t.service = rng.choice(self.services)
                at = visits[-1].ended_at + dt.timedelta(seconds=rng.uniform(60, 900))
            code = t.service
            end = "return_requested" if 0.09 <= r < 0.095 else "finished"
            visits.append(self.visit(code, at, end, self.service_s(code)))
            last = visits[-1]
            t.visits, t.finished_at = visits, last.ended_at
            if end == "return_requested":
                t.outcome = Outcome(kind=OutcomeKind.RETURNED, reason="材料不全",
                                    approved_by="super")
            elif cfg.service(code).case_type is CaseType.COMMITMENT:
                self.slips += 1
                t.outcome = Outcome(
                    kind=OutcomeKind.COMMITMENT, slip=f"CN{day:%Y%m%d}{self.slips:07d}",
                    promised_date=cfg.add_workdays(day, cfg.service(code).time_limit_days))
                commitments.append((t, last))
            else:
                t.outcome = Outcome(kind=OutcomeKind.IMMEDIATE)
            if end == "finished":
                rated = rng.random() < 0.75
                t.rating = Rating(
                    request_id=1, window=last.window, clerk=last.clerk,
                    requested_at=last.ended_at, deadline=last.ended_at + dt.timedelta(seconds=30),
                    status=RatingStatus.RATED if rated else RatingStatus.NOT_RATED,
                    level=rng.choices(LEVELS, LEVEL_WEIGHTS)[0] if rated else None,
                    source="keypad")
            tickets.append(t)
        return tickets, commitments


def open_db(data: Path, url: str | None) -> Database:
    """SQLite in `data`, or PostgreSQL at `url` (the same store code)."""
    if url:
        return open_database(data, synchronous="NORMAL", url=url)
    db = Database(data / "onestop.db", synchronous="NORMAL")
    db.migrate()
    return db


def build(data: Path, tickets_per_day: int, days: int, url: str | None = None) -> dict[str, float]:
    cfg = load_config(HALL)
    db = open_db(data, url)
    store = Store(db)
    gen = Generator(cfg)
    accounts = Accounts(db)
    now = dt.datetime.now(dt.UTC)
    for w in cfg.windows:
        for half in "ab":
            accounts.add_user(f"c{w.no:02d}{half}", "bench-password-1", Role.CLERK,
                              f"职员{w.no}{half}", f"B{w.no:02d}{half}", now)
    started = time.perf_counter()
    events = 0
    rng = random.Random(9)
    for day in working_days(cfg, days):
        tickets, commitments = gen.day(day, tickets_per_day)
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=cfg.zone).astimezone(dt.UTC)
        with db.transaction() as tx:
            store.save_tickets(tx, tickets)
            for t, v in commitments:
                finished = TicketFinished(at=v.ended_at, ticket_id=t.id, window_no=v.window,
                                          number=t.number, clerk=v.clerk, service=v.service,
                                          outcome=t.outcome)
                store.append(tx, [finished], day, f"clerk:{v.clerk}")
                store.save_slip(tx, finished)
                promised = t.outcome.promised_date
                late = rng.random() < 0.04
                done_day = promised + dt.timedelta(days=rng.randint(1, 3)) if late else max(
                    day, promised - dt.timedelta(days=rng.randint(0, 2)))
                done_at = dt.datetime.combine(done_day, dt.time(15), tzinfo=cfg.zone)
                change = SlipStatusChanged(at=done_at, ticket_id=t.id, slip=t.outcome.slip,
                                           status=SlipStatus.DONE, previous=SlipStatus.ACCEPTED,
                                           by=f"clerk:{v.clerk}")
                store.append(tx, [change], done_day, f"clerk:{v.clerk}")
                store.save_slip_status(tx, change)
                events += 2
            for w in cfg.windows:  # two pauses a window a day
                for start_h in (rng.uniform(10, 11.5), rng.uniform(14, 16.5)):
                    at = midnight + dt.timedelta(hours=start_h)
                    reason = rng.choice(cfg.queue.pause_reasons)
                    took = rng.uniform(120, 1800)
                    actor = f"clerk:c{w.no:02d}{'a' if start_h < 13 else 'b'}"
                    store.append(tx, [WindowPaused(at=at, window_no=w.no, reason=reason)],
                                 day, actor)
                    store.append(tx, [WindowResumed(at=at + dt.timedelta(seconds=took),
                                                    window_no=w.no, reason=reason,
                                                    paused_s=took)], day, actor)
                    events += 2
            for i in range(2):  # two complaints a day
                w = rng.choice(cfg.windows)
                store.append(tx, [ComplaintFiled(
                    at=midnight + dt.timedelta(hours=11 + i * 4), complaint_id=f"TS{day}{i}",
                    category="attitude", text="态度生硬", window_about=w.no,
                    staff_no=f"B{w.no:02d}a")], day, "kiosk:k1")
                events += 1
    took = time.perf_counter() - started
    db.close()
    return {"build_s": round(took, 1), "tickets": tickets_per_day * days, "slips": gen.slips,
            "events": events}


def timed(fn, repeats: int) -> dict[str, float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return {"median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3)}


def measure(data: Path, days: int, repeats: int, url: str | None = None) -> dict:
    cfg = load_config(HALL)
    db = open_db(data, url)
    all_days = working_days(cfg, days)
    first, last = all_days[0], all_days[-1]
    year = (first, last)
    month = reports.period("month", dt.date(YEAR, 6, 15))
    after = last + dt.timedelta(days=1)  # the hall's open day: every day of the data is closed
    results: dict = {}
    for table in ("report_counts", "report_hist", "report_days"):
        with db.transaction() as tx:
            tx.execute(f"DELETE FROM {table}")
    started = time.perf_counter()
    reports.report(db, cfg, *year, "service", after)
    results["sum_up_year_once_s"] = round(time.perf_counter() - started, 1)
    for by in reports.GROUPINGS:
        results[f"month_{by}"] = timed(lambda by=by: reports.report(db, cfg, *month, by, after),
                                       repeats)
        results[f"year_{by}"] = timed(lambda by=by: reports.report(db, cfg, *year, by, after),
                                      repeats)
    for by in reports.ASSESSED:
        results[f"assessment_month_{by}"] = timed(
            lambda by=by: reports.assessment(db, cfg, *month, by, after), repeats)
        results[f"assessment_year_{by}"] = timed(
            lambda by=by: reports.assessment(db, cfg, *year, by, after), repeats)
    open_day = month[1] - dt.timedelta(days=[0, 1, 2, 3, 4, 0, 1][month[1].weekday()])
    results["month_clerk_last_day_live"] = timed(
        lambda: reports.report(db, cfg, month[0], month[1], "clerk", open_day), repeats)
    found = reports.assessment(db, cfg, *year, "clerk", after)
    results["export_year_clerk_csv"] = timed(lambda: reports.to_csv(found), repeats)
    results["export_year_clerk_xlsx"] = timed(lambda: reports.to_xlsx(found, "考核"), repeats)
    results["rows_year_clerk"] = len(found["rows"])
    results["report_hist_rows"] = db.query("SELECT COUNT(*) FROM report_hist")[0][0]
    results["report_counts_rows"] = db.query("SELECT COUNT(*) FROM report_counts")[0][0]
    db.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets-per-day", type=int, default=6000)
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build in (or reuse) this directory")
    parser.add_argument("--postgres", action="store_true",
                        help="on a throwaway PostgreSQL (tests/pgredis.py) instead of SQLite")
    args = parser.parse_args()
    data = args.keep or Path(tempfile.mkdtemp(prefix="reports-"))
    data.mkdir(parents=True, exist_ok=True)
    built = {}
    if args.postgres:
        from tests.pgredis import Postgres

        pg = Postgres().start()
        try:
            built = build(data, args.tickets_per_day, args.days, pg.url)
            print("built", built, flush=True)
            results = {"machine": machine(), "store": "postgresql", "built": built,
                       **measure(data, args.days, args.repeats, pg.url)}
        finally:
            pg.stop()
    else:
        if not (data / "onestop.db").exists():
            built = build(data, args.tickets_per_day, args.days)
            print("built", built, flush=True)
        results = {"machine": machine(), "store": "sqlite", "built": built, "size_mb": round(
            sum(f.stat().st_size for f in data.iterdir()) / 2**20),
            **measure(data, args.days, args.repeats)}
    OUT.parent.mkdir(exist_ok=True)
    out = OUT.with_name(OUT.stem + "-postgresql.json") if args.postgres else OUT
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
