"""Pairing a screen or a kiosk: its page gets its device token without anyone typing one.

A page opened without a token asks for a pairing request (`open_request`) and gets two things:
a short code for people (8 characters from an alphabet without 0/O, 1/I/L), shown on the page,
and a secret of 256 random bits for itself, kept in the page's memory only. A supervisor reads
the code off the device and approves it on the office page with a role (the one the page asked
for: a kiosk's code approved as a screen is refused) and a name; that is audited. The page,
polling with its secret, then claims a device token of that role and name: made at that moment,
handed out once, revocable like any other (`onestop token revoke`). The code alone gets nobody
a token, and the secret never appears in an address or a log.

Requests expire after REQUEST_TTL; an address may have PER_ADDR waiting and the hall TOTAL, so
a flood of requests neither fills the store nor the supervisor's list.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from typing import Any

from hub.auth import OFFICE_ROLES, Principal, Role
from hub.engine import DomainError, Invalid, NotFound
from hub.i18n import N_
from hub.store.pairing import PairingFull, PairingRequests

from .core import ServiceCore
from .errors import TooManyAttempts

log = logging.getLogger(__name__)

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed
CODE_LENGTH = 8  # 31^8 ≈ 2^40: not guessable in the minutes a request lives
REQUEST_TTL = dt.timedelta(minutes=5)
CLAIM_WITHIN = dt.timedelta(minutes=1)  # after approval, even late in the request's life
PER_ADDR = 4  # requests waiting from one address (a page reloaded a few times)
TOTAL = 50  # requests waiting in the hall
POLL_S = 2  # how often a waiting page asks whether it was approved
PAIRED_ROLES = (Role.SCREEN, Role.KIOSK)


def normal_code(code: str) -> str:
    """A code as typed: case, spaces and dashes do not matter."""
    return "".join(c for c in code.upper() if c not in " -")


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Pairing:
    def __init__(self, core: ServiceCore) -> None:
        self.core = core
        self.requests = PairingRequests(core.db)

    def open_request(self, kind: Role, page: str, addr: str) -> dict[str, Any]:
        """A new request for a `kind` page at `page`: its code and the page's secret."""
        if kind not in PAIRED_ROLES:
            raise Invalid("invalid", "error.pairing_kind")
        secret = secrets.token_urlsafe(32)
        now = self.core.clock()
        for _ in range(5):  # a code already waiting: draw another
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            try:
                stored = self.requests.open(code, secret_hash(secret), kind, page[:200], addr,
                                            now, REQUEST_TTL, PER_ADDR, TOTAL)
            except PairingFull as full:
                raise TooManyAttempts(full.retry_after_s) from None
            if stored:
                log.info("pairing request %s from %s for a %s (%s)", code, addr, kind.value,
                         page[:200])
                return {"code": code, "secret": secret, "kind": kind.value,
                        "expires_in_s": int(REQUEST_TTL.total_seconds()), "poll_s": POLL_S}
        raise RuntimeError("no free pairing code after 5 draws")

    def claim(self, secret: str) -> dict[str, Any]:
        """What became of the request of `secret`: waiting, or paired with the new token."""
        now = self.core.clock()
        found = self.requests.claim(secret_hash(secret), now)
        if found is None:
            raise NotFound("pairing_unknown", "error.pairing_unknown")
        if "token" not in found:
            left = dt.datetime.fromisoformat(found["expires_at"]) - now
            return {"status": "waiting", "expires_in_s": max(0, int(left.total_seconds()))}
        log.info("%s %r paired (request %s, approved by %s)", found["role"], found["name"],
                 found["code"], found["approved_by"])
        return {"status": "paired", "token": found["token"], "role": found["role"],
                "name": found["name"]}

    def waiting(self, who: Principal) -> list[dict[str, Any]]:
        """The requests the office may approve, for its list."""
        self.core.require(who, *OFFICE_ROLES)
        now = self.core.clock()
        return [_listed(r, now) for r in self.requests.waiting(now)]

    def approve(self, who: Principal, code: str, role: Role, name: str,
                addr: str = "") -> dict[str, Any]:
        """Approve the request `code` as a `role` named `name`; audited, refusals too."""
        self.core.require(who, *OFFICE_ROLES)
        detail: dict[str, Any] = {"code": normal_code(code)[:16], "role": role.value,
                                  "name": name[:100]}
        try:
            found = self._approve(who, normal_code(code), role, name.strip())
        except DomainError as err:
            self.core.audit_alone(who.name, who.role, None, addr, "pair-device", detail, err)
            raise
        detail.update(page=found["page"], device_addr=found["addr"])
        self.core.audit_alone(who.name, who.role, None, addr, "pair-device", detail)
        return {"code": found["code"], "role": role.value, "name": name.strip(),
                "page": found["page"], "addr": found["addr"]}

    def _approve(self, who: Principal, code: str, role: Role, name: str) -> dict[str, Any]:
        now = self.core.clock()
        if role not in PAIRED_ROLES:
            raise Invalid("invalid", "error.pairing_kind")
        if not name:
            raise Invalid("invalid", "error.pairing_name")
        found = self.requests.by_code(code, now)
        if found is None:
            raise NotFound("pairing_code_unknown", "error.pairing_code_unknown")
        if found["approved_at"] is not None:
            raise DomainError("pairing_approved", "error.pairing_approved")
        if found["kind"] != role.value:
            key = (N_("error.pairing_asked_kiosk") if found["kind"] == Role.KIOSK.value
                   else N_("error.pairing_asked_screen"))
            raise DomainError("pairing_role_mismatch", key)
        if not self.requests.approve(code, role, name, who.name, now, CLAIM_WITHIN):
            raise NotFound("pairing_code_unknown", "error.pairing_code_unknown")
        return found


def _listed(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    left = dt.datetime.fromisoformat(row["expires_at"]) - now
    return {"code": row["code"], "kind": row["kind"], "page": row["page"], "addr": row["addr"],
            "created_at": row["created_at"], "expires_in_s": max(0, int(left.total_seconds())),
            "approved": row["approved_at"] is not None, "name": row["name"] or ""}
