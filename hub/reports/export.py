"""A report or an assessment as CSV or XLSX, as the office files it."""

from __future__ import annotations

import csv
import io
from typing import Any

COLUMNS: tuple[tuple[str, str, str], ...] = (
    # (field, 中文, English)
    ("key", "编码", "Key"),
    ("name", "名称", "Name"),
    ("issued", "取号", "Issued"),
    ("called", "叫号", "Called"),
    ("served", "办结", "Served"),
    ("no_shows", "过号", "No-shows"),
    ("transferred", "转办", "Transferred"),
    ("returned", "退件", "Returned"),
    ("expired", "未办", "Unserved"),
    ("wait_mean_s", "平均等候(秒)", "Mean wait (s)"),
    ("wait_p90_min", "等候P90(分)", "Wait p90 (min)"),
    ("serve_mean_s", "平均办理(秒)", "Mean service (s)"),
    ("serve_p90_min", "办理P90(分)", "Service p90 (min)"),
    ("within_target_share", "时限内办结率", "Within target"),
    ("slips_on_time", "承诺件按时", "Slips on time"),
    ("slips_late", "承诺件超期", "Slips late"),
    ("slips_on_time_share", "承诺件按时率", "Slips on-time share"),
    ("r1", "非常满意", "Very satisfied"),
    ("r2", "满意", "Satisfied"),
    ("r3", "基本满意", "Basically satisfied"),
    ("r4", "不满意", "Dissatisfied"),
    ("r5", "非常不满意", "Very dissatisfied"),
    ("satisfaction", "满意率", "Satisfaction"),
    ("complaints", "投诉", "Complaints"),
    ("pause_min", "暂停(分)", "Paused (min)"),
)
SCORE_COLUMNS = (("rank", "名次", "Rank"), ("score", "得分", "Score"))


def table(found: dict[str, Any]) -> tuple[list[str], list[str], list[list[Any]]]:
    """Field names, header and rows of a report or an assessment, flat, for CSV and XLSX
    (the total last)."""
    cols = list(COLUMNS)
    if "formula" in found:
        cols = [*SCORE_COLUMNS, *cols]
    header = [f"{zh} {en}" for _, zh, en in cols]
    out = []
    for r in [*found["rows"], found["total"]]:
        flat = {**r, **{f"r{i}": r["ratings"][str(i)] for i in range(1, 6)},
                "pause_min": round(r["pause_s"] / 60, 1)}
        out.append([flat.get(name) for name, _, _ in cols])
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
