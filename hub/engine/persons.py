"""The citizen's ID card at the kiosk (刷身份证取号): the card's number checked, the age and the
masked name derived from it, and the rules one person's tickets are held to.

Pure: no key, no store, no clock. The service turns a card into a pseudonym (a keyed hash of the
number, hub/service/identity.py) before anything here sees a person; the rules below only ever
see that pseudonym, scoped to the hall day, and the state's index of it (`HallState.persons`).

- GB 11643-1999: 17 digits and a check character, ISO 7064 MOD 11-2 (weights 2^(17-i) mod 11,
  check = (12 - sum mod 11) mod 11, 10 written X); digits 7-14 are the birth date.
- At most `open_per_item` open tickets per person per item, at most `per_day` tickets per person
  per hall day (`[identity]`); a refusal says why and when the person may return, never who.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import msgspec

from hub.config import HallConfig

from .errors import DomainError
from .model import OPEN_STATUSES, HallState

ID_LENGTH = 18
_WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))
_CHECK = "10X98765432"  # the check character for sum mod 11 = 0, 1, 2 ...

# 复姓: two-character surnames kept whole by `mask_name` (the common ones; a name starting with
# one of these is read as that surname, as a clerk would read it).
COMPOUND_SURNAMES = frozenset({
    "欧阳", "诸葛", "司马", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
    "宇文", "司徒", "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "百里",
    "呼延", "澹台", "公冶", "太史", "申屠", "钟离", "闻人", "赫连", "万俟", "濮阳",
    "淳于", "单于", "东郭", "闾丘", "子车", "颛孙", "司空", "司寇", "亓官", "仲孙",
    "拓跋", "鲜于", "梁丘", "左丘", "东门", "第五", "乐正", "漆雕", "公西", "巫马",
    "壤驷", "公良", "谷梁", "宰父", "羊舌", "微生", "公羊", "段干", "夹谷", "宗政",
    "即墨", "归海", "南门",
})
MASK = "*"


def valid_id_number(number: str) -> bool:
    """Whether `number` is an 18-character resident ID number with a right check character
    and a real birth date (an X check character in either case)."""
    if len(number) != ID_LENGTH or not number[:17].isascii() or not number[:17].isdigit():
        return False
    last = number[17].upper()
    if last not in _CHECK:
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True))
    return _CHECK[total % 11] == last and birth_from_number(number) is not None


def birth_from_number(number: str) -> dt.date | None:
    """The birth date in digits 7-14 (YYYYMMDD); None if they are not a date."""
    digits = number[6:14]
    if len(digits) != 8 or not digits.isascii() or not digits.isdigit():
        return None
    try:
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def age_on(birth: dt.date, day: dt.date) -> int:
    """Full years of age on `day` (someone born on 29 February comes of age on 1 March)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def mask_name(name: str) -> str:
    """The surname kept, every other character `*`: 张三 → 张*, 欧阳修 → 欧阳*, 司马相如 →
    司马**; a one-character name (or a compound surname alone) → `*`, so nobody is named by it.
    The one masking function: every screen, page and printed ticket shows this."""
    name = "".join(name.split())  # the card pads its 30 bytes with spaces
    if not name:
        return ""
    surname = 2 if name[:2] in COMPOUND_SURNAMES else 1
    if len(name) <= surname:
        return MASK * min(len(name), 1)
    return name[:surname] + MASK * (len(name) - surname)


# --- the issue rules --------------------------------------------------------------------------


class IdentityRefused(DomainError):
    """A person's ticket refused by the per-person rules: why, and when they may come back
    (`return_on`: a date, or None for "once the open ticket is finished"). Never who."""

    def __init__(self, code: str, key: str, return_on: dt.date | None = None,
                 retry_after_s: float | None = None, **params: object) -> None:
        self.return_on = return_on
        self.retry_after_s = retry_after_s
        super().__init__(code, key, **params)


def person_tickets(state: HallState, persons: Iterable[str]) -> list[str]:
    """Today's ticket ids of the person known by any of `persons` (their day pseudonyms under
    the current and the previous hall key): a dict look-up each, never a pass over the day."""
    found: list[str] = []
    for person in persons:
        found += state.persons.get(person, ())
    return found


class Identified(msgspec.Struct, frozen=True, kw_only=True):
    """A person as the issue rules see them: their day pseudonyms (the current hall key's
    first, which the ticket records; the previous key's after a rotation, so a rotation during
    the day resets nobody's count) and whether the ticket is an elderly one."""

    persons: tuple[str, ...]
    elderly: bool = False


def check_person(cfg: HallConfig, state: HallState, now: dt.datetime, persons: Iterable[str],
                 service: str) -> None:
    """Raise IdentityRefused if the person may not take a ticket for `service` now: an open
    ticket too many for this item (back once it is finished), or the day's cap (back on the
    next working day; Retry-After: the hall's midnight)."""
    rules = cfg.identity
    ids = person_tickets(state, persons)
    open_here = sum(1 for i in ids if (t := state.tickets.get(i)) is not None
                    and t.service == service and t.status in OPEN_STATUSES)
    if open_here >= rules.open_per_item:
        raise IdentityRefused("identity_open_ticket", "error.identity_open_ticket")
    if rules.per_day and len(ids) >= rules.per_day:
        back = state.day + dt.timedelta(days=1)
        while not cfg.is_workday(back) and back < state.day + dt.timedelta(days=31):
            back += dt.timedelta(days=1)
        midnight = dt.datetime.combine(state.day + dt.timedelta(days=1), dt.time(),
                                       tzinfo=cfg.zone)
        raise IdentityRefused("identity_daily_cap", "error.identity_daily_cap", return_on=back,
                              retry_after_s=max(0.0, (midnight - now).total_seconds()),
                              per_day=rules.per_day, day=back.isoformat())
