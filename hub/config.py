"""The hall configuration: one typed schema for `config/hall.toml`.

Everything a hall is made of that changes only when the center reorganises (art. 6, 动态管理):
departments (窗口单位), service items (事项) with their six disclosures (六公开) and required
materials (一次性告知), opening hours, windows with their AB backups (同岗替代) and the queue's
rules. Staff accounts are *not* here: they live in the store, with hashed passwords.

Loading is strict, like Klipper's config: an unknown key or a bad value stops the hub at start
with the file, the key and the reason, rather than running a hall on a typo.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

SCHEMA_VERSION = 1
MAX_WINDOW = 9999  # window numbers are 1-9999: what every request may name (hub/shapes.py)
_PREFIX_RE = re.compile(r"^[A-Z]{1,2}$")
_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_HHMM_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_VOICE_RE = re.compile(r"^([a-z0-9_+-]{1,20}/)?[a-z0-9_+-]{1,40}$|^$")


class ConfigError(ValueError):
    """A hall configuration that cannot run: names the file, the key and the reason."""

    def __init__(self, file: str, key: str, reason: str) -> None:
        self.file, self.key, self.reason = file, key, reason
        super().__init__(f"{file}: {key}: {reason}" if key else f"{file}: {reason}")


class CaseType(StrEnum):
    """Art. 4 case types an item is handled as by default (退件 is an outcome, not a type)."""

    IMMEDIATE = "immediate"  # 即办件
    COMMITMENT = "commitment"  # 承诺件
    JOINT = "joint"  # 联办件
    REPORT = "report"  # 上报件


class _Strict(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class Center(_Strict):
    name: str
    name_en: str = ""
    timezone: str = "Asia/Shanghai"
    complaint_phone: str = ""
    notice: str = ""
    notice_en: str = ""


class QueueRules(_Strict):
    # Priority tickets (green channel, appointments) called in a row at one window before a
    # waiting normal ticket gets its turn: 3 means P P P N P P P N ...
    fairness_ratio: int = 3
    recall_limit: int = 3
    # A no-show goes back behind this many waiting tickets of its service, once; the second
    # no-show drops it.
    no_show_requeue_behind: int = 3
    appointment_priority: bool = True
    slip_prefix: str = "CN"
    # Pause reason codes, so paused time can be accounted per reason (assessment, art. 23).
    # The first one is what a caller keypad's pause key means ("away from the desk").
    pause_reasons: list[str] = msgspec.field(
        default_factory=lambda: ["暂离", "会议", "培训", "午休", "业务咨询", "系统故障", "其他"]
    )


class Calendar(_Strict):
    holidays: list[dt.date] = []  # closed although a weekday (法定节假日)
    workdays: list[dt.date] = []  # open although a weekend (调休补班)


class Hours(_Strict):
    # Non-empty mutable defaults need a factory in msgspec (a shared list would be unsafe).
    weekdays: list[int] = msgspec.field(default_factory=lambda: [1, 2, 3, 4, 5])  # ISO: 1 = Monday
    periods: list[tuple[str, str]] = msgspec.field(
        default_factory=lambda: [("09:00", "12:00"), ("13:30", "17:00")]
    )


class Rating(_Strict):
    """好差评 at the window's evaluation keypad."""

    timeout_s: int = 30  # no press within this time is stored as "not rated"
    # Reasons a citizen can give for 不满意/非常不满意, in the order of the keypad's reason keys.
    reasons: list[str] = msgspec.field(
        default_factory=lambda: ["服务态度", "办事效率", "材料告知", "环境设施", "系统故障", "其他"]
    )


class GreenChannel(_Strict):
    enabled: bool = True
    name: str = "绿色通道"
    name_en: str = "Green Channel"
    description: str = ""


class Supervision(_Strict):
    """电子监察 (art. 11): conditions that raise an alert while they hold, cleared when they stop.
    A threshold of 0 turns its rule off."""

    wait_minutes: int = 30  # a ticket of an item has waited longer than this
    serving_over_target: bool = True  # a case at a window past its item's target minutes
    pause_minutes: int = 20  # a window paused longer than this in opening hours
    unstaffed_minutes: int = 10  # in opening hours for this long, a window has no clerk and
    #                              no AB backup serving it
    device_offline_minutes: int = 2  # a device offline or in error this long
    rating_sample: int = 10  # a window's last this many ratings today ...
    unhappy_share: float = 0.3  # ... are 不满意/非常不满意 at least this share
    no_show_sample: int = 20  # an item's last this many calls today ...
    no_show_share: float = 0.4  # ... are no-shows at least this share
    slip_overdue: bool = True  # a 承诺件 not done by its promised date (statutory time limit)


class ComplaintCategory(_Strict):
    code: str
    name: str
    name_en: str = ""


class Kiosk(_Strict):
    """The ticket kiosks' touchscreen."""

    idle_seconds: int = 60  # untouched this long: back home, nothing personal left on screen
    # Elderly mode speaks each screen's prompt: WAVs rendered with espeak-ng at hub start.
    voice_prompts: bool = True
    prompt_voice: str = ""  # espeak-ng voice id for the Mandarin prompts; "" as the announcer
    # What a complaint or suggestion is about (art. 27), in the order the kiosk shows them.
    complaint_categories: list[ComplaintCategory] = msgspec.field(
        default_factory=lambda: [
            ComplaintCategory(code="attitude", name="服务态度", name_en="Service attitude"),
            ComplaintCategory(code="efficiency", name="办事效率", name_en="Efficiency"),
            ComplaintCategory(code="discipline", name="工作纪律", name_en="Work discipline"),
            ComplaintCategory(code="information", name="告知不清", name_en="Unclear information"),
            ComplaintCategory(code="facilities", name="环境设施", name_en="Facilities"),
            ComplaintCategory(code="suggestion", name="意见建议", name_en="Suggestion"),
            ComplaintCategory(code="other", name="其他", name_en="Other"),
        ]
    )


class Backend(_Strict):
    """The city's supervision backend that `onestop forward` feeds (issue 7).

    No secret is inline: the bearer token is read from `token_file` or the environment variable
    ONESTOP_BACKEND_TOKEN, and a client key from a file, so this file can sit in the repository.
    """

    url: str = ""  # empty: forwarding off
    source: str = ""  # CloudEvents source URI; empty: urn:onestop:<center name>
    token_file: str = ""
    client_cert: str = ""  # mTLS
    client_key: str = ""
    ca_file: str = ""  # the backend's CA, when not a public one
    batch_size: int = 100
    timeout_s: float = 10.0
    max_backoff_s: float = 60.0


class Assessment(_Strict):
    """考核 (issue 8): how hub/reports.py scores a window or a clerk over a month or a year.

    score = 100 × (served × served/most served in the ranking + satisfaction × 满意率
    + within_target × share of cases within the item's target + on_time × share of 承诺件 done
    by their promised date) / (sum of those four weights)
    − 100 × no_show_penalty × share of calls that were no-shows
    − complaint_penalty × complaints − pause_penalty_per_hour × hours paused
    (pauses for a reason in `pause_exempt`, such as meetings, are not deducted).
    A share with nothing to measure (no ratings, no 承诺件 due) counts as the hall's own; if
    the hall has none either, its weight is left out of the sum.
    """

    served: float = 0.2
    satisfaction: float = 0.4
    within_target: float = 0.2
    on_time: float = 0.2
    no_show_penalty: float = 0.1
    complaint_penalty: float = 2.0
    pause_penalty_per_hour: float = 1.0
    pause_exempt: list[str] = []  # pause reasons not deducted, e.g. ["会议", "培训"]


class Department(_Strict):
    code: str
    name: str
    name_en: str = ""


class Disclosure(_Strict):
    """The six disclosures (六公开, art. 2(5)) of one service item."""

    duties: str  # 工作职责
    basis: str  # 办事依据
    preconditions: str  # 前置条件
    procedure: str  # 办事程序
    time_limit: str  # 办事时限
    fees: str  # 收费标准


class Service(_Strict, kw_only=True):
    code: str
    name: str
    name_en: str = ""
    department: str
    prefix: str
    case_type: CaseType = CaseType.IMMEDIATE
    time_limit_days: int = 0  # statutory limit in working days (0: done the same day)
    target_minutes: int = 15  # expected time at the window; supervision warns past it
    daily_quota: int = 200
    hours: str = "standard"
    disclosure: Disclosure
    materials: list[str]


class Window(_Strict, kw_only=True):
    no: int
    name: str = ""
    department: str
    services: list[str]  # in the order this window calls them
    backup: int | None = None  # AB post: the window that covers this one while it is away
    zone: str = ""


class HallConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, dict=True):
    schema_version: int = SCHEMA_VERSION
    center: Center
    queue: QueueRules = QueueRules()
    calendar: Calendar = Calendar()
    hours: dict[str, Hours] = msgspec.field(default_factory=lambda: {"standard": Hours()})
    green_channel: GreenChannel = GreenChannel()
    rating: Rating = Rating()
    kiosk: Kiosk = Kiosk()
    supervision: Supervision = Supervision()
    backend: Backend = Backend()
    assessment: Assessment = Assessment()
    departments: list[Department]
    services: list[Service]
    windows: list[Window]

    def __post_init__(self) -> None:
        # Lookups by key; duplicates are reported by the cross-check, not hidden here.
        self._services = {s.code: s for s in self.services}
        self._windows = {w.no: w for w in self.windows}
        self._departments = {d.code: d for d in self.departments}

    @property
    def event_source(self) -> str:
        """The CloudEvents `source` of this hall's events: configured, or named after it
        (percent-encoded: a URI is ASCII, the center's name is Chinese)."""
        return self.backend.source or f"urn:onestop:{quote(self.center.name, safe='')}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.center.timezone)

    def service(self, code: str) -> Service:
        return self._services[code]

    def window(self, no: int) -> Window:
        return self._windows[no]

    def department(self, code: str) -> Department:
        return self._departments[code]

    def has_service(self, code: str) -> bool:
        return code in self._services

    def has_window(self, no: int) -> bool:
        return no in self._windows

    def is_workday(self, day: dt.date) -> bool:
        if day in self.calendar.workdays:
            return True
        return day.isoweekday() <= 5 and day not in self.calendar.holidays

    def is_open(self, service: Service, when: dt.datetime) -> bool:
        """Whether tickets for `service` may be issued at local time `when`."""
        hours = self.hours[service.hours]
        day = when.date()
        if day in self.calendar.holidays:
            return False
        if day.isoweekday() not in hours.weekdays and day not in self.calendar.workdays:
            return False
        hhmm = when.strftime("%H:%M")
        return any(start <= hhmm < end for start, end in hours.periods)

    def add_workdays(self, day: dt.date, count: int) -> dt.date:
        """The date `count` working days after `day` (the promised date of a 承诺件)."""
        while count > 0:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                count -= 1
        return day


def load_config(path: str | Path) -> HallConfig:
    """Read, type-check and cross-check a hall file; raise ConfigError naming what is wrong."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(str(path), "", f"cannot read: {err.strerror}") from err
    except UnicodeDecodeError as err:
        raise ConfigError(str(path), "", f"not UTF-8 text (byte {err.start})") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(str(path), "", f"not valid TOML: {err}") from err
    return parse_config(raw, str(path))


def parse_config(raw: dict, file: str = "<config>") -> HallConfig:
    try:
        cfg = msgspec.convert(raw, HallConfig, strict=True)
    except msgspec.ValidationError as err:
        reason, _, where = str(err).partition(" - at `$")
        key = where.rstrip("`").lstrip(".")
        raise ConfigError(file, key, reason.replace("`", "")) from err
    problems = list(_cross_check(cfg))
    if problems:
        key, reason = problems[0]
        raise ConfigError(file, key, reason)
    return cfg


def _cross_check(cfg: HallConfig) -> Iterable[tuple[str, str]]:  # noqa: PLR0915
    if cfg.schema_version != SCHEMA_VERSION:
        yield "schema_version", f"this hub reads version {SCHEMA_VERSION}, got {cfg.schema_version}"
    try:
        ZoneInfo(cfg.center.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Asia" is a directory: IsADirectoryError
        yield "center.timezone", f"unknown time zone {cfg.center.timezone!r}"
    q = cfg.queue
    for name in ("fairness_ratio", "recall_limit", "no_show_requeue_behind"):
        if getattr(q, name) < (1 if name == "fairness_ratio" else 0):
            yield (
                f"queue.{name}",
                "must not be negative" + (" or zero" if name == "fairness_ratio" else ""),
            )
    if not q.pause_reasons or any(not r.strip() or len(r) > 20 for r in q.pause_reasons):
        yield "queue.pause_reasons", "list at least one reason of 1-20 characters"
    if not 5 <= cfg.rating.timeout_s <= 600:
        yield "rating.timeout_s", "must be 5-600 seconds"
    if not cfg.rating.reasons or any(not r.strip() for r in cfg.rating.reasons):
        yield "rating.reasons", "list at least one non-empty reason"
    sup = cfg.supervision
    for name in ("wait_minutes", "pause_minutes", "unstaffed_minutes", "device_offline_minutes",
                 "rating_sample", "no_show_sample"):
        if not 0 <= getattr(sup, name) <= 1440:
            yield f"supervision.{name}", "must be 0 (off) to 1440"
    for name in ("unhappy_share", "no_show_share"):
        if not 0 <= getattr(sup, name) <= 1:
            yield f"supervision.{name}", "is a share: 0 (off) to 1"
    if not 15 <= cfg.kiosk.idle_seconds <= 600:
        yield "kiosk.idle_seconds", "must be 15-600 seconds"
    if not cfg.kiosk.complaint_categories:
        yield "kiosk.complaint_categories", "list at least one category"
    yield from _check_unique(cfg.kiosk.complaint_categories, "kiosk.complaint_categories", "code")
    if not _VOICE_RE.match(cfg.kiosk.prompt_voice):
        yield "kiosk.prompt_voice", "an espeak-ng voice id such as sit/cmn, or \"\" (automatic)"
    yield from _check_backend(cfg.backend)
    yield from _check_assessment(cfg.assessment, q.pause_reasons)
    if not _PREFIX_RE.match(q.slip_prefix):
        yield "queue.slip_prefix", f"must be 1-2 uppercase letters, got {q.slip_prefix!r}"
    for name, hours in cfg.hours.items():
        if not hours.weekdays or any(d < 1 or d > 7 for d in hours.weekdays):
            yield f"hours.{name}.weekdays", "must list ISO weekdays 1 (Monday) to 7 (Sunday)"
        last_end = ""
        for i, (start, end) in enumerate(hours.periods):
            if not (_HHMM_RE.match(start) and (_HHMM_RE.match(end) or end == "24:00")):
                yield f"hours.{name}.periods[{i}]", f"times must be HH:MM, got {start!r}-{end!r}"
            elif not last_end <= start < end:
                yield f"hours.{name}.periods[{i}]", "periods must be ordered and must not overlap"
            last_end = end
    yield from _check_unique(cfg.departments, "departments", "code")
    yield from _check_unique(cfg.services, "services", "code")
    yield from _check_unique(cfg.windows, "windows", "no")
    depts = {d.code for d in cfg.departments}
    for i, dept in enumerate(cfg.departments):
        if not _CODE_RE.match(dept.code):
            yield f"departments[{i}].code", f"use letters, digits, - or _, got {dept.code!r}"
    services = {s.code for s in cfg.services}
    for i, svc in enumerate(cfg.services):
        at = f"services[{i}]"
        if not _CODE_RE.match(svc.code):
            yield f"{at}.code", f"use letters, digits, - or _, got {svc.code!r}"
        if svc.department not in depts:
            yield f"{at}.department", f"no department {svc.department!r}"
        if not _PREFIX_RE.match(svc.prefix):
            yield f"{at}.prefix", f"must be 1-2 uppercase letters, got {svc.prefix!r}"
        if svc.hours not in cfg.hours:
            yield f"{at}.hours", f"no hours named {svc.hours!r} (have: {', '.join(cfg.hours)})"
        if svc.daily_quota < 1 or svc.daily_quota > 999:
            yield f"{at}.daily_quota", "must be 1-999 (ticket numbers have three digits)"
        if svc.time_limit_days < 0:
            yield f"{at}.time_limit_days", "must not be negative"
        if svc.case_type is not CaseType.IMMEDIATE and svc.time_limit_days == 0:
            yield f"{at}.time_limit_days", f"a {svc.case_type.value} item needs a time limit"
        if svc.target_minutes < 1:
            yield f"{at}.target_minutes", "must be at least 1"
        if not svc.materials:
            yield f"{at}.materials", "list the required materials (一次性告知)"
        for field in msgspec.structs.fields(Disclosure):
            if not getattr(svc.disclosure, field.name).strip():
                yield f"{at}.disclosure.{field.name}", "must not be empty (六公开)"
    windows = {w.no for w in cfg.windows}
    served: set[str] = set()
    for i, win in enumerate(cfg.windows):
        at = f"windows[{i}]"
        if not 1 <= win.no <= MAX_WINDOW:
            yield f"{at}.no", f"window numbers start at 1 and go up to {MAX_WINDOW}"
        if win.department not in depts:
            yield f"{at}.department", f"no department {win.department!r}"
        if not win.services:
            yield f"{at}.services", "a window serves at least one service item"
        if len(set(win.services)) != len(win.services):
            yield f"{at}.services", "lists a service item twice"
        for code in win.services:
            if code not in services:
                yield f"{at}.services", f"no service item {code!r}"
        served.update(win.services)
        if win.backup is not None and (win.backup == win.no or win.backup not in windows):
            yield f"{at}.backup", f"no other window {win.backup!r} to back this one up"
    for i, svc in enumerate(cfg.services):
        if svc.code not in served:
            yield f"services[{i}]", f"no window serves {svc.code!r}: its tickets would wait forever"


def _check_backend(b: Backend) -> Iterable[tuple[str, str]]:
    """The forwarding section: checked even when `url` is empty, so a typo shows at once."""
    if b.url and not re.match(r"^https?://[^/\s]+", b.url):
        yield "backend.url", f"must be an http:// or https:// address, got {b.url!r}"
    if b.source and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$", b.source):
        yield "backend.source", f"must be a URI such as urn:onestop:hall-1, got {b.source!r}"
    if bool(b.client_cert) != bool(b.client_key):
        yield "backend.client_key", "mTLS needs both client_cert and client_key"
    if not 1 <= b.batch_size <= 1000:
        yield "backend.batch_size", "must be 1-1000 events"
    if not 0.5 <= b.timeout_s <= 300:
        yield "backend.timeout_s", "must be 0.5-300 seconds"
    if not 1 <= b.max_backoff_s <= 3600:
        yield "backend.max_backoff_s", "must be 1-3600 seconds"


def _check_assessment(a: Assessment, pause_reasons: list[str]) -> Iterable[tuple[str, str]]:
    """The 考核 formula: weights are magnitudes (penalties are subtracted), so a sign typo
    cannot silently reward complaints; at least one positive figure must count."""
    for name in ("served", "satisfaction", "within_target", "on_time", "no_show_penalty"):
        if not 0 <= getattr(a, name) <= 10:
            yield f"assessment.{name}", "must be a weight of 0 to 10"
    for name in ("complaint_penalty", "pause_penalty_per_hour"):
        if not 0 <= getattr(a, name) <= 100:
            yield f"assessment.{name}", "must be 0 to 100 points"
    if a.served + a.satisfaction + a.within_target + a.on_time <= 0:
        yield "assessment", "at least one of served, satisfaction, within_target, on_time > 0"
    for reason in a.pause_exempt:
        if reason not in pause_reasons:
            yield "assessment.pause_exempt", f"{reason!r} is not one of queue.pause_reasons"


def _check_unique(items: list, section: str, key: str) -> Iterable[tuple[str, str]]:
    seen: set = set()
    for i, item in enumerate(items):
        value = getattr(item, key)
        if value in seen:
            yield f"{section}[{i}].{key}", f"duplicate {key} {value!r}"
        seen.add(value)
