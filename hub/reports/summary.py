"""What a report counts of tickets: the per-(window, clerk, item) counts and the minute
histograms of one day (to store) or of the open days (read live), and 承诺件 due.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import msgspec

from hub.config import HallConfig
from hub.engine.model import RATING_CHANNELS
from hub.store.database import Database

FIELDS = ("issued", "called", "served", "no_shows", "transferred", "returned", "expired",
          "wait_n", "wait_s", "serve_n", "serve_s", "within_target",
          "r1", "r2", "r3", "r4", "r5", "not_rated",
          "slips_on_time", "slips_late", "slips_pending",
          *(f"rated_{c}" for c in RATING_CHANNELS))  # ratings by channel (migration 0018)
_I = {name: i for i, name in enumerate(FIELDS)}
_DONE = ("done", "ready", "collected")


def field_index(name: str) -> int:
    """Where a field sits in a counts row (a row is a list, in FIELDS' order)."""
    return _I[name]


# --- the part of a ticket a report reads (unknown fields are skipped: decoding stays cheap) --

class _Visit(msgspec.Struct, kw_only=True):
    window: int
    clerk: str
    service: str
    called_at: dt.datetime
    ended_at: dt.datetime | None = None
    end: str | None = None


class _Rating(msgspec.Struct, kw_only=True):
    window: int
    clerk: str
    status: str = "pending"
    level: int | None = None
    source: str | None = None


class _Ticket(msgspec.Struct, kw_only=True):
    service: str
    status: str = "waiting"
    issued_at: dt.datetime
    rating: _Rating | None = None
    visits: list[_Visit] = []


_decode_ticket = msgspec.json.Decoder(_Ticket).decode
Key = tuple[int, str, str]  # (window_no, clerk, service); (0, "", service): never called
HistKey = tuple[str, str, str, int]  # (dim, k, metric, bucket)


def minutes_up(seconds: float) -> int:
    """Whole minutes, rounded up, capped at a day: the histograms' bucket of a time."""
    return min(1440, max(0, math.ceil(seconds / 60 - 1e-9)))


class Summary:
    """Counts and histograms of some tickets: of one day (to store) or of the open days."""

    def __init__(self, cfg: HallConfig) -> None:
        self.zone = cfg.zone
        self.targets = {s.code: s.target_minutes * 60 for s in cfg.services}
        self.counts: dict[Key, list[float]] = defaultdict(lambda: [0] * len(FIELDS))
        self.hist: dict[HistKey, int] = defaultdict(int)
        self.tickets = 0

    def _times(self, metric: str, seconds: float, visit: _Visit) -> None:
        bucket = minutes_up(seconds)
        for dim, k in (("all", ""), ("service", visit.service), ("window", str(visit.window)),
                       ("clerk", visit.clerk)):
            self.hist[(dim, k, metric, bucket)] += 1

    def add(self, t: _Ticket) -> None:
        self.tickets += 1
        visits = t.visits
        first: Key = (visits[0].window, visits[0].clerk, visits[0].service) if visits else (
            0, "", t.service)
        row = self.counts[first]
        row[_I["issued"]] += 1
        self.hist[("all", "", "issued_hour", t.issued_at.astimezone(self.zone).hour)] += 1
        if visits:
            wait = (visits[0].called_at - t.issued_at).total_seconds()
            row[_I["wait_n"]] += 1
            row[_I["wait_s"]] += wait
            self._times("wait", wait, visits[0])
        elif t.status == "expired":
            row[_I["expired"]] += 1
        for v in visits:
            row = self.counts[(v.window, v.clerk, v.service)]
            row[_I["called"]] += 1
            if v.end == "finished" and v.ended_at is not None:
                took = (v.ended_at - v.called_at).total_seconds()
                row[_I["served"]] += 1
                row[_I["serve_n"]] += 1
                row[_I["serve_s"]] += took
                row[_I["within_target"]] += took <= self.targets.get(v.service, 15 * 60)
                self._times("serve", took, v)
                self.hist[("all", "", "served_hour", v.ended_at.astimezone(self.zone).hour)] += 1
            elif v.end == "no_show":
                row[_I["no_shows"]] += 1
            elif v.end == "transferred":
                row[_I["transferred"]] += 1
            elif v.end == "return_requested":
                row[_I["returned"]] += 1
            elif v.end == "expired":
                row[_I["expired"]] += 1
        r = t.rating
        if r is not None and r.status in ("rated", "not_rated"):
            row = self.counts[(r.window, r.clerk, t.service)]
            if r.status == "rated" and r.level in (1, 2, 3, 4, 5):
                row[_I[f"r{r.level}"]] += 1
                channel = _I.get(f"rated_{r.source or 'keypad'}")
                if channel is not None:
                    row[channel] += 1
            else:
                row[_I["not_rated"]] += 1

    def add_rows(self, rows: Iterable[Any]) -> None:
        for row in rows:
            self.add(_decode_ticket(row["data"]))

    def add_slips(self, db: Database, start: dt.date, end: dt.date, open_day: dt.date) -> None:
        """承诺件 due in [start, end]: done by the end of the promised (local) day, late (done
        after it, or not done and the day is over), or pending (not done, not yet due)."""
        deadline: dict[str, str] = {}  # promised date -> first UTC instant after it, as stored
        for row in db.query(_SLIPS_SQL, (start.isoformat(), end.isoformat())):
            promised = row["promised_date"]
            if promised not in deadline:
                after = dt.datetime.combine(
                    dt.date.fromisoformat(promised) + dt.timedelta(days=1), dt.time(),
                    tzinfo=self.zone)
                deadline[promised] = after.astimezone(dt.UTC).isoformat(timespec="microseconds")
            done = row["done_at"]
            if done is not None and done < deadline[promised]:
                field = "slips_on_time"
            elif done is not None or dt.date.fromisoformat(promised) < open_day:
                field = "slips_late"
            else:
                field = "slips_pending"
            role, _, clerk = (row["actor"] or "").partition(":")
            key = (row["window_no"] or 0, clerk if role == "clerk" else "", row["service"])
            self.counts[key][_I[field]] += 1


# The one JSON look-up: the slip status an event moved to, matched in the event's text
# (msgspec writes compact JSON). Portable LIKE rather than json_extract / ->>.
_DONE_LIKE = " OR ".join(f"e.data LIKE '%\"status\":\"{s}\"%'" for s in _DONE)
# The window and clerk of a slip are those of its ticket.finished event (a finished ticket's
# row no longer names them: it left the window).
_SLIPS_SQL = (
    "SELECT s.service, s.promised_date, f.window_no, f.actor, "
    "(SELECT MIN(e.at) FROM events e WHERE e.ticket_id = s.ticket_id "
    f"AND e.type = 'slip.status_changed' AND ({_DONE_LIKE})) AS done_at "
    "FROM slips s LEFT JOIN events f ON f.ticket_id = s.ticket_id AND f.type = 'ticket.finished' "
    "WHERE s.promised_date >= ? AND s.promised_date <= ?"
)
