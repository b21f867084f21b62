"""电子监察 (art. 11): the supervision rules, checked against the state at a given time.

Each rule names the conditions that hold now, one per subject (an item, a window, a device, a
slip), under a stable key. `check_alerts` compares them with the alerts already raised: a new
condition raises `alert.raised`, one that stopped holding is cleared with `alert.cleared`. An
alert's message is fixed when it is raised (a growing wait does not re-raise it every tick).

Part of QueueEngine. Thresholds come from the hall file's `[supervision]`; 0 turns a rule off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from . import queries
from .base import RulesBase
from .model import AlertCleared, AlertRaised, Event, HallState, RatingLevel, RatingStatus

UNHAPPY_LEVELS = frozenset(level for level in RatingLevel if level.needs_reason)  # 差评
CALL_ENDS = ("finished", "no_show", "transferred", "return_requested")


@dataclass(frozen=True)
class Condition:
    key: str
    kind: str
    message: str
    message_en: str
    window: int | None = None
    service: str | None = None


@dataclass(frozen=True)
class OverdueSlip:
    """A 承诺单 whose promised date has passed without 已办结 (read from the store)."""

    number: str
    service: str
    promised: dt.date


class AlertRules(RulesBase):
    def check_alerts(self, state: HallState, now: dt.datetime,
                     overdue: Iterable[OverdueSlip] = ()) -> list[Event]:
        holding = {c.key: c for c in self.conditions(state, now, overdue)}
        events: list[Event] = []
        for key, alert in sorted(state.alerts.items()):
            if key not in holding:
                events.append(AlertCleared(at=now, key=key, kind=alert.kind,
                                           raised_at=alert.since, window_at=alert.window,
                                           service=alert.service))
        for key, c in sorted(holding.items()):
            if key not in state.alerts:
                events.append(AlertRaised(at=now, key=key, kind=c.kind, message=c.message,
                                          message_en=c.message_en, window_at=c.window,
                                          service=c.service))
        return events

    def conditions(self, state: HallState, now: dt.datetime,
                   overdue: Iterable[OverdueSlip] = ()) -> list[Condition]:
        return [
            *self._long_waits(state, now),
            *self._windows(state, now),
            *self._devices(state, now),
            *self._unhappy(state),
            *self._no_shows(state),
            *self._overdue(state, now, overdue),
        ]

    # --- rules ------------------------------------------------------------------------------

    def _long_waits(self, state: HallState, now: dt.datetime) -> Iterable[Condition]:
        limit = self.cfg.supervision.wait_minutes
        if not limit:
            return
        oldest: dict[str, tuple[dt.datetime, str]] = {}
        for t in queries.waiting(state):
            if t.service not in oldest or t.issued_at < oldest[t.service][0]:
                oldest[t.service] = (t.issued_at, t.number)
        for service, (issued, number) in oldest.items():
            minutes = int((now - issued).total_seconds() // 60)
            if minutes >= limit:
                name = self.cfg.service(service).name if self.cfg.has_service(service) else service
                yield Condition(f"wait:{service}", "wait",
                                f"{name}：{number}号已等候{minutes}分钟（超过{limit}分钟）",
                                f"{service}: {number} has waited {minutes} min (over {limit})",
                                service=service)

    def _windows(self, state: HallState, now: dt.datetime) -> Iterable[Condition]:
        sup = self.cfg.supervision
        for w in self.cfg.windows:
            win = queries.window_state(state, w.no)
            name = w.name or f"{w.no}号窗口"
            current = state.tickets.get(win.current) if win.current else None
            if sup.serving_over_target and current is not None and current.called_at:
                target = self.cfg.service(current.service).target_minutes
                minutes = int((now - current.called_at).total_seconds() // 60)
                if minutes >= target:
                    yield Condition(f"serving:{w.no}", "serving",
                                    f"{name}：{current.number}号已办理{minutes}分钟（目标{target}分钟）",
                                    f"Window {w.no}: {current.number} at the window {minutes} min "
                                    f"(target {target})", window=w.no, service=current.service)
            if sup.pause_minutes and win.pause is not None and self._open(w.no, now):
                minutes = int((now - win.pause.since).total_seconds() // 60)
                if minutes >= sup.pause_minutes:
                    yield Condition(f"pause:{w.no}", "pause",
                                    f"{name}暂停服务已{minutes}分钟（{win.pause.reason}）",
                                    f"Window {w.no} paused for {minutes} min ({win.pause.reason})",
                                    window=w.no)
            if (sup.unstaffed_minutes and win.clerk is None and not self._covered(state, w.no)
                    and self._open(w.no, now)
                    and self._open(w.no, now - dt.timedelta(minutes=sup.unstaffed_minutes))):
                yield Condition(f"unstaffed:{w.no}", "unstaffed",
                                f"{name}办公时间无人值守，且无AB岗顶岗",
                                f"Window {w.no} has no clerk in opening hours and no AB backup",
                                window=w.no)

    def _devices(self, state: HallState, now: dt.datetime) -> Iterable[Condition]:
        limit = self.cfg.supervision.device_offline_minutes
        if not limit:
            return
        for d in state.devices.values():
            if d.status != "online" and now - d.since >= dt.timedelta(minutes=limit):
                where = f"{d.window}号窗口" if d.window else d.agent
                state_zh = "离线" if d.status == "offline" else "故障"
                yield Condition(f"device:{d.device}", "device",
                                f"{where}设备{d.device}{state_zh}：{d.detail}".rstrip("："),
                                f"Device {d.device} ({d.kind}) {d.status}: {d.detail}".rstrip(": "),
                                window=d.window)

    def _unhappy(self, state: HallState) -> Iterable[Condition]:
        sup = self.cfg.supervision
        if not (sup.rating_sample and sup.unhappy_share):
            return
        rated: dict[int, list[tuple[dt.datetime, int]]] = {}
        for t in state.tickets.values():
            r = t.rating
            if r is not None and r.status is RatingStatus.RATED and r.level and r.rated_at:
                rated.setdefault(r.window, []).append((r.rated_at, r.level))
        for window, ratings in sorted(rated.items()):
            last = [level for _, level in sorted(ratings)[-sup.rating_sample:]]
            if len(last) < sup.rating_sample:
                continue
            bad = sum(1 for level in last if level in UNHAPPY_LEVELS)
            if bad / len(last) >= sup.unhappy_share:
                yield Condition(f"unhappy:{window}", "unhappy",
                                f"{window}号窗口最近{len(last)}次评价中{bad}次不满意",
                                f"Window {window}: {bad} of the last {len(last)} ratings "
                                "dissatisfied", window=window)

    def _no_shows(self, state: HallState) -> Iterable[Condition]:
        sup = self.cfg.supervision
        if not (sup.no_show_sample and sup.no_show_share):
            return
        calls: dict[str, list[tuple[dt.datetime, bool]]] = {}
        for t in state.tickets.values():
            for v in t.visits:
                if v.end in CALL_ENDS and v.ended_at is not None:
                    calls.setdefault(v.service, []).append((v.ended_at, v.end == "no_show"))
        for service, ended in sorted(calls.items()):
            last = [no_show for _, no_show in sorted(ended)[-sup.no_show_sample:]]
            if len(last) < sup.no_show_sample:
                continue
            missed = sum(last)
            if missed / len(last) >= sup.no_show_share:
                yield Condition(f"no_show:{service}", "no_show",
                                f"{service}最近{len(last)}次叫号中{missed}次过号",
                                f"{service}: {missed} of the last {len(last)} calls were "
                                "no-shows", service=service)

    def _overdue(self, state: HallState, now: dt.datetime,
                 overdue: Iterable[OverdueSlip]) -> Iterable[Condition]:
        if not self.cfg.supervision.slip_overdue:
            return
        today = self.local(now).date()
        for slip in overdue:
            if slip.promised < today:
                yield Condition(f"slip_overdue:{slip.number}", "slip_overdue",
                                f"承诺单{slip.number}已超过承诺办结日期{slip.promised.isoformat()}",
                                f"Slip {slip.number} is past its promised date "
                                f"{slip.promised.isoformat()}", service=slip.service)

    # --- helpers ---------------------------------------------------------------------------

    def _open(self, no: int, when: dt.datetime) -> bool:
        """Whether any item of window `no` is in its opening hours at `when`."""
        local = self.local(when)
        return any(self.cfg.is_open(self.cfg.service(s), local)
                   for s in self.cfg.window(no).services)

    def _covered(self, state: HallState, no: int) -> bool:
        """An away window whose AB backup is open serves its items (同岗替代): not a gap."""
        backup = self.cfg.window(no).backup
        if backup is None:
            return False
        return not queries.window_state(state, backup).away

