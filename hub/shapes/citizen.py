"""The citizen's phone routes (/api/v1/citizen/<cap>, the /citizen namespace): what they take
and answer. Nothing personal in any answer (docs/citizen.md)."""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Meta, UnsetType

from .base import Code, Secret, Shape, Text, WindowNo
from .responses import Answer, Time


class CitizenAuth(Shape):
    """/citizen connect: the capability the ticket's QR holds (its link's last part)."""

    capability: Secret | None = None


class CitizenComplaint(Shape):
    category: Code | None = None
    text: Text | None = None
    window: WindowNo | None = None
    phone: Annotated[Code, Meta(description="only to get an answer; stays in the office")] \
        | None = None


class CitizenRating(Shape):
    level: Annotated[int, Meta(ge=1, le=5, description="1 非常满意 … 5 非常不满意")] | None = None
    reason: Text | None = None


class CitizenWindow(Answer):
    no: int
    name: str
    location: str


class CitizenCalled(Answer):
    window: int | None
    at: Time | None
    recalls: int
    masked_name: Annotated[str, Meta(description=(
        "silent calling (无声叫号) on and the ticket issued against an ID card: the masked "
        "name (张*) shown beside the number"))] | UnsetType = UNSET


class CitizenNoShow(Answer):
    recall_limit: int
    requeue_behind: int


class CitizenMaterial(Answer):
    text: str
    text_en: str


class CitizenRatingNow(Answer):
    status: str
    level: int | None
    channel: Annotated[str | None, Meta(description="keypad | kiosk | phone | office")]


class CitizenCategory(Answer):
    code: str
    name: str
    name_en: str


class CitizenSlipLink(Answer):
    number: str
    link: Annotated[str | None, Meta(
        description="the 承诺单's own page (/s/<capability>); null in a pushed view")]


class CitizenView(Answer):
    """What the ticket's phone page shows: no name, ID, phone or clerk, no other ticket."""

    number: str
    service: str
    service_name: str
    service_name_en: str
    status: str
    people_ahead: int
    estimated_wait_minutes: int
    windows: list[CitizenWindow]
    called: CitizenCalled | None
    elderly: Annotated[bool, Meta(description="an elderly (适老) priority ticket")]
    no_show: CitizenNoShow
    materials: list[CitizenMaterial]
    finished_at: Time | None
    rating: CitizenRatingNow | None
    can_rate: bool
    reasons: list[str]
    complaint_categories: list[CitizenCategory]
    slip: CitizenSlipLink | None
    now: Time


class CitizenComplaintFiled(Answer):
    id: Annotated[str, Meta(description="the complaint's number: the citizen's receipt")]

