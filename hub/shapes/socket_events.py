"""The shapes of what Socket.IO clients send the hub: each namespace's `auth` at connect and
the payloads of the events they emit. A payload that Socket.IO's JSON already parsed is
converted (hub.shapes.convert) with the same checks as an HTTP body."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, get_args

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


# A device's name: an agent names a kiosk's devices after the kiosk (`id_reader@<kiosk>`, up to
# 64 characters of it: auth.kiosk), so twice a code, as auth.devices lists them.
MAX_DEVICE_NAME = 2 * MAX_CODE


class DeviceAuth(Auth):
    windows: Annotated[list[WindowNo], Meta(max_length=MAX_LIST)] = msgspec.field(
        default_factory=list)
    kiosk: Annotated[str, Meta(min_length=1, max_length=MAX_CODE)] | None = None
    printer: Any = None  # checked by the print desk (hub/web/printing.py)
    # Every device the agent has (names as in its health reports); None: not said (older agents).
    devices: Annotated[list[Annotated[str, Meta(max_length=MAX_DEVICE_NAME)]],
                       Meta(max_length=4 * MAX_LIST)] | None = None


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
    id: Annotated[str, Meta(min_length=1, max_length=MAX_DEVICE_NAME)]
    kind: Annotated[str, Meta(min_length=1, max_length=MAX_CODE)]
    status: Annotated[str, Meta(min_length=1, max_length=MAX_CODE)]
    window: WindowNo | None = None
    windows: Annotated[list[WindowNo], Meta(max_length=MAX_LIST)] | None = None  # a slip printer's
    detail: Text | None = None


class Health(Shape):
    devices: Annotated[list[DeviceReport], Meta(max_length=256)]


class Scan(Shape):
    text: Annotated[str, Meta(min_length=1, max_length=512)]


# --- /device: what an agent tells the hub ---------------------------------------------------

# Caller-keypad keys: each is the clerk panel's window action of that name (pause toggles).
KeyName = Literal["call-next", "recall", "skip", "pause", "transfer", "finish", "request-rating"]
KEYS: tuple[str, ...] = get_args(KeyName)


class DeviceEvent(Shape):
    """What every `device_event` carries (hub/device_desk.py); its `kind` says what else:
    KeyPress, RatingPress or RatingEnded, each read after this (a refusal of the rest is on
    record under the event's id, like any other verdict). The agent keeps each event until
    the hub answers and sends it again after a lost answer: the same id gets the same verdict,
    marked `duplicate`."""

    id: Annotated[str, Meta(min_length=8, max_length=64, description="stable across re-sends")]
    # Any number: a window the agent has no device at is refused as wrong_window.
    window: int
    device: Annotated[Any, Meta(description="the device's name, for the hub's log")] = None


class KeyPress(DeviceEvent, kw_only=True):
    """A caller keypad's key: the window action of that name."""

    kind: Literal["key"]
    key: KeyName


class RatingPress(DeviceEvent, kw_only=True):
    """A 好差评 press for the rating request `request_id` of its window."""

    kind: Literal["rating"]
    request_id: int  # any number: the engine judges which request is open
    level: Annotated[int, Meta(ge=1, le=5, description="1 非常满意 … 5 非常不满意")]
    # Never refused for its reason: a key the hall does not list is stored as no reason.
    reason: Annotated[Any, Meta(description=(
        "the reason key (1…n: the hall's [rating] reasons); anything else: no reason"))] = None
    at: Annotated[str, Meta(description=(
        "when it was pressed: ISO 8601 with its zone; default: when the hub hears it"))] | None \
        = None
    late_found: Annotated[Any, Meta(description=(
        "true: a press for a window opened before its agent (re)started, found in the "
        "keypad's ring at first contact or latched later (made by its window's end)"))] = None

    def __post_init__(self) -> None:
        self.pressed_at()  # its ValueError is a ValidationError, refused like any field

    def pressed_at(self) -> dt.datetime | None:
        if self.at is None:
            return None
        when = dt.datetime.fromisoformat(self.at)
        if when.tzinfo is None:
            raise ValueError("`at` needs its time zone")
        return when


class RatingEnded(DeviceEvent, kw_only=True):
    """A keypad closed a rating request's window without a press."""

    kind: Literal["rating_ended"]
    request_id: int
    why: Annotated[str, Meta(min_length=1, max_length=32, description=(
        "timeout (未评价), replaced, cancelled, device restarted, …"))]


class PrintResult(Shape):
    """An agent's answer to a print job (`print_result`), passed on to the page that asked.
    Read as leniently as ever: a job ends however its agent words it."""

    job: str
    ok: Annotated[Any, Meta(description="true: printed; anything else: not printed")] = None
    message: Annotated[Any, Meta(description="shown as text; default 已打印 when printed")] = None
    message_en: Annotated[Any, Meta(description="default Printed when printed")] = None
