"""One object for each equal immutable value of a state read back from JSON.

A state built by the engine shares its values: a ticket's service code is the hall file's
string, its visit's `called_at` the ticket's own datetime, the day one `date`. A state decoded
from a snapshot has a fresh object for every one of them (msgspec decodes each occurrence), and
a day's tickets then cost about half as much again: 1.8 KiB a ticket instead of 1.2 KiB, some
1.9 MiB more for a busy day's 3,000 (benchmarks/day_memory.py), held by a hub restarted during
the day until midnight. `share_equal` makes equal strings, dates and datetimes one object again,
in place; values, types and the state's JSON are unchanged (they are immutable: sharing one is
never seen). The store reads a snapshot's tickets one at a time through a `Sharing`, so that
the copies are dropped as they come rather than all made first (hub/store/store.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from .state import HallState

_DATE = dt.date
_DATETIME = dt.datetime


class Sharing:
    """A pool of values: `one(x)` is the first object seen equal to `x` (and of its type)."""

    def __init__(self) -> None:
        self.values: dict[Any, Any] = {}

    def one(self, value: Any) -> Any:
        """The pool's object equal to `value` (itself, the first time)."""
        kind = type(value)
        if kind is str or kind is _DATE:
            return self.values.setdefault((kind, value), value)
        if kind is _DATETIME:
            # Equal instants in different zones are equal datetimes, but not the same value:
            # the zone (and fold) belong to the key, so a value is only shared with its twin.
            return self.values.setdefault((kind, value, value.tzinfo, value.fold), value)
        if isinstance(value, msgspec.Struct):
            if value.__struct_config__.frozen:  # none in the state; left as it is
                return value
            for name in value.__struct_fields__:
                field = getattr(value, name)
                shared = self.one(field)
                if shared is not field:
                    setattr(value, name, shared)
            return value
        if kind is list:
            for i, item in enumerate(value):
                shared = self.one(item)
                if shared is not item:
                    value[i] = shared
            return value
        if kind is dict:
            if any(type(k) is str for k in value):  # the keys too: rebuilt in their order
                items = [(self.one(k), self.one(v)) for k, v in value.items()]
                value.clear()
                value.update(items)
            else:
                for k, v in value.items():
                    shared = self.one(v)
                    if shared is not v:
                        value[k] = shared
            return value
        return value  # numbers, enums, tuples of numbers, None: nothing to gain


def share_equal(state: HallState) -> HallState:
    """`state`, its equal strings, dates and datetimes made one object each (in place)."""
    Sharing().one(state)
    return state
