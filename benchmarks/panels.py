"""Clerk action → acknowledged on the panel, with 100 clerk panels connected.

A hub (as deployed, SQLite synchronous=FULL) on a generated hall of 100 windows serving one
item, 100 clerks each signed in at their own window and connected to `/caller` with a real
python-socketio AsyncClient (one asyncio process: 100 panels). Tickets are issued first; then
every panel, at its own random moments (~2 actions/s each, 200/s in all), sends `call-next`
and then `finish` as Socket.IO events with an ack, and times event → ack. The ack comes after
the commit, so it includes the durable write, the decision and the pushes it causes.

    .venv/bin/python benchmarks/panels.py [--panels 100] [--actions 20]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

import requests  # noqa: E402
import socketio  # noqa: E402

from benchmarks.common import OUT_DIR, BenchHub, summarize_ms  # noqa: E402
from hub.auth import Role  # noqa: E402
from hub.runtime import open_database  # noqa: E402
from hub.store.accounts import Accounts  # noqa: E402
from tests.hubproc import PASSWORD  # noqa: E402


def hall_toml(windows: int) -> str:
    head = """schema_version = 1
[center]
name = "压测中心"
[queue]
fairness_ratio = 3
[hours.allday]
weekdays = [1, 2, 3, 4, 5, 6, 7]
periods = [["00:00", "24:00"]]
[[departments]]
code = "D"
name = "部门"
[[services]]
code = "S"
name = "事项"
department = "D"
prefix = "A"
daily_quota = 999
hours = "allday"
materials = ["身份证"]
[services.disclosure]
duties = "职责"
basis = "依据"
preconditions = "无"
procedure = "受理"
time_limit = "当场"
fees = "不收费"
"""
    return head + "".join(
        f'[[windows]]\nno = {no}\ndepartment = "D"\nservices = ["S"]\n'
        f"backup = {no % windows + 1}\n" for no in range(1, windows + 1))


async def panel(url: str, token: str, actions: int, rng: random.Random,
                latencies: list[float], refused: list[str]) -> None:
    client = socketio.AsyncClient()
    await client.connect(url, namespaces=["/caller"], transports=["websocket"],
                         auth={"token": token}, wait_timeout=10)
    try:
        for _ in range(actions):
            for event in ("call-next", "finish"):
                await asyncio.sleep(rng.uniform(0.1, 0.9))
                sent = time.perf_counter()
                answer = await client.call(event, {}, namespace="/caller", timeout=10)
                latencies.append(time.perf_counter() - sent)
                if not answer.get("ok"):
                    refused.append(answer["error"]["code"])
    finally:
        await client.disconnect()


async def drive(url: str, tokens: list[str], actions: int) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    refused: list[str] = []
    rng = random.Random(1)
    await asyncio.gather(*(panel(url, t, actions, random.Random(rng.random()), latencies,
                                 refused) for t in tokens))
    return latencies, refused


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panels", type=int, default=100)
    parser.add_argument("--actions", type=int, default=9,
                        help="call-next + finish per panel (9 × 100 stays under the 999 quota)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-panels-") as tmp:
        config = Path(tmp) / "hall.toml"
        config.write_text(hall_toml(args.panels), encoding="utf-8")
        hub = BenchHub(Path(tmp) / "data", config=config)
        accounts = Accounts(open_database(hub.data_dir))
        now = dt.datetime.now(dt.UTC)
        for no in range(1, args.panels + 1):
            accounts.add_user(f"c{no}", PASSWORD, Role.CLERK, f"职员{no}", f"B{no:04d}", now)
        kiosk = accounts.add_token(Role.KIOSK, "bench", now)
        accounts.db.close()
        hub.start()
        try:
            tickets = min(999, args.panels * args.actions)
            with requests.Session() as http:
                for _ in range(tickets):
                    http.post(f"{hub.url}/api/v1/tickets", json={"service": "S"},
                              headers={"Authorization": f"Bearer {kiosk}"}, timeout=5)
            tokens = [hub.login(f"c{no}", no) for no in range(1, args.panels + 1)]
            started = time.perf_counter()
            latencies, refused = asyncio.run(drive(hub.url, tokens, args.actions))
            elapsed = time.perf_counter() - started
        finally:
            hub.stop()
    result = {"panels": args.panels, "actions": len(latencies),
              "rate_per_s": round(len(latencies) / elapsed, 1),
              "refused": {code: refused.count(code) for code in set(refused)},
              **summarize_ms(latencies)}
    print(json.dumps(result, ensure_ascii=False))
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "panels.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
