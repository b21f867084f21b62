"""Quick edits: the common changes of the hall file (an item's quota and hours, a window's
items and backup) made in its text in place, comments and layout kept."""

from __future__ import annotations

import json
import re
from typing import Any

from hub.config import HallConfig

_HEADER_RE = re.compile(r"^\s*\[")


def _blocks(lines: list[str], table: str) -> list[tuple[int, int]]:
    """(start, end) line ranges of each `[[table]]` entry's own keys (up to its next header)."""
    out = []
    for i, line in enumerate(lines):
        if line.strip() == f"[[{table}]]":
            end = next((j for j in range(i + 1, len(lines)) if _HEADER_RE.match(lines[j])),
                       len(lines))
            out.append((i, end))
    return out


def _value_span(lines: list[str], i: int) -> int:
    """The line after the value that starts on line `i` (a multi-line array ends at `]`)."""
    depth = 0
    for j in range(i, len(lines)):
        text = lines[j].split("#", 1)[0] if '"' not in lines[j] else lines[j]
        depth += text.count("[") - text.count("]")
        if depth <= 0:
            return j + 1
    return len(lines)


def _set_key(lines: list[str], start: int, end: int, key: str, value: str | None) -> None:
    """Set (or, with None, remove) `key = value` among lines start+1..end of one entry."""
    key_re = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for i in range(start + 1, end):
        if key_re.match(lines[i]):
            stop = _value_span(lines, i)
            lines[i:stop] = [] if value is None else [f"{key} = {value}"]
            return
    if value is not None:
        # After the entry's last key line, before trailing blank lines and comments.
        at = end
        while at > start + 1 and (not lines[at - 1].strip() or lines[at - 1].lstrip()
                                  .startswith("#")):
            at -= 1
        lines.insert(at, f"{key} = {value}")


def _find(lines: list[str], table: str, key: str, want: str) -> tuple[int, int]:
    key_re = re.compile(rf"^\s*{key}\s*=\s*(.+?)\s*(#.*)?$")
    for start, end in _blocks(lines, table):
        for i in range(start + 1, end):
            m = key_re.match(lines[i])
            if m and m.group(1) == want:
                return start, end
    raise KeyError(f"no {table} with {key} = {want}")


def quick_edit(text: str, cfg: HallConfig, edit: dict[str, Any]) -> str:
    """The hall file's text with one common change made in place (comments kept):

    - `{"service": code, "daily_quota": n, "hours": name}` (either field may be left out),
    - `{"window": no, "services": [codes], "backup": no or None}`.

    Raises KeyError (no such item or window) or ValueError (a malformed edit); the result
    still has to pass `parse_text` like any other text.
    """
    lines = text.splitlines()
    if "service" in edit:
        code = edit["service"]
        if not isinstance(code, str) or not cfg.has_service(code):
            raise KeyError(f"no service item {code!r}")
        start, end = _find(lines, "services", "code", json.dumps(code, ensure_ascii=False))
        if edit.get("daily_quota") is not None:
            quota = edit["daily_quota"]
            if isinstance(quota, bool) or not isinstance(quota, int):
                raise ValueError("daily_quota must be an integer")
            _set_key(lines, start, end, "daily_quota", str(quota))
            start, end = _find(lines, "services", "code", json.dumps(code, ensure_ascii=False))
        if edit.get("hours") is not None:
            if not isinstance(edit["hours"], str):
                raise ValueError("hours must be the name of an [hours.NAME] table")
            _set_key(lines, start, end, "hours", json.dumps(edit["hours"], ensure_ascii=False))
    elif "window" in edit:
        no = edit["window"]
        if isinstance(no, bool) or not isinstance(no, int) or not cfg.has_window(no):
            raise KeyError(f"no window {no!r}")
        services = edit.get("services")
        if services is not None:
            if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
                raise ValueError("services must be a list of item codes")
            start, end = _find(lines, "windows", "no", str(no))
            _set_key(lines, start, end, "services", json.dumps(services, ensure_ascii=False))
        if "backup" in edit:
            backup = edit["backup"]
            if backup is not None and (isinstance(backup, bool) or not isinstance(backup, int)):
                raise ValueError("backup must be a window number or null")
            start, end = _find(lines, "windows", "no", str(no))
            _set_key(lines, start, end, "backup", None if backup is None else str(backup))
    else:
        raise ValueError("an edit names a service (item) or a window")
    return "\n".join(lines) + "\n"
