"""What the hub does on its own, without anyone asking: the day rolled over at midnight (and
summed up for the reports), ratings nobody gave ended on time, the supervision rules checked."""

from __future__ import annotations

import datetime as dt
import logging

from hub import reports
from hub.engine import HallState
from hub.engine.model import DayRolled, Event
from hub.store.audit import AuditEntry
from hub.store.cases import Cases
from hub.store.citizen_links import CitizenLinks
from hub.store.identity_links import IdentityLinks
from hub.store.store import Record

from .core import ServiceCore

log = logging.getLogger(__name__)


class Housekeeping:
    def __init__(self, core: ServiceCore) -> None:
        self.core = core
        self.cert_expires: dt.datetime | None = None  # the hub's TLS certificate's notAfter
        self.cases = Cases(core.db)
        self.identities_done: dt.date | None = None  # the hall day identity links were thinned

    def set_cert_expiry(self, expires: dt.datetime | None) -> None:
        """Watch the certificate the hub serves with (hub/main.py; None: it serves no TLS)."""
        self.cert_expires = expires

    def tick(self) -> list[Record]:
        """Roll the day over at midnight, end ratings nobody gave in time, and check the
        supervision rules (alerts raised and cleared; case steps past their day among them)."""
        core = self.core
        today = core.engine.local(core.clock()).date()
        overdue = core.store.overdue_slips(today) if core.cfg.supervision.slip_overdue else []

        def decide(state: HallState, now: dt.datetime) -> list[Event]:
            # Read in the commit, under the hall's lock: a step done a moment before is seen,
            # so its alert is never raised after it (each case step's is raised once).
            steps = self.cases.overdue(core.engine.local(now).date())
            return [*core.engine.expire_ratings(state, now),
                    *core.engine.check_alerts(state, now, overdue, self.cert_expires, steps)]

        records = core.execute(None, decide)
        for record in records:
            if isinstance(record.event, DayRolled):
                self._sum_up_yesterday(record.event.day)
                self.prune_links()
        if self.identities_done != today:  # once a day, whichever change rolled the day
            self.forget_identities(today)
        return records

    def forget_identities(self, today: dt.date) -> tuple[int, int]:
        """刷身份证取号's links: the masked names of tickets of days before `today` set to
        NULL (silent calling needs them on the ticket's day only), and the links of days more
        than `[identity] link_days` ago deleted, with an audit record of how many (never whose).
        (names cleared, links deleted); a failure is retried at the next tick."""
        core = self.core
        keep_from = today - dt.timedelta(days=core.cfg.identity.link_days)
        try:
            with core.lock, core.db.transaction() as tx:
                links = IdentityLinks(core.db)
                cleared, deleted = links.forget_names(tx, today), links.prune(tx, keep_from)
                if cleared or deleted:
                    core.audit.append(tx, AuditEntry(
                        at=core.clock(), account="system", role="", window_no=None, addr="",
                        action="identity-links-expired",
                        detail={"names_cleared": cleared, "links_deleted": deleted,
                                "before": keep_from.isoformat()}))
        except Exception:
            log.exception("could not thin out the identity links")
            return 0, 0
        self.identities_done = today
        if cleared or deleted:
            log.info("identity links: %d masked names cleared, %d links deleted", cleared,
                     deleted)
        return cleared, deleted

    def prune_links(self) -> int:
        """Delete the citizen's phone links that expired (yesterday's tickets' among them):
        they open nothing any more, and only their hashes were kept. How many."""
        core = self.core
        try:
            with core.lock, core.db.transaction() as tx:
                return CitizenLinks(core.db).prune(tx, core.clock())
        except Exception:  # they are refused as expired anyway: only space is lost
            log.exception("could not delete the expired phone links")
            return 0

    def publish_audit_head(self) -> list[Record]:
        """The audit log's last record (seq and hash) as today's `audit.head` event, once a
        business day: committed like any event, so the forwarder sends it and a restart, even
        after SIGKILL, neither repeats nor skips it. A head read a moment before a concurrent
        append is still a record of the chain: any published head must stay in it."""
        core = self.core

        def decide(state: HallState, now: dt.datetime) -> list[Event]:
            if state.audit_head_day == state.day:  # the common case: no query
                return []
            seq, head = core.audit.head()
            return core.engine.publish_audit_head(state, now, seq, head)

        return core.execute(None, decide)

    def next_rating_deadline(self) -> dt.datetime | None:
        """When the next rating the hub ends itself runs out (hub/web/app.py sleeps until then)."""
        with self.core.lock:
            return self.core.engine.next_rating_deadline(self.core.state)

    def expire_ratings(self) -> list[Record]:
        """End the ratings whose deadline passed at windows without a keypad (on time: the
        edge calls this at the deadline, not at the next housekeeping tick)."""
        return self.core.execute(None, self.core.engine.expire_ratings)

    def _sum_up_yesterday(self, today: dt.date) -> None:
        """At day end, sum the day just closed into the report tables (a fraction of a second),
        so the office's first report of it does not pay for it. A failure only costs speed:
        the report sums the day up itself."""
        core = self.core
        yesterday = today - dt.timedelta(days=1)
        try:
            with core.lock:
                reports.settle(core.db, core.cfg, yesterday, yesterday, today, core.clock())
        except Exception:
            log.exception("could not sum up %s for the reports", yesterday)
