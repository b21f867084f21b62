"""The shapes of what Socket.IO clients send the hub: each namespace's `auth` at connect and
the payloads of the events they emit. A payload that Socket.IO's JSON already parsed is
converted (hub.shapes.convert) with the same checks as an HTTP body."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from .base import MAX_CODE, MAX_LIST, Code, Secret, Shape, Text, WindowNo
from .requests import TicketRequest

# --- Socket.IO: what clients connect with and send ------------------------------------------


class Auth(Shape):
    """`auth` of every namespace's connect."""

    token: Secret | None = None


class DisplayAuth(Auth):
    room: Code = "hall"  # or window:<no>


class DeviceAuth(Auth):
    windows: Annotated[list[WindowNo], Meta(max_length=MAX_LIST)] = msgspec.field(
        default_factory=list)
    kiosk: Annotated[str, Meta(min_length=1, max_length=MAX_CODE)] | None = None
    printer: Any = None  # checked by the print desk (hub/web/printing.py)


class IssueTicket(TicketRequest):
    """A kiosk's ticket over its socket: always printed (`print` is not read)."""

    request_id: Code | None = None  # the same id again gets the same ticket


class LookupSlip(Shape):
    number: Annotated[str, Meta(max_length=32)]


class Complaint(Shape):
    category: Code | None = None
    text: Text | None = None
    window: WindowNo | None = None
    staff_no: Code | None = None
    phone: Code | None = None


class PrintSlip(Shape):
    slip: Code | None = None


class DecideReturn(Shape):
    ticket_id: Code | None = None
    approve: bool | None = None
    note: Text | None = None


class DeviceReport(Shape):
    id: Annotated[str, Meta(min_length=1, max_length=MAX_CODE)]
    kind: Annotated[str, Meta(min_length=1, max_length=MAX_CODE)]
    status: Annotated[str, Meta(min_length=1, max_length=MAX_CODE)]
    window: WindowNo | None = None
    windows: Annotated[list[WindowNo], Meta(max_length=MAX_LIST)] | None = None  # a slip printer's
    detail: Text | None = None


class Health(Shape):
    devices: Annotated[list[DeviceReport], Meta(max_length=256)]


class Scan(Shape):
    text: Annotated[str, Meta(min_length=1, max_length=512)]
