"""A hall's demand for one day: who comes for which item when, how long they take at the window,
how many do not come when called, and how they rate.

Pure (no I/O, no clock) except `load_profile`, which reads a TOML profile. Two callers share it:
the soak (`onestop simulate`) drives the real processes with a day of `arrivals`, and the
office's staffing advice simulates days with the pure engine from a Demand estimated from the
hall's history (hub/simulation/history.py).

Arrivals are a Poisson process whose rate is constant within each clock hour (a piecewise
homogeneous process): simple, exact for rates given per hour, and seeded so that one seed is
one day, always the same. Each item draws from its own random stream (seeded by seed, day and
item), so adding an item to a profile leaves the other items' arrivals unchanged.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# The five levels of the national 好差评 scheme, best first: 非常满意 … 非常不满意.
RATING_LEVELS = 5
DEFAULT_LEVELS = (0.78, 0.14, 0.05, 0.02, 0.01)
DISTRIBUTION_KINDS = ("lognormal", "exponential", "fixed")


@dataclass(frozen=True)
class Distribution:
    """Service time in minutes, lognormal by its mean and coefficient of variation (both a
    profile and a history give those two). `exponential` (cv = 1, memoryless) is there for the
    queueing-theory oracle, `fixed` for deterministic tests."""

    mean: float
    cv: float = 0.6
    kind: str = "lognormal"

    def __post_init__(self) -> None:
        if not self.mean > 0 or self.cv < 0 or self.kind not in DISTRIBUTION_KINDS:
            raise ValueError(f"bad distribution: mean={self.mean} cv={self.cv} {self.kind}")

    def sample(self, rng: random.Random) -> float:
        if self.kind == "exponential":
            return rng.expovariate(1.0 / self.mean)
        if self.kind == "fixed" or self.cv == 0:
            return self.mean
        sigma2 = math.log1p(self.cv * self.cv)
        return rng.lognormvariate(math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2))


@dataclass(frozen=True)
class RatingBehaviour:
    """`rate`: share of citizens who press a key at all; `levels`: shares of 非常满意, 满意,
    基本满意, 不满意, 非常不满意 among those who do (the last two are 差评)."""

    rate: float = 0.85
    levels: tuple[float, ...] = DEFAULT_LEVELS

    def __post_init__(self) -> None:
        if len(self.levels) != RATING_LEVELS or not 0 <= self.rate <= 1:
            raise ValueError("a rating behaviour needs a rate in [0, 1] and five level shares")
        if any(s < 0 for s in self.levels) or not math.isclose(sum(self.levels), 1, abs_tol=1e-6):
            raise ValueError("the five level shares must be non-negative and sum to 1")

    def draw(self, rng: random.Random) -> int | None:
        """A level 1 (非常满意) … 5 (非常不满意), or None for a citizen who does not rate."""
        if rng.random() >= self.rate:
            return None
        return rng.choices(range(1, RATING_LEVELS + 1), weights=self.levels)[0]


@dataclass(frozen=True)
class ItemDemand:
    """One item's (事项's) demand. `arrivals_per_hour`: clock hour 0–23 → mean tickets taken in
    that hour. Shares: `no_show` of called tickets, `transfer`, `commitment` (承诺件) and
    `joint` (联办件) of finished cases, `priority` of tickets (green channel, appointments).
    `periods`: minutes of the day [start, end) in which tickets can be taken (the item's opening
    hours); an hour's arrivals fall in its open part. Empty: the whole of every hour."""

    service: str
    arrivals_per_hour: dict[int, float]
    service_minutes: Distribution
    no_show: float = 0.0
    transfer: float = 0.0
    commitment: float = 0.0
    joint: float = 0.0
    rating: RatingBehaviour = field(default_factory=RatingBehaviour)
    priority: float = 0.0
    periods: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        for name in ("no_show", "transfer", "commitment", "joint", "priority"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{self.service}: {name} must be a share in [0, 1]")
        for hour, rate in self.arrivals_per_hour.items():
            if not 0 <= hour <= 23 or rate < 0 or not math.isfinite(rate):
                raise ValueError(f"{self.service}: bad arrival rate {rate!r} at hour {hour!r}")

    @property
    def per_day(self) -> float:
        return sum(self.arrivals_per_hour.values())

    def open_minutes(self, hour: int) -> list[tuple[int, int]]:
        """The open parts of clock hour `hour`, as minute-of-day intervals."""
        start, end = hour * 60, hour * 60 + 60
        if not self.periods:
            return [(start, end)]
        spans = [(max(a, start), min(b, end)) for a, b in self.periods]
        return [(a, b) for a, b in spans if a < b]


@dataclass(frozen=True)
class Demand:
    """A day's demand for every item; arrivals fall in [day_start, day_end) (hours)."""

    items: dict[str, ItemDemand]
    day_start: int = 8
    day_end: int = 18

    def __post_init__(self) -> None:
        if not 0 <= self.day_start < self.day_end <= 24:
            raise ValueError(f"bad day: {self.day_start}–{self.day_end}")

    @property
    def hours(self) -> range:
        return range(self.day_start, self.day_end)

    def per_day(self) -> float:
        return sum(item.per_day for item in self.items.values())


@dataclass(frozen=True, order=True)
class Arrival:
    """A citizen taking a ticket: when, for which item; `id` numbers the day's arrivals 1…n in
    time order. `priority`: a green-channel or appointment ticket."""

    at: dt.datetime
    service: str
    id: int
    priority: bool = False


def arrivals(
    demand: Demand, day: dt.date, seed: int, tz: dt.tzinfo | None = None
) -> list[Arrival]:
    """The day's arrivals, sorted by time; the same (demand, day, seed) gives the same list."""
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    raw: list[tuple[float, str, bool]] = []
    for code in sorted(demand.items):
        item = demand.items[code]
        rng = random.Random(f"{seed}:{day.isoformat()}:{code}")
        for hour in demand.hours:
            rate = item.arrivals_per_hour.get(hour, 0.0)
            for minute in _poisson_minutes(rng, rate, item.open_minutes(hour)):
                raw.append((minute, code, rng.random() < item.priority))
    raw.sort()
    return [
        Arrival(at=midnight + dt.timedelta(minutes=m), service=code, id=i, priority=p)
        for i, (m, code, p) in enumerate(raw, start=1)
    ]


def _poisson_minutes(
    rng: random.Random, per_hour: float, spans: list[tuple[int, int]]
) -> list[float]:
    """Poisson points with mean `per_hour` in total, spread at a constant rate over `spans`."""
    open_min = sum(b - a for a, b in spans)
    if per_hour <= 0 or open_min <= 0:
        return []
    rate_per_min = per_hour / open_min
    points: list[float] = []
    for a, b in spans:
        t = a + rng.expovariate(rate_per_min)
        while t < b:
            points.append(t)
            t += rng.expovariate(rate_per_min)
    return points


# ---- profiles (TOML) --------------------------------------------------------------------------


class ProfileError(ValueError):
    """A profile that cannot be read: names the key and the reason."""


def read_profile(path: str | Path, parse: Callable[[dict[str, Any]], T]) -> T:
    """A day profile's TOML read with `parse`; any fault in it a ProfileError naming the file."""
    path = Path(path)
    try:
        return parse(tomllib.loads(path.read_text(encoding="utf-8")))
    except (tomllib.TOMLDecodeError, ValueError, TypeError, KeyError) as err:
        raise ProfileError(f"{path}: {err}") from err


def load_profile(path: str | Path) -> Demand:
    """Read a day profile (see config/hall-day.example.toml for the format)."""
    return read_profile(path, parse_profile)


def parse_profile(raw: dict[str, Any]) -> Demand:
    curves = {name: _curve(name, c) for name, c in raw.get("curves", {}).items()}
    schedules = parse_schedules(raw)
    defaults = raw.get("defaults", {})
    items = {
        code: _item(code, {**defaults, **spec}, curves, schedules)
        for code, spec in raw.get("items", {}).items()
    }
    if not items:
        raise ValueError("a profile needs at least one [items.<code>] table")
    # [pauses] is the clerks' side of the day, read by hub/simulation/pauses.py.
    unknown = set(raw) - {"day_start", "day_end", "curves", "schedules", "defaults", "items",
                          "pauses"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    return Demand(items=items, day_start=raw.get("day_start", 8), day_end=raw.get("day_end", 18))


ITEM_KEYS = {
    "per_day", "curve", "arrivals", "service_minutes", "service_cv", "service_kind", "no_show",
    "transfer", "commitment", "joint", "priority", "schedule", "rating_rate", "rating_levels",
}


def _item(
    code: str, spec: dict[str, Any], curves: dict[str, dict[int, float]],
    schedules: dict[str, tuple[tuple[int, int], ...]],
) -> ItemDemand:
    unknown = set(spec) - ITEM_KEYS
    if unknown:
        raise ValueError(f"items.{code}: unknown keys {sorted(unknown)}")
    if "arrivals" in spec:
        per_hour = {int(h): float(r) for h, r in spec["arrivals"].items()}
    else:
        shares = curves[spec["curve"]]
        total = sum(shares.values())
        per_hour = {h: float(spec["per_day"]) * s / total for h, s in shares.items()}
    return ItemDemand(
        service=code,
        arrivals_per_hour=per_hour,
        service_minutes=Distribution(
            float(spec["service_minutes"]), float(spec.get("service_cv", 0.6)),
            spec.get("service_kind", "lognormal"),
        ),
        no_show=float(spec.get("no_show", 0)),
        transfer=float(spec.get("transfer", 0)),
        commitment=float(spec.get("commitment", 0)),
        joint=float(spec.get("joint", 0)),
        priority=float(spec.get("priority", 0)),
        rating=RatingBehaviour(
            float(spec.get("rating_rate", 0.85)),
            tuple(float(x) for x in spec.get("rating_levels", DEFAULT_LEVELS)),
        ),
        periods=schedules[spec["schedule"]] if "schedule" in spec else (),
    )


def _curve(name: str, shares: dict[str, Any]) -> dict[int, float]:
    curve = {int(h): float(s) for h, s in shares.items()}
    if sum(curve.values()) <= 0:
        raise ValueError(f"curves.{name}: the shares must add up to more than 0")
    return curve


def parse_schedules(raw: dict[str, Any]) -> dict[str, tuple[tuple[int, int], ...]]:
    """The profile's [schedules]: name → periods as minutes of the day [start, end)."""
    return {name: _periods(name, p) for name, p in raw.get("schedules", {}).items()}


def _periods(name: str, spans: list[list[str]]) -> tuple[tuple[int, int], ...]:
    periods = tuple((minute_of(a, f"schedules.{name}"), minute_of(b, f"schedules.{name}"))
                    for a, b in spans)
    if any(a >= b for a, b in periods):
        raise ValueError(f"schedules.{name}: a period must end after it starts")
    return periods


def minute_of(hhmm: Any, where: str) -> int:
    """"09:30" → 570; a clear error naming `where` for anything else."""
    try:
        hours, minutes = str(hhmm).split(":")
        value = int(hours) * 60 + int(minutes)
        if not (0 <= int(hours) <= 24 and 0 <= int(minutes) < 60 and value <= 24 * 60):
            raise ValueError(hhmm)
    except ValueError:
        raise ValueError(f"{where}: {hhmm!r} is not a time of day HH:MM") from None
    return value
