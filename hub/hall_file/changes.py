"""What a new hall file changes, and whether the live hall allows it now.

`diff` summarises a change (departments, items and windows added, removed or changed, other
sections); `blockers` says what in the live state forbids it: no ticket of today may lose its
item or window, and the time zone (what "today" is) needs a restart.
"""

from __future__ import annotations

from typing import Any

import msgspec

from hub.config import HallConfig
from hub.engine.model import OPEN_STATUSES, HallState, TicketStatus


def _by_key(items: list[Any], key: str) -> dict[Any, bytes]:
    return {getattr(i, key): msgspec.json.encode(i) for i in items}


def diff(old: HallConfig, new: HallConfig) -> dict[str, Any]:
    """A short summary of a change: departments, items and windows added, removed or changed,
    and the other sections that changed. Empty when the two halls are the same."""
    out: dict[str, Any] = {}
    for section, key in (("departments", "code"), ("services", "code"), ("windows", "no")):
        before, after = _by_key(getattr(old, section), key), _by_key(getattr(new, section), key)
        part = {
            "added": [k for k in after if k not in before],
            "removed": [k for k in before if k not in after],
            "changed": [k for k in after if k in before and after[k] != before[k]],
        }
        part = {k: v for k, v in part.items() if v}
        if part:
            out[section] = part
    others = [
        f.name for f in msgspec.structs.fields(HallConfig)
        if f.name not in ("departments", "services", "windows")
        and msgspec.json.encode(getattr(old, f.name)) != msgspec.json.encode(getattr(new, f.name))
    ]
    if others:
        out["sections"] = others
    return out


def describe(summary: dict[str, Any]) -> str:
    """The summary in one line, for the log and the command line."""
    parts = []
    for section in ("departments", "services", "windows"):
        for how, keys in summary.get(section, {}).items():
            parts.append(f"{section} {how}: {', '.join(map(str, keys))}")
    if summary.get("sections"):
        parts.append(f"sections changed: {', '.join(summary['sections'])}")
    return "; ".join(parts) or "no change"



def blockers(old: HallConfig, new: HallConfig, state: HallState) -> list[tuple[str, str]]:
    """What in the live hall forbids this change, as (Chinese, English) reasons.

    Tickets already issued keep their numbers and items whatever the file says; but an item
    cannot disappear (or change its number prefix) under a ticket still waiting or at a
    window, nor a window under a clerk signed in there or a ticket sent to it.
    """
    found: list[tuple[str, str]] = []
    if new.center.timezone != old.center.timezone:
        found.append((
            f"时区变更（{old.center.timezone} → {new.center.timezone}）须重启中心服务",
            f"changing center.timezone ({old.center.timezone} -> {new.center.timezone}) "
            "needs a restart of the hub",
        ))
    live: dict[str, int] = {}
    for t in state.tickets.values():
        if t.day == state.day and (t.status in OPEN_STATUSES
                                   or t.status is TicketStatus.RETURN_PENDING):
            live[t.service] = live.get(t.service, 0) + 1
    for svc in old.services:
        count = live.get(svc.code, 0)
        if not count:
            continue
        if not new.has_service(svc.code):
            found.append((f"事项 {svc.code}（{svc.name}）今日尚有 {count} 张号未办结，不能删除",
                           f"item {svc.code} has {count} ticket(s) waiting or called today: "
                           "it cannot be removed"))
        elif new.service(svc.code).prefix != svc.prefix:
            found.append((f"事项 {svc.code} 今日尚有 {count} 张号未办结，不能修改号码前缀",
                           f"item {svc.code} has {count} ticket(s) waiting or called today: "
                           "its prefix cannot change"))
    for w in old.windows:
        if new.has_window(w.no):
            continue
        win = state.windows.get(w.no)
        if win is not None and win.clerk is not None:
            found.append((f"{w.no}号窗口有工作人员 {win.clerk.username} 登录，不能删除",
                          f"window {w.no} has clerk {win.clerk.username} signed in: "
                          "it cannot be removed"))
        elif win is not None and (win.current or win.rating_ticket):
            found.append((f"{w.no}号窗口尚有号在办理，不能删除",
                          f"window {w.no} still has a ticket at it: it cannot be removed"))
        sent = sum(1 for t in state.tickets.values()
                   if t.target_window == w.no and t.status is TicketStatus.WAITING)
        if sent:
            found.append((f"有 {sent} 张号转至{w.no}号窗口等候，不能删除该窗口",
                          f"{sent} ticket(s) wait for window {w.no}: it cannot be removed"))
    return found
