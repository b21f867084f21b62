"""Onestop hub benchmarks: ticket issue throughput, call → screen delivery, RSS, start-up time.

    .venv/bin/python benchmarks/run.py                    # everything (~3 min), default sizes
    .venv/bin/python benchmarks/run.py --only issue --duration 15 --clients 8 --rate 500
    .venv/bin/python benchmarks/run.py --only delivery --screens 200 --procs 4 --calls 200
    .venv/bin/python benchmarks/run.py --only startup --events 20000 --repeats 5
    .venv/bin/python benchmarks/run.py --quick            # small sizes: a smoke test (~1 min)

Prints Markdown table rows (benchmark, what, measured, target, verdict) and writes every number
to benchmarks/out/results-<time>.json (and latest.json). Every hub is a real `onestop hub`
subprocess on benchmarks/hall-bench.toml with a fresh data directory under benchmarks/out/data.
See benchmarks/README.md for the method and the results measured on the project's machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time

import common
from common import OUT_DIR, REPO_ROOT, machine

BENCHES = ("issue", "delivery", "rss", "startup")
TARGETS = {
    "issue_rate": 500.0,  # tickets/s
    "issue_p99_ms": 20.0,
    "delivery_p99_ms": 20.0,
    "rss_mb": 80.0,
    "startup_s": 1.5,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", action="append", choices=BENCHES,
                   help="run only this benchmark (repeatable; rss comes with delivery)")
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    g = p.add_argument_group("issue")
    g.add_argument("--sync", action="append", choices=["full", "normal"],
                   help="SQLite synchronous mode(s) to run the issue benchmark with "
                        "(default: full and normal)")
    g.add_argument("--clients", type=int, default=8, help="closed-loop connections (8)")
    g.add_argument("--duration", type=float, default=15.0, help="seconds per issue run (15)")
    g.add_argument("--rate", type=float, default=500.0, help="open-loop tickets/s (500)")
    g.add_argument("--no-wrk", action="store_true", help="skip the wrk cross-check")
    g.add_argument("--hall", choices=["bench", "example"], default="bench",
                   help="bench: hall-bench.toml, 20 items of 999 a day (the targets' runs); "
                        "example: the demo's hall, its quotas and 36 items (closed loop only)")
    g = p.add_argument_group("delivery and rss")
    g.add_argument("--screens", type=int, default=200, help="/display clients (200)")
    g.add_argument("--procs", type=int, default=4, help="client processes (4)")
    g.add_argument("--calls", type=int, default=200, help="call-next + finish rounds (200)")
    g.add_argument("--call-rate", type=float, default=10.0, help="calls per second (10)")
    g.add_argument("--client", action="append", choices=["socketio", "raw"],
                   help="display client kind (default: socketio and raw)")
    g.add_argument("--delivery-sync", choices=["full", "normal"], default="full")
    g = p.add_argument_group("startup")
    g.add_argument("--events", type=int, default=20_000, help="events in the populated dir")
    g.add_argument("--repeats", type=int, default=5, help="starts per data dir (5)")
    g = p.add_argument_group("output")
    g.add_argument("--profile", action="store_true",
                   help="sample the hub with py-spy during issue/delivery runs "
                        "(pip install py-spy); stacks go to benchmarks/out/")
    g.add_argument("--keep", action="store_true", help="keep the data directories")
    g.add_argument("--quiet-limit", type=float, default=15.0,
                   help="before each run, wait until the rest of the machine uses less CPU "
                        "than this (%% of one core; default 15)")
    g.add_argument("--quiet-wait", type=float, default=120.0,
                   help="wait at most this many seconds for that (default 120; 0: never wait)")
    g.add_argument("--pin", action="store_true",
                   help="pin the hub to CPU 0 and every load generator / client to CPU 1 "
                        "(issue and delivery runs), so clients do not preempt the hub")
    g.add_argument("--dev-venv", action="store_true",
                   help="run the hub as the dev venv imports it (aiohttp visible: ~8 MB more)")
    args = p.parse_args(argv)
    if args.quick:
        args.duration, args.calls, args.events, args.repeats = 4.0, 40, 4000, 2
    args.only = args.only or list(BENCHES)
    args.sync = args.sync or ["full", "normal"]
    args.client = args.client or ["socketio", "raw"]
    return args


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def rows_for(result: dict) -> list[tuple[str, str, str, str, str]]:
    """Markdown rows (benchmark, setting, measured, target, verdict) for one result."""
    rows = _rows_for(result)
    if result.get("pinned"):
        rows = [(b, s + "; hub pinned to CPU 0, clients to CPU 1", m, t, v)
                for b, s, m, t, v in rows]
    busy = result.get("background_cpu_pct")
    if busy is not None and busy >= common.QUIET["limit_pct"]:
        rows = [(b, s, f"{m} (**machine busy: {busy:.0f}% CPU before/after the run**)", t, v)
                for b, s, m, t, v in rows]
    return rows


def _rows_for(result: dict) -> list[tuple[str, str, str, str, str]]:
    b = result["bench"]
    if b == "issue":
        if "error" in result:
            return [("issue", f"{result['load']}, sync {result['sync']}", result["error"][:60],
                     "", "error")]
        if result["load"] == "open":
            what = f"open loop at {result['offered_per_s']:g}/s (aiohttp)"
        else:
            tool = "wrk" if result["load"] == "wrk" else "aiohttp"
            what = f"closed loop, {result['clients']} conns ({tool})"
        errors = sum(result["errors"].values()) if result["errors"] else 0
        chunks = result.get("by_thousand") or []
        trend = (f" (per 1000: {chunks[0]['tickets_per_s']:.0f}/s at {chunks[0]['tickets_before']}"
                 f" issued → {chunks[-1]['tickets_per_s']:.0f}/s at "
                 f"{chunks[-1]['tickets_before']})" if len(chunks) > 1 and result["load"] ==
                 "closed" else "")
        measured = (f"{result['tickets_per_s']:.0f}/s{trend}; p50 {result['p50_ms']:.1f} / "
                    f"p95 {result['p95_ms']:.1f} / p99 {result['p99_ms']:.1f} ms; "
                    f"hub CPU {result['hub_cpu_pct']:.0f}%" + (f"; {errors} errors" if errors
                                                               else ""))
        if result.get("hall") == "example":  # its quotas refuse by design: not the targets' run
            refused = result["errors"].get("409", 0)
            measured = measured.replace(f"; {errors} errors", "") + (
                f"; {refused / result['elapsed_s']:.0f}/s refused at a quota (409)"
                + (f"; {errors - refused} other errors" if errors - refused else ""))
            return [("issue", f"{what}, example hall, sync {result['sync']}", measured,
                     "(the targets are for hall-bench)", "—")]
        ok = (result["tickets_per_s"] >= TARGETS["issue_rate"] * 0.98
              and result["p99_ms"] <= TARGETS["issue_p99_ms"] and not errors)
        return [("issue", f"{what}, sync {result['sync']}", measured,
                 "≥ 500/s, p99 ≤ 20 ms", verdict(ok))]
    if b == "delivery":
        measured = (f"p50 {result['p50_ms']:.1f} / p95 {result['p95_ms']:.1f} / "
                    f"p99 {result['p99_ms']:.1f} ms; {result['delivered']}/{result['expected']} "
                    f"delivered; spread p50 {result['fanout_spread']['p50_ms']:.1f} ms; "
                    f"hub CPU {result['hub_cpu_pct']:.0f}%, "
                    f"clients {result['clients_cpu_pct']:.0f}%")
        ok = (result["p99_ms"] <= TARGETS["delivery_p99_ms"]
              and result["delivered"] == result["expected"])
        return [("call → screen", f"{result['screens']} {result['client']} clients in "
                 f"{result['procs']} procs, {result['calls']} calls at {result['rate_per_s']:g}/s, "
                 f"sync {result['sync']}", measured, "p99 ≤ 20 ms", verdict(ok))]
    if b == "rss":
        measured = (f"{result['connected_mb']:.1f} MB connected (idle {result['idle_mb']:.1f}, "
                    f"after calls {result['after_calls_mb']:.1f}, peak {result['peak_mb']:.1f})")
        ok = max(result["connected_mb"], result["after_calls_mb"]) <= TARGETS["rss_mb"]
        return [("hub RSS", f"{result['screens']} {result['client']} sockets", measured,
                 "≤ 80 MB", verdict(ok))]
    if b == "startup":
        what = "empty data dir" if result["data"] == "empty" else (
            f"{result['events']} events, {result['db_mb']} MB db")
        measured = (f"median {result['median_s']:.2f} s, max {result['max_s']:.2f} s "
                    f"(hub's own ready line: {result['hub_says_ready_median_s']} s)")
        return [("start-up", f"{what}, {result['repeats']} starts", measured, "≤ 1.5 s",
                 verdict(result["max_s"] <= TARGETS["startup_s"]))]
    return []


def fsync_probe(seconds: float = 2.0) -> dict:
    """fsync latency of the data disk right now (4 KiB appends), to read the issue numbers by."""
    path = OUT_DIR / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    times = []
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end and len(times) < 20_000:
            os.write(fd, b"x" * 4096)
            t = time.perf_counter()
            os.fsync(fd)
            times.append(time.perf_counter() - t)
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    return {"bench": "fsync", **common.summarize_ms(times)}


def source_state() -> dict:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=10, check=False).stdout.strip()
    commit = git("rev-parse", "--short", "HEAD")
    if not commit:  # a scratch copy (git archive): say what it was made from
        return {"commit": os.environ.get("ONESTOP_BENCH_SOURCE", "unknown"), "hub_dirty": None}
    return {"commit": commit, "hub_dirty": bool(git("status", "--porcelain", "hub"))}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.chdir(REPO_ROOT)  # the hub subprocesses import `hub` from this checkout
    common.QUIET.update(limit_pct=args.quiet_limit, max_wait_s=args.quiet_wait)
    if args.dev_venv:
        os.environ["ONESTOP_BENCH_DEV_VENV"] = "1"
    if args.pin:
        if (os.cpu_count() or 1) < 2:
            raise SystemExit("--pin needs two CPUs")
        os.environ["ONESTOP_BENCH_PIN"] = "1"
        os.sched_setaffinity(0, {1})  # this process and every client it starts
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    profile_dir = OUT_DIR if args.profile else None
    if args.profile and common.py_spy() is None:
        print("--profile: py-spy not found (.venv/bin/pip install py-spy)", file=sys.stderr)
    started = dt.datetime.now(dt.UTC)
    results: list[dict] = [fsync_probe()]
    header = ["| benchmark | setting | measured | target | verdict |", "|---|---|---|---|---|"]
    print("\n".join(header), flush=True)

    def report(new: list[dict]) -> None:
        results.extend(new)
        for r in new:
            for row in rows_for(r):
                print("| " + " | ".join(row) + " |", flush=True)

    if "issue" in args.only:
        import issue

        if args.hall == "example":
            report(issue.run_example_hall(args.sync, args.clients, args.duration, args.keep))
        else:
            report(issue.run(args.sync, args.clients, args.duration, args.rate,
                             use_wrk=not args.no_wrk, keep=args.keep, profile_dir=profile_dir))
    if "delivery" in args.only or "rss" in args.only:
        import displays

        for kind in args.client:
            profile = OUT_DIR / f"profile-delivery-{kind}.raw" if args.profile else None
            report(displays.run(args.screens, args.procs, args.calls, args.call_rate, kind,
                                args.delivery_sync, keep=args.keep, profile=profile))
    if "startup" in args.only:
        import startup

        report(startup.run(args.events, args.repeats, keep=args.keep))

    fsync = results[0]
    print(f"\nfsync on the data disk: p50 {fsync['p50_ms']:.2f} ms, p99 {fsync['p99_ms']:.2f} ms "
          f"({fsync['count']} in 2 s)")
    doc = {"started": started.isoformat(timespec="seconds"), "machine": machine(),
           "source": source_state(), "args": vars(args),
           "targets": TARGETS, "results": results}
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    for name in (f"results-{stamp}.json", "latest.json"):
        (OUT_DIR / name).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    print(f"results: {(OUT_DIR / f'results-{stamp}.json').relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
