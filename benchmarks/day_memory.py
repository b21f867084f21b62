"""What a hub holds per ticket of the day: a hall day played through the real service layer
in this process (SQLite in a temporary directory, the example hall, a simulated clock), the
Python heap measured with tracemalloc after `--small` and after `--tickets` tickets, and a hub
opened again on the same store (the restart's load path). Each ticket is issued at the kiosk,
called, finished (承诺件 for items with a time limit) and rated at the window's keypad.

    .venv/bin/python benchmarks/day_memory.py [--tickets 3000] [--small 300] [--top 15]
    .venv/bin/python benchmarks/day_memory.py --rss

The first form traces (tracemalloc: what was allocated where, and held; its own bookkeeping
inflates RSS); `--rss` does not, and prints the RSS (and SQLite's own heap) every 300 tickets,
then the RSS of a process of its own that opens the same store (a restart). The hub sets glibc's
big-block threshold at start (hub/main.py `keep_heap_small`); run with
`MALLOC_MMAP_THRESHOLD_=131072` in the environment to measure as the hub runs.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as dt
import gc
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.auth import Principal, Role
from hub.config import load_config
from hub.device_desk import DeviceDesk
from hub.engine.model.state import Clerk
from hub.service import HallService
from hub.store.database import Database

ROOT = Path(__file__).resolve().parents[1]
ZONE = ZoneInfo("Asia/Shanghai")
KIOSK = Principal(role=Role.KIOSK, name="k")
AGENT = Principal(role=Role.AGENT, name="agent-1")


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def sqlite_kib() -> int:
    """What SQLite's own allocator holds (its page cache above all), in KiB; -1 if unknown."""
    try:
        lib = ctypes.CDLL(sqlite3_lib())
        cur, high = ctypes.c_int64(), ctypes.c_int64()
        lib.sqlite3_status64(0, ctypes.byref(cur), ctypes.byref(high), 0)  # MEMORY_USED
        return cur.value // 1024
    except (OSError, AttributeError):
        return -1


def sqlite3_lib() -> str:
    import _sqlite3

    for line in Path("/proc/self/maps").read_text().splitlines():
        if "libsqlite3" in line:
            return line.split()[-1]
    return _sqlite3.__file__


def traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


class Day:
    def __init__(self, data: Path) -> None:
        self.cfg = load_config(ROOT / "config" / "hall.example.toml")
        self.db = Database(data / "onestop.db")
        self.db.migrate()
        self.clock = Clock(dt.datetime(2026, 11, 24, 9, 0, tzinfo=ZONE))
        self.hall = HallService(self.cfg, self.db, clock=self.clock)
        self.desk = DeviceDesk(self.hall)
        self.windows = list(self.cfg.windows)
        self.all_windows = frozenset(w.no for w in self.windows)
        for w in self.windows:
            who = Principal(role=Role.CLERK, name=f"clerk{w.no}", window=w.no)
            person = Clerk(username=who.name, name=f"职员{w.no}", staff_no=f"JZ{w.no:03d}")
            self.hall.execute(who, lambda s, now, no=w.no, p=person:
                              self.hall.engine.sign_in(s, now, no, p))
        self.done = 0
        self.turn = 0

    def left(self, code: str) -> int:
        quota = self.cfg.service(code).daily_quota or 10**6
        return quota - self.hall.state.issued.get(code, 0)

    def ticket(self) -> None:
        i = self.done
        while True:  # round the windows, each calling its item with the most quota left
            self.turn += 1
            w = self.windows[self.turn % len(self.windows)]
            code = max(w.services, key=self.left)
            if self.left(code) > 0:
                break
        who = Principal(role=Role.CLERK, name=f"clerk{w.no}", window=w.no)
        self.clock.now += dt.timedelta(seconds=1)
        self.hall.issue_ticket(KIOSK, code)
        view = self.hall.window_action(who, w.no, "call-next", {})
        self.clock.now += dt.timedelta(seconds=1)
        service = self.cfg.service(view["current"]["service"]) if view.get("current") else None
        outcome = {}
        if service is not None and service.time_limit_days > 0:
            outcome = {"outcome": "commitment"}
        self.hall.window_action(who, w.no, "finish", outcome)
        ticket = self.hall.state.windows[w.no].rating_ticket
        if ticket is not None:
            rating = self.hall.state.tickets[ticket].rating
            assert rating is not None
            self.desk.handle_event(AGENT, self.all_windows, {
                "id": f"press-{i:08d}", "window": w.no, "kind": "rating",
                "request_id": rating.request_id, "level": 1 + i % 5})
        self.done += 1


def top(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, key: str, n: int) -> None:
    for stat in after.compare_to(before, key)[:n]:
        print(f"  {stat.size_diff / 1024:9.1f} KiB {stat.count_diff:+8d}  {stat.traceback}")


def rss_only(tickets: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        day = Day(Path(tmp))
        line = []
        while day.done < tickets:
            day.ticket()
            if day.done % 300 == 0:
                line.append(f"{day.done}: {rss_kib() / 1024:.1f} ({sqlite_kib() / 1024:.1f})")
        print("running hub, RSS MiB (SQLite's part) by tickets:", ", ".join(line))
        day.hall.db.close()
        # The restart: a process of its own opens the same store.
        subprocess.run([sys.executable, __file__, "--open", tmp, "--at", day.clock.now.isoformat()],
                       check=True)


def reopen(data: str, at: str) -> None:
    cfg = load_config(ROOT / "config" / "hall.example.toml")
    db = Database(Path(data) / "onestop.db")
    gc.collect()
    before = rss_kib()
    hall = HallService(cfg, db, clock=Clock(dt.datetime.fromisoformat(at)))
    print(f"restarted hub (a new process): RSS {before / 1024:.1f} → {rss_kib() / 1024:.1f} MiB "
          f"for {len(hall.state.tickets)} tickets", end="")
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    print(f"; {rss_kib() / 1024:.1f} MiB after gc.collect() and malloc_trim(0)")
    db.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=3000)
    ap.add_argument("--small", type=int, default=300)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--frames", type=int, default=1)
    ap.add_argument("--rss", action="store_true", help="no tracemalloc: RSS every 300 tickets")
    ap.add_argument("--open", help=argparse.SUPPRESS)  # the restart, in a process of its own
    ap.add_argument("--at", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.open:
        reopen(args.open, args.at)
        return
    if args.rss:
        rss_only(args.tickets)
        return
    tracemalloc.start(args.frames)
    with tempfile.TemporaryDirectory() as tmp:
        day = Day(Path(tmp))
        while day.done < args.small:
            day.ticket()
        small, rss_small = traced(), rss_kib()
        snap_small = tracemalloc.take_snapshot()
        while day.done < args.tickets:
            day.ticket()
        big, rss_big = traced(), rss_kib()
        snap_big = tracemalloc.take_snapshot()
        n = args.tickets - args.small
        print(f"running hub: {args.small} → {args.tickets} tickets: heap "
              f"+{(big - small) / 1024:.0f} KiB = {(big - small) / n:.0f} B/ticket; "
              f"RSS {rss_small / 1024:.1f} → "
              f"{rss_big / 1024:.1f} MiB; events {day.hall.state.seq}")
        top(snap_small, snap_big, "lineno", args.top)
        # The restart: the same store opened again, the running hub's state dropped first.
        day.hall.db.close()
        state_before = traced()
        del day.hall, day.desk
        dropped = traced()
        print(f"running hub's state and service: {(state_before - dropped) / 1024:.0f} KiB")
        snap0 = tracemalloc.take_snapshot()
        peak0 = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        db = Database(Path(tmp) / "onestop.db")
        hall = HallService(day.cfg, db, clock=day.clock)
        peak = tracemalloc.get_traced_memory()[1]
        loaded = traced()
        snap1 = tracemalloc.take_snapshot()
        print(f"restarted hub: heap +{(loaded - dropped) / 1024:.0f} KiB held, peak while loading "
              f"+{(peak - peak0) / 1024:.0f} KiB; {len(hall.state.tickets)} tickets; RSS "
              f"{rss_kib() / 1024:.1f} MiB")
        top(snap0, snap1, "lineno", args.top)
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
            print(f"after malloc_trim: RSS {rss_kib() / 1024:.1f} MiB")
        except OSError:
            pass
        db.close()


if __name__ == "__main__":
    main()
