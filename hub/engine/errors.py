"""Refusals of the queue engine: a stable code for programs and a bilingual message for people."""

from __future__ import annotations


class DomainError(Exception):
    """A command the hall's rules do not allow right now. Nothing has changed."""

    #: kind of refusal, mapped to an HTTP status by the edge
    kind = "conflict"

    def __init__(self, code: str, zh: str, en: str) -> None:
        self.code = code
        self.message = f"{zh} / {en}"
        super().__init__(self.message)


class NotFound(DomainError):
    kind = "not_found"


class Invalid(DomainError):
    kind = "invalid"
