"""Ticket issue throughput over HTTP with durable commits.

A fresh hub per run (its own data directory, so every run starts from an empty day). The load is
asyncio + aiohttp in this process: one client costs far less CPU per request than
requests/threads (which would compete with the hub for the machine's two cores and make the hub
look slower than it is), and an asyncio loop can hold an exact open-loop schedule.

Two kinds of load:
- closed loop: `clients` keep-alive connections, each sends its next request as soon as the
  previous answer arrives, for `duration_s`. Gives the saturation rate; latency then is mostly
  queueing (Little's law: latency ~ clients / rate).
- open loop: requests start on a fixed schedule (`rate` per second, evenly spaced) whatever the
  answers do, on up to 64 connections; latency counts from the scheduled start, so a hub that
  falls behind shows it (no coordinated omission). This is the one that answers "does the hub
  sustain 500 tickets/s with p99 <= 20 ms".
Optionally the same closed loop with `wrk` (C, near-zero client overhead) as a cross-check.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
import tomllib
from pathlib import Path

import aiohttp
from common import (
    BENCH_DIR,
    QUOTA,
    SERVICES,
    HubProcess,
    busy_cpu_pct,
    cpu_seconds,
    data_dir,
    profiled,
    rss_mb,
    running_hub,
    summarize_ms,
    wait_quiet,
)

WARMUP_REQUESTS = 200
OPEN_LOOP_CONNECTIONS = 64


# `--hall example`: the demo's hall (36 items, 22 windows, daily quotas of 10-400), on a set clock
# a Wednesday mid-morning so that its real opening hours hold. Its small quotas fill within
# seconds at these rates: refusals (409 quota_reached) are counted apart from the tickets.
EXAMPLE_HALL = BENCH_DIR.parent / "config" / "hall.example.toml"
EXAMPLE_CLOCK = "2026-11-25T10:00:00+08:00"


def hall_items(config: Path) -> list[str]:
    return [s["code"] for s in tomllib.loads(config.read_text(encoding="utf-8"))["services"]]


class Load:
    """Issues tickets round-robin over the hall's items and records each latency."""

    def __init__(self, hub: HubProcess, items: list[str] = SERVICES) -> None:
        self.items = items
        self.url = f"{hub.url}/api/v1/tickets"
        self.headers = {"Authorization": f"Bearer {hub.tokens['kiosk']}",
                        "Content-Type": "application/json"}
        self.sent = 0
        self.latencies: list[float] = []
        self.done_at: list[float] = []  # completion times, in completion order
        self.errors: dict[str, int] = {}

    def next_body(self) -> bytes:
        service = self.items[self.sent % len(self.items)]
        self.sent += 1
        return json.dumps({"service": service}).encode()

    async def one(self, session: aiohttp.ClientSession, started: float, record: bool) -> None:
        try:
            async with session.post(self.url, data=self.next_body(), headers=self.headers) as r:
                await r.read()
                ok = r.status == 201
                key = str(r.status)
        except (aiohttp.ClientError, TimeoutError) as err:
            ok, key = False, type(err).__name__
        if not record:
            return
        if ok:
            now = time.perf_counter()
            self.latencies.append(now - started)
            self.done_at.append(now)
        else:
            self.errors[key] = self.errors.get(key, 0) + 1


def _session(connections: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30))


async def closed_loop(hub: HubProcess, clients: int, duration_s: float, max_count: int,
                      items: list[str] = SERVICES) -> dict:
    load = Load(hub, items)
    async with _session(clients) as session:
        for _ in range(WARMUP_REQUESTS // clients + 1):  # open the connections, warm the hub
            await asyncio.gather(*(load.one(session, time.perf_counter(), False)
                                   for _ in range(clients)))
        budget = max_count - load.sent
        cpu0, t0 = cpu_seconds(hub.proc.pid), time.perf_counter()
        deadline = t0 + duration_s

        async def worker() -> None:
            nonlocal budget
            while time.perf_counter() < deadline and budget > 0:
                budget -= 1
                await load.one(session, time.perf_counter(), True)

        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - t0
        cpu = cpu_seconds(hub.proc.pid) - cpu0
    return _result(load, elapsed, cpu, hub, clients=clients)


async def open_loop(hub: HubProcess, rate: float, duration_s: float) -> dict:
    load = Load(hub)
    count = int(rate * duration_s)
    async with _session(OPEN_LOOP_CONNECTIONS) as session:
        for _ in range(WARMUP_REQUESTS // 8):
            await asyncio.gather(*(load.one(session, time.perf_counter(), False)
                                   for _ in range(8)))
        cpu0, t0 = cpu_seconds(hub.proc.pid), time.perf_counter()
        tasks = []
        for i in range(count):
            due = t0 + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(load.one(session, due, True)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - t0
        cpu = cpu_seconds(hub.proc.pid) - cpu0
    return _result(load, elapsed, cpu, hub, offered_per_s=rate)


def by_thousand(load: Load, offset: int) -> list[dict]:
    """Rate and latency per 1000 tickets, in completion order: the hub keeps every ticket of the
    day in memory and some reads scan the waiting ones, so the cost of an issue can grow with
    the queue. `offset`: tickets issued before the measured ones (warm-up)."""
    out = []
    for start in range(0, len(load.latencies) - 999, 1000):
        span = load.done_at[start + 999] - load.done_at[start]
        xs = load.latencies[start:start + 1000]
        out.append({"tickets_before": offset + start,
                    "tickets_per_s": round(999 / span, 1) if span > 0 else None,
                    **{k: v for k, v in summarize_ms(xs).items() if k in ("p50_ms", "p99_ms")}})
    return out


def _result(load: Load, elapsed: float, cpu: float, hub: HubProcess, **extra) -> dict:
    ok = len(load.latencies)
    return {
        **extra,
        "tickets": ok,
        "errors": load.errors,
        "elapsed_s": round(elapsed, 2),
        "tickets_per_s": round(ok / elapsed, 1),
        "hub_cpu_pct": round(100 * cpu / elapsed, 1),
        "hub_rss": rss_mb(hub.proc.pid),
        **summarize_ms(load.latencies),
        "by_thousand": by_thousand(load, load.sent - ok - sum(load.errors.values())),
    }


# --- wrk ------------------------------------------------------------------------------------

WRK_SCRIPT = BENCH_DIR / "wrk_issue.lua"


def wrk_closed_loop(hub: HubProcess, clients: int, duration_s: float) -> dict | None:
    """The same closed loop driven by wrk, if it is installed (Debian: `apt-get install wrk`)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    cpu0 = cpu_seconds(hub.proc.pid)
    proc = subprocess.run(
        [wrk, "-t1", f"-c{clients}", f"-d{int(duration_s)}s", "--timeout", "10s",
         "-s", str(WRK_SCRIPT), f"{hub.url}/api/v1/tickets", "--", hub.tokens["kiosk"]],
        capture_output=True, text=True, timeout=duration_s + 60, check=False)
    cpu = cpu_seconds(hub.proc.pid) - cpu0
    line = next((x for x in proc.stdout.splitlines() if x.startswith("{")), None)
    if proc.returncode != 0 or line is None:
        return {"error": (proc.stderr or proc.stdout)[-500:]}
    got = json.loads(line)
    elapsed = got["duration_us"] / 1e6
    ok = got["requests"] - got["non2xx"] - got["socket_errors"]
    return {
        "clients": clients, "tickets": ok,
        "errors": {"non2xx": got["non2xx"], "socket": got["socket_errors"]},
        "elapsed_s": round(elapsed, 2), "tickets_per_s": round(ok / elapsed, 1),
        "hub_cpu_pct": round(100 * cpu / elapsed, 1), "hub_rss": rss_mb(hub.proc.pid),
        "mean_ms": got["mean_us"] / 1000, "p50_ms": got["p50_us"] / 1000,
        "p95_ms": got["p95_us"] / 1000, "p99_ms": got["p99_us"] / 1000,
        "max_ms": got["max_us"] / 1000,
    }


# --- the benchmark --------------------------------------------------------------------------

def run_example_hall(syncs: list[str], clients: int, duration_s: float,
                     keep: bool = False) -> list[dict]:
    """The closed loop on the example hall (`--hall example`): one fresh hub per sync mode."""
    results = []
    for sync in syncs:
        background = wait_quiet()
        with data_dir(keep, prefix=f"issue-example-{sync}-") as data, \
                running_hub(data, sync, config=EXAMPLE_HALL, clock=EXAMPLE_CLOCK) as hub:
            res = asyncio.run(closed_loop(hub, clients, duration_s, 10**6,
                                          hall_items(EXAMPLE_HALL)))
        results.append({"bench": "issue", "hall": "example", "sync": sync, "load": "closed",
                        **res, "background_cpu_pct": max(background, busy_cpu_pct())})
    return results


def run(syncs: list[str], clients: int, duration_s: float, rate: float, use_wrk: bool,
        keep: bool = False, profile_dir: Path | None = None) -> list[dict]:
    """One fresh hub per (sync mode, load kind); returns one result dict per run."""
    results = []
    for sync in syncs:
        kinds = ["closed", "open"] + (["wrk"] if use_wrk and shutil.which("wrk") else [])
        for kind in kinds:
            profile = profile_dir / f"profile-issue-{sync}-{kind}.raw" if profile_dir else None
            background = wait_quiet()
            with data_dir(keep, prefix=f"issue-{sync}-{kind}-") as data, \
                    running_hub(data, sync) as hub, profiled(hub.proc.pid, profile):
                if kind == "closed":
                    res = asyncio.run(closed_loop(hub, clients, duration_s, QUOTA - 100))
                elif kind == "open":
                    res = asyncio.run(open_loop(hub, rate, duration_s))
                else:
                    res = wrk_closed_loop(hub, clients, duration_s)
                    if res is None:
                        continue
            results.append({"bench": "issue", "sync": sync, "load": kind, **res,
                            "background_cpu_pct": max(background, busy_cpu_pct()),
                            "pinned": os.environ.get("ONESTOP_BENCH_PIN") == "1"})
    return results

