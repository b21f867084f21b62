"""The hall runs on one hall file: swapped in live (`reload`), agreed with the store at start
(`adopt`), and followed when another hub on the same store reloaded one (`follow_stored`).

These act on the live hall through `LiveHall`, the few parts of the service they need (its
lock, state, config and commit), so this package never imports the service: the service
imports it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from hub.auth import Principal, Role
from hub.clock import Clock
from hub.config import ConfigError, HallConfig
from hub.engine import DomainError, HallState, QueueEngine, new_state
from hub.engine.model import ConfigReloaded, Event
from hub.store.database import Database, Tx
from hub.store.hall_config import HallConfigs
from hub.store.store import Record

from .changes import blockers, describe, diff
from .text import config_hash

log = logging.getLogger(__name__)


class ConfigRefused(DomainError):
    """A hall file that would break today's tickets or clerks (`blockers`), or not written."""


class LiveHall(Protocol):
    """What the hall-file sync needs of the running hall (hub/service/core.py has it)."""

    cfg: HallConfig
    config_hash: str
    parse: Callable[[str], HallConfig]
    engine: QueueEngine
    state: HallState
    clock: Clock
    db: Database
    configs: HallConfigs
    # (hash, text, source) of the reload being committed: stored with its event.
    reload_text: tuple[str, str, str] | None

    @property
    def lock(self) -> AbstractContextManager[Any]: ...

    def catch_up(self) -> None: ...

    def execute(
        self,
        who: Principal | None,
        decide: Callable[[HallState, dt.datetime], list[Event]],
        addr: str = "",
        *,
        action: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> list[Record]: ...

    def audit_alone(
        self, account: str, role: Role | None, window: int | None, addr: str, action: str,
        detail: dict[str, Any] | None = None, refused: DomainError | None = None,
    ) -> None: ...

    @staticmethod
    def require(who: Principal, *roles: Role) -> None: ...


@dataclass(frozen=True)
class Proposal:
    """A hall file offered to run: the checked config, the text it came from, and who asks."""

    cfg: HallConfig
    hash: str
    source: str
    who: Principal | None
    by: str | None = None
    addr: str = ""
    text: str | None = None
    before_swap: Callable[[], None] | None = None

    def write(self) -> None:
        """Run `before_swap` (the admin page writes the file there): only when it applies."""
        try:
            if self.before_swap is not None:
                self.before_swap()
        except OSError as err:
            raise ConfigRefused("config_not_written", f"无法写入配置文件：{err}",
                                f"cannot write the hall file: {err}") from err

    @property
    def author(self) -> str:
        return self.by or (self.who.name if self.who else "system")


class HallFileSync:
    def __init__(self, hall: LiveHall) -> None:
        self.hall = hall

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
        """Swap in a changed hall file while the hall runs (art. 6, 动态管理).

        Under the lock and on the state the commit sees: refuse (ConfigRefused, nothing
        changed) if tickets or clerks of today stand in the way (`blockers`), else run
        `before_swap` (the admin page writes the file there, so the file is written only when
        the change applies), swap the config wherever it is read, and commit
        `config.reloaded`, which every page reloads on. Audited as `reload-config`.

        `text` (the file's text) is stored with the event, in its transaction (`hall_config`):
        other hubs on the same store swap it in when they apply the event. Without it they
        cannot follow (only tests leave it out).
        """
        hall = self.hall
        if who is not None:
            hall.require(who, Role.ADMIN)
        asked = Proposal(new_cfg, new_hash, source, who, by, addr, text, before_swap)
        with hall.lock:
            hall.catch_up()  # compare with the hall's config, were it changed on another hub
            summary = diff(hall.cfg, new_cfg)
            if new_hash == hall.config_hash or not summary:
                return self._same_hall(asked)
            self._commit(asked, summary)
        log.info("hall file reloaded (%s, by %s): %s", source, by or (who.name if who else "-"),
                 describe(summary))
        return {"applied": True, "hash": new_hash, "summary": summary, "text": describe(summary)}

    def _same_hall(self, asked: Proposal) -> dict[str, Any]:
        """Only comments or layout changed: nothing for pages to reload. A changed file is
        still written, audited, and stored as what the hall runs on, to the byte."""
        hall = self.hall
        if asked.hash != hall.config_hash:
            asked.write()
            if asked.who is not None:  # the file changed: on record, though no event
                who = asked.who
                hall.audit_alone(who.name, who.role, who.window, asked.addr, "reload-config",
                                 {"source": asked.source, "hash": asked.hash, "changes": {}})
            if asked.text is not None:
                with hall.db.transaction() as tx:
                    hall.configs.save(tx, hall.state.seq, asked.hash, asked.text, asked.source,
                                      hall.clock())
        hall.config_hash = asked.hash
        return {"applied": False, "hash": asked.hash, "summary": {}, "text": "no change"}

    def _commit(self, asked: Proposal, summary: dict[str, Any]) -> None:
        """Check, write, swap and commit `config.reloaded` as one change; swap back if the
        commit fails after the swap."""
        hall = self.hall
        old, old_hash, new_cfg = hall.cfg, hall.config_hash, asked.cfg

        def decide(state: HallState, now: dt.datetime) -> list[Event]:
            if hall.cfg is not old:  # another hub reloaded since the catch-up
                raise ConfigRefused(
                    "config_changed", "配置刚被其他服务器修改，请重新检查后再提交",
                    "the hall file was just changed on another hub: check again")
            found = blockers(old, new_cfg, state)
            if found:
                raise ConfigRefused(
                    "config_refused", "；".join(zh for zh, _ in found),
                    "; ".join(en for _, en in found))
            asked.write()
            self.swap(new_cfg, asked.hash)
            return [ConfigReloaded(at=now, hash=asked.hash, summary=summary, by=asked.author,
                                   source=asked.source)]

        hall.reload_text = (
            (asked.hash, asked.text, asked.source) if asked.text is not None else None)
        try:
            hall.execute(asked.who, decide, asked.addr, action="reload-config",
                         detail={"source": asked.source, "hash": asked.hash, "changes": summary})
        except BaseException:
            if hall.cfg is new_cfg:  # the commit failed after the swap: back to the old
                self.swap(old, old_hash)
            raise
        finally:
            hall.reload_text = None

    def adopt(self, text: str, parse: Callable[[str], HallConfig] | None = None) -> None:
        """At start (hub.hall_file.watch.start_watching): make the store and this hub agree on
        the hall file, so the store's `hall_config` always says what the hall runs on.

        A store with no config yet records this hub's file. On a shared store (PostgreSQL,
        several hubs) whose current config differs from this hub's file, the store wins, with
        a warning: the other hubs run it, and the hall must run one config (a hub whose copy
        of the file is stale, or was edited while it was stopped; apply an edit through
        `onestop reload` or the admin page, which check it against the live hall). On SQLite
        (one hub per store) the file wins as it always did, and is recorded as the current
        one: editing the file and restarting the hub is how a single hall changes it."""
        hall = self.hall
        if parse is not None:
            hall.parse = parse
        file_hash = config_hash(text)
        with hall.lock:
            with hall.db.transaction() as tx:
                stored = hall.configs.current(tx)
                if stored is None or (stored.hash != file_hash and not hall.db.shared):
                    last = tx.execute("SELECT MAX(seq) FROM events").fetchone()[0] or 0
                    hall.configs.save(tx, last, file_hash, text, "start", hall.clock())
            hall.config_hash = file_hash
            if stored is None or stored.hash == file_hash or not hall.db.shared:
                return
            try:
                cfg = hall.parse(stored.toml)
            except ConfigError as err:
                raise ConfigError(
                    f"hall_config in the store (hash {stored.hash})", "",
                    f"the hall's current config does not load on this hub: {err.reason}",
                ) from err
            log.warning(
                "this hub's hall file (hash %s) differs from the one the hall runs on (hash %s, "
                "%s at %s): running the store's. Apply a change with `onestop reload` or the "
                "admin page.", file_hash, stored.hash, stored.source, stored.at)
            self.swap(cfg, stored.hash)

    def follow_stored(self, tx: Tx | None = None) -> None:
        """Run on the hall file the store says the hall runs on (its newest `hall_config`),
        after applying another hub's `config.reloaded`: each hub has its own copy of the file,
        and a reload made on one hub must change the rules of all of them, or two hubs decide
        with different rules. Called before anything is decided on the caught-up state.

        Nothing to do when the hash is the one this hub runs (the hub that made the reload
        swapped already, and never catches up on its own events). Only swapped here, never
        published: the hub that committed the event emitted it to every hub's screens through
        Redis, once. A text this hub cannot load (another version of Onestop?) is logged and
        the hub runs on unchanged rather than stop the hall."""
        hall = self.hall
        stored = hall.configs.current(tx)
        if stored is None:
            log.warning("the hall file was reloaded by another hub, but the store holds no "
                        "text of it: this hub runs on its own (hash %s)", hall.config_hash)
            return
        if stored.hash == hall.config_hash:
            return
        try:
            cfg = hall.parse(stored.toml)
        except ConfigError as err:
            log.error("the hall file another hub reloaded (hash %s) does not load here, this "
                      "hub runs on hash %s: %s", stored.hash, hall.config_hash, err)
            return
        summary = diff(hall.cfg, cfg)
        self.swap(cfg, stored.hash)
        log.info("hall file reloaded by another hub (%s, hash %s): %s", stored.source,
                 stored.hash, describe(summary))

    def swap(self, cfg: HallConfig, new_hash: str) -> None:
        """Everything reads the config through the service (`service.cfg`) or the engine at
        use time, so these two assignments are the whole swap. Windows new to the hall get
        their (closed) state at once, as at start."""
        hall = self.hall
        hall.cfg, hall.config_hash = cfg, new_hash
        hall.engine.cfg = cfg
        for w in cfg.windows:
            hall.state.windows.setdefault(w.no, new_state(cfg, hall.clock()).windows[w.no])
