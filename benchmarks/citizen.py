"""2,000 citizens' phones on one hub: call → the called phone updated, hub memory, and where a
call's pushes go (docs/citizen.md; the numbers in benchmarks/README.md).

    .venv/bin/python benchmarks/citizen.py                  # 2,000 phones, 200 calls
    .venv/bin/python benchmarks/citizen.py --phones 200 --calls 20   # a smoke test

A real hub (`onestop hub` as deployed, benchmarks/common.py) on the benchmark hall with the
phones' rate limit raised (every phone here comes from 127.0.0.1). 2,000 tickets are issued over
HTTP, 100 for each of the 20 items, and each ticket's capability (from the issue answer's `link`)
is connected to /citizen by one phone. The phones are `--procs` worker processes of this file
(`--worker`), each one asyncio loop speaking the Engine.IO 4 / Socket.IO 5 text protocol over
aiohttp websockets (benchmarks/display_client.py's `raw` client: a few µs a message, so the
clients' cost stays out of the hub's numbers as far as two cores allow).

Once every phone has its first `view`, the hub's RSS is read; clerk1 signs in at window 1 (which
calls every item) and does `call-next` every `--interval-ms`, `finish` 50 ms after each. The
latency of a call is the called ticket's phone's receive time of its `alert` minus the time the
`call-next` request was sent (same machine clock): HTTP, commit, push and the client. Afterwards
every message every phone got is counted: `view`/`alert` only to the called ticket's phone, and
`queue_moved` ticks to the phones of the called ticket's item.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import HALL_BENCH, data_dir, rss_mb, running_hub, summarize_ms

CONNECT_CONCURRENCY = 5  # per worker: the hub's accept backlog is small
LIMITS = "\n[citizen]\nrequests_per_minute = 10000\nburst = 10000\n"


# --- the worker: phones in one asyncio loop ------------------------------------------------


async def phone(session, url: str, capability: str, got: list, ready: asyncio.Event,
                stop: asyncio.Event) -> None:
    import aiohttp

    prefix = "42/citizen,"
    async with session.ws_connect(f"{url}/socket.io/?EIO=4&transport=websocket",
                                  autoping=True, max_msg_size=0) as ws:
        opened = await ws.receive_str()
        if not opened.startswith("0"):
            raise RuntimeError(f"no Engine.IO open packet: {opened[:80]}")
        await ws.send_str("40/citizen," + json.dumps({"capability": capability}))
        while not stop.is_set():
            msg = await ws.receive()
            t = time.time()
            if msg.type != aiohttp.WSMsgType.TEXT:
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                aiohttp.WSMsgType.ERROR):
                    break
                continue
            data = msg.data
            if data == "2":
                await ws.send_str("3")
            elif data.startswith(prefix):
                name, payload = json.loads(data[len(prefix):])[:2]
                got.append((name, t, payload.get("status") if name == "view" else None))
                if name == "view":
                    ready.set()
            elif data.startswith("44/citizen"):
                raise RuntimeError(f"connection refused: {data}")


async def worker(url: str, capabilities: list[str]) -> None:
    import aiohttp

    stop = asyncio.Event()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    logs: list[list] = [[] for _ in capabilities]
    tasks: list[asyncio.Task] = []
    timeout = aiohttp.ClientTimeout(total=None, connect=120)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=timeout) as session:
        async def open_one(i: int) -> None:
            ready = asyncio.Event()
            async with gate:
                task = asyncio.create_task(phone(session, url, capabilities[i], logs[i], ready,
                                                 stop))
                tasks.append(task)
                got = asyncio.create_task(ready.wait())
                await asyncio.wait([task, got], timeout=120, return_when=asyncio.FIRST_COMPLETED)
                if not got.done():
                    got.cancel()
                    raise RuntimeError(f"no view: {task.exception() if task.done() else ''}")

        await asyncio.gather(*(open_one(i) for i in range(len(capabilities))))
        print(f"ready {len(capabilities)}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps(logs), flush=True)


# --- the parent ---------------------------------------------------------------------------


def issue(hub, count: int) -> list[dict]:
    services = [f"S{i:02d}" for i in range(1, 21)]
    with requests.Session() as http:
        out = []
        for i in range(count):
            r = http.post(f"{hub.url}/api/v1/tickets", json={"service": services[i % 20]},
                          headers=hub.auth(hub.tokens["kiosk"]), timeout=10)
            r.raise_for_status()
            out.append(r.json())
    return out


def start_workers(url: str, tickets: list[dict], procs: int) -> list[subprocess.Popen]:
    workers = []
    for k in range(procs):
        caps = [t["link"].rsplit("/", 1)[1] for t in tickets[k::procs]]
        proc = subprocess.Popen([sys.executable, __file__, "--worker", url], text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(caps) + "\n")
        proc.stdin.flush()
        workers.append(proc)
    for proc in workers:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"a worker failed: {line!r}")
    return workers


def call(hub, clerk: str, calls: int, interval_s: float) -> list[tuple[float, str]]:
    """(sent at, ticket id called) per call."""
    out = []
    with requests.Session() as http:
        auth = hub.auth(clerk)
        for _ in range(calls):
            sent = time.time()
            r = http.post(f"{hub.url}/api/v1/windows/1/call-next", json={}, headers=auth,
                          timeout=10)
            r.raise_for_status()
            called = next(e["data"]["ticket_id"] for e in r.json()["events"]
                          if e["type"] == "ticket.called")
            out.append((sent, called))
            time.sleep(0.05)
            http.post(f"{hub.url}/api/v1/windows/1/finish", json={"outcome": "immediate"},
                      headers=auth, timeout=10).raise_for_status()
            time.sleep(max(0.0, interval_s - (time.time() - sent)))
    return out


def collect(workers: list[subprocess.Popen], tickets: list[dict], procs: int) -> dict[str, list]:
    """ticket id -> what its phone got."""
    logs: dict[str, list] = {}
    for k, proc in enumerate(workers):
        out, _ = proc.communicate("stop\n", timeout=120)
        for ticket, got in zip(tickets[k::procs], json.loads(out.splitlines()[-1]), strict=True):
            logs[ticket["id"]] = got
    return logs


def measure(args: argparse.Namespace) -> dict:
    with data_dir(prefix="citizen-") as data:
        hall = data / "hall-citizen.toml"
        hall.write_text(HALL_BENCH.read_text(encoding="utf-8") + LIMITS, encoding="utf-8")
        with running_hub(data / "hub", config=hall) as hub:
            tickets = issue(hub, args.phones)
            idle = rss_mb(hub.proc.pid)
            t0 = time.monotonic()
            workers = start_workers(hub.url, tickets, args.procs)
            connect_s = time.monotonic() - t0
            connected = rss_mb(hub.proc.pid)
            clerk = hub.login("clerk1", 1)
            calls = call(hub, clerk, args.calls, args.interval_ms / 1000)
            after = rss_mb(hub.proc.pid)
            logs = collect(workers, tickets, args.procs)
    return report(tickets, calls, logs, idle, connected, after, connect_s)


def report(tickets, calls, logs, idle, connected, after, connect_s) -> dict:
    by_id = {t["id"]: t for t in tickets}
    called_ids = {tid for _, tid in calls}
    latencies, missing = [], 0
    for sent, tid in calls:
        alerts = [t for name, t, _ in logs[tid] if name == "alert"]
        if alerts:
            latencies.append(alerts[0] - sent)
        else:
            missing += 1
    stray = sum(1 for tid, got in logs.items() if tid not in called_ids
                for name, _, _ in got[1:] if name in ("view", "alert"))
    own = Counter(name for tid in called_ids for name, _, _ in logs[tid][1:])
    ticks = sum(1 for got in logs.values() for name, _, _ in got if name == "queue_moved")
    per_item = Counter(by_id[tid]["service"] for _, tid in calls)
    phones_per_item = Counter(t["service"] for t in tickets)
    expected_ticks = sum(n * phones_per_item[s] for s, n in per_item.items())
    return {
        "phones": len(tickets), "calls": len(calls), "connect_s": round(connect_s, 1),
        "call_to_called_phone": summarize_ms(latencies), "alerts_missing": missing,
        "view_or_alert_to_other_phones": stray, "called_phones_got": dict(own),
        "queue_moved_ticks": ticks, "ticks_expected_one_per_phone_of_the_item": expected_ticks,
        "rss_mb": {"idle_2000_tickets": idle, "phones_connected": connected,
                   "after_calls": after},
    }


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        capabilities = json.loads(sys.stdin.readline())
        asyncio.run(worker(sys.argv[2], capabilities))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--interval-ms", type=float, default=100.0)
    parser.add_argument("--procs", type=int, default=4)
    args = parser.parse_args()
    print(json.dumps(measure(args), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
