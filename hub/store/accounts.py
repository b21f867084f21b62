"""Staff accounts, device tokens and sessions in the store."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from hub.auth import (
    DEVICE_ROLES,
    STAFF_ROLES,
    AgentBinding,
    Principal,
    Role,
    hash_password,
    new_token,
    plausible_token,
    token_hash,
    verify_password,
)
from hub.config.schema import Identity
from hub.identity import check_password, history_refusal, new_totp_secret, reused

from .database import Database
from .store import utc_iso

log = logging.getLogger(__name__)


class AccountError(ValueError):
    pass


HISTORY_KEPT = 24  # the most hashes a hall's policy may compare with (hub/config/checks.py)
SEEN_EVERY = dt.timedelta(seconds=60)  # a session's use is written at most this often


def insert_token(tx: Any, role: Role, name: str, now: dt.datetime,
                 binding: AgentBinding | None = None) -> str:
    """A new device token inside the caller's transaction (`onestop token add`, a pairing
    claimed); only its hash is written, with an agent's binding if it has one."""
    token = new_token(role)
    tx.execute("INSERT INTO tokens (token_hash, name, role, created_at, binding) "
               "VALUES (?, ?, ?, ?, ?)",
               (token_hash(token), name.strip(), role.value, utc_iso(now),
                encode_binding(binding)))
    return token


def encode_binding(binding: AgentBinding | None) -> str | None:
    return None if binding is None else msgspec.json.encode(binding).decode()


def decode_binding(text: str | None) -> AgentBinding | None:
    return None if text is None else msgspec.json.decode(text, type=AgentBinding)


_PHOTO_MAGIC = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png"}
MAX_PHOTO_BYTES = 2 * 1024 * 1024


class Accounts:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- staff --------------------------------------------------------------------------

    def add_user(
        self,
        username: str,
        password: str,
        role: Role,
        name: str,
        staff_no: str,
        now: dt.datetime,
        photo: str | Path | None = None,
        policy: Identity | None = None,
    ) -> None:
        """A new staff account; `policy`: the hall's (its defaults if not given)."""
        if role not in STAFF_ROLES:
            raise AccountError(f"{role} is not a staff role")
        if not username.strip() or len(password) < 8:
            raise AccountError("a username and a password of at least 8 characters are needed")
        check_password(policy or Identity(), password, username)
        if role is Role.CLERK and not (name.strip() and staff_no.strip()):
            raise AccountError("a clerk needs --name and --staff-no: the work badge shows both "
                               "(art. 17)")
        if self.user(username):
            raise AccountError(f"user {username!r} exists")
        if staff_no.strip() and self.by_staff_no(staff_no):
            raise AccountError(f"staff number {staff_no!r} is someone else's")
        with self.db.transaction() as tx:
            hashed = hash_password(password)
            tx.execute(
                "INSERT INTO users (username, name, staff_no, role, password_hash, photo, active, "
                "created_at, password_changed_at) VALUES (?, ?, ?, ?, ?, NULL, 1, ?, ?)",
                (username, name or username, staff_no, role.value, hashed, utc_iso(now),
                 utc_iso(now)),
            )
            self._remember(tx, username, hashed, now)
        if photo is not None:
            self.set_photo(username, photo)

    # --- the badge photo (art. 17: the work badge shows name, staff number and photo) ----

    def set_photo(self, username: str, source: str | Path) -> None:
        """Keep a JPEG or PNG in the store (every hub of a pair shows it); the window screen
        shows it on the clerk's badge."""
        data = Path(source).read_bytes()
        kind = next((ext for magic, ext in _PHOTO_MAGIC.items() if data.startswith(magic)), None)
        if kind is None:
            raise AccountError(f"{source}: a badge photo is a JPEG or PNG file")
        if len(data) > MAX_PHOTO_BYTES:
            raise AccountError(f"{source}: larger than {MAX_PHOTO_BYTES // 1024} KB")
        if self.user(username) is None:
            raise AccountError(f"no user {username!r}")
        with self.db.transaction() as tx:
            self._save_photo(tx, username, kind, data)

    @staticmethod
    def _save_photo(tx: Any, username: str, kind: str, data: bytes) -> None:
        tx.execute(
            "INSERT INTO photos (username, kind, data) VALUES (?, ?, ?) ON CONFLICT (username) "
            "DO UPDATE SET kind = excluded.kind, data = excluded.data", (username, kind, data))
        tx.execute("UPDATE users SET photo = ? WHERE username = ?",
                   (f"{username}.{kind}", username))

    def adopt_photo_files(self, photo_dir: Path) -> int:
        """Move badge photos kept as files (before migration 0010) into the store: the users
        whose photo is named but not stored, from `photo_dir`. The files are left in place."""
        rows = self.db.query(
            "SELECT u.username, u.photo FROM users u LEFT JOIN photos p "
            "ON p.username = u.username WHERE u.photo IS NOT NULL AND u.photo <> '' "
            "AND p.username IS NULL")
        adopted = 0
        for row in rows:
            path = photo_dir / row["photo"]
            try:
                data = path.read_bytes() if path.stat().st_size <= MAX_PHOTO_BYTES else b""
            except OSError:
                continue
            kind = next((ext for magic, ext in _PHOTO_MAGIC.items() if data.startswith(magic)),
                        None)
            if kind is None:  # too big, or not a JPEG or PNG: as set_photo would refuse it
                log.warning("badge photo %s not copied into the store: not a JPEG or PNG of "
                            "at most %d KB", path, MAX_PHOTO_BYTES // 1024)
                continue
            with self.db.transaction() as tx:
                self._save_photo(tx, row["username"], kind, data)
            adopted += 1
        return adopted

    def photo_of(self, staff_no: str) -> tuple[bytes, str] | None:
        """The badge photo of the active staff member with this number, with its MIME type."""
        user = self.by_staff_no(staff_no)
        if user is None or not user["photo"]:
            return None
        row = self.db.query_one("SELECT kind, data FROM photos WHERE username = ?",
                                (user["username"],))
        if row is None:
            return None
        return bytes(row["data"]), "image/png" if row["kind"] == "png" else "image/jpeg"

    def by_staff_no(self, staff_no: str) -> dict[str, Any] | None:
        row = self.db.query_one(
            "SELECT username, name, staff_no, role, photo FROM users WHERE staff_no = ? "
            "AND active = 1", (staff_no,))
        return dict(row) if row else None

    def set_password(self, username: str, password: str, now: dt.datetime,
                     policy: Identity | None = None,
                     cpu: Callable[..., Any] = lambda fn, *args: fn(*args)) -> None:
        """A new password for `username` under `policy` (the hall's; its defaults if not
        given): refused if too weak or one of the last `password_history` ones. `cpu` runs the
        scrypt work (a hub passes its offload: a real thread, so the event loop never waits on
        it); the database is used only from the caller's thread."""
        policy = policy or Identity()
        check_password(policy, password, username)  # never under 8 (hub/config/checks.py)
        if self.user(username) is None:
            raise AccountError(f"no user {username!r}")
        previous = self.previous_hashes(username, policy.password_history)
        if cpu(reused, password, previous, verify_password):
            raise history_refusal(policy)
        hashed = cpu(hash_password, password)
        with self.db.transaction() as tx:
            # RETURNING, not rowcount: PostgreSQL's pipeline mode (hub/store/postgres.py)
            # knows no row count until the results are read.
            changed = tx.execute(
                "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE username = ? "
                "RETURNING username",
                (hashed, utc_iso(now), username),
            ).fetchall()
            if not changed:
                raise AccountError(f"no user {username!r}")
            self._remember(tx, username, hashed, now)

    def previous_hashes(self, username: str, count: int) -> list[str]:
        """The last `count` password hashes of `username`, newest (the current one) first."""
        if count <= 0:
            return []
        rows = self.db.query(
            "SELECT password_hash FROM password_history WHERE username = ? ORDER BY id DESC "
            "LIMIT ?", (username, count))
        return [r[0] for r in rows]

    @staticmethod
    def _remember(tx: Any, username: str, hashed: str, now: dt.datetime) -> None:
        tx.execute("INSERT INTO password_history (username, password_hash, set_at) "
                   "VALUES (?, ?, ?)", (username, hashed, utc_iso(now)))
        tx.execute(
            "DELETE FROM password_history WHERE username = ? AND id NOT IN (SELECT id FROM "
            "password_history WHERE username = ? ORDER BY id DESC LIMIT ?)",
            (username, username, HISTORY_KEPT))

    # --- the second factor (TOTP) -------------------------------------------------------

    def enrol_totp(self, username: str) -> str:
        """A new TOTP secret for `username` (replacing any), returned once to be shown; the
        store keeps it to check codes (an HMAC key cannot be kept as a hash)."""
        secret = new_totp_secret()
        with self.db.transaction() as tx:
            changed = tx.execute(
                "UPDATE users SET totp_secret = ?, totp_last_step = NULL WHERE username = ? "
                "RETURNING username", (secret, username)).fetchall()
        if not changed:
            raise AccountError(f"no user {username!r}")
        return secret

    def remove_totp(self, username: str) -> None:
        with self.db.transaction() as tx:
            changed = tx.execute(
                "UPDATE users SET totp_secret = NULL, totp_last_step = NULL WHERE username = ? "
                "RETURNING username", (username,)).fetchall()
        if not changed:
            raise AccountError(f"no user {username!r}")

    def use_totp_step(self, username: str, step: int) -> bool:
        """Record that a code of `step` signed `username` in; False if that step (or a later
        one) was used already: a code replayed, on this hub or another of a pair."""
        with self.db.transaction() as tx:
            return bool(tx.execute(
                "UPDATE users SET totp_last_step = ? WHERE username = ? AND "
                "(totp_last_step IS NULL OR totp_last_step < ?) RETURNING username",
                (step, username, step)).fetchall())

    def user(self, username: str) -> dict[str, Any] | None:
        row = self.db.query_one(
            "SELECT username, name, staff_no, role, password_hash, photo, active, "
            "password_changed_at, totp_secret FROM users WHERE username = ?",
            (username,),
        )
        return dict(row) if row else None

    def users(self) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT username, name, staff_no, role, active FROM users ORDER BY username"
        )
        return [dict(r) for r in rows]

    # --- device tokens ------------------------------------------------------------------

    def add_token(self, role: Role, name: str, now: dt.datetime,
                  binding: AgentBinding | None = None) -> str:
        """A new device token; the caller shows it once, the store keeps only its hash.
        `binding`: what an agent's token may serve (agents only)."""
        if role not in DEVICE_ROLES:
            raise AccountError(f"device tokens are for {', '.join(sorted(DEVICE_ROLES))}")
        if not name.strip():
            raise AccountError("a device token needs a name")
        if binding is not None and role is not Role.AGENT:
            raise AccountError("only a device agent's token is bound to kiosks and windows")
        with self.db.transaction() as tx:
            return insert_token(tx, role, name, now, binding)

    def bind_tokens(self, name: str, binding: AgentBinding) -> int:
        """Bind every valid token of agent `name` to `binding` (replacing any); how many.
        Connected agents are held to it at their next event or the hub's next sweep."""
        with self.db.transaction() as tx:
            return len(tx.execute(
                "UPDATE tokens SET binding = ? WHERE role = ? AND name = ? "
                "AND revoked_at IS NULL RETURNING token_hash",
                (encode_binding(binding), Role.AGENT.value, name)).fetchall())

    def tokens(self) -> list[dict[str, Any]]:
        """Every valid device token (never its hash): role, name, created_at, binding."""
        rows = self.db.query(
            "SELECT role, name, created_at, binding FROM tokens WHERE revoked_at IS NULL "
            "ORDER BY role, name, created_at")
        return [{"role": r["role"], "name": r["name"], "created_at": r["created_at"],
                 "binding": decode_binding(r["binding"])} for r in rows]

    def unbound_agents(self) -> list[str]:
        """The names of agents with a valid token without a binding."""
        rows = self.db.query(
            "SELECT DISTINCT name FROM tokens WHERE role = ? AND revoked_at IS NULL "
            "AND binding IS NULL ORDER BY name", (Role.AGENT.value,))
        return [r[0] for r in rows]

    def active_tokens(self, role: Role, name: str) -> int:
        row = self.db.query_one("SELECT COUNT(*) FROM tokens WHERE role = ? AND name = ? "
                                "AND revoked_at IS NULL", (role.value, name))
        assert row is not None  # an aggregate answers one row
        return row[0]

    def revoke_tokens(self, role: Role, name: str, now: dt.datetime) -> int:
        with self.db.transaction() as tx:
            return len(tx.execute(
                "UPDATE tokens SET revoked_at = ? WHERE role = ? AND name = ? "
                "AND revoked_at IS NULL RETURNING token_hash",
                (utc_iso(now), role.value, name),
            ).fetchall())

    # --- sessions -----------------------------------------------------------------------

    def open_session(
        self, user: dict[str, Any], window: int | None, now: dt.datetime, ttl: dt.timedelta
    ) -> tuple[str, list[str]]:
        """A new bearer token for `user`; their other sessions end (one place at a time).

        Returns the token and the hashes of the sessions it ended, so live sockets can be closed.
        """
        role = Role(user["role"])
        token = new_token(role)
        with self.db.transaction() as tx:
            ended = [
                r[0]
                for r in tx.execute(
                    "SELECT token_hash FROM sessions WHERE username = ? AND revoked_at IS NULL",
                    (user["username"],),
                ).fetchall()
            ]
            tx.execute(
                "UPDATE sessions SET revoked_at = ? WHERE username = ? AND revoked_at IS NULL",
                (utc_iso(now), user["username"]),
            )
            tx.execute(
                "INSERT INTO sessions (token_hash, username, role, window_no, created_at, "
                "expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    token_hash(token),
                    user["username"],
                    role.value,
                    window,
                    utc_iso(now),
                    utc_iso(now + ttl),
                    utc_iso(now),
                ),
            )
        return token, ended

    def close_session(self, hashed: str, now: dt.datetime) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
                (utc_iso(now), hashed),
            )

    def move_sessions(self, username: str, window: int, now: dt.datetime) -> list[str]:
        """Bind the clerk's live session(s) to `window` (a supervisor moved them), so their
        token acts at the new window without signing in again. Returns the hashes moved."""
        with self.db.transaction() as tx:
            hashes = [
                r[0]
                for r in tx.execute(
                    "SELECT token_hash FROM sessions WHERE username = ? AND revoked_at IS NULL "
                    "AND expires_at > ?",
                    (username, utc_iso(now)),
                ).fetchall()
            ]
            tx.execute(
                "UPDATE sessions SET window_no = ? WHERE username = ? AND revoked_at IS NULL",
                (window, username),
            )
        return hashes

    def principal(self, token: str, now: dt.datetime) -> Principal | None:
        """Whoever holds `token`, if it is live: a device, or a signed-in staff member."""
        if not plausible_token(token):
            return None
        hashed = token_hash(token)
        row = self.db.query_one(
            "SELECT name, role, binding FROM tokens WHERE token_hash = ? AND revoked_at IS NULL",
            (hashed,)
        )
        if row:
            return Principal(role=Role(row["role"]), name=row["name"], token_hash=hashed,
                             binding=decode_binding(row["binding"]))
        row = self.db.query_one(
            "SELECT s.username, s.role, s.window_no, s.expires_at, s.last_seen_at, u.name, "
            "u.staff_no, u.active "
            "FROM sessions s JOIN users u ON u.username = s.username "
            "WHERE s.token_hash = ? AND s.revoked_at IS NULL",
            (hashed,),
        )
        if row is None or not row["active"] or row["expires_at"] <= utc_iso(now):
            return None
        return Principal(
            role=Role(row["role"]),
            name=row["username"],
            window=row["window_no"],
            display_name=row["name"],
            staff_no=row["staff_no"],
            token_hash=hashed,
            seen_at=row["last_seen_at"] or "",
        )

    def touch_session(self, hashed: str, now: dt.datetime) -> None:
        """Mark the session used now (it was, by a request or an event): at most once every
        SEEN_EVERY, so a busy panel does not write on every request."""
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ? AND "
                "revoked_at IS NULL AND (last_seen_at IS NULL OR last_seen_at < ?)",
                (utc_iso(now), hashed, utc_iso(now - SEEN_EVERY)))
