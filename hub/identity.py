"""身份鉴别: the hall's password policy and the second factor (TOTP, RFC 6238), as pure rules.

The policy (`[identity]` in the hall file, hub/config/schema.py) is checked wherever a password
is set: `onestop user add|passwd` and the change of a password at sign-in. A refusal names a
stable code and its message key (hub/locale), so the CLI and the API say the same thing.

TOTP: 6 digits, 30-second steps, SHA-1 (what every authenticator app reads from an otpauth://
URI), a code of the step before or after also accepted for clock drift. The step a code was
accepted at is kept by the store (hub/store/accounts.py), so one code never signs in twice.
Time is passed in (`now`), never read here: tests sign in at a frozen clock.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Iterable
from typing import Any

import pyotp

from hub.config.schema import Identity
from hub.i18n import N_

TOTP_STEP_S = 30
TOTP_DIGITS = 6
TOTP_DRIFT_STEPS = 1  # a phone's clock a little off, or a code typed as it turned over
TOTP_ISSUER = "Onestop"


class PolicyRefusal(ValueError):
    """A password the hall's policy does not take: a stable code, its message key, params."""

    def __init__(self, code: str, key: str, /, **params: Any) -> None:
        self.code, self.key, self.params = code, key, params
        super().__init__(code)

    def __str__(self) -> str:  # the CLI prints it: the hall's languages, as the API says it
        from hub.i18n import default_texts  # noqa: PLC0415 (rendered only when said)

        return default_texts().joined(self.key, **self.params)


def character_classes(password: str) -> int:
    """How many of lowercase, uppercase, digits and other characters `password` has."""
    lower = any(c.islower() for c in password)
    upper = any(c.isupper() for c in password)
    digit = any(c.isdigit() for c in password)
    other = any(not (c.islower() or c.isupper() or c.isdigit()) for c in password)  # -, 汉字
    return lower + upper + digit + other


def check_password(policy: Identity, password: str, username: str = "") -> None:
    """Raise PolicyRefusal if `password` is too short, has too few classes, or is the username."""
    if len(password) < policy.password_min_length:
        raise PolicyRefusal("password_too_short", N_("error.password_too_short", "length"),
                            length=policy.password_min_length)
    if character_classes(password) < policy.password_min_classes:
        raise PolicyRefusal("password_too_simple", N_("error.password_too_simple", "classes"),
                            classes=policy.password_min_classes)
    if username and username.casefold() in password.casefold():
        raise PolicyRefusal("password_has_username", "error.password_has_username")


def history_refusal(policy: Identity) -> PolicyRefusal:
    return PolicyRefusal("password_reused", N_("error.password_reused", "count"),
                         count=policy.password_history)


def reused(password: str, previous: Iterable[str], verify: Any) -> bool:
    """Whether `password` matches any of the `previous` hashes (`verify(password, hash)`)."""
    return any(verify(password, stored) for stored in previous)


def password_expired(policy: Identity, changed_at: dt.datetime | None, now: dt.datetime) -> bool:
    if policy.password_expiry_days <= 0 or changed_at is None:
        return False
    return now >= changed_at + dt.timedelta(days=policy.password_expiry_days)


def needs_otp(policy: Identity, role: str, enrolled: bool) -> bool:
    """A role the hall lists must give a code; anyone else gives one once they enrolled."""
    return enrolled or role in policy.totp_roles


def idle_limit(policy: Identity, role: str) -> dt.timedelta:
    minutes = policy.idle_minutes_clerk if role == "clerk" else policy.idle_minutes_office
    return dt.timedelta(minutes=minutes)


# --- TOTP -----------------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends for HMAC-SHA-1


def totp_uri(secret: str, username: str, hall: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=f"{TOTP_ISSUER} {hall}")


def totp_step(now: dt.datetime) -> int:
    return int(now.timestamp()) // TOTP_STEP_S


def totp_code(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_S).generate_otp(step)


def totp_match(secret: str, code: str, now: dt.datetime) -> int | None:
    """The step whose code `code` is (within the drift allowed), or None."""
    code = code.strip().replace(" ", "")
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    current = totp_step(now)
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp_code(secret, step), code):
            return step
    return None
