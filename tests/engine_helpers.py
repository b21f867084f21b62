"""A small hall built in code for the queue engine's tests (independent of config/hall.*.toml).

Departments SJ (市场监管), GA (公安), RS (人社). Items and their ticket prefixes:

    biz_reg     A  SJ  承诺件, 5 working days      biz_change  A  SJ  即办件 (shares prefix A)
    id_card     B  GA  即办件, daily quota 3        permit      D  GA  上报件, 20 days
    social      C  RS  联办件, 10 days

Windows (services in calling order, AB backup):

    1  SJ  biz_reg, biz_change   backup 2        2  SJ  biz_change, biz_reg   backup 1
    3  GA  id_card               backup 4        4  GA  permit                backup 3
    5  RS  social                backup 1

Hours Mon-Fri 09:00-12:00 and 13:30-17:00; Thursday 2026-11-26 is a holiday and Saturday
2026-11-28 a make-up workday. Queue: fairness ratio 2, recall limit 2, a no-show goes back
behind 2 waiting tickets.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from hub.config import HallConfig, parse_config
from hub.engine import Clerk, Event, HallState, QueueEngine, apply, new_state, queries
from hub.engine.model import AnyEvent, Ticket

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=TZ)  # a Tuesday, mid-morning
TODAY = NOW.date()
HOLIDAY = dt.date(2026, 11, 26)  # a Thursday
MAKEUP = dt.date(2026, 11, 28)  # a Saturday worked instead

FAIRNESS = 2
RECALL_LIMIT = 2
REQUEUE_BEHIND = 2

_DISCLOSURE = {
    "duties": "受理并审核申请",
    "basis": "《行政许可法》",
    "preconditions": "材料齐全",
    "procedure": "受理-审核-办结",
    "time_limit": "见承诺时限",
    "fees": "不收费",
}


def _service(
    code: str, prefix: str, dept: str, case_type: str = "immediate", days: int = 0, **extra: Any
) -> dict:
    return {
        "code": code,
        "name": f"{code}事项",
        "department": dept,
        "prefix": prefix,
        "case_type": case_type,
        "time_limit_days": days,
        "disclosure": dict(_DISCLOSURE),
        "materials": ["身份证"],
        **extra,
    }


BASE_CONFIG: dict = {
    "center": {"name": "测试市政务服务中心", "timezone": "Asia/Shanghai"},
    "queue": {
        "fairness_ratio": FAIRNESS,
        "recall_limit": RECALL_LIMIT,
        "no_show_requeue_behind": REQUEUE_BEHIND,
        "appointment_priority": True,
        "slip_prefix": "CN",
        "pause_reasons": ["break", "meeting", "暂离"],
    },
    "calendar": {"holidays": [HOLIDAY], "workdays": [MAKEUP]},
    "hours": {
        "standard": {
            "weekdays": [1, 2, 3, 4, 5],
            "periods": [["09:00", "12:00"], ["13:30", "17:00"]],
        },
    },
    "departments": [
        {"code": "SJ", "name": "市场监管局"},
        {"code": "GA", "name": "公安局"},
        {"code": "RS", "name": "人社局"},
    ],
    "services": [
        _service("biz_reg", "A", "SJ", "commitment", 5),
        _service("biz_change", "A", "SJ"),
        _service("id_card", "B", "GA", daily_quota=3),
        _service("social", "C", "RS", "joint", 10),
        _service("permit", "D", "GA", "report", 20),
    ],
    "windows": [
        {"no": 1, "department": "SJ", "services": ["biz_reg", "biz_change"], "backup": 2},
        {"no": 2, "department": "SJ", "services": ["biz_change", "biz_reg"], "backup": 1},
        {"no": 3, "department": "GA", "services": ["id_card"], "backup": 4},
        {"no": 4, "department": "GA", "services": ["permit"], "backup": 3},
        {"no": 5, "department": "RS", "services": ["social"], "backup": 1},
    ],
}


def hall_config(**sections: dict) -> HallConfig:
    """The test hall, with top-level sections updated key by key (e.g. queue={...})."""
    raw = copy.deepcopy(BASE_CONFIG)
    for name, values in sections.items():
        if isinstance(raw.get(name), dict) and isinstance(values, dict):
            raw[name].update(values)
        else:
            raw[name] = values
    return parse_config(raw, "<test hall>")


def clerk(username: str) -> Clerk:
    return Clerk(username=username, name=f"窗口人员{username}", staff_no=f"S-{username}")


def run(engine: QueueEngine, state: HallState, method: str, *args: Any, **kw: Any) -> list[Event]:
    """Decide, then apply the events, as the hub does (decide → commit → apply)."""
    events = getattr(engine, method)(state, *args, **kw)
    for event in events:
        apply(state, event)
    return events


def encode(state: HallState) -> bytes:
    return msgspec.json.encode(state)


def replay(cfg: HallConfig, start: dt.datetime, events: list[Event]) -> HallState:
    """A state rebuilt from scratch, the events passing through JSON like the store's."""
    state = new_state(cfg, start)
    for event in events:
        apply(state, msgspec.json.decode(msgspec.json.encode(event), type=AnyEvent))
    return state


class Hall:
    """One engine and its state at a settable time, recording every committed event."""

    def __init__(self, cfg: HallConfig | None = None, now: dt.datetime = NOW) -> None:
        self.cfg = cfg or hall_config()
        self.engine = QueueEngine(self.cfg)
        self.start = now
        self.now = now
        self.state = new_state(self.cfg, now)
        self.events: list[Event] = []

    def do(self, method: str, *args: Any, at: dt.datetime | None = None, **kw: Any) -> list[Event]:
        events = run(self.engine, self.state, method, at or self.now, *args, **kw)
        self.events += events
        return events

    def first(self, method: str, *args: Any, **kw: Any) -> Any:
        """Run a command and return its first event (finishing also asks for a rating)."""
        return self.do(method, *args, **kw)[0]

    def one(self, method: str, *args: Any, **kw: Any) -> Any:
        """Run a command that yields exactly one event and return it."""
        events = self.do(method, *args, **kw)
        assert len(events) == 1, events
        return events[0]

    # shorthands
    def issue(self, service: str, **kw: Any) -> Any:
        return self.one("issue_ticket", service, **kw)

    def staff(self, *windows: int) -> None:
        for no in windows:
            self.do("sign_in", no, clerk(f"c{no}"))

    def call(self, no: int) -> Any:
        return self.one("call_next", no)

    def ticket(self, ticket_id: str):
        return self.state.tickets[ticket_id]

    def by_number(self, number: str):
        return next(t for t in self.state.tickets.values() if t.number == number)


def all_candidates(cfg: HallConfig, state: HallState, no: int) -> list[Ticket]:
    """Every waiting ticket window `no` may call, best first, by sorting them all: the rule of
    hub.engine.queries.heads written the slow, obvious way (the tests' oracle)."""
    services, targets = queries.scope(cfg, state, no)
    order = {code: i for i, code in enumerate(services)}
    found = list(queries.waiting(state, [*services, *(f"@{t}" for t in sorted(targets))]))
    found.sort(key=lambda t: (t.target_window is None, order.get(t.service, len(order)), t.rank))
    return found


def finished_cases(state: HallState, service: str) -> list[tuple[dt.datetime, float]]:
    """(ended at, minutes) of every case of `service` finished today, by a pass over every
    ticket's visits, oldest first: what HallState.pace keeps the last of (the tests' oracle)."""
    return sorted(
        (v.ended_at, (v.ended_at - v.called_at).total_seconds() / 60)
        for t in state.tickets.values()
        for v in t.visits
        if v.service == service and v.end == "finished" and v.ended_at is not None
    )
