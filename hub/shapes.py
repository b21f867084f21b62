"""The shapes of what the hub is sent: request bodies, query strings, path parameters and
Socket.IO payloads, as msgspec Structs with every integer bounded to its real range and every
string to a sane length.

One place for HTTP and sockets alike: an HTTP body is decoded from its bytes (`decode`), a
socket payload that Socket.IO's JSON already parsed is converted (`convert`), a query string
or a route's parameters are converted leniently from text (`query`, `path`). All four refuse
the same way, with `Invalid` (a 422, or an error ack) and a bilingual message that names the
field; a string holding a lone surrogate ("\\ud800", which no UTF-8 store or hash can take) or
a structure nested deeper than the parser goes is refused there too, so nothing past this
module meets either. The OpenAPI document takes its request schemas from these Structs
(hub/web/openapi.py), so what is documented is what is checked.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from hub.config import MAX_WINDOW
from hub.engine import Invalid
from hub.engine.model import Channel, OutcomeKind, SlipStatus

# --- bounds ---------------------------------------------------------------------------------

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

S = TypeVar("S")


def _in_calendar(day: dt.date | None, name: str) -> None:
    """Raised as a ValueError: msgspec turns it into a ValidationError like any other."""
    if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"`{name}` must be in {FIRST_YEAR}-{LAST_YEAR}")


class Shape(Struct, kw_only=True, omit_defaults=True):
    """Every shape: keyword fields, unknown fields ignored (a newer page may send more), and
    only the fields given come back out (`given`). An optional field takes null as not given,
    as the API always has."""

    def given(self) -> dict[str, Any]:
        return msgspec.to_builtins(self)


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

    def __post_init__(self) -> None:
        if not self.service and self.channel in (None, Channel.NORMAL):
            raise ValueError("Object missing required field `service`")


class RatingReason(Shape):
    reason: Text


class Login(Shape):
    username: Code
    password: Secret
    window: WindowNo | None = None  # a clerk's window


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
        _in_calendar(self.reported_on, "reported_on")


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

    def __post_init__(self) -> None:
        _in_calendar(self.day, "day")


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
        _in_calendar(self.since, "since")


class ReportQuery(Shape):
    start: dt.date | None = msgspec.field(default=None, name="from")  # default: today
    end: dt.date | None = msgspec.field(default=None, name="to")  # default: from
    by: Code | None = None  # the grouping; each report lists its own
    format: Literal["json", "csv", "xlsx"] = "json"

    def __post_init__(self) -> None:
        _in_calendar(self.start, "from")
        _in_calendar(self.end, "to")


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


# --- Socket.IO: what clients connect with and send ------------------------------------------


class Auth(Shape):
    """`auth` of every namespace's connect."""

    token: Secret | None = None


class DisplayAuth(Auth):
    room: Code = "hall"  # or window:<no>


class DeviceAuth(Auth):
    windows: Annotated[list[WindowNo], Meta(max_length=MAX_LIST)] = []
    kiosk: Annotated[str, Meta(min_length=1, max_length=MAX_CODE)] | None = None
    printer: Any = None  # checked by the print desk (hub/web/printing.py)
    # Every device the agent has (names as in its health reports); None: not said (older agents).
    devices: Annotated[list[Annotated[str, Meta(max_length=2 * MAX_CODE)]],
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


# The request bodies of the HTTP API, by the name the OpenAPI document gives them.
BODIES: tuple[type[Shape], ...] = (
    TicketRequest, RatingReason, Login, WindowAction, SlipStatusChange, PartDone, Notice,
    CloseService, MoveClerk, ReturnDecision, GreenPass, Appointment, HallFile, ConfigEdit,
)


# --- the one decoder --------------------------------------------------------------------------


def decode(raw: bytes, shape: type[S]) -> S:
    """An HTTP body (its bytes; empty: `{}`) as `shape`. msgspec's decoder refuses a lone
    surrogate in any string of the body, wherever it is, as malformed JSON."""
    try:
        return msgspec.json.decode(raw.strip() or b"{}", type=shape)
    except msgspec.ValidationError as err:
        raise refusal(err) from None
    except msgspec.DecodeError as err:
        raise Invalid(
            "invalid_json", "请求体不是有效的JSON（文字须为有效的Unicode）",
            f"the request body is not valid JSON (text must be valid Unicode): {err}",
        ) from None
    except RecursionError:
        raise _too_deep() from None


def convert(data: Any, shape: type[S]) -> S:
    """A Socket.IO payload (parsed by Socket.IO's JSON: a lone surrogate survives that) as
    `shape`, with the same checks as an HTTP body: strict types, bounds, valid text."""
    try:
        value = msgspec.convert({} if data is None else data, shape, strict=True)
    except msgspec.ValidationError as err:
        raise refusal(err) from None
    except RecursionError:
        raise _too_deep() from None
    check_text(value)
    return value


def check_text(value: Any) -> None:
    """Refuse a value whose strings are not valid Unicode (a lone surrogate) or that nests
    deeper than the encoder goes: what neither the store nor the audit chain can take."""
    try:
        msgspec.json.encode(value)
    except UnicodeEncodeError:
        raise Invalid("invalid_text", "文字含无效字符", "a string holds a lone surrogate "
                      "(text must be valid Unicode)") from None
    except RecursionError:
        raise _too_deep() from None
    except (TypeError, OverflowError) as err:  # bytes are fine; an int past 64 bits is not
        raise Invalid("invalid", "数据格式错误", f"not a JSON value: {err}") from None


def query(args: Mapping[str, str], shape: type[S]) -> S:
    """A query string as `shape`: numbers and days read from their text, an empty value is
    left out (as if not given)."""
    present = {k: v for k, v in args.items() if v != ""}
    try:
        value = msgspec.convert(present, shape, strict=False)
    except msgspec.ValidationError as err:
        raise refusal(err) from None
    check_text(value)
    return value


def path(values: Mapping[str, Any]) -> PathParams:
    """A route's path parameters, bounded like every other input. A value out of its range
    names nothing the hub has: 404, not 422."""
    try:
        return msgspec.convert(dict(values), PathParams, strict=False)
    except msgspec.ValidationError as err:
        where = _where(str(err)) or "path"
        raise _NotFound("not_found", f"无此地址（{where}）",
                        f"no such resource: {str(err).replace('`', '')}") from None


class _NotFound(Invalid):
    kind = "not_found"


def _too_deep() -> Invalid:
    return Invalid("too_deep", "数据嵌套过深", "the data is nested too deeply")


_AT = re.compile(r" - at `\$\.?([^`]*)`$")


def _where(message: str) -> str:
    found = _AT.search(message)
    return found.group(1) if found else ""


_ZH = (  # msgspec's message -> what the field is in Chinese
    (re.compile(r"missing required field `([^`]*)`"), "缺少字段 {0}"),
    (re.compile(r"Expected `(str|array|object)` of length"), "字段 {at} 长度超出范围"),
    (re.compile(r"Expected `int` [<>]=|Number out of range|Integer value out of range"),
     "字段 {at} 超出范围"),
    (re.compile(r"Invalid enum value"), "字段 {at} 取值无效"),
    (re.compile(r"Invalid RFC3339 encoded date"), "字段 {at} 应为 YYYY-MM-DD"),
    (re.compile(r"must be in \d+-\d+"), "日期超出范围"),
    (re.compile(r"Expected `object`, got"), "内容应为JSON对象"),
    (re.compile(r"Expected `"), "字段 {at} 类型错误"),
)


def refusal(err: msgspec.ValidationError) -> Invalid:
    """msgspec's ValidationError as the API's 422: bilingual, naming the field."""
    message = str(err)
    at = _where(message) or "$"
    reason = _AT.sub("", message)
    zh = "请求内容无效"
    for pattern, text in _ZH:
        found = pattern.search(reason)
        if found:
            zh = text.format(*found.groups(), at=at)
            break
    en = reason.replace("`", "'") + (f" (at {at})" if at != "$" else "")
    return Invalid("invalid", zh, en)


class _SignInAttempt(Struct):
    username: Any = ""


def attempted_username(raw: bytes) -> str:
    """Whom a sign-in refused for its shape tried to be, for its audit record: the body's
    username if one reads (bounded like any account name), else ""."""
    try:
        name = msgspec.json.decode(raw, type=_SignInAttempt).username
    except (msgspec.DecodeError, RecursionError):
        return ""
    return name[:MAX_CODE] if isinstance(name, str) else ""
