"""`user`, `token` and `db`: staff accounts, device tokens and the database's migrations."""

from __future__ import annotations

import argparse
import logging
import sys

from .common import data_arg, existing_database, open_accounts, read_password

log = logging.getLogger(__name__)


def add_commands(sub: argparse._SubParsersAction) -> None:
    user = sub.add_parser("user", help="staff accounts").add_subparsers(
        required=True, metavar="ACTION"
    )
    add = user.add_parser("add", help="add a staff account (password from stdin or prompted)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["clerk", "supervisor", "admin"])
    add.add_argument("--name", default="", help="full name shown on the work badge")
    add.add_argument("--staff-no", default="", help="staff number (工号)")
    add.add_argument("--photo", default=None, help="JPEG or PNG for the work badge (art. 17)")
    policy_arg(add)
    data_arg(add)
    add.set_defaults(func=cmd_user_add)
    passwd = user.add_parser("passwd", help="set a staff password (from stdin or prompted)")
    passwd.add_argument("username")
    policy_arg(passwd)
    data_arg(passwd)
    passwd.set_defaults(func=cmd_user_passwd)
    enrol = user.add_parser(
        "totp-enroll", help="give the account a new authenticator secret (TOTP) and print its "
        "otpauth:// address once, to scan into an authenticator app")
    enrol.add_argument("username")
    data_arg(enrol)
    enrol.set_defaults(func=cmd_user_totp_enroll)
    unenrol = user.add_parser(
        "totp-remove", help="remove the account's authenticator (a lost phone); a role that "
        "must give a code cannot sign in until enrolled again")
    unenrol.add_argument("username")
    data_arg(unenrol)
    unenrol.set_defaults(func=cmd_user_totp_remove)
    photo = user.add_parser("photo", help="set the work-badge photo (JPEG or PNG)")
    photo.add_argument("username")
    photo.add_argument("file")
    data_arg(photo)
    photo.set_defaults(func=cmd_user_photo)
    listing = user.add_parser("list", help="list staff accounts")
    data_arg(listing)
    listing.set_defaults(func=cmd_user_list)

    add_token_commands(sub)

    db = sub.add_parser("db", help="database").add_subparsers(required=True, metavar="ACTION")
    migrate = db.add_parser("migrate", help="apply pending migrations")
    data_arg(migrate)
    migrate.set_defaults(func=cmd_db_migrate)


def add_token_commands(sub: argparse._SubParsersAction) -> None:
    token = sub.add_parser("token", help="device tokens").add_subparsers(
        required=True, metavar="ACTION"
    )
    tadd = token.add_parser("add", help="create a device token and print it once")
    tadd.add_argument("--role", required=True, choices=["kiosk", "screen", "agent", "metrics"])
    tadd.add_argument("--name", required=True)
    binding_args(tadd)
    data_arg(tadd)
    tadd.set_defaults(func=cmd_token_add)
    tbind = token.add_parser(
        "bind", help="bind every valid token of a device agent to the kiosks and windows it "
        "serves (replacing its binding); its connects declaring anything else are refused")
    tbind.add_argument("name", help="the agent's name (its token's --name)")
    binding_args(tbind)
    data_arg(tbind)
    tbind.set_defaults(func=cmd_token_bind)
    tlist = token.add_parser("list", help="list valid device tokens and agents' bindings")
    data_arg(tlist)
    tlist.set_defaults(func=cmd_token_list)
    trevoke = token.add_parser("revoke", help="revoke every token of a device")
    trevoke.add_argument("--role", required=True,
                         choices=["kiosk", "screen", "agent", "metrics"])
    trevoke.add_argument("--name", required=True)
    data_arg(trevoke)
    trevoke.set_defaults(func=cmd_token_revoke)


def binding_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kiosk", action="append", default=None, metavar="NAME",
        help="(agents) a kiosk it serves: the kiosk token's name, its `kiosk` in agent.toml; "
        "repeat for several")
    parser.add_argument(
        "--windows", default=None, metavar="N,N",
        help="(agents) the windows its keypads, LED screens and slip printer serve, e.g. 1,2,3; "
        "`none` for none (a voice-only agent)")


def parse_binding(args: argparse.Namespace):
    """The AgentBinding the options give, or None if neither --kiosk nor --windows is given."""
    from hub.auth import AgentBinding

    if args.kiosk is None and args.windows is None:
        return None
    kiosks = sorted({k.strip() for k in args.kiosk or []})
    if not all(kiosks):
        raise ValueError("--kiosk needs a kiosk token's name")
    text = (args.windows or "").strip()
    try:
        windows = [] if text in ("", "none") else [int(w) for w in text.split(",")]
    except ValueError:
        raise ValueError(f"--windows {args.windows!r}: window numbers with commas, e.g. 1,2,3, "
                         "or none") from None
    if any(w < 1 for w in windows):
        raise ValueError("--windows: window numbers start at 1")
    return AgentBinding(kiosks=tuple(kiosks), windows=tuple(sorted(set(windows))))


def binding_text(binding) -> str:
    return "unbound (may serve any kiosk and window)" if binding is None else \
        binding.describe()


def policy_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", default=None, metavar="HALL_FILE",
        help="the hall file whose [identity] password policy applies (default: the one the "
        "hub last ran on, from the store; the policy's defaults if none)")


def running_hall(args: argparse.Namespace, db):
    """The hall file named with --config, else the one the hub last ran on (kept in the
    store), else None."""
    from hub.config import load_config
    from hub.hall_file.text import parse_text
    from hub.store.hall_config import HallConfigs

    if getattr(args, "config", None):
        return load_config(args.config)
    stored = HallConfigs(db).current()
    return parse_text(stored.toml, "<hall file in the store>") if stored else None


def hall_policy(args: argparse.Namespace, db):
    """The password policy a new password is held to: the running hall's, else the defaults."""
    from hub.config.schema import Identity

    hall = running_hall(args, db)
    return hall.identity if hall else Identity()


def cmd_user_add(args: argparse.Namespace) -> int:
    from hub.auth import Role

    accounts = open_accounts(args)
    password = read_password(f"Password for {args.username}: ")
    accounts.add_user(
        args.username, password, Role(args.role), args.name, args.staff_no, args.clock(),
        photo=args.photo, policy=hall_policy(args, accounts.db)
    )
    print(f"added {args.role} {args.username}")
    return 0


def cmd_user_photo(args: argparse.Namespace) -> int:
    open_accounts(args).set_photo(args.username, args.file)
    print(f"badge photo of {args.username} set")
    return 0


def cmd_user_passwd(args: argparse.Namespace) -> int:
    from hub.runtime import open_database
    from hub.store.accounts import Accounts

    accounts = Accounts(open_database(args.data, url=args.db))
    accounts.set_password(
        args.username, read_password(f"New password for {args.username}: "), args.clock(),
        hall_policy(args, accounts.db)
    )
    print(f"password of {args.username} changed")
    return 0


def cmd_user_totp_enroll(args: argparse.Namespace) -> int:
    from hub.identity import totp_uri
    from hub.runtime import open_database
    from hub.store.accounts import Accounts

    accounts = Accounts(open_database(args.data, url=args.db))
    hall = running_hall(args, accounts.db)
    secret = accounts.enrol_totp(args.username)
    # Shown once, here only: the hub never logs it nor answers it on any route.
    print(totp_uri(secret, args.username, hall.center.name if hall else "hall"))
    print(f"secret: {secret}")
    print(f"{args.username} gives this authenticator's 6-digit code at every sign-in from now "
          "on; any earlier authenticator stopped working", file=sys.stderr)
    return 0


def cmd_user_totp_remove(args: argparse.Namespace) -> int:
    from hub.runtime import open_database
    from hub.store.accounts import Accounts

    Accounts(open_database(args.data, url=args.db)).remove_totp(args.username)
    print(f"authenticator of {args.username} removed")
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

    binding = parse_binding(args)
    if binding is not None and args.role != "agent":
        raise ValueError("--kiosk and --windows bind a device agent's token (--role agent)")
    accounts = open_accounts(args)
    existing = accounts.active_tokens(Role(args.role), args.name)
    if existing:
        print(f"onestop: {args.role} {args.name} already has {existing} valid token(s); they "
              f"stay valid until `onestop token revoke`", file=sys.stderr)
    if args.role == "agent" and binding is None:
        print(f"onestop: agent {args.name}'s token is unbound: it may act for any kiosk and "
              "window; bind it with --kiosk/--windows (or `onestop token bind`)",
              file=sys.stderr)
    print(accounts.add_token(Role(args.role), args.name, args.clock(), binding))
    return 0


def cmd_token_bind(args: argparse.Namespace) -> int:
    from hub.store.accounts import Accounts

    binding = parse_binding(args)
    if binding is None:
        raise ValueError("give what the agent serves: --kiosk NAME (repeatable) and/or "
                         "--windows N,N (or --windows none)")
    accounts = Accounts(existing_database(args))
    count = accounts.bind_tokens(args.name, binding)
    if not count:
        raise ValueError(f"agent {args.name} has no valid token (onestop token list)")
    log.info("agent %s: %d token(s) bound to %s", args.name, count, binding.describe(),
             extra={"onestop": {"event": "token.bound", "agent": args.name}})
    print(f"bound {count} token(s) of agent {args.name}: {binding.describe()}")
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    from hub.store.accounts import Accounts

    tokens = Accounts(existing_database(args)).tokens()
    for t in tokens:
        bound = binding_text(t["binding"]) if t["role"] == "agent" else ""
        print(f"{t['role']:<8} {t['name']:<20} {t['created_at']:<26} {bound}".rstrip())
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from hub.auth import Role
    from hub.runtime import open_database
    from hub.store.accounts import Accounts

    accounts = Accounts(open_database(args.data, url=args.db))
    count = accounts.revoke_tokens(Role(args.role), args.name, args.clock())
    print(f"revoked {count} token(s) of {args.role} {args.name}")
    return 0


def cmd_db_migrate(args: argparse.Namespace) -> int:
    from hub.runtime import open_database

    db = open_database(args.data, url=args.db)
    where = getattr(db, "safe_url", db.path)  # PostgreSQL: the URL without its password
    print(f"{where}: schema version {db.schema_version()}")
    return 0
