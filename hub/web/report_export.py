"""GET /api/v1/reports and /api/v1/assessment: parse the range, authorize, and answer as JSON,
CSV or XLSX. Kept out of api.py so the routes there stay one line each."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, jsonify

from hub import reports, shapes
from hub.auth import OFFICE_ROLES, Principal
from hub.engine import Invalid
from hub.service import HallService

_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_response(svc: HallService, who: Principal, kind: str,
                    args: Mapping[str, str]) -> Response:
    """`kind` is report or assessment. Office only (supervisor, admin): figures name clerks."""
    svc.require(who, *OFFICE_ROLES)
    asked = shapes.query(args, shapes.ReportQuery)  # days within 2000-2100: the calendar's
    today = svc.current_day()
    start = asked.start or today
    end = asked.end or start
    if end < start:
        raise Invalid("invalid", "结束日期早于开始日期", "to is before from")
    if (end - start).days >= reports.MAX_DAYS:
        raise Invalid("invalid", "时间范围过长（最多两年）", "the range is longer than two years")
    groupings = reports.GROUPINGS if kind == "report" else reports.ASSESSED
    by = asked.by or groupings[0]
    if by not in groupings:
        raise Invalid("invalid", f"by 应为 {'/'.join(groupings)}",
                      f"by must be one of {', '.join(groupings)}")
    fmt = asked.format
    make = reports.report if kind == "report" else reports.assessment
    found = make(svc.db, svc.cfg, start, end, by, today, svc.clock())
    if fmt == "json":
        return jsonify(found)
    name = f"{'report' if kind == 'report' else 'assessment'}-{by}-{start}-{end}"
    if fmt == "csv":
        resp = Response(reports.to_csv(found), mimetype="text/csv")
        resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    else:
        title = "统计 Report" if kind == "report" else "考核 Assessment"
        resp = Response(reports.to_xlsx(found, title), mimetype=_XLSX)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return resp
