"""Words the hub sends a device to show, print or say: sentences with `{name}` placeholders.

A device fills them in (a ticket's number, a window) and never fails over them: a placeholder it
was not given stays as written, a field a hub did not send keeps its default.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

W = TypeVar("W")


class _Kept(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(text: str, **params: object) -> str:
    """`text` with its placeholders filled; a malformed one leaves the text as it is."""
    try:
        return text.format_map(_Kept(params))
    except (ValueError, IndexError, AttributeError, KeyError):
        return text


def from_sent(kind: type[W], sent: Any) -> W:
    """A wording dataclass from what a hub sent (`sent`: field -> text); a field missing or not
    a string keeps its default."""
    if not isinstance(sent, dict):
        return kind()
    known = {f.name for f in fields(kind)}  # type: ignore[arg-type]
    return kind(**{k: v for k, v in sent.items() if k in known and isinstance(v, str)})


def sent_part(message: Any, part: str) -> Any:
    """`message["texts"][part]`: the words a hub's snapshot sent for one part of an agent, or
    None when it sent none."""
    texts = message.get("texts") if isinstance(message, dict) else None
    return texts.get(part) if isinstance(texts, dict) else None
