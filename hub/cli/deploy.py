"""`install`, `backup` and `restore`: setting a machine up by role, and the hall's data."""

from __future__ import annotations

import argparse

from .common import data_arg


def add_commands(sub: argparse._SubParsersAction) -> None:
    """`install` (a Pi by role), `backup` and `restore` (README "Deployment by role")."""
    from hub.install import ROLES

    inst = sub.add_parser("install", help="set up this machine for a role: user, /etc/onestop, "
                          "systemd units, Debian packages")
    inst.add_argument("--role", required=True, choices=ROLES)
    inst.add_argument("--name", default="",
                      help="the agent's name (onestop-agent@NAME; default: the role)")
    inst.add_argument("--hub", default="http://hub.local:8080", help="the hub's address")
    inst.add_argument("--ca", default="", metavar="FILE",
                      help="the hall's CA (ca.pem, onestop ca init): copied to /etc/onestop, "
                      "pinned by the agent, trusted by the kiosk's or screen's Chromium")
    inst.add_argument("--root", default=None, metavar="DIR",
                      help="write under DIR and only print the commands (useradd, apt-get, ...)")
    inst.add_argument("--dry-run", action="store_true", help="write nothing, run nothing")
    inst.set_defaults(func=cmd_install)
    back = sub.add_parser("backup", help="a consistent copy of the database (SQLite, or "
                          "PostgreSQL with --db: pg_dump) and photos (.tar.gz), safe while the "
                          "hubs run")
    data_arg(back)
    back.add_argument("--to", required=True, metavar="FILE", help="the .tar.gz to write")
    back.set_defaults(func=cmd_backup)
    rest = sub.add_parser("restore", help="put a backup in place (the hubs must be stopped); "
                          "the old database is kept as .bak (with --db: a dump of it)")
    rest.add_argument("--from", dest="source", required=True, metavar="FILE")
    data_arg(rest)
    rest.set_defaults(func=cmd_restore)


def cmd_install(args: argparse.Namespace) -> int:
    from hub.install import install

    install(args.role, root=args.root, dry_run=args.dry_run, name=args.name, hub=args.hub,
            ca=args.ca)
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from hub.backup import backup

    done = backup(args.data, args.to, args.db)
    checked = "read back by pg_restore" if args.db else "integrity ok"
    print(f"{args.to}: database ({done['db_bytes']} bytes, {checked}), "
          f"{done['photos']} photo(s) and {done['audit_archives']} audit archive(s)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from hub.backup import restore

    for path in restore(args.source, args.data, args.db):
        what = "database (a pg_dump of it)" if args.db and path.is_file() and \
            path.name.startswith("onestop.pgdump") else path.name.split(".bak")[0]
        print(f"kept the old {what} as {path}")
    print(f"restored {args.source} into {args.data}")
    return 0
