"""The core every use case runs on: one lock, the hall's state, and how a change happens.

A change is decided by the engine on the state, committed by the store in one transaction with
its projections and audit record, applied to the state, and only then published to listeners
(screens, voice, forwarding). Reads that answer from the state catch up first with what other
hubs on the same store committed.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from hub.auth import STAFF_ROLES, Principal, RateLimiter, Role
from hub.clock import Clock, system_clock
from hub.config import HallConfig
from hub.engine import DomainError, HallState, QueueEngine, apply, new_state
from hub.engine.casework import Staff
from hub.engine.model import ComplaintFiled, ConfigReloaded, Event, TicketRated
from hub.engine.model.sharing import share_equal
from hub.hall_file import HallFileSync, parse_text
from hub.keyfiles import load_key
from hub.store.accounts import Accounts
from hub.store.audit import AuditEntry, AuditLog
from hub.store.database import Database
from hub.store.hall_config import HallConfigs
from hub.store.identity_links import IdentityLink
from hub.store.store import Record, Store

from .commit import AlreadyHandled, Change, Commit, Decide, Inbox
from .errors import Forbidden

log = logging.getLogger(__name__)

Listener = Callable[[list[Record]], None]
Offload = Callable[..., Any]
T = TypeVar("T")
SLIP_KEY_FILE = "slip-links.key"  # in the data directory, beside the store


def run_inline(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


class ServiceCore:
    """The hall's live state and the one way to change it (`execute`), for the use cases."""

    def __init__(
        self,
        cfg: HallConfig,
        db: Database,
        clock: Clock = system_clock,
        login_limiter: RateLimiter | None = None,
        offload: Offload = run_inline,
    ) -> None:
        self.cfg = cfg
        # The running hall file's hash (hub/hall_file/): set by the hub's entry point from the
        # file's bytes, reported on /healthz, changed by `reload`.
        self.config_hash = ""
        # Runs slow CPU work (scrypt, ~50 ms a sign-in) off the event loop: the hub's entry
        # point passes eventlet's thread pool; plain calls are fine in threading mode and tests.
        self.offload = offload
        self.engine = QueueEngine(cfg)
        self.db = db
        self.store = Store(db)
        self.accounts = Accounts(db)
        self.audit = AuditLog(db)
        # The hall file's text in the store (migration 0009): how a reload reaches other hubs.
        self.configs = HallConfigs(db)
        # How this hub reads a hall file's text: the entry point sets its HallFile's `parse`
        # (the demo's stays open around the clock), so a text another hub stored is checked
        # and adjusted exactly as this hub's own file would be.
        self.parse: Callable[[str], HallConfig] = parse_text
        # (hash, text, source) of the reload being committed: the commit stores the text with
        # its config.reloaded event, in the same transaction (hub/service/commit.py).
        self.reload_text: tuple[str, str, str] | None = None
        self.clock = clock
        self.limiter = login_limiter or RateLimiter()
        # Every change and every consistent read of the state holds it (use cases only:
        # other modules read through `read`).
        self.lock = threading.RLock()
        self._listeners: list[Listener] = []
        self._session_listeners: list[Callable[[list[str]], None]] = []
        self._move_listeners: list[Callable[[str, int, int, list[str]], None]] = []
        # The citizen's phone links minted by the change being executed, by (kind, ticket id or
        # slip number): read under the lock right after `execute` (hub/service/citizen.py),
        # emptied by the next change. Never logged, never in an event.
        self.minted: dict[tuple[str, str], str] = {}
        self._slip_key: bytes | None = None
        # The identity link (刷身份证取号) of the ticket the change being executed issues, its
        # ticket id and day filled in by the commit (hub/service/identity.py); set under the lock.
        self.identity_link: IdentityLink | None = None
        self.state = self._load_state()
        self.hall_file_sync = HallFileSync(self)

    def slip_key(self) -> bytes:
        """The key a 承诺单's phone link is derived from (hub/keyfiles.py), read on first
        use: a hub that makes no slip never needs it."""
        if self._slip_key is None:
            self._slip_key = load_key(self.db.path.parent / SLIP_KEY_FILE, "slip links key")
        return self._slip_key

    # --- state and commits --------------------------------------------------------------

    def _load_state(self) -> HallState:
        state = self.store.latest_snapshot()
        if state is None:
            state = new_state(self.cfg, self.clock())
            first_day = self.store.first_day()
            if first_day is not None:  # replay from the log's first day, not the clock's
                state.day = first_day
        for record in self.store.each_record_after(state.seq):
            apply(state, record.event, record.seq)
        # Read back from JSON, each string, date and time of the day's tickets is an object of
        # its own: one for each equal value keeps a restarted hub as small as one that ran the
        # day (hub/engine/model/sharing.py).
        share_equal(state)
        for w in self.cfg.windows:  # windows added to the config since the snapshot
            state.windows.setdefault(w.no, new_state(self.cfg, self.clock()).windows[w.no])
        log.info(
            "state loaded at event %d, day %s, %d tickets", state.seq, state.day, len(state.tickets)
        )
        return state

    # --- listeners ----------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def on_sessions_ended(self, listener: Callable[[list[str]], None]) -> None:
        self._session_listeners.append(listener)

    def on_clerk_moved(self, listener: Callable[[str, int, int, list[str]], None]) -> None:
        """`listener(username, from_window, to_window, session_hashes)` after a supervisor
        moved a clerk: the clerk's panel sockets follow them to the new window's room."""
        self._move_listeners.append(listener)

    def sessions_ended(self, token_hashes: list[str]) -> None:
        """Tell the listeners these sessions ended (signed out, or signed in elsewhere)."""
        for listener in self._session_listeners:
            listener(token_hashes)

    def clerk_moved(self, username: str, from_window: int, to_window: int,
                    token_hashes: list[str]) -> None:
        """Tell the listeners a clerk was moved; called under the lock, after the commit."""
        for listener in self._move_listeners:
            try:
                listener(username, from_window, to_window, token_hashes)
            except Exception:  # the move is committed: a broken listener must not undo it
                log.exception("clerk-moved listener %r failed", listener)

    def catch_up(self) -> None:
        """Apply the events other hubs on the same PostgreSQL store committed.

        A change always catches up inside its transaction (`_commit`); reads that answer from
        the in-memory state (screen snapshots, a ticket, the kiosk's tiles) call this first, so
        a hub that was idle answers with what another hub did a moment ago. One indexed query,
        nothing to apply most of the time; nothing at all on SQLite (one hub per file). The
        events are only applied, never published: the hub that committed them has emitted them
        to every hub's clients through the Socket.IO message queue (Redis), so a screen sees
        each event once. Polling on read rather than LISTEN/NOTIFY: no extra connection or
        green thread, and a read can never be answered from a state older than its request.
        Another hub's `config.reloaded` also swaps in the hall file it stored (see
        `HallFileSync.follow_stored`), so this hub answers with the hall's current rules."""
        if not self.db.shared:
            return
        with self.lock:
            reloaded = False
            for record in self.store.each_record_after(self.state.seq):
                apply(self.state, record.event, record.seq)
                reloaded = reloaded or isinstance(record.event, ConfigReloaded)
            if reloaded:
                self.hall_file_sync.follow_stored()

    def execute(
        self,
        who: Principal | None,
        decide: Decide,
        addr: str = "",
        inbox: Inbox | None = None,
        action: str | None = None,
        detail: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> list[Record]:
        """Decide, commit and apply one change; publish its events after the commit.

        `actor` names who changed the hall when no Principal did (a citizen on their phone).

        A staff member's change is audited (`action`, `detail`; hub/store/audit.py) in its own
        transaction; a refusal is audited too, in a transaction of its own.

        `inbox` records a device event's id (and the answer given) in the same transaction, so
        a re-sent keypad press is recognised and never counted twice (AlreadyHandled).

        Publishing happens under the lock too: listeners see events in commit order, whatever
        the async mode (with threads, two commands could otherwise publish swapped).
        """
        change = Change(who, addr, inbox, action, detail, actor)
        with self.lock:
            self.minted = {}
            if inbox is not None and (seen := self.store.inbox_result(inbox.id)) is not None:
                raise AlreadyHandled(seen)
            records: list[Record] = []
            try:
                now = self.clock()
                if self.engine.local(now).date() > self.state.day:  # else nothing to roll
                    records += self._commit(self.engine.rollover, now, Change(addr=addr))
                records += self._commit(decide, now, change)
            except DomainError as err:
                if who is not None and who.role in STAFF_ROLES:
                    self.audit_alone(who.name, who.role, who.window, addr,
                                     action or "refused", detail, err)
                raise
            finally:  # a rollover committed before a refused command is published all the same
                if records:
                    self._publish(records)
        return records

    def _commit(self, decide: Decide, now: dt.datetime, change: Change) -> list[Record]:
        """One transaction, in the steps of hub/service/commit.py: catch up with what other
        hubs committed, decide on that state, append the events, record the change, apply the
        events with their projections, snapshot. Nothing if nothing happened (but a staff
        member's command, even one that changed nothing, is audited).

        A commit that fails leaves nothing in the store, and the state is reloaded from it."""
        try:
            with self.db.transaction() as tx:
                steps = Commit(self.store, self.audit, self.configs, tx, self.state, now,
                               self.reload_text,
                               self.minted if self.cfg.citizen.enabled else None, self.cfg.zone,
                               self.slip_key, self.identity_link)
                if steps.catch_up():  # another hub changed the hall file: decide with the new one
                    self.hall_file_sync.follow_stored(tx)
                events = decide(self.state, now)
                events = [*events, *self._reactions(events, now)]
                if not events and not change.recorded:
                    return []
                records = steps.append(events, change)
                steps.record(change, records, self.clock)
                steps.apply_and_project(records)
                steps.snapshot_if_due(records)
        except DomainError:
            raise
        except Exception:
            self._recover()
            raise
        return records

    def _reactions(self, events: list[Event], now: dt.datetime) -> list[Event]:
        """What the decided `events` bring with them in the same transaction, whatever path
        decided them (a clerk, a keypad through the device inbox, the office, a kiosk): the
        case every 差评 and complaint opens (hub/engine/casework.py)."""
        if not any(isinstance(e, TicketRated | ComplaintFiled) for e in events):
            return []
        usernames, staff_nos = {}, {}
        for e in events:
            if isinstance(e, ComplaintFiled) and e.staff_no:
                found = self.accounts.by_staff_no(e.staff_no)
                if found is not None and found["role"] == "clerk":
                    usernames[e.staff_no] = found["username"]
            elif isinstance(e, TicketRated):
                user = self.accounts.user(e.clerk)
                if user is not None and user["staff_no"]:
                    staff_nos[e.clerk] = user["staff_no"]
        return self.engine.open_cases(self.state, now, events, Staff(usernames, staff_nos))

    def _recover(self) -> None:
        """After a failed commit (its transaction left nothing): the state as the store has it."""
        log.exception("commit failed; reloading the state from the store")
        self.state = self._load_state()
        if self.db.shared:  # the replay may hold another hub's reload not yet followed
            try:
                self.hall_file_sync.follow_stored()
            except Exception:
                log.exception("could not read the hall's current config from the store")

    def _publish(self, records: list[Record]) -> None:
        for listener in self._listeners:
            try:
                listener(records)
            except Exception:  # a broken listener must not undo or block a committed change
                log.exception("event listener %r failed", listener)

    def audit_alone(
        self,
        account: str,
        role: Role | None,
        window: int | None,
        addr: str,
        action: str,
        detail: dict[str, Any] | None = None,
        refused: DomainError | None = None,
    ) -> None:
        """Audit what commits no change of the hall (a refusal, an office sign-in, a failed
        login) in a transaction of its own. Under the service lock, so the hub's appends stay
        one chain. A failure to write is logged, not raised: the caller's answer stands."""
        if refused is not None:
            if getattr(refused, "audited", False):
                return
            refused.audited = True  # type: ignore[attr-defined]  # login's wrapper skips it
        entry = AuditEntry(
            at=self.clock(), account=account[:100], role=role.value if role else "",
            window_no=window, addr=addr, action=action, detail=detail or {},
            outcome=refused.code if refused is not None else "ok",
        )
        try:
            with self.lock, self.db.transaction() as tx:
                self.audit.append(tx, entry)
        except Exception:
            log.exception("could not write the audit record of %s by %s", action, account)

    # --- reads for other modules ----------------------------------------------------------

    def read(self, look: Callable[[HallState], T]) -> T:
        """`look` at the live state under the hall's lock: one consistent picture, never half
        a commit. `look` only reads, and quickly: every change waits while it runs."""
        with self.lock:
            return look(self.state)

    def applied_seq(self) -> int:
        """The last event this hub's state reflects (its own commits, and other hubs' it has
        caught up with)."""
        return self.state.seq

    def current_day(self) -> dt.date:
        """The hall's business day as its state has it (rolled over by the first change or
        housekeeping tick after local midnight)."""
        return self.state.day

    # --- authorization ------------------------------------------------------------------

    @staticmethod
    def require(who: Principal, *roles: Role) -> None:
        if who.role not in roles:
            raise Forbidden(
                "forbidden",
                "error.forbidden", role=who.role.value, roles='/'.join(roles),
            )
