"""The shapes of what the hub is sent and what it answers, as msgspec Structs: request bodies,
query strings, path parameters and Socket.IO payloads, with every integer bounded to its real
range and every string to a sane length, and the JSON bodies of the API's answers.

One place for HTTP and sockets alike (`decode`, `convert`, `query`, `path`: hub/shapes/
decoding.py). The OpenAPI document is generated from these Structs and the routes
(hub/web/openapi.py), so what is documented is what is checked.

    base.py           bounds and the Shape base class
    requests.py       HTTP request bodies, query strings, path parameters
    socket_events.py  Socket.IO: each namespace's connect `auth` and its events' payloads
    decoding.py       the one decoder, and its refusals
"""

from .base import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_CODE,
    MAX_HALL_FILE,
    MAX_LIST,
    MAX_NOTICE,
    MAX_SECRET,
    MAX_TEXT,
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
from .decoding import (
    attempted_username,
    check_text,
    convert,
    decode,
    path,
    query,
    refusal,
)
from .requests import (
    BODIES,
    Appointment,
    AuditQuery,
    CloseService,
    ConfigEdit,
    Empty,
    GreenPass,
    HallFile,
    JointCasesQuery,
    Login,
    MoveClerk,
    Notice,
    PartDone,
    PathParams,
    QuickEdit,
    RatingReason,
    ReportQuery,
    ReturnDecision,
    SlipStatusChange,
    TicketRequest,
    WindowAction,
)
from .socket_events import (
    KEYS,
    Auth,
    Complaint,
    DecideReturn,
    DeviceAuth,
    DeviceEvent,
    DeviceReport,
    DisplayAuth,
    Health,
    IssueTicket,
    KeyName,
    KeyPress,
    LookupSlip,
    PrintResult,
    PrintSlip,
    RatingEnded,
    RatingPress,
    Scan,
)

__all__ = [
    "BODIES", "FIRST_YEAR", "KEYS", "LAST_YEAR", "MAX_CODE", "MAX_HALL_FILE", "MAX_LIST",
    "MAX_NOTICE", "MAX_SECRET", "MAX_TEXT", "Appointment", "AuditQuery", "Auth", "CloseService",
    "Code", "Complaint", "ConfigEdit", "DecideReturn", "DeviceAuth", "DeviceEvent",
    "DeviceReport", "DisplayAuth", "Empty", "GreenPass", "HallFile", "HallText", "Health",
    "IssueTicket", "JointCasesQuery", "KeyName", "KeyPress", "Limit", "Login", "LookupSlip",
    "MoveClerk", "Notice", "PartDone", "PathParams", "PrintResult", "PrintSlip", "QuickEdit",
    "Quota", "RatingEnded", "RatingPress", "RatingReason", "ReportQuery", "ReturnDecision",
    "Scan", "Secret", "Shape", "SlipStatusChange", "Text", "TicketRequest", "WindowAction",
    "WindowNo", "attempted_username", "check_text", "convert", "decode", "in_calendar", "path",
    "query", "refusal",
]
