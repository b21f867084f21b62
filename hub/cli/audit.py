"""`audit verify` and `audit show`: the staff audit log."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from .common import data_arg, existing_database


def add_commands(sub: argparse._SubParsersAction) -> None:
    """`audit verify` and `audit show`: the staff audit log (docs/audit.md)."""
    audit = sub.add_parser("audit", help="the staff audit log").add_subparsers(
        required=True, metavar="ACTION"
    )
    verify = audit.add_parser("verify", help="recompute the hash chain; exit 1 if broken")
    verify.add_argument("--expect-head", default=None, metavar="HASH",
                        help="a head hash noted earlier: it must still be in the chain")
    data_arg(verify)
    verify.set_defaults(func=cmd_audit_verify)
    show = audit.add_parser("show", help="print audit records, oldest first")
    show.add_argument("--account", default=None)
    show.add_argument("--since", default=None, metavar="YYYY-MM-DD",
                      help="from this day's midnight, in this machine's time zone")
    show.add_argument("--limit", type=int, default=100, help="the latest N records (100)")
    data_arg(show)
    show.set_defaults(func=cmd_audit_show)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from hub.store.audit import verify

    result = verify(existing_database(args), args.expect_head)
    if result.ok:
        print(f"audit chain intact: {result.checked} records, head {result.head}")
        return 0
    where = f"at seq {result.first_bad_seq}" if result.first_bad_seq is not None else "at the end"
    print(f"audit chain BROKEN {where}: {result.problem} ({result.checked} records good "
          f"before it, last good hash {result.head})")
    return 1


def cmd_audit_show(args: argparse.Namespace) -> int:
    import json

    from hub.store.audit import AuditLog

    since = None
    if args.since:
        since = dt.datetime.combine(dt.date.fromisoformat(args.since), dt.time()).astimezone()
    if args.limit < 1:
        raise ValueError("--limit must be at least 1")
    records = AuditLog(existing_database(args)).records(args.account, since, args.limit)
    for r in records:
        window = "-" if r["window_no"] is None else str(r["window_no"])
        print(f"{r['seq']:>7} {r['at']} {r['account']:<14} {r['role'] or '-':<10} "
              f"w{window:<3} {r['addr'] or '-':<15} {r['action']:<16} {r['outcome']:<16} "
              f"{json.dumps(r['detail'], ensure_ascii=False)} {r['event_seqs']}")
    print(f"{len(records)} record(s)", file=sys.stderr)
    return 0
