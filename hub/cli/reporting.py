"""`reports settle`: summing up closed days for the office's reports ahead of time."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys

from .common import EXAMPLE_CONFIG, data_arg, existing_database


def add_commands(sub: argparse._SubParsersAction) -> None:
    """`reports settle`: sum up closed days for the office's reports ahead of time."""
    reports_ = sub.add_parser("reports", help="the office's reports").add_subparsers(
        required=True, metavar="ACTION")
    settle = reports_.add_parser(
        "settle", help="sum every closed day up to yesterday into the report tables (after an "
        "upgrade with history: the hub then never pays for it in a request)")
    settle.add_argument("--config", default=str(EXAMPLE_CONFIG), help="hall TOML file")
    settle.add_argument("--since", default=None, metavar="YYYY-MM-DD",
                        help="the first day (default: the first day with tickets)")
    data_arg(settle)
    settle.set_defaults(func=cmd_reports_settle)


def cmd_reports_settle(args: argparse.Namespace) -> int:
    import time

    from hub import reports
    from hub.config import load_config

    cfg = load_config(args.config)
    db = existing_database(args)
    now = args.clock()
    today = now.astimezone(cfg.zone).date()
    if args.since:
        first = dt.date.fromisoformat(args.since)
    else:
        row = db.query_one("SELECT MIN(day) FROM tickets")
        if row is None or row[0] is None:
            print("no tickets yet: nothing to sum up", file=sys.stderr)
            return 0
        first = dt.date.fromisoformat(row[0])
    last = today - dt.timedelta(days=1)
    if first > last:  # logged, not printed: a starting hub runs this quietly (--log-level)
        logging.getLogger("onestop").info(
            "no closed day to sum up (the first is %s, today %s)", first, today)
        return 0
    started = time.monotonic()
    live = reports.settle(db, cfg, first, last, today, now)
    print(f"summed up {first} to {last} in {time.monotonic() - started:.1f} s; "
          f"days still open: {len(live)}")
    return 0
