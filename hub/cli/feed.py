"""`forward` and `events`: the feed of the hall's events to the supervision backend."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import AbstractContextManager

from .common import data_arg


def add_commands(sub: argparse._SubParsersAction) -> None:
    """`forward` (the feed to the supervision backend, its own process) and `events`."""
    forward = sub.add_parser("forward", help="forward the hall's events to the supervision "
                             "backend ([backend] in the hall file), until SIGTERM")
    forward.add_argument("--config", required=True, help="hall TOML file")
    data_arg(forward)
    forward.set_defaults(func=cmd_forward)
    events = sub.add_parser("events", help="the events feed: dead letters").add_subparsers(
        required=True, metavar="ACTION"
    )
    dead = events.add_parser("dead", help="list the events the backend refused")
    dead.add_argument("--all", action="store_true", help="also those already replayed")
    data_arg(dead)
    dead.set_defaults(func=cmd_events_dead)
    replay = events.add_parser("replay", help="send dead letters to the backend again now")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--seq", type=int, action="append", help="this event (repeatable)")
    which.add_argument("--all", action="store_true", help="every dead letter not replayed")
    replay.add_argument("--config", required=True, help="hall TOML file")
    data_arg(replay)
    replay.set_defaults(func=cmd_events_replay)


def _forwarder(args: argparse.Namespace):
    """A Forwarder over the data directory, or None when the hall file has no backend url."""
    from hub.config import load_config
    from hub.forwarder import Forwarder
    from hub.runtime import open_database

    cfg = load_config(args.config)
    if not cfg.backend.url:
        return None
    # NORMAL: the cursor's commit does not wait for fsync, so it never holds the write lock
    # the hub needs for long; a cursor lost on power loss only re-sends (at least once).
    return Forwarder(open_database(args.data, "NORMAL", url=args.db), cfg.backend,
                     cfg.event_source, cfg.zone, clock=args.clock)


def cmd_forward(args: argparse.Namespace) -> int:
    import signal

    from hub.forwarder import single_instance

    lock: AbstractContextManager[object] = single_instance(args.data)
    if args.db:  # PostgreSQL: forwarders on several hosts; the advisory lock's holder delivers
        from hub.store.postgres import session_lock

        lock = session_lock(args.db)
    with lock:
        forwarder = _forwarder(args)
        if forwarder is None:
            print(f"onestop: {args.config} has no [backend] url: nothing to forward",
                  file=sys.stderr)
            return 0
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: forwarder.stop.set())
        # Below the hub on the CPU: on a 2-core Pi a backlog's encoding must not take a core
        # a clerk's call-next is waiting for. The feed can be a second late; the hall cannot.
        os.nice(10)
        forwarder.run()
    return 0


def cmd_events_dead(args: argparse.Namespace) -> int:
    from hub.runtime import open_database
    from hub.store.forwarding import Outbox

    letters = Outbox(open_database(args.data, url=args.db)).dead_letters(include_replayed=args.all)
    for d in letters:
        replayed = f" replayed {d['replayed_at']}" if d["replayed_at"] else ""
        print(f"{d['seq']:>8} {d['type']:<24} {d['status_code']} {d['failed_at']} "
              f"{d['event_id']}{replayed}\n         {d['response'][:200]!r}")
    print(f"{len(letters)} dead letter(s)", file=sys.stderr)
    return 0


def cmd_events_replay(args: argparse.Namespace) -> int:
    forwarder = _forwarder(args)
    if forwarder is None:
        raise ValueError(f"{args.config} has no [backend] url to replay to")
    delivered, failed = forwarder.replay(None if args.all else args.seq)
    print(f"replayed {delivered} event(s), {failed} still refused or undelivered")
    return 1 if failed else 0
