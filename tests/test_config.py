"""The hall configuration loader: the example hall, errors naming file and key, the calendar."""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hub.config import CaseType, ConfigError, HallConfig, load_config, parse_config

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "hall.example.toml"
_EXAMPLE_RAW = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
SIX = ("duties", "basis", "preconditions", "procedure", "time_limit", "fees")


def example_raw() -> dict[str, Any]:
    """A fresh, freely mutable copy of the example hall as tomllib reads it."""
    return copy.deepcopy(_EXAMPLE_RAW)


def _set(raw: dict[str, Any], path: tuple, value: Any) -> None:
    node = raw
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


def expect_error(raw: dict[str, Any], key: str, reason: str = "") -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, "hall.toml")
    err = info.value
    assert err.file == "hall.toml"
    assert err.key == key, f"wrong key for {err}"
    assert reason in err.reason, f"reason {err.reason!r} lacks {reason!r}"
    assert str(err).startswith("hall.toml: ")
    return err


def minimal_raw() -> dict[str, Any]:
    """The smallest hall the loader accepts: everything optional left to its default."""
    disclosure = dict.fromkeys(SIX, "示例")
    return {
        "center": {"name": "测试中心"},
        "departments": [{"code": "D1", "name": "部门一"}],
        "services": [
            {
                "code": "S1",
                "name": "事项一",
                "department": "D1",
                "prefix": "A",
                "disclosure": disclosure,
                "materials": ["身份证件"],
            }
        ],
        "windows": [{"no": 1, "department": "D1", "services": ["S1"]}],
    }


@pytest.fixture(scope="module")
def hall() -> HallConfig:
    return load_config(EXAMPLE)


# --------------------------------------------------------------------------- the example hall


def test_example_loads_with_enough_content(hall: HallConfig) -> None:
    assert hall.schema_version == 1
    assert hall.center.name == "锦州市公共行政服务中心"
    assert hall.center.name_en
    assert hall.center.complaint_phone
    assert hall.center.notice and hall.center.notice_en
    assert len(hall.departments) >= 6
    assert len(hall.services) >= 20
    assert len(hall.windows) >= 12
    assert hall.queue.fairness_ratio == 3
    assert hall.queue.slip_prefix == "CN"


def test_example_services_disclose_all_six_and_list_materials(hall: HallConfig) -> None:
    for svc in hall.services:
        for field in SIX:
            assert getattr(svc.disclosure, field).strip(), f"{svc.code} lacks {field}"
        assert svc.materials, f"{svc.code} lists no materials"
        assert all(m.strip() for m in svc.materials), svc.code
        assert svc.name_en, svc.code


def test_example_uses_every_case_type_with_sensible_limits(hall: HallConfig) -> None:
    assert {svc.case_type for svc in hall.services} == set(CaseType)
    for svc in hall.services:
        if svc.case_type is CaseType.IMMEDIATE:
            assert svc.time_limit_days == 0, svc.code
        else:
            assert svc.time_limit_days > 0, svc.code
            # The disclosed text states the same number of working days.
            assert f"{svc.time_limit_days}个工作日" in svc.disclosure.time_limit, svc.code


def test_example_windows_are_numbered_backed_up_and_cover_every_service(hall: HallConfig) -> None:
    assert [w.no for w in hall.windows] == list(range(1, len(hall.windows) + 1))
    served = set()
    for win in hall.windows:
        assert win.backup is not None, f"window {win.no} has no AB backup"
        assert win.backup != win.no
        backup = hall.window(win.backup)
        # The backup can actually call this window's main item.
        assert win.services[0] in backup.services, f"window {win.no}"
        assert win.zone in {"1F", "2F"}
        served.update(win.services)
    assert served == {svc.code for svc in hall.services}


def test_example_has_a_comprehensive_window(hall: HallConfig) -> None:
    assert any(
        len({hall.service(code).department for code in win.services}) > 1 for win in hall.windows
    )


def test_example_prefix_quotas_fit_three_digit_numbers(hall: HallConfig) -> None:
    totals: dict[str, int] = {}
    for svc in hall.services:
        totals[svc.prefix] = totals.get(svc.prefix, 0) + svc.daily_quota
    assert max(totals.values()) <= 999, totals


def test_example_lookups(hall: HallConfig) -> None:
    first = hall.services[0]
    assert hall.has_service(first.code)
    assert hall.service(first.code) is first
    assert not hall.has_service("NOPE-99")
    assert hall.has_window(1)
    assert not hall.has_window(999)
    assert hall.department(first.department).code == first.department
    assert str(hall.zone) == "Asia/Shanghai"


def test_minimal_hall_gets_defaults() -> None:
    cfg = parse_config(minimal_raw())
    svc = cfg.service("S1")
    assert svc.case_type is CaseType.IMMEDIATE
    assert svc.hours == "standard"
    assert cfg.hours["standard"].weekdays == [1, 2, 3, 4, 5]
    assert cfg.hours["standard"].periods == [("09:00", "12:00"), ("13:30", "17:00")]
    assert cfg.queue.fairness_ratio == 3
    assert cfg.center.timezone == "Asia/Shanghai"
    assert cfg.green_channel.enabled
    # Defaults are not shared between two loaded halls.
    other = parse_config(minimal_raw())
    assert other.hours["standard"] is not cfg.hours["standard"]
    assert other.hours["standard"].periods is not cfg.hours["standard"].periods


# --------------------------------------------------------------------------- errors from files


def test_unknown_key_in_file_names_file_and_section(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        'timezone = "Asia/Shanghai"', 'timezone = "Asia/Shanghai"\ncolour = "red"', 1
    )
    path = tmp_path / "hall.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.file == str(path)
    assert info.value.key == "center"
    assert "colour" in info.value.reason
    assert str(path) in str(info.value)


def test_bad_value_type_in_file_names_file_and_key(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("no = 1\n", 'no = "1"\n', 1)
    path = tmp_path / "hall.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.file == str(path)
    assert info.value.key == "windows[0].no"
    assert "int" in info.value.reason and "str" in info.value.reason


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "hall.toml"
    path.write_text('[center]\nname = "unterminated\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.file == str(path)
    assert info.value.key == ""
    assert "not valid TOML" in info.value.reason


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.file == str(path)
    assert "cannot read" in info.value.reason


# --------------------------------------------------------------------------- errors from dicts

Mutator = Callable[[dict[str, Any]], None]


def _duplicate_service_code(raw: dict[str, Any]) -> None:
    raw["services"][1]["code"] = raw["services"][0]["code"]


def _duplicate_department_code(raw: dict[str, Any]) -> None:
    raw["departments"][1]["code"] = raw["departments"][0]["code"]


ERROR_CASES: list[tuple[str, Mutator, str, str]] = [
    # (id, mutation of the example, expected key, fragment of the reason)
    ("unknown-center-field", lambda r: _set(r, ("center", "colour"), "red"), "center", "colour"),
    (
        "unknown-service-field",
        lambda r: _set(r, ("services", 2, "fee"), 5),
        "services[2]",
        "fee",
    ),
    (
        "unknown-disclosure-field",
        lambda r: _set(r, ("services", 0, "disclosure", "remarks"), "x"),
        "services[0].disclosure",
        "remarks",
    ),
    ("window-no-as-string", lambda r: _set(r, ("windows", 0, "no"), "1"), "windows[0].no", "str"),
    ("window-no-as-bool", lambda r: _set(r, ("windows", 0, "no"), True), "windows[0].no", "bool"),
    (
        "time-limit-as-float",
        lambda r: _set(r, ("services", 3, "time_limit_days"), 1.5),
        "services[3].time_limit_days",
        "float",
    ),
    (
        "unknown-case-type",
        lambda r: _set(r, ("services", 0, "case_type"), "urgent"),
        "services[0].case_type",
        "urgent",
    ),
    (
        "missing-disclosure-field",
        lambda r: r["services"][0]["disclosure"].pop("fees"),
        "services[0].disclosure",
        "fees",
    ),
    ("missing-center-name", lambda r: r["center"].pop("name"), "center", "name"),
    (
        "holiday-not-a-date",
        lambda r: _set(r, ("calendar", "holidays"), [dt.datetime(2026, 1, 1, 9, 0)]),
        "calendar.holidays[0]",
        "date",
    ),
    ("schema-version", lambda r: _set(r, ("schema_version",), 2), "schema_version", "version"),
    (
        "unknown-time-zone",
        lambda r: _set(r, ("center", "timezone"), "Mars/Olympus"),
        "center.timezone",
        "Mars/Olympus",
    ),
    (
        "time-zone-is-a-directory",
        lambda r: _set(r, ("center", "timezone"), "Asia"),
        "center.timezone",
        "Asia",
    ),
    ("empty-time-zone", lambda r: _set(r, ("center", "timezone"), ""), "center.timezone", ""),
    (
        "zero-fairness",
        lambda r: _set(r, ("queue", "fairness_ratio"), 0),
        "queue.fairness_ratio",
        "zero",
    ),
    (
        "negative-recall-limit",
        lambda r: _set(r, ("queue", "recall_limit"), -1),
        "queue.recall_limit",
        "negative",
    ),
    (
        "bad-slip-prefix",
        lambda r: _set(r, ("queue", "slip_prefix"), "cn"),
        "queue.slip_prefix",
        "uppercase",
    ),
    (
        "bad-weekday",
        lambda r: _set(r, ("hours", "standard", "weekdays"), [0, 1]),
        "hours.standard.weekdays",
        "ISO",
    ),
    (
        "no-weekdays",
        lambda r: _set(r, ("hours", "standard", "weekdays"), []),
        "hours.standard.weekdays",
        "ISO",
    ),
    (
        "hhmm-without-leading-zero",
        lambda r: _set(r, ("hours", "standard", "periods"), [["9:00", "12:00"]]),
        "hours.standard.periods[0]",
        "HH:MM",
    ),
    (
        "hhmm-start-24",
        lambda r: _set(r, ("hours", "extended", "periods"), [["24:00", "24:00"]]),
        "hours.extended.periods[0]",
        "HH:MM",
    ),
    (
        "hhmm-minute-60",
        lambda r: _set(r, ("hours", "standard", "periods", 1), ["13:60", "17:00"]),
        "hours.standard.periods[1]",
        "HH:MM",
    ),
    (
        "overlapping-periods",
        lambda r: _set(
            r, ("hours", "standard", "periods"), [["09:00", "12:00"], ["11:30", "17:00"]]
        ),
        "hours.standard.periods[1]",
        "overlap",
    ),
    (
        "unordered-periods",
        lambda r: _set(
            r, ("hours", "standard", "periods"), [["13:30", "17:00"], ["09:00", "12:00"]]
        ),
        "hours.standard.periods[1]",
        "ordered",
    ),
    (
        "period-ends-before-start",
        lambda r: _set(r, ("hours", "standard", "periods"), [["12:00", "09:00"]]),
        "hours.standard.periods[0]",
        "ordered",
    ),
    (
        "service-missing-department",
        lambda r: _set(r, ("services", 4, "department"), "NOPE"),
        "services[4].department",
        "NOPE",
    ),
    (
        "service-missing-hours",
        lambda r: _set(r, ("services", 0, "hours"), "night"),
        "services[0].hours",
        "night",
    ),
    (
        "service-lowercase-prefix",
        lambda r: _set(r, ("services", 0, "prefix"), "a"),
        "services[0].prefix",
        "uppercase",
    ),
    (
        "service-long-prefix",
        lambda r: _set(r, ("services", 0, "prefix"), "ABC"),
        "services[0].prefix",
        "1-2",
    ),
    (
        "service-digit-prefix",
        lambda r: _set(r, ("services", 0, "prefix"), "A1"),
        "services[0].prefix",
        "uppercase",
    ),
    (
        "service-bad-code",
        lambda r: _set(r, ("services", 0, "code"), "SLSD 01"),
        "services[0].code",
        "SLSD 01",
    ),
    (
        "commitment-without-limit",
        lambda r: r["services"][0].update(case_type="commitment", time_limit_days=0),
        "services[0].time_limit_days",
        "commitment",
    ),
    (
        "joint-without-limit",
        lambda r: r["services"][0].update(case_type="joint", time_limit_days=0),
        "services[0].time_limit_days",
        "joint",
    ),
    (
        "report-without-limit",
        lambda r: r["services"][0].update(case_type="report", time_limit_days=0),
        "services[0].time_limit_days",
        "report",
    ),
    (
        "negative-time-limit",
        lambda r: _set(r, ("services", 0, "time_limit_days"), -1),
        "services[0].time_limit_days",
        "negative",
    ),
    (
        "zero-quota",
        lambda r: _set(r, ("services", 0, "daily_quota"), 0),
        "services[0].daily_quota",
        "1-999",
    ),
    (
        "four-digit-quota",
        lambda r: _set(r, ("services", 0, "daily_quota"), 1000),
        "services[0].daily_quota",
        "1-999",
    ),
    (
        "zero-target-minutes",
        lambda r: _set(r, ("services", 0, "target_minutes"), 0),
        "services[0].target_minutes",
        "at least 1",
    ),
    (
        "no-materials",
        lambda r: _set(r, ("services", 0, "materials"), []),
        "services[0].materials",
        "一次性告知",
    ),
    (
        "blank-disclosure",
        lambda r: _set(r, ("services", 0, "disclosure", "fees"), "  \n"),
        "services[0].disclosure.fees",
        "六公开",
    ),
    ("duplicate-service-code", _duplicate_service_code, "services[1].code", "duplicate"),
    ("duplicate-department-code", _duplicate_department_code, "departments[1].code", "duplicate"),
    (
        "duplicate-window-no",
        lambda r: _set(r, ("windows", 1, "no"), 1),
        "windows[1].no",
        "duplicate",
    ),
    (
        "bad-department-code",
        lambda r: _set(r, ("departments", 0, "code"), "审批办"),
        "departments[0].code",
        "审批办",
    ),
    (
        "window-missing-department",
        lambda r: _set(r, ("windows", 2, "department"), "NOPE"),
        "windows[2].department",
        "NOPE",
    ),
    (
        "window-missing-service",
        lambda r: r["windows"][0]["services"].append("NOPE-99"),
        "windows[0].services",
        "NOPE-99",
    ),
    (
        "window-service-twice",
        lambda r: r["windows"][0]["services"].append(r["windows"][0]["services"][0]),
        "windows[0].services",
        "twice",
    ),
    (
        "window-without-services",
        lambda r: _set(r, ("windows", 0, "services"), []),
        "windows[0].services",
        "at least one",
    ),
    (
        "window-number-zero",
        lambda r: _set(r, ("windows", 0, "no"), 0),
        "windows[0].no",
        "start at 1",
    ),
    (
        "window-number-past-any-request",
        lambda r: _set(r, ("windows", 0, "no"), 10_000),
        "windows[0].no",
        "up to 9999",
    ),
    (
        "window-missing-backup",
        lambda r: _set(r, ("windows", 0, "backup"), 99),
        "windows[0].backup",
        "99",
    ),
    (
        "window-backs-itself-up",
        lambda r: _set(r, ("windows", 3, "backup"), r["windows"][3]["no"]),
        "windows[3].backup",
        "back this one up",
    ),
    (
        "prompt-voice-not-a-voice-id",
        lambda r: r.setdefault("kiosk", {}).update(prompt_voice="../../etc/passwd"),
        "kiosk.prompt_voice",
        "espeak-ng voice id",
    ),
    (
        "voice-prompts-as-string",
        lambda r: r.setdefault("kiosk", {}).update(voice_prompts="yes"),
        "kiosk.voice_prompts",
        "str",
    ),
    (
        "case-callback-days-zero",
        lambda r: r.setdefault("supervision", {}).update(callback_days=0),
        "supervision.callback_days",
        "1-60 working days",
    ),
    (
        "case-days-of-no-such-kind",
        lambda r: r.setdefault("supervision", {}).update(case_days={"parking": {"rectify": 5}}),
        "supervision.case_days.parking",
        "no such kind of case",
    ),
    (
        "case-callback-after-rectification",
        lambda r: r.setdefault("supervision", {}).update(
            case_days={"rating": {"callback": 12}}),
        "supervision.case_days.rating",
        "must not come after",
    ),
    (
        "case-days-unknown-key",
        lambda r: r.setdefault("supervision", {}).update(
            case_days={"rating": {"callbacks": 2}}),
        "supervision.case_days[...]",  # msgspec names no key of a table of tables
        "callbacks",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "key", "reason"),
    [pytest.param(m, k, r, id=name) for name, m, k, r in ERROR_CASES],
)
def test_bad_hall_fails_naming_the_key(mutate: Mutator, key: str, reason: str) -> None:
    raw = example_raw()
    mutate(raw)
    expect_error(raw, key, reason)


def test_unknown_top_level_key_is_named_in_the_reason() -> None:
    raw = example_raw()
    raw["colour"] = "red"
    err = expect_error(raw, "", "colour")
    assert str(err) == f"hall.toml: {err.reason}"


def test_service_served_by_no_window_fails() -> None:
    raw = example_raw()
    orphan = copy.deepcopy(raw["services"][0])
    orphan["code"] = "ORPHAN-01"
    raw["services"].append(orphan)
    expect_error(raw, f"services[{len(raw['services']) - 1}]", "ORPHAN-01")


def test_service_removed_from_its_only_window_fails() -> None:
    raw = example_raw()
    cfg = parse_config(copy.deepcopy(raw))
    # ZRZY-03 (不动产登记) is served by its own windows only; drop them all.
    code = "ZRZY-03"
    index = next(i for i, s in enumerate(cfg.services) if s.code == code)
    dropped = {w.no for w in cfg.windows if w.services == [code]}
    assert dropped and all(code not in w.services for w in cfg.windows if w.no not in dropped)
    raw["windows"] = [w for w in raw["windows"] if w["no"] not in dropped]
    for win in raw["windows"]:
        if win.get("backup") in dropped:
            win.pop("backup")
    expect_error(raw, f"services[{index}]", code)


def test_backup_is_optional() -> None:
    raw = example_raw()
    for win in raw["windows"]:
        win.pop("backup", None)
    cfg = parse_config(raw)
    assert all(w.backup is None for w in cfg.windows)


def test_a_window_may_serve_items_of_other_departments() -> None:
    raw = minimal_raw()
    raw["departments"].append({"code": "D2", "name": "部门二"})
    raw["windows"][0]["department"] = "D2"
    assert parse_config(raw).window(1).department == "D2"


def test_shared_prefix_is_allowed() -> None:
    raw = minimal_raw()
    second = copy.deepcopy(raw["services"][0])
    second["code"] = "S2"
    raw["services"].append(second)
    raw["windows"][0]["services"].append("S2")
    cfg = parse_config(raw)
    assert cfg.service("S1").prefix == cfg.service("S2").prefix == "A"


def test_loaded_sections_are_frozen(hall: HallConfig) -> None:
    with pytest.raises(AttributeError):
        hall.center.name = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        hall.windows[0].no = 99  # type: ignore[misc]


# --------------------------------------------------------------------------- hours and calendar


def _calendar_hall() -> HallConfig:
    """A hall with a known calendar: standard Mon-Fri hours and a Saturday schedule."""
    raw = minimal_raw()
    raw["hours"] = {
        "standard": {
            "weekdays": [1, 2, 3, 4, 5],
            "periods": [["09:00", "12:00"], ["13:30", "17:00"]],
        },
        "weekend": {"weekdays": [1, 2, 3, 4, 5, 6], "periods": [["09:00", "17:00"]]},
    }
    weekend = copy.deepcopy(raw["services"][0])
    weekend.update(code="S2", hours="weekend")
    raw["services"].append(weekend)
    raw["windows"][0]["services"].append("S2")
    raw["calendar"] = {
        # 国庆节 2026: Thu 1 Oct - Wed 7 Oct, make-up days Sun 20 Sep and Sat 10 Oct.
        "holidays": [dt.date(2026, 10, d) for d in (1, 2, 5, 6, 7)],
        "workdays": [dt.date(2026, 9, 20), dt.date(2026, 10, 10)],
    }
    return parse_config(raw)


def _at(day: dt.date, hhmm: str) -> dt.datetime:
    hour, minute = map(int, hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute))


MONDAY = dt.date(2026, 9, 14)
SATURDAY = dt.date(2026, 9, 19)
SUNDAY = dt.date(2026, 9, 13)


@pytest.mark.parametrize(
    ("hhmm", "expected"),
    [
        ("08:59", False),
        ("09:00", True),
        ("11:59", True),
        ("12:00", False),  # periods are [start, end)
        ("12:45", False),  # lunch break
        ("13:30", True),
        ("16:59", True),
        ("17:00", False),
        ("20:00", False),
    ],
)
def test_is_open_inside_and_outside_periods(hhmm: str, expected: bool) -> None:
    cfg = _calendar_hall()
    assert cfg.is_open(cfg.service("S1"), _at(MONDAY, hhmm)) is expected


def test_is_open_follows_the_service_schedule() -> None:
    cfg = _calendar_hall()
    standard, weekend = cfg.service("S1"), cfg.service("S2")
    assert not cfg.is_open(standard, _at(SATURDAY, "10:00"))
    assert cfg.is_open(weekend, _at(SATURDAY, "10:00"))
    assert cfg.is_open(weekend, _at(MONDAY, "12:30"))  # no lunch break
    assert not cfg.is_open(standard, _at(SUNDAY, "10:00"))
    assert not cfg.is_open(weekend, _at(SUNDAY, "10:00"))


def test_holiday_is_closed_for_every_schedule() -> None:
    cfg = _calendar_hall()
    national_day = dt.date(2026, 10, 1)  # a Thursday
    for code in ("S1", "S2"):
        assert not cfg.is_open(cfg.service(code), _at(national_day, "10:00"))
    assert not cfg.is_workday(national_day)


def test_make_up_workday_is_open() -> None:
    cfg = _calendar_hall()
    make_up_sunday, make_up_saturday = dt.date(2026, 9, 20), dt.date(2026, 10, 10)
    for day in (make_up_sunday, make_up_saturday):
        assert cfg.is_workday(day)
        assert cfg.is_open(cfg.service("S1"), _at(day, "10:00"))
        assert not cfg.is_open(cfg.service("S1"), _at(day, "12:30"))


def test_is_workday_plain_week() -> None:
    cfg = _calendar_hall()
    assert cfg.is_workday(MONDAY)
    assert not cfg.is_workday(SATURDAY)
    assert not cfg.is_workday(SUNDAY)


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (dt.date(2026, 9, 14), 0, dt.date(2026, 9, 14)),  # nothing to add
        (dt.date(2026, 9, 14), 3, dt.date(2026, 9, 17)),  # Mon + 3 = Thu
        (dt.date(2026, 9, 11), 1, dt.date(2026, 9, 14)),  # Fri + 1 skips the weekend
        (dt.date(2026, 9, 12), 1, dt.date(2026, 9, 14)),  # from a Saturday
        (dt.date(2026, 9, 18), 1, dt.date(2026, 9, 20)),  # Fri + 1 = make-up Sunday
        (dt.date(2026, 9, 30), 1, dt.date(2026, 10, 8)),  # skips the National Day holidays
        (dt.date(2026, 9, 30), 3, dt.date(2026, 10, 10)),  # Thu 8, Fri 9, make-up Sat 10
        (dt.date(2026, 9, 28), 6, dt.date(2026, 10, 12)),  # Tue, Wed, Thu 8, Fri 9, Sat 10, Mon 12
    ],
)
def test_add_workdays_skips_weekends_and_holidays(
    start: dt.date, count: int, expected: dt.date
) -> None:
    assert _calendar_hall().add_workdays(start, count) == expected


def test_example_calendar_2026(hall: HallConfig) -> None:
    # Spring Festival 2026: closed Mon 16 - Fri 20 Feb and Mon 23 Feb; make-up Sat 14 Feb.
    svc = hall.service("SCJG-01")
    assert not hall.is_open(svc, _at(dt.date(2026, 2, 16), "10:00"))
    assert hall.is_open(svc, _at(dt.date(2026, 2, 14), "10:00"))
    assert hall.add_workdays(dt.date(2026, 2, 13), 1) == dt.date(2026, 2, 14)
    assert hall.add_workdays(dt.date(2026, 2, 14), 1) == dt.date(2026, 2, 24)
    # The extended schedule opens on ordinary Saturdays, not on holidays.
    pickup = hall.service("SLSD-02")
    assert pickup.hours == "extended"
    assert hall.is_open(pickup, _at(dt.date(2026, 3, 7), "10:00"))
    assert not hall.is_open(pickup, _at(dt.date(2026, 10, 1), "10:00"))
    for day in hall.calendar.holidays:
        assert day.isoweekday() <= 5, f"holiday {day} is a weekend day"
    for day in hall.calendar.workdays:
        assert day.isoweekday() >= 6, f"make-up day {day} is a weekday"
    assert not set(hall.calendar.holidays) & set(hall.calendar.workdays)


def test_a_day_may_end_at_24_00() -> None:
    raw = example_raw()
    raw["hours"]["extended"]["periods"] = [["00:00", "24:00"]]
    cfg = parse_config(raw)
    late = dt.datetime(2026, 11, 24, 23, 59, 30, tzinfo=cfg.zone)
    assert cfg.is_open(
        cfg.service(next(s.code for s in cfg.services if s.hours == "extended")), late
    )


# ------------------------------------------------- the citizen's ID card at the kiosk ([identity])


def test_the_card_settings_default_as_the_hall_file_says(hall: HallConfig) -> None:
    ident = hall.identity
    assert (ident.elderly_age, ident.open_per_item, ident.per_day, ident.accept_expired_cards,
            ident.link_days, ident.silent_calling) == (65, 1, 3, False, 30, False)
    assert {s.id_required for s in hall.services} == {"optional"}


@pytest.mark.parametrize(("key", "value", "reason"), [
    ("elderly_age", 20, "50-120"),
    ("open_per_item", 0, "1-10"),
    ("per_day", -1, "0 (no cap)"),
    ("per_day", 51, "0 (no cap)"),
    ("link_days", 0, "1-365"),
    ("link_days", 3650, "1-365"),
])
def test_card_settings_out_of_range_are_refused(key: str, value: int, reason: str) -> None:
    raw = example_raw()
    raw["identity"][key] = value
    expect_error(raw, f"identity.{key}", reason)


def test_a_daily_cap_below_the_open_tickets_per_item_is_refused() -> None:
    raw = example_raw()
    raw["identity"].update(open_per_item=3, per_day=2)
    expect_error(raw, "identity.per_day", "open_per_item")
    raw["identity"]["per_day"] = 0  # no cap at all
    parse_config(raw, "hall.toml")


def test_id_required_takes_three_values_only() -> None:
    raw = minimal_raw()
    raw["services"][0]["id_required"] = "required"
    assert parse_config(raw, "hall.toml").service("S1").id_required == "required"
    raw["services"][0]["id_required"] = "always"
    with pytest.raises(ConfigError) as info:
        parse_config(raw, "hall.toml")
    assert "id_required" in str(info.value)
