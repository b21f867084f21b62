"""What the commands share: the data directory and database options, the example hall file,
reading a password, opening the accounts or an existing database."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

DEFAULT_DATA = "var"
REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CONFIG = REPO_ROOT / "config" / "hall.example.toml"


def data_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=DEFAULT_DATA, help="data directory (default ./var)")
    parser.add_argument(
        "--db", default=os.environ.get("ONESTOP_DB") or None, metavar="URL",
        help="postgresql://user@host/db: the store on PostgreSQL, shared by several hubs "
        "(default: SQLite in --data; env ONESTOP_DB)")


def read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Again: ") != first:
            raise ValueError("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def open_accounts(args: argparse.Namespace):
    """The accounts of the data directory, saying so when that makes a new database."""
    from hub.runtime import DB_FILE, open_database
    from hub.store.accounts import Accounts

    if not args.db and not (Path(args.data) / DB_FILE).exists():
        print(f"onestop: no database in {args.data}: creating a new one", file=sys.stderr)
    return Accounts(open_database(args.data, url=args.db))


def existing_database(args: argparse.Namespace):
    """The data directory's database; an audit command never creates an empty one."""
    from hub.runtime import DB_FILE, open_database

    if not args.db and not (Path(args.data) / DB_FILE).exists():
        raise ValueError(f"no database in {args.data}")
    return open_database(args.data, url=args.db)
