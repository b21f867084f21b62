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

from hub.i18n import N_, Msg

from . import queries
from .base import RulesBase
from .casework import OverdueStep
from .model import AlertCleared, AlertRaised, Event, HallState, RatingLevel, RatingStatus

# An alert is a record (stored, forwarded to the supervision backend): its message is Chinese
# and its message_en English, whatever languages the hall shows.
RECORD_LANGUAGES = ("zh_CN", "en")

UNHAPPY_LEVELS = frozenset(level for level in RatingLevel if level.needs_reason)  # 差评
CALL_ENDS = ("finished", "no_show", "transferred", "return_requested")


@dataclass(frozen=True)
class Condition:
    key: str
    kind: str
    message: Msg  # said in Chinese and English when raised (the event's message, message_en)
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
                     overdue: Iterable[OverdueSlip] = (),
                     cert_expires: dt.datetime | None = None,
                     cases: Iterable[OverdueStep] = ()) -> list[Event]:
        holding = {c.key: c for c in self.conditions(state, now, overdue, cert_expires, cases)}
        events: list[Event] = []
        for key, alert in sorted(state.alerts.items()):
            if key not in holding:
                events.append(AlertCleared(at=now, key=key, kind=alert.kind,
                                           raised_at=alert.since, window_at=alert.window,
                                           service=alert.service))
        for key, c in sorted(holding.items()):
            if key not in state.alerts:
                zh, en = (self.records.t_in(lang, c.message.key, **c.message.params)
                          for lang in RECORD_LANGUAGES)
                events.append(AlertRaised(at=now, key=key, kind=c.kind, message=zh,
                                          message_en=en, window_at=c.window,
                                          service=c.service))
        return events

    def conditions(self, state: HallState, now: dt.datetime,
                   overdue: Iterable[OverdueSlip] = (),
                   cert_expires: dt.datetime | None = None,
                   cases: Iterable[OverdueStep] = ()) -> list[Condition]:
        return [
            *self._certificate(now, cert_expires),
            *self._long_waits(state, now),
            *self._windows(state, now),
            *self._devices(state, now),
            *self._unhappy(state),
            *self._no_shows(state),
            *self._overdue(state, now, overdue),
            *self._cases_overdue(now, cases),
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
                                Msg("alert.wait", name=name, service=service, number=number,
                                    minutes=minutes, limit=limit),
                                service=service)

    def _windows(self, state: HallState, now: dt.datetime) -> Iterable[Condition]:
        sup = self.cfg.supervision
        for w in self.cfg.windows:
            win = queries.window_state(state, w.no)
            name = w.name or Msg("common.window", no=w.no)
            current = state.tickets.get(win.current) if win.current else None
            if sup.serving_over_target and current is not None and current.called_at:
                target = self.cfg.service(current.service).target_minutes
                minutes = int((now - current.called_at).total_seconds() // 60)
                if minutes >= target:
                    yield Condition(f"serving:{w.no}", "serving",
                                    Msg("alert.serving", name=name, no=w.no,
                                        number=current.number, minutes=minutes, target=target),
                                    window=w.no, service=current.service)
            if sup.pause_minutes and win.pause is not None and self._open(w.no, now):
                minutes = int((now - win.pause.since).total_seconds() // 60)
                if minutes >= sup.pause_minutes:
                    yield Condition(f"pause:{w.no}", "pause",
                                    Msg("alert.pause", name=name, no=w.no, minutes=minutes,
                                        reason=win.pause.reason),
                                    window=w.no)
            if (sup.unstaffed_minutes and win.clerk is None and not self._covered(state, w.no)
                    and self._open(w.no, now)
                    and self._open(w.no, now - dt.timedelta(minutes=sup.unstaffed_minutes))):
                yield Condition(f"unstaffed:{w.no}", "unstaffed",
                                Msg("alert.unstaffed", name=name, no=w.no), window=w.no)

    def _devices(self, state: HallState, now: dt.datetime) -> Iterable[Condition]:
        limit = self.cfg.supervision.device_offline_minutes
        if not limit:
            return
        for d in state.devices.values():
            if d.status != "online" and now - d.since >= dt.timedelta(minutes=limit):
                where = Msg("common.window", no=d.window) if d.window else d.agent
                said = Msg(N_("alert.device_state.offline") if d.status == "offline"
                           else N_("alert.device_state.error"))
                yield Condition(f"device:{d.device}", "device",
                                Msg("alert.device", where=where, device=d.device, kind=d.kind,
                                    status=d.status, state=said, detail=d.detail) if d.detail
                                else Msg("alert.device_no_detail", where=where, device=d.device,
                                         kind=d.kind, status=d.status, state=said),
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
                                Msg("alert.unhappy", window=window, sample=len(last), bad=bad),
                                window=window)

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
                                Msg("alert.no_show", service=service, sample=len(last),
                                    missed=missed),
                                service=service)

    def _overdue(self, state: HallState, now: dt.datetime,
                 overdue: Iterable[OverdueSlip]) -> Iterable[Condition]:
        if not self.cfg.supervision.slip_overdue:
            return
        today = self.local(now).date()
        for slip in overdue:
            if slip.promised < today:
                yield Condition(f"slip_overdue:{slip.number}", "slip_overdue",
                                Msg("alert.slip_overdue", number=slip.number,
                                    promised=slip.promised.isoformat()),
                                service=slip.service)

    def _cases_overdue(self, now: dt.datetime,
                       cases: Iterable[OverdueStep]) -> Iterable[Condition]:
        """Case steps (回访, 整改) past their due day, not done (read from the store: one per
        case and step, so each is raised once and cleared when its step is done)."""
        today = self.local(now).date()
        names = {"callback": N_("casework.step.callback"), "rectify": N_("casework.step.rectify")}
        for c in cases:
            if c.due < today and c.step in names:
                yield Condition(f"case_overdue:{c.case_id}:{c.step}", "case_overdue",
                                Msg("alert.case_overdue", case_id=c.case_id,
                                    step=Msg(names[c.step]), due=c.due.isoformat()),
                                window=c.window)

    def _certificate(self, now: dt.datetime,
                     expires: dt.datetime | None) -> Iterable[Condition]:
        """The hub's TLS certificate (`expires`: its notAfter; None: the hub serves no TLS
        itself) runs out within `cert_expiry_days`: every screen, kiosk and agent would then
        refuse the hub at once, so the office is told weeks before."""
        days = self.cfg.supervision.cert_expiry_days
        if not days or expires is None or expires - now > dt.timedelta(days=days):
            return
        left = max(0, (expires - now).days)
        yield Condition("tls_cert", "tls_cert",
                        Msg("alert.tls_cert", until=self.local(expires).date().isoformat(),
                            days=left))

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

