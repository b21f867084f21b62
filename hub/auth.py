"""Who is asking: password hashing, bearer tokens, principals and the login rate limit.

Staff sign in with their own account (art. 21) and get a session token bound to their window;
kiosks, screens and device agents hold a per-device token. Only hashes are stored: scrypt for
passwords (slow on purpose), SHA-256 for tokens (they are 256 random bits, so a fast hash is
enough and keeps every request cheap).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from enum import StrEnum

import msgspec

log = logging.getLogger(__name__)


class Role(StrEnum):
    KIOSK = "kiosk"
    SCREEN = "screen"
    AGENT = "agent"  # device agent
    METRICS = "metrics"  # a monitoring server scraping /metrics
    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


DEVICE_ROLES = frozenset({Role.KIOSK, Role.SCREEN, Role.AGENT, Role.METRICS})
STAFF_ROLES = frozenset({Role.CLERK, Role.SUPERVISOR, Role.ADMIN})
# Supervisors and admins may do what the office does; admins also manage the hall.
OFFICE_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})


class AgentBinding(msgspec.Struct, frozen=True, kw_only=True):
    """What a device agent's token may serve (least privilege): the kiosks whose printer,
    scanner and ID card reader it may run (their kiosk tokens' names) and the windows its
    keypads, LED screens and slip printer may serve. Empty: none of them (an announcer).
    A token without one (made before bindings, or never bound) may serve any: the hub logs a
    warning at each of its connects and `onestop token list` shows it as unbound."""

    kiosks: tuple[str, ...] = ()
    windows: tuple[int, ...] = ()

    def outside(self, kiosk: str | None, windows: Iterable[int]) -> str | None:
        """What of a connect's declaration lies outside this binding (for the refusal and the
        log), or None if all of it is within."""
        if kiosk is not None and kiosk not in self.kiosks:
            return f"kiosk {kiosk}"
        foreign = sorted(set(windows) - set(self.windows))
        return f"windows {', '.join(map(str, foreign))}" if foreign else None

    def describe(self) -> str:
        kiosks = ", ".join(self.kiosks) or "-"
        windows = ", ".join(map(str, self.windows)) or "-"
        return f"kiosks {kiosks}; windows {windows}"


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    role: Role
    name: str  # username, or the device's name
    window: int | None = None  # the window a clerk signed in at
    display_name: str = ""
    staff_no: str = ""
    token_hash: str = ""
    seen_at: str = ""  # a staff session: when it was last used (UTC ISO), for the idle limit
    binding: AgentBinding | None = None  # an agent token's: what it may serve (None: unbound)

    @property
    def actor(self) -> str:
        return f"{self.role.value}:{self.name}"


_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


# A hash that no password matches, so that a login for an unknown user costs the same time.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


_TOKEN_PREFIX = {Role.KIOSK: "osk", Role.SCREEN: "osd", Role.AGENT: "osa", Role.CLERK: "osc",
                 Role.SUPERVISOR: "osv", Role.ADMIN: "osm", Role.METRICS: "osp"}


def new_token(role: Role) -> str:
    """256 random bits; the prefix says what it is when one turns up in a log or a config."""
    return f"{_TOKEN_PREFIX[role]}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


MAX_TOKEN_CHARS = 256  # ours are 48; a session token of any sane scheme fits


def plausible_token(token: str) -> bool:
    """Whether `token` could be one of ours at all: printable ASCII of a sane length. Anything
    else (a lone surrogate no encoder takes, a megabyte) is refused before it is hashed."""
    return 0 < len(token) <= MAX_TOKEN_CHARS and token.isascii() and token.isprintable()


class RateLimiter:
    """At most `limit` failures per key within `window_s`; then refuse until the oldest expires.

    `listeners` hear each failure and success recorded here (`local`), so the hubs of a pair
    can count them together: a hub records another's with `local=False`."""

    def __init__(self, limit: int = 5, window_s: float = 300.0) -> None:
        self.limit, self.window_s = limit, window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self.listeners: list[Callable[[str, str], None]] = []  # (kind "fail"|"succeed", key)

    def _tell(self, kind: str, key: str) -> None:
        for listener in self.listeners:
            try:
                listener(kind, key)
            except Exception:  # the sign-in's answer does not depend on the other hubs
                log.exception("sign-in limit listener failed")

    def retry_after(self, key: str, now: float | None = None) -> float:
        """Seconds until `key` may try again; 0 if it may now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            found = self._failures.get(key)
            if not found:
                return 0.0
            while found and found[0] <= now - self.window_s:
                found.popleft()
            if len(found) < self.limit:
                return 0.0
            return found[0] + self.window_s - now

    def fail(self, key: str, now: float | None = None, *, local: bool = True) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > 10_000:  # bound memory under a spray of usernames
                self._failures.pop(next(iter(self._failures)))
        if local:
            self._tell("fail", key)

    def succeed(self, key: str, *, local: bool = True) -> None:
        with self._lock:
            self._failures.pop(key, None)
        if local:
            self._tell("succeed", key)
