"""`ca init` and `ca issue`: the hall's own certificate authority (hub/tls/ca.py)."""

from __future__ import annotations

import argparse

DEFAULT_DIR = "/etc/onestop/ca"


def add_commands(sub: argparse._SubParsersAction) -> None:
    ca = sub.add_parser("ca", help="the hall's certificate authority: init, issue")
    steps = ca.add_subparsers(required=True, metavar="STEP")
    init = steps.add_parser("init", help="make the hall's CA (ca.pem to copy to every client, "
                            "ca.key 0600: keep it offline once the hub's certificate is issued)")
    init.add_argument("--dir", default=DEFAULT_DIR, help=f"where (default {DEFAULT_DIR})")
    init.add_argument("--name", default="Onestop hall CA", help="the CA's common name")
    init.add_argument("--days", type=int, default=3650, help="valid for (default 3650)")
    init.set_defaults(func=cmd_ca_init)
    iss = steps.add_parser("issue", help="issue a server certificate signed by the hall's CA")
    iss.add_argument("--dir", default=DEFAULT_DIR, help=f"the CA's directory ({DEFAULT_DIR})")
    iss.add_argument("--host", action="append", required=True, metavar="NAME_OR_IP",
                     help="a name or address clients reach the server by (repeat for more)")
    iss.add_argument("--days", type=int, default=397, help="valid for (default 397)")
    iss.add_argument("--out", default=None, metavar="PREFIX",
                     help="write PREFIX.pem and PREFIX.key (default: DIR/FIRST_HOST)")
    iss.set_defaults(func=cmd_ca_issue)


def cmd_ca_init(args: argparse.Namespace) -> int:
    from hub.tls.ca import init_ca

    cert, key = init_ca(args.dir, args.name, args.clock(), args.days)
    print(f"CA made: {cert} (copy to every kiosk, screen and agent) and {key} (0600: keep "
          "it off the network once the hub's certificate is issued)")
    return 0


def cmd_ca_issue(args: argparse.Namespace) -> int:
    from hub.tls.ca import issue

    done = issue(args.dir, args.host, args.clock(), args.days, args.out)
    print(f"issued for {', '.join(done.names)}: {done.cert} and {done.key} (0600), valid "
          f"until {done.not_after:%Y-%m-%d}; give the hub --tls-cert {done.cert} --tls-key "
          f"{done.key}")
    return 0
