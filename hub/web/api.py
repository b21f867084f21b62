"""HTTP API under /api/v1. Handlers are thin: parse, authenticate, call the service, shape JSON."""

from __future__ import annotations

from typing import TypeVar

from flask import Blueprint, current_app, jsonify, request

from hub import shapes
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


S = TypeVar("S")


def body(shape: type[S]) -> S:
    """The request's JSON body as `shape` (hub/shapes.py): one decoder for every route."""
    raw = request.get_data(cache=True)
    if raw.strip() and not request.is_json:
        raise Invalid("invalid_json", "请以 application/json 发送请求体",
                      "send the body as Content-Type: application/json")
    return shapes.decode(raw, shape)


@api.url_value_preprocessor
def _bounded_path(_endpoint: str | None, values: dict | None) -> None:
    if values:
        shapes.path(values)


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
    data = body(shapes.TicketRequest)
    # `print`: at the printer of the agent beside this kiosk, as the kiosk socket's issue_ticket
    wants_print, materials = data.print is True, data.materials is True
    if wants_print and principal.role is not Role.KIOSK:
        raise Invalid("invalid", "只有自助终端可打印号票",
                      "print needs a kiosk token: the printer beside that kiosk prints")
    ticket = service().issue_ticket(
        principal, data.service or "", data.channel or "normal", data.code, client_addr()
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
    reason = body(shapes.RatingReason).reason
    return jsonify(service().add_rating_reason(principal, ticket_id, reason, client_addr()))


@api.post("/login")
def login():
    try:
        data = body(shapes.Login)
    except Invalid as err:  # a failed sign-in all the same: on record under the name tried
        service().sign_in_refused(shapes.attempted_username(request.get_data()), client_addr(),
                                  err)
        raise
    result = service().login(data.username, data.password, data.window, client_addr())
    return jsonify(result)


@api.post("/logout")
def logout():
    service().logout(who(), client_addr())
    return "", 204


@api.post("/windows/<int:no>/<action>")
def window_action(no: int, action: str):
    principal = who()
    args = body(shapes.WindowAction)
    return jsonify(service().window_action(principal, no, action, args, client_addr()))


@api.get("/slips/<number>")
def get_slip(number: str):
    return jsonify(service().slip(who(), number))


@api.post("/slips/<number>/status")
def set_slip_status(number: str):
    principal = who()
    status = body(shapes.SlipStatusChange).status.value
    return jsonify(service().set_slip_status(principal, number, status, client_addr()))


@api.post("/slips/<number>/parts")
def joint_part_done(number: str):
    principal = who()
    department = body(shapes.PartDone).department
    return jsonify(service().part_done(principal, number, department, client_addr()))


@api.get("/joint-cases")
def joint_cases():
    principal = who()
    department = shapes.query(request.args, shapes.JointCasesQuery).department
    return jsonify({"cases": service().joint_cases(principal, department)})


@api.post("/notice")
def set_notice():
    principal = who()
    data = body(shapes.Notice)
    return jsonify(service().set_notice(principal, data.text, data.text_en or "", client_addr()))


@api.get("/totals")
def totals():
    return jsonify(service().totals(who()))


@api.post("/services/<code>/close")
def close_service(code: str):
    principal = who()
    reason = body(shapes.CloseService).reason
    return jsonify(service().close_service(principal, code, reason, client_addr()))


@api.post("/services/<code>/reopen")
def reopen_service(code: str):
    principal = who()
    body(shapes.Empty)  # an empty body, or a JSON object: nothing else
    return jsonify(service().reopen_service(principal, code, client_addr()))


@api.post("/clerks/<username>/move")
def move_clerk(username: str):
    principal = who()
    window = body(shapes.MoveClerk).window
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
    asked = shapes.query(request.args, shapes.AuditQuery)
    records = service().audit_records(principal, asked.account, asked.since, asked.limit)
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
    note = body(shapes.ReturnDecision).note or ""
    return jsonify(
        service().decide_return(principal, ticket_id, decision == "approve", note, client_addr())
    )


@api.post("/green-passes")
def grant_green_pass():
    principal = who()
    data = body(shapes.GreenPass)
    return jsonify(
        service().grant_green_pass(principal, data.code, data.project, data.service, client_addr())
    ), 201


@api.post("/appointments")
def book_appointment():
    principal = who()
    data = body(shapes.Appointment)
    return jsonify(
        service().book_appointment(principal, data.code, data.service, data.day, client_addr())
    ), 201
