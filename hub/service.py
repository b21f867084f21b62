"""The one service layer every edge calls: parse nothing, authorize, decide, commit, apply, publish.

HTTP handlers and Socket.IO handlers both call these methods, so a rule or a permission exists in
exactly one place. Each change runs under one lock and one transaction: the engine decides the
events, the store writes them with their projections, the in-memory state applies them, and only
after the commit are they handed to listeners (screens, voice, forwarding).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

import msgspec

from hub import presenters, reports, shapes
from hub.auth import (
    DEVICE_ROLES,
    DUMMY_HASH,
    OFFICE_ROLES,
    STAFF_ROLES,
    Principal,
    RateLimiter,
    Role,
    verify_password,
)
from hub.clock import Clock, system_clock
from hub.config import ConfigError, HallConfig
from hub.engine import (
    DomainError,
    HallState,
    Invalid,
    NotFound,
    QueueEngine,
    apply,
    new_state,
    queries,
)
from hub.engine.model import (
    SLIP_STATUS_LABELS,
    Channel,
    Clerk,
    ClerkSignedOut,
    ConfigReloaded,
    DayRolled,
    Event,
    JointPartDone,
    ReturnDecided,
    SlipStatus,
    SlipStatusChanged,
    Ticket,
    TicketFinished,
    TicketStatus,
)
from hub.reload import blockers, describe, parse_text
from hub.reload import config_hash as hash_text
from hub.reload import diff as config_diff
from hub.store.accounts import Accounts
from hub.store.audit import AuditEntry, AuditLog
from hub.store.database import Database, Tx
from hub.store.forwarding import Outbox, forwarding_status
from hub.store.hall_config import HallConfigs
from hub.store.store import SNAPSHOT_EVERY, Record, Store

log = logging.getLogger(__name__)

Listener = Callable[[list[Record]], None]
WINDOW_ACTIONS = (
    "call-next",
    "call",
    "recall",
    "skip",
    "transfer",
    "pause",
    "resume",
    "finish",
    "request-rating",
)
SESSION_TTL = dt.timedelta(hours=12)


class Inbox(msgspec.Struct, frozen=True):
    """A device event's id, and how to describe what its commit did (kept for repeats)."""

    id: str
    error: dict[str, str] | None = None  # a refusal, remembered so a repeat gets the same one

    def result(self, records: list[Record]) -> dict[str, Any]:
        if self.error is not None:
            return {"ok": False, "error": self.error}
        return {"ok": True, "seqs": [r.seq for r in records]}


class AlreadyHandled(Exception):
    """A device event whose id was handled before; `answer` is what was answered then."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        super().__init__("already handled")


class Forbidden(DomainError):
    kind = "forbidden"


class Unauthorized(DomainError):
    kind = "unauthorized"


class ConfigRefused(DomainError):
    """A hall file that would break today's tickets or clerks (hub/reload.py), or not written."""


class TooManyAttempts(DomainError):
    kind = "rate_limited"

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(
            "too_many_attempts",
            f"登录失败次数过多，请{int(retry_after_s) + 1}秒后再试",
            f"too many failed sign-ins: retry in {int(retry_after_s) + 1} s",
        )


Offload = Callable[..., Any]


def _inline(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


class HallService:
    def __init__(
        self,
        cfg: HallConfig,
        db: Database,
        clock: Clock = system_clock,
        login_limiter: RateLimiter | None = None,
        offload: Offload = _inline,
    ) -> None:
        self.cfg = cfg
        # The running hall file's hash (hub/reload.py): set by the hub's entry point from the
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
        # (hash, text, source) of the reload being committed: `_commit` stores the text with
        # its config.reloaded event, in the same transaction.
        self._reload_text: tuple[str, str, str] | None = None
        self.clock = clock
        self.limiter = login_limiter or RateLimiter()
        self._lock = threading.RLock()
        self._listeners: list[Listener] = []
        self._session_listeners: list[Callable[[list[str]], None]] = []
        self._move_listeners: list[Callable[[str, int, int, list[str]], None]] = []
        self.state = self._load_state()

    # --- state and commits --------------------------------------------------------------

    def _load_state(self) -> HallState:
        state = self.store.latest_snapshot()
        if state is None:
            state = new_state(self.cfg, self.clock())
            first_day = self.store.first_day()
            if first_day is not None:  # replay from the log's first day, not the clock's
                state.day = first_day
        for record in self.store.records_after(state.seq, limit=10**9):
            apply(state, record.event, record.seq)
        for w in self.cfg.windows:  # windows added to the config since the snapshot
            state.windows.setdefault(w.no, new_state(self.cfg, self.clock()).windows[w.no])
        log.info(
            "state loaded at event %d, day %s, %d tickets", state.seq, state.day, len(state.tickets)
        )
        return state

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def on_sessions_ended(self, listener: Callable[[list[str]], None]) -> None:
        self._session_listeners.append(listener)

    def catch_up(self) -> None:
        """Apply the events other hubs on the same PostgreSQL store committed (issue 9).

        A change always catches up inside its transaction (`_commit`); reads that answer from
        the in-memory state (screen snapshots, a ticket, the kiosk's tiles) call this first, so
        a hub that was idle answers with what another hub did a moment ago. One indexed query,
        nothing to apply most of the time; nothing at all on SQLite (one hub per file). The
        events are only applied, never published: the hub that committed them has emitted them
        to every hub's clients through the Socket.IO message queue (Redis), so a screen sees
        each event once. Polling on read rather than LISTEN/NOTIFY: no extra connection or
        green thread, and a read can never be answered from a state older than its request.
        Another hub's `config.reloaded` also swaps in the hall file it stored (see
        `_follow_stored_config`), so this hub answers with the hall's current rules."""
        if not self.db.shared:
            return
        with self._lock:
            reloaded = False
            for record in self.store.records_after(self.state.seq, limit=10**9):
                apply(self.state, record.event, record.seq)
                reloaded = reloaded or isinstance(record.event, ConfigReloaded)
            if reloaded:
                self._follow_stored_config()

    def _follow_stored_config(self, tx: Tx | None = None) -> None:
        """Run on the hall file the store says the hall runs on (its newest `hall_config`),
        after applying another hub's `config.reloaded`: each hub has its own copy of the file,
        and a reload made on one hub must change the rules of all of them, or two hubs decide
        with different rules. Called before anything is decided on the caught-up state.

        Nothing to do when the hash is the one this hub runs (the hub that made the reload
        swapped already, and never catches up on its own events). Only swapped here, never
        published: the hub that committed the event emitted it to every hub's screens through
        Redis, once. A text this hub cannot load (another version of Onestop?) is logged and
        the hub runs on unchanged rather than stop the hall."""
        stored = self.configs.current(tx)
        if stored is None:
            log.warning("the hall file was reloaded by another hub, but the store holds no "
                        "text of it: this hub runs on its own (hash %s)", self.config_hash)
            return
        if stored.hash == self.config_hash:
            return
        try:
            cfg = self.parse(stored.toml)
        except ConfigError as err:
            log.error("the hall file another hub reloaded (hash %s) does not load here, this "
                      "hub runs on hash %s: %s", stored.hash, self.config_hash, err)
            return
        summary = config_diff(self.cfg, cfg)
        self._swap_config(cfg, stored.hash)
        log.info("hall file reloaded by another hub (%s, hash %s): %s", stored.source,
                 stored.hash, describe(summary))

    def adopt_hall_file(
        self, text: str, parse: Callable[[str], HallConfig] | None = None
    ) -> None:
        """At start (hub.reload.start_watching): make the store and this hub agree on the hall
        file, so the store's `hall_config` always says what the hall runs on.

        A store with no config yet records this hub's file. On a shared store (PostgreSQL,
        several hubs) whose current config differs from this hub's file, the store wins, with
        a warning: the other hubs run it, and the hall must run one config (a hub whose copy
        of the file is stale, or was edited while it was stopped; apply an edit through
        `onestop reload` or the admin page, which check it against the live hall). On SQLite
        (one hub per store) the file wins as it always did, and is recorded as the current
        one: editing the file and restarting the hub is how a single hall changes it."""
        if parse is not None:
            self.parse = parse
        file_hash = hash_text(text)
        with self._lock:
            with self.db.transaction() as tx:
                stored = self.configs.current(tx)
                if stored is None or (stored.hash != file_hash and not self.db.shared):
                    last = tx.execute("SELECT MAX(seq) FROM events").fetchone()[0] or 0
                    self.configs.save(tx, last, file_hash, text, "start", self.clock())
            self.config_hash = file_hash
            if stored is None or stored.hash == file_hash or not self.db.shared:
                return
            try:
                cfg = self.parse(stored.toml)
            except ConfigError as err:
                raise ConfigError(
                    f"hall_config in the store (hash {stored.hash})", "",
                    f"the hall's current config does not load on this hub: {err.reason}",
                ) from err
            log.warning(
                "this hub's hall file (hash %s) differs from the one the hall runs on (hash %s, "
                "%s at %s): running the store's. Apply a change with `onestop reload` or the "
                "admin page.", file_hash, stored.hash, stored.source, stored.at)
            self._swap_config(cfg, stored.hash)

    def on_clerk_moved(self, listener: Callable[[str, int, int, list[str]], None]) -> None:
        """`listener(username, from_window, to_window, session_hashes)` after a supervisor
        moved a clerk: the clerk's panel sockets follow them to the new window's room."""
        self._move_listeners.append(listener)

    def execute(
        self,
        who: Principal | None,
        decide: Callable[[HallState, dt.datetime], list[Event]],
        addr: str = "",
        inbox: Inbox | None = None,
        action: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> list[Record]:
        """Decide, commit and apply one change; publish its events after the commit.

        A staff member's change is audited (`action`, `detail`; hub/store/audit.py) in its own
        transaction; a refusal is audited too, in a transaction of its own.

        `inbox` records a device event's id (and the answer given) in the same transaction, so
        a re-sent keypad press is recognised and never counted twice (AlreadyHandled).

        Publishing happens under the lock too: listeners see events in commit order, whatever
        the async mode (with threads, two commands could otherwise publish swapped).
        """
        with self._lock:
            if inbox is not None and (seen := self.store.inbox_result(inbox.id)) is not None:
                raise AlreadyHandled(seen)
            records: list[Record] = []
            try:
                now = self.clock()
                if self.engine.local(now).date() > self.state.day:  # else nothing to roll
                    records += self._commit(self.engine.rollover, now, None, addr)
                records += self._commit(decide, now, who, addr, inbox, action, detail)
            except DomainError as err:
                if who is not None and who.role in STAFF_ROLES:
                    self._audit_alone(who.name, who.role, who.window, addr,
                                      action or "refused", detail, err)
                raise
            finally:  # a rollover committed before a refused command is published all the same
                if records:
                    self._publish(records)
        return records

    def _commit(
        self,
        decide: Callable[[HallState, dt.datetime], list[Event]],
        now: dt.datetime,
        who: Principal | None,
        addr: str,
        inbox: Inbox | None = None,
        action: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> list[Record]:
        """One transaction: catch up with what other hubs committed, decide on that state,
        append the events with their projections, apply them. Nothing if nothing happened.
        A staff member's command also appends its audit record here, so the record and the
        change commit together or not at all (even a command that changed nothing is audited)."""
        actor = who.actor if who else "system"
        audited = who is not None and who.role in STAFF_ROLES
        try:
            with self.db.transaction() as tx:
                reloaded = False
                for record in self.store.records_after_tx(tx, self.state.seq):
                    apply(self.state, record.event, record.seq)  # another hub's commits
                    reloaded = reloaded or isinstance(record.event, ConfigReloaded)
                if reloaded:  # another hub changed the hall file: decide with the new one
                    self._follow_stored_config(tx)
                events = decide(self.state, now)
                if not events and inbox is None and not audited:
                    return []
                records = self.store.append(tx, events, self.state.day, actor, addr)
                if audited and who is not None:
                    self.audit.append(tx, AuditEntry(
                        at=now, account=who.name, role=who.role.value, window_no=who.window,
                        addr=addr, action=action or ",".join(r.type for r in records) or "none",
                        detail=detail or {}, event_seqs=tuple(r.seq for r in records)))
                if inbox is not None:
                    self.store.save_inbox(tx, inbox.id, actor, inbox.result(records), self.clock())
                touched: dict[str, Ticket | None] = {}
                for record in records:
                    if isinstance(record.event, DayRolled):
                        # Expired tickets leave the state with their day: keep them to save
                        # their final form (apply updates these very objects).
                        touched.update((t, self.state.tickets.get(t)) for t in record.event.expired)
                    apply(self.state, record.event, record.seq)
                    if record.event.ticket:
                        touched.setdefault(record.event.ticket, None)
                    if isinstance(record.event, TicketFinished) and record.event.outcome.slip:
                        self.store.save_slip(tx, record.event)
                    elif isinstance(record.event, JointPartDone):
                        self.store.save_part_done(tx, record.event)
                    elif isinstance(record.event, SlipStatusChanged):
                        self.store.save_slip_status(tx, record.event)
                    elif (isinstance(record.event, ConfigReloaded) and self._reload_text
                          and self._reload_text[0] == record.event.hash):
                        # The text with its event: another hub that applies the event finds it.
                        new_hash, text, source = self._reload_text
                        self.configs.save(tx, record.seq, new_hash, text, source, now)
                tickets = [self.state.tickets.get(t) or gone for t, gone in touched.items()]
                self.store.save_tickets(tx, [t for t in tickets if t is not None])
                crossed = (
                    self.state.seq // SNAPSHOT_EVERY
                    != (self.state.seq - len(records)) // SNAPSHOT_EVERY
                )
                if records and (crossed or any(isinstance(r.event, DayRolled) for r in records)):
                    self.store.save_snapshot(tx, self.state, records[-1].at)
        except DomainError:
            raise
        except Exception:
            log.exception("commit failed; reloading the state from the store")
            self.state = self._load_state()
            if self.db.shared:  # the replay may hold another hub's reload not yet followed
                try:
                    self._follow_stored_config()
                except Exception:
                    log.exception("could not read the hall's current config from the store")
            raise
        return records

    def _publish(self, records: list[Record]) -> None:
        for listener in self._listeners:
            try:
                listener(records)
            except Exception:  # a broken listener must not undo or block a committed change
                log.exception("event listener %r failed", listener)

    def _audit_alone(
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
            with self._lock, self.db.transaction() as tx:
                self.audit.append(tx, entry)
        except Exception:
            log.exception("could not write the audit record of %s by %s", action, account)

    def tick(self) -> list[Record]:
        """Housekeeping: roll the day over at midnight, end ratings nobody gave in time, and
        check the supervision rules (alerts raised and cleared)."""
        today = self.engine.local(self.clock()).date()
        overdue = self.store.overdue_slips(today) if self.cfg.supervision.slip_overdue else []

        def decide(state: HallState, now: dt.datetime) -> list[Event]:
            return [*self.engine.expire_ratings(state, now),
                    *self.engine.check_alerts(state, now, overdue)]

        records = self.execute(None, decide)
        for record in records:
            if isinstance(record.event, DayRolled):
                self._sum_up_yesterday(record.event.day)
        return records

    def next_rating_deadline(self) -> dt.datetime | None:
        """When the next rating the hub ends itself runs out (hub/web/app.py sleeps until then)."""
        with self._lock:
            return self.engine.next_rating_deadline(self.state)

    def expire_ratings(self) -> list[Record]:
        """End the ratings whose deadline passed at windows without a keypad (on time: the
        edge calls this at the deadline, not at the next housekeeping tick)."""
        return self.execute(None, self.engine.expire_ratings)

    def _sum_up_yesterday(self, today: dt.date) -> None:
        """At day end, sum the day just closed into the report tables (a fraction of a second),
        so the office's first report of it does not pay for it. A failure only costs speed:
        the report sums the day up itself."""
        yesterday = today - dt.timedelta(days=1)
        try:
            with self._lock:
                reports.settle(self.db, self.cfg, yesterday, yesterday, today, self.clock())
        except Exception:
            log.exception("could not sum up %s for the reports", yesterday)

    def reload(
        self,
        who: Principal | None,
        new_cfg: HallConfig,
        source: str,
        new_hash: str,
        *,
        by: str | None = None,
        addr: str = "",
        before_swap: Callable[[], None] | None = None,
        text: str | None = None,
    ) -> dict[str, Any]:
        """Swap in a changed hall file while the hall runs (art. 6, 动态管理; issue 8).

        Under the lock and on the state the commit sees: refuse (ConfigRefused, nothing
        changed) if tickets or clerks of today stand in the way (`hub.reload.blockers`), else
        run `before_swap` (the admin page writes the file there, so the file is written only
        when the change applies), swap the config wherever it is read, and commit
        `config.reloaded`, which every page reloads on. Audited as `reload-config`.

        `text` (the file's text) is stored with the event, in its transaction (`hall_config`):
        other hubs on the same store swap it in when they apply the event. Without it they
        cannot follow (only tests leave it out).
        """
        if who is not None:
            self.require(who, Role.ADMIN)
        with self._lock:
            self.catch_up()  # compare with the hall's config, were it changed on another hub
            old, old_hash = self.cfg, self.config_hash
            summary = config_diff(old, new_cfg)
            def write() -> None:
                try:
                    if before_swap is not None:
                        before_swap()
                except OSError as err:
                    raise ConfigRefused("config_not_written", f"无法写入配置文件：{err}",
                                        f"cannot write the hall file: {err}") from err

            if new_hash == old_hash or not summary:
                # The same hall (only comments or layout changed): nothing for pages to reload.
                if new_hash != old_hash:
                    write()
                    if who is not None:  # the file changed: on record, though no event
                        self._audit_alone(who.name, who.role, who.window, addr, "reload-config",
                                          {"source": source, "hash": new_hash, "changes": {}})
                    if text is not None:  # the store says what the hall runs on, to the byte
                        with self.db.transaction() as tx:
                            self.configs.save(tx, self.state.seq, new_hash, text, source,
                                              self.clock())
                self.config_hash = new_hash
                return {"applied": False, "hash": new_hash, "summary": {}, "text": "no change"}

            def decide(state: HallState, now: dt.datetime) -> list[Event]:
                if self.cfg is not old:  # another hub reloaded since `catch_up` above
                    raise ConfigRefused(
                        "config_changed", "配置刚被其他服务器修改，请重新检查后再提交",
                        "the hall file was just changed on another hub: check again")
                found = blockers(old, new_cfg, state)
                if found:
                    raise ConfigRefused(
                        "config_refused", "；".join(zh for zh, _ in found),
                        "; ".join(en for _, en in found))
                write()
                self._swap_config(new_cfg, new_hash)
                return [ConfigReloaded(at=now, hash=new_hash, summary=summary,
                                       by=by or (who.name if who else "system"), source=source)]

            self._reload_text = (new_hash, text, source) if text is not None else None
            try:
                self.execute(who, decide, addr, action="reload-config",
                             detail={"source": source, "hash": new_hash, "changes": summary})
            except BaseException:
                if self.cfg is new_cfg:  # the commit failed after the swap: back to the old
                    self._swap_config(old, old_hash)
                raise
            finally:
                self._reload_text = None
        log.info("hall file reloaded (%s, by %s): %s", source, by or (who.name if who else "-"),
                 describe(summary))
        return {"applied": True, "hash": new_hash, "summary": summary, "text": describe(summary)}

    def _swap_config(self, cfg: HallConfig, config_hash: str) -> None:
        """Everything reads the config through the service (`service.cfg`) or the engine at
        use time, so these two assignments are the whole swap. Windows new to the hall get
        their (closed) state at once, as at start."""
        self.cfg, self.config_hash = cfg, config_hash
        self.engine.cfg = cfg
        for w in cfg.windows:
            self.state.windows.setdefault(w.no, new_state(cfg, self.clock()).windows[w.no])

    def forwarding_status(self) -> dict[str, Any] | None:
        """How far the forwarder (`onestop forward`, its own process) has got, read from the
        store: None when this hall has no backend configured."""
        if not self.cfg.backend.url:
            return None
        return forwarding_status(self.db)

    def alerts(self, who: Principal) -> list[dict]:
        """The supervision alerts holding now (电子监察), oldest first."""
        self.require(who, *OFFICE_ROLES)
        with self._lock:
            found = sorted(self.state.alerts.values(), key=lambda a: (a.since, a.key))
            return [msgspec.to_builtins(a) for a in found]

    # --- authorization ------------------------------------------------------------------

    def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise Unauthorized("unauthorized", "需要登录或设备令牌", "a bearer token is required")
        who = self.accounts.principal(token.strip(), self.clock())
        if who is None:
            raise Unauthorized("unauthorized", "令牌无效或已过期", "invalid or expired token")
        return who

    @staticmethod
    def require(who: Principal, *roles: Role) -> None:
        if who.role not in roles:
            raise Forbidden(
                "forbidden",
                "无权执行此操作",
                f"role {who.role.value} may not do this (needs {'/'.join(roles)})",
            )

    def _at_window(self, who: Principal, no: int) -> None:
        """A clerk acts only at the window they signed in at (art. 21)."""
        self.require(who, Role.CLERK)
        if who.window != no:
            raise Forbidden(
                "wrong_window",
                f"您登录的是{who.window}号窗口",
                f"you are signed in at window {who.window}, not {no}",
            )
        win = self.state.windows.get(no)
        if win is None or win.clerk is None or win.clerk.username != who.name:
            raise Forbidden(
                "not_signed_in",
                "您已不在该窗口登录，请重新登录",
                "you are no longer signed in at this window: sign in again",
            )

    # --- sign-in ------------------------------------------------------------------------

    def login(self, username: str, password: str, window: int | None, addr: str = "") -> dict:
        """Sign in; every attempt is audited, a failed one under the username tried."""
        try:
            result = self._login(username, password, window, addr)
        except DomainError as err:
            self._audit_alone(username, None, window, addr, "sign-in", {"window": window}, err)
            raise
        if result["role"] != Role.CLERK:  # a clerk's sign-in was audited with its event
            self._audit_alone(username, Role(result["role"]), None, addr, "sign-in")
        return result

    def _login(self, username: str, password: str, window: int | None, addr: str) -> dict:
        for key in (f"user:{username}", f"addr:{addr}"):
            wait = self.limiter.retry_after(key)
            if wait > 0:
                raise TooManyAttempts(wait)
        user = self.accounts.user(username)
        ok = self.offload(verify_password, password, user["password_hash"] if user else DUMMY_HASH)
        if not (ok and user and user["active"]):
            self.limiter.fail(f"user:{username}")
            self.limiter.fail(f"addr:{addr}")
            raise Unauthorized("bad_credentials", "用户名或密码错误", "wrong username or password")
        role = Role(user["role"])
        if role is Role.CLERK:
            if window is None:
                raise Invalid("invalid", "请选择窗口", "a clerk signs in at a window")
            if not self.cfg.has_window(window):
                raise NotFound("unknown_window", f"无{window}号窗口", f"no window {window}")
        else:
            window = None
        self.limiter.succeed(f"user:{username}")
        who = Principal(
            role=role,
            name=username,
            window=window,
            display_name=user["name"],
            staff_no=user["staff_no"],
        )
        if role is Role.CLERK:
            # The window first: if the rules refuse the sign-in, the clerk's session elsewhere
            # must go on working.
            clerk = Clerk(username=username, name=user["name"], staff_no=user["staff_no"])
            self.execute(who, lambda s, now: self.engine.sign_in(s, now, window, clerk), addr,
                         action="sign-in", detail={"window": window})
        token, ended = self.accounts.open_session(user, window, self.clock(), SESSION_TTL)
        for listener in self._session_listeners:
            listener(ended)
        return {
            "token": token,
            "role": role.value,
            "username": username,
            "name": user["name"],
            "staff_no": user["staff_no"],
            "window": window,
            "expires_in_s": int(SESSION_TTL.total_seconds()),
        }

    def sign_in_refused(self, username: str, addr: str, err: DomainError) -> None:
        """A sign-in refused before it was tried (its body has no valid shape, e.g. a window
        number past any window): on record like every failed sign-in."""
        self._audit_alone(username, None, None, addr, "sign-in", {}, err)

    def logout(self, who: Principal, addr: str = "") -> None:
        """End a staff session. A device token is no session: it stays valid until revoked
        (`onestop token revoke`), so signing it out is refused rather than answered with a
        204 that would drop its sockets and leave the token working."""
        if who.role in DEVICE_ROLES:
            raise Forbidden(
                "device_token", "设备令牌无法退出登录，请用 onestop token revoke 吊销",
                "a device token has no session to end: revoke it with `onestop token revoke "
                f"--role {who.role.value} --name NAME`")
        at_window = False
        if who.role is Role.CLERK and who.window is not None:
            win = self.state.windows.get(who.window)
            if win and win.clerk and win.clerk.username == who.name:
                at_window = True
                self.execute(who, lambda s, now: self.engine.sign_out(s, now, who.window), addr,
                             action="sign-out")
        if not at_window and who.role in STAFF_ROLES:
            self._audit_alone(who.name, who.role, who.window, addr, "sign-out")
        self.accounts.close_session(who.token_hash, self.clock())
        for listener in self._session_listeners:
            listener([who.token_hash])

    # --- kiosk --------------------------------------------------------------------------

    def issue_ticket(
        self,
        who: Principal,
        service: str,
        channel: str = "normal",
        reference: str | None = None,
        addr: str = "",
        request_id: str | None = None,
    ) -> dict:
        """Issue a ticket. `request_id` makes it idempotent: the same id from the same kiosk
        (a double tap, or a re-sent request after a lost answer) gets the same ticket back,
        even across a hub restart, because the id is recorded in the issuing transaction."""
        self.require(who, Role.KIOSK, *OFFICE_ROLES)
        try:
            chan = Channel(channel)
        except ValueError:
            raise Invalid(
                "invalid",
                "取号渠道无效",
                f"channel must be one of {', '.join(c.value for c in Channel)}",
            ) from None
        inbox = None
        if request_id is not None:
            if not (0 < len(request_id) <= 64 and request_id.isascii()
                    and request_id.isprintable()):
                raise Invalid("invalid", "请求编号格式错误", "request_id is 1-64 ASCII characters")
            inbox = Inbox(f"issue:{who.actor}:{request_id}")
        try:
            records = self.execute(
                who, lambda s, now: self.engine.issue_ticket(s, now, service, chan, reference),
                addr, inbox,
            )
            ticket_id, repeated = records[-1].event.ticket, False
        except AlreadyHandled as seen:
            first = seen.answer["seqs"][0]
            ticket_id = self.store.records_after(first - 1, limit=1)[0].event.ticket
            repeated = True
        view = self.ticket(who, ticket_id)  # type: ignore[arg-type]
        view["repeated"] = repeated
        with self._lock:
            found = self.state.tickets.get(ticket_id)  # type: ignore[arg-type]
            view["estimated_wait_minutes"] = (
                queries.estimated_wait_minutes(self.cfg, self.state, found) if found else 0
            )
        return view

    def file_complaint(self, who: Principal, data: shapes.Complaint | dict[str, Any],
                       addr: str = "") -> dict:
        """A complaint or suggestion from a kiosk (art. 27); its number is the receipt."""
        self.require(who, Role.KIOSK, *OFFICE_ROLES)
        if isinstance(data, dict):
            data = shapes.convert(data, shapes.Complaint)
        category = _given(data.category, "category", required=True) or ""
        text = _given(data.text, "text", required=True) or ""
        records = self.execute(
            who,
            lambda s, now: self.engine.file_complaint(
                s, now, category, text, window=data.window,
                staff_no=_given(data.staff_no, "staff_no"), phone=_given(data.phone, "phone"),
            ),
            addr,
        )
        return {"id": records[-1].event.complaint_id}  # type: ignore[attr-defined]

    def kiosk_status(self, catch_up: bool = True) -> dict:
        """What a kiosk's tiles show: waiting counts, suspended items, windows open per item.

        `catch_up=False` right after this hub's own commit (its state is then the store's):
        spares a PostgreSQL round trip per commit."""
        if catch_up:
            self.catch_up()
        with self._lock:
            return {
                "seq": self.state.seq,  # hubs of a pair push in any order: the newest wins
                "waiting": queries.waiting_counts(self.state),
                "closed_services": dict(self.state.closed_services),
                "open_windows": queries.open_windows(self.cfg, self.state),
            }

    def ticket(self, who: Principal, ticket_id: str) -> dict:
        """One ticket; devices (kiosk, screen, agent) get it without what is the office's."""
        self.catch_up()
        with self._lock:
            found = self.state.tickets.get(ticket_id)
            if found is not None:
                view = presenters.ticket_view(self.cfg, self.state, found)
        if found is None:
            stored = self.store.ticket(ticket_id)
            if stored is None:
                raise NotFound("no_ticket", "无此号", f"no ticket {ticket_id!r}")
            view = presenters.ticket_view(self.cfg, None, stored)
        return presenters.redacted(view) if who.role in DEVICE_ROLES else view

    # --- window actions -----------------------------------------------------------------

    def window_action(
        self,
        who: Principal,
        no: int,
        action: str,
        args: shapes.WindowAction | dict[str, Any],
        addr: str = "",
        agent_windows: frozenset[int] = frozenset(),
        inbox: Inbox | None = None,
    ) -> dict:
        """call-next, call, recall, … at window `no`: by its clerk, or by its caller keypad.

        A device agent acts only for the windows its devices serve, and the engine refuses any
        window action while no clerk is signed in there. `args` comes decoded from the edge
        (hub/shapes.py); the keypad's, built by the hub, is converted alike.
        """
        if isinstance(args, dict):
            args = shapes.convert(args, shapes.WindowAction)
        if who.role is Role.AGENT and no not in agent_windows:
            raise Forbidden(
                "wrong_window",
                f"该设备不属于{no}号窗口",
                f"this agent has no device at window {no}",
            )
        decider = self._window_decider(no, action, args)

        def decide(state: HallState, now: dt.datetime) -> list[Event]:
            if who.role is not Role.AGENT:
                self._at_window(who, no)  # under the lock: nobody signs in between
            return decider(state, now)

        records = self.execute(who, decide, addr, inbox, action=action, detail=args.given())
        with self._lock:
            view = presenters.window_view(self.cfg, self.state, self.state.windows[no])
        view["events"] = [r.public() for r in records]
        return view

    def _window_decider(self, no: int, action: str, a: shapes.WindowAction) -> Callable:
        e = self.engine
        deciders: dict[str, Callable[[HallState, dt.datetime], list[Event]]] = {
            "call-next": lambda s, now: e.call_next(s, now, no),
            "call": lambda s, now: e.call_number(
                s, now, no, _given(a.number, "number", required=True)),
            "recall": lambda s, now: e.recall(s, now, no),
            "skip": lambda s, now: e.skip(s, now, no),
            "transfer": lambda s, now: e.transfer(
                s,
                now,
                no,
                service=_given(a.service, "service"),
                to_window=a.window,
                reason=_given(a.reason, "reason") or "",
            ),
            "pause": lambda s, now: e.pause(s, now, no, _given(a.reason, "reason", required=True)),
            "resume": lambda s, now: e.resume(s, now, no),
            "finish": lambda s, now: e.finish(s, now, no, **_finish_args(a)),
            "request-rating": lambda s, now: e.request_rating(s, now, no),
        }
        if action not in deciders:
            raise NotFound("unknown_action", "无此操作", f"no window action {action!r}")
        return deciders[action]

    # --- office -------------------------------------------------------------------------

    def decide_return(
        self, who: Principal, ticket_id: str, approve: bool, note: str = "", addr: str = ""
    ) -> dict:
        self.require(who, *OFFICE_ROLES)
        records = self.execute(
            who,
            lambda s, now: self.engine.decide_return(
                s, now, ticket_id, approve=approve, supervisor=who.name, note=note
            ),
            addr,
            action="approve-return" if approve else "refuse-return",
            detail={"ticket": ticket_id, "note": note},
        )
        decided = next(r for r in records if isinstance(r.event, ReturnDecided))
        return decided.public()

    def grant_green_pass(
        self, who: Principal, code: str, project: str, service: str | None = None, addr: str = ""
    ) -> dict:
        self.require(who, *OFFICE_ROLES)
        records = self.execute(
            who,
            lambda s, now: self.engine.grant_green_pass(s, now, code, project, who.name, service),
            addr,
            action="grant-green-pass",
            detail={"code": code, "project": project, "service": service},
        )
        return records[-1].public()

    def book_appointment(
        self, who: Principal, code: str, service: str, day: dt.date, addr: str = ""
    ) -> dict:
        self.require(who, *OFFICE_ROLES)
        records = self.execute(
            who, lambda s, now: self.engine.book_appointment(s, now, code, service, day), addr,
            action="book-appointment", detail={"code": code, "service": service,
                                               "day": day.isoformat()},
        )
        return records[-1].public()

    def add_rating_reason(
        self, who: Principal, ticket_id: str, reason: str, addr: str = ""
    ) -> dict:
        """The reason for a 差评, given later at the kiosk or recorded by the office."""
        self.require(who, Role.KIOSK, *OFFICE_ROLES)
        source = "kiosk" if who.role is Role.KIOSK else "office"
        records = self.execute(
            who,
            lambda s, now: self.engine.add_rating_reason(s, now, ticket_id, reason, source),
            addr,
        )
        return records[-1].public()

    def set_notice(self, who: Principal, text: str, text_en: str = "", addr: str = "") -> dict:
        """The scrolling line on every screen, set live by the office (empty: the hall file's)."""
        self.require(who, *OFFICE_ROLES)
        records = self.execute(
            who, lambda s, now: self.engine.set_notice(s, now, text, text_en, who.name), addr,
            action="set-notice", detail={"text": text, "text_en": text_en})
        return records[-1].public()

    def close_service(self, who: Principal, service: str, reason: str, addr: str = "") -> dict:
        """Suspend an item (its system is down, its staff are away): kiosks refuse tickets for
        it with `service_closed` and show the reason, until the office reopens it."""
        self.require(who, *OFFICE_ROLES)
        records = self.execute(
            who, lambda s, now: self.engine.close_service(s, now, service, reason), addr,
            action="close-service", detail={"service": service, "reason": reason})
        return records[-1].public()

    def reopen_service(self, who: Principal, service: str, addr: str = "") -> dict:
        """Take tickets for a suspended item again."""
        self.require(who, *OFFICE_ROLES)
        records = self.execute(
            who, lambda s, now: self.engine.reopen_service(s, now, service), addr,
            action="reopen-service", detail={"service": service})
        return records[-1].public()

    def move_clerk(self, who: Principal, username: str, to_window: int, addr: str = "") -> dict:
        """Move a signed-in clerk to a free window without signing them out of their panel.

        The events and the session's new window are written under the one lock, and the
        move listeners run under it too, so the clerk's token never acts for the old window
        after the move and their panel joins the new window's room before its next event.
        """
        self.require(who, *OFFICE_ROLES)
        with self._lock:
            records = self.execute(
                who, lambda s, now: self.engine.move_clerk(s, now, username, to_window), addr,
                action="move-clerk", detail={"clerk": username, "window": to_window})
            moved = self.accounts.move_sessions(username, to_window, self.clock())
            from_window = next(
                r.event.window_no for r in records
                if isinstance(r.event, ClerkSignedOut) and r.event.reason == "moved"
            )
            for listener in self._move_listeners:
                try:
                    listener(username, from_window, to_window, moved)
                except Exception:  # the move is committed: a broken listener must not undo it
                    log.exception("clerk-moved listener %r failed", listener)
        return {"username": username, "from_window": from_window, "window": to_window,
                "events": [r.public() for r in records]}

    def totals(self, who: Principal) -> dict:
        """Today's counts for the office's monitor (issued, served, ratings, ...)."""
        self.require(who, *OFFICE_ROLES)
        return self.current_totals()

    def current_totals(self) -> dict:
        """`totals` for the hub's own push to the office's monitors (a pass over today's
        tickets: a few ms on a busy day, so pushed at most a few times a second)."""
        self.catch_up()
        with self._lock:
            return presenters.totals(self.state)

    def set_slip_status(self, who: Principal, number: str, status: str, addr: str = "") -> dict:
        """A clerk (signed in anywhere) or the office moves a 承诺单 on; the kiosk shows it."""
        self.require(who, Role.CLERK, *OFFICE_ROLES)

        def decide(state: HallState, now: dt.datetime) -> list[Event]:
            found = self.store.slip(number)  # read inside the commit's transaction, under the lock
            current = (found["ticket_id"], found["status"]) if found else None
            return self.engine.slip_status(state, now, number, current, status, who.name)

        self.execute(who, decide, addr, action="set-slip-status",
                     detail={"slip": number, "status": status})
        return self.slip(who, number)

    def part_done(self, who: Principal, number: str, department: str | None = None,
                  addr: str = "") -> dict:
        """A joint department's part of a 联办件 is done. A clerk acts for the department of the
        window they are signed in at; the office names the department."""
        department = self._joint_department(who, department)

        def decide(state: HallState, now: dt.datetime) -> list[Event]:
            found = self.store.slip(number)
            current = None
            if found is not None:
                current = (found["ticket_id"], found["status"], self.store.slip_parts(number))
            return self.engine.part_done(state, now, number, current, department, who.name)

        self.execute(who, decide, addr, action="part-done",
                     detail={"slip": number, "department": department})
        return self.slip(who, number)

    def _joint_department(self, who: Principal, department: str | None) -> str:
        """Whose part of a 联办件 `who` acts on: a clerk, their window's department only; the
        office, the department it names."""
        self.require(who, Role.CLERK, *OFFICE_ROLES)
        if who.role is Role.CLERK:
            if who.window is None:
                raise Forbidden("not_at_window", "请先在窗口登录", "sign in at a window first")
            own = self.cfg.window(who.window).department
            if department not in (None, own):
                raise Forbidden("wrong_department", "只能处理本部门的联办件",
                                "a clerk acts on their own department's part only")
            return own
        if not department:
            raise Invalid("invalid", "请指定部门", "give a department")
        if department not in {d.code for d in self.cfg.departments}:
            raise NotFound("unknown_department", f"无此部门：{department}",
                           f"no department {department!r}")
        return department

    def joint_cases(self, who: Principal, department: str | None = None) -> list[dict]:
        """联办件 waiting for a department's part: the clerk's own department by default."""
        department = self._joint_department(who, department)
        return [self.slip(who, n) for n in self.store.joint_pending(department)]

    def slip(self, who: Principal, number: str) -> dict:
        """A slip as the kiosk shows it: status, promised date, item. Nothing about the citizen.
        Kiosks (the citizen's lookup), clerks and the office; not screens or agents."""
        self.require(who, Role.KIOSK, Role.CLERK, *OFFICE_ROLES)
        found = self.store.slip(number)
        if found is None:
            raise NotFound("no_slip", f"无此承诺单：{number}", f"no slip {number!r}")
        status = SlipStatus(found["status"])
        depts = {d.code for d in self.cfg.departments}
        svc = self.cfg.service(found["service"]) if self.cfg.has_service(found["service"]) else None
        zh, en = SLIP_STATUS_LABELS[status]
        return {
            "number": found["number"],
            "status": status.value,
            "status_name": zh,
            "status_name_en": en,
            "kind": found["kind"],
            "promised_date": found["promised_date"],
            "accepted_at": found["created_at"],
            "accepted_on": dt.datetime.fromisoformat(found["created_at"])
            .astimezone(self.cfg.zone).date().isoformat(),
            "service": found["service"],
            "service_name": svc.name if svc else found["service"],
            "service_name_en": svc.name_en if svc else "",
            "items": list(found["outcome"].get("items", [])),
            "departments": [
                {"code": code, "name": self.cfg.department(code).name if code in depts else code,
                 "name_en": self.cfg.department(code).name_en if code in depts else "",
                 "done": done}
                for code, done in self.store.slip_parts(number).items()
            ],
            "updated_at": found["updated_at"],
        }

    def devices(self, who: Principal) -> list[dict]:
        """Every device an agent reported, with its last state (online, offline, error)."""
        self.require(who, *OFFICE_ROLES)
        with self._lock:
            return [msgspec.to_builtins(d) for d in self.state.devices.values()]

    def dead_letters(self, who: Principal) -> dict[str, Any]:
        """Events the supervision backend refused (issue 7) and where the feed is, so the
        office can follow up; reads only committed rows, outside the hall's lock."""
        self.require(who, *OFFICE_ROLES)
        return {"dead_letters": Outbox(self.db).dead_letters(),
                "forwarding": forwarding_status(self.db)}

    def audit_records(
        self, who: Principal, account: str | None, since: dt.date | None, limit: int = 100
    ) -> list[dict]:
        """The latest audit records, oldest first (office only); `since` is a day of the hall."""
        self.require(who, *OFFICE_ROLES)
        start = None
        if since is not None:
            start = dt.datetime.combine(since, dt.time(), tzinfo=self.cfg.zone)
        return self.audit.records(account, start, max(1, min(limit, 1000)))

    def pending_returns(self, who: Principal) -> list[dict]:
        self.require(who, *OFFICE_ROLES)
        with self._lock:
            return [
                presenters.ticket_view(self.cfg, None, t)
                for t in self.state.tickets.values()
                if t.status is TicketStatus.RETURN_PENDING
            ]

    # --- reads --------------------------------------------------------------------------

    def services(self) -> list[dict]:
        return [presenters.service_view(self.cfg, s) for s in self.cfg.services]

    def snapshot(self, usernames: bool = False) -> dict:
        """The screens' snapshot; `usernames` adds each clerk's account name (the office's
        monitor moves clerks by it), read under the same lock so both agree."""
        self.catch_up()
        with self._lock:
            snap = presenters.public_snapshot(self.cfg, self.state)
            if usernames:
                for w in snap["windows"]:
                    win = self.state.windows.get(w["no"])
                    clerk = win.clerk if win is not None else None
                    if w["clerk"] is not None and clerk is not None:
                        w["clerk"]["username"] = clerk.username
            return snap


def _given(value: str | None, key: str, required: bool = False) -> str | None:
    """A text argument (its type and length checked by hub/shapes.py); blank is not given."""
    if value is None or not value.strip():
        if required:
            raise Invalid("invalid", f"缺少 {key}", f"{key!r} is required")
        return None
    return value


def _finish_args(a: shapes.WindowAction) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if a.outcome is not None:
        out["kind"] = a.outcome
    for key in ("items", "departments"):
        if getattr(a, key) is not None:
            out[key] = getattr(a, key)
    out["authority"] = _given(a.authority, "authority")
    out["reason"] = _given(a.reason, "reason")
    if a.reported_on is not None:
        out["reported_on"] = a.reported_on
    return out
