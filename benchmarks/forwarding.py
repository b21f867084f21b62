"""The feed to the supervision backend (`onestop forward`): how fast a backlog drains,
and what a running forwarder costs the hall's call-next.

1. Drain: 10,000 committed events (a day of tickets: issued, called, finished, rating asked)
   wait in the outbox; a real `onestop forward` process starts and sends them to a loopback
   receiver that accepts everything (tests/cereceiver.py, which parses every event back with
   the CloudEvents SDK). Target: all acknowledged within 10 s of the process starting.
2. Interference: a hub as deployed (benchmarks/common.py), one clerk, call-next + finish over
   HTTP; call-next latency without a forwarder and with one running (sending each new event
   as it commits), in alternating blocks. Target: the forwarder adds at most 1 ms to p50/p99.

    .venv/bin/python benchmarks/forwarding.py [--events 10000] [--calls 300]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from benchmarks.common import (  # noqa: E402
    HALL_BENCH,
    OUT_DIR,
    data_dir,
    running_hub,
    summarize_ms,
    wait_until,
)
from hub.engine.model import (  # noqa: E402
    Channel,
    Outcome,
    OutcomeKind,
    RatingRequested,
    TicketCalled,
    TicketFinished,
    TicketIssued,
)
from hub.runtime import open_database  # noqa: E402
from hub.store.forwarding import Outbox  # noqa: E402
from hub.store.store import Store  # noqa: E402
from tests.cereceiver import Receiver  # noqa: E402

DRAIN_TARGET_S = 10.0
ADDED_TARGET_MS = 1.0
BLOCKS = 3  # of call-next without, then with the forwarder


def hall_file(directory: Path, url: str) -> Path:
    """The benchmark hall with a [backend] section pointing at the receiver."""
    path = directory / "hall-forward.toml"
    path.write_text(HALL_BENCH.read_text(encoding="utf-8")
                    + f'\n[backend]\nurl = "{url}"\n', encoding="utf-8")
    return path


def start_forwarder(config: Path, data: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "--log-level", "warning", "forward", "--config",
         str(config), "--data", str(data)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(20)


def fill_outbox(data: Path, count: int) -> int:
    """`count` events as a day of tickets makes them, committed in 100-event transactions."""
    db = open_database(data, "NORMAL")
    store = Store(db)
    start = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)
    events = []
    for i in range(count // 4 + 1):
        at = start + dt.timedelta(seconds=i)
        tid, number = f"20261124-A{i:05d}", f"A{i % 1000:03d}"
        events += [
            TicketIssued(at=at, ticket_id=tid, number=number, service="S01",
                         channel=Channel.NORMAL, priority=False, rank=(i, 0)),
            TicketCalled(at=at, ticket_id=tid, window_no=1, number=number, clerk="clerk1",
                         service="S01"),
            TicketFinished(at=at, ticket_id=tid, window_no=1, number=number, clerk="clerk1",
                           service="S01", outcome=Outcome(kind=OutcomeKind.IMMEDIATE)),
            RatingRequested(at=at, ticket_id=tid, window_no=1, number=number, clerk="clerk1",
                            request_id=i % 65536, deadline=at + dt.timedelta(seconds=30),
                            clerk_name="职员1", staff_no="JZ001"),
        ]
    events = events[:count]
    for first in range(0, len(events), 100):
        with db.transaction() as tx:
            store.append(tx, events[first:first + 100], start.date(), "bench")
    last = store.last_seq()
    db.close()
    return last


def drain(count: int) -> dict[str, float]:
    receiver = Receiver().start()
    try:
        with data_dir(prefix="forward-") as data:
            last = fill_outbox(data, count)
            config = hall_file(data, receiver.url)
            started = time.monotonic()
            proc = start_forwarder(config, data)
            outbox = Outbox(open_database(data, "NORMAL"))
            done = wait_until(lambda: outbox.cursor() >= last, timeout_s=120, interval_s=0.02)
            elapsed = time.monotonic() - started
            stop(proc)
            assert done, "the backlog did not drain in 120 s"
            assert len(receiver.ids()) == last and not receiver.invalid
            return {"events": last, "drain_s": round(elapsed, 2),
                    "events_per_s": round(last / elapsed), "requests": receiver.requests}
    finally:
        receiver.close()


def call_next_latencies(hub, token: str, calls: int) -> list[float]:
    out = []
    for _ in range(calls):
        t0 = time.perf_counter()
        r = hub.act(token, 1, "call-next")
        out.append(time.perf_counter() - t0)
        assert r.ok, r.text
        assert hub.act(token, 1, "finish", outcome="immediate").ok
    return out


def receiver_process() -> tuple[subprocess.Popen, str]:
    """An accept-all receiver in a process of its own: parsing CloudEvents in this process
    would hold the GIL while this process times call-next, and count against the forwarder."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from tests.cereceiver import Receiver; "
         "r = Receiver().start(); print(r.url, flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=BENCH_DIR.parent,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def interference(calls: int) -> dict[str, dict[str, float]]:
    receiver, url = receiver_process()
    results: dict[str, dict[str, float]] = {}
    try:
        with data_dir(prefix="forward-hub-") as data:
            config = hall_file(data, url)
            with running_hub(data, config=config) as hub:
                for i in range(2 * calls + 140):
                    assert hub.issue(f"S{i % 20 + 1:02d}").status_code == 201
                token = hub.login("clerk1", 1)
                call_next_latencies(hub, token, 100)  # warm-up
                without: list[float] = []
                with_fwd: list[float] = []
                outbox = Outbox(open_database(data, "NORMAL"))
                for _ in range(BLOCKS):  # interleaved: the machine drifts over a minute
                    without += call_next_latencies(hub, token, calls // BLOCKS)
                    proc = start_forwarder(config, data)
                    last = outbox.status()["last_seq"]
                    assert wait_until(lambda last=last: outbox.cursor() >= last, timeout_s=30)
                    with_fwd += call_next_latencies(hub, token, calls // BLOCKS)
                    stop(proc)
                results["without"] = summarize_ms(without)
                results["with"] = summarize_ms(with_fwd)
                results["forwarded"] = {"cursor": outbox.cursor()}
    finally:
        receiver.communicate("", timeout=10)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    out = {"drain": drain(args.events), "call_next": interference(args.calls)}
    base = out["call_next"]["without"]
    with_fwd = out["call_next"]["with"]
    added = {q: round(with_fwd[q] - base[q], 3) for q in ("p50_ms", "p99_ms")}
    out["call_next"]["added_ms"] = added
    print(json.dumps(out, indent=2, ensure_ascii=False))
    ok = out["drain"]["drain_s"] <= DRAIN_TARGET_S and added["p50_ms"] <= ADDED_TARGET_MS
    print(f"drain {out['drain']['drain_s']} s (target ≤ {DRAIN_TARGET_S:g} s); call-next p50 "
          f"+{added['p50_ms']} ms, p99 +{added['p99_ms']} ms (target ≤ {ADDED_TARGET_MS:g} ms): "
          f"{'OK' if ok else 'MISSED'}")
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "forwarding.json").write_text(json.dumps(out, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
