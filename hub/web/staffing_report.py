"""GET /api/v1/reports/staffing: parse the week, authorize, and answer the advice computed
beside the hub (hub/reports/staffing.py), never on its event loop."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
from collections.abc import Mapping

from flask import Response, jsonify

from hub import shapes
from hub.auth import OFFICE_ROLES, Principal
from hub.i18n import N_, default_texts
from hub.reports import staffing
from hub.service import HallService

from .errors import error_body

log = logging.getLogger(__name__)

UNAVAILABLE = N_("error.staffing_unavailable")


def staffing_response(svc: HallService, who: Principal, args: Mapping[str, str]) -> Response:
    svc.require(who, *OFFICE_ROLES)
    asked = shapes.query(args, shapes.StaffingQuery)
    today = svc.current_day()
    if asked.week:
        monday = staffing.parse_week(asked.week)
    else:  # next week: what the office plans
        monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7)
    try:
        return jsonify(staffing.advice_beside(svc.db, svc.cfg, monday, today))
    except (subprocess.TimeoutExpired, RuntimeError, OSError, ValueError) as err:
        log.warning("staffing advice for %s: %s", staffing.week_name(monday), err)
        resp = jsonify(error_body("staffing_unavailable", default_texts().joined(UNAVAILABLE)))
        resp.status_code = 503
        return resp
