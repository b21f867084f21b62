"""What each route takes and answers, declared once beside it.

A route says with `@documented(...)` which statuses it answers, with what (a Struct of
hub/shapes/responses.py, or a media type), and which body and query shapes it reads; its
docstring is its summary. The OpenAPI document is generated from these declarations and the
Flask routes (hub/web/openapi.py). Pages, which live in their own packages, are declared in
a table there, by endpoint.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec
from flask import Response, jsonify

from hub import shapes

# Statuses every route of a kind can answer besides its own.
WRITE = (401, 403, 413, 422)  # a POST with a JSON body, by a token of some roles
READ = (401, 403)

JSON = "application/json"


@dataclass(frozen=True)
class Operation:
    """One route's contract. `answer`: the shape (or shapes, one per kind of caller) of its
    JSON body with status `ok`, or None for another media type (`media`, `schema`)."""

    summary: str
    answer: Any = None
    ok: int = 200
    ok_text: str = "OK"
    errors: tuple[int, ...] = ()
    body: type[shapes.Shape] | None = None
    body_required: bool = True
    query: type[shapes.Shape] | None = None
    # Per parameter: its allowed values (`enums`), its description (`described`).
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    described: Mapping[str, str] = field(default_factory=dict)
    params: tuple[dict[str, Any], ...] = ()  # more, written out (a page's query token)
    media: str = JSON
    schema: dict[str, Any] | None = None  # the body's schema when it is not JSON
    more_media: Mapping[str, dict[str, Any]] = field(default_factory=dict)  # CSV, XLSX, ...
    auth: bool = True
    tag: str = "api"

    @property
    def answers(self) -> tuple[Any, ...]:
        """The shapes its `ok` body may have (a tuple: one of them)."""
        if self.answer is None:
            return ()
        return self.answer if isinstance(self.answer, tuple) else (self.answer,)


V = TypeVar("V", bound=Callable[..., Any])


def documented(answer: Any = None, *errors: int, **more: Any) -> Callable[[V], V]:
    """Declare a view's contract: what it answers with `ok` (default 200), the error statuses
    it answers besides, and the rest of Operation's fields. The docstring is the summary."""

    def mark(view: V) -> V:
        summary = " ".join((inspect.getdoc(view) or view.__name__).split())
        op = Operation(summary, answer, errors=tuple(errors), **more)
        view.operation = op  # type: ignore[attr-defined]
        return view

    return mark


def operation_of(view: Callable[..., Any] | None) -> Operation | None:
    return getattr(view, "operation", None)


def reply(answer: msgspec.Struct, status: int = 200) -> Response:
    """An answer the edge builds as its Struct, sent through the app's JSON like any other."""
    response = jsonify(msgspec.to_builtins(answer))
    response.status_code = status
    return response
