"""What every shape shares: the bounds of the hall's values and the `Shape` base class."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from msgspec import Meta, Struct

from hub.config import MAX_WINDOW

MAX_CODE = 64  # item and department codes, usernames, ticket ids, pass and request codes
MAX_TEXT = 500  # reasons, notes, complaints: a few sentences
MAX_NOTICE = 300  # the screens' scrolling line (the engine's own limit)
MAX_SECRET = 256  # passwords and tokens (a token is 48 characters)
MAX_LIST = 64  # materials, departments, windows in one request
MAX_HALL_FILE = 1024 * 1024  # the admin page's hall file text (its routes' body limit)
FIRST_YEAR, LAST_YEAR = 2000, 2100  # days the hall's calendar arithmetic is asked about

WindowNo = Annotated[int, Meta(ge=1, le=MAX_WINDOW, description="a window's number")]
Code = Annotated[str, Meta(max_length=MAX_CODE)]
Text = Annotated[str, Meta(max_length=MAX_TEXT)]
Secret = Annotated[str, Meta(max_length=MAX_SECRET)]
HallText = Annotated[str, Meta(max_length=MAX_HALL_FILE)]
Quota = Annotated[int, Meta(ge=1, le=999, description="tickets a day (three digits)")]
Limit = Annotated[int, Meta(ge=1, le=1000)]


def in_calendar(day: dt.date | None, name: str) -> None:
    """Raised as a ValueError: msgspec turns it into a ValidationError like any other."""
    if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"`{name}` must be in {FIRST_YEAR}-{LAST_YEAR}")


class Shape(Struct, kw_only=True, omit_defaults=True):
    """Every shape: keyword fields, unknown fields ignored (a newer page may send more), and
    only the fields given come back out (`given`). An optional field takes null as not given,
    as the API always has."""

    def given(self) -> dict[str, Any]:
        return msgspec.to_builtins(self)
