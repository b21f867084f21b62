"""刷身份证取号: card placed on the reader → read, → at the hub, at 115200 baud.

`reader`: the driver (devices/idcard/reader.py) polling the simulated SAM reader over a pty,
paced at the baud rate, the reader taking `READ_S` for its own work on a read (0.7 s, within the
0.5-0.9 s desktop readers take). For each placing: placed → `CardRead` in the driver's callback.
The wire time of one read (every byte of find, select and read text both ways, 10 bits a byte)
is reported apart, computed from the frames, beside the poll phase (a card waits up to
`poll_ms` for the next find) and the reader's own time.

`agent`: the same through a real agent process, to the `id_card` event arriving at the hub's
/device namespace (a bare Socket.IO server in this process plays the hub).

    .venv/bin/python benchmarks/identity.py [--only reader|agent] [--placings 20] [--json out]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.common import summarize_ms  # noqa: E402
from devices.idcard import protocol as p  # noqa: E402
from devices.idcard.reader import ABSENT_POLLS, CardRead, IdCardReader  # noqa: E402
from devices.sim.idcard import READ_S, SimIdReader, fictitious_card  # noqa: E402
from devices.transport import SerialTransport  # noqa: E402

BAUD = 115200
POLL_MS = 300
TARGET_S = 1.5  # card placed → ticket on screen, the reader's own time included
CARD = fictitious_card("王五", dt.date(1949, 12, 31), seq=2, valid_until=None)


def wire_s(baud: int = BAUD) -> dict[str, float]:
    """The bytes of one read on the wire, both ways, and their time at `baud` (8N1)."""
    block = p.encode_text(CARD.text)
    frames = [p.command(p.Command.FIND), p.answer(p.Status.FOUND, bytes(4)),
              p.command(p.Command.SELECT), p.answer(p.Status.OK, bytes(8)),
              p.command(p.Command.READ_TEXT),
              p.answer(p.Status.OK, p.read_text_data(block, bytes(p.PHOTO_LEN)))]
    n = sum(len(f) for f in frames)
    return {"bytes": n, "wire_ms": round(n * 10 / baud * 1000, 1)}


def placings(sim: SimIdReader, count: int, arrived: list[float],
             done: threading.Event) -> list[float]:
    """Place the card `count` times, each after the last was read and lifted off; the times
    from placing to `arrived` growing by one."""
    out = []
    for i in range(count):
        # Place at a different phase of the poll each time, as a citizen would.
        time.sleep(POLL_MS / 1000 * (i % 7) / 7)
        sim.insert(CARD)
        placed = sim.placed_at
        deadline = time.monotonic() + 10
        while len(arrived) <= i and time.monotonic() < deadline and not done.is_set():
            time.sleep(0.002)
        if len(arrived) <= i:
            raise RuntimeError(f"placing {i} was not read within 10 s")
        out.append(arrived[i] - placed)
        sim.remove()
        time.sleep(POLL_MS / 1000 * (ABSENT_POLLS + 1))  # lifted off: the reader sees it gone
    return out


def bench_reader(count: int) -> dict[str, Any]:
    arrived: list[float] = []
    stop = threading.Event()
    with SimIdReader(baud=BAUD, pace=True) as sim:
        reader = IdCardReader(SerialTransport(sim.path, BAUD, personal_data=True),
                              poll_ms=POLL_MS)

        def got(read: CardRead) -> None:
            assert not read.error
            arrived.append(time.monotonic())

        thread = threading.Thread(target=reader.run, args=(got, stop), daemon=True)
        thread.start()
        try:
            times = placings(sim, count, arrived, stop)
        finally:
            stop.set()
            thread.join(5)
    return {"placed_to_read": summarize_ms(times), "raw_s": times}


def bench_agent(count: int) -> dict[str, Any]:
    from tests.test_agent_idcard import DeviceServer  # the test harness, only here

    server = DeviceServer()
    tmp = Path(tempfile.mkdtemp(prefix="bench-idcard-"))
    arrived: list[float] = []
    seen = 0

    def watch(stop: threading.Event) -> None:
        nonlocal seen
        while not stop.is_set():
            cards = server.cards()
            while seen < len(cards):
                arrived.append(time.monotonic())
                seen += 1
            time.sleep(0.001)

    with SimIdReader(baud=BAUD, pace=True) as sim:
        config = tmp / "agent.toml"
        config.write_text(f'name = "bench"\nhub = "{server.url}"\nstate_dir = "{tmp}/agent"\n'
                          f'kiosk = "kiosk-1"\n[id_reader]\ndevice = "{sim.path}"\n'
                          f"poll_ms = {POLL_MS}\n", encoding="utf-8")
        agent = subprocess.Popen([sys.executable, "-m", "hub.cli", "agent", "--config",
                                  str(config)], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL,
                                 env={**os.environ, "ONESTOP_AGENT_TOKEN": "bench"})
        stop = threading.Event()
        threading.Thread(target=watch, args=(stop,), daemon=True).start()
        try:
            deadline = time.monotonic() + 20
            while "online" not in server.reader_health():
                if time.monotonic() > deadline:
                    raise RuntimeError("the agent's reader did not come online")
                time.sleep(0.05)
            times = placings(sim, count, arrived, stop)
        finally:
            stop.set()
            agent.terminate()
            agent.wait(10)
            server.close()
    return {"placed_to_hub": summarize_ms(times), "raw_s": times}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=["reader", "agent"])
    ap.add_argument("--placings", type=int, default=20)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    result: dict[str, Any] = {"baud": BAUD, "poll_ms": POLL_MS, "reader_read_s": READ_S,
                              "one_read_on_the_wire": wire_s()}
    if args.only in (None, "reader"):
        result["reader"] = bench_reader(args.placings)
    if args.only in (None, "agent"):
        result["agent"] = bench_agent(args.placings)
    shown = {k: ({kk: vv for kk, vv in v.items() if kk != "raw_s"} if isinstance(v, dict)
                 else v) for k, v in result.items()}
    print(json.dumps(shown, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
