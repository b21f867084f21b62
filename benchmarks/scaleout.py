"""Scale-out: two hubs on PostgreSQL + Redis versus one hub on SQLite, in one run.

For each setup, on the same machine, one after the other:

1. ticket throughput: a closed loop of N kiosk clients (keep-alive HTTP) issuing tickets for
   D seconds, spread over the hubs of the setup (round robin per client);
2. call → screen: S Socket.IO `/display` screens (spread over the hubs, in P display_client.py
   worker processes in all, as benchmarks/displays.py does), while the clerks of
   the benchmark hall's 4 windows call-next and finish in turn on alternating hubs; latency is
   from sending the call-next request to each screen receiving its `ticket.called` (every
   screen, every call), so for the pair it includes the Redis hop to the other hub's screens.

PostgreSQL runs with fsync on (an acknowledged commit is on disk, like SQLite's `--sync full`),
on loopback, in a throwaway cluster (tests/pgredis.py); Redis with nothing on disk. Everything
(both hubs, PostgreSQL, Redis and this load generator) shares the machine's cores: on a 2-core
box the pair competes with its own database for CPU, which a real deployment (hubs on their own
hosts) would not.

    .venv/bin/python benchmarks/scaleout.py [--clients 16] [--seconds 8] [--screens 50] [--procs 4]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    BENCH_DIR,
    HALL_BENCH,
    OUT_DIR,
    SERVICES,
    BenchHub,
    data_dir,
    machine,
    summarize_ms,
)
from tests.hubproc import PASSWORD
from tests.pgredis import Postgres, Redis, unavailable

WINDOWS = (1, 2, 3, 4)
CLIENT = BENCH_DIR / "display_client.py"


async def throughput(urls: list[str], kiosk: str, clients: int, seconds: float) -> dict:
    """Closed loop: each client issues, waits for the answer, issues again."""
    headers = {"Authorization": f"Bearer {kiosk}"}
    ok = errors = 0
    latencies: list[float] = []
    services = itertools.cycle(SERVICES)
    connector = aiohttp.TCPConnector(limit=clients * 2)
    async with aiohttp.ClientSession(connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=30)) as session:
        async def client(i: int, deadline: float, count: bool) -> None:
            nonlocal ok, errors
            url = urls[i % len(urls)]
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                async with session.post(f"{url}/api/v1/tickets", headers=headers,
                                        json={"service": next(services)}) as r:
                    await r.read()
                    if not count:
                        continue
                    if r.status == 201:
                        ok += 1
                        latencies.append(time.perf_counter() - t0)
                    else:
                        errors += 1

        warm = time.perf_counter() + 1.0
        await asyncio.gather(*(client(i, warm, False) for i in range(clients)))
        t0 = time.perf_counter()
        await asyncio.gather(*(client(i, t0 + seconds, True) for i in range(clients)))
        elapsed = time.perf_counter() - t0
    return {"clients": clients, "tickets": ok, "errors": errors,
            "tickets_per_s": round(ok / elapsed, 1), "issue": summarize_ms(latencies)}


def share(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def start_screens(urls: list[str], token: str, screens: int, procs: int,
                  kind: str) -> list[subprocess.Popen]:
    """The screens, spread evenly over the hubs, in `procs` display_client.py worker processes
    in all (the same number for one hub and for the pair; one asyncio loop parsing every
    screen's frames adds its own latency)."""
    plan = []  # (url, count)
    for url, n, p in zip(urls, share(screens, len(urls)), share(procs, len(urls)), strict=True):
        procs = max(1, min(p, n))
        plan += [(url, n // procs + (1 if i < n % procs else 0)) for i in range(procs)]
    workers = [subprocess.Popen(
        [sys.executable, str(CLIENT), "--url", url, "--token", token, "--count", str(n),
         "--kind", kind, "--times"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for url, n in plan]
    for w, (_, n) in zip(workers, plan, strict=True):
        line = w.stdout.readline()  # type: ignore[union-attr]
        if line.strip() != f"ready {n}":
            stop_screens(workers)
            raise RuntimeError(f"display client worker did not get ready: {line!r}")
    return workers


def stop_screens(workers: list[subprocess.Popen]) -> list[dict]:
    for w in workers:
        if w.poll() is None:
            try:
                w.stdin.write("stop\n")  # type: ignore[union-attr]
                w.stdin.flush()  # type: ignore[union-attr]
            except BrokenPipeError:
                pass
    results = []
    for w in workers:
        try:
            out, _ = w.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            w.kill()
            out, _ = w.communicate(timeout=10)
        line = next((x for x in reversed(out.splitlines()) if x.startswith("{")), None)
        if line:
            results.append(json.loads(line))
    return results


async def clerks_call(urls: list[str], tokens: dict[str, str], clerks: dict[int, str],
                      calls_per_window: int, gap_s: float) -> dict[int, list[float]]:
    """The 4 windows call-next and finish in turn, on alternating hubs; returns, per window,
    when (time.time(), the screens' clock) each call-next was sent."""
    sent: dict[int, list[float]] = {w: [] for w in WINDOWS}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        async def clerk(window: int) -> None:
            headers = {"Authorization": f"Bearer {clerks[window]}"}
            for n in range(calls_per_window):
                url = urls[(window + n) % len(urls)]
                sent[window].append(time.time())
                async with session.post(f"{url}/api/v1/windows/{window}/call-next",
                                        headers=headers, json={}) as r:
                    await r.read()
                await asyncio.sleep(gap_s)
                async with session.post(f"{url}/api/v1/windows/{window}/finish",
                                        headers=headers, json={"outcome": "immediate"}) as r:
                    await r.read()
                await asyncio.sleep(gap_s / 2)

        await asyncio.gather(*(clerk(w) for w in WINDOWS))
    return sent


def call_to_screen(urls: list[str], tokens: dict[str, str], clerks: dict[int, str],
                   args: argparse.Namespace) -> dict:
    """Screens spread over the hubs (in client processes); clerks call on alternating hubs;
    latency per screen and call, from the call-next request being sent."""
    import requests

    calls = args.calls * len(WINDOWS)
    with requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {tokens['kiosk']}"
        for _ in range(calls + 10):  # enough waiting tickets
            s.post(f"{urls[0]}/api/v1/tickets", json={"service": "S01"},
                   timeout=10).raise_for_status()
    workers = start_screens(urls, tokens["screen"], args.screens, args.procs, args.kind)
    try:
        time.sleep(1.0)  # let the connections settle
        sent = asyncio.run(clerks_call(urls, tokens, clerks, args.calls, args.gap))
        time.sleep(1.0)  # the last pushes are on their way
    finally:
        results = stop_screens(workers)
    latencies: list[float] = []
    duplicates = 0
    for res in results:
        for deliveries in res["clients"]:
            seen: set[int] = set()
            for kind, seq, t, window in deliveries:
                if seq in seen:
                    duplicates += 1
                seen.add(seq)
                if kind != "ticket.called" or window not in sent:
                    continue
                at = [x for x in sent[window] if x <= t]  # the call this one answers
                if at:
                    latencies.append(t - at[-1])
    return {"screens": args.screens, "screen_kind": args.kind, "screen_procs": len(results),
            "calls": calls,
            "deliveries": len(latencies), "expected": args.screens * calls,
            "duplicates": duplicates, "screens_cpu_s": round(sum(r["cpu_s"] for r in results), 2),
            "call_to_screen": summarize_ms(latencies)}


def login_all(url: str) -> dict[int, str]:
    import requests

    out = {}
    for w in WINDOWS:
        r = requests.post(f"{url}/api/v1/login", timeout=10,
                          json={"username": f"clerk{w}", "password": PASSWORD, "window": w})
        r.raise_for_status()
        out[w] = r.json()["token"]
    return out


def measure(urls: list[str], tokens: dict[str, str], args: argparse.Namespace) -> dict:
    clerks = login_all(urls[0])
    result = asyncio.run(throughput(urls, tokens["kiosk"], args.clients, args.seconds))
    result.update(call_to_screen(urls, tokens, clerks, args))
    return result


def run(args: argparse.Namespace) -> dict:
    results: dict = {"machine": machine(), "args": vars(args)}
    if args.only != "pair":
        results["sqlite_one_hub"] = one_hub(args)
    if args.only != "one":
        results["postgresql_pair"] = pair(args)
    if "sqlite_one_hub" in results and "postgresql_pair" in results:
        one, two = results["sqlite_one_hub"], results["postgresql_pair"]
        results["throughput_ratio_pair_over_one"] = round(
            two["tickets_per_s"] / one["tickets_per_s"], 2)
    return results


def one_hub(args: argparse.Namespace) -> dict:
    with data_dir(prefix="scaleout-sqlite-") as data:
        hub = BenchHub(data, config=HALL_BENCH)
        hub.provision()
        try:
            hub.start()
            result = measure([hub.url], hub.tokens, args)
        finally:
            hub.stop()
    print(json.dumps(result, indent=1), flush=True)
    return result


def pair(args: argparse.Namespace) -> dict:
    pg, redis = Postgres(fsync=True), Redis()
    try:
        pg.start()
        redis.start()
        url = pg.create_database(f"bench_{uuid.uuid4().hex[:8]}")
        with data_dir(prefix="scaleout-pg-") as data:
            extra = ["--message-queue", redis.url]
            a = BenchHub(data / "a", config=HALL_BENCH, extra_args=extra, db_url=url)
            a.provision()
            b = BenchHub(data / "b", config=HALL_BENCH, extra_args=extra, tokens=a.tokens,
                         db_url=url)
            b.data_dir.mkdir(parents=True, exist_ok=True)
            try:
                a.start()
                b.start()
                result = measure([a.url, b.url], a.tokens, args)
            finally:
                a.stop()
                b.stop()
    finally:
        pg.stop()
        redis.stop()
    print(json.dumps(result, indent=1), flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="closed-loop kiosk clients")
    parser.add_argument("--seconds", type=float, default=8.0, help="throughput phase length")
    parser.add_argument("--screens", type=int, default=50)
    parser.add_argument("--calls", type=int, default=25, help="call-nexts per window")
    parser.add_argument("--procs", type=int, default=4,
                        help="screen client processes (display_client.py), over all hubs")
    parser.add_argument("--only", choices=["one", "pair"], help="measure one setup only")
    parser.add_argument("--kind", choices=["socketio", "raw"], default="socketio",
                        help="screen clients: python-socketio's AsyncClient, or the protocol "
                        "spoken directly (closer to a browser's cost per message)")
    parser.add_argument("--gap", type=float, default=0.1, help="seconds between a call, its "
                        "finish and the next call")
    args = parser.parse_args()
    why = unavailable()
    if why:
        print(f"scaleout benchmark: {why}", file=sys.stderr)
        return 2
    results = run(args)
    OUT_DIR.mkdir(exist_ok=True)
    out = OUT_DIR / f"scaleout-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(f"throughput pair / one: {results.get('throughput_ratio_pair_over_one', '-')}  ({out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
