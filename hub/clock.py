"""The one place an Onestop process reads the time of day.

The engine never reads the time itself: every rule takes `now` from a clock its caller passes
in. A process gets the system clock, or a set clock (`onestop --clock SPEC`, env ONESTOP_CLOCK)
for tests, simulated days and trying the hall on another date:

- `2031-07-14T23:59:00+08:00`: reads that instant when the process starts, then runs on;
- `2031-07-14T23:59:00+08:00@1796300000.5`: read that instant at that Unix time: every process
  given the same SPEC, whenever it starts, reads the same time (a hub, its agents, the forwarder
  and a restarted hub share one timeline; the test suite runs them all on one);
- `…*30`: runs 30 times as fast (a simulated hour in two minutes).

No test may depend on the date or the hour it happens to run at, and a process started by
another (the hub's `reports settle` child) must read the same time as its parent.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

Clock = Callable[[], dt.datetime]

ENV = "ONESTOP_CLOCK"


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SetClock:
    """Read `start` at the Unix time `anchor` (default: now), and runs `rate` times as fast as
    the system's clock from there (before it too, for a process started late)."""

    def __init__(self, start: dt.datetime, anchor: float | None = None, rate: float = 1.0) -> None:
        if start.tzinfo is None:
            raise ValueError(f"the clock's start needs a UTC offset: {start.isoformat()}+08:00?")
        if not (rate > 0 and rate != float("inf")):
            raise ValueError(f"the clock's rate must be a positive number, not {rate}")
        self.start, self.rate = start.astimezone(dt.UTC), rate
        self.anchor = time.time() if anchor is None else anchor

    def __call__(self) -> dt.datetime:
        return self.at(time.time())

    def at(self, unix_time: float) -> dt.datetime:
        return self.start + dt.timedelta(seconds=(unix_time - self.anchor) * self.rate)

    def spec(self) -> str:
        """The SPEC that gives another process this very clock."""
        rate = f"*{self.rate:g}" if self.rate != 1 else ""
        return f"{self.start.isoformat()}@{self.anchor:.6f}{rate}"

    def __repr__(self) -> str:
        return f"SetClock({self.spec()!r})"


def parse_clock(spec: str | None) -> Clock:
    """`START[@ANCHOR][*RATE]` (see the module's docstring): a SetClock; empty or None: the
    system clock. A ValueError says what is wrong."""
    if not spec:
        return system_clock
    rest, _, rate = spec.strip().partition("*")
    start, _, anchor = rest.partition("@")
    try:
        when = dt.datetime.fromisoformat(start)
    except ValueError:
        raise ValueError(f"clock {spec!r}: START is an ISO 8601 instant with its offset, "
                         "e.g. 2031-07-14T23:59:00+08:00") from None
    try:
        at = float(anchor) if anchor else None
        speed = float(rate) if rate else 1.0
    except ValueError:
        raise ValueError(f"clock {spec!r}: ANCHOR after '@' is a Unix time, RATE after '*' "
                         "a number, e.g. *30") from None
    return SetClock(when, at, speed)


def reading_at(clock: Clock, unix_time: float) -> dt.datetime:
    """What `clock` read at `unix_time` (a device dates its presses by the system's clock)."""
    if isinstance(clock, SetClock):
        return clock.at(unix_time)
    return dt.datetime.fromtimestamp(unix_time, dt.UTC)


def real_seconds(clock: Clock, hall_s: float) -> float:
    """How long `hall_s` seconds of `clock` last in real time: what a device's own timer (a
    keypad's rating window, in real seconds) must be given so it ends when the clock says."""
    return hall_s / clock.rate if isinstance(clock, SetClock) else hall_s


def child_spec(clock: Clock) -> str | None:
    """The `--clock` a child process needs to share `clock`; None for the system clock."""
    return clock.spec() if isinstance(clock, SetClock) else None
