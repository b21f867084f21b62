"""HTTP API under /api/v1. Handlers are thin: parse, authenticate, call the service, shape JSON."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, jsonify, request

from hub import shapes
from hub.auth import Principal, Role
from hub.engine import Invalid
from hub.service import WINDOW_ACTIONS, HallService
from hub.store.audit import export_lines

from .openapi import XLSX, openapi_document
from .operations import READ, WRITE, documented
from .report_export import report_response
from .staffing_report import staffing_response

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
    """The request's JSON body as `shape` (hub/shapes): one decoder for every route."""
    raw = request.get_data(cache=True)
    if raw.strip() and not request.is_json:
        raise Invalid("invalid_json", "error.json_content_type")
    return shapes.decode(raw, shape)


@api.url_value_preprocessor
def _bounded_path(_endpoint: str | None, values: dict | None) -> None:
    if values:
        shapes.path(values)


@api.get("/openapi.json")
@documented(dict[str, Any], auth=False)
def openapi():
    """This document"""
    return jsonify(openapi_document(current_app))


@api.get("/services")
@documented(shapes.Services, 401)
def services():
    """Service items with their six disclosures and required materials"""
    who()
    return jsonify({"services": service().services()})


@api.get("/queue")
@documented(shapes.Queue, 401)
def queue():
    """Snapshot of the hall: windows, waiting, recent calls"""
    who()
    return jsonify(service().snapshot())


@api.post("/tickets")
@documented((shapes.IssuedTicket, shapes.IssuedTicketForDevice), *WRITE, 404, 409, ok=201,
            body=shapes.TicketRequest)
def issue_ticket():
    """Issue a ticket (kiosk, supervisor); with `print` (a kiosk token) it is printed at the
    printer of the agent beside the kiosk, as /kiosk issue_ticket prints"""
    principal = who()
    data = body(shapes.TicketRequest)
    # `print`: at the printer of the agent beside this kiosk, as the kiosk socket's issue_ticket
    wants_print, materials = data.print is True, data.materials is True
    if wants_print and principal.role is not Role.KIOSK:
        raise Invalid("invalid", "error.print_needs_kiosk")
    ticket = service().issue_ticket(
        principal, data.service or "", data.channel or "normal", data.code, client_addr(),
        base_url=request.host_url,  # the phone's link: the hub as this client reaches it
        identity=data.identity,
    )
    if wants_print:
        printers = current_app.extensions["onestop_printers"]
        ticket["print"] = printers.print_ticket(principal.name, ticket, materials)
    return jsonify(ticket), 201


@api.get("/tickets/<ticket_id>")
@documented((shapes.Ticket, shapes.TicketForDevice), 401, 404)
def get_ticket(ticket_id: str):
    """One ticket (devices get it without what is the office's)"""
    return jsonify(service().ticket(who(), ticket_id))


@api.post("/tickets/<ticket_id>/rating-reason")
@documented(shapes.EventRecord, *WRITE, 404, 409, body=shapes.RatingReason)
def add_rating_reason(ticket_id: str):
    """The reason for a 不满意 rating, added later (kiosk or supervisor)"""
    principal = who()
    reason = body(shapes.RatingReason).reason
    return jsonify(service().add_rating_reason(principal, ticket_id, reason, client_addr()))


@api.post("/login")
@documented(shapes.Session, 401, 403, 404, 413, 422, 429, body=shapes.Login, auth=False)
def login():
    """Sign in with one's own account (clerks at a window) for a bearer token; every attempt,
    failed or refused, is audited. 401 `otp_required`/`otp_invalid`/`otp_replayed`: the
    account gives its authenticator's code in `otp`; 403 `password_expired`: change it first
    (POST /change-password); 403 `otp_not_enrolled`: an admin enrols the account's
    authenticator (`onestop user totp-enroll`)"""
    try:
        data = body(shapes.Login)
    except Invalid as err:  # a failed sign-in all the same: on record under the name tried
        service().sign_in_refused(shapes.attempted_username(request.get_data()), client_addr(),
                                  err)
        raise
    result = service().login(data.username, data.password, data.window, client_addr(),
                             data.otp)
    return jsonify(result)


@api.post("/change-password")
@documented(None, 401, 403, 413, 422, 429, ok=204, ok_text="Password changed",
            body=shapes.ChangePassword, auth=False)
def change_password():
    """Change one's own password with the current one (and the authenticator's code, if the
    account gives one): the way on from 403 `password_expired`. 422: the hall's password
    policy refused the new one (`password_too_short`, `password_too_simple`,
    `password_has_username`, `password_reused`). Audited, a refusal too"""
    try:
        data = body(shapes.ChangePassword)
    except Invalid as err:
        service().sign_in_refused(shapes.attempted_username(request.get_data()), client_addr(),
                                  err)
        raise
    service().change_password(data.username, data.password, data.new_password, data.otp,
                              client_addr())
    return "", 204


@api.post("/logout")
@documented(None, 401, 403, 409, ok=204, ok_text="Signed out")
def logout():
    """End this session (a clerk signs out of the window: 409 while a ticket is at it). A
    device token has no session: 403 device_token, revoke it with `onestop token revoke`"""
    service().logout(who(), client_addr())
    return "", 204


@api.post("/windows/<int:no>/<action>")
@documented(shapes.WindowActed, *WRITE, 404, 409, body=shapes.WindowAction,
            body_required=False, enums={"action": WINDOW_ACTIONS})
def window_action(no: int, action: str):
    """A clerk's action at their window (clerk token for that window)"""
    principal = who()
    args = body(shapes.WindowAction)
    return jsonify(service().window_action(principal, no, action, args, client_addr()))


@api.get("/slips/<number>")
@documented(shapes.Slip, *READ, 404)
def get_slip(number: str):
    """A commitment slip (承诺单) as the kiosk shows it: status, promised date, item; nothing
    about the citizen (kiosk, clerk, supervisor)"""
    return jsonify(service().slip(who(), number))


@api.post("/slips/<number>/status")
@documented(shapes.Slip, *WRITE, 404, 409, body=shapes.SlipStatusChange)
def set_slip_status(number: str):
    """Move a slip's status forward: accepted → in_progress → done → ready → collected
    (clerk, supervisor)"""
    principal = who()
    status = body(shapes.SlipStatusChange).status.value
    return jsonify(service().set_slip_status(principal, number, status, client_addr()))


@api.post("/slips/<number>/parts")
@documented(shapes.Slip, *WRITE, 404, 409, body=shapes.PartDone, body_required=False)
def joint_part_done(number: str):
    """联办件: the caller's department (a clerk: their window's) has done its part; the last
    part done makes the slip done (clerk, supervisor)"""
    principal = who()
    department = body(shapes.PartDone).department
    return jsonify(service().part_done(principal, number, department, client_addr()))


@api.get("/joint-cases")
@documented(shapes.JointCases, *READ, 404, 422, query=shapes.JointCasesQuery)
def joint_cases():
    """联办件 waiting for a department's part (default: the clerk's department)"""
    principal = who()
    department = shapes.query(request.args, shapes.JointCasesQuery).department
    return jsonify({"cases": service().joint_cases(principal, department)})


@api.post("/notice")
@documented(shapes.EventRecord, *WRITE, body=shapes.Notice)
def set_notice():
    """Set the screens' scrolling notice live; an empty text restores the hall file's
    (supervisor)"""
    principal = who()
    data = body(shapes.Notice)
    return jsonify(service().set_notice(principal, data.text, data.text_en or "", client_addr()))


@api.get("/totals")
@documented(shapes.Totals, *READ)
def totals():
    """Today's totals: issued, served, serving, waiting (and per item), no-shows, ratings by
    level, satisfaction (非常满意/满意/基本满意 share), complaints (supervisor)"""
    return jsonify(service().totals(who()))


@api.post("/services/<code>/close")
@documented(shapes.EventRecord, *WRITE, 404, body=shapes.CloseService)
def close_service(code: str):
    """Suspend an item: kiosks refuse its tickets with service_closed (supervisor)"""
    principal = who()
    reason = body(shapes.CloseService).reason
    return jsonify(service().close_service(principal, code, reason, client_addr()))


@api.post("/services/<code>/reopen")
@documented(shapes.EventRecord, *WRITE, 404, 409, body=shapes.Empty, body_required=False)
def reopen_service(code: str):
    """Take tickets for a suspended item again (supervisor)"""
    principal = who()
    body(shapes.Empty)  # an empty body, or a JSON object: nothing else
    return jsonify(service().reopen_service(principal, code, client_addr()))


@api.post("/clerks/<username>/move")
@documented(shapes.MovedClerk, *WRITE, 404, 409, body=shapes.MoveClerk)
def move_clerk(username: str):
    """Move a signed-in clerk to a free window: signed_out (reason moved) and signed_in
    events; their session and panel follow (supervisor)"""
    principal = who()
    window = body(shapes.MoveClerk).window
    return jsonify(service().move_clerk(principal, username, window, client_addr()))


@api.get("/devices")
@documented(shapes.Devices, *READ)
def devices():
    """Devices reported by agents and their state (supervisor)"""
    return jsonify({"devices": service().devices(who())})


_DOWNLOADS = {"text/csv": {"schema": {"type": "string"}},
              XLSX: {"schema": {"type": "string", "contentEncoding": "binary"}}}
_RANGE = {"from": "default: today", "to": "default: from"}


@api.get("/reports")
@documented(shapes.Report, *READ, 422, query=shapes.ReportQuery, more_media=_DOWNLOADS,
            described=_RANGE, enums={"by": ("department", "window", "clerk", "service")})
def reports():
    """Statistics of a range of days per department, window, clerk or service item: tickets,
    no-shows, transfers, wait and service time (mean, p90 in minutes), time-limit compliance,
    承诺件 on time, ratings and satisfaction, complaints, pauses by reason, and the casework
    (差评整改率, 按期整改率, 回访率, appeals, complaints verified, spot-check findings,
    efficiency records); JSON, or a CSV / XLSX download (supervisor)"""
    return report_response(service(), who(), "report", request.args)


@api.get("/assessment")
@documented(shapes.AssessmentReport, *READ, 422, query=shapes.ReportQuery,
            more_media=_DOWNLOADS, described=_RANGE,
            enums={"by": ("window", "clerk", "department")})
def assessment():
    """考核: the report's figures per window, clerk or department with the [assessment] score
    and rank; clerks also with their 评先评优 standing (supervisor)"""
    return report_response(service(), who(), "assessment", request.args)


@api.get("/reports/staffing")
@documented(shapes.StaffingAdvice, *READ, 422, 503, query=shapes.StaffingQuery)
def staffing_advice():
    """Staffing advice for a week: per day, hour and item, the windows that keep the p90 wait
    within the hall file's [staffing] target, from the last weeks' history, by simulated days
    with the queue engine; Erlang C's figure and the hall as configured beside it (supervisor;
    computed beside the hub; 503 if that fails)"""
    return staffing_response(service(), who(), request.args)


@api.get("/dead-letters")
@documented(shapes.DeadLetters, *READ)
def dead_letters():
    """Events the supervision backend refused (dead letters, see docs/events.md) and the
    feed's status {cursor, last_seq, backlog, oldest_unsent_at, dead_letters, failures,
    last_error, last_error_at} (supervisor)"""
    return jsonify(service().dead_letters(who()))


@api.get("/audit")
@documented(shapes.AuditRecords, *READ, 422, query=shapes.AuditQuery,
            described={"since": "a day of the hall, 2000-2100"})
def audit():
    """The staff audit log, latest `limit` records oldest first (supervisor; docs/audit.md)"""
    principal = who()
    asked = shapes.query(request.args, shapes.AuditQuery)
    records = service().audit_records(principal, asked.account, asked.since, asked.limit)
    return jsonify({"records": records})


_JSONL = "application/x-ndjson"


@api.get("/audit/export")
@documented(None, *READ, 422, query=shapes.AuditExportQuery, media=_JSONL,
            schema={"type": "string"}, more_media={"text/csv": {"schema": {"type": "string"}}},
            described={"from": "a day of the hall", "to": "the last day, included"})
def audit_export():
    """The audit records of a range of days with their hashes, as JSON Lines or CSV, for the
    supervision office (supervisor only; audited; docs/audit.md)"""
    principal = who()
    asked = shapes.query(request.args, shapes.AuditExportQuery)
    records = service().audit_export(principal, asked.start, asked.end, asked.format,
                                     client_addr())
    lines = export_lines(records, asked.format)
    resp = Response(lines, mimetype=_JSONL if asked.format == "jsonl" else "text/csv")
    if asked.format == "csv":
        resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    name = f"audit-{asked.start}-{asked.end}.{asked.format}"
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


@api.get("/alerts")
@documented(shapes.Alerts, *READ)
def alerts():
    """电子监察 alerts holding now: long waits, cases past their target, long pauses, unstaffed
    windows, devices offline, unusual 差评 or no-show shares, 承诺件 past their promised date,
    supervision cases' callbacks and rectifications past their due day (supervisor)"""
    return jsonify({"alerts": service().alerts(who())})


@api.get("/returns")
@documented(shapes.PendingReturns, *READ)
def pending_returns():
    """退件 awaiting a supervisor"""
    return jsonify({"returns": service().pending_returns(who())})


@api.post("/returns/<ticket_id>/<decision>")
@documented(shapes.EventRecord, *WRITE, 404, 409, body=shapes.ReturnDecision,
            body_required=False)
def decide_return(ticket_id: str, decision: str):
    """Approve or refuse a 退件 (supervisor)"""
    principal = who()
    if decision not in ("approve", "refuse"):
        raise Invalid("invalid", "error.return_decision")
    note = body(shapes.ReturnDecision).note or ""
    return jsonify(
        service().decide_return(principal, ticket_id, decision == "approve", note, client_addr())
    )


@api.post("/green-passes")
@documented(shapes.EventRecord, *WRITE, 404, 409, ok=201, body=shapes.GreenPass)
def grant_green_pass():
    """Grant a single-use green-channel code for today (supervisor)"""
    principal = who()
    data = body(shapes.GreenPass)
    return jsonify(
        service().grant_green_pass(principal, data.code, data.project, data.service, client_addr())
    ), 201


@api.post("/appointments")
@documented(shapes.EventRecord, *WRITE, 404, 409, ok=201, body=shapes.Appointment)
def book_appointment():
    """Register an appointment that can check in at the kiosk (supervisor)"""
    principal = who()
    data = body(shapes.Appointment)
    return jsonify(
        service().book_appointment(principal, data.code, data.service, data.day, client_addr(),
                                   id_number=data.id_number)
    ), 201


@api.post("/identity/lookup")
@documented(shapes.IdentityFound, *WRITE, 409, body=shapes.IdentityLookup)
def identity_lookup():
    """刷身份证取号: the swiped person's open 承诺单 and today's appointments booked for them
    (kiosk; the handle is what the kiosk was pushed as `identity`); 409 identity_stale for a
    handle expired or not the hall's"""
    return jsonify(service().identity.lookup(who(), body(shapes.IdentityLookup).identity))
