"""call-next → delivery at every connected /display client, and the hub's RSS with them connected.

One hub (default synchronous=FULL, as deployed) on the benchmark hall. Before the screens
connect, `calls` tickets are issued; clerk1 signs in at window 1 (which calls every item). Then
`procs` worker processes (display_client.py) each open `screens / procs` /display clients in the
`hall` room. Once every client has its snapshot, the hub's VmRSS is read, and the clerk does
call-next then finish `calls` times over HTTP, starting a call every 1/`rate` s. Each call
pushes `ticket.called` and then `ticket.finished` to all screens.

Delivery latency = the client's receive time (time.time() in its handler) − the event's `at`
(the time stamp the hub gives the event when it decides it, before the SQLite commit), so it
includes the commit, the fan-out to every socket, the kernel and the client library. Clients and
hub share the machine's clock and its two cores: the clients' own CPU time is reported beside it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
from common import (
    BENCH_DIR,
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

CLIENT = BENCH_DIR / "display_client.py"


def issue_tickets(hub: HubProcess, count: int) -> None:
    with requests.Session() as s:
        s.verify = hub.verify
        s.trust_env = not hub.tls  # REQUESTS_CA_BUNDLE would replace the pinned hall CA
        s.headers["Authorization"] = f"Bearer {hub.tokens['kiosk']}"
        for i in range(count):
            r = s.post(f"{hub.url}/api/v1/tickets", json={"service": SERVICES[i % len(SERVICES)]},
                       timeout=10)
            r.raise_for_status()


def start_clients(hub: HubProcess, screens: int, procs: int, kind: str) -> list[subprocess.Popen]:
    sizes = [screens // procs + (1 if i < screens % procs else 0) for i in range(procs)]
    workers = []
    for n in sizes:
        workers.append(subprocess.Popen(
            [sys.executable, str(CLIENT), "--url", hub.url, "--token", hub.tokens["screen"],
             "--count", str(n), "--kind", kind,
             *(["--ca", str(hub.tls.ca)] if hub.tls else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    for w, n in zip(workers, sizes, strict=True):
        line = w.stdout.readline()  # type: ignore[union-attr]
        if line.strip() != f"ready {n}":
            stop_clients(workers)
            raise RuntimeError(f"display client worker did not get ready: {line!r}")
    return workers


def stop_clients(workers: list[subprocess.Popen]) -> list[dict]:
    results = []
    for w in workers:
        if w.poll() is None:
            try:
                w.stdin.write("stop\n")  # type: ignore[union-attr]
                w.stdin.flush()  # type: ignore[union-attr]
            except BrokenPipeError:
                pass
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


def pause_until(when: float) -> None:
    delay = when - time.perf_counter()
    if delay > 0:
        time.sleep(delay)


def clerk_calls(hub: HubProcess, calls: int, rate: float) -> dict:
    token = hub.login("clerk1", 1)
    http_latencies: list[float] = []
    with requests.Session() as s:
        s.verify = hub.verify
        s.trust_env = not hub.tls  # REQUESTS_CA_BUNDLE would replace the pinned hall CA
        s.headers["Authorization"] = f"Bearer {token}"
        base = f"{hub.url}/api/v1/windows/1"
        t0 = time.perf_counter()
        for i in range(calls):
            pause_until(t0 + i / rate)
            started = time.perf_counter()
            r = s.post(f"{base}/call-next", json={}, timeout=10)
            r.raise_for_status()
            http_latencies.append(time.perf_counter() - started)
            pause_until(t0 + (i + 0.5) / rate)  # finish half a period later: one push at a time
            s.post(f"{base}/finish", json={}, timeout=10).raise_for_status()
        elapsed = time.perf_counter() - t0
    return {"elapsed_s": round(elapsed, 2), "call_next_http": summarize_ms(http_latencies)}


def run(screens: int, procs: int, calls: int, rate: float, kind: str, sync: str = "full",
        keep: bool = False, profile: Path | None = None, tls: Any = None) -> list[dict]:
    """`tls`: a tests.hubproc.HallTLS: the hub serves HTTPS, every client pins its CA."""
    background = wait_quiet()
    with data_dir(keep, prefix=f"displays-{kind}-") as data, \
            running_hub(data, sync, tls=tls) as hub:
        pid = hub.proc.pid
        issue_tickets(hub, calls)
        rss_idle = rss_mb(pid)
        workers = start_clients(hub, screens, procs, kind)
        try:
            time.sleep(2.0)  # let the connections settle (first pings, buffers)
            rss_connected = rss_mb(pid)
            cpu0 = cpu_seconds(pid)
            with profiled(pid, profile):
                clerk = clerk_calls(hub, calls, rate)
            hub_cpu = cpu_seconds(pid) - cpu0
            time.sleep(1.0)  # the last pushes are on their way
            rss_after = rss_mb(pid)
        finally:
            results = stop_clients(workers)

    called: list[float] = []
    finished: list[float] = []
    complete = 0
    per_event: dict[int, list[float]] = {}
    by_type: dict[str, int] = {}  # every push the screens got, ratings and all
    for res in results:
        for deliveries in res["clients"]:
            n_called = 0
            for kind_, seq, latency in deliveries:
                by_type[kind_] = by_type.get(kind_, 0) + 1
                if kind_ == "ticket.called":
                    called.append(latency)
                    n_called += 1
                    per_event.setdefault(seq, []).append(latency)
                elif kind_ == "ticket.finished":
                    finished.append(latency)
            complete += n_called == calls
    clients_seen = sum(len(r["clients"]) for r in results)
    spread = [max(v) - min(v) for v in per_event.values()]  # first to last screen, per call
    client_cpu = sum(r["cpu_s"] for r in results)
    elapsed = clerk["elapsed_s"]
    delivery = {
        "bench": "delivery", "sync": sync, "client": kind, "screens": screens, "procs": procs,
        "tls": tls is not None,
        "calls": calls, "rate_per_s": rate,
        "expected": calls * screens, "delivered": len(called),
        "clients_complete": f"{complete}/{clients_seen}",
        **summarize_ms(called),
        "finished_event": summarize_ms(finished),
        "deliveries_by_type": by_type,
        "fanout_spread": summarize_ms(spread),
        "call_next_http": clerk["call_next_http"],
        "hub_cpu_pct": round(100 * hub_cpu / elapsed, 1),
        "clients_cpu_pct": round(100 * client_cpu / elapsed, 1),
        "background_cpu_pct": max(background, busy_cpu_pct()),
        "pinned": os.environ.get("ONESTOP_BENCH_PIN") == "1",
    }
    rss = {
        "bench": "rss", "sync": sync, "client": kind, "screens": screens, "tls": tls is not None,
        "idle_mb": rss_idle["VmRSS"], "connected_mb": rss_connected["VmRSS"],
        "after_calls_mb": rss_after["VmRSS"], "peak_mb": rss_after["VmHWM"],
        "as_deployed": os.environ.get("ONESTOP_BENCH_DEV_VENV") != "1",
    }
    return [delivery, rss]
