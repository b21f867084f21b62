"""`onestop`: run the hub or the demo, check a hall file, manage accounts, tokens and the database.

Heavy imports happen inside the commands: the hub must monkey-patch eventlet before anything
imports Flask or threading (see hub.main).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from . import (
    accounts,
    audit,
    ca,
    deploy,
    feed,
    hall,
    identity,
    reporting,
    run,
    simulate,
    spot_checks,
)


def main(argv: list[str] | None = None) -> int:
    from hub.children import follow_parent

    follow_parent()  # started by a demo or a hub: end with it
    parser = build_parser()
    args = parser.parse_args(argv)
    from hub.journal import configure_logging

    # Under systemd: the journal's native protocol, with fields; else stderr lines.
    command = args.func.__name__.removeprefix("cmd_").replace("_", "-")
    configure_logging(getattr(logging, args.log_level.upper()), f"onestop-{command}")
    try:
        from hub.clock import parse_clock, system_clock

        args.clock = parse_clock(args.clock)
        if args.clock is not system_clock:
            logging.getLogger("onestop").debug("running on a set clock: %r", args.clock)
        return args.func(args) or 0
    except KeyboardInterrupt:
        return 130
    except Exception as err:
        from hub.config import ConfigError

        if isinstance(err, ConfigError | ValueError | OSError):
            print(f"onestop: {err}", file=sys.stderr)
            return 2
        raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="onestop", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    parser.add_argument(
        "--clock", metavar="SPEC", default=os.environ.get("ONESTOP_CLOCK") or None,
        help="run on a set clock, for tests and trying another date: START (an ISO instant with "
        "its offset, e.g. 2031-07-14T23:59:00+08:00), optionally @UNIX_TIME when START was read "
        "(processes given one SPEC share one clock) and *RATE (runs RATE times as fast); env "
        "ONESTOP_CLOCK. A hall never sets it.")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    run.add_commands(sub)  # hub, demo, agent, sim-devices
    hall.add_commands(sub)  # check-config, reload
    accounts.add_commands(sub)
    audit.add_commands(sub)
    reporting.add_commands(sub)
    spot_checks.add_commands(sub)  # spot-check verify
    identity.add_commands(sub)  # identity rotate-key
    feed.add_commands(sub)
    deploy.add_commands(sub)
    ca.add_commands(sub)
    simulate.add_commands(sub)
    return parser
