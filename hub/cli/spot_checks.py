"""`spot-check verify`: recompute a week's 办件抽查 sample from its recorded seed and the
store's tickets, and say whether it is the sample that was drawn."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from .common import EXAMPLE_CONFIG, data_arg, existing_database


def add_commands(sub: argparse._SubParsersAction) -> None:
    spot = sub.add_parser("spot-check", help="the office's weekly spot checks").add_subparsers(
        required=True, metavar="ACTION")
    verify = spot.add_parser(
        "verify", help="recompute a draw's sample from its seed and the week's finished tickets "
        "(exit 0: it matches; 1: it does not; 2: no such draw)")
    verify.add_argument("draw_id", metavar="DRAW_ID", help="e.g. CC2026W48")
    verify.add_argument("--config", default=str(EXAMPLE_CONFIG),
                        help="hall TOML file (its time zone bounds the week)")
    data_arg(verify)
    verify.set_defaults(func=cmd_spot_check_verify)


def cmd_spot_check_verify(args: argparse.Namespace) -> int:
    from hub.config import load_config
    from hub.engine import spot_checks as rules
    from hub.store.spot_checks import SpotChecks

    cfg = load_config(args.config)
    rows = SpotChecks(existing_database(args))
    found = rows.draw(args.draw_id)
    if found is None:
        raise ValueError(f"no draw {args.draw_id!r}")
    week = dt.date.fromisoformat(found["week"])
    start, end = rules.week_bounds(week, cfg.zone)
    population = rows.finished_between(start, end)
    again = rules.draw_sample(bytes.fromhex(found["seed"]), population, found["per_window"])
    counts = {no: len(ids) for no, ids in population.items() if ids}
    digests = {no: rules.population_digest(ids) for no, ids in population.items() if ids}
    print(f"{found['draw_id']}: week of {week}, seed {found['seed']}, {found['method']}, "
          f"{found['per_window']} a window")
    problems = _differences(found, again, counts, digests)
    if not problems:
        print(f"the sample matches: {sum(map(len, again.values()))} of {sum(counts.values())} "
              f"tickets, {len(again)} windows")
        return 0
    print("the sample does not match what the tickets give now:")
    for line in problems:
        print(f"  {line}")
    return 1


def _differences(found: dict, again: dict[int, list[str]], counts: dict[int, int],
                 digests: dict[int, str]) -> list[str]:
    out = []
    for no in sorted(set(found["sample"]) | set(again)):
        was, now = found["sample"].get(no, []), again.get(no, [])
        if was != now:
            out.append(f"window {no}: drawn {' '.join(was) or '-'}; recomputed "
                       f"{' '.join(now) or '-'}")
    for no in sorted(set(found["population"]) | set(counts)):
        then, today = found["population"].get(no, 0), counts.get(no, 0)
        if then != today:
            out.append(f"window {no}: {then} tickets finished that week when drawn, {today} now")
        elif no in found["population_digest"] and found["population_digest"][no] != digests.get(no):
            out.append(f"window {no}: the same number of tickets, but not the same tickets")
    return out


if __name__ == "__main__":  # pragma: no cover
    sys.exit(1)
