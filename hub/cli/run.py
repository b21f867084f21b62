"""`hub`, `demo`, `agent` and `sim-devices`: running the hall's processes."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .common import DEFAULT_DATA, EXAMPLE_CONFIG, data_arg


def add_commands(sub: argparse._SubParsersAction) -> None:
    hub = sub.add_parser("hub", help="run the hub")
    hub.add_argument("--config", required=True, help="hall TOML file")
    data_arg(hub)
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
                     "redis://127.0.0.1:6379/0 (scale-out; needs --db postgresql://; "
                     "env ONESTOP_MESSAGE_QUEUE)")
    hub.add_argument("--tls-cert", metavar="FILE", default=os.environ.get("ONESTOP_TLS_CERT")
                     or None, help="serve HTTPS with this certificate (onestop ca issue; env "
                     "ONESTOP_TLS_CERT); plain HTTP on --port is then refused")
    hub.add_argument("--tls-key", metavar="FILE", default=os.environ.get("ONESTOP_TLS_KEY")
                     or None, help="its private key (env ONESTOP_TLS_KEY)")
    hub.add_argument("--http-redirect-port", type=int, metavar="PORT",
                     default=os.environ.get("ONESTOP_HTTP_REDIRECT_PORT") or None,
                     help="with --tls-cert: also listen for plain HTTP here, answering only "
                     "with a redirect to HTTPS (env ONESTOP_HTTP_REDIRECT_PORT)")
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
          proxy_hops=args.proxy_hops, clock=args.clock, **tls_options(args))
    return 0


def tls_options(args: argparse.Namespace) -> dict:
    """`serve`'s TLS arguments from --tls-cert, --tls-key and --http-redirect-port."""
    if not (args.tls_cert or args.tls_key):
        if args.http_redirect_port:
            raise ValueError("--http-redirect-port redirects to HTTPS: give --tls-cert too")
        return {}
    if not (args.tls_cert and args.tls_key):
        raise ValueError("--tls-cert and --tls-key go together")
    if args.async_mode != "eventlet" and args.http_redirect_port:
        raise ValueError("--http-redirect-port needs --async-mode eventlet")
    from hub.tls.serving import ServerTLS

    return {"tls": ServerTLS(Path(args.tls_cert), Path(args.tls_key)),
            "http_redirect_port": args.http_redirect_port}


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
    from hub.demo import DEMO_KIOSK

    clock = ["--clock", spec] if (spec := child_spec(args.clock)) else []
    children.start(
        ["-m", "hub.cli", "--log-level", "warning", *clock, "sim-devices", "--config",
         args.config, "--hub", f"http://{args.host}:{args.port}", "--data",
         f"{args.data}/sim", "--host", args.host, "--port", str(args.devices_port),
         "--kiosk", DEMO_KIOSK],
        env={**os.environ, "ONESTOP_AGENT_TOKEN": token},
    )
