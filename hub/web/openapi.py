"""The OpenAPI 3.1 document of /api/v1, kept beside the routes it describes."""

from __future__ import annotations

from functools import cache
from typing import Any

from hub import __version__
from hub.engine.model import SlipStatus
from hub.service import WINDOW_ACTIONS

SLIP_STATUSES = tuple(s.value for s in SlipStatus)

_ERROR = {"$ref": "#/components/schemas/Error"}
_OBJ = {"type": "object"}
_TOML_BODY = {"type": "object", "required": ["toml"], "properties": {"toml": {"type": "string"}}}


def _responses(ok: int, schema: dict, *errors: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        str(ok): {"description": "OK", "content": {"application/json": {"schema": schema}}}
    }
    for code in errors:
        out[str(code)] = {
            "description": _ERROR_TEXT[code],
            "content": {"application/json": {"schema": _ERROR}},
        }
    return out


_ERROR_TEXT = {
    401: "Missing, invalid or expired token",
    403: "The caller's role or window may not do this",
    404: "No such item",
    409: "Refused by the hall's rules right now (closed, quota, queue empty, ...)",
    422: "Malformed request",
    429: "Too many failed sign-ins",
}


def _body(schema: dict, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _op(
    summary: str,
    responses: dict,
    body: dict | None = None,
    auth: bool = True,
    params: list | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if body:
        op["requestBody"] = body
    if not auth:
        op["security"] = []
    if params:
        op["parameters"] = params
    return op


_REPORT_PARAMS = [
    {"name": "from", "in": "query", "required": False,
     "schema": {"type": "string", "format": "date"}, "description": "default: today"},
    {"name": "to", "in": "query", "required": False,
     "schema": {"type": "string", "format": "date"}, "description": "default: from"},
    {"name": "format", "in": "query", "required": False,
     "schema": {"type": "string", "enum": ["json", "csv", "xlsx"]}},
]


def _path_param(name: str, kind: str = "string", enum: list | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": kind}
    if enum:
        schema["enum"] = enum
    return {"name": name, "in": "path", "required": True, "schema": schema}


@cache
def openapi_document() -> dict[str, Any]:
    ticket = {"$ref": "#/components/schemas/Ticket"}
    slip = {"$ref": "#/components/schemas/Slip"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Onestop hub API",
            "version": __version__,
            "description": "Queue, tickets and windows of a public administrative service "
            'center. Errors are {"error": {"code", "message"}}.',
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/healthz": {
                "get": _op(
                    "Liveness and the last committed event", _responses(200, _OBJ), auth=False
                )
            },
            "/api/v1/openapi.json": {
                "get": _op("This document", _responses(200, _OBJ), auth=False)
            },
            "/api/v1/services": {
                "get": _op(
                    "Service items with their six disclosures and required materials",
                    _responses(200, _OBJ, 401),
                )
            },
            "/api/v1/queue": {
                "get": _op(
                    "Snapshot of the hall: windows, waiting, recent calls",
                    _responses(200, _OBJ, 401),
                )
            },
            "/api/v1/tickets": {
                "post": _op(
                    "Issue a ticket (kiosk token)",
                    _responses(201, ticket, 401, 403, 404, 409, 422),
                    _body({"$ref": "#/components/schemas/TicketRequest"}),
                )
            },
            "/api/v1/tickets/{id}": {
                "get": _op(
                    "One ticket", _responses(200, ticket, 401, 404), params=[_path_param("id")]
                )
            },
            "/api/v1/tickets/{id}/rating-reason": {
                "post": _op(
                    "The reason for a 不满意 rating, added later (kiosk or supervisor)",
                    _responses(200, _OBJ, 401, 403, 404, 409, 422),
                    _body(
                        {
                            "type": "object",
                            "required": ["reason"],
                            "properties": {"reason": {"type": "string"}},
                        }
                    ),
                    params=[_path_param("id")],
                )
            },
            "/api/v1/login": {
                "post": _op(
                    "Sign in with one's own account (clerks at a window) for a bearer token",
                    _responses(200, {"$ref": "#/components/schemas/Session"}, 401, 404, 422, 429),
                    _body({"$ref": "#/components/schemas/Login"}),
                    auth=False,
                )
            },
            "/api/v1/logout": {
                "post": _op(
                    "Sign out",
                    {"204": {"description": "Signed out"}, "401": {"description": "Bad token"}},
                )
            },
            "/api/v1/windows/{no}/{action}": {
                "post": _op(
                    "A clerk's action at their window (clerk token for that window)",
                    _responses(200, _OBJ, 401, 403, 404, 409, 422),
                    _body({"$ref": "#/components/schemas/WindowAction"}, required=False),
                    params=[
                        _path_param("no", "integer"),
                        _path_param("action", enum=list(WINDOW_ACTIONS)),
                    ],
                )
            },
            "/api/v1/slips/{number}": {"get": _op(
                "A commitment slip (承诺单) as the kiosk shows it: status, promised date, item; "
                "nothing about the citizen (any token)",
                _responses(200, slip, 401, 404), params=[_path_param("number")])},
            "/api/v1/slips/{number}/status": {"post": _op(
                "Move a slip's status forward: accepted → in_progress → done → ready → collected "
                "(clerk, supervisor)",
                _responses(200, slip, 401, 403, 404, 409, 422),
                _body({"type": "object", "required": ["status"], "properties": {
                    "status": {"type": "string", "enum": list(SLIP_STATUSES)}}}),
                params=[_path_param("number")])},
            "/api/v1/slips/{number}/parts": {"post": _op(
                "联办件: the caller's department (a clerk: their window's) has done its part; the "
                "last part done makes the slip done (clerk, supervisor)",
                _responses(200, slip, 401, 403, 404, 409),
                _body({"type": "object", "properties": {"department": {"type": "string"}}},
                      False),
                params=[_path_param("number")])},
            "/api/v1/joint-cases": {"get": _op(
                "联办件 waiting for a department's part (default: the clerk's department)",
                _responses(200, _OBJ, 401, 403, 404),
                params=[{"name": "department", "in": "query", "required": False,
                         "schema": {"type": "string"}}])},
            "/api/v1/notice": {"post": _op(
                "Set the screens' scrolling notice live; an empty text restores the hall file's "
                "(supervisor)", _responses(200, _OBJ, 401, 403, 422), _body({
                    "type": "object", "required": ["text"], "properties": {
                        "text": {"type": "string"}, "text_en": {"type": "string"}}}))},
            # Issue 8 (art. 6, 动态管理): the hall file, changed while the hall runs.
            "/api/v1/admin/config": {
                "get": _op("The running hall file: text, hash, last SIGHUP reload (supervisor, "
                           "admin)", _responses(200, _OBJ, 401, 403)),
                "post": _op("Validate, check against today's tickets, write (keeping a .bak) "
                            "and reload the hall file; 422 with problems, 409 if refused "
                            "(admin)", _responses(200, _OBJ, 401, 403, 409, 422),
                            _body(_TOML_BODY)),
            },
            "/api/v1/admin/config/check": {"post": _op(
                "Problems (key, reason), the change and what blocks it, nothing applied "
                "(supervisor, admin)", _responses(200, _OBJ, 401, 403, 422), _body(_TOML_BODY))},
            "/api/v1/admin/config/edit": {"post": _op(
                "The hall file's text with one common change made (an item's daily_quota and "
                "hours, a window's services and backup) (admin)",
                _responses(200, _OBJ, 401, 403, 422), _body({
                    "type": "object", "required": ["edit"], "properties": {
                        "edit": {"type": "object"}, "toml": {"type": "string"}}}))},
            "/api/v1/totals": {"get": _op(
                "Today's totals: issued, served, serving, waiting (and per item), no-shows, "
                "ratings by level, satisfaction (非常满意/满意/基本满意 share), complaints "
                "(supervisor)", _responses(200, _OBJ, 401, 403))},
            "/api/v1/services/{code}/close": {"post": _op(
                "Suspend an item: kiosks refuse its tickets with service_closed (supervisor)",
                _responses(200, _OBJ, 401, 403, 404, 422), _body({
                    "type": "object", "required": ["reason"],
                    "properties": {"reason": {"type": "string"}}}),
                params=[_path_param("code")])},
            "/api/v1/services/{code}/reopen": {"post": _op(
                "Take tickets for a suspended item again (supervisor)",
                _responses(200, _OBJ, 401, 403, 409), params=[_path_param("code")])},
            "/api/v1/clerks/{username}/move": {"post": _op(
                "Move a signed-in clerk to a free window: signed_out (reason moved) and "
                "signed_in events; their session and panel follow (supervisor)",
                _responses(200, _OBJ, 401, 403, 404, 409, 422), _body({
                    "type": "object", "required": ["window"],
                    "properties": {"window": {"type": "integer"}}}),
                params=[_path_param("username")])},
            "/api/v1/devices": {"get": _op(
                "Devices reported by agents and their state (supervisor)",
                _responses(200, _OBJ, 401, 403))},
            "/api/v1/reports": {"get": _op(
                "Statistics of a range of days per department, window, clerk or service item: "
                "tickets, no-shows, transfers, wait and service time (mean, p90 in minutes), "
                "time-limit compliance, 承诺件 on time, ratings and satisfaction, complaints, "
                "pauses by reason; JSON, or a CSV / XLSX download (supervisor)",
                _responses(200, _OBJ, 401, 403, 422), params=[
                    *_REPORT_PARAMS, {"name": "by", "in": "query", "required": False, "schema": {
                        "type": "string",
                        "enum": ["department", "window", "clerk", "service"]}}])},
            "/api/v1/assessment": {"get": _op(
                "考核: the report's figures per window or clerk with the [assessment] score "
                "and rank (supervisor)",
                _responses(200, _OBJ, 401, 403, 422), params=[
                    *_REPORT_PARAMS, {"name": "by", "in": "query", "required": False, "schema": {
                        "type": "string", "enum": ["window", "clerk"]}}])},
            "/api/v1/dead-letters": {"get": _op(
                "Events the supervision backend refused (dead letters, see docs/events.md) and "
                "the feed's status {cursor, last_seq, backlog, oldest_unsent_at, dead_letters, "
                "failures, last_error, last_error_at} (supervisor)",
                _responses(200, _OBJ, 401, 403))},
            "/api/v1/audit": {"get": _op(
                "The staff audit log, latest `limit` records oldest first (supervisor; "
                "docs/audit.md)", _responses(200, _OBJ, 401, 403, 422),
                params=[{"name": "account", "in": "query", "required": False,
                         "schema": {"type": "string"}},
                        {"name": "since", "in": "query", "required": False,
                         "schema": {"type": "string", "format": "date"}},
                        {"name": "limit", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}])},
            "/api/v1/alerts": {"get": _op(
                "电子监察 alerts holding now: long waits, cases past their target, long pauses, "
                "unstaffed windows, devices offline, unusual 差评 or no-show shares, 承诺件 "
                "past their promised date (supervisor)", _responses(200, _OBJ, 401, 403))},
            "/api/v1/returns": {
                "get": _op("退件 awaiting a supervisor", _responses(200, _OBJ, 401, 403))
            },
            "/api/v1/returns/{id}/{decision}": {
                "post": _op(
                    "Approve or refuse a 退件 (supervisor)",
                    _responses(200, _OBJ, 401, 403, 404, 409),
                    _body({"type": "object", "properties": {"note": {"type": "string"}}}, False),
                    params=[_path_param("id"), _path_param("decision", enum=["approve", "refuse"])],
                )
            },
            "/api/v1/green-passes": {
                "post": _op(
                    "Grant a single-use green-channel code for today (supervisor)",
                    _responses(201, _OBJ, 401, 403, 404, 409, 422),
                    _body(
                        {
                            "type": "object",
                            "required": ["code", "project"],
                            "properties": {
                                "code": {"type": "string"},
                                "project": {"type": "string"},
                                "service": {"type": "string"},
                            },
                        }
                    ),
                )
            },
            "/api/v1/appointments": {
                "post": _op(
                    "Register an appointment that can check in at the kiosk (supervisor)",
                    _responses(201, _OBJ, 401, 403, 404, 409, 422),
                    _body(
                        {
                            "type": "object",
                            "required": ["code", "service", "day"],
                            "properties": {
                                "code": {"type": "string"},
                                "service": {"type": "string"},
                                "day": {"type": "string", "format": "date"},
                            },
                        }
                    ),
                )
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
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
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
                "TicketRequest": {
                    "type": "object",
                    "properties": {
                        "service": {"type": "string", "description": "service item code"},
                        "channel": {"type": "string", "enum": ["normal", "green", "appointment"]},
                        "code": {
                            "type": "string",
                            "description": "green-channel or appointment code",
                        },
                        "print": {
                            "type": "boolean",
                            "description": "kiosk token: print it at the printer of the agent "
                            "beside this kiosk; the outcome is pushed as `printed` to the "
                            "kiosk's /kiosk sockets",
                        },
                        "materials": {
                            "type": "boolean",
                            "description": "with print: add the 一次性告知 materials list",
                        },
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
                "Login": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "username": {"type": "string"},
                        "password": {"type": "string"},
                        "window": {"type": "integer"},
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
                "WindowAction": {
                    "type": "object",
                    "properties": {
                        "number": {"type": "string", "description": "call: the ticket number"},
                        "service": {"type": "string", "description": "transfer: target item"},
                        "window": {"type": "integer", "description": "transfer: target window"},
                        "reason": {
                            "type": "string",
                            "description": "pause reason code, transfer or 退件 reason",
                        },
                        "outcome": {
                            "type": "string",
                            "enum": ["immediate", "commitment", "joint", "report", "returned"],
                        },
                        "items": {"type": "array", "items": {"type": "string"}},
                        "departments": {"type": "array", "items": {"type": "string"}},
                        "authority": {"type": "string"},
                        "reported_on": {"type": "string", "format": "date"},
                    },
                },
            },
        },
    }
