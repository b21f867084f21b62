"""办件抽查 (spot checks, art. 11 and 26) and 效能告诫 (efficiency records, art. 16 and 18): the
rules, pure.

The draw must be verifiable by anyone, in any language, from what is published: the week's
finished tickets, the seed and the method. So it uses nothing but HMAC-SHA256: per window,
rank the ticket ids by HMAC-SHA256(key = the seed's 16 bytes, message = the id in UTF-8),
written in lowercase hex, smallest first (the id breaks a tie), and take the first `per_window`.
The seed comes from the caller (the service draws it with `secrets`), so this module stays
pure and a test can give its own.

No rule here reads the day's state: spot checks and records outlive the day, and the caller
reads what a rule needs from the store inside the commit's transaction, like 承诺单 slips.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable, Mapping

from hub.config import ChecklistItem

from .errors import DomainError, Invalid, NotFound
from .model import ChecklistEntry, SpotCheckDrawn, SpotCheckReviewed, StaffRecordAdded

METHOD = "hmac-sha256-rank"
SEED_BYTES = 16  # 128 bits
ANSWERS = ("pass", "fail", "na")
RECORD_KINDS = ("criticism", "notice", "warning")  # 批评教育, 通报批评, 效能告诫
EXCLUDING_KIND = "warning"  # a 效能告诫 keeps its staff member out of the year's 评先评优
MAX_NOTE = 2000


# --- the draw -----------------------------------------------------------------------------


def rank_key(seed: bytes, ticket_id: str) -> str:
    """A ticket's place in the draw: HMAC-SHA256(seed, id) as lowercase hex."""
    return hmac.new(seed, ticket_id.encode("utf-8"), hashlib.sha256).hexdigest()


def sample(seed: bytes, ticket_ids: Iterable[str], n: int) -> list[str]:
    """The first `n` of `ticket_ids` ranked by `rank_key` (all of them if there are fewer)."""
    return sorted(set(ticket_ids), key=lambda t: (rank_key(seed, t), t))[:max(n, 0)]


def population_digest(ticket_ids: Iterable[str]) -> str:
    """SHA-256 (hex) of a window's population: its ticket ids, sorted, joined by newlines."""
    return hashlib.sha256("\n".join(sorted(set(ticket_ids))).encode("utf-8")).hexdigest()


def draw_sample(seed: bytes, population: Mapping[int, Iterable[str]],
                n: int) -> dict[int, list[str]]:
    """Per window, its sample of `n`; windows with no finished ticket are left out."""
    drawn = {no: sample(seed, ids, n) for no, ids in sorted(population.items())}
    return {no: ids for no, ids in drawn.items() if ids}


def week_monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.isoweekday() - 1)


def draw_id(week: dt.date) -> str:
    """"CC" + ISO year and week: CC2026W49 (ISO years, so a week across New Year has one)."""
    year, number, _ = week.isocalendar()
    return f"CC{year}W{number:02d}"


def week_bounds(week: dt.date, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The instants the week starts and ends (Monday 00:00 to the next Monday 00:00) in the
    hall's zone: a ticket finished in between is of the week."""
    start = dt.datetime.combine(week, dt.time(), tzinfo=zone)
    return start, dt.datetime.combine(week + dt.timedelta(days=7), dt.time(), tzinfo=zone)


def check_week(week: dt.date, today: dt.date) -> None:
    """Only a Monday, and only a week that is over (its tickets are all finished)."""
    if week.isoweekday() != 1:
        raise Invalid("invalid", "error.spot_week_not_monday", week=week.isoformat())
    if week + dt.timedelta(days=7) > today:
        raise DomainError("week_not_over", "error.spot_week_not_over", week=week.isoformat())


def draw(now: dt.datetime, today: dt.date, week: dt.date, seed: bytes, per_window: int,
         population: Mapping[int, Iterable[str]], checklist: Iterable[ChecklistItem],
         drawn_before: bool, by: str) -> SpotCheckDrawn:
    """The week's draw. `population`: each window's tickets finished that week (read from
    the store); `drawn_before`: whether the week has a draw already (one a week)."""
    check_week(week, today)
    if drawn_before:
        raise DomainError("spot_check_drawn", "error.spot_check_drawn", draw_id=draw_id(week))
    if len(seed) != SEED_BYTES:
        raise ValueError(f"the seed is {SEED_BYTES} bytes")
    ids = {no: sorted(set(tickets)) for no, tickets in population.items()}
    return SpotCheckDrawn(
        at=now, draw_id=draw_id(week), week=week, seed=seed.hex(), per_window=per_window,
        population={no: len(t) for no, t in sorted(ids.items()) if t},
        population_digest={no: population_digest(t) for no, t in sorted(ids.items()) if t},
        sample=draw_sample(seed, ids, per_window), method=METHOD,
        checklist=[ChecklistEntry(code=c.code, text=c.text, text_en=c.text_en)
                   for c in checklist],
        by=by)


# --- a review -----------------------------------------------------------------------------


def review(now: dt.datetime, item: Mapping | None, checklist: list[str],
           answers: Mapping[str, str], note: str, by: str,
           case_id: str | None = None) -> SpotCheckReviewed:
    """Review one sampled ticket. `item`: its `spot_items` row (None: not in the draw's
    sample), `checklist`: the draw's item codes, every one answered exactly once."""
    if item is None:
        raise NotFound("not_in_sample", "error.spot_not_in_sample")
    if item.get("reviewed_at"):
        raise DomainError("already_reviewed", "error.spot_already_reviewed",
                          ticket=item["ticket_id"])
    unknown = sorted(set(answers) - set(checklist))
    missing = [c for c in checklist if c not in answers]
    if unknown or missing:
        raise Invalid("invalid", "error.spot_answers", codes=", ".join(checklist))
    if any(a not in ANSWERS for a in answers.values()):
        raise Invalid("invalid", "error.spot_answer_value")
    if len(note) > MAX_NOTE:
        raise Invalid("invalid", "error.spot_text_too_long", limit=MAX_NOTE)
    return SpotCheckReviewed(
        at=now, draw_id=item["draw_id"], ticket_id=item["ticket_id"],
        window_no=item["window_no"], clerk=item.get("clerk"),
        answers={c: answers[c] for c in checklist}, note=note.strip(),
        finding=finding(answers), case_id=case_id, by=by)


def finding(answers: Mapping[str, str]) -> bool:
    return any(a == "fail" for a in answers.values())


# --- efficiency records -------------------------------------------------------------------


def record_id(day: dt.date, seq: int) -> str:
    """"XN" + the hall's date + a 4-digit counter of the day: XN202612040001."""
    return f"XN{day:%Y%m%d}{seq:04d}"


def add_record(now: dt.datetime, today: dt.date, staff: Mapping | None, kind: str,
               grounds: str, detail: str, day_count: int, by: str) -> StaffRecordAdded:
    """An efficiency record against `staff` (its account row; None: no such staff member).
    `day_count`: records already added on the hall's `today`."""
    if staff is None:
        raise NotFound("unknown_staff", "error.unknown_staff")
    if kind not in RECORD_KINDS:
        raise Invalid("invalid", "error.record_kind", kinds=", ".join(RECORD_KINDS))
    if not grounds.strip():
        raise Invalid("invalid", "error.record_grounds")
    if len(grounds) > MAX_NOTE or len(detail) > MAX_NOTE:
        raise Invalid("invalid", "error.spot_text_too_long", limit=MAX_NOTE)
    if day_count >= 9999:
        raise DomainError("too_many_records", "error.too_many_records")
    return StaffRecordAdded(
        at=now, record_id=record_id(today, day_count + 1), username=staff["username"],
        staff_no=staff["staff_no"], kind=kind, grounds=grounds.strip(), detail=detail.strip(),
        year=today.year, by=by)
