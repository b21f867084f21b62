"""The shapes of the spot-check (办件抽查) and efficiency-record (效能告诫) routes: what they
are sent and what they answer (hub/web/spot_api.py)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from msgspec import Meta

from .base import FIRST_YEAR, LAST_YEAR, MAX_LIST, Code, Shape, in_calendar
from .responses import Answer, Time

LongText = Annotated[str, Meta(max_length=2000)]
Verdict = Literal["pass", "fail", "na"]
RecordKind = Literal["criticism", "notice", "warning"]
Year = Annotated[int, Meta(ge=FIRST_YEAR, le=LAST_YEAR)]

# --- requests -------------------------------------------------------------------------------


class SpotDraw(Shape):
    week: Annotated[dt.date, Meta(description=(
        "the week's Monday; default: the week before the hall's current one"))] | None = None

    def __post_init__(self) -> None:
        in_calendar(self.week, "week")


class SpotReview(Shape):
    answers: Annotated[dict[Code, Verdict], Meta(
        max_length=MAX_LIST, description="every checklist item's code: pass, fail or na")]
    note: LongText = ""
    open_case: Annotated[bool, Meta(description=(
        "open a case (kind spot_check) from the finding; refused without one"))] = False


class SpotCheckQuery(Shape):
    week: dt.date | None = None  # a Monday; default: the latest draws

    def __post_init__(self) -> None:
        in_calendar(self.week, "week")


class StaffRecordRequest(Shape):
    kind: Annotated[RecordKind, Meta(
        description="criticism 批评教育, notice 通报批评, warning 效能告诫")]
    grounds: Annotated[str, Meta(max_length=2000, description="the article item it rests on")]
    detail: LongText = ""


class StaffQuery(Shape):
    year: Year | None = None  # default: the hall's current year


# --- answers --------------------------------------------------------------------------------


class ChecklistEntry(Answer):
    code: str
    text: str
    text_en: str


class SpotItem(Answer):
    ticket_id: str
    window_no: int
    number: str | None
    service: str | None
    clerk: str | None
    reviewed: bool
    reviewed_at: Time | None
    by: str | None
    answers: dict[str, Verdict] | None
    note: str | None
    finding: bool
    case_id: str | None


class SpotCheck(Answer):
    """A week's draw: how to recompute it (seed, method, per_window), what it was drawn
    from (population: tickets finished that week per window) and each sampled ticket."""

    draw_id: str
    week: dt.date
    seed: Annotated[str, Meta(description="128 bits, hex: the HMAC key")]
    per_window: int
    method: Literal["hmac-sha256-rank"]
    drawn_at: Time
    by: str
    population: dict[str, int]
    population_digest: Annotated[dict[str, str], Meta(
        description="SHA-256 (hex) of each window's finished tickets' ids, sorted, one per line")]
    sample: dict[str, list[str]]
    checklist: list[ChecklistEntry]
    items: list[SpotItem]
    reviewed: int
    findings: int


class SpotChecks(Answer):
    draws: list[SpotCheck]


class StaffMember(Answer):
    username: str
    name: str
    staff_no: str
    role: str
    active: bool


class StaffRecord(Answer):
    record_id: str
    username: str
    staff_no: str
    kind: RecordKind
    grounds: str
    detail: str
    year: int
    at: Time
    by: str


class StaffRecords(Answer):
    staff: StaffMember
    records: list[StaffRecord]
    excluded_years: Annotated[list[int], Meta(
        description="years with a 效能告诫: out of their 评先评优")]


class RecordCounts(Answer):
    criticism: int
    notice: int
    warning: int


class StaffRow(Answer):
    username: str
    name: str
    staff_no: str
    role: str
    active: bool
    records: Annotated[RecordCounts, Meta(description="this year's, by kind")]
    total: Annotated[int, Meta(description="every year's")]
    excluded: Annotated[bool, Meta(description="out of this year's 评先评优 (a 效能告诫)")]


class Staff(Answer):
    year: int
    staff: list[StaffRow]


__all__ = ["ChecklistEntry", "RecordCounts", "SpotCheck", "SpotCheckQuery", "SpotChecks",
           "SpotDraw", "SpotItem", "SpotReview", "Staff", "StaffMember", "StaffQuery",
           "StaffRecord", "StaffRecordRequest", "StaffRecords", "StaffRow"]
