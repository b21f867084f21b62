"""The /device payloads' shapes (hub/shapes/socket_events.py) accept exactly what the checks
they replaced accepted: a rating press, a key, a rating window's end or a print result that an
agent's hub took before is taken now, and one it refused is refused, with the same code.

The checks they replaced are kept here word for word (`_before_*`), as the oracle: both are
given what an agent sends with each field in turn changed to values at the edges of what was
taken (or left out), then any fields changed together, then what is no event at all.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hub import shapes
from hub.engine import Invalid

KEYS = ("call-next", "recall", "skip", "pause", "transfer", "finish", "request-rating")


# --- the checks as they were ---------------------------------------------------------------

def _before_envelope(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "invalid"
    event_id = data.get("id")
    if not isinstance(event_id, str) or not 8 <= len(event_id) <= 64:
        return "invalid"
    window = data.get("window")
    if isinstance(window, bool) or not isinstance(window, int):
        return "invalid"
    return None


def _before_key(data: dict) -> str | None:
    return None if data.get("key") in KEYS else "unknown_key"


def _before_rating(data: dict) -> str | None:
    request_id, level = data.get("request_id"), data.get("level")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (request_id, level)):
        return "invalid"
    value = data.get("at")
    if value is not None:
        try:
            when = dt.datetime.fromisoformat(str(value))
        except ValueError:
            return "invalid"
        if when.tzinfo is None:
            return "invalid"
    # The engine refused a level outside 1-5 with the same code, before anything else it read.
    if level not in range(1, 6):
        return "invalid"
    return None


def _before_rating_ended(data: dict) -> str | None:
    request_id, why = data.get("request_id"), data.get("why")
    if isinstance(request_id, bool) or not isinstance(request_id, int):
        return "invalid"
    if not isinstance(why, str) or not 0 < len(why) <= 32:
        return "invalid"
    return None


def _before_print_result(data: Any) -> str | None:
    if not isinstance(data, dict) or not isinstance(data.get("job"), str):
        return "invalid"
    return None


# --- the shapes, read in the order hub/device_desk.py reads them -------------------------

def _code(read) -> str | None:
    try:
        read()
    except Invalid as err:
        return err.code
    return None


def _now_key(data: dict) -> str | None:
    try:
        shapes.convert(data, shapes.KeyPress)
    except Invalid:
        return "unknown_key"  # as the desk words it
    return None


AFTER = {"key": _now_key,
         "rating": lambda d: _code(lambda: shapes.convert(d, shapes.RatingPress)),
         "rating_ended": lambda d: _code(lambda: shapes.convert(d, shapes.RatingEnded))}
BEFORE = {"key": _before_key, "rating": _before_rating, "rating_ended": _before_rating_ended}


# --- payloads ---------------------------------------------------------------------------------

NUMBERS = [0, -1, 1, 4, 5, 6, 9999, 10_000, 65535, 65536, 2**63 - 1, -(2**63), 1.0, 4.0, 1.5,
           True, False, "1", None]
ANYTHING = [None, "", "x", [], [1], {}, {"a": 1}, True, 0, 3.5, "\u4e00" * 70]
NEAR = {  # per field: values at the edges of what was taken, and far from it
    "id": ["1234567", "12345678", "x" * 64, "x" * 65, 12345678],
    "window": NUMBERS, "request_id": NUMBERS, "level": NUMBERS,
    "kind": ["key", "rating", "rating_ended", "Key", "rating "],
    "key": [*KEYS, "dance", "CALL-NEXT", "call_next"],
    "reason": [*NUMBERS, "办事效率", [1], {"r": 1}],
    "at": ["2026-03-02T10:00:00+08:00", "2026-03-02T10:00:00", "2026-03-02 10:00:00Z",
           "2026-03-02T10:00:00.123456789+00:00", "20260302T100000Z", "2026-03-02",
           "2026-W10-1T10:00+08:00", "2026-03-02T10:00:00+08:00" + "0" * 40, "not a time",
           1_700_000_000, 1.5e9],
    "why": ["timeout", "x" * 32, "x" * 33, "未评价"],
    "device": ["bus1/rating@1", 1],
    "late_found": [True, False, "true", 1],
}
FIELDS = list(NEAR)
DROPPED = object()
AGENT_SENDS = {  # what agent/bridge.py sends, one of each kind
    "key": {"id": "4b1f6c3e-0d4e-4b7a-9f57-0a5c1d2e3f40", "kind": "key", "window": 1,
            "key": "call-next", "device": "bus1/caller@1", "at": "2026-03-02T10:00:00+08:00"},
    "rating": {"id": "4b1f6c3e-0d4e-4b7a-9f57-0a5c1d2e3f41", "kind": "rating", "window": 1,
               "request_id": 7, "level": 4, "reason": 2, "device": "bus1/rating@1",
               "at": "2026-03-02T10:00:00.250000+08:00", "late_found": True},
    "rating_ended": {"id": "4b1f6c3e-0d4e-4b7a-9f57-0a5c1d2e3f42", "kind": "rating_ended",
                     "window": 1, "request_id": 7, "why": "timeout",
                     "device": "bus1/rating@1", "at": "2026-03-02T10:00:30+08:00"},
}


def _same_verdict(data: Any) -> None:
    before = _before_envelope(data)
    assert _code(lambda: shapes.convert(data, shapes.DeviceEvent)) == before, data
    kind = data.get("kind") if before is None else None
    if isinstance(kind, str) and kind in BEFORE:  # else the desk refuses it, as before
        assert AFTER[kind](data) == BEFORE[kind](data), data


def test_each_field_of_each_kind_changed_alone_gets_the_verdict_it_got_before():
    for sent in AGENT_SENDS.values():
        _same_verdict(sent)
        for name in FIELDS:
            for value in [*NEAR[name], *ANYTHING, DROPPED]:
                changed = {k: v for k, v in sent.items() if k != name}
                if value is not DROPPED:
                    changed[name] = value
                _same_verdict(changed)


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=70))
values = st.one_of(scalars, st.lists(scalars, max_size=2),
                   st.dictionaries(st.text(max_size=3), scalars, max_size=2))


@settings(max_examples=600, deadline=None, derandomize=True, database=None)
@given(base=st.sampled_from(sorted(AGENT_SENDS)), changes=st.dictionaries(
    st.sampled_from(FIELDS), st.one_of(values, st.sampled_from(
        [v for near in NEAR.values() for v in near])), max_size=4))
def test_any_fields_changed_get_the_verdict_they_got_before(base, changes):
    _same_verdict({**AGENT_SENDS[base], **changes})


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(data=values)
def test_what_is_no_device_event_is_refused_as_before(data):
    _same_verdict(data)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(request_id=st.integers(0, 65535), level=st.integers(1, 5),
       reason=st.one_of(st.none(), st.integers(0, 9)),
       at=st.datetimes(timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=8))])))
def test_every_rating_press_an_agent_sends_is_taken(request_id, level, reason, at):
    press = {**AGENT_SENDS["rating"], "request_id": request_id, "level": level,
             "reason": reason, "at": at.isoformat()}
    read = shapes.convert(press, shapes.RatingPress)
    assert (read.request_id, read.level, read.reason, read.pressed_at()) == (
        request_id, level, reason, at)


PRINTED = {"job": "0f4c2a9e8b7d4c1a9e8b7d4c1a9e8b7d", "ok": True, "message": "",
           "message_en": ""}


def _same_print_verdict(data: Any) -> None:
    now = _code(lambda: shapes.convert(data, shapes.PrintResult))
    assert now == _before_print_result(data), data
    if now is None:
        said = shapes.convert(data, shapes.PrintResult)
        assert (said.ok is True, str(said.message or ""), str(said.message_en or "")) == (
            data.get("ok") is True, str(data.get("message") or ""),
            str(data.get("message_en") or "")), data


def test_a_print_result_is_refused_by_its_shape_exactly_when_it_was_before():
    _same_print_verdict(PRINTED)
    for name in PRINTED:
        for value in [*ANYTHING, *NUMBERS, "缺纸", DROPPED]:
            changed = {k: v for k, v in PRINTED.items() if k != name}
            if value is not DROPPED:
                changed[name] = value
            _same_print_verdict(changed)
    for value in ANYTHING:
        _same_print_verdict(value)
