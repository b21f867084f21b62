"""The shapes of what the hub's HTTP API is sent: request bodies, query strings and path
parameters, every integer bounded to its real range and every string to a sane length. The
OpenAPI document takes their schemas from here (hub/web/openapi.py)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from hub.engine.model import Channel, OutcomeKind, SlipStatus

from .base import (
    MAX_LIST,
    MAX_NOTICE,
    Code,
    HallText,
    Limit,
    Quota,
    Secret,
    Shape,
    Text,
    WindowNo,
    in_calendar,
)

# --- HTTP request bodies --------------------------------------------------------------------


class Empty(Shape):
    """A body that carries nothing: none, or a JSON object (whose fields are ignored)."""


class TicketRequest(Shape):
    service: Code | None = None  # the item; a green pass or an appointment names its own
    channel: Channel | None = None  # normal
    code: Code | None = None  # a green-channel or appointment code
    print: Annotated[bool, Meta(description=(
        "kiosk token: print it at the printer of the agent beside this kiosk; the outcome is "
        "pushed as `printed` to the kiosk's /kiosk sockets"))] | None = None
    materials: Annotated[bool, Meta(
        description="with print: add the 一次性告知 materials list")] | None = None
    identity: Annotated[str, Meta(max_length=300, description=(
        "刷身份证取号: the sealed handle the kiosk was pushed after a swipe (`identity` on "
        "/kiosk): the ticket is bound to that person under the per-person rules"))] | None = None

    def __post_init__(self) -> None:
        if not self.service and self.channel in (None, Channel.NORMAL):
            raise ValueError("Object missing required field `service`")


class TakeRequest(Shape):
    """扫码取号: a ticket taken on a phone from the hall's poster."""

    poster: Annotated[Code, Meta(description="the poster's secret of today (its URL's last part)")]
    service: Code
    device: Annotated[Code, Meta(description=(
        "the random id the phone's page keeps (8-64 characters): the per-device daily limit"))]


class RatingReason(Shape):
    reason: Text


OneTimeCode = Annotated[str, Meta(max_length=16, description=(
    "the 6-digit code of the account's authenticator (TOTP); asked for with 401 otp_required"))]


class Login(Shape):
    username: Code
    password: Secret
    window: WindowNo | None = None  # a clerk's window
    otp: OneTimeCode | None = None


class ChangePassword(Shape):
    username: Code
    password: Secret  # the current one
    new_password: Secret
    otp: OneTimeCode | None = None


class WindowAction(Shape):
    """The arguments of a window action; each action reads the fields it needs."""

    number: Code | None = None  # call: the ticket's number
    service: Code | None = None  # transfer: to an item
    window: WindowNo | None = None  # transfer: to a window
    reason: Text | None = None  # pause reason, transfer or 退件 reason
    outcome: OutcomeKind | None = None  # finish
    items: Annotated[list[Text], Meta(max_length=MAX_LIST)] | None = None
    departments: Annotated[list[Code], Meta(max_length=MAX_LIST)] | None = None
    authority: Text | None = None  # 上报件: to whom
    reported_on: dt.date | None = None

    def __post_init__(self) -> None:
        in_calendar(self.reported_on, "reported_on")


class SlipStatusChange(Shape):
    status: SlipStatus


class PartDone(Shape):
    department: Code | None = None  # the office names it; a clerk's is their window's


class Notice(Shape):
    text: Annotated[str, Meta(max_length=MAX_NOTICE)]  # empty: the hall file's notice again
    text_en: Annotated[str, Meta(max_length=MAX_NOTICE)] | None = None


class CloseService(Shape):
    reason: Text


class MoveClerk(Shape):
    window: WindowNo


class ReturnDecision(Shape):
    note: Text | None = None


class GreenPass(Shape):
    code: Code
    project: Text
    service: Code | None = None


class Appointment(Shape):
    code: Code
    service: Code
    day: dt.date
    id_number: Annotated[str, Meta(max_length=32, description=(
        "the citizen's ID number: kept only as a keyed hash, so a swipe at the kiosk finds "
        "the appointment (POST /identity/lookup)"))] | None = None

    def __post_init__(self) -> None:
        in_calendar(self.day, "day")


class HallFile(Shape):
    toml: HallText


class QuickEdit(Shape):
    """One common change of the hall file (hub/reload.py `quick_edit`): an item's quota and
    hours, or a window's items and backup (null removes the backup)."""

    service: Code | UnsetType = UNSET
    daily_quota: Quota | None = None
    hours: Code | None = None
    window: WindowNo | UnsetType = UNSET
    services: Annotated[list[Code], Meta(max_length=MAX_LIST)] | None = None
    backup: WindowNo | UnsetType | None = UNSET


class ConfigEdit(Shape):
    edit: QuickEdit
    toml: HallText | None = None  # the text being edited; default: the running file


# --- query strings and route parameters ------------------------------------------------------


class AuditQuery(Shape):
    account: Code | None = None
    since: dt.date | None = None  # a day of the hall
    limit: Limit = 100

    def __post_init__(self) -> None:
        in_calendar(self.since, "since")


class AuditExportQuery(Shape):
    start: dt.date = msgspec.field(name="from")  # days of the hall, both included
    end: dt.date = msgspec.field(name="to")
    format: Literal["jsonl", "csv"] = "jsonl"

    def __post_init__(self) -> None:
        in_calendar(self.start, "from")
        in_calendar(self.end, "to")


class ReportQuery(Shape):
    start: dt.date | None = msgspec.field(default=None, name="from")  # default: today
    end: dt.date | None = msgspec.field(default=None, name="to")  # default: from
    by: Code | None = None  # the grouping; each report lists its own
    format: Literal["json", "csv", "xlsx"] = "json"

    def __post_init__(self) -> None:
        in_calendar(self.start, "from")
        in_calendar(self.end, "to")


class JointCasesQuery(Shape):
    department: Code | None = None


class PathParams(Shape):
    """Every parameter a route takes from its path, by name: all bounded alike."""

    ticket_id: Code | None = None
    number: Code | None = None  # a slip's
    code: Code | None = None  # an item's
    username: Code | None = None
    no: WindowNo | None = None
    action: Code | None = None
    decision: Literal["approve", "refuse"] | None = None
    staff_no: Code | None = None
    key: Code | None = None
    lang: Code | None = None
    case_id: Code | None = None  # a supervision case's (GD…)
    draw_id: Code | None = None  # a spot check's: CC2026W48
    poster: Code | None = None  # 扫码取号: the poster's secret of the day
    cap: Code | None = None  # a citizen's phone link's capability (checked by the service)


# The request bodies of the HTTP API, by the name the OpenAPI document gives them.
BODIES: tuple[type[Shape], ...] = (
    TicketRequest, RatingReason, Login, WindowAction, SlipStatusChange, PartDone, Notice,
    CloseService, MoveClerk, ReturnDecision, GreenPass, Appointment, HallFile, ConfigEdit,
    ChangePassword, TakeRequest,
)
