"""HTTP API under /api/v1. Handlers are thin: parse, authenticate, call the service, shape JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from hub.auth import Principal, Role
from hub.engine import Invalid
from hub.service import HallService

from .openapi import openapi_document
from .report_export import report_response

api = Blueprint("api", __name__, url_prefix="/api/v1")


def service() -> HallService:
    return current_app.extensions["onestop"]


def client_addr() -> str:
    return request.remote_addr or ""


def bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def who() -> Principal:
    return service().authenticate(bearer())


def body() -> dict[str, Any]:
    if request.content_length and not request.is_json:
        raise Invalid("invalid_json", "请以 application/json 发送请求体",
                      "send the body as Content-Type: application/json")
    data = request.get_json(silent=True)
    if data is None and request.content_length:
        raise Invalid("invalid_json", "请求体不是有效的JSON", "the request body is not valid JSON")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise Invalid(
            "invalid_json", "请求体应为JSON对象", "the request body must be a JSON object"
        )
    return data


def field(data: dict[str, Any], key: str, kind: type, required: bool = True) -> Any:
    value = data.get(key)
    if value is None:
        if required:
            raise Invalid("invalid", f"缺少字段 {key}", f"field {key!r} is required")
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise Invalid("invalid", f"字段 {key} 类型错误", f"field {key!r} must be {kind.__name__}")
    return value


@api.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@api.get("/services")
def services():
    who()
    return jsonify({"services": service().services()})


@api.get("/queue")
def queue():
    who()
    return jsonify(service().snapshot())


@api.post("/tickets")
def issue_ticket():
    principal = who()
    data = body()
    # `print`: at the printer of the agent beside this kiosk, as the kiosk socket's issue_ticket
    wants_print = field(data, "print", bool, required=False) is True
    materials = field(data, "materials", bool, required=False) is True
    if wants_print and principal.role is not Role.KIOSK:
        raise Invalid("invalid", "只有自助终端可打印号票",
                      "print needs a kiosk token: the printer beside that kiosk prints")
    ticket = service().issue_ticket(
        principal,
        field(data, "service", str, required=data.get("channel") != "appointment") or "",
        field(data, "channel", str, required=False) or "normal",
        field(data, "code", str, required=False),
        client_addr(),
    )
    if wants_print:
        printers = current_app.extensions["onestop_printers"]
        ticket["print"] = printers.print_ticket(principal.name, ticket, materials)
    return jsonify(ticket), 201


@api.get("/tickets/<ticket_id>")
def get_ticket(ticket_id: str):
    return jsonify(service().ticket(who(), ticket_id))


@api.post("/tickets/<ticket_id>/rating-reason")
def add_rating_reason(ticket_id: str):
    principal = who()
    reason = field(body(), "reason", str)
    return jsonify(service().add_rating_reason(principal, ticket_id, reason, client_addr()))


@api.post("/login")
def login():
    data = body()
    result = service().login(
        field(data, "username", str),
        field(data, "password", str),
        field(data, "window", int, required=False),
        client_addr(),
    )
    return jsonify(result)


@api.post("/logout")
def logout():
    service().logout(who(), client_addr())
    return "", 204


@api.post("/windows/<int:no>/<action>")
def window_action(no: int, action: str):
    principal = who()
    return jsonify(service().window_action(principal, no, action, body(), client_addr()))


@api.get("/slips/<number>")
def get_slip(number: str):
    return jsonify(service().slip(who(), number))


@api.post("/slips/<number>/status")
def set_slip_status(number: str):
    principal = who()
    status = field(body(), "status", str)
    return jsonify(service().set_slip_status(principal, number, status, client_addr()))


@api.post("/slips/<number>/parts")
def joint_part_done(number: str):
    principal = who()
    department = field(body(), "department", str, required=False)
    return jsonify(service().part_done(principal, number, department, client_addr()))


@api.get("/joint-cases")
def joint_cases():
    principal = who()
    return jsonify({"cases": service().joint_cases(principal, request.args.get("department"))})


@api.post("/notice")
def set_notice():
    principal = who()
    data = body()
    return jsonify(service().set_notice(
        principal, field(data, "text", str), field(data, "text_en", str, required=False) or "",
        client_addr()))


@api.get("/totals")
def totals():
    return jsonify(service().totals(who()))


@api.post("/services/<code>/close")
def close_service(code: str):
    principal = who()
    reason = field(body(), "reason", str)
    return jsonify(service().close_service(principal, code, reason, client_addr()))


@api.post("/services/<code>/reopen")
def reopen_service(code: str):
    principal = who()
    body()  # an empty body, or a JSON object: nothing else
    return jsonify(service().reopen_service(principal, code, client_addr()))


@api.post("/clerks/<username>/move")
def move_clerk(username: str):
    principal = who()
    window = field(body(), "window", int)
    return jsonify(service().move_clerk(principal, username, window, client_addr()))


@api.get("/devices")
def devices():
    return jsonify({"devices": service().devices(who())})


@api.get("/reports")
def reports():
    return report_response(service(), who(), "report", request.args)


@api.get("/assessment")
def assessment():
    return report_response(service(), who(), "assessment", request.args)


@api.get("/dead-letters")
def dead_letters():
    return jsonify(service().dead_letters(who()))


@api.get("/audit")
def audit():
    principal = who()
    since = request.args.get("since") or None
    try:
        day = dt.date.fromisoformat(since) if since else None
        limit = int(request.args.get("limit") or 100)
    except ValueError:
        raise Invalid("invalid", "参数格式错误", "since is YYYY-MM-DD, limit an integer") from None
    records = service().audit_records(principal, request.args.get("account") or None, day, limit)
    return jsonify({"records": records})


@api.get("/alerts")
def alerts():
    return jsonify({"alerts": service().alerts(who())})


@api.get("/returns")
def pending_returns():
    return jsonify({"returns": service().pending_returns(who())})


@api.post("/returns/<ticket_id>/<decision>")
def decide_return(ticket_id: str, decision: str):
    principal = who()
    if decision not in ("approve", "refuse"):
        raise Invalid("invalid", "只能批准或驳回", "decision must be approve or refuse")
    note = field(body(), "note", str, required=False) or ""
    return jsonify(
        service().decide_return(principal, ticket_id, decision == "approve", note, client_addr())
    )


@api.post("/green-passes")
def grant_green_pass():
    principal = who()
    data = body()
    return jsonify(
        service().grant_green_pass(
            principal,
            field(data, "code", str),
            field(data, "project", str),
            field(data, "service", str, required=False),
            client_addr(),
        )
    ), 201


@api.post("/appointments")
def book_appointment():
    principal = who()
    data = body()
    try:
        day = dt.date.fromisoformat(field(data, "day", str))
    except ValueError:
        raise Invalid("invalid", "日期格式应为 YYYY-MM-DD", "day must be YYYY-MM-DD") from None
    return jsonify(
        service().book_appointment(
            principal, field(data, "code", str), field(data, "service", str), day, client_addr()
        )
    ), 201
