"""A report or an assessment as CSV or XLSX, as the office files it."""

from __future__ import annotations

import csv
import io
from typing import Any

from hub.i18n import N_, default_texts

from .casework import RECORD_KINDS

COLUMNS: tuple[tuple[str, str], ...] = (
    # (field, its header's message: "export.wait_mean_s" is 平均等候(秒), Mean wait (s))
    ("key", N_("export.key")),
    ("name", N_("export.name")),
    ("issued", N_("export.issued")),
    ("called", N_("export.called")),
    ("served", N_("export.served")),
    ("no_shows", N_("export.no_shows")),
    ("transferred", N_("export.transferred")),
    ("returned", N_("export.returned")),
    ("expired", N_("export.expired")),
    ("wait_mean_s", N_("export.wait_mean_s")),
    ("wait_p90_min", N_("export.wait_p90_min")),
    ("serve_mean_s", N_("export.serve_mean_s")),
    ("serve_p90_min", N_("export.serve_p90_min")),
    ("within_target_share", N_("export.within_target_share")),
    ("slips_on_time", N_("export.slips_on_time")),
    ("slips_late", N_("export.slips_late")),
    ("slips_on_time_share", N_("export.slips_on_time_share")),
    ("r1", N_("export.r1")),
    ("r2", N_("export.r2")),
    ("r3", N_("export.r3")),
    ("r4", N_("export.r4")),
    ("r5", N_("export.r5")),
    ("rated_keypad", N_("export.rated_keypad")),
    ("rated_phone", N_("export.rated_phone")),
    ("satisfaction", N_("export.satisfaction")),
    ("complaints", N_("export.complaints")),
    ("pause_min", N_("export.pause_min")),
    # 督办 (casework, hub/reports/casework.py): blank where a grouping does not hold them
    ("cases", N_("export.cases")),
    ("called_back", N_("export.called_back")),
    ("callback_share", N_("export.callback_share")),
    ("rectify_needed", N_("export.rectify_needed")),
    ("rectified", N_("export.rectified")),
    ("rectified_share", N_("export.rectified_share")),
    ("rectified_on_time", N_("export.rectified_on_time")),
    ("rectified_on_time_share", N_("export.rectified_on_time_share")),
    ("appeals", N_("export.appeals")),
    ("appeals_upheld", N_("export.appeals_upheld")),
    ("ratings_excluded", N_("export.ratings_excluded")),
    ("complaints_verified", N_("export.complaints_verified")),
    ("complaints_excluded", N_("export.complaints_excluded")),
    ("spot_reviewed", N_("export.spot_reviewed")),
    ("spot_findings", N_("export.spot_findings")),
    ("records_criticism", N_("export.records_criticism")),
    ("records_notice", N_("export.records_notice")),
    ("records_warning", N_("export.records_warning")),
)
SCORE_COLUMNS = (("rank", N_("export.rank")), ("score", N_("export.score")))
# 评先评优, on a ranking of clerks: the rank among those not out of it, and who is out.
AWARD_COLUMNS = (("award_rank", N_("export.award_rank")),
                 ("award_excluded", N_("export.award_excluded")))


def table(found: dict[str, Any]) -> tuple[list[str], list[str], list[list[Any]]]:
    """Field names, header and rows of a report or an assessment, flat, for CSV and XLSX
    (the total last)."""
    cols = list(COLUMNS)
    if "formula" in found:
        awards = AWARD_COLUMNS if found["by"] == "clerk" else ()
        cols = [*SCORE_COLUMNS, *awards, *cols]
    texts = default_texts()
    header = [" ".join(texts.each(key)) for _, key in cols]
    marks = dict(zip((True, False), (" ".join(texts.each(N_("export.yes"))), ""), strict=True))
    out = []
    for r in [*found["rows"], found["total"]]:
        records = r.get("records") or {}
        flat = {**r, **{f"r{i}": r["ratings"][str(i)] for i in range(1, 6)},
                **{f"rated_{c}": n for c, n in r["rated_by_channel"].items()},
                "pause_min": round(r["pause_s"] / 60, 1),
                **{f"records_{k}": records.get(k) for k in RECORD_KINDS if r.get("records")}}
        if "award_excluded" in r:
            flat["award_excluded"] = marks[bool(r["award_excluded"])]
        out.append([flat.get(name) for name, _ in cols])
    return [c[0] for c in cols], header, out


def to_csv(found: dict[str, Any]) -> str:
    """UTF-8 CSV with a BOM (so Excel in a Chinese locale reads the headers right)."""
    _, header, rows = table(found)
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([f"{found['from']} – {found['to']}", f"by {found['by']}"])
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return buf.getvalue()


def to_xlsx(found: dict[str, Any], title: str) -> bytes:
    """One sheet, header frozen, shares as percentages: what the office files each month."""
    import xlsxwriter  # noqa: PLC0415 (only for an export: stays out of the hub's memory)

    names, header, rows = table(found)
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    sheet = book.add_worksheet(title[:31])
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    pct = book.add_format({"num_format": "0.0%"})
    sheet.write(0, 0, f"{found['from']} – {found['to']} ({found['by']})", bold)
    sheet.write_row(1, 0, header, bold)
    for i, row in enumerate(rows, start=2):
        for j, value in enumerate(row):
            if value is None:
                continue
            fmt = pct if names[j].endswith(("share", "satisfaction")) else None
            sheet.write(i, j, value, fmt)
    sheet.set_column(0, len(header) - 1, 12)
    sheet.freeze_panes(2, 2)
    book.close()
    return buf.getvalue()
