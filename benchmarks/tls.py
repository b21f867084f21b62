"""call → 200 screens over TLS against the same run over plain HTTP, in one run, and the hub's
RSS with 200 TLS sockets.

displays.py's delivery benchmark (README "call → screen delivery"), run in alternating pairs:
plain, TLS, plain, TLS, ... each on a fresh hub, the TLS hub with a certificate from
`onestop ca` (ECDSA P-256) and every client pinning the hall CA. Targets: TLS p50/p95/p99 within
1.2× of plain (the ratio of the medians of each percentile over the pairs), and VmRSS with the
200 TLS sockets connected ≤ 100 MB.

    .venv/bin/python benchmarks/tls.py [--pairs 2] [--client raw] [--screens 200] [--calls 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BENCH_DIR.parent))

import displays  # noqa: E402
from common import OUT_DIR  # noqa: E402

from tests.hubproc import make_tls  # noqa: E402

PERCENTILES = ("p50_ms", "p95_ms", "p99_ms")
RATIO_TARGET = 1.2
RSS_TARGET_MB = 100.0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=int, default=2, help="plain + TLS runs, alternating (2)")
    p.add_argument("--client", choices=["raw", "socketio"], default="raw")
    p.add_argument("--screens", type=int, default=200)
    p.add_argument("--procs", type=int, default=4)
    p.add_argument("--calls", type=int, default=200)
    p.add_argument("--call-rate", type=float, default=10.0)
    args = p.parse_args()
    runs: dict[bool, list[list[dict]]] = {False: [], True: []}
    with tempfile.TemporaryDirectory(prefix="onestop-tls-bench-") as tmp:
        tls = make_tls(Path(tmp))
        for i in range(args.pairs):
            for secure in (False, True):
                got = displays.run(args.screens, args.procs, args.calls, args.call_rate,
                                   args.client, tls=tls if secure else None)
                runs[secure].append(got)
                d, r = got
                print(f"pair {i + 1} {'TLS  ' if secure else 'plain'}: delivered "
                      f"{d['delivered']}/{d['expected']}, p50 {d['p50_ms']} p95 {d['p95_ms']} "
                      f"p99 {d['p99_ms']} ms, hub CPU {d['hub_cpu_pct']} %, RSS connected "
                      f"{r['connected_mb']} MB, after calls {r['after_calls_mb']} MB",
                      flush=True)
    summary = summarize(runs)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / "tls-latest.json"
    out.write_text(json.dumps({"runs": {str(k): v for k, v in runs.items()}, **summary},
                              indent=1), encoding="utf-8")
    print(json.dumps(summary, indent=1))
    return 0


def summarize(runs: dict[bool, list[list[dict]]]) -> dict:
    median = {secure: {q: statistics.median(d[q] for d, _ in pairs) for q in PERCENTILES}
              for secure, pairs in runs.items()}
    ratio = {q: round(median[True][q] / median[False][q], 2) for q in PERCENTILES}
    rss = max(r["connected_mb"] for _, r in runs[True])
    complete = all(d["delivered"] == d["expected"] for pairs in runs.values() for d, _ in pairs)
    return {"median_ms": {"plain": median[False], "tls": median[True]}, "ratio": ratio,
            "ratio_met": all(v <= RATIO_TARGET for v in ratio.values()),
            "tls_rss_connected_mb": rss, "tls_rss_after_calls_mb":
            max(r["after_calls_mb"] for _, r in runs[True]),
            "rss_met": rss <= RSS_TARGET_MB, "all_delivered": complete}


if __name__ == "__main__":
    sys.exit(main())
