"""Where the hub's memory goes with the citizens' phones connected (benchmarks/README.md,
"Citizens' phones": the finding on a connected phone's memory).

    .venv/bin/python benchmarks/citizen_memory.py                 # 2,000 phones
    .venv/bin/python benchmarks/citizen_memory.py --trace         # and a tracemalloc diff

benchmarks/citizen.py's hub, tickets and phones, with the hub started through this file
(`--hub`: hub_as_deployed.py's launcher plus a SIGUSR1 handler). Each signal writes to --out:
object counts by type and the number of greenlets (`dumpN.json`), RSS and `mallinfo2`,
anonymous/heap/file RSS from /proc/self/smaps, pymalloc's statistics (`pymallocN.txt`) and, with
--trace, a tracemalloc snapshot (`snapN.pickle`; tracing starts at the first signal, so the
second snapshot holds only what the phones added). Signal 1: the tickets issued, no phones;
signal 2: every phone connected. Prints the comparison. With --trace the RSS figures include
tracemalloc's own bookkeeping: read RSS from a run without it.
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import gc
import json
import os
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_ENV = "ONESTOP_MEMORY_OUT"
TRACE_ENV = "ONESTOP_MEMORY_TRACE"


# --- in the hub ---------------------------------------------------------------------------


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ["arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                 "uordblks", "fordblks", "keepcost"]]


def rss_by_kind() -> dict[str, int]:
    """Resident KiB by mapping: [heap], [anon], or the mapped file."""
    out: collections.Counter = collections.Counter()
    name = ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        parts = line.split()
        if parts and "-" in parts[0] and not parts[0].endswith(":"):
            name = parts[5] if len(parts) > 5 else "[anon]"
        elif parts and parts[0] == "Rss:":
            out[name] += int(parts[1])
    return dict(out.most_common(8))


def dump(out: Path, number: int) -> None:
    import tracemalloc

    import greenlet

    gc.collect()
    objects = gc.get_objects()
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    facts = {
        "greenlets": sum(1 for o in objects if isinstance(o, greenlet.greenlet) and o),
        "types": collections.Counter(f"{type(o).__module__}.{type(o).__qualname__}"
                                     for o in objects).most_common(60),
        "status": {k: v.strip() for k, _, v in (line.partition(":") for line in
                   Path("/proc/self/status").read_text().splitlines()) if k.startswith("Vm")},
        "mallinfo2": {name: getattr(info, name) for name, _ in MallInfo2._fields_},
        "rss_kib_by_mapping": rss_by_kind(),
    }
    del objects
    (out / f"dump{number}.json").write_text(json.dumps(facts))
    saved = os.dup(2)
    with open(out / f"pymalloc{number}.txt", "w") as stats:
        os.dup2(stats.fileno(), 2)
        sys._debugmallocstats()
        os.dup2(saved, 2)
    os.close(saved)
    if tracemalloc.is_tracing():
        tracemalloc.take_snapshot().dump(str(out / f"snap{number}.pickle"))
    elif os.environ.get(TRACE_ENV) == "1":
        tracemalloc.start(15)
    (out / f"done{number}").write_text("")


def run_hub() -> None:
    """hub_as_deployed.py, with the signal handler."""
    out = Path(os.environ[OUT_ENV])
    count = [0]

    def on_signal(signum: int, frame: object) -> None:
        count[0] += 1
        dump(out, count[0])

    signal.signal(signal.SIGUSR1, on_signal)
    sys.argv = [str(ROOT / "benchmarks" / "hub_as_deployed.py"), *sys.argv[2:]]
    import runpy

    runpy.run_path(sys.argv[0], run_name="__main__")


# --- the driver ---------------------------------------------------------------------------


def measure(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    from benchmarks import citizen
    from benchmarks.common import HALL_BENCH, BenchHub, data_dir

    class ProbedHub(BenchHub):
        def command(self, *hub_args: str) -> list[str]:
            return [sys.executable, __file__, "--hub", *hub_args]

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        old.unlink()
    os.environ[OUT_ENV] = str(out)
    os.environ[TRACE_ENV] = "1" if args.trace else "0"
    with data_dir(prefix="citizen-memory-") as data:
        hall = data / "hall-citizen.toml"
        hall.write_text(HALL_BENCH.read_text(encoding="utf-8") + citizen.LIMITS,
                        encoding="utf-8")
        hub = ProbedHub(data / "hub", config=hall, extra_args=["--sync", "full"])
        hub.provision()
        hub.start(60)
        try:
            tickets = citizen.issue(hub, args.phones)
            signal_and_wait(hub, out, 1)
            workers = citizen.start_workers(hub.url, tickets, args.procs)
            time.sleep(2)
            signal_and_wait(hub, out, 2)
            citizen.collect(workers, tickets, args.procs)
        finally:
            hub.stop()
    report(out, args.phones)


def signal_and_wait(hub, out: Path, number: int) -> None:
    hub.proc.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 120
    while not (out / f"done{number}").exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no dump {number} from the hub: {hub.log()[-2000:]}")
        time.sleep(0.1)


def report(out: Path, phones: int) -> None:
    before, after = (json.loads((out / f"dump{n}.json").read_text()) for n in (1, 2))
    rss = [int(d["status"]["VmRSS"].split()[0]) / 1024 for d in (before, after)]
    print(f"VmRSS {rss[0]:.1f} -> {rss[1]:.1f} MiB: {(rss[1] - rss[0]) * 1024 / phones:.1f} "
          f"KiB a phone")
    print(f"greenlets {before['greenlets']} -> {after['greenlets']}")
    mapped = {k: (before["rss_kib_by_mapping"].get(k, 0), v)
              for k, v in after["rss_kib_by_mapping"].items()}
    print("RSS KiB by mapping:", mapped)
    arena = [d["mallinfo2"]["arena"] / 2**20 for d in (before, after)]
    print(f"glibc main arena {arena[0]:.1f} -> {arena[1]:.1f} MiB")
    counts = dict(map(tuple, before["types"]))
    grown = sorted(((n - counts.get(t, 0), t) for t, n in after["types"]), reverse=True)
    print("objects added, by type:", [(t, n) for n, t in grown[:25]])
    snapshot = out / "snap2.pickle"
    if snapshot.exists():
        import tracemalloc

        stats = tracemalloc.Snapshot.load(str(snapshot)).statistics("lineno")
        print(f"traced since the first signal: {sum(s.size for s in stats) / 2**20:.1f} MiB")
        for stat in stats[:25]:
            print(f"  {stat.size / 1024:9.0f} KiB {stat.count:7d}  {stat.traceback[0]}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--hub":
        run_hub()
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=2000)
    parser.add_argument("--procs", type=int, default=4)
    parser.add_argument("--trace", action="store_true", help="also a tracemalloc diff")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "citizen-memory"))
    main_args = parser.parse_args()
    measure(main_args)


if __name__ == "__main__":
    main()
