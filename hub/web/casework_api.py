"""Supervision casework over HTTP (督办工单, hub/service/casework.py; docs/casework.md).

    GET  /api/v1/cases                  the office's queue: open cases by deadline, filtered, paged
    GET  /api/v1/cases/<case_id>        a case and its steps (the office, or the clerk it names)
    POST /api/v1/cases/<case_id>/steps  {action, ...}: a step (the office; a supervisor decides
                                        an appeal; the clerk it names appeals)
    POST /api/v1/complaints             a complaint the office enters (phone, box, letter, visit)
    GET  /api/v1/my/cases               the signed-in clerk's own cases

Every change is audited, a refusal too.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from hub import shapes
from hub.shapes.casework import (
    CaseDetail,
    CasePage,
    CasesQuery,
    CaseStep,
    ComplaintEntered,
    MyCases,
    OfficeComplaint,
)

from .api import body, client_addr, service, who
from .operations import READ, WRITE, documented

casework_api = Blueprint("casework_api", __name__, url_prefix="/api/v1")


@casework_api.url_value_preprocessor
def _bounded_path(_endpoint: str | None, values: dict | None) -> None:
    if values:
        shapes.path(values)


@casework_api.get("/cases")
@documented(CasePage, *READ, 422, query=CasesQuery,
            described={"overdue": "1: only cases with a step past its due day",
                       "open": "1: only cases not closed"})
def cases():
    """督办工单: the supervision cases of 差评, complaints and spot-check findings, open ones by
    their next due day (then closed ones, newest first), filtered, a page at a time
    (supervisor)"""
    principal = who()
    asked = shapes.query(request.args, CasesQuery)
    return jsonify(service().casework.cases(principal, asked))


@casework_api.get("/cases/<case_id>")
@documented(CaseDetail, *READ, 404)
def case(case_id: str):
    """A case with its steps: who did what when (supervisor; or the clerk it names)"""
    return jsonify(service().casework.case(who(), case_id))


@casework_api.post("/cases/<case_id>/steps")
@documented(CaseDetail, *WRITE, 404, 409, body=CaseStep)
def case_step(case_id: str):
    """A case's step: callback, rectify, rectified, close (supervisor), decide_appeal (a
    supervisor only), appeal (only the clerk the case names, signed in as themselves); the case
    as it now stands. Audited"""
    principal = who()
    data = body(CaseStep)
    return jsonify(service().casework.step(principal, case_id, data, client_addr()))


@casework_api.post("/complaints")
@documented(ComplaintEntered, *WRITE, 404, 409, ok=201, body=OfficeComplaint)
def enter_complaint():
    """A complaint the office enters from the complaint phone, the box, a letter or a visit:
    filed like a kiosk's, its case opened with it (supervisor). Audited"""
    principal = who()
    data = body(OfficeComplaint)
    return jsonify(service().casework.file_complaint(principal, data, client_addr())), 201


@casework_api.get("/my/cases")
@documented(MyCases, *READ)
def my_cases():
    """The cases about the signed-in clerk (差评 and complaints naming them), newest first,
    each with the actions they may take (an appeal) (clerk)"""
    return jsonify(service().casework.my_cases(who()))
