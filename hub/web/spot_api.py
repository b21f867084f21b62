"""HTTP routes of 办件抽查 (spot checks) and efficiency records (效能告诫), under /api/v1.
Thin like the rest of the API: parse, authenticate, call the service (which authorizes and
audits), answer JSON."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from hub import shapes

from .api import body, client_addr, service, who
from .operations import READ, WRITE, documented

spot_api = Blueprint("spot_api", __name__, url_prefix="/api/v1")


@spot_api.url_value_preprocessor
def _bounded_path(_endpoint: str | None, values: dict | None) -> None:
    if values:
        shapes.path(values)


@spot_api.post("/spot-checks/draw")
@documented(shapes.SpotCheck, *WRITE, 409, ok=201, body=shapes.SpotDraw, body_required=False)
def draw_spot_check():
    """Draw a week's 办件抽查 sample per window, reproducibly from a recorded seed (docs/
    spot-checks.md); once a week, a week that is over (supervisor, admin)"""
    principal = who()
    week = body(shapes.SpotDraw).week
    return jsonify(service().spot_checks.draw(principal, week, client_addr())), 201


@spot_api.get("/spot-checks")
@documented(shapes.SpotChecks, *READ, 422, query=shapes.SpotCheckQuery,
            described={"week": "a Monday; default: the latest draws"})
def spot_checks():
    """Spot-check draws with their items and reviews: a week's, or the latest (supervisor,
    admin)"""
    principal = who()
    week = shapes.query(request.args, shapes.SpotCheckQuery).week
    return jsonify({"draws": service().spot_checks.draws(principal, week)})


@spot_api.get("/spot-checks/<draw_id>")
@documented(shapes.SpotCheck, *READ, 404)
def spot_check(draw_id: str):
    """One draw with its items and reviews (supervisor, admin)"""
    return jsonify(service().spot_checks.one(who(), draw_id))


@spot_api.post("/spot-checks/<draw_id>/items/<ticket_id>")
@documented(shapes.SpotCheck, *WRITE, 404, 409, body=shapes.SpotReview)
def review_spot_item(draw_id: str, ticket_id: str):
    """Review a sampled ticket against the draw's checklist: any fail is a finding, which
    `open_case` opens a case from (supervisor, admin)"""
    principal = who()
    data = body(shapes.SpotReview)
    return jsonify(service().spot_checks.review(principal, draw_id, ticket_id,
                                                dict(data.answers), data.note, data.open_case,
                                                client_addr()))


@spot_api.get("/staff")
@documented(shapes.Staff, *READ, 422, query=shapes.StaffQuery,
            described={"year": "default: the hall's current year"})
def staff():
    """Staff with their efficiency records of a year and whether a 效能告诫 keeps them out of
    its 评先评优 (supervisor, admin)"""
    principal = who()
    year = shapes.query(request.args, shapes.StaffQuery).year
    return jsonify(service().staff_records.staff(principal, year))


@spot_api.get("/staff/<username>/records")
@documented(shapes.StaffRecords, *READ, 404)
def staff_records(username: str):
    """A staff member's efficiency records, newest first (supervisor, admin)"""
    return jsonify(service().staff_records.of(who(), username))


@spot_api.post("/staff/<username>/records")
@documented(shapes.StaffRecord, *WRITE, 404, 409, ok=201, body=shapes.StaffRecordRequest)
def add_staff_record(username: str):
    """Record 批评教育 (criticism), 通报批评 (notice) or 效能告诫 (warning) against a staff
    member with its grounds; a warning keeps them out of the year's 评先评优 (supervisor)"""
    principal = who()
    data = body(shapes.StaffRecordRequest)
    return jsonify(service().staff_records.add(principal, username, data.kind, data.grounds,
                                               data.detail, client_addr())), 201
