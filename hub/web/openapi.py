"""The OpenAPI 3.1 document of everything the hub serves over HTTP, kept beside the routes.

Request bodies, query strings and path parameters are the Structs that check them
(hub/shapes.py): their schemas are generated, never written twice. Every status a route can
answer is listed (tests/test_openapi.py drives each route with hostile input and holds the
document to what comes back). Pages and their files are here too, as text/html; only the pages'
static assets are left out (tests/test_openapi.py names them).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec

from hub import __version__, shapes
from hub.engine.model import SlipStatus
from hub.service import WINDOW_ACTIONS

SLIP_STATUSES = tuple(s.value for s in SlipStatus)
_REF = "#/components/schemas/{name}"

_ERROR = {"$ref": "#/components/schemas/Error"}
_OBJ = {"type": "object"}
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_ERROR_TEXT = {
    401: "Missing, invalid or expired token",
    403: "The caller's role or window may not do this",
    404: "No such item (or a path parameter out of its range)",
    409: "Refused by the hall's rules right now (closed, quota, queue empty, ...)",
    413: "The request body is too large (64 KiB; the admin routes 1 MiB)",
    422: "Malformed request: not JSON, a field of the wrong type or out of its range, text "
         "that is not valid Unicode",
    429: "Too many failed sign-ins (Retry-After says when to try again)",
}


def _ok(status: int = 200, schema: dict | None = None, *, media: str = "application/json",
        more: dict[str, dict] | None = None, text: str = "OK") -> dict[str, Any]:
    content = {media: {"schema": schema or _OBJ}, **(more or {})}
    return {str(status): {"description": text, "content": content}}


def _responses(ok: dict[str, Any], *errors: int) -> dict[str, Any]:
    out = dict(ok)
    for code in sorted(errors):
        out[str(code)] = {
            "description": _ERROR_TEXT[code],
            "content": {"application/json": {"schema": _ERROR}},
        }
    return out


@cache
def _components() -> dict[str, Any]:
    shapes_used = (*shapes.BODIES, shapes.Empty, shapes.AuditQuery, shapes.ReportQuery,
                   shapes.JointCasesQuery, shapes.PathParams)
    _, components = msgspec.json.schema_components(shapes_used, ref_template=_REF)
    return components


def _body(shape: type[shapes.Shape], required: bool = True) -> dict[str, Any]:
    schema = {"$ref": _REF.format(name=shape.__name__)}
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema without the `null` of its optional field (a query string or a
    path has no null) and without its default (said in the description instead)."""
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    found = dict(options[0]) if len(options) == 1 else {"anyOf": options}
    found.pop("default", None)
    return found


def _query(shape: type[shapes.Shape], **described: str) -> list[dict[str, Any]]:
    props = _components()[shape.__name__]["properties"]
    required = set(_components()[shape.__name__].get("required", []))
    return [{"name": name, "in": "query", "required": name in required,
             "schema": _not_null(schema),
             **({"description": described[name]} if name in described else {})}
            for name, schema in props.items()]


def _path(*names: str, **enums: list[str]) -> list[dict[str, Any]]:
    props = _components()["PathParams"]["properties"]
    out = []
    for name in names:
        schema = _not_null(props[name])
        if name in enums:
            schema = {**schema, "enum": enums[name]}
        out.append({"name": name, "in": "path", "required": True, "schema": schema})
    return out


# Answered by the HTTP server (eventlet) before the hub reads the request, on any route.
_SERVER = {
    "400": {"$ref": "#/components/responses/MalformedHttp"},
    "414": {"$ref": "#/components/responses/UriTooLong"},
}
_SERVER_RESPONSES = {
    "MalformedHttp": {"description": "Not valid HTTP (a header line over 8 KiB, a bad "
                                     "Content-Length): answered by the HTTP server"},
    "UriTooLong": {"description": "A request line over 8 KiB: answered by the HTTP server"},
}


def _op(summary: str, responses: dict, body: dict | None = None, auth: bool = True,
        params: list | None = None, tag: str = "api") -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "tags": [tag],
                          "responses": {**responses, **_SERVER}}
    if body:
        op["requestBody"] = body
    if not auth:
        op["security"] = []
    if params:
        op["parameters"] = params
    return op


def _page(summary: str, *errors: int, params: list | None = None) -> dict[str, Any]:
    """A page of the hub: HTML for a browser, its live data over Socket.IO with a token."""
    return {"get": _op(summary, _responses(_ok(media="text/html", schema={"type": "string"}),
                                           *errors), auth=False, params=params, tag="pages")}


# Statuses every route of a kind can answer besides its own.
_WRITE = (401, 403, 413, 422)  # a POST with a JSON body, by a token of some roles
_READ = (401, 403)


@cache
def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Onestop hub API",
            "version": __version__,
            "description": "Queue, tickets and windows of a public administrative service "
            'center. Errors are {"error": {"code", "message"}} with a bilingual message; bad '
            "input is a 4xx, never a 5xx.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "tags": [{"name": "api", "description": "JSON under /api/v1"},
                 {"name": "pages", "description": "The hall's pages, for browsers"},
                 {"name": "operations", "description": "Health and metrics"}],
        "paths": {**_operations(), **_api_paths(), **_office_paths(), **_pages()},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {**_components(), **_RESPONSE_SCHEMAS},
            "responses": _SERVER_RESPONSES,
        },
    }


def _operations() -> dict[str, Any]:
    return {
        "/healthz": {"get": _op("Liveness, the last committed event and the hall file's hash",
                                _responses(_ok()), auth=False, tag="operations")},
        "/metrics": {"get": _op(
            "The hall in the Prometheus text format (a metrics token or an office session)",
            _responses(_ok(media="text/plain", schema={"type": "string"}), *_READ),
            tag="operations")},
        "/api/v1/openapi.json": {"get": _op("This document", _responses(_ok()), auth=False)},
    }


def _api_paths() -> dict[str, Any]:
    ticket = {"$ref": "#/components/schemas/Ticket"}
    slip = {"$ref": "#/components/schemas/Slip"}
    return {
        "/api/v1/services": {"get": _op(
            "Service items with their six disclosures and required materials",
            _responses(_ok(), 401))},
        "/api/v1/queue": {"get": _op(
            "Snapshot of the hall: windows, waiting, recent calls", _responses(_ok(), 401))},
        "/api/v1/tickets": {"post": _op(
            "Issue a ticket (kiosk, supervisor); with `print` (a kiosk token) it is printed at "
            "the printer of the agent beside the kiosk, as /kiosk issue_ticket prints",
            _responses(_ok(201, ticket), *_WRITE, 404, 409), _body(shapes.TicketRequest))},
        "/api/v1/tickets/{ticket_id}": {"get": _op(
            "One ticket (devices get it without what is the office's)",
            _responses(_ok(200, ticket), 401, 404), params=_path("ticket_id"))},
        "/api/v1/tickets/{ticket_id}/rating-reason": {"post": _op(
            "The reason for a 不满意 rating, added later (kiosk or supervisor)",
            _responses(_ok(), *_WRITE, 404, 409), _body(shapes.RatingReason),
            params=_path("ticket_id"))},
        "/api/v1/login": {"post": _op(
            "Sign in with one's own account (clerks at a window) for a bearer token; every "
            "attempt, failed or refused, is audited",
            _responses(_ok(200, {"$ref": "#/components/schemas/Session"}), 401, 404, 413, 422,
                       429),
            _body(shapes.Login), auth=False)},
        "/api/v1/logout": {"post": _op(
            "End this session (a clerk signs out of the window: 409 while a ticket is at it). "
            "A device token has no session: 403 device_token, revoke it with `onestop token "
            "revoke`",
            _responses({"204": {"description": "Signed out"}}, 401, 403, 409))},
        "/api/v1/windows/{no}/{action}": {"post": _op(
            "A clerk's action at their window (clerk token for that window)",
            _responses(_ok(), *_WRITE, 404, 409), _body(shapes.WindowAction, required=False),
            params=_path("no", "action", action=list(WINDOW_ACTIONS)))},
        "/api/v1/slips/{number}": {"get": _op(
            "A commitment slip (承诺单) as the kiosk shows it: status, promised date, item; "
            "nothing about the citizen (kiosk, clerk, supervisor)",
            _responses(_ok(200, slip), *_READ, 404), params=_path("number"))},
        "/api/v1/slips/{number}/status": {"post": _op(
            "Move a slip's status forward: accepted → in_progress → done → ready → collected "
            "(clerk, supervisor)",
            _responses(_ok(200, slip), *_WRITE, 404, 409), _body(shapes.SlipStatusChange),
            params=_path("number"))},
        "/api/v1/slips/{number}/parts": {"post": _op(
            "联办件: the caller's department (a clerk: their window's) has done its part; the "
            "last part done makes the slip done (clerk, supervisor)",
            _responses(_ok(200, slip), *_WRITE, 404, 409), _body(shapes.PartDone, False),
            params=_path("number"))},
        "/api/v1/joint-cases": {"get": _op(
            "联办件 waiting for a department's part (default: the clerk's department)",
            _responses(_ok(), *_READ, 404, 422), params=_query(shapes.JointCasesQuery))},
        "/api/v1/notice": {"post": _op(
            "Set the screens' scrolling notice live; an empty text restores the hall file's "
            "(supervisor)", _responses(_ok(), *_WRITE), _body(shapes.Notice))},
        "/api/v1/totals": {"get": _op(
            "Today's totals: issued, served, serving, waiting (and per item), no-shows, "
            "ratings by level, satisfaction (非常满意/满意/基本满意 share), complaints "
            "(supervisor)", _responses(_ok(), *_READ))},
        "/api/v1/services/{code}/close": {"post": _op(
            "Suspend an item: kiosks refuse its tickets with service_closed (supervisor)",
            _responses(_ok(), *_WRITE, 404), _body(shapes.CloseService),
            params=_path("code"))},
        "/api/v1/services/{code}/reopen": {"post": _op(
            "Take tickets for a suspended item again (supervisor)",
            _responses(_ok(), *_WRITE, 404, 409), _body(shapes.Empty, False),
            params=_path("code"))},
        "/api/v1/clerks/{username}/move": {"post": _op(
            "Move a signed-in clerk to a free window: signed_out (reason moved) and "
            "signed_in events; their session and panel follow (supervisor)",
            _responses(_ok(), *_WRITE, 404, 409), _body(shapes.MoveClerk),
            params=_path("username"))},
        "/api/v1/returns": {"get": _op("退件 awaiting a supervisor", _responses(_ok(), *_READ))},
        "/api/v1/returns/{ticket_id}/{decision}": {"post": _op(
            "Approve or refuse a 退件 (supervisor)",
            _responses(_ok(), *_WRITE, 404, 409), _body(shapes.ReturnDecision, False),
            params=_path("ticket_id", "decision", decision=["approve", "refuse"]))},
        "/api/v1/green-passes": {"post": _op(
            "Grant a single-use green-channel code for today (supervisor)",
            _responses(_ok(201), *_WRITE, 404, 409), _body(shapes.GreenPass))},
        "/api/v1/appointments": {"post": _op(
            "Register an appointment that can check in at the kiosk (supervisor)",
            _responses(_ok(201), *_WRITE, 404, 409), _body(shapes.Appointment))},
    }


_REPORT = "Statistics of a range of days per department, window, clerk or service item: " \
    "tickets, no-shows, transfers, wait and service time (mean, p90 in minutes), time-limit " \
    "compliance, 承诺件 on time, ratings and satisfaction, complaints, pauses by reason; JSON, " \
    "or a CSV / XLSX download (supervisor)"


def _report(summary: str, by: list[str]) -> dict[str, Any]:
    downloads = {"text/csv": {"schema": {"type": "string"}},
                 _XLSX: {"schema": {"type": "string", "contentEncoding": "binary"}}}
    params = _query(shapes.ReportQuery, **{"from": "default: today", "to": "default: from"})
    for param in params:
        if param["name"] == "by":
            param["schema"] = {**param["schema"], "enum": by}
    return {"get": _op(summary, _responses(_ok(more=downloads), *_READ, 422), params=params)}


def _office_paths() -> dict[str, Any]:
    hall_file = _body(shapes.HallFile)
    return {
        "/api/v1/devices": {"get": _op(
            "Devices reported by agents and their state (supervisor)", _responses(_ok(), *_READ))},
        "/api/v1/alerts": {"get": _op(
            "电子监察 alerts holding now: long waits, cases past their target, long pauses, "
            "unstaffed windows, devices offline, unusual 差评 or no-show shares, 承诺件 "
            "past their promised date (supervisor)", _responses(_ok(), *_READ))},
        "/api/v1/dead-letters": {"get": _op(
            "Events the supervision backend refused (dead letters, see docs/events.md) and "
            "the feed's status {cursor, last_seq, backlog, oldest_unsent_at, dead_letters, "
            "failures, last_error, last_error_at} (supervisor)", _responses(_ok(), *_READ))},
        "/api/v1/audit": {"get": _op(
            "The staff audit log, latest `limit` records oldest first (supervisor; "
            "docs/audit.md)", _responses(_ok(), *_READ, 422),
            params=_query(shapes.AuditQuery, since="a day of the hall, 2000-2100"))},
        "/api/v1/reports": _report(_REPORT, ["department", "window", "clerk", "service"]),
        "/api/v1/assessment": _report(
            "考核: the report's figures per window or clerk with the [assessment] score and "
            "rank (supervisor)", ["window", "clerk"]),
        # The hall file, changed while the hall runs (art. 6, 动态管理).
        "/api/v1/admin/config": {
            "get": _op("The running hall file: text, hash, last SIGHUP reload (supervisor, "
                       "admin)", _responses(_ok(), *_READ)),
            "post": _op("Validate, check against today's tickets, write (keeping a .bak) "
                        "and reload the hall file; 422 with problems, 409 if refused "
                        "(admin)", _responses(_ok(), *_WRITE, 409), hall_file),
        },
        "/api/v1/admin/config/check": {"post": _op(
            "Problems (key, reason), the change and what blocks it, nothing applied "
            "(supervisor, admin)", _responses(_ok(), *_WRITE), hall_file)},
        "/api/v1/admin/config/edit": {"post": _op(
            "The hall file's text with one common change made (an item's daily_quota and "
            "hours, a window's services and backup) (admin)",
            _responses(_ok(), *_WRITE, 404), _body(shapes.ConfigEdit))},
    }


def _pages() -> dict[str, Any]:
    return {
        "/display/hall": _page("The hall's call screen (综合屏); `?token=` a screen token"),
        "/display/window/{no}": _page("A window's call screen (窗口屏)", 404,
                                      params=_path("no")),
        "/display/badge/{staff_no}": {"get": _op(
            "A clerk's badge photo (art. 17); the screen's token in `?token=`",
            _responses(_ok(media="image/jpeg", schema={"type": "string"},
                           more={"image/png": {"schema": {"type": "string"}}}), 401, 404),
            auth=False, params=[*_path("staff_no"), {
                "name": "token", "in": "query", "required": True, "schema": {"type": "string"},
                "description": "the screen's token (an <img> sends no header)"}],
            tag="pages")},
        "/caller/": _page("The clerk's panel"),
        "/caller/returns": _page("退件 decisions at a clerk's PC (a supervisor signs in)"),
        "/kiosk/": _page("The ticket kiosk's touchscreen"),
        "/kiosk/prompts/{key}.{lang}.wav": {"get": _op(
            "A spoken prompt of the kiosk's elderly mode (404 until rendered)",
            _responses(_ok(media="audio/wav", schema={"type": "string"}), 404), auth=False,
            params=_path("key", "lang"), tag="pages")},
        "/office/": _page("The office's monitor"),
        "/office/reports": _page("The office's reports and assessment"),
        "/office/admin": _page("The admin page: the hall file"),
    }


_RESPONSE_SCHEMAS: dict[str, Any] = {
    "Slip": {
        "type": "object",
        "properties": {
            "number": {"type": "string"},
            "status": {"type": "string", "enum": list(SLIP_STATUSES)},
            "status_name": {"type": "string"},
            "status_name_en": {"type": "string"},
            "kind": {"type": "string"},
            "promised_date": {"type": ["string", "null"], "format": "date"},
            "accepted_at": {"type": "string", "format": "date-time"},
            "accepted_on": {"type": "string", "format": "date"},
            "service": {"type": "string"},
            "service_name": {"type": "string"},
            "service_name_en": {"type": "string"},
            "items": {"type": "array", "items": {"type": "string"}},
            "departments": {"type": "array", "items": {"type": "object"}},
            "updated_at": {"type": "string"},
        },
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        },
    },
    "Ticket": {
        "type": "object",
        "required": ["id", "number", "service", "status"],
        "properties": {
            "id": {"type": "string"},
            "number": {"type": "string"},
            "service": {"type": "string"},
            "status": {"type": "string"},
            "channel": {"type": "string"},
            "people_ahead": {"type": "integer"},
            "windows": {"type": "array", "items": {"type": "integer"}},
            "print": {
                "type": "string",
                "enum": ["queued", "no_printer"],
                "description": "only when print was asked: sent to the printer, "
                "or no printer is connected for this kiosk",
            },
        },
    },
    "Session": {
        "type": "object",
        "properties": {
            "token": {"type": "string"},
            "role": {"type": "string"},
            "window": {"type": ["integer", "null"]},
        },
    },
}
