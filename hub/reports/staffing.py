"""Staffing advice for a week (GET /api/v1/reports/staffing): the hall's history read from the
store, the advice computed by hub/simulation/advice.py for each day the hall opens.

A week's advice simulates some hundred days with the engine (seconds of CPU): the hub never
computes it on its event loop. `advice_beside` runs `python -m hub.reports.staffing` as a child
process (the hub's config on its stdin, the answer on its stdout) and waits for it as a green
thread would; the child reads the store itself and spreads the days over the machine's cores.
An answer is kept per (week, history, config) — the history is whole past days, which do not
change — so a second look at the same week is immediate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import msgspec

from hub import children
from hub.config import HallConfig
from hub.simulation.advice import SEEDS, DayAdvice, advise_day
from hub.simulation.history import History, Visit, open_on
from hub.store.database import Database

WEEK_RE = re.compile(r"^([0-9]{4})-W([0-9]{2})$")
CHILD_TIMEOUT_S = 300.0
_CACHE_SIZE = 16
_cache: dict[str, dict[str, Any]] = {}


def parse_week(text: str) -> dt.date:
    """The Monday of ISO week "YYYY-Www" (ValueError if there is no such week)."""
    m = WEEK_RE.match(text)
    if not m:
        raise ValueError("not YYYY-Www")
    return dt.date.fromisocalendar(int(m[1]), int(m[2]), 1)


def week_name(monday: dt.date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def history_range(monday: dt.date, today: dt.date, weeks: int) -> tuple[dt.date, dt.date]:
    """The `weeks` whole weeks before the advised week, or before this week if the advised
    one is later: only days that are over."""
    this_monday = today - dt.timedelta(days=today.weekday())
    end = min(monday, this_monday) - dt.timedelta(days=1)
    return end - dt.timedelta(days=7 * weeks - 1), end


# --- reading the history (SQL) --------------------------------------------------------------

class _Visit(msgspec.Struct, kw_only=True):
    service: str
    called_at: dt.datetime
    ended_at: dt.datetime | None = None
    end: str | None = None


class _Ticket(msgspec.Struct, kw_only=True):
    service: str
    issued_at: dt.datetime
    visits: list[_Visit] = []


_decode = msgspec.json.Decoder(_Ticket).decode


def read_history(db: Database, cfg: HallConfig, start: dt.date, end: dt.date) -> History:
    history = History(cfg)
    day = start
    while day <= end:
        history.open_day(day)
        day += dt.timedelta(days=1)
    for row in db.query("SELECT data FROM tickets WHERE day >= ? AND day <= ?",
                        (start.isoformat(), end.isoformat())):
        t = _decode(row["data"])
        history.add(t.service, t.issued_at,
                    [Visit(v.service, v.called_at, v.ended_at, v.end) for v in t.visits])
    return history


# --- the advice -----------------------------------------------------------------------------

def advice(db: Database, cfg: HallConfig, monday: dt.date, today: dt.date,
           seeds: int = SEEDS, workers: int | None = None) -> dict[str, Any]:
    """The week's advice as the API answers it."""
    weeks = cfg.staffing.history_weeks
    start, end = history_range(monday, today, weeks)
    history = read_history(db, cfg, start, end)
    return advise_week(cfg, history, monday, seeds, workers) | {
        "history": {"from": start.isoformat(), "to": end.isoformat(), "weeks": weeks,
                    "tickets": history.tickets},
    }


def advise_week(cfg: HallConfig, history: History, monday: dt.date, seeds: int = SEEDS,
                workers: int | None = None) -> dict[str, Any]:
    target = cfg.staffing.p90_wait_minutes
    jobs = [(d, history.demand_for(d)) for d in _week_days(cfg, monday)]
    jobs = [(d, demand) for d, demand in jobs if demand.items]
    days = list(_map_days(cfg, jobs, target, seeds, workers))
    return {
        "week": week_name(monday),
        "target_p90_minutes": target,
        "seeds": seeds,
        "days": [_day_answer(cfg, a) for a in days],
    }


def _week_days(cfg: HallConfig, monday: dt.date) -> list[dt.date]:
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    return [d for d in days if any(open_on(cfg, s, d) for s in cfg.services)]


def _advise(args: tuple[HallConfig, Any, dt.date, float, int]) -> DayAdvice:
    cfg, demand, day, target, seeds = args
    return advise_day(cfg, demand, day, target, seeds)


def _map_days(cfg: HallConfig, jobs: list[tuple[dt.date, Any]], target: float, seeds: int,
              workers: int | None) -> Iterator[DayAdvice]:
    """Each day on its own core: the days of a week do not depend on each other."""
    args = [(cfg, demand, d, target, seeds) for d, demand in jobs]
    workers = min(len(args), workers or os.cpu_count() or 1)
    if workers <= 1:
        yield from map(_advise, args)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_follow_parent) as pool:
        yield from pool.map(_advise, args)


def _follow_parent() -> None:
    """A pool worker ends with the process that started it, as that one ends with the hub."""
    os.environ[children.PARENT_ENV] = str(os.getppid())
    children.follow_parent()


def _day_answer(cfg: HallConfig, a: DayAdvice) -> dict[str, Any]:
    hours: dict[int, dict[str, Any]] = {}
    for c in a.cells:
        h = hours.setdefault(c.hour, {"hour": c.hour, "windows": 0, "load": 0.0})
        h["windows"] += c.windows
        h["load"] += c.arrivals * c.service_minutes / 60
    return {
        "day": a.day.isoformat(),
        "tickets": round(a.tickets, 1),
        "hours": [h | {"load": round(h["load"], 2)} for _, h in sorted(hours.items())],
        "rows": [_row(cfg, c) for c in a.cells],
        "utilisation": [{"window": no, "share": round(u, 3)}
                        for no, u in sorted(a.utilisation.items())],
    }


def _row(cfg: HallConfig, c: Any) -> dict[str, Any]:
    svc = cfg.service(c.service)
    return {
        "hour": c.hour, "service": c.service, "name": svc.name, "name_en": svc.name_en,
        "arrivals": round(c.arrivals, 1), "service_minutes": round(c.service_minutes, 1),
        "no_show": round(c.no_show, 3), "load": round(c.arrivals * c.service_minutes / 60, 2),
        "windows": c.windows, "p90": _r(c.p90), "met": c.met,
        "erlang_windows": c.erlang_windows, "erlang_p90": _r(c.erlang_p90),
        "configured_windows": c.configured_windows, "configured_p90": _r(c.configured_p90),
    }


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


# --- beside the hub: a child process ---------------------------------------------------------

def store_location(db: Database) -> dict[str, str]:
    """How a child process opens the same store."""
    url = getattr(db, "url", None)
    if url:
        return {"url": url, "files": str(db.path.parent)}
    return {"path": str(db.path)}


def _key(cfg_json: bytes, monday: dt.date, today: dt.date, weeks: int) -> str:
    start, end = history_range(monday, today, weeks)
    digest = hashlib.sha256(cfg_json).hexdigest()[:16]
    return f"{monday}:{start}:{end}:{digest}"


def advice_beside(db: Database, cfg: HallConfig, monday: dt.date, today: dt.date,
                  timeout_s: float = CHILD_TIMEOUT_S) -> dict[str, Any]:
    """The week's advice computed by a child process (see the module's docstring). Raises
    subprocess.TimeoutExpired or RuntimeError if the child does not answer."""
    cfg_json = msgspec.json.encode(cfg)
    key = _key(cfg_json, monday, today, cfg.staffing.history_weeks)
    if key in _cache:
        return _cache[key]
    job = json.dumps({"store": store_location(db), "monday": monday.isoformat(),
                      "today": today.isoformat(), "config": cfg_json.decode()})
    child = children.start(["-m", "hub.reports.staffing"], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = child.communicate(job.encode(), timeout=timeout_s)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise
    if child.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
        raise RuntimeError(f"staffing advice failed (exit {child.returncode}): {tail[0]}")
    answer = json.loads(out)
    while len(_cache) >= _CACHE_SIZE:
        _cache.pop(next(iter(_cache)))
    _cache[key] = answer
    return answer


def _open_store(store: dict[str, str]) -> Database:
    if "url" in store:
        from hub.store.postgres import PgDatabase  # noqa: PLC0415 - the optional extra `pg`

        return PgDatabase(store["url"], files=store["files"])  # type: ignore[return-value]
    if not Path(store["path"]).exists():
        raise FileNotFoundError(store["path"])
    return Database(store["path"])


def main() -> int:
    """The child: a job as JSON on stdin, the advice as JSON on stdout."""
    children.follow_parent()
    job = json.loads(sys.stdin.buffer.read())
    cfg = msgspec.json.decode(job["config"], type=HallConfig)
    db = _open_store(job["store"])
    try:
        found = advice(db, cfg, dt.date.fromisoformat(job["monday"]),
                       dt.date.fromisoformat(job["today"]))
    finally:
        db.close()
    sys.stdout.write(json.dumps(found, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
