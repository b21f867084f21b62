"""The one decoder of what the hub is sent: an HTTP body is decoded from its bytes (`decode`),
a socket payload that Socket.IO's JSON already parsed is converted (`convert`), a query string
or a route's parameters are converted leniently from text (`query`, `path`). All four refuse
the same way, with `Invalid` (a 422, or an error ack) and a bilingual message that names the
field; a string holding a lone surrogate ("\\ud800", which no UTF-8 store or hash can take) or
a structure nested deeper than the parser goes is refused there too, so nothing past this
module meets either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec
from msgspec import Struct

from hub.engine import Invalid
from hub.i18n import N_

from .base import MAX_CODE
from .requests import PathParams

S = TypeVar("S")


# --- the one decoder --------------------------------------------------------------------------


def decode(raw: bytes, shape: type[S]) -> S:
    """An HTTP body (its bytes; empty: `{}`) as `shape`. msgspec's decoder refuses a lone
    surrogate in any string of the body, wherever it is, as malformed JSON."""
    try:
        return msgspec.json.decode(raw.strip() or b"{}", type=shape)
    except msgspec.ValidationError as err:
        raise refusal(err) from None
    except msgspec.DecodeError as err:
        raise Invalid(
            "invalid_json", "error.invalid_json", err=err,
        ) from None
    except RecursionError:
        raise _too_deep() from None


def convert(data: Any, shape: type[S]) -> S:
    """A Socket.IO payload (parsed by Socket.IO's JSON: a lone surrogate survives that) as
    `shape`, with the same checks as an HTTP body: strict types, bounds, valid text."""
    try:
        value = msgspec.convert({} if data is None else data, shape, strict=True)
    except msgspec.ValidationError as err:
        raise refusal(err) from None
    except RecursionError:
        raise _too_deep() from None
    check_text(value)
    return value


def check_text(value: Any) -> None:
    """Refuse a value whose strings are not valid Unicode (a lone surrogate) or that nests
    deeper than the encoder goes: what neither the store nor the audit chain can take."""
    try:
        msgspec.json.encode(value)
    except UnicodeEncodeError:
        raise Invalid("invalid_text", "error.invalid_text") from None
    except RecursionError:
        raise _too_deep() from None
    except (TypeError, OverflowError) as err:  # bytes are fine; an int past 64 bits is not
        raise Invalid("invalid", "error.not_json_value", err=err) from None


def query(args: Mapping[str, str], shape: type[S]) -> S:
    """A query string as `shape`: numbers and days read from their text, an empty value is
    left out (as if not given)."""
    present = {k: v for k, v in args.items() if v != ""}
    try:
        value = msgspec.convert(present, shape, strict=False)
    except msgspec.ValidationError as err:
        raise refusal(err) from None
    check_text(value)
    return value


def path(values: Mapping[str, Any]) -> PathParams:
    """A route's path parameters, bounded like every other input. A value out of its range
    names nothing the hub has: 404, not 422."""
    try:
        return msgspec.convert(dict(values), PathParams, strict=False)
    except msgspec.ValidationError as err:
        where = _where(str(err)) or "path"
        raise _NotFound("not_found", "error.no_such_path", where=where,
                        detail=str(err).replace("`", "")) from None


class _NotFound(Invalid):
    kind = "not_found"


def _too_deep() -> Invalid:
    return Invalid("too_deep", "error.too_deep")


_AT = re.compile(r" - at `\$\.?([^`]*)`$")


def _where(message: str) -> str:
    found = _AT.search(message)
    return found.group(1) if found else ""


# msgspec's message -> what it means (hub/locale: `error.request.*`, said with the field, where it
# is, and msgspec's own English as the detail)
_SAID = (
    (re.compile(r"missing required field `([^`]*)`"),
     N_("error.request.missing", "field", "at", "detail")),
    (re.compile(r"Expected `(str|array|object)` of length"),
     N_("error.request.length", "field", "at", "detail")),
    (re.compile(r"Expected `int` [<>]=|Number out of range|Integer value out of range"),
     N_("error.request.range", "field", "at", "detail")),
    (re.compile(r"Invalid enum value"), N_("error.request.enum", "field", "at", "detail")),
    (re.compile(r"Invalid RFC3339 encoded date"),
     N_("error.request.date", "field", "at", "detail")),
    (re.compile(r"must be in \d+-\d+"), N_("error.request.date_range", "field", "at", "detail")),
    (re.compile(r"Expected `object`, got"), N_("error.request.object", "field", "at", "detail")),
    (re.compile(r"Expected `"), N_("error.request.type", "field", "at", "detail")),
)


def refusal(err: msgspec.ValidationError) -> Invalid:
    """msgspec's ValidationError as the API's 422: bilingual, naming the field."""
    message = str(err)
    at = _where(message) or "$"
    reason = _AT.sub("", message)
    detail = reason.replace("`", "'") + (f" (at {at})" if at != "$" else "")
    for pattern, key in _SAID:
        found = pattern.search(reason)
        if found:
            field = found.group(1) if found.groups() else ""
            return Invalid("invalid", key, field=field, at=at, detail=detail)
    return Invalid("invalid", "error.request.invalid", field="", at=at, detail=detail)


class _SignInAttempt(Struct):
    username: Any = ""


def attempted_username(raw: bytes) -> str:
    """Whom a sign-in refused for its shape tried to be, for its audit record: the body's
    username if one reads (bounded like any account name), else ""."""
    try:
        name = msgspec.json.decode(raw, type=_SignInAttempt).username
    except (msgspec.DecodeError, RecursionError):
        return ""
    return name[:MAX_CODE] if isinstance(name, str) else ""
