"""The shapes of supervision casework's routes (督办工单, hub/service/casework.py): what the office
and a clerk send (a case's step, an office-entered complaint, the list's query) and what they
get back (a case, its steps, a page of cases)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from hub.engine.casework import ACTIONS, ATTACHMENTS_MAX, COMPLAINT_CHANNELS, TEXT_MAX
from hub.engine.model import CaseStatus

from .base import Code, Shape, Text, WindowNo
from .responses import Answer, Time

LongText = Annotated[str, Meta(max_length=TEXT_MAX)]
Action = Literal["callback", "rectify", "rectified", "close", "appeal", "decide_appeal"]
Channel = Literal["phone", "box", "letter", "visit"]
assert set(Action.__args__) == set(ACTIONS)  # type: ignore[attr-defined]
assert set(Channel.__args__) == set(COMPLAINT_CHANNELS)  # type: ignore[attr-defined]
Kind = Literal["rating", "complaint", "spot_check"]
Flag = Annotated[int, Meta(ge=0, le=1, description="1: only those; 0 or absent: any")]
Cursor = Annotated[str, Meta(max_length=64, description="`next` of the page before")]

# --- requests -----------------------------------------------------------------------------------


class CaseStep(Shape):
    """One step of a case: `action` and its fields (each action reads its own)."""

    action: Action
    result: LongText | None = None  # callback: what the citizen said
    reached: bool | None = None  # callback: whether the citizen was reached
    cause: LongText | None = None  # rectify
    plan: LongText | None = None  # rectify
    fix: LongText | None = None  # rectified: what was done
    reply: LongText | None = None  # close: what the citizen was told
    verdict: Literal["founded", "unfounded"] | None = None  # close
    grounds: LongText | None = None  # appeal (the clerk)
    upheld: bool | None = None  # decide_appeal (a supervisor)
    note: LongText | None = None  # decide_appeal
    attachments: Annotated[list[LongText], Meta(max_length=ATTACHMENTS_MAX)] | None = None


class OfficeComplaint(Shape):
    """A complaint the office enters from the complaint phone, the box, a letter or a visit."""

    category: Code
    text: Text
    channel: Channel
    window: WindowNo | None = None
    staff_no: Code | None = None
    phone: Code | None = None


class CasesQuery(Shape):
    status: CaseStatus | None = None
    kind: Kind | None = None
    window: WindowNo | None = None
    clerk: Code | None = None
    department: Code | None = None
    overdue: Flag | None = None
    open: Flag | None = None
    limit: Annotated[int, Meta(ge=1, le=200)] = 50
    after: Cursor | None = None


# --- answers ------------------------------------------------------------------------------------


class CaseRow(Answer, kw_only=True):
    """A case as the office (or the clerk it names) sees it."""

    case_id: str
    kind: str
    source: str
    channel: str | None = None
    status: CaseStatus
    status_name: str
    status_name_en: str
    resumed: CaseStatus | None = None
    day: dt.date
    opened_at: Time
    ticket_id: str | None = None
    number: str | None = None
    window_no: int | None = None
    clerk: str | None = None
    staff_no: str | None = None
    department: str | None = None
    service: str | None = None
    level: int | None = None
    reason: str | None = None
    complaint_id: str | None = None
    category: str | None = None
    summary: str
    callback_due: dt.date
    rectify_due: dt.date
    next_due: dt.date | None = None
    called_back_at: Time | None = None
    rectified_at: Time | None = None
    closed_at: Time | None = None
    verdict: str | None = None
    appeal: str | None = None
    updated_at: Time | None = None
    overdue: Annotated[list[str], Meta(description="steps past their due day: callback, rectify")]
    actions: Annotated[list[str], Meta(description="what the caller may do to it now")]
    contact: Annotated[str | None, Meta(
        description="the office's: the phone a complaint's citizen left for an answer")] \
        | UnsetType = UNSET


class CaseStepRow(Answer, kw_only=True):
    seq: int
    at: Time
    action: str
    status: CaseStatus
    previous: CaseStatus
    by: str
    result: str | UnsetType = UNSET
    reached: bool | UnsetType = UNSET
    cause: str | UnsetType = UNSET
    plan: str | UnsetType = UNSET
    fix: str | UnsetType = UNSET
    reply: str | UnsetType = UNSET
    verdict: str | UnsetType = UNSET
    grounds: str | UnsetType = UNSET
    upheld: bool | UnsetType = UNSET
    note: str | UnsetType = UNSET
    attachments: list[str] | UnsetType = UNSET


class CaseDetail(Answer):
    case: CaseRow
    steps: list[CaseStepRow]


class CasePage(Answer):
    cases: list[CaseRow]
    next: Annotated[str | None, Meta(description="`after` for the next page; null: the last")]


class MyCases(Answer):
    cases: list[CaseRow]


class ComplaintEntered(Answer):
    id: str
    case_id: str
