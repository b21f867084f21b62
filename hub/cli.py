"""`onestop`: run the hub or the demo, check a hall file, manage accounts, tokens and the database.

Heavy imports happen inside the commands: the hub must monkey-patch eventlet before anything
imports Flask or threading (see hub.main).
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import logging
import os
import sys
from pathlib import Path

DEFAULT_DATA = "var"
REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_CONFIG = REPO_ROOT / "config" / "hall.example.toml"


def main(argv: list[str] | None = None) -> int:
    from hub.children import follow_parent

    follow_parent()  # started by a demo or a hub: end with it
    parser = build_parser()
    args = parser.parse_args(argv)
    from hub.journal import configure_logging

    # Under systemd: the journal's native protocol, with fields (issue 9); else stderr lines.
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

    hub = sub.add_parser("hub", help="run the hub")
    hub.add_argument("--config", required=True, help="hall TOML file")
    _data_arg(hub)
    hub.add_argument("--host", default="127.0.0.1")
    hub.add_argument("--port", type=int, default=8080)
    hub.add_argument("--async-mode", default="eventlet", choices=["eventlet", "threading"])
    hub.add_argument(
        "--sync",
        default="full",
        choices=["full", "normal"],
        help="SQLite synchronous mode: full survives power loss (default)",
    )
    hub.add_argument("--proxy-hops", type=int, metavar="N",
                     default=os.environ.get("ONESTOP_PROXY_HOPS") or "0",  # argparse checks it
                     help="behind N reverse proxies (nginx: 1): trust their X-Forwarded-For, so "
                          "sign-in limits and the audit log see the client, not the proxy "
                          "(env ONESTOP_PROXY_HOPS)")
    hub.add_argument("--message-queue", metavar="URL",
                     default=os.environ.get("ONESTOP_MESSAGE_QUEUE") or None,
                     help="Socket.IO message queue shared by several hubs, e.g. "
                     "redis://127.0.0.1:6379/0 (issue 9: scale-out; needs --db postgresql://; "
                     "env ONESTOP_MESSAGE_QUEUE)")
    hub.set_defaults(func=cmd_hub)

    demo = sub.add_parser("demo", help="run the whole hall on this machine with demo accounts")
    demo.add_argument("--config", default=str(EXAMPLE_CONFIG))
    demo.add_argument("--data", default=f"{DEFAULT_DATA}/demo", help="data directory")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--devices-port", type=int, default=None,
                      help="port of the simulated devices' panel (default: --port + 1)")
    demo.add_argument(
        "--real-hours",
        action="store_true",
        help="keep the config's opening hours (default: open around the clock)",
    )
    demo.set_defaults(func=cmd_demo)

    agent = sub.add_parser("agent", help="run a device agent (keypads, LED screens) for the hub")
    agent.add_argument("--config", required=True, help="agent TOML file")
    agent.set_defaults(func=cmd_agent)

    sim = sub.add_parser("sim-devices", help="simulated keypads and LED screens for every "
                         "window, driven by a real agent, with a panel to press keys")
    sim.add_argument("--config", default=str(EXAMPLE_CONFIG), help="hall TOML file")
    sim.add_argument("--hub", default="http://127.0.0.1:8080")
    sim.add_argument("--data", default=f"{DEFAULT_DATA}/sim", help="the agent's state directory")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8081, help="the panel's port")
    sim.add_argument("--kiosk", default="",
                     help="also simulate this kiosk's ticket printer (the kiosk token's name)")
    sim.set_defaults(func=cmd_sim_devices)

    check = sub.add_parser("check-config", help="validate a hall TOML file")
    check.add_argument("file")
    check.set_defaults(func=cmd_check_config)

    reload = sub.add_parser("reload", help="apply the changed hall file to the running hub "
                            "(validated, checked against today's tickets, no restart)")
    _data_arg(reload)
    reload.add_argument("--config", default=None,
                        help="the hub's hall file, to validate first (default: the one the "
                        "hub runs on, as it reports)")
    reload.add_argument("--timeout", type=float, default=5.0, help="seconds to wait (5)")
    reload.set_defaults(func=cmd_reload)

    _add_account_commands(sub)
    _add_audit_commands(sub)
    _add_report_commands(sub)
    _add_forward_commands(sub)
    _add_deploy_commands(sub)
    return parser


def _add_deploy_commands(sub: argparse._SubParsersAction) -> None:
    """`install` (a Pi by role), `backup` and `restore` (issue 9, README "Deployment by role")."""
    from hub.install import ROLES

    inst = sub.add_parser("install", help="set up this machine for a role: user, /etc/onestop, "
                          "systemd units, Debian packages")
    inst.add_argument("--role", required=True, choices=ROLES)
    inst.add_argument("--name", default="",
                      help="the agent's name (onestop-agent@NAME; default: the role)")
    inst.add_argument("--hub", default="http://hub.local:8080", help="the hub's address")
    inst.add_argument("--root", default=None, metavar="DIR",
                      help="write under DIR and only print the commands (useradd, apt-get, ...)")
    inst.add_argument("--dry-run", action="store_true", help="write nothing, run nothing")
    inst.set_defaults(func=cmd_install)
    back = sub.add_parser("backup", help="a consistent copy of the database (SQLite, or "
                          "PostgreSQL with --db: pg_dump) and photos (.tar.gz), safe while the "
                          "hubs run")
    _data_arg(back)
    back.add_argument("--to", required=True, metavar="FILE", help="the .tar.gz to write")
    back.set_defaults(func=cmd_backup)
    rest = sub.add_parser("restore", help="put a backup in place (the hubs must be stopped); "
                          "the old database is kept as .bak (with --db: a dump of it)")
    rest.add_argument("--from", dest="source", required=True, metavar="FILE")
    _data_arg(rest)
    rest.set_defaults(func=cmd_restore)


def _add_forward_commands(sub: argparse._SubParsersAction) -> None:
    """`forward` (the feed to the supervision backend, its own process) and `events`."""
    forward = sub.add_parser("forward", help="forward the hall's events to the supervision "
                             "backend ([backend] in the hall file), until SIGTERM")
    forward.add_argument("--config", required=True, help="hall TOML file")
    _data_arg(forward)
    forward.set_defaults(func=cmd_forward)
    events = sub.add_parser("events", help="the events feed: dead letters").add_subparsers(
        required=True, metavar="ACTION"
    )
    dead = events.add_parser("dead", help="list the events the backend refused")
    dead.add_argument("--all", action="store_true", help="also those already replayed")
    _data_arg(dead)
    dead.set_defaults(func=cmd_events_dead)
    replay = events.add_parser("replay", help="send dead letters to the backend again now")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--seq", type=int, action="append", help="this event (repeatable)")
    which.add_argument("--all", action="store_true", help="every dead letter not replayed")
    replay.add_argument("--config", required=True, help="hall TOML file")
    _data_arg(replay)
    replay.set_defaults(func=cmd_events_replay)


def _add_account_commands(sub: argparse._SubParsersAction) -> None:
    user = sub.add_parser("user", help="staff accounts").add_subparsers(
        required=True, metavar="ACTION"
    )
    add = user.add_parser("add", help="add a staff account (password from stdin or prompted)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["clerk", "supervisor", "admin"])
    add.add_argument("--name", default="", help="full name shown on the work badge")
    add.add_argument("--staff-no", default="", help="staff number (工号)")
    add.add_argument("--photo", default=None, help="JPEG or PNG for the work badge (art. 17)")
    _data_arg(add)
    add.set_defaults(func=cmd_user_add)
    passwd = user.add_parser("passwd", help="set a staff password (from stdin or prompted)")
    passwd.add_argument("username")
    _data_arg(passwd)
    passwd.set_defaults(func=cmd_user_passwd)
    photo = user.add_parser("photo", help="set the work-badge photo (JPEG or PNG)")
    photo.add_argument("username")
    photo.add_argument("file")
    _data_arg(photo)
    photo.set_defaults(func=cmd_user_photo)
    listing = user.add_parser("list", help="list staff accounts")
    _data_arg(listing)
    listing.set_defaults(func=cmd_user_list)

    token = sub.add_parser("token", help="device tokens").add_subparsers(
        required=True, metavar="ACTION"
    )
    tadd = token.add_parser("add", help="create a device token and print it once")
    tadd.add_argument("--role", required=True, choices=["kiosk", "screen", "agent", "metrics"])
    tadd.add_argument("--name", required=True)
    _data_arg(tadd)
    tadd.set_defaults(func=cmd_token_add)
    trevoke = token.add_parser("revoke", help="revoke every token of a device")
    trevoke.add_argument("--role", required=True,
                         choices=["kiosk", "screen", "agent", "metrics"])
    trevoke.add_argument("--name", required=True)
    _data_arg(trevoke)
    trevoke.set_defaults(func=cmd_token_revoke)

    db = sub.add_parser("db", help="database").add_subparsers(required=True, metavar="ACTION")
    migrate = db.add_parser("migrate", help="apply pending migrations")
    _data_arg(migrate)
    migrate.set_defaults(func=cmd_db_migrate)


def _add_audit_commands(sub: argparse._SubParsersAction) -> None:
    """`audit verify` and `audit show`: the staff audit log (issue 7, docs/audit.md)."""
    audit = sub.add_parser("audit", help="the staff audit log").add_subparsers(
        required=True, metavar="ACTION"
    )
    verify = audit.add_parser("verify", help="recompute the hash chain; exit 1 if broken")
    verify.add_argument("--expect-head", default=None, metavar="HASH",
                        help="a head hash noted earlier: it must still be in the chain")
    _data_arg(verify)
    verify.set_defaults(func=cmd_audit_verify)
    show = audit.add_parser("show", help="print audit records, oldest first")
    show.add_argument("--account", default=None)
    show.add_argument("--since", default=None, metavar="YYYY-MM-DD",
                      help="from this day's midnight, in this machine's time zone")
    show.add_argument("--limit", type=int, default=100, help="the latest N records (100)")
    _data_arg(show)
    show.set_defaults(func=cmd_audit_show)


def _add_report_commands(sub: argparse._SubParsersAction) -> None:
    """`reports settle`: sum up closed days for the office's reports ahead of time."""
    reports_ = sub.add_parser("reports", help="the office's reports").add_subparsers(
        required=True, metavar="ACTION")
    settle = reports_.add_parser(
        "settle", help="sum every closed day up to yesterday into the report tables (after an "
        "upgrade with history: the hub then never pays for it in a request)")
    settle.add_argument("--config", default=str(EXAMPLE_CONFIG), help="hall TOML file")
    settle.add_argument("--since", default=None, metavar="YYYY-MM-DD",
                        help="the first day (default: the first day with tickets)")
    _data_arg(settle)
    settle.set_defaults(func=cmd_reports_settle)


def _data_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=DEFAULT_DATA, help="data directory (default ./var)")
    parser.add_argument(
        "--db", default=os.environ.get("ONESTOP_DB") or None, metavar="URL",
        help="postgresql://user@host/db: the store on PostgreSQL, shared by several hubs "
        "(default: SQLite in --data; env ONESTOP_DB)")


def _read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Again: ") != first:
            raise ValueError("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def cmd_hub(args: argparse.Namespace) -> int:
    from hub.config import load_config

    cfg = load_config(args.config)  # fail fast, before the port is taken
    from hub.main import serve

    if args.message_queue and not args.db:
        raise ValueError("--message-queue is for several hubs on one --db postgresql:// store")
    from hub.hall_file import HallFile  # no Flask, no threads: fine before eventlet's patch

    serve(cfg, args.data, args.host, args.port, args.async_mode, args.sync.upper(),
          message_queue=args.message_queue, db_url=args.db,
          hall_file=HallFile(Path(args.config).resolve(), Path(args.data)),
          proxy_hops=args.proxy_hops, clock=args.clock)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from hub.config import load_config

    cfg = load_config(args.config)
    from hub.main import patch

    patch("eventlet")
    from hub.demo import around_the_clock, demo_hall_file, prepare_demo, print_welcome
    from hub.hall_file import HallFile
    from hub.main import serve

    # The admin page writes the hall file: the demo's own copy, never the repository's.
    args.config = str(demo_hall_file(args.config, args.data))
    cfg = load_config(args.config)
    hall_file = HallFile(Path(args.config).resolve(), Path(args.data))
    if not args.real_hours:
        cfg = around_the_clock(cfg)
        hall_file.adjust = around_the_clock  # a reloaded file stays open around the clock

    import signal

    from hub.children import stop_on
    from hub.main import ensure_free

    args.devices_port = args.devices_port or args.port + 1
    ensure_free(args.host, args.devices_port, "--devices-port")
    accounts = prepare_demo(cfg, args.data, args.clock())

    def ready(service: object) -> None:
        # Stopped (`kill`, a closed terminal, Ctrl-C): the devices end first, so their port
        # is free once the demo is gone. SIGHUP stops the demo rather than reloading its file
        # as a hub's does (its admin page reloads it).
        stop_on((signal.SIGTERM, signal.SIGHUP, signal.SIGINT))
        start_simulated_devices(args, accounts.tokens["agent:demo-agent"])
        print_welcome(cfg, accounts, args.host, args.port, args.devices_port, args.data)

    serve(cfg, args.data, args.host, args.port, on_ready=ready, hall_file=hall_file,
          clock=args.clock)
    return 0


def cmd_agent(args: argparse.Namespace) -> int:
    from agent.main import run

    return run(args.config, args.clock)


def cmd_sim_devices(args: argparse.Namespace) -> int:
    import os

    from agent.simulated import run
    from hub.config import load_config

    token = os.environ.get("ONESTOP_AGENT_TOKEN", "")
    if not token:
        raise ValueError("set ONESTOP_AGENT_TOKEN to a device-agent token (onestop token add)")
    windows = [w.no for w in load_config(args.config).windows]
    run(windows, args.hub, token, args.data, args.host, args.port, args.kiosk, args.clock)
    return 0


def start_simulated_devices(args: argparse.Namespace, token: str) -> None:
    """The demo's window devices, in a process of their own (serial work stays off the hub),
    which ends with the demo (hub.children)."""
    import os

    from hub import children
    from hub.clock import child_spec

    clock = ["--clock", spec] if (spec := child_spec(args.clock)) else []
    children.start(
        ["-m", "hub.cli", "--log-level", "warning", *clock, "sim-devices", "--config",
         args.config, "--hub", f"http://{args.host}:{args.port}", "--data",
         f"{args.data}/sim", "--host", args.host, "--port", str(args.devices_port),
         "--kiosk", "demo-kiosk"],
        env={**os.environ, "ONESTOP_AGENT_TOKEN": token},
    )


def cmd_reload(args: argparse.Namespace) -> int:
    """Validate the hall file here (exit 2), signal the hub (SIGHUP; exit 1 if none runs), and
    wait for its answer: /healthz reporting the new file's hash (applied), or the reason in
    DATA/reload-result.json (refused, exit 1). See hub/hall_file/."""
    import json
    import os
    import signal
    import time
    import urllib.request

    from hub.config import load_config
    from hub.hall_file import HUB_FILE, PID_FILE, RESULT_FILE, config_hash

    data = Path(args.data)
    try:
        hub = json.loads((data / HUB_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        hub = {}
    path = args.config or hub.get("config")
    if not path:
        raise ValueError(f"no hub has run on {data}: name the hall file with --config")
    load_config(path)  # an invalid file goes nowhere near the hub (exit 2)
    new_hash = config_hash(Path(path).read_bytes())
    try:
        pid = int((data / PID_FILE).read_text(encoding="ascii").split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        print(f"onestop: no hub runs on {data} (no live process in {data / PID_FILE})",
              file=sys.stderr)
        return 1
    result_file = data / RESULT_FILE
    before = result_file.stat().st_mtime_ns if result_file.exists() else 0
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if hub.get("url"):
            try:
                with urllib.request.urlopen(f"{hub['url']}/healthz", timeout=1) as r:
                    if json.load(r).get("config") == new_hash:
                        print(f"applied: {path} ({new_hash}) runs now")
                        return 0
            except (OSError, ValueError):
                pass
        if result_file.exists() and result_file.stat().st_mtime_ns != before:
            try:
                result = json.loads(result_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # being replaced: read it again
            if result.get("hash") != new_hash:
                continue
            if not result.get("ok"):
                print(f"refused: {result.get('error')}", file=sys.stderr)
                return 1
            print(f"applied: {result.get('text') or 'no change'} ({new_hash})")
            return 0
    print(f"onestop: the hub (pid {pid}) did not answer within {args.timeout:g} s: see its log",
          file=sys.stderr)
    return 1


def cmd_check_config(args: argparse.Namespace) -> int:
    from hub.config import load_config

    cfg = load_config(args.file)
    print(
        f"{args.file}: OK — {len(cfg.departments)} departments, {len(cfg.services)} service "
        f"items, {len(cfg.windows)} windows"
    )
    return 0


def _accounts(args: argparse.Namespace):
    """The accounts of the data directory, saying so when that makes a new database."""
    from hub.runtime import DB_FILE, open_database
    from hub.store.accounts import Accounts

    if not args.db and not (Path(args.data) / DB_FILE).exists():
        print(f"onestop: no database in {args.data}: creating a new one", file=sys.stderr)
    return Accounts(open_database(args.data, url=args.db))


def cmd_user_add(args: argparse.Namespace) -> int:
    from hub.auth import Role

    accounts = _accounts(args)
    password = _read_password(f"Password for {args.username}: ")
    accounts.add_user(
        args.username, password, Role(args.role), args.name, args.staff_no, args.clock(),
        photo=args.photo
    )
    print(f"added {args.role} {args.username}")
    return 0


def cmd_user_photo(args: argparse.Namespace) -> int:
    _accounts(args).set_photo(args.username, args.file)
    print(f"badge photo of {args.username} set")
    return 0


def cmd_user_passwd(args: argparse.Namespace) -> int:
    from hub.runtime import open_database
    from hub.store.accounts import Accounts

    Accounts(open_database(args.data, url=args.db)).set_password(
        args.username, _read_password(f"New password for {args.username}: ")
    )
    print(f"password of {args.username} changed")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    from hub.runtime import open_database
    from hub.store.accounts import Accounts

    for u in Accounts(open_database(args.data, url=args.db)).users():
        state = "" if u["active"] else " (disabled)"
        print(f"{u['username']:<16} {u['role']:<10} {u['staff_no']:<8} {u['name']}{state}")
    return 0


def cmd_token_add(args: argparse.Namespace) -> int:
    from hub.auth import Role

    accounts = _accounts(args)
    existing = accounts.active_tokens(Role(args.role), args.name)
    if existing:
        print(f"onestop: {args.role} {args.name} already has {existing} valid token(s); they "
              f"stay valid until `onestop token revoke`", file=sys.stderr)
    print(accounts.add_token(Role(args.role), args.name, args.clock()))
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from hub.auth import Role
    from hub.runtime import open_database
    from hub.store.accounts import Accounts

    accounts = Accounts(open_database(args.data, url=args.db))
    count = accounts.revoke_tokens(Role(args.role), args.name, args.clock())
    print(f"revoked {count} token(s) of {args.role} {args.name}")
    return 0


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
    import os
    import signal

    from hub.forwarder import single_instance

    lock = single_instance(args.data)
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


def cmd_db_migrate(args: argparse.Namespace) -> int:
    from hub.runtime import open_database

    db = open_database(args.data, url=args.db)
    where = getattr(db, "safe_url", db.path)  # PostgreSQL: the URL without its password
    print(f"{where}: schema version {db.schema_version()}")
    return 0


def _existing_database(args: argparse.Namespace):
    """The data directory's database; an audit command never creates an empty one."""
    from hub.runtime import DB_FILE, open_database

    if not args.db and not (Path(args.data) / DB_FILE).exists():
        raise ValueError(f"no database in {args.data}")
    return open_database(args.data, url=args.db)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from hub.store.audit import verify

    result = verify(_existing_database(args), args.expect_head)
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
    records = AuditLog(_existing_database(args)).records(args.account, since, args.limit)
    for r in records:
        window = "-" if r["window_no"] is None else str(r["window_no"])
        print(f"{r['seq']:>7} {r['at']} {r['account']:<14} {r['role'] or '-':<10} "
              f"w{window:<3} {r['addr'] or '-':<15} {r['action']:<16} {r['outcome']:<16} "
              f"{json.dumps(r['detail'], ensure_ascii=False)} {r['event_seqs']}")
    print(f"{len(records)} record(s)", file=sys.stderr)
    return 0


def cmd_reports_settle(args: argparse.Namespace) -> int:
    import time

    from hub import reports
    from hub.config import load_config

    cfg = load_config(args.config)
    db = _existing_database(args)
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


def cmd_install(args: argparse.Namespace) -> int:
    from hub.install import install

    install(args.role, root=args.root, dry_run=args.dry_run, name=args.name, hub=args.hub)
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from hub.backup import backup

    done = backup(args.data, args.to, args.db)
    checked = "read back by pg_restore" if args.db else "integrity ok"
    print(f"{args.to}: database ({done['db_bytes']} bytes, {checked}) and "
          f"{done['photos']} photo(s)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from hub.backup import restore

    for path in restore(args.source, args.data, args.db):
        what = "database (a pg_dump of it)" if args.db and path.is_file() and \
            path.name.startswith("onestop.pgdump") else path.name.split(".bak")[0]
        print(f"kept the old {what} as {path}")
    print(f"restored {args.source} into {args.data}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
