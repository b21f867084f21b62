"""`identity rotate-key`: a new id key for 刷身份证取号 (DATA/id.key), the current one kept as
the previous (hub/service/identity.py). A running hub picks it up at the next card.

`identity forget`: a citizen's request to delete their links (个人信息保护法 art. 47) before
`[identity] link_days` run out. The ID number is read from the terminal (never the command
line, which `ps` and the shell's history show), hashed under the current and the previous key,
and every link with that hash is deleted in one transaction with an audit record of how many
(never whose)."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from .common import data_arg, existing_database


def add_commands(sub: argparse._SubParsersAction) -> None:
    ident = sub.add_parser("identity", help="the citizen's ID card at the kiosk").add_subparsers(
        required=True, metavar="ACTION")
    rotate = ident.add_parser(
        "rotate-key", help="make a new id key (DATA/id.key, 0600); the current one stays "
        "usable as the previous key until the next rotation (copy both to the other hub of a "
        "pair)")
    rotate.add_argument("--data", default="var", help="data directory (default ./var)")
    rotate.set_defaults(func=cmd_identity_rotate_key)
    forget = ident.add_parser(
        "forget", help="delete one citizen's links on their request: asks for the ID number "
        "(from the terminal, or one line on stdin), audited by count")
    data_arg(forget)
    forget.add_argument("--by", required=True, metavar="USERNAME",
                        help="the supervisor or admin account handling the request (audited)")
    forget.set_defaults(func=cmd_identity_forget)


def cmd_identity_rotate_key(args: argparse.Namespace) -> int:
    from hub.service.identity import KEY_FILE, PREVIOUS_SUFFIX, rotate_id_key

    data = Path(args.data)
    rotate_id_key(data)
    print(f"made a new id key {data / KEY_FILE}; the one before is {KEY_FILE}{PREVIOUS_SUFFIX} "
          "(copy both to the other hub of a pair)")
    return 0


def cmd_identity_forget(args: argparse.Namespace) -> int:
    from hub.auth import Role
    from hub.engine.persons import valid_id_number
    from hub.service.identity import KEY_FILE, load_id_keys, person_of
    from hub.store.accounts import Accounts
    from hub.store.audit import AuditEntry, AuditLog
    from hub.store.identity_links import IdentityLinks

    data = Path(args.data)
    db = existing_database(args)
    try:
        account = Accounts(db).user(args.by)
        if (account is None or not account["active"]
                or account["role"] not in (Role.SUPERVISOR, Role.ADMIN)):
            raise ValueError(f"--by {args.by}: not an active supervisor or admin account")
        number = _read_id_number()
        if not valid_id_number(number):
            raise ValueError("not a valid ID number (18 characters, the last its check digit)")
        # No key was ever made: no card was ever linked (and none is made for this). The
        # request is audited all the same: it was handled.
        keyed = (data / KEY_FILE).exists()
        persons = [person_of(key, number) for key in load_id_keys(data).all] if keyed else []
        with db.transaction() as tx:
            deleted = IdentityLinks(db).forget_person(tx, persons)
            AuditLog(db).append(tx, AuditEntry(
                at=args.clock(), account=account["username"], role=account["role"],
                action="identity-links-forgotten", detail={"links_deleted": deleted}))
    finally:
        db.close()
    if not keyed:
        print("no ID card has been linked in this hall: nothing to delete; audited as "
              "identity-links-forgotten")
        return 0
    print(f"deleted {deleted} link(s) of that ID number; audited as identity-links-forgotten "
          "(a running hub still shows today's masked name until the day ends)")
    return 0


def _read_id_number() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("ID number (not shown): ").strip().upper()
    return sys.stdin.readline().strip().upper()
