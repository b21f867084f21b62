"""The refusals the service layer adds to the engine's (hub/engine/errors.py): who may act."""

from __future__ import annotations

from hub.engine import DomainError


class Forbidden(DomainError):
    kind = "forbidden"


class Unauthorized(DomainError):
    kind = "unauthorized"


class TooManyAttempts(DomainError):
    kind = "rate_limited"

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(
            "too_many_attempts",
            f"登录失败次数过多，请{int(retry_after_s) + 1}秒后再试",
            f"too many failed sign-ins: retry in {int(retry_after_s) + 1} s",
        )
