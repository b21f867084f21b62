"""The OpenAPI 3.1 document of everything the hub serves over HTTP, generated, never written.

Paths, methods and path parameters come from the Flask app's routes (its url_map); what each
route takes and answers from its declaration beside it (hub/web/operations.py) or, for the
pages, from the table here; every schema from the Structs that check requests and answers
(hub/shapes). tests/test_openapi.py drives each route with hostile input and holds the document
to what comes back. Only the pages' static assets are left out (declared by nobody).

The Socket.IO events clients send are described too, under `x-socketio`: per namespace, the
payload each event takes (hub/shapes/socket_events.py), which the hub checks the same way.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from flask import Flask
from werkzeug.routing import IntegerConverter, Rule

from hub import __version__, shapes
from hub.service import WINDOW_ACTIONS

from .operations import JSON, Operation, operation_of

_REF = "#/components/schemas/{name}"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_ERROR_TEXT = {
    401: "Missing, invalid or expired token",
    403: "The caller's role or window may not do this",
    404: "No such item (or a path parameter out of its range)",
    409: "Refused by the hall's rules right now (closed, quota, queue empty, ...)",
    413: "The request body is too large (64 KiB; the admin routes 1 MiB)",
    422: "Malformed request: not JSON, a field of the wrong type or out of its range, text "
         "that is not valid Unicode",
    429: "Too many failed sign-ins, or (the citizen's routes) too many requests from one "
         "address, or 扫码取号's daily limit reached (Retry-After says when to try again)",
    503: "Computed beside the hub, and that failed or took too long: try again later",
}

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
_TEXT = {"type": "string"}


def _page(summary: str, *errors: int, media: str = "text/html",
          **more: Any) -> Operation:
    """A page of the hub: HTML for a browser, its live data over Socket.IO with a token."""
    return Operation(summary, errors=errors, media=media, schema=_TEXT, auth=False, tag="pages",
                     **more)


# The pages' routes live in their own packages (display/, caller/, kiosk/, office/, citizen/).
PAGES: dict[str, Operation] = {
    "display.hall": _page("The hall's call screen (综合屏); without a stored token it pairs "
                          "(/api/v1/pairing); `?token=` deprecated"),
    "display.window": _page("A window's call screen (窗口屏)", 404),
    "display.badge_photo": _page(
        "A clerk's badge photo (art. 17), for the screen's bearer token", 401, 404,
        media="image/jpeg", more_media={"image/png": {"schema": _TEXT}}, params=({
            "name": "token", "in": "query", "required": False, "deprecated": True,
            "schema": {"type": "string"},
            "description": "the screen's token, as pages sent it before they fetched the "
                           "photo with the Authorization header"},)),
    "caller.panel": _page("The clerk's panel"),
    "caller.returns": _page("退件 decisions at a clerk's PC (a supervisor signs in)"),
    "kiosk.kiosk": _page("The ticket kiosk's touchscreen"),
    "kiosk.prompt": _page("A spoken prompt of the kiosk's elderly mode (404 until rendered)",
                          404, media="audio/wav"),
    "office.monitor": _page("The office's monitor"),
    "office.reports": _page("The office's reports and assessment"),
    "office.admin": _page("The admin page: the hall file"),
    "citizen.ticket": _page("The ticket's phone page, opened from its QR code; the capability "
                            "in the address is its only authorization (404: unknown, forged "
                            "or expired); 429 past the address's limit", 404, 429),
    "office.cases": _page("The office's casework (督办): cases by deadline, timelines, steps"),
    "office.spot_checks": _page("The office's spot checks (办件抽查): the week's draw and reviews"),
    "office.staff_list": _page("The office's staff records (效能记录) and 评先评优 standing"),
    "office.staff_member": _page("One staff member's efficiency records and cases"),
    "office.poster": _page("扫码取号's printable A4 poster with today's QR code (office sign-in)"),
    "slip_page.slip_page": _page("A 承诺单 on the citizen's phone: what the printed slip's QR "
                                 "opens (404: a forged, expired or unknown link)", 404, 429),
    "take.take_page": _page("扫码取号 on a phone: today's poster opens it (404: not today's)",
                            404, 429),
}

# What each namespace's clients send: `connect` is the `auth` object, every other key an event
# and its one argument, an object. hub/web/sockets.py answers each event with an ack:
# {"ok": true, "result": ...} or {"ok": false, "error": {"code", "message"}}.
_REPRINT = {"type": "object", "properties": {
    "ticket_id": {"type": "string"},
    "materials": {"type": "boolean", "description": "default: as it was first printed"}}}
SOCKET_EVENTS: dict[str, dict[str, Any]] = {
    "/display": {"connect": shapes.DisplayAuth},
    "/kiosk": {"connect": shapes.Auth, "issue_ticket": shapes.IssueTicket,
               "reprint": _REPRINT, "lookup_slip": shapes.LookupSlip,
               "complain": shapes.Complaint, "lookup_identity": shapes.IdentityLookup},
    "/caller": {"connect": shapes.Auth, **dict.fromkeys(WINDOW_ACTIONS, shapes.WindowAction),
                "print_slip": shapes.PrintSlip},
    "/monitor": {"connect": shapes.Auth, "decide_return": shapes.DecideReturn},
    "/citizen": {"connect": shapes.CitizenAuth, "refresh": shapes.Empty},
    "/device": {"connect": shapes.DeviceAuth,
                "device_event": (shapes.KeyPress, shapes.RatingPress, shapes.RatingEnded),
                "health": shapes.Health, "print_result": shapes.PrintResult,
                "scan": shapes.Scan, "id_card": shapes.IdCard},
}


def openapi_document(app: Flask) -> dict[str, Any]:
    """The document of `app`'s routes, made once per app."""
    found = app.extensions.get("onestop_openapi")
    if found is None:
        found = app.extensions["onestop_openapi"] = _document(app)
    return found


def documented_routes(app: Flask) -> list[tuple[Rule, str, Operation]]:
    """(rule, method, operation) of every route `app` serves and documents."""
    out = []
    for rule in app.url_map.iter_rules():
        op = PAGES.get(rule.endpoint) or operation_of(app.view_functions.get(rule.endpoint))
        if op is None:
            continue  # a static file, or a route nobody declared: tests/test_openapi.py says so
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((rule, method.lower(), op))
    return out


def _document(app: Flask) -> dict[str, Any]:
    routes = documented_routes(app)
    components = _components([op for _, _, op in routes])
    paths: dict[str, dict[str, Any]] = {}
    for tag in ("operations", "api", "pages"):
        for rule, method, op in routes:
            if op.tag == tag:
                paths.setdefault(_template(rule), {})[method] = _operation(rule, op, components)
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
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": components,
            "responses": _SERVER_RESPONSES,
        },
        "x-socketio": _socket_events(),
    }


def _components(ops: list[Operation]) -> dict[str, Any]:
    used: list[Any] = [shapes.Error, shapes.PathParams]
    for op in ops:
        used += [*op.answers, *(s for s in (op.body, op.query) if s is not None)]
    for events in SOCKET_EVENTS.values():
        for payload in events.values():
            used += payload if isinstance(payload, tuple) else [payload]
    unique = list(dict.fromkeys(t for t in used if isinstance(t, type)))
    _, components = msgspec.json.schema_components(unique, ref_template=_REF)
    return components


def _template(rule: Rule) -> str:
    """`/windows/<int:no>/<action>` -> `/windows/{no}/{action}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def _ref(shape: Any) -> dict[str, Any]:
    if isinstance(shape, type):
        return {"$ref": _REF.format(name=shape.__name__)}
    return msgspec.json.schema(shape)  # a plain type (the document itself: an object)


def _operation(rule: Rule, op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"summary": op.summary, "tags": [op.tag],
                           "responses": {**_responses(op), **_SERVER}}
    if op.body is not None:
        out["requestBody"] = {"required": op.body_required,
                              "content": {JSON: {"schema": _ref(op.body)}}}
    if not op.auth:
        out["security"] = []
    params = [*_path_params(rule, op, components), *_query_params(op, components),
              *op.params]
    if params:
        out["parameters"] = params
    return out


def _responses(op: Operation) -> dict[str, Any]:
    if op.ok == 204:
        out: dict[str, Any] = {"204": {"description": op.ok_text}}
    else:
        if op.answers:
            refs = [_ref(a) for a in op.answers]
            schema = refs[0] if len(refs) == 1 else {"oneOf": refs}
        else:
            schema = op.schema or {"type": "object"}
        content = {op.media: {"schema": schema}, **op.more_media}
        out = {str(op.ok): {"description": op.ok_text, "content": content}}
    for code in sorted(op.errors):
        out[str(code)] = {"description": _ERROR_TEXT[code],
                          "content": {JSON: {"schema": _ref(shapes.Error)}}}
    return out


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema without the `null` of its optional field (a query string or a
    path has no null) and without its default (said in the description instead)."""
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    found = dict(options[0]) if len(options) == 1 else {"anyOf": options}
    found.pop("default", None)
    return found


def _path_params(rule: Rule, op: Operation, components: dict[str, Any]) -> list[dict[str, Any]]:
    """Bounded as hub.shapes.path bounds them (PathParams, by name); a converter's type wins."""
    known = components["PathParams"]["properties"]
    out = []
    for name in sorted(rule.arguments, key=lambda n: _template(rule).index("{" + n + "}")):
        integer = isinstance(rule._converters[name], IntegerConverter)
        schema = _not_null(known[name]) if name in known else {"type": "string"}
        if integer != (schema.get("type") == "integer"):
            raise TypeError(f"{rule.rule}: {name}'s converter and PathParams disagree")
        if name in op.enums:
            schema = {**schema, "enum": list(op.enums[name])}
        out.append({"name": name, "in": "path", "required": True, "schema": schema})
    return out


def _query_params(op: Operation, components: dict[str, Any]) -> list[dict[str, Any]]:
    if op.query is None:
        return []
    found = components[op.query.__name__]
    required = set(found.get("required", []))
    out = []
    for name, schema in found["properties"].items():
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required,
                                 "schema": _not_null(schema)}
        if name in op.enums:
            param["schema"] = {**param["schema"], "enum": list(op.enums[name])}
        if name in op.described:
            param["description"] = op.described[name]
        out.append(param)
    return out


def _socket_events() -> dict[str, Any]:
    """Per namespace, what its clients send: `connect` is the `auth` object, each other key an
    event and the schema of its one argument (an object)."""
    out: dict[str, Any] = {}
    for namespace, events in SOCKET_EVENTS.items():
        described: dict[str, Any] = {}
        for event, payload in events.items():
            if isinstance(payload, dict):
                described[event] = payload
            elif isinstance(payload, tuple):
                described[event] = {"oneOf": [_ref(p) for p in payload]}
            else:
                described[event] = _ref(payload)
        out[namespace] = described
    return out

