"""Shared pieces of the benchmarks: the hub under test, percentiles, /proc readings, the machine.

The hub always runs as `onestop hub` does in a hall: its own process (started by the test
harness tests/hubproc.py), eventlet, SQLite on the disk of the data directory.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
OUT_DIR = BENCH_DIR / "out"
HALL_BENCH = BENCH_DIR / "hall-bench.toml"
SERVICES = [f"S{i:02d}" for i in range(1, 21)]  # the 20 items of hall-bench.toml
QUOTA = 999 * len(SERVICES)  # tickets one benchmark hub can issue in a day

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.hubproc import HubProcess  # noqa: E402 - needs the repository root on sys.path


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


@contextmanager
def running_hub(data: Path, sync: str = "full", provision: bool = True,
                config: Path = HALL_BENCH) -> Iterator[HubProcess]:
    """A provisioned hub subprocess on the benchmark hall; stopped on exit, whatever happens."""
    hub = HubProcess(data, config=config, extra_args=["--sync", sync])
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
