"""The hall file's typed schema: one msgspec Struct per section, strict (an unknown key is an
error), and HallConfig, the whole file, with its look-ups and calendar arithmetic."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from urllib.parse import quote
from zoneinfo import ZoneInfo

import msgspec

SCHEMA_VERSION = 1
MAX_WINDOW = 9999  # window numbers are 1-9999: what every request may name (hub/shapes/)


class IdRequired(StrEnum):
    """Whether an item's ticket is bound to the citizen's ID card swiped at the kiosk."""

    NEVER = "never"  # a swipe is ignored: the ticket is anonymous
    OPTIONAL = "optional"  # bound when the citizen swipes, else anonymous
    REQUIRED = "required"  # no ticket without a swipe (kiosk and 扫码取号 alike)


class CaseType(StrEnum):
    """Art. 4 case types an item is handled as by default (退件 is an outcome, not a type)."""

    IMMEDIATE = "immediate"  # 即办件
    COMMITMENT = "commitment"  # 承诺件
    JOINT = "joint"  # 联办件
    REPORT = "report"  # 上报件


class _Strict(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Unknown keys rejected, values read-only. Each section says frozen=True again: a type
    checker reads it per class (PEP 681), msgspec inherits it anyway."""


class Center(_Strict, frozen=True):
    name: str
    name_en: str = ""
    timezone: str = "Asia/Shanghai"
    complaint_phone: str = ""
    notice: str = ""
    notice_en: str = ""


class QueueRules(_Strict, frozen=True):
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


class Calendar(_Strict, frozen=True):
    holidays: list[dt.date] = []  # closed although a weekday (法定节假日)
    workdays: list[dt.date] = []  # open although a weekend (调休补班)


class Hours(_Strict, frozen=True):
    # Non-empty mutable defaults need a factory in msgspec (a shared list would be unsafe).
    weekdays: list[int] = msgspec.field(default_factory=lambda: [1, 2, 3, 4, 5])  # ISO: 1 = Monday
    periods: list[tuple[str, str]] = msgspec.field(
        default_factory=lambda: [("09:00", "12:00"), ("13:30", "17:00")]
    )


class Rating(_Strict, frozen=True):
    """好差评 at the window's evaluation keypad."""

    timeout_s: int = 30  # no press within this time is stored as "not rated"
    # Reasons a citizen can give for 不满意/非常不满意, in the order of the keypad's reason keys.
    reasons: list[str] = msgspec.field(
        default_factory=lambda: ["服务态度", "办事效率", "材料告知", "环境设施", "系统故障", "其他"]
    )


class GreenChannel(_Strict, frozen=True):
    enabled: bool = True
    name: str = "绿色通道"
    name_en: str = "Green Channel"
    description: str = ""


CASE_KINDS = ("rating", "complaint", "spot_check")  # what a supervision case is about


class CaseDays(_Strict, frozen=True):
    """One kind of case's deadlines, overriding `[supervision]`'s (working days)."""

    callback: int | None = None
    rectify: int | None = None


class Supervision(_Strict, frozen=True):
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
    cert_expiry_days: int = 30  # the hub's TLS certificate expires within this many days
    # Casework (督办): a 差评's or complaint's case is called back (回访核实) by the N-th working
    # day after it opened and rectified (整改) by the M-th; past either, an alert.
    callback_days: int = 1
    rectify_days: int = 10
    case_days: dict[str, CaseDays] = {}  # per kind (rating, complaint, spot_check)

    def case_deadlines(self, kind: str) -> tuple[int, int]:
        """(callback, rectify) working days for a case of `kind`."""
        own = self.case_days.get(kind) or CaseDays()
        return (self.callback_days if own.callback is None else own.callback,
                self.rectify_days if own.rectify is None else own.rectify)


class ComplaintCategory(_Strict, frozen=True):
    code: str
    name: str
    name_en: str = ""


class Kiosk(_Strict, frozen=True):
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


class Backend(_Strict, frozen=True):
    """The city's supervision backend that `onestop forward` feeds.

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


MIN_AUDIT_RETENTION_DAYS = 180  # GB/T 22239-2019 level 3 and the Cybersecurity Law, art. 21


class Audit(_Strict, frozen=True):
    """The staff audit log's retention (docs/audit.md): records older than `retention_days`
    are moved to signed archive files in `archive_dir` by the hub's housekeeping, never simply
    deleted. Relative paths are in the data directory; the key signs the archives and stays
    out of the database (created 0600 on first use)."""

    retention_days: int = MIN_AUDIT_RETENTION_DAYS
    archive_dir: str = "audit-archive"
    key_file: str = "audit-archive.key"


class Assessment(_Strict, frozen=True):
    """考核: how hub/reports/ scores a window, a clerk or a department over a month or a year.

    score = 100 × (served × served/most served in the ranking + satisfaction × 满意率
    + within_target × share of cases within the item's target + on_time × share of 承诺件 done
    by their promised date + rectification × 差评整改率 + rectify_on_time × 按期整改率
    + callback × 回访率) / (sum of those seven weights)
    − 100 × no_show_penalty × share of calls that were no-shows
    − complaint_penalty × complaints (less those whose appeal was upheld)
    − pause_penalty_per_hour × hours paused
    (pauses for a reason in `pause_exempt`, such as meetings, are not deducted)
    − finding_penalty × spot-check findings
    − criticism_penalty × 批评教育 − notice_penalty × 通报批评 − warning_penalty × 效能告诫
    (efficiency records are a person's: they count on clerk rows only).
    A share with nothing to measure (no ratings, no 承诺件 due, no 差评 to rectify) counts as
    the hall's own; if the hall has none either, its weight is left out of the sum. So a hall
    without casework scores exactly as before the casework figures existed. The figures are
    defined in hub/reports/casework.py.
    """

    served: float = 0.2
    satisfaction: float = 0.4
    within_target: float = 0.2
    on_time: float = 0.2
    rectification: float = 0.1  # 差评整改率
    rectify_on_time: float = 0.1  # 按期整改率
    callback: float = 0.0  # 回访率: the office's own work, so not weighed unless a hall says so
    no_show_penalty: float = 0.1
    complaint_penalty: float = 2.0
    pause_penalty_per_hour: float = 1.0
    pause_exempt: list[str] = []  # pause reasons not deducted, e.g. ["会议", "培训"]
    finding_penalty: float = 2.0  # per spot-check review with a failed item
    criticism_penalty: float = 1.0  # per 批评教育
    notice_penalty: float = 3.0  # per 通报批评
    warning_penalty: float = 5.0  # per 效能告诫


class Staffing(_Strict, frozen=True):
    """The office's staffing advice (GET /api/v1/reports/staffing, docs/staffing.md): per hour
    and item, the fewest windows whose p90 wait stays at most `p90_wait_minutes`, estimated
    from the hall's last `history_weeks` weeks."""

    p90_wait_minutes: float = 20.0
    history_weeks: int = 4


class ChecklistItem(_Strict, frozen=True):
    """One question a spot-check review answers pass, fail or n/a (不适用)."""

    code: str  # stable: what reviews and reports keep
    text: str
    text_en: str = ""


class SpotCheck(_Strict, frozen=True):
    """办件抽查 (art. 11, 26): each week the office draws `per_window` of every window's finished
    tickets of the past ISO week, reproducibly (hub/engine/spot_checks.py), and reviews each
    against the checklist; any fail is a finding, which may open a case."""

    per_window: int = 3
    weekday: int = 1  # ISO weekday (1 = Monday) the office draws the past week: a reminder
    checklist: list[ChecklistItem] = msgspec.field(default_factory=lambda: [
        ChecklistItem(code="informed", text="一次性告知到位",
                      text_en="One-time notice of all materials given"),
        ChecklistItem(code="time_limit", text="在办理时限内办结",
                      text_en="Done within the time limit"),
        ChecklistItem(code="outcome", text="办理结果正确", text_en="Outcome correct"),
        ChecklistItem(code="return_justified", text="退件有据",
                      text_en="A return (退件) justified"),
    ])


class Identity(_Strict, frozen=True):
    """身份鉴别 (GB/T 22239-2019 level 3): how staff prove who they are and how long a session
    lasts unused. Checked whenever a password is set (`onestop user add|passwd`, the change of
    an expired password) and at every sign-in and request."""

    password_min_length: int = 10
    # Of the four classes lowercase, uppercase, digits and other characters, at least this many.
    password_min_classes: int = 3
    password_expiry_days: int = 90  # a password older than this must be changed; 0: never
    password_history: int = 5  # a new password may not be any of the last this many; 0: any
    # Roles that must give a one-time code (TOTP, RFC 6238) at sign-in. A member of another
    # role gives one once enrolled (`onestop user totp-enroll`).
    totp_roles: list[str] = msgspec.field(default_factory=lambda: ["supervisor", "admin"])
    # A staff session unused this long is refused (the office's and a clerk's window differ:
    # a clerk's panel may rest between citizens for longer).
    idle_minutes_office: int = 30  # supervisors and admins
    idle_minutes_clerk: int = 120

    # The citizen's ID card at the kiosk (刷身份证取号): hub/engine/persons.py, docs/privacy.md.
    elderly_age: int = 65  # at or above, on the hall day: an elderly (适老) priority ticket
    open_per_item: int = 1  # open tickets one person may hold for one item
    per_day: int = 3  # tickets one person may take in a hall day, all items; 0: no cap
    accept_expired_cards: bool = False
    link_days: int = 30  # a ticket's identity link is kept this long, then deleted
    silent_calling: bool = False  # 无声叫号: screens show the masked name beside the number


class Citizen(_Strict, frozen=True):
    """The citizen's own phone: the QR of a ticket (and a 承诺单) opens its page at
    `base_url` + /t/<capability> (docs/citizen.md), and 扫码取号 from the hall's poster. The
    public routes are limited per network address (a hall's Wi-Fi may put many phones behind
    one address: keep it generous)."""

    enabled: bool = True
    # What a phone reaches the hub at (the hall's Wi-Fi, a gateway); empty: the hub's own
    # address as the kiosk's request saw it.
    base_url: str = ""
    requests_per_minute: int = 120  # per network address, over all the citizen's routes
    burst: int = 30  # requests one address may send at once before the per-minute rate holds
    # 扫码取号: tickets one phone (the random id its page keeps) and one network address may
    # take from the hall's poster in a hall day; the kiosk's rules (hours, quota, suspension)
    # apply besides.
    take_per_device_per_day: int = 2
    take_per_address_per_day: int = 20
    # The item a citizen takes a ticket for to collect a finished 承诺件 (办结取件): its
    # materials, windows and hours are what the slip's page says; "": the slip's own item's.
    collect_service: str = ""


class Department(_Strict, frozen=True):
    code: str
    name: str
    name_en: str = ""


class Disclosure(_Strict, frozen=True):
    """The six disclosures (六公开, art. 2(5)) of one service item."""

    duties: str  # 工作职责
    basis: str  # 办事依据
    preconditions: str  # 前置条件
    procedure: str  # 办事程序
    time_limit: str  # 办事时限
    fees: str  # 收费标准


class Service(_Strict, frozen=True, kw_only=True):
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
    id_required: IdRequired = IdRequired.OPTIONAL  # the ID card at the kiosk
    disclosure: Disclosure
    materials: list[str]


class Window(_Strict, frozen=True, kw_only=True):
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
    audit: Audit = Audit()
    assessment: Assessment = Assessment()
    staffing: Staffing = Staffing()
    identity: Identity = Identity()
    spot_check: SpotCheck = SpotCheck()
    citizen: Citizen = Citizen()
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
