"""Refusals of the queue engine: a stable code for programs, a message for people.

A refusal carries its code, the key of its message in the catalogs (hub/locale) and the
message's parameters; the edge says it in the languages the hall shows (`message` is Chinese,
then English, as "zh / en"). The engine itself never renders text.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A command the hall's rules do not allow right now. Nothing has changed."""

    #: kind of refusal, mapped to an HTTP status by the edge
    kind = "conflict"

    def __init__(self, code: str, key: str, /, **params: Any) -> None:
        self.code = code
        self.key = key
        self.params = params
        super().__init__(code, key)

    @property
    def message(self) -> str:
        """The message in the languages the hall shows, first then second: "zh / en"."""
        from hub.i18n import default_texts  # noqa: PLC0415 (the engine's rules never render)

        return default_texts().joined(self.key, **self.params)

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    kind = "not_found"


class Invalid(DomainError):
    kind = "invalid"


class NotPermitted(DomainError):
    """Who asks may not do this (a rule of who, decided with the case it is about)."""

    kind = "forbidden"
