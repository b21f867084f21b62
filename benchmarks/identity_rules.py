"""刷身份证取号: what the per-person rules add to one ticket's issue, with 20,000 tickets that day.

The state is built as the hub's would be, by applying issue events: 20,000 tickets on the
benchmark hall (hall-bench.toml, with a 21st item so 20 × 999 is not the ceiling), half of them
identified, over 7,000 people (at most 3 each, the default cap). Then, alternating blocks of
1,000 so drift hits both alike, the engine decides an issue

- anonymous: `QueueEngine.issue_ticket(state, now, service)`;
- identified: the same with an `Identified` person (the per-person look-ups in `state.persons`,
  the open-ticket count for the item, the cap), of someone who already holds two tickets;

and, apart, what the service adds before the engine: opening the sealed handle (AES-GCM) and
the day pseudonyms (HMAC-SHA256 under the current and the previous key). Decisions only: the
events are not applied, so the state stays at 20,000 for every measurement.

    .venv/bin/python benchmarks/identity_rules.py [--tickets 20000] [--people 7000] [--rounds 20]

Prints a Markdown row per measurement; target: the per-person checks add ≤ 0.2 ms to an issue.
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub.config import load_config  # noqa: E402
from hub.engine import QueueEngine, apply, new_state  # noqa: E402
from hub.engine.model import TicketIssued  # noqa: E402
from hub.engine.persons import Identified  # noqa: E402
from hub.service.identity import Holder, IdKeys, day_person, key_id, seal, unseal  # noqa: E402

NOW = dt.datetime(2026, 11, 25, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
BLOCK = 1000


def hall():
    cfg = load_config(ROOT / "benchmarks" / "hall-bench.toml")
    extra = msgspec.structs.replace(cfg.services[0], code="S21", prefix="Z")
    return msgspec.structs.replace(cfg, services=[*cfg.services, extra])


def busy_state(cfg, engine: QueueEngine, tickets: int, people: int):
    """A day with `tickets` issued, every other one identified (people 0.. in turn)."""
    state = new_state(cfg, NOW)
    codes = [s.code for s in cfg.services]
    held: dict[str, int] = {}
    person = 0
    for i in range(tickets):
        svc = codes[i % len(codes)]
        identity = None
        if i % 2 == 0:
            p = f"{person % people:064x}"
            if held.get(p, 0) < 2:  # leave each one ticket short of the cap
                identity = Identified(persons=(p,), elderly=person % 5 == 0)
                held[p] = held.get(p, 0) + 1
            person += 1
        for event in engine.issue_ticket(state, NOW, svc, identity=identity):
            assert isinstance(event, TicketIssued)
            apply(state, event)
    return state, [p for p, n in held.items() if n == 2]


def timed(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e3  # ms per call


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20000)
    parser.add_argument("--people", type=int, default=7000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    cfg = hall()
    engine = QueueEngine(cfg)
    built = time.perf_counter()
    state, twice = busy_state(cfg, engine, args.tickets, args.people)
    built = time.perf_counter() - built
    assert len(state.tickets) == args.tickets
    identity = Identified(persons=(twice[0], "f" * 64), elderly=False)  # two keys' pseudonyms
    # An item the person holds no ticket for, so the checks pass and the ticket is decided.
    mine = {state.tickets[i].service for i in state.persons[twice[0]]}
    service = next(s.code for s in cfg.services if s.code not in mine)
    anonymous = lambda: engine.issue_ticket(state, NOW, service)  # noqa: E731
    identified = lambda: engine.issue_ticket(state, NOW, service, identity=identity)  # noqa: E731
    assert identified()[0].identified
    plain, checked = [], []
    for _ in range(args.rounds):
        plain.append(timed(anonymous, BLOCK))
        checked.append(timed(identified, BLOCK))
    keys = IdKeys(secrets.token_bytes(32), secrets.token_bytes(32))
    holder = Holder(persons=(secrets.token_bytes(32), secrets.token_bytes(32)),
                    kids=(key_id(keys.current), key_id(keys.previous or b"")), birth_year=1950,
                    elderly=True, masked_name="欧阳**", until=NOW.timestamp() + 120,
                    day=NOW.date().isoformat())
    handle = seal(keys, holder)

    def open_handle() -> None:
        opened = unseal(keys, handle)
        assert opened is not None
        for key, person in zip(keys.all, opened.hexes(), strict=True):
            day_person(key, NOW.date(), person)

    opening = [timed(open_handle, BLOCK) for _ in range(args.rounds)]
    p50 = statistics.median
    engine_added = p50(checked) - p50(plain)
    total = engine_added + p50(opening)
    print(f"state: {len(state.tickets)} tickets today, {len(state.persons)} people identified "
          f"(built in {built:.1f} s)")
    print("| measurement | per issue (median of blocks of 1,000) | target |")
    print("| --- | --- | --- |")
    print(f"| engine decides an issue, anonymous | {p50(plain) * 1e3:.1f} µs | |")
    print(f"| engine decides an issue, identified | {p50(checked) * 1e3:.1f} µs | |")
    print(f"| the per-person checks added | **{engine_added * 1e3:.1f} µs** | ≤ 200 µs |")
    print(f"| the handle opened + 2 day pseudonyms (service) | {p50(opening) * 1e3:.1f} µs | |")
    print(f"| all identity work added to an issue | **{total * 1e3:.1f} µs** | ≤ 200 µs: "
          f"{'met' if total <= 0.2 else 'NOT met'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
