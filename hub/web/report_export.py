"""GET /api/v1/reports and /api/v1/assessment: parse the range, authorize, and answer as JSON,
CSV or XLSX. Kept out of api.py so the routes there stay one line each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from flask import Response, jsonify

from hub import reports
from hub.auth import OFFICE_ROLES, Principal
from hub.engine import Invalid
from hub.service import HallService

_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _day(args: Mapping[str, str], key: str, default: dt.date) -> dt.date:
    raw = args.get(key)
    if not raw:
        return default
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise Invalid("invalid", f"{key} 应为 YYYY-MM-DD", f"{key} must be YYYY-MM-DD") from None
    if not 2000 <= day.year <= 2100:  # and the range arithmetic never leaves the calendar
        raise Invalid("invalid", f"{key} 超出范围", f"{key} must be in 2000-2100")
    return day


def report_response(svc: HallService, who: Principal, kind: str,
                    args: Mapping[str, str]) -> Response:
    """`kind` is report or assessment. Office only (supervisor, admin): figures name clerks."""
    svc.require(who, *OFFICE_ROLES)
    today = svc.state.day
    start = _day(args, "from", today)
    end = _day(args, "to", start)
    if end < start:
        raise Invalid("invalid", "结束日期早于开始日期", "to is before from")
    if (end - start).days >= reports.MAX_DAYS:
        raise Invalid("invalid", "时间范围过长（最多两年）", "the range is longer than two years")
    groupings = reports.GROUPINGS if kind == "report" else reports.ASSESSED
    by = args.get("by") or groupings[0]
    if by not in groupings:
        raise Invalid("invalid", f"by 应为 {'/'.join(groupings)}",
                      f"by must be one of {', '.join(groupings)}")
    fmt = args.get("format") or "json"
    if fmt not in ("json", "csv", "xlsx"):
        raise Invalid("invalid", "format 应为 json/csv/xlsx", "format must be json, csv or xlsx")
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
