"""What each route takes and answers, declared once beside it, and the check of every answer.

A route says with `@documented(...)` which statuses it answers, with what (a Struct of
hub/shapes/responses.py, or a media type), and which body and query shapes it reads; its
docstring is its summary. The OpenAPI document is generated from these declarations and the
Flask routes (hub/web/openapi.py). Pages, which live in their own packages, are declared in
a table there, by endpoint.

Every JSON answer is decoded against its declared shape as it leaves (`check_answers`): a
route that sends a field its Struct does not have, or a value of another type, is logged
(once per route and status), and raises where ONESTOP_CHECK_ANSWERS is set (the test suite
sets it), so the document cannot drift from what is sent. The answer itself is never touched.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec
from flask import Flask, Response, current_app, jsonify, request

from hub import shapes

log = logging.getLogger(__name__)

CHECK_ENV = "ONESTOP_CHECK_ANSWERS"  # set: an answer that is not its shape is an error

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


# --- every answer held to its shape ---------------------------------------------------------


class AnswerMismatch(Exception):
    """An answer that is not its declared shape: a route and its document disagree."""


def check_answers(app: Flask) -> None:
    app.after_request(_check)
    app.extensions["onestop_answer_mismatches"] = set()


def _check(response: Response) -> Response:
    if request.method == "HEAD" or response.direct_passthrough or response.mimetype != JSON:
        return response
    if response.status_code >= 400:
        expected: tuple[Any, ...] = (shapes.Error,)
    else:
        op = operation_of(current_app.view_functions.get(request.endpoint or ""))
        if op is None or response.status_code != op.ok or not op.answers:
            return response
        expected = op.answers
    problem = _mismatch(response.get_data(), expected)
    if problem is not None:
        _report(response.status_code, problem)
    return response


def _mismatch(raw: bytes, expected: tuple[Any, ...]) -> str | None:
    found = []
    for shape in expected:
        try:
            msgspec.json.decode(raw, type=shape)
            return None
        except (msgspec.ValidationError, msgspec.DecodeError) as err:
            found.append(f"{getattr(shape, '__name__', shape)}: {err}")
    return "; ".join(found)


def _report(status: int, problem: str) -> None:
    what = f"{request.method} {request.url_rule.rule if request.url_rule else request.path}"
    if os.environ.get(CHECK_ENV):
        raise AnswerMismatch(f"{what} answered {status} unlike its documented shape: {problem}")
    seen = current_app.extensions["onestop_answer_mismatches"]
    if (what, status) not in seen:
        seen.add((what, status))
        log.error("%s answered %d unlike its documented shape (hub/shapes/responses.py): %s",
                  what, status, problem)
