"""`audit verify`, `show`, `export`, `archive` and `verify-archive`: the staff audit log."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import sys
from pathlib import Path

from .common import EXAMPLE_CONFIG, data_arg, existing_database


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
    _add_retention_commands(audit)


def _add_retention_commands(audit: argparse._SubParsersAction) -> None:
    export = audit.add_parser("export", help="the records of a range of days, with their hashes "
                              "(for the supervision office)")
    export.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD")
    export.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD",
                        help="the last day, included (days of the hall's time zone)")
    export.add_argument("--format", choices=("jsonl", "csv"), default=None,
                        help="default: csv for an --out ending in .csv, else jsonl")
    export.add_argument("--out", default=None, metavar="FILE", help="default: standard output")
    export.add_argument("--config", default=str(EXAMPLE_CONFIG), help="hall TOML file")
    data_arg(export)
    export.set_defaults(func=cmd_audit_export)
    archive = audit.add_parser("archive", help="move records past [audit] retention_days to "
                               "signed archive files (the hub runs this daily)")
    archive.add_argument("--config", default=str(EXAMPLE_CONFIG), help="hall TOML file")
    data_arg(archive)
    archive.set_defaults(func=cmd_audit_archive)
    check = audit.add_parser("verify-archive", help="check an archive file's signature and "
                             "chain; exit 1 if either fails")
    check.add_argument("file")
    check.add_argument("--key", default=None, metavar="FILE",
                       help="the hall's archive key (default: [audit] key_file of --config, "
                       "in --data)")
    check.add_argument("--config", default=str(EXAMPLE_CONFIG), help="hall TOML file")
    data_arg(check)
    check.set_defaults(func=cmd_audit_verify_archive)


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


def archive_paths(cfg, data: str) -> tuple[Path, Path]:
    """The archive directory and key file of `cfg` ([audit]), relative ones in `data`."""
    return Path(data) / cfg.audit.archive_dir, Path(data) / cfg.audit.key_file


def cmd_audit_export(args: argparse.Namespace) -> int:
    from hub.config import load_config
    from hub.store.audit import AuditLog, export_lines

    cfg = load_config(args.config)
    first, last = dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end)
    if last < first:
        raise ValueError("--to is before --from")
    start = dt.datetime.combine(first, dt.time(), tzinfo=cfg.zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=cfg.zone)
    fmt = args.format or ("csv" if (args.out or "").lower().endswith(".csv") else "jsonl")
    records = AuditLog(existing_database(args)).between(start, end)
    count = 0

    def counted():
        nonlocal count
        for record in records:
            count += 1
            yield record

    with contextlib.ExitStack() as stack:
        out = stack.enter_context(open(args.out, "w", encoding="utf-8", newline="")) \
            if args.out else sys.stdout
        out.writelines(export_lines(counted(), fmt))
    print(f"{count} record(s) from {first} to {last}", file=sys.stderr)
    return 0


def cmd_audit_archive(args: argparse.Namespace) -> int:
    from hub.config import load_config
    from hub.store.audit_archive import ArchiveError, archive_old

    cfg = load_config(args.config)
    directory, key = archive_paths(cfg, args.data)
    try:
        done = archive_old(existing_database(args), directory, key, cfg.audit.retention_days,
                           args.clock(), cfg.event_source)
    except ArchiveError as err:
        print(f"audit archive FAILED, nothing more deleted: {err}", file=sys.stderr)
        return 1
    for archived in done:
        print(f"archived records {archived.first_seq}-{archived.last_seq} to {archived.path}")
    if not done:  # logged, not printed: the hub runs this daily, quietly (--log-level)
        logging.getLogger("onestop").info("no audit record older than %d days",
                                          cfg.audit.retention_days)
    return 0


def cmd_audit_verify_archive(args: argparse.Namespace) -> int:
    from hub.config import load_config
    from hub.store.audit_archive import ArchiveError, load_key, verify_archive

    key_path = Path(args.key) if args.key else archive_paths(load_config(args.config),
                                                             args.data)[1]
    try:
        key = load_key(key_path)
    except ArchiveError as err:
        print(f"cannot check {args.file}: {err}", file=sys.stderr)
        return 2
    result = verify_archive(Path(args.file).read_bytes(), key)
    if not result.ok:
        print(f"audit archive BROKEN: {args.file}: {result.problem}")
        return 1
    h = result.header
    print(f"audit archive intact: records {h['first_seq']}-{h['last_seq']} "
          f"({h['records']}), signature good, last hash {h['last_hash']}")
    return 0
