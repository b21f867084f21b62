"""Serial bus benchmark: one poll cycle of 32 simulated window devices on one RS-485 bus.

    .venv/bin/python benchmarks/devices_bus.py                  # 9600 and 115200 baud
    .venv/bin/python benchmarks/devices_bus.py --baud 9600 --cycles 5

The simulator (`python -m devices.sim --pace`) runs as its own process on a pty and paces its
replies at the baud rate: a reply starts only after the request would have finished on a real
wire plus t3.5, and its bytes come out at 10 bits per character (8N1). A poll is function 04,
3 registers: 8 bytes out, 11 back. The wire-time limit of one cycle is therefore

    32 x ((8 + 11) x 10 / baud + 2 x t3.5),   t3.5 = 3.5 chars (fixed 1.75 ms above 19200)

and the ratio measured / limit says how much our master (driver, master, transport, Python
and the pty) adds to the wire. The same cycle is then run with pymodbus's synchronous
`ModbusSerialClient` against the same simulator. The simulator also counts requests that
arrived less than 0.9 x t3.5 after its last reply byte (`gap violations`): a master that does
that would collide on a real bus.

Prints Markdown table rows (benchmark, setting, measured, target, verdict) and a JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from devices import modbus as mb  # noqa: E402 - needs the repo root on sys.path
from devices import regmap as rm  # noqa: E402
from devices.bus import Bus  # noqa: E402
from devices.keypad import CallerKeypad, RatingKeypad  # noqa: E402
from devices.led import LedDisplay  # noqa: E402
from devices.master import ModbusMaster  # noqa: E402
from devices.transport import SerialTransport  # noqa: E402

DEVICES = 32
TARGET_RATIO = 1.3
KINDS = ("rating", "caller", "led")


def wire_limit_s(baud: int, devices: int = DEVICES) -> float:
    request = mb.encode_request(mb.read_request(1, mb.FC_READ_INPUT, rm.POLL_START,
                                                rm.POLL_COUNT))
    reply_len = mb.expected_response_length(mb.read_request(1, mb.FC_READ_INPUT, 0,
                                                            rm.POLL_COUNT))
    per_device = mb.frame_time_s(len(request) + reply_len, baud) + 2 * mb.frame_gap_s(baud)
    return devices * per_device


class SimProcess:
    """`python -m devices.sim` as a subprocess, with a line channel for `stats`."""

    def __init__(self, baud: int, link: str, devices: int = DEVICES) -> None:
        by_kind: dict[str, list[str]] = {k: [] for k in KINDS}
        for address in range(1, devices + 1):
            by_kind[KINDS[(address - 1) % 3]].append(str(address))
        cmd = [sys.executable, "-m", "devices.sim", "--pace", "--baud", str(baud),
               "--link", link] + [x for k in KINDS for x in (f"--{k}", ",".join(by_kind[k]))]
        self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True,
                                     env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 20
        while not os.path.exists(link):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("simulator did not start")
            time.sleep(0.02)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def stats(self) -> dict[str, int]:
        while not self.lines.empty():
            self.lines.get_nowait()
        assert self.proc.stdin is not None
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            line = self.lines.get(timeout=10)
            if "requests=" in line:
                return {k: int(v) for k, v in (kv.split("=") for kv in line.split())}
        raise RuntimeError("no stats from the simulator")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


CPU: dict[str, float] = {}  # master-process CPU % of the last time_cycles run


def time_cycles(cycle: Callable[[], object], cycles: int) -> list[float]:
    times = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(cycles):
        t = time.perf_counter()
        cycle()
        times.append(time.perf_counter() - t)
    CPU["pct"] = 100 * (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    return times


def ours(link: str, baud: int, cycles: int) -> list[float]:
    master = ModbusMaster(SerialTransport(link, baud))
    master.open()
    kinds = {"rating": RatingKeypad, "caller": CallerKeypad, "led": LedDisplay}
    devices = [kinds[KINDS[(a - 1) % 3]](master, a) for a in range(1, DEVICES + 1)]
    bus = Bus(master, devices)
    try:
        bus.poll_cycle()  # first contact: identity reads, not part of the steady cycle
        failures = master.stats["timeouts"] + master.stats["protocol_errors"]
        if failures:
            raise RuntimeError(f"{failures} failed transactions in the warm-up cycle")
        return time_cycles(bus.poll_cycle, cycles)
    finally:
        master.close()


def pymodbus_cycle(link: str, baud: int, cycles: int) -> tuple[list[float], str]:
    import pymodbus
    from pymodbus.client import ModbusSerialClient

    client = ModbusSerialClient(port=link, baudrate=baud, timeout=1, retries=0)
    if not client.connect():
        raise RuntimeError("pymodbus could not open the port")

    def cycle() -> None:
        for address in range(1, DEVICES + 1):
            result = client.read_input_registers(rm.POLL_START, count=rm.POLL_COUNT,
                                                 device_id=address)
            if result.isError():
                raise RuntimeError(f"pymodbus: {result}")

    try:
        cycle()
        return time_cycles(cycle, cycles), pymodbus.__version__
    finally:
        client.close()


def run(baud: int, cycles: int) -> dict:
    limit = wire_limit_s(baud)
    with tempfile.TemporaryDirectory(prefix="onestop-bench-bus-") as tmp:
        sim = SimProcess(baud, os.path.join(tmp, "ttyBUS"))
        try:
            before = sim.stats()
            our_times = ours(os.path.join(tmp, "ttyBUS"), baud, cycles)
            our_cpu = CPU["pct"]
            middle = sim.stats()
            py_times, py_version = pymodbus_cycle(os.path.join(tmp, "ttyBUS"), baud, cycles)
            py_cpu = CPU["pct"]
            after = sim.stats()
        finally:
            sim.stop()

    def summary(times: list[float], s0: dict, s1: dict, cpu: float) -> dict:
        median = statistics.median(times)
        return {"median_s": round(median, 4), "min_s": round(min(times), 4),
                "cpu_pct": round(cpu, 1),
                "max_s": round(max(times), 4), "ratio": round(median / limit, 3),
                "gap_violations": s1.get("gap_violations", 0) - s0.get("gap_violations", 0),
                "requests": s1.get("requests", 0) - s0.get("requests", 0)}

    return {"bench": "serial_bus", "baud": baud, "devices": DEVICES, "cycles": cycles,
            "wire_limit_s": round(limit, 4), "ours": summary(our_times, before, middle, our_cpu),
            "pymodbus": summary(py_times, middle, after, py_cpu), "pymodbus_version": py_version}


def rows(result: dict) -> list[tuple[str, str, str, str, str]]:
    setting = (f"{result['devices']} devices, {result['baud']} baud, paced sim, "
               f"{result['cycles']} cycles")
    out = []
    for who in ("ours", "pymodbus"):
        r = result[who]
        name = "our master" if who == "ours" else f"pymodbus {result['pymodbus_version']} sync"
        measured = (f"{name}: cycle {r['median_s'] * 1000:.0f} ms (min {r['min_s'] * 1000:.0f},"
                    f" max {r['max_s'] * 1000:.0f}) = {r['ratio']:.2f}× wire "
                    f"{result['wire_limit_s'] * 1000:.0f} ms; master CPU {r['cpu_pct']:.0f}%; "
                    f"gap violations {r['gap_violations']}")
        if who == "ours":
            ok = r["ratio"] <= TARGET_RATIO and r["gap_violations"] == 0
            out.append(("serial bus poll", setting, measured, "≤ 1.3× wire",
                        "met" if ok else "**not met**"))
        else:
            out.append(("serial bus poll", setting, measured, "(comparison)", ""))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baud", type=int, action="append", help="9600 and 115200 by default")
    p.add_argument("--cycles", type=int, default=0,
                   help="cycles per measurement (default: 8 at 9600, 40 at 115200)")
    args = p.parse_args(argv)
    print("| benchmark | setting | measured | target | verdict |\n|---|---|---|---|---|",
          flush=True)
    results = []
    for baud in args.baud or [9600, 115200]:
        cycles = args.cycles or (8 if baud <= 19200 else 40)
        result = run(baud, cycles)
        results.append(result)
        for row in rows(result):
            print("| " + " | ".join(row) + " |", flush=True)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
