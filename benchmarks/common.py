"""Shared pieces of the benchmarks: the hub under test, percentiles, /proc readings, the machine.

The hub always runs as `onestop hub` does in a hall: its own process (started by the test
harness tests/hubproc.py), eventlet, SQLite on the disk of the data directory.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
OUT_DIR = BENCH_DIR / "out"
HALL_BENCH = BENCH_DIR / "hall-bench.toml"
SERVICES = [f"S{i:02d}" for i in range(1, 21)]  # the 20 items of hall-bench.toml
QUOTA = 999 * len(SERVICES)  # tickets one benchmark hub can issue in a day

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.hubproc import HubProcess, free_port  # noqa: E402, F401 - needs the repo root on sys.path


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of already sorted values, nearest-rank; NaN if empty."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * q // 100))  # ceil(n*q/100), at least 1
    return sorted_values[min(len(sorted_values), int(rank)) - 1]


def summarize_ms(latencies_s: list[float]) -> dict[str, float]:
    """count, p50/p95/p99/max and mean of latencies given in seconds, in milliseconds."""
    xs = sorted(latencies_s)
    ms = 1000.0
    return {
        "count": len(xs),
        "mean_ms": round(sum(xs) / len(xs) * ms, 3) if xs else float("nan"),
        "p50_ms": round(percentile(xs, 50) * ms, 3),
        "p95_ms": round(percentile(xs, 95) * ms, 3),
        "p99_ms": round(percentile(xs, 99) * ms, 3),
        "p999_ms": round(percentile(xs, 99.9) * ms, 3),
        "max_ms": round(xs[-1] * ms, 3) if xs else float("nan"),
    }


# --- /proc ----------------------------------------------------------------------------------

def rss_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of a process, in MiB, from /proc/<pid>/status."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024, 1)  # kB -> MiB
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the hub --------------------------------------------------------------------------------

@contextmanager
def data_dir(keep: bool = False, prefix: str = "hub-") -> Iterator[Path]:
    """A fresh data directory under benchmarks/out/data (on the project's disk, not tmpfs)."""
    root = OUT_DIR / "data"
    root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


HUB_LAUNCHER = BENCH_DIR / "hub_as_deployed.py"


def hub_command(*args: str) -> list[str]:
    """The command line of `onestop hub ARGS` for this checkout, as deployed (no aiohttp) unless
    --dev-venv asked for the hub exactly as the development venv imports it."""
    if os.environ.get("ONESTOP_BENCH_DEV_VENV") == "1":  # run.py --dev-venv
        return [sys.executable, "-m", "hub.cli", *args]
    return [sys.executable, str(HUB_LAUNCHER), *args]


class BenchHub(HubProcess):
    """tests/hubproc.py's HubProcess, started through hub_command()."""

    def command(self, *args: str) -> list[str]:
        return hub_command(*args)

    def started(self) -> None:
        if os.environ.get("ONESTOP_BENCH_PIN") == "1":  # run.py --pin: the hub alone on CPU 0
            os.sched_setaffinity(self.proc.pid, {0})


@contextmanager
def running_hub(data: Path, sync: str = "full", provision: bool = True,
                config: Path = HALL_BENCH, clock: str = "",
                tls: Any = None) -> Iterator[HubProcess]:
    """A provisioned hub subprocess on the benchmark hall; stopped on exit, whatever happens.
    `clock`: the hub's `--clock` (a hall with real opening hours must be open); `tls`: a
    tests.hubproc.HallTLS to serve HTTPS with."""
    hub = BenchHub(data, config=config, extra_args=["--sync", sync], clock=clock, tls=tls)
    if provision:
        hub.provision()
    try:
        hub.start()
        yield hub
    finally:
        hub.stop()


# --- the machine ----------------------------------------------------------------------------

def machine() -> dict[str, str | int]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    fs = subprocess.run(["df", "--output=fstype", str(OUT_DIR.parent)], capture_output=True,
                        text=True, timeout=10, check=False).stdout.split()
    return {
        "nproc": os.cpu_count() or 0,
        "cpu": model,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "data_fs": fs[-1] if fs else "?",
        "mem_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
    }


def wait_until(predicate, timeout_s: float, interval_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return predicate()


# --- profiling ------------------------------------------------------------------------------

def py_spy() -> str | None:
    """py-spy from the venv or PATH (`pip install py-spy`; not a project dependency)."""
    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


@contextmanager
def profiled(pid: int, out: Path | None, rate: int = 250) -> Iterator[None]:
    """Sample the hub with py-spy (idle frames included, so blocking I/O shows) while the block
    runs; write collapsed stacks to `out` and a top-functions summary next to it."""
    exe = py_spy() if out is not None else None
    if exe is None or out is None:
        yield
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = subprocess.Popen([exe, "record", "-p", str(pid), "-r", str(rate), "--idle",
                            "--nonblocking", "-f", "raw", "-o", str(out)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)  # attached before the measured phase starts
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
        try:
            spy.wait(30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait(10)
        if out.exists():
            out.with_suffix(".top.txt").write_text(summarize_profile(out))


def summarize_profile(raw: Path, top: int = 40) -> str:
    """Share of samples per function: where the frame was (self) and anywhere on the stack."""
    own: dict[str, int] = {}
    anywhere: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for f in set(frames):
            anywhere[f] = anywhere.get(f, 0) + n
    lines = [f"{total} samples (idle included: eventlet's epoll wait is Hub.do_poll)", "",
             "self:"]
    for name, n in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"{100 * n / total:6.1f}%  {name}")
    lines += ["", "on the stack:"]
    for name, n in sorted(anywhere.items(), key=lambda kv: -kv[1])[:top * 2]:
        lines.append(f"{100 * n / total:6.1f}%  {name}")
    return "\n".join(lines) + "\n"


# --- a quiet machine ------------------------------------------------------------------------

def busy_cpu_pct(seconds: float = 1.0) -> float:
    """CPU in use by everything on the machine over `seconds` (100 = one core), from /proc/stat."""
    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields[:8]) - idle, sum(fields[:8])
    busy0, total0 = sample()
    time.sleep(seconds)
    busy1, total1 = sample()
    cores = os.cpu_count() or 1
    return round(100 * cores * (busy1 - busy0) / max(1, total1 - total0), 1)


QUIET = {"limit_pct": 15.0, "max_wait_s": 120.0}  # run.py --quiet-limit / --quiet-wait


def wait_quiet() -> float:
    """Wait (bounded) until other work on the machine uses less than QUIET["limit_pct"] CPU;
    returns the last reading, stored with each result (with a reading taken right after the
    run, the larger of the two). A benchmark on two shared cores next to
    a running test suite measures the test suite."""
    limit_pct, max_wait_s = QUIET["limit_pct"], QUIET["max_wait_s"]
    deadline = time.monotonic() + max_wait_s
    busy = busy_cpu_pct()
    while busy >= limit_pct and time.monotonic() < deadline:
        busy = busy_cpu_pct(2.0)
    return busy
