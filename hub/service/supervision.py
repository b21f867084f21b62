"""What the hall looks like: the screens' snapshot, and what the office watches (today's totals,
returns waiting for a decision, devices, supervision alerts, the feed to the backend and its
dead letters, the audit trail)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import msgspec

from hub import presenters
from hub.auth import OFFICE_ROLES, Principal, Role
from hub.engine import Invalid
from hub.engine.model import TicketStatus
from hub.reports import MAX_DAYS
from hub.store.forwarding import Outbox, forwarding_status

from .core import ServiceCore


class Supervision:
    def __init__(self, core: ServiceCore) -> None:
        self.core = core

    def snapshot(self, usernames: bool = False) -> dict:
        """The screens' snapshot; `usernames` adds each clerk's account name (the office's
        monitor moves clerks by it), read under the same lock so both agree."""
        core = self.core
        core.catch_up()
        with core.lock:
            snap = presenters.public_snapshot(core.cfg, core.state)
            if usernames:
                for w in snap["windows"]:
                    win = core.state.windows.get(w["no"])
                    clerk = win.clerk if win is not None else None
                    if w["clerk"] is not None and clerk is not None:
                        w["clerk"]["username"] = clerk.username
            return snap

    def totals(self, who: Principal) -> dict:
        """Today's counts for the office's monitor (issued, served, ratings, ...)."""
        self.core.require(who, *OFFICE_ROLES)
        return self.current_totals()

    def current_totals(self) -> dict:
        """`totals` for the hub's own push to the office's monitors (a pass over today's
        tickets: a few ms on a busy day, so pushed at most a few times a second)."""
        core = self.core
        core.catch_up()
        with core.lock:
            return presenters.totals(core.state)

    def pending_returns(self, who: Principal) -> list[dict]:
        core = self.core
        core.require(who, *OFFICE_ROLES)
        with core.lock:
            return [
                presenters.ticket_view(core.cfg, None, t)
                for t in core.state.tickets.values()
                if t.status is TicketStatus.RETURN_PENDING
            ]

    def devices(self, who: Principal) -> list[dict]:
        """Every device an agent reported, with its last state (online, offline, error)."""
        core = self.core
        core.require(who, *OFFICE_ROLES)
        with core.lock:
            return [msgspec.to_builtins(d) for d in core.state.devices.values()]

    def alerts(self, who: Principal) -> list[dict]:
        """The supervision alerts holding now (电子监察), oldest first."""
        core = self.core
        core.require(who, *OFFICE_ROLES)
        with core.lock:
            found = sorted(core.state.alerts.values(), key=lambda a: (a.since, a.key))
            return [msgspec.to_builtins(a) for a in found]

    def forwarding_status(self) -> dict[str, Any] | None:
        """How far the forwarder (`onestop forward`, its own process) has got, read from the
        store: None when this hall has no backend configured."""
        if not self.core.cfg.backend.url:
            return None
        return forwarding_status(self.core.db)

    def dead_letters(self, who: Principal) -> dict[str, Any]:
        """Events the supervision backend refused and where the feed is, so the office can
        follow up; reads only committed rows, outside the hall's lock."""
        self.core.require(who, *OFFICE_ROLES)
        return {"dead_letters": Outbox(self.core.db).dead_letters(),
                "forwarding": forwarding_status(self.core.db)}

    def audit_export(self, who: Principal, first: dt.date, last: dt.date, fmt: str,
                     addr: str = "") -> Iterator[dict[str, Any]]:
        """Every live audit record of the hall's days `first` to `last`, hashes included, for
        the supervision office: supervisors only (not admins: who runs the system does not
        read its audit out). The export is itself audited. Records are read a batch at a time
        as the answer is sent, outside the hall's lock."""
        core = self.core
        core.require(who, Role.SUPERVISOR)
        if last < first:
            raise Invalid("invalid", "error.range_reversed")
        if (last - first).days >= MAX_DAYS:
            raise Invalid("invalid", "error.range_too_long")
        core.audit_alone(who.name, who.role, who.window, addr, "audit-export",
                         {"from": first.isoformat(), "to": last.isoformat(), "format": fmt})
        start = dt.datetime.combine(first, dt.time(), tzinfo=core.cfg.zone)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=core.cfg.zone)
        return core.audit.between(start, end)

    def audit_records(
        self, who: Principal, account: str | None, since: dt.date | None, limit: int = 100
    ) -> list[dict]:
        """The latest audit records, oldest first (office only); `since` is a day of the hall."""
        core = self.core
        core.require(who, *OFFICE_ROLES)
        start = None
        if since is not None:
            start = dt.datetime.combine(since, dt.time(), tzinfo=core.cfg.zone)
        return core.audit.records(account, start, max(1, min(limit, 1000)))
