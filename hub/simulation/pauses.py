"""When the clerks of a simulated day leave their windows: a lunch break staggered in shifts so
that a window and its AB post (同岗替代, the `backup` of the hall file) are never away at the
same time, short breaks (water, toilet) a few times a day, and now and then a meeting.

Read from the day profile's `[pauses.<name>]` tables (config/hall-day.example.toml says the
format). Pure and seeded like the arrivals: one (pattern, hall's windows, day, seed) is always
the same plan, and each window draws from its own random stream. Two callers: the soak's
clerks pause and resume over `/caller` at these times (hub/simulation/soak/actors.py), and the
pure simulated day leaves a window unserved while its clerk is away (engine_day.py).

A plan keeps the AB rule itself: a pause that would overlap a pause of the window's AB partner
(the window it backs up, or the one backing it up) is moved to start when the partner is back,
or dropped if that leaves its period. Only a pattern with a single lunch shift sends every
window to lunch at once, as a hall that closes at noon does.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .demand import Distribution, ProfileError, minute_of, parse_schedules, read_profile

STAGGERED_KEYS = {"reason", "shifts", "minutes", "cv"}
RANDOM_KEYS = {"reason", "per_day", "minutes", "cv", "schedule"}
MAX_MOVES = 8  # a random pause pushed past this many partners' pauses is dropped
MAX_PAUSE_MINUTES = 240.0
MIN_WORK_MINUTES = 20.0  # a clerk's least time at the window between two pauses of their own


@dataclass(frozen=True)
class PauseKind:
    """One kind of pause. Staggered (`shifts` given): every window once a day, at the start
    of one shift, the shifts handed out so that AB partners differ (where they cannot, as in a
    ring of three, the second of two partners in a shift waits for the first). Random (`per_day`): a
    Poisson number a day per window with mean `per_day`, at uniform times within `periods`
    (minutes of the day; empty: the whole day)."""

    name: str
    reason: str
    minutes: Distribution
    shifts: tuple[int, ...] = ()
    per_day: float = 0.0
    periods: tuple[tuple[int, int], ...] = ()

    @property
    def staggered(self) -> bool:
        return bool(self.shifts)


@dataclass(frozen=True, order=True)
class PlannedPause:
    """A clerk away from window `window` from minute `start` to `end` of the day."""

    start: float
    end: float
    window: int
    reason: str
    kind: str

    @property
    def minutes(self) -> float:
        return self.end - self.start

    def overlaps(self, other: PlannedPause) -> bool:
        return self.start < other.end and other.start < self.end

    def at(self, midnight: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        return (midnight + dt.timedelta(minutes=self.start),
                midnight + dt.timedelta(minutes=self.end))


@dataclass(frozen=True)
class PausePattern:
    kinds: tuple[PauseKind, ...] = ()

    @property
    def reasons(self) -> set[str]:
        return {k.reason for k in self.kinds}

    def check_reasons(self, hall_reasons: Iterable[str]) -> None:
        """Every reason must be one of the hall file's `queue.pause_reasons` (the hub refuses
        the others)."""
        allowed = list(hall_reasons)
        for kind in self.kinds:
            if kind.reason not in allowed:
                raise ProfileError(f"pauses.{kind.name}.reason: {kind.reason!r} is not one of "
                                   f"the hall's queue.pause_reasons {allowed}")


Windows = list[tuple[int, int | None]]  # (window no, its backup) in window order
Plan = dict[int, list[PlannedPause]]  # window → its pauses, in time order


def plan(pattern: PausePattern, windows: Windows, day: dt.date, seed: int) -> Plan:
    """Every window's pauses on `day`: staggered kinds first (in the profile's order), then
    random ones, longest first, each kept clear of the window's own pauses and its AB
    partners'."""
    partners = partners_of(windows)
    out: Plan = {no: [] for no, _ in windows}
    for kind in (k for k in pattern.kinds if k.staggered):
        _plan_staggered(kind, windows, partners, day, seed, out)
    # Long pauses first (a meeting is fixed; short breaks fit around it).
    randoms = sorted((k for k in pattern.kinds if not k.staggered), key=lambda k: -k.minutes.mean)
    for kind in randoms:
        for no, _ in windows:
            rng = random.Random(f"pauses:{seed}:{day.isoformat()}:{kind.name}:{no}")
            for start in sorted(_random_starts(kind, rng)):
                minutes = _duration(kind, rng)
                _place(PlannedPause(start, start + minutes, no, kind.reason, kind.name),
                       kind, partners, out)
    for pauses in out.values():
        pauses.sort()
    return out


def partners_of(windows: Windows) -> dict[int, set[int]]:
    """Each window's AB partners: its backup, and the windows it backs up."""
    nos = {no for no, _ in windows}
    partners: dict[int, set[int]] = {no: set() for no in nos}
    for no, backup in windows:
        if backup is not None and backup in nos and backup != no:
            partners[no].add(backup)
            partners[backup].add(no)
    return partners


def shifts_for(kind: PauseKind, windows: Windows) -> dict[int, int]:
    """Window → index of its shift: greedily, in window order, the shift with the fewest AB
    partners already in it, then the fewest windows (a roster, not drawn: the same every
    day)."""
    partners = partners_of(windows)
    chosen: dict[int, int] = {}
    load = [0] * len(kind.shifts)
    for no, _ in windows:
        clash = [sum(1 for p in partners[no] if chosen.get(p) == i) for i in range(len(load))]
        best = min(range(len(load)), key=lambda i: (clash[i], load[i], i))
        chosen[no] = best
        load[best] += 1
    return chosen


def _plan_staggered(kind: PauseKind, windows: Windows, partners: dict[int, set[int]],
                    day: dt.date, seed: int, out: Plan) -> None:
    shift_of = shifts_for(kind, windows)
    single = len(kind.shifts) == 1
    for index, shift_start in enumerate(kind.shifts):
        for no in (n for n, _ in windows if shift_of[n] == index):
            rng = random.Random(f"pauses:{seed}:{day.isoformat()}:{kind.name}:{no}")
            minutes = _duration(kind, rng)
            # A later shift waits for its partners of an earlier shift to be back, and so
            # does a partner put in the same shift (AB posts in a ring of three cannot all
            # be split over two shifts) — except with a single shift: everyone at once.
            back = [p.end for q in partners[no] for p in out[q]
                    if p.kind == kind.name
                    and (shift_of[q] < index or (shift_of[q] == index and not single))]
            start = max([float(shift_start), *back])
            out[no].append(PlannedPause(start, start + minutes, no, kind.reason, kind.name))


def _duration(kind: PauseKind, rng: random.Random) -> float:
    return min(MAX_PAUSE_MINUTES, max(0.5, kind.minutes.sample(rng)))


def _random_starts(kind: PauseKind, rng: random.Random) -> list[float]:
    spans = kind.periods or ((0, 24 * 60),)
    total = sum(b - a for a, b in spans)
    starts = []
    for _ in range(_poisson(rng, kind.per_day)):
        x = rng.uniform(0, total)
        for a, b in spans:
            if x < b - a:
                starts.append(a + x)
                break
            x -= b - a
    return starts


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson count by Knuth's method (means here are a few a day)."""
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _place(pause: PlannedPause, kind: PauseKind, partners: dict[int, set[int]],
           out: Plan) -> None:
    """Add `pause` unless the clerk was away less than MIN_WORK_MINUTES before or after it (a
    clerk back from lunch does not leave again at once); moved past any AB partner's pause it
    would overlap, and dropped if that takes it out of its period."""
    own = out[pause.window]
    for _ in range(MAX_MOVES):
        if any(p.start - MIN_WORK_MINUTES < pause.end and pause.start < p.end + MIN_WORK_MINUTES
               for p in own):
            return
        clash = [p for q in partners[pause.window] for p in out[q] if p.overlaps(pause)]
        if not clash:
            if _inside(pause, kind.periods):
                own.append(pause)
            return
        start = max(p.end for p in clash)
        pause = PlannedPause(start, start + pause.minutes, pause.window, pause.reason,
                             pause.kind)


def _inside(pause: PlannedPause, periods: tuple[tuple[int, int], ...]) -> bool:
    if not periods:
        return pause.end <= 24 * 60
    return any(a <= pause.start and pause.end <= b for a, b in periods)


# ---- the profile's [pauses] tables ------------------------------------------------------------


def load_pauses(path: str | Path) -> PausePattern:
    """The pause pattern of a day profile (none: a profile without `[pauses]`)."""
    return read_profile(path, parse_pauses)


def parse_pauses(raw: dict[str, Any]) -> PausePattern:
    schedules = parse_schedules(raw)
    tables = raw.get("pauses", {})
    if not isinstance(tables, dict):
        raise ValueError("pauses: expected [pauses.<name>] tables")
    return PausePattern(tuple(_kind(name, spec, schedules) for name, spec in tables.items()))


def _kind(name: str, spec: Any, schedules: dict[str, tuple[tuple[int, int], ...]]) -> PauseKind:
    where = f"pauses.{name}"
    if not isinstance(spec, dict):
        raise ValueError(f"{where}: expected a table")
    staggered = "shifts" in spec
    if staggered == ("per_day" in spec):
        raise ValueError(f"{where}: give either shifts (a staggered pause, e.g. lunch) or "
                         "per_day (pauses at random times)")
    unknown = set(spec) - (STAGGERED_KEYS if staggered else RANDOM_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    reason = spec.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError(f"{where}.reason: a pause reason of the hall file is needed")
    minutes = _number(spec, "minutes", where)
    cv = _number(spec, "cv", where, default=0.3)
    if not 0 < minutes <= MAX_PAUSE_MINUTES or cv < 0:
        raise ValueError(f"{where}: minutes must be in (0, {MAX_PAUSE_MINUTES:g}] and cv ≥ 0")
    kind = PauseKind(name=name, reason=reason.strip(), minutes=Distribution(minutes, cv))
    if staggered:
        return _with_shifts(kind, spec["shifts"], where)
    per_day = _number(spec, "per_day", where)
    if not 0 <= per_day <= 50:
        raise ValueError(f"{where}.per_day: a mean count per window per day in [0, 50]")
    periods: tuple[tuple[int, int], ...] = ()
    if "schedule" in spec:
        if spec["schedule"] not in schedules:
            raise ValueError(f"{where}.schedule: {spec['schedule']!r} is not in [schedules]")
        periods = schedules[spec["schedule"]]
    return PauseKind(kind.name, kind.reason, kind.minutes, per_day=per_day, periods=periods)


def _with_shifts(kind: PauseKind, shifts: Any, where: str) -> PauseKind:
    if not isinstance(shifts, list) or not shifts:
        raise ValueError(f"{where}.shifts: a list of start times, e.g. [\"12:00\", \"12:45\"]")
    starts = tuple(minute_of(s, f"{where}.shifts") for s in shifts)
    if list(starts) != sorted(set(starts)):
        raise ValueError(f"{where}.shifts: start times must be in increasing order")
    return PauseKind(kind.name, kind.reason, kind.minutes, shifts=starts)


def _number(spec: dict[str, Any], key: str, where: str, default: float | None = None) -> float:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value):
        raise ValueError(f"{where}.{key}: a number is needed, not {value!r}")
    return float(value)
