"""Who is acting: a bearer token checked, a staff member signed in or out.

Every sign-in attempt is audited, a failed one under the username tried; failed attempts are
rate-limited per account and per address. A clerk signs in at a window (an event of the hall);
the office and admins sign in to no window.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.auth import DEVICE_ROLES, DUMMY_HASH, STAFF_ROLES, Principal, Role, verify_password
from hub.engine import DomainError, Invalid, NotFound
from hub.engine.model import Clerk

from .core import ServiceCore
from .errors import Forbidden, TooManyAttempts, Unauthorized

SESSION_TTL = dt.timedelta(hours=12)


class Sessions:
    def __init__(self, core: ServiceCore) -> None:
        self.core = core

    def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise Unauthorized("unauthorized", "需要登录或设备令牌", "a bearer token is required")
        who = self.core.accounts.principal(token.strip(), self.core.clock())
        if who is None:
            raise Unauthorized("unauthorized", "令牌无效或已过期", "invalid or expired token")
        return who

    def login(self, username: str, password: str, window: int | None, addr: str = "") -> dict:
        """Sign in; every attempt is audited, a failed one under the username tried."""
        try:
            result = self._login(username, password, window, addr)
        except DomainError as err:
            self.core.audit_alone(username, None, window, addr, "sign-in", {"window": window},
                                  err)
            raise
        if result["role"] != Role.CLERK:  # a clerk's sign-in was audited with its event
            self.core.audit_alone(username, Role(result["role"]), None, addr, "sign-in")
        return result

    def _login(self, username: str, password: str, window: int | None, addr: str) -> dict:
        core = self.core
        user = self._check_password(username, password, addr)
        role = Role(user["role"])
        if role is Role.CLERK:
            if window is None:
                raise Invalid("invalid", "请选择窗口", "a clerk signs in at a window")
            if not core.cfg.has_window(window):
                raise NotFound("unknown_window", f"无{window}号窗口", f"no window {window}")
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
            raise Unauthorized("bad_credentials", "用户名或密码错误", "wrong username or password")
        return user

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
                "device_token", "设备令牌无法退出登录，请用 onestop token revoke 吊销",
                "a device token has no session to end: revoke it with `onestop token revoke "
                f"--role {who.role.value} --name NAME`")
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
