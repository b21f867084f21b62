"""Who is acting: a bearer token checked, a staff member signed in or out.

Every sign-in attempt is audited, a failed one under the username tried; failed attempts (a
wrong password, a missing, wrong or replayed one-time code) are rate-limited per account and
per address (5 in 5 minutes, hub/auth.py's RateLimiter, counted across the hubs of a pair). A
clerk signs in at a window (an event of the hall); the office and admins sign in to no window.

身份鉴别 (the hall file's `[identity]`, hub/identity.py): a role the hall lists gives a TOTP
code after its password; a password past its expiry signs nobody in until it is changed
(`change_password`); a staff session unused longer than its role's idle limit is refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NoReturn

from hub.auth import DEVICE_ROLES, DUMMY_HASH, STAFF_ROLES, Principal, Role, verify_password
from hub.engine import DomainError, Invalid, NotFound
from hub.engine.model import Clerk
from hub.identity import PolicyRefusal, idle_limit, needs_otp, password_expired, totp_match
from hub.store.accounts import SEEN_EVERY

from .core import ServiceCore
from .errors import Forbidden, TooManyAttempts, Unauthorized

SESSION_TTL = dt.timedelta(hours=12)


class Sessions:
    def __init__(self, core: ServiceCore) -> None:
        self.core = core

    def authenticate(self, token: str | None, *, use: bool = True) -> Principal:
        """Who holds `token`. `use`: this is the holder acting (a request, an event), which
        keeps a staff session from going idle; a look by the hub itself (the sweep) is not."""
        if not token:
            raise Unauthorized("unauthorized", "error.token_required")
        now = self.core.clock()
        who = self.core.accounts.principal(token.strip(), now)
        if who is None:
            raise Unauthorized("unauthorized", "error.token_invalid")
        if who.role in STAFF_ROLES and who.seen_at:
            seen = dt.datetime.fromisoformat(who.seen_at)
            limit = idle_limit(self.core.cfg.identity, who.role.value)
            if now - seen > limit:
                raise Unauthorized("session_idle", "error.session_idle",
                                   minutes=int(limit.total_seconds() // 60))
            if use and now - seen >= SEEN_EVERY:
                self.core.accounts.touch_session(who.token_hash, now)
        return who

    def login(self, username: str, password: str, window: int | None, addr: str = "",
              otp: str | None = None) -> dict:
        """Sign in; every attempt is audited, a failed one under the username tried."""
        try:
            result = self._login(username, password, window, addr, otp)
        except DomainError as err:
            self.core.audit_alone(username, None, window, addr, "sign-in", {"window": window},
                                  err)
            raise
        if result["role"] != Role.CLERK:  # a clerk's sign-in was audited with its event
            self.core.audit_alone(username, Role(result["role"]), None, addr, "sign-in")
        return result

    def _login(self, username: str, password: str, window: int | None, addr: str,
               otp: str | None) -> dict:
        core = self.core
        user = self._check_password(username, password, addr)
        self._check_otp(user, otp, addr)
        changed = user["password_changed_at"]
        if password_expired(core.cfg.identity,
                            dt.datetime.fromisoformat(changed) if changed else None,
                            core.clock()):
            # The password was right: no failure to count, but no session until it changes.
            raise Forbidden("password_expired", "error.password_expired")
        role = Role(user["role"])
        if role is Role.CLERK:
            if window is None:
                raise Invalid("invalid", "error.choose_window")
            if not core.cfg.has_window(window):
                raise NotFound("unknown_window", "error.unknown_window", no=window)
        else:
            window = None
        core.limiter.succeed(f"user:{username}")
        if role is Role.CLERK and window is not None:
            # The window first: if the rules refuse the sign-in, the clerk's session elsewhere
            # must go on working.
            who = Principal(role=role, name=username, window=window, display_name=user["name"],
                            staff_no=user["staff_no"])
            clerk = Clerk(username=username, name=user["name"], staff_no=user["staff_no"])
            at = window
            core.execute(who, lambda s, now: core.engine.sign_in(s, now, at, clerk), addr,
                         action="sign-in", detail={"window": window})
        token, ended = core.accounts.open_session(user, window, core.clock(), SESSION_TTL)
        core.sessions_ended(ended)
        return {
            "token": token,
            "role": role.value,
            "username": username,
            "name": user["name"],
            "staff_no": user["staff_no"],
            "window": window,
            "expires_in_s": int(SESSION_TTL.total_seconds()),
        }

    def _check_password(self, username: str, password: str, addr: str) -> dict[str, Any]:
        """The active account `username` whose password this is; a failure counts against the
        account and the address (TooManyAttempts once either had too many)."""
        core = self.core
        for key in (f"user:{username}", f"addr:{addr}"):
            wait = core.limiter.retry_after(key)
            if wait > 0:
                raise TooManyAttempts(wait)
        user = core.accounts.user(username)
        ok = core.offload(verify_password, password, user["password_hash"] if user else DUMMY_HASH)
        if not (ok and user and user["active"]):
            core.limiter.fail(f"user:{username}")
            core.limiter.fail(f"addr:{addr}")
            raise Unauthorized("bad_credentials", "error.bad_credentials")
        return user

    def _check_otp(self, user: dict[str, Any], otp: str | None, addr: str) -> None:
        """The second factor, if this account gives one: a missing, wrong or replayed code is a
        failed sign-in like a wrong password (it counts towards the lockout)."""
        core = self.core
        secret = user["totp_secret"]
        if not needs_otp(core.cfg.identity, user["role"], bool(secret)):
            return
        username = user["username"]
        if not secret:  # a role that must give a code, and no authenticator enrolled yet
            raise Forbidden("otp_not_enrolled", "error.otp_not_enrolled")
        if not otp:
            self._otp_failed(username, addr, Unauthorized("otp_required", "error.otp_required"))
        step = totp_match(secret, otp or "", core.clock())
        if step is None:
            self._otp_failed(username, addr, Unauthorized("otp_invalid", "error.otp_invalid"))
        elif not core.accounts.use_totp_step(username, step):
            self._otp_failed(username, addr, Unauthorized("otp_replayed", "error.otp_replayed"))

    def _otp_failed(self, username: str, addr: str, err: Unauthorized) -> NoReturn:
        self.core.limiter.fail(f"user:{username}")
        self.core.limiter.fail(f"addr:{addr}")
        raise err

    def change_password(self, username: str, password: str, new_password: str,
                        otp: str | None, addr: str = "") -> None:
        """Change one's own password with the old one (and a code, if one is due): the way out
        of an expired password, which signs nobody in. Audited, a refusal too."""
        try:
            user = self._check_password(username, password, addr)
            self._check_otp(user, otp, addr)
            core = self.core
            try:
                core.accounts.set_password(username, new_password, core.clock(),
                                           core.cfg.identity, cpu=core.offload)
            except PolicyRefusal as err:
                raise Invalid(err.code, err.key, **err.params) from None
            core.limiter.succeed(f"user:{username}")
        except DomainError as err:
            self.core.audit_alone(username, None, None, addr, "password-change", {}, err)
            raise
        self.core.audit_alone(username, Role(user["role"]), None, addr, "password-change")

    def sign_in_refused(self, username: str, addr: str, err: DomainError) -> None:
        """A sign-in refused before it was tried (its body has no valid shape, e.g. a window
        number past any window): on record like every failed sign-in."""
        self.core.audit_alone(username, None, None, addr, "sign-in", {}, err)

    def logout(self, who: Principal, addr: str = "") -> None:
        """End a staff session. A device token is no session: it stays valid until revoked
        (`onestop token revoke`), so signing it out is refused rather than answered with a
        204 that would drop its sockets and leave the token working."""
        core = self.core
        if who.role in DEVICE_ROLES:
            raise Forbidden(
                "device_token", "error.device_token", role=who.role.value)
        at_window = False
        if who.role is Role.CLERK and who.window is not None:
            no = who.window
            win = core.state.windows.get(no)
            if win and win.clerk and win.clerk.username == who.name:
                at_window = True
                core.execute(who, lambda s, now: core.engine.sign_out(s, now, no), addr,
                             action="sign-out")
        if not at_window and who.role in STAFF_ROLES:
            core.audit_alone(who.name, who.role, who.window, addr, "sign-out")
        core.accounts.close_session(who.token_hash, core.clock())
        core.sessions_ended([who.token_hash])
