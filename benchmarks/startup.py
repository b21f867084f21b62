"""Start-up time: from spawning `onestop hub` to its first successful GET /healthz.

Two data directories:
- empty: a fresh directory each time (the hub creates and migrates the database);
- populated: one directory holding `events` events of one busy day, written through the HTTP API
  by a hub run with --sync normal (faster to build; the files are the same): tickets issued over
  20 items, then call-next + finish at window 1 for half of them. The hub loads the latest state
  snapshot (every 1000 events) and replays the events after it.

Each start is timed `repeats` times. /healthz is polled every 5 ms over a fresh connection. The
hub runs at log level info so its own "hub ready … in X s" line (taken just before it starts
serving, after imports, migration and state load) can be shown next to the outside time.
"""

from __future__ import annotations

import asyncio
import http.client
import re
import statistics
import subprocess
import time
from pathlib import Path

import aiohttp
import requests
from common import (
    HALL_BENCH,
    QUOTA,
    REPO_ROOT,
    SERVICES,
    HubProcess,
    data_dir,
    free_port,
    hub_command,
    running_hub,
    wait_quiet,
)

POLL_S = 0.005
READY_RE = re.compile(r"hub ready on \S+ in ([0-9.]+) s .*event (\d+)")


def time_start(data: Path, timeout_s: float = 30.0) -> dict:
    """Spawn a hub on `data`, wait for /healthz, stop it; seconds to first healthy answer."""
    port = free_port()
    log_path = data / f"startup-{int(time.time() * 1000)}.log"
    with open(log_path, "wb") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            hub_command("--log-level", "info", "hub", "--config", str(HALL_BENCH),
                        "--data", str(data), "--port", str(port)),
            stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        try:
            elapsed = None
            while time.perf_counter() - t0 < timeout_s:
                if proc.poll() is not None:
                    raise RuntimeError(f"hub exited {proc.returncode}: {log_path.read_text()}")
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                try:
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        elapsed = time.perf_counter() - t0
                        break
                except OSError:
                    pass
                finally:
                    conn.close()
                time.sleep(POLL_S)
            if elapsed is None:
                raise TimeoutError(f"hub not healthy in {timeout_s} s: {log_path.read_text()}")
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
    found = READY_RE.search(log_path.read_text(errors="replace"))
    log_path.unlink(missing_ok=True)
    return {"spawn_to_healthz_s": round(elapsed, 3),
            "hub_says_ready_s": float(found.group(1)) if found else None,
            "seq": int(found.group(2)) if found else None}


async def _issue(hub: HubProcess, count: int, connections: int = 8) -> None:
    url = f"{hub.url}/api/v1/tickets"
    headers = {"Authorization": f"Bearer {hub.tokens['kiosk']}"}
    next_i = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as s:
        async def worker() -> None:
            nonlocal next_i
            while next_i < count:
                i, next_i = next_i, next_i + 1
                async with s.post(url, json={"service": SERVICES[i % len(SERVICES)]},
                                  headers=headers) as r:
                    if r.status != 201:
                        raise RuntimeError(f"issue failed: {r.status} {await r.text()}")

        await asyncio.gather(*(worker() for _ in range(connections)))


def populate(data: Path, events: int) -> int:
    """Write at least `events` events through the API; returns the hub's last sequence number.

    Half of them are ticket.issued; the rest are what call-next + finish at window 1 emit
    (ticket.called, ticket.finished and whatever else the engine adds to a finish).
    """
    tickets = min(events // 2, QUOTA)
    with running_hub(data, "normal") as hub:
        asyncio.run(_issue(hub, tickets))
        token = hub.login("clerk1", 1)

        def seq() -> int:
            return requests.get(f"{hub.url}/healthz", timeout=5).json()["seq"]

        with requests.Session() as s:
            s.headers["Authorization"] = f"Bearer {token}"
            base = f"{hub.url}/api/v1/windows/1"
            for _ in range(tickets):  # bounded: at most one call per issued ticket
                if seq() >= events:
                    break
                for _ in range(50):
                    s.post(f"{base}/call-next", json={}, timeout=10).raise_for_status()
                    s.post(f"{base}/finish", json={}, timeout=10).raise_for_status()
        return seq()


def _summary(label: str, runs: list[dict], **extra) -> dict:
    outside = [r["spawn_to_healthz_s"] for r in runs]
    inside = [r["hub_says_ready_s"] for r in runs if r["hub_says_ready_s"] is not None]
    return {
        "bench": "startup", "data": label, **extra, "repeats": len(runs),
        "median_s": round(statistics.median(outside), 3), "max_s": round(max(outside), 3),
        "min_s": round(min(outside), 3),
        "hub_says_ready_median_s": round(statistics.median(inside), 3) if inside else None,
        "runs_s": outside,
    }


def run(events: int, repeats: int, keep: bool = False) -> list[dict]:
    background = wait_quiet()
    empty_runs = []
    for _ in range(repeats):
        with data_dir(keep, prefix="startup-empty-") as data:
            empty_runs.append(time_start(data))
    with data_dir(keep, prefix="startup-full-") as data:
        built_t0 = time.perf_counter()
        seq = populate(data, events)
        built_s = time.perf_counter() - built_t0
        size_mb = sum(f.stat().st_size for f in data.iterdir() if f.is_file()) / 2**20
        background_full = wait_quiet()
        full_runs = [time_start(data) for _ in range(repeats)]
    return [
        _summary("empty", empty_runs, background_cpu_pct=background),
        _summary("populated", full_runs, events=seq, db_mb=round(size_mb, 1),
                 build_s=round(built_s, 1), background_cpu_pct=background_full),
    ]
