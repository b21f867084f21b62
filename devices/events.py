"""What the device layer reports upward: key presses, ratings, expired rating windows, health.

Plain frozen dataclasses so the agent can queue them across threads and serialise them as it
likes. `device` is the driver's name (configured by the agent, e.g. "bus1/rating@3"); `at` is
the wall-clock time (epoch seconds) at which the master saw the event: the keypad has no clock,
and a poll cycle is at most about a second. A RatingPress is dated closer to the press than
that where the master can tell (devices/keypad.py: a 4 or 5 waiting for its reason is seen at
once; no press is dated after its window's end).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from devices.master import Health
from devices.regmap import CallerKey, RatingLevel


@dataclass(frozen=True, slots=True)
class KeyEvent:
    """A caller-keypad key. `arg` is 0 for the keys defined so far (reserved for a keypad
    with digit keys, e.g. a transfer target)."""

    device: str
    address: int
    seq: int
    key: CallerKey
    arg: int = 0
    at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class RatingPress:
    """A citizen's rating, tied to the rating window (request id) it answered. `reason` is
    0 when none was given (levels 1-3, or no reason key pressed in time). `late_found`: for a
    window this master never opened (it started after): found in the keypad's ring at first
    contact, or latched later (a level that waited for its reason then), so `at` is when it was
    found (or first seen waiting); the keypad took it while the window was open, so it was
    pressed by the window's end, which only the hub knows."""

    device: str
    address: int
    seq: int
    request_id: int
    level: RatingLevel
    reason: int = 0
    at: float = field(default_factory=time.time)
    late_found: bool = False


@dataclass(frozen=True, slots=True)
class RatingExpired:
    """A rating window the master opened closed without a press: `why` is "timeout" (the
    keypad's TIMEOUT_S ran out, or the master ended it at its end), "replaced" (the master
    opened the next request), "cancelled" (the master closed it) or "device restarted" (the
    keypad lost it). It comes after any press the keypad took before, never before one."""

    device: str
    address: int
    request_id: int
    why: str
    at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class HealthChange:
    device: str
    kind: str
    address: int
    state: Health
    previous: Health
    detail: str = ""
    at: float = field(default_factory=time.time)


Event = KeyEvent | RatingPress | RatingExpired
