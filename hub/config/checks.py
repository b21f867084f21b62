"""Cross-checks of a hall file that its types cannot say: ranges, formats, references between
sections (an item's department, a window's items and backup), uniqueness, and that every item
has a window. Each check yields (key, reason); the load reports the first, so they run in a
fixed order: the file's sections roughly as they read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from .schema import (
    CASE_KINDS,
    MAX_WINDOW,
    MIN_AUDIT_RETENTION_DAYS,
    SCHEMA_VERSION,
    Assessment,
    Audit,
    Backend,
    CaseType,
    Citizen,
    Department,
    Disclosure,
    HallConfig,
    Hours,
    Identity,
    Kiosk,
    QueueRules,
    Rating,
    Service,
    SpotCheck,
    Staffing,
    Supervision,
    Window,
)

_PREFIX_RE = re.compile(r"^[A-Z]{1,2}$")
_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_BASE_URL_RE = re.compile(r"^https?://[A-Za-z0-9.\[\]:-]+(/[A-Za-z0-9._~/-]*)?$")
_HHMM_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_VOICE_RE = re.compile(r"^([a-z0-9_+-]{1,20}/)?[a-z0-9_+-]{1,40}$|^$")

Problems = Iterable[tuple[str, str]]


def cross_check(cfg: HallConfig) -> Problems:
    """Every problem of `cfg`, in the order the load reports them."""
    yield from _check_version_and_zone(cfg)
    yield from _check_queue(cfg.queue)
    yield from _check_rating(cfg.rating)
    yield from _check_supervision(cfg.supervision)
    yield from _check_kiosk(cfg.kiosk)
    yield from _check_backend(cfg.backend)
    yield from _check_audit(cfg.audit)
    yield from _check_assessment(cfg.assessment, cfg.queue.pause_reasons)
    yield from _check_staffing(cfg.staffing)
    yield from _check_identity(cfg.identity)
    yield from _check_spot_check(cfg.spot_check)
    yield from _check_citizen(cfg.citizen)
    if not _PREFIX_RE.match(cfg.queue.slip_prefix):
        yield "queue.slip_prefix", f"must be 1-2 uppercase letters, got {cfg.queue.slip_prefix!r}"
    for name, hours in cfg.hours.items():
        yield from _check_hours(name, hours)
    yield from _check_unique(cfg.departments, "departments", "code")
    yield from _check_unique(cfg.services, "services", "code")
    yield from _check_unique(cfg.windows, "windows", "no")
    yield from _check_departments(cfg.departments)
    depts = {d.code for d in cfg.departments}
    for i, svc in enumerate(cfg.services):
        yield from _check_service(f"services[{i}]", svc, cfg, depts)
    yield from _check_windows(cfg)
    served = {code for win in cfg.windows for code in win.services}
    for i, svc in enumerate(cfg.services):
        if svc.code not in served:
            yield f"services[{i}]", f"no window serves {svc.code!r}: its tickets would wait forever"
    yield from _check_citizen_take(cfg)  # after the items: it names one


def _check_version_and_zone(cfg: HallConfig) -> Problems:
    if cfg.schema_version != SCHEMA_VERSION:
        yield "schema_version", f"this hub reads version {SCHEMA_VERSION}, got {cfg.schema_version}"
    try:
        ZoneInfo(cfg.center.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Asia" is a directory: IsADirectoryError
        yield "center.timezone", f"unknown time zone {cfg.center.timezone!r}"


def _check_queue(q: QueueRules) -> Problems:
    for name in ("fairness_ratio", "recall_limit", "no_show_requeue_behind"):
        if getattr(q, name) < (1 if name == "fairness_ratio" else 0):
            yield (
                f"queue.{name}",
                "must not be negative" + (" or zero" if name == "fairness_ratio" else ""),
            )
    if not q.pause_reasons or any(not r.strip() or len(r) > 20 for r in q.pause_reasons):
        yield "queue.pause_reasons", "list at least one reason of 1-20 characters"


def _check_rating(rating: Rating) -> Problems:
    if not 5 <= rating.timeout_s <= 600:
        yield "rating.timeout_s", "must be 5-600 seconds"
    if not rating.reasons or any(not r.strip() for r in rating.reasons):
        yield "rating.reasons", "list at least one non-empty reason"


def _check_supervision(sup: Supervision) -> Problems:
    for name in ("wait_minutes", "pause_minutes", "unstaffed_minutes", "device_offline_minutes",
                 "rating_sample", "no_show_sample"):
        if not 0 <= getattr(sup, name) <= 1440:
            yield f"supervision.{name}", "must be 0 (off) to 1440"
    for name in ("unhappy_share", "no_show_share"):
        if not 0 <= getattr(sup, name) <= 1:
            yield f"supervision.{name}", "is a share: 0 (off) to 1"
    if not 0 <= sup.cert_expiry_days <= 365:
        yield "supervision.cert_expiry_days", "must be 0 (off) to 365"
    yield from _check_case_days(sup)


MAX_CASE_DAYS = 60  # working days: local rules give 5 to 15 for a rectification


def _check_case_days(sup: Supervision) -> Problems:
    for name in ("callback_days", "rectify_days"):
        if not 1 <= getattr(sup, name) <= MAX_CASE_DAYS:
            yield f"supervision.{name}", f"must be 1-{MAX_CASE_DAYS} working days"
    for kind, days in sup.case_days.items():
        where = f"supervision.case_days.{kind}"
        if kind not in CASE_KINDS:
            yield where, f"no such kind of case: one of {', '.join(CASE_KINDS)}"
        for name in ("callback", "rectify"):
            value = getattr(days, name)
            if value is not None and not 1 <= value <= MAX_CASE_DAYS:
                yield f"{where}.{name}", f"must be 1-{MAX_CASE_DAYS} working days"
    for kind in (*CASE_KINDS, *sup.case_days):
        callback, rectify = sup.case_deadlines(kind)
        if callback > rectify:
            where = f"supervision.case_days.{kind}" if kind in sup.case_days else "supervision"
            yield where, (f"the callback ({callback} working days) must not come after the "
                          f"rectification ({rectify})")
            return


def _check_kiosk(kiosk: Kiosk) -> Problems:
    if not 15 <= kiosk.idle_seconds <= 600:
        yield "kiosk.idle_seconds", "must be 15-600 seconds"
    if not kiosk.complaint_categories:
        yield "kiosk.complaint_categories", "list at least one category"
    yield from _check_unique(kiosk.complaint_categories, "kiosk.complaint_categories", "code")
    if not _VOICE_RE.match(kiosk.prompt_voice):
        yield "kiosk.prompt_voice", "an espeak-ng voice id such as sit/cmn, or \"\" (automatic)"


def _check_citizen_take(cfg: HallConfig) -> Problems:
    c = cfg.citizen
    if not 0 <= c.take_per_device_per_day <= 100:
        yield "citizen.take_per_device_per_day", "must be 0-100 tickets (0: no 扫码取号)"
    if not 0 <= c.take_per_address_per_day <= 10000:
        yield "citizen.take_per_address_per_day", "must be 0-10000 tickets"
    if c.collect_service and not cfg.has_service(c.collect_service):
        yield "citizen.collect_service", f"no service item {c.collect_service!r}"


def _check_hours(name: str, hours: Hours) -> Problems:
    if not hours.weekdays or any(d < 1 or d > 7 for d in hours.weekdays):
        yield f"hours.{name}.weekdays", "must list ISO weekdays 1 (Monday) to 7 (Sunday)"
    last_end = ""
    for i, (start, end) in enumerate(hours.periods):
        if not (_HHMM_RE.match(start) and (_HHMM_RE.match(end) or end == "24:00")):
            yield f"hours.{name}.periods[{i}]", f"times must be HH:MM, got {start!r}-{end!r}"
        elif not last_end <= start < end:
            yield f"hours.{name}.periods[{i}]", "periods must be ordered and must not overlap"
        last_end = end


def _check_departments(departments: list[Department]) -> Problems:
    for i, dept in enumerate(departments):
        if not _CODE_RE.match(dept.code):
            yield f"departments[{i}].code", f"use letters, digits, - or _, got {dept.code!r}"


def _check_service(at: str, svc: Service, cfg: HallConfig, depts: set[str]) -> Problems:
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


def _check_windows(cfg: HallConfig) -> Problems:
    depts = {d.code for d in cfg.departments}
    services = {s.code for s in cfg.services}
    windows = {w.no for w in cfg.windows}
    for i, win in enumerate(cfg.windows):
        yield from _check_window(f"windows[{i}]", win, depts, services, windows)


def _check_window(at: str, win: Window, depts: set[str], services: set[str],
                  windows: set[int]) -> Problems:
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
    if win.backup is not None and (win.backup == win.no or win.backup not in windows):
        yield f"{at}.backup", f"no other window {win.backup!r} to back this one up"


def _check_audit(a: Audit) -> Problems:
    if not MIN_AUDIT_RETENTION_DAYS <= a.retention_days <= 36500:
        yield ("audit.retention_days", f"must be {MIN_AUDIT_RETENTION_DAYS}-36500 days (audit "
               f"records are kept at least {MIN_AUDIT_RETENTION_DAYS} days), "
               f"got {a.retention_days}")
    for name in ("archive_dir", "key_file"):
        if not getattr(a, name).strip():
            yield f"audit.{name}", "must not be empty"


def _check_staffing(st: Staffing) -> Problems:
    if not 1 <= st.p90_wait_minutes <= 240:
        yield "staffing.p90_wait_minutes", f"must be 1-240 minutes, got {st.p90_wait_minutes}"
    if not 1 <= st.history_weeks <= 26:
        yield "staffing.history_weeks", f"must be 1-26 weeks, got {st.history_weeks}"


def _check_backend(b: Backend) -> Problems:
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


def _check_assessment(a: Assessment, pause_reasons: list[str]) -> Problems:
    """The 考核 formula: weights are magnitudes (penalties are subtracted), so a sign typo
    cannot silently reward complaints; at least one positive figure must count."""
    for name in ("served", "satisfaction", "within_target", "on_time", "rectification",
                 "rectify_on_time", "callback", "no_show_penalty"):
        if not 0 <= getattr(a, name) <= 10:
            yield f"assessment.{name}", "must be a weight of 0 to 10"
    for name in ("complaint_penalty", "pause_penalty_per_hour", "finding_penalty",
                 "criticism_penalty", "notice_penalty", "warning_penalty"):
        if not 0 <= getattr(a, name) <= 100:
            yield f"assessment.{name}", "must be 0 to 100 points"
    if a.served + a.satisfaction + a.within_target + a.on_time <= 0:
        # The casework weights alone are not enough: a hall without casework would score 0.
        yield "assessment", "at least one of served, satisfaction, within_target, on_time > 0"
    for reason in a.pause_exempt:
        if reason not in pause_reasons:
            yield "assessment.pause_exempt", f"{reason!r} is not one of queue.pause_reasons"


_STAFF_ROLES = ("clerk", "supervisor", "admin")


def _check_identity(ident: Identity) -> Problems:
    """Never weaker than the floor every hall had before the policy was configurable (8
    characters), and idle limits a session can actually reach."""
    if not 8 <= ident.password_min_length <= 128:
        yield "identity.password_min_length", "must be 8-128 characters"
    if not 1 <= ident.password_min_classes <= 4:
        yield "identity.password_min_classes", "must be 1-4 (lower, upper, digit, other)"
    if not 0 <= ident.password_expiry_days <= 3650:
        yield "identity.password_expiry_days", "must be 0 (never) to 3650 days"
    if not 0 <= ident.password_history <= 24:
        yield "identity.password_history", "must be 0 (off) to 24 passwords"
    for role in ident.totp_roles:
        if role not in _STAFF_ROLES:
            yield "identity.totp_roles", f"{role!r} is not one of {', '.join(_STAFF_ROLES)}"
    for name in ("idle_minutes_office", "idle_minutes_clerk"):
        if not 1 <= getattr(ident, name) <= 720:
            yield f"identity.{name}", "must be 1-720 minutes"
    yield from _check_citizen_card(ident)


def _check_citizen_card(ident: Identity) -> Problems:
    """The ID card at the kiosk: an age a citizen can reach, caps a person can meet, and
    links kept at least through the ticket's day but not for ever (docs/privacy.md)."""
    if not 50 <= ident.elderly_age <= 120:
        yield "identity.elderly_age", "must be 50-120 years"
    if not 1 <= ident.open_per_item <= 10:
        yield "identity.open_per_item", "must be 1-10 tickets"
    if not 0 <= ident.per_day <= 50:
        yield "identity.per_day", "must be 0 (no cap) to 50 tickets"
    if ident.per_day and ident.per_day < ident.open_per_item:
        yield "identity.per_day", "must be at least open_per_item (or 0: no cap)"
    if not 1 <= ident.link_days <= 365:
        yield "identity.link_days", "must be 1-365 days"


def _check_spot_check(spot: SpotCheck) -> Problems:
    """A sample a review team can work through, and a checklist with stable, unique codes
    (reviews and reports keep the codes)."""
    if not 1 <= spot.per_window <= 50:
        yield "spot_check.per_window", "must be 1-50 tickets a window"
    if not 1 <= spot.weekday <= 7:
        yield "spot_check.weekday", "must be an ISO weekday, 1 (Monday) to 7 (Sunday)"
    if not 1 <= len(spot.checklist) <= 20:
        yield "spot_check.checklist", "list 1-20 items"
    yield from _check_unique(spot.checklist, "spot_check.checklist", "code")
    for i, item in enumerate(spot.checklist):
        if not _CODE_RE.match(item.code):
            yield (f"spot_check.checklist[{i}].code",
                   f"use letters, digits, - or _, got {item.code!r}")
        if not item.text.strip() or len(item.text) > 100 or len(item.text_en) > 200:
            yield (f"spot_check.checklist[{i}].text",
                   "must be 1-100 characters (text_en up to 200)")


def _check_citizen(citizen: Citizen) -> Problems:
    """A base URL a phone can open (the QR holds it), and limits that let a phone work."""
    url = citizen.base_url
    if url and (not _BASE_URL_RE.match(url) or url.endswith("/")):
        yield ("citizen.base_url",
               f"must be http(s)://host[:port][/path] without a trailing /, got {url!r}")
    if not 10 <= citizen.requests_per_minute <= 10_000:
        yield "citizen.requests_per_minute", "must be 10-10000 requests a minute"
    if not 1 <= citizen.burst <= 10_000:
        yield "citizen.burst", "must be 1-10000 requests"


def _check_unique(items: list, section: str, key: str) -> Problems:
    seen: set = set()
    for i, item in enumerate(items):
        value = getattr(item, key)
        if value in seen:
            yield f"{section}[{i}].{key}", f"duplicate {key} {value!r}"
        seen.add(value)
