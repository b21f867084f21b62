"""`identity rotate-key`: a new id key for 刷身份证取号 (DATA/id.key), the current one kept as
the previous (hub/service/identity.py). A running hub picks it up at the next card."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_commands(sub: argparse._SubParsersAction) -> None:
    ident = sub.add_parser("identity", help="the citizen's ID card at the kiosk").add_subparsers(
        required=True, metavar="ACTION")
    rotate = ident.add_parser(
        "rotate-key", help="make a new id key (DATA/id.key, 0600); the current one stays "
        "usable as the previous key until the next rotation (copy both to the other hub of a "
        "pair)")
    rotate.add_argument("--data", default="var", help="data directory (default ./var)")
    rotate.set_defaults(func=cmd_identity_rotate_key)


def cmd_identity_rotate_key(args: argparse.Namespace) -> int:
    from hub.service.identity import KEY_FILE, PREVIOUS_SUFFIX, rotate_id_key

    data = Path(args.data)
    rotate_id_key(data)
    print(f"made a new id key {data / KEY_FILE}; the one before is {KEY_FILE}{PREVIOUS_SUFFIX} "
          "(copy both to the other hub of a pair)")
    return 0
