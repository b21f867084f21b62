"""`simulate`: a hall's day run end to end with every process real, under faults, and checked."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from .common import EXAMPLE_CONFIG, REPO_ROOT

EXAMPLE_PROFILE = REPO_ROOT / "config" / "hall-day.example.toml"
DEFAULT_DAY = "2026-11-25"  # a Wednesday the example hall is open: one day, always the same


def add_commands(sub: argparse._SubParsersAction) -> None:
    sim = sub.add_parser(
        "simulate", help="run a hall's day end to end (hub, forwarder, agent with simulated "
        "devices, kiosk, clerks, screens, a backend) at a chosen speed, with faults, and check "
        "it: exit 0 only if every check passes")
    sim.add_argument("--profile", default=str(EXAMPLE_PROFILE),
                     help="the day's demand (default: config/hall-day.example.toml)")
    sim.add_argument("--config", default=str(EXAMPLE_CONFIG), help="hall TOML file")
    sim.add_argument("--hours", default="8:00-17:00", help="the day's window, HH:MM-HH:MM")
    sim.add_argument("--day", default=DEFAULT_DAY, help="the hall's date, YYYY-MM-DD")
    sim.add_argument("--speed", type=float, default=30.0,
                     help="how many times as fast as real time (default 30)")
    sim.add_argument("--seed", type=int, default=1, help="the day's arrivals' seed")
    sim.add_argument("--faults", default="default", choices=["default", "short", "none"],
                     help="fault schedule (default: the hub killed twice, the agent and the "
                     "forwarder restarted, paper out, a bus unplugged, the backend down)")
    sim.add_argument("--drain", type=float, default=60.0, metavar="MINUTES",
                     help="the clerks go on serving this long after the last ticket is taken; "
                     "what is still waiting then expires at midnight (default 60)")
    sim.add_argument("--out", required=True, help="directory for the processes' data and "
                     "logs, and results.json")
    sim.set_defaults(func=cmd_simulate)


def _hours(text: str) -> tuple[dt.time, dt.time]:
    try:
        start, end = (dt.time.fromisoformat(part.strip().zfill(5)) for part in text.split("-"))
    except ValueError:
        raise ValueError(f"--hours: HH:MM-HH:MM, e.g. 8:00-17:00, not {text!r}") from None
    return start, end


def cmd_simulate(args: argparse.Namespace) -> int:
    from hub.simulation.soak.run import Options, Soak, print_outcome

    start, end = _hours(args.hours)
    if not args.speed > 0:
        raise ValueError("--speed must be a positive number")
    out = Path(args.out)
    opts = Options(profile=Path(args.profile), hall=Path(args.config), out=out,
                   day=dt.date.fromisoformat(args.day), start=start, end=end,
                   speed=args.speed, seed=args.seed, faults=args.faults,
                   drain_minutes=args.drain)
    outcome = Soak(opts).run()
    (out / "results.json").write_text(json.dumps(outcome.as_json(), ensure_ascii=False,
                                                 indent=1), encoding="utf-8")
    print_outcome(outcome)
    print(f"results: {out / 'results.json'}", file=sys.stderr)
    return 0 if outcome.passed else 1
