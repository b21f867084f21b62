"""刷身份证取号: what a device agent sends when a card is read (`id_card` on /device), what the
kiosk asks with the sealed handle it was pushed, and what it is answered. The card's number and
name only ever pass through `IdCard`: the hub turns them into a pseudonym and a masked name at
once (hub/service/identity.py) and keeps neither."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from msgspec import Meta

from .base import Shape
from .responses import Answer, Slip

HANDLE = Annotated[str, Meta(max_length=300, description=(
    "the sealed handle the kiosk was pushed (`identity` on /kiosk) after a swipe"))]


class IdCard(Shape):
    """A card read at a kiosk's reader: its text fields, or `error` for a card that could not
    be read. Lengths are generous: a number that is not a valid one is refused by the hub with
    `id_invalid`, not by its shape."""

    number: Annotated[str, Meta(max_length=64, description="the 18-character ID number")] = ""
    name: Annotated[str, Meta(max_length=64, description="the full name, or \"\"")] = ""
    birth: Annotated[str, Meta(max_length=16, description="YYYY-MM-DD, or \"\"")] = ""
    valid_until: Annotated[str, Meta(max_length=16, description=(
        "YYYY-MM-DD; null or \"\": no end (长期) or not read"))] | None = None
    error: Annotated[str, Meta(max_length=32, description="\"unreadable\": a damaged card or "
                                                          "a failed read")] | None = None


class IdentityLookup(Shape):
    identity: HANDLE


class Identity(Answer):
    """A person as the kiosk may show them: the masked name, never the number or full name."""

    masked_name: str
    elderly: bool


class AppointmentOfPerson(Answer):
    code: str
    service: str
    service_name: str
    service_name_en: str
    day: dt.date
    used: bool


class IdentityFound(Answer):
    """The person's open 承诺单 and today's appointments booked for them."""

    identity: Identity
    slips: Annotated[list[Slip], Meta(description="open 承诺单 (not yet collected), as the "
                                                  "kiosk's slip look-up shows each")]
    appointments: list[AppointmentOfPerson]
