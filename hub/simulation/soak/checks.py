"""The soak's end checks, each a pure function of what was gathered at the end of the day: the
event log (the store's events), the Ledger of what the hall's people were told and did, the
backend's event ids, the office's report, the hub's memory and the processes' logs. Each says
PASS or FAIL with its numbers; a FAIL names the first few culprits."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from .recount import recount

SHOW = 5  # culprits named in a FAIL's detail
RSS_GROWTH = 0.10
# Figures of the report compared with the recount: counts exactly, means to their rounding.
EXACT = ("issued", "called", "served", "no_shows", "transferred", "expired", "not_rated",
         "ratings", "wait_p90_min", "serve_p90_min")
MEANS = ("wait_mean_s", "serve_mean_s")
PAUSE_ROUNDING_S = 0.11  # both sides round each reason's seconds to 0.1
TRACEBACK = re.compile(r"^Traceback \(most recent call last\):", re.MULTILINE)


@dataclass
class Check:
    name: str
    passed: bool
    numbers: dict[str, Any] = field(default_factory=dict)
    detail: str = ""

    def line(self) -> str:
        numbers = ", ".join(f"{k} {v}" for k, v in self.numbers.items())
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name}: {numbers}" + (
            f"\n      {self.detail}" if self.detail else "")


def _names(items: Any) -> str:
    items = sorted(items)
    return ", ".join(map(str, items[:SHOW])) + (" …" if len(items) > SHOW else "")


def final_states(events: list[dict[str, Any]]) -> Check:
    """Every ticket ends exactly once: finished, dropped as a no-show (its second), or expired
    at the day's end; and nothing ends it again after that."""
    ends: Counter = Counter()
    for e in events:
        d = e["data"]
        if e["type"] == "ticket.issued":
            ends[d["ticket_id"]] += 0
        elif e["type"] == "ticket.finished" or (e["type"] == "ticket.no_show"
                                                and not d.get("requeued")):
            ends[d["ticket_id"]] += 1
        elif e["type"] == "day.rolled":
            ends.update(d.get("expired", []))
    bad = {t for t, n in ends.items() if n != 1}
    return Check("every ticket in exactly one final state", not bad,
                 {"tickets": len(ends), "not ended": sum(1 for n in ends.values() if n == 0),
                  "ended twice": sum(1 for n in ends.values() if n > 1)},
                 f"e.g. {_names(bad)}" if bad else "")


def acknowledged_kept(events: list[dict[str, Any]], acked: dict[str, str]) -> Check:
    """Every ticket the kiosk was given is in the log, and no ticket was issued twice for one
    citizen (a request asked again after a lost answer gets the same ticket)."""
    issued = {e["data"]["ticket_id"]: e["data"]["service"] for e in events
              if e["type"] == "ticket.issued"}
    lost = set(acked) - set(issued)
    unknown = set(issued) - set(acked)
    wrong = {t for t, s in acked.items() if t in issued and issued[t] != s}
    return Check("nothing acknowledged lost", not (lost or unknown or wrong),
                 {"acknowledged": len(acked), "in the log": len(issued), "lost": len(lost),
                  "never acknowledged": len(unknown), "wrong item": len(wrong)},
                 f"e.g. {_names(lost | unknown | wrong)}" if lost or unknown or wrong else "")


def ratings(events: list[dict[str, Any]], pressed: dict[str, int]) -> Check:
    """Every press the keypad took is the ticket's one rating, at its level; no ticket rated
    twice; every request ends once (rated or expired), never rated after it expired."""
    rated: dict[str, list[int]] = defaultdict(list)
    ends: Counter = Counter()
    expired_then_rated: set[str] = set()
    expired: set[tuple[str, int]] = set()
    for e in events:
        d = e["data"]
        key = (d.get("ticket_id", ""), d.get("request_id", 0))
        if e["type"] == "ticket.rated":
            rated[key[0]].append(int(d["level"]))
            ends[key] += 1
            if key in expired:
                expired_then_rated.add(key[0])
        elif e["type"] == "rating.expired":
            expired.add(key)
            ends[key] += 1
    lost = {t for t, level in pressed.items() if rated.get(t, [None])[0] != level}
    doubled = {t for t, levels in rated.items() if len(levels) > 1}
    ended_twice = {k[0] for k, n in ends.items() if n > 1}
    bad = lost | doubled | ended_twice | expired_then_rated
    return Check("no rating lost or doubled", not bad,
                 {"pressed": len(pressed), "rated in the log": len(rated), "lost": len(lost),
                  "doubled": len(doubled), "request ended twice": len(ended_twice),
                  "rated after expiry": len(expired_then_rated)},
                 f"e.g. {_names(bad)}" if bad else "")


def delivered(events: list[dict[str, Any]], backend_ids: set[str], bad_batches: int) -> Check:
    """Every event of the log reached the backend, by its id."""
    missing = {e["id"] for e in events} - backend_ids
    return Check("every event at the backend by id", not missing and not bad_batches,
                 {"events": len(events), "at the backend": len(backend_ids & {
                     e["id"] for e in events}), "missing": len(missing),
                  "invalid batches": bad_batches},
                 f"missing seq e.g. {_names(e['seq'] for e in events if e['id'] in missing)}"
                 if missing else "")


def report_matches(report: dict[str, Any], events: list[dict[str, Any]],
                   zone: dt.tzinfo = dt.UTC) -> Check:
    """The office's report of the day (per item, and its total) equals the recount from the
    event log; the total's paused seconds per reason too (`zone`: the hall's, whose midnight
    ends a pause still open)."""
    counted = recount(events, zone)
    rows = {r["key"]: r for r in report.get("rows", [])} | {"": report.get("total", {})}
    diffs = []
    for key in sorted(set(counted) | {k for k, r in rows.items() if r.get("issued")}):
        mine, theirs = counted.get(key, {}), rows.get(key, {})
        for name in EXACT:
            if _zero(mine.get(name)) != _zero(theirs.get(name)):
                diffs.append(f"{key or 'total'}.{name}: report {theirs.get(name)} "
                             f"log {mine.get(name)}")
        for name in MEANS:
            a, b = mine.get(name), theirs.get(name)
            if (a is None) != (b is None) or (a is not None and abs(a - b) > 0.11):
                diffs.append(f"{key or 'total'}.{name}: report {b} log {a}")
    diffs.extend(_pause_diffs(counted.get("", {}), rows.get("", {})))
    return Check("the day's report equals the recount from the event log", not diffs,
                 {"items": len(counted) - 1, "figures compared": (len(counted)) * (
                     len(EXACT) + len(MEANS)) + 1, "differences": len(diffs),
                  "paused min": round(counted.get("", {}).get("pause_s", 0) / 60, 1)},
                 "; ".join(diffs[:SHOW]))


def _pause_diffs(mine: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """Paused seconds per reason, each to the report's rounding (0.1 s)."""
    a, b = mine.get("pause_by_reason") or {}, theirs.get("pause_by_reason") or {}
    return [f"total.pause_by_reason.{r}: report {b.get(r)} log {a.get(r)}"
            for r in sorted(set(a) | set(b))
            if abs(float(a.get(r) or 0) - float(b.get(r) or 0)) > PAUSE_ROUNDING_S]


def _zero(value: Any) -> Any:
    """A count the report leaves out or writes as 0 is the same."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if v}
    return 0 if value is None else value


def memory(first_hour_kib: int | None, end_kib: int | None) -> Check:
    """The hub's resident memory at the end is within 10 % of what it was an hour into the
    day (growth is what a leak looks like; a hub restarted by a fault may well be leaner)."""
    ok = bool(first_hour_kib and end_kib and end_kib <= first_hour_kib * (1 + RSS_GROWTH))
    growth = (end_kib / first_hour_kib - 1) if first_hour_kib and end_kib else None
    return Check("hub RSS at the end within 10 % of the first hour", ok,
                 {"first hour MiB": _mib(first_hour_kib), "end MiB": _mib(end_kib),
                  "growth": f"{growth:+.1%}" if growth is not None else None})


def _mib(kib: int | None) -> float | None:
    return round(kib / 1024, 1) if kib else None


def no_tracebacks(logs: dict[str, str]) -> Check:
    found = {name: len(TRACEBACK.findall(text)) for name, text in logs.items()}
    bad = {name for name, n in found.items() if n}
    return Check("no traceback in any log", not bad,
                 {"logs": len(logs), "tracebacks": sum(found.values())},
                 f"in {_names(bad)}" if bad else "")
