"""The shapes of what the office's routes answer (hub/shapes/responses.py has the rest):
devices, alerts, the feed's dead letters, the audit log, reports and assessments, and the
hall file read, checked, edited and applied."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from hub.config import Assessment as AssessmentFormula
from hub.engine import model

from .responses import Answer, Problem, Time

# --- the office -----------------------------------------------------------------------------


class Device(model.DeviceHealth, forbid_unknown_fields=True):
    """A device an agent reported, with its last state."""


class Devices(Answer):
    devices: list[Device]


class AlertNow(model.Alert, forbid_unknown_fields=True):
    """An 电子监察 condition that holds now."""


class Alerts(Answer):
    alerts: list[AlertNow]


class DeadLetter(Answer):
    seq: int
    event_id: str
    type: str
    status_code: int
    response: str
    failed_at: Time
    replayed_at: Time | None


class Forwarding(Answer):
    """Where the feed to the supervision backend is."""

    failures: Annotated[int, Meta(description="failed attempts, ever")]
    last_error: str | None
    last_error_at: Time | None
    cursor: int
    last_seq: int
    backlog: int
    oldest_unsent_at: Time | None
    dead_letters: Annotated[int, Meta(description="not replayed yet")]


class DeadLetters(Answer):
    dead_letters: list[DeadLetter]
    forwarding: Forwarding


class AuditRecord(Answer):
    """One record of the staff audit log (docs/audit.md); a damaged row is shown as stored."""

    seq: int
    at: Time
    account: str
    role: str
    window_no: int | None
    addr: str
    action: str
    detail: dict[str, Any] | str
    event_seqs: list[int] | str
    outcome: Annotated[str, Meta(description="ok, or the refusal's code")]
    prev_hash: str
    hash: str


class AuditRecords(Answer):
    records: list[AuditRecord]


# --- reports --------------------------------------------------------------------------------


class ReportRow(Answer, kw_only=True):
    """One group's figures (times in seconds, p90s in whole minutes, shares 0-1)."""

    key: str
    name: str
    name_en: str
    staff_no: str | UnsetType = UNSET  # by clerk
    issued: int | None  # by department or item: tickets belong to an item
    called: int
    served: int
    no_shows: int
    transferred: int
    returned: int
    expired: int
    no_show_share: float | None
    wait_mean_s: float | None
    wait_p90_min: int | None
    serve_mean_s: float | None
    serve_p90_min: int | None
    within_target: int
    within_target_share: float | None
    slips_on_time: int
    slips_late: int
    slips_pending: int
    slips_on_time_share: float | None
    ratings: Annotated[dict[str, int], Meta(description="level 1-5 -> ratings")]
    rated: int
    rated_by_channel: Annotated[dict[str, int], Meta(
        description="channel (keypad, phone) -> ratings")]
    not_rated: int
    satisfaction: float | None
    complaints: int
    pause_s: float
    pause_by_reason: dict[str, float]
    # 督办 (hub/reports/casework.py defines each): None where the grouping does not hold them
    # (items; efficiency records also windows and departments: they are a person's).
    cases: Annotated[int | None, Meta(description="差评 and complaint cases opened")]
    called_back: int | None
    callback_share: Annotated[float | None, Meta(description="回访率")]
    rectify_needed: Annotated[int | None, Meta(description="差评 found founded")]
    rectified: int | None
    rectified_share: Annotated[float | None, Meta(description="差评整改率")]
    rectified_on_time: int | None
    rectified_on_time_share: Annotated[float | None, Meta(description="按期整改率")]
    appeals: int | None
    appeals_upheld: int | None
    complaints_verified: int | None
    complaints_excluded: Annotated[int | None, Meta(description="appeal upheld")]
    ratings_excluded: Annotated[int, Meta(
        description="ratings out of the figures by an upheld appeal (kept, not deleted)")]
    spot_reviewed: int | None
    spot_findings: int | None
    records: Annotated[dict[str, int] | None, Meta(
        description="efficiency records by kind: criticism, notice, warning")]


class HourCount(Answer):
    hour: int
    issued: int
    served: int


class _ReportFields(Answer):
    start: dt.date = msgspec.field(name="from")
    end: dt.date = msgspec.field(name="to")
    by: str
    days: int
    live_days: Annotated[list[dt.date], Meta(description="read live, not from summaries")]
    generated_at: Time
    total: ReportRow
    by_hour: list[HourCount]


class Report(_ReportFields, kw_only=True):
    """A range of days' figures per group, the total, and the day's hours."""

    rows: list[ReportRow]


class AssessedRow(ReportRow, kw_only=True):
    score: float
    parts: Annotated[dict[str, float], Meta(description="the formula's terms")]
    rank: Annotated[int, Meta(description="1 = best; equal scores share a rank")]
    award_excluded: Annotated[bool | UnsetType, Meta(
        description="by clerk: a 效能告诫 in the year, so not ranked for 评先评优")] = UNSET
    award_rank: Annotated[int | UnsetType | None, Meta(
        description="by clerk: rank among those not excluded from 评先评优")] = UNSET


class AssessmentReport(_ReportFields, kw_only=True):
    """考核: the report's figures per window, clerk or department, scored and ranked."""

    rows: list[AssessedRow]
    formula: AssessmentFormula


# --- the hall file --------------------------------------------------------------------------


class QuickEditItem(Answer):
    code: str
    name: str
    daily_quota: int
    hours: str


class QuickEditWindow(Answer):
    no: int
    name: str
    services: list[str]
    backup: int | None


class RunningHallFile(Answer):
    """The hall file the hall runs on, and what the quick-edit form starts from."""

    toml: str
    hash: str
    path: str | None
    editable: bool
    last_reload: Annotated[dict[str, Any] | None, Meta(
        description="the last SIGHUP reload's outcome (as `onestop reload` shows it)")]
    hours: list[str]
    services: list[QuickEditItem]
    windows: list[QuickEditWindow]


class CodesChanged(Answer):
    added: list[str] | UnsetType = UNSET
    removed: list[str] | UnsetType = UNSET
    changed: list[str] | UnsetType = UNSET


class WindowsChanged(Answer):
    added: list[int] | UnsetType = UNSET
    removed: list[int] | UnsetType = UNSET
    changed: list[int] | UnsetType = UNSET


class HallChange(Answer):
    """What a hall file changes (empty: nothing)."""

    departments: CodesChanged | UnsetType = UNSET
    services: CodesChanged | UnsetType = UNSET
    windows: WindowsChanged | UnsetType = UNSET
    sections: Annotated[list[str], Meta(description="other sections changed")] | UnsetType \
        = UNSET


class HallFileCheck(Answer):
    ok: bool
    problems: list[Problem]
    summary: HallChange
    blocked: Annotated[list[str], Meta(description="what in the live hall blocks it")]
    hash: str | UnsetType = UNSET  # of a file that parses


class HallFileEdited(Answer):
    toml: str
    problems: list[Problem]
    summary: HallChange


class HallFileApplied(Answer):
    applied: Annotated[bool, Meta(description="false: the same hall (comments, layout)")]
    hash: str
    summary: HallChange
    text: str
    backup: Annotated[str | None, Meta(description="the previous file, kept")] | UnsetType \
        = UNSET
