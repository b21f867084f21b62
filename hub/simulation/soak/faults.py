"""The faults a hall has, on a schedule across the simulated day. Pure: a schedule is a list of
timed steps; the soak's runner applies them to the processes and devices.

Times are shares of the day's window, so the same list fits a full day and the test suite's two
hours; durations are the hall's minutes, capped at a quarter of the window (the backend's hour
down would otherwise be half of a two-hour run). The day's end — the rollover at midnight,
with what is still open expired — ends every run, faults or none."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    kind: str  # see KINDS
    share: float  # when, as a share of the day's window
    minutes: float = 0.0  # how long, for a fault that is undone


KINDS = {
    "hub_kill": "the hub SIGKILLed (started again at once, as systemd does)",
    "agent_restart": "the device agent stopped and started again",
    "forwarder_restart": "the forwarder stopped and started again",
    "paper_out": "the kiosk's printer out of paper",
    "bus_unplug": "a keypad bus's adapter unplugged",
    "backend_down": "the supervision backend down",
}

SCHEDULES: dict[str, tuple[Fault, ...]] = {
    "default": (
        Fault("hub_kill", 0.15),
        Fault("paper_out", 0.25, 10),
        Fault("agent_restart", 0.35),
        Fault("bus_unplug", 0.45, 5),
        Fault("backend_down", 0.55, 60),
        Fault("forwarder_restart", 0.70),
        Fault("hub_kill", 0.85),
    ),
    # A compressed subset for quick runs: still a crash, an unplug and the backend away.
    "short": (
        Fault("hub_kill", 0.3),
        Fault("bus_unplug", 0.45, 5),
        Fault("backend_down", 0.6, 60),
    ),
    "none": (),
}


@dataclass(frozen=True, order=True)
class Step:
    at: dt.datetime
    kind: str
    undo: bool = False  # the end of a fault with a duration


def schedule(name: str, start: dt.datetime, end: dt.datetime) -> list[Step]:
    """The steps of schedule `name` in [start, end], in time order."""
    if name not in SCHEDULES:
        raise ValueError(f"--faults is one of {', '.join(SCHEDULES)}, not {name!r}")
    window = end - start
    steps = []
    for fault in SCHEDULES[name]:
        at = start + window * fault.share
        steps.append(Step(at, fault.kind))
        if fault.minutes:
            steps.append(Step(at + min(dt.timedelta(minutes=fault.minutes), window / 4),
                              fault.kind, undo=True))
    return sorted(steps)
