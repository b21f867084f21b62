"""`onestop forward`: the at-least-once feed of the hall's events to the city's supervision
backend (电子监察), as CloudEvents 1.0 in HTTP batch mode.

It runs as a process of its own next to the hub, so a slow, down or refusing backend can never
slow a kiosk or a clerk: the hub only appends to the `events` outbox (in the same transaction
as every change); this process reads it through its own SQLite connection (WAL: readers never
block the writer) and keeps its cursor in the same database.

Delivery rules, in order of the outbox's `seq`:

- the cursor moves (its own short transaction) only after a 2xx for the events before it, at
  most once a second while the backend acknowledges, and at once when it stops (before the
  first retry of a batch): a crash anywhere re-sends, never skips, and re-sends at most the last
  second's acknowledged events and the batch in flight, however long an outage lasts; the
  backend may see an exact repeat (same `id`);
- connection errors, timeouts, 5xx, 408 and 429 retry the same batch with exponential backoff
  and full jitter, forever;
- another 4xx splits the batch in halves until the refused event(s) stand alone; an event
  refused on its own is kept in `dead_letters` and the cursor moves past it;
- 401/403/404/405/407 say the hall is misconfigured (token, certificate, address), not that an
  event is bad, so they retry like a 5xx: a wrong token must not dead-letter a whole day.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import requests
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from hub import sdnotify
from hub.config import Backend
from hub.engine.model import AnyEvent, public_fields
from hub.store.database import Database
from hub.store.forwarding import DeadLetter, Outbox, OutboxEvent

log = logging.getLogger(__name__)

BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"
TYPE_PREFIX = "cn.gov.hall."
TOKEN_ENV = "ONESTOP_BACKEND_TOKEN"
IDLE_POLL_S = 0.25  # a new event reaches the backend within this, when it is up
# The cursor's row is written at most this often while batches are acknowledged (and at once
# when one is not, and on stop): each write takes SQLite's one write lock for a moment, which
# the hub's next commit would wait for (the forwarder runs niced, so a write it is preempted in
# holds the hub up longer). Lagging it only means a crash re-sends up to this much (at least
# once allows that), never that anything is skipped.
CURSOR_COMMIT_EVERY_S = 1.0
BACKOFF_BASE_S = 0.2  # first retry within 0.2 s, then 0.4, 0.8 … up to max_backoff_s
RETRY_STATUSES = frozenset({401, 403, 404, 405, 407, 408, 429})  # 4xx that are not the event's
REPLAY_ATTEMPTS = 3
LOCK_FILE = "forward.lock"

_format = JSONFormat()
_event_decoder = msgspec.json.Decoder(AnyEvent)
_data_decoder = msgspec.json.Decoder(dict[str, Any])


class Stopped(Exception):
    """SIGTERM/SIGINT while waiting to retry: leave with the cursor where it is."""


class Result(msgspec.Struct, frozen=True):
    """The backend's answer to one POST: `status` 0 when there was none (network, timeout)."""

    status: int
    body: str = ""
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def rejected(self) -> bool:
        """The events themselves are refused: split, then dead-letter what stays refused."""
        return 400 <= self.status < 500 and self.status not in RETRY_STATUSES


# --- the envelope -------------------------------------------------------------------------


def event_data(event: OutboxEvent, zone: dt.tzinfo) -> dict[str, Any]:
    """The event's own fields for `data`, its times in the hall's `zone` (docs/events.md); the
    envelope carries `type` and `at`, so data drops them."""
    try:
        data = public_fields(_event_decoder.decode(event.data), zone)
    except msgspec.ValidationError as err:
        # A row this version cannot type (written by a newer hub?) still goes out, as stored:
        # a feed that stopped at it would hold up every event after it.
        log.warning("event seq %d (%s) forwarded as stored, times not converted: %s",
                    event.seq, event.type, err)
        data = _data_decoder.decode(event.data)
        data.pop("type", None)
    data.pop("at", None)
    return data


def to_cloudevent(event: OutboxEvent, source: str, zone: dt.tzinfo) -> CloudEvent:
    """One outbox row as a CloudEvent."""
    data = event_data(event, zone)
    attributes: dict[str, Any] = {
        "specversion": "1.0",
        "id": event.id,
        "source": source,
        "type": TYPE_PREFIX + event.type,
        "time": dt.datetime.fromisoformat(event.at),
        "datacontenttype": "application/json",
        # CloudEvents sequence extension: a string, compared as a number within one source.
        "sequence": str(event.seq),
    }
    if event.ticket_id:
        attributes["subject"] = f"tickets/{event.ticket_id}"
    elif event.window_no is not None:
        attributes["subject"] = f"windows/{event.window_no}"
    return CloudEvent(attributes, data)


def encode_batch(events: list[OutboxEvent], source: str, zone: dt.tzinfo) -> bytes:
    """A JSON array of structured-mode CloudEvents (JSON Event Format §4, batch).

    The SDK (cloudevents 2.x) has no batch writer, so each event is written by the SDK's
    JSONFormat and the array is joined here.
    """
    return b"[" + b",".join(_format.write(to_cloudevent(e, source, zone)) for e in events) + b"]"


# --- HTTP -------------------------------------------------------------------------------


def read_token(backend: Backend) -> str:
    """The bearer token: the environment first (systemd credentials), then `token_file`."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token and backend.token_file:
        token = Path(backend.token_file).read_text(encoding="utf-8").strip()
    return token


def make_session(backend: Backend) -> requests.Session:
    session = requests.Session()
    session.headers["Content-Type"] = BATCH_CONTENT_TYPE
    session.headers["User-Agent"] = "onestop-forwarder"
    if token := read_token(backend):
        session.headers["Authorization"] = f"Bearer {token}"
    if backend.client_cert:
        session.cert = (backend.client_cert, backend.client_key)
    if backend.ca_file:
        session.verify = backend.ca_file
    return session


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date, or absent: our own backoff decides


class Forwarder:
    """Sends the outbox after the cursor to `backend.url`, batch by batch, until stopped."""

    def __init__(
        self,
        db: Database,
        backend: Backend,
        source: str,
        zone: dt.tzinfo,
        session: requests.Session | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        rng: random.Random | None = None,
        backoff_base_s: float = BACKOFF_BASE_S,
        idle_poll_s: float = IDLE_POLL_S,
    ) -> None:
        self.outbox = Outbox(db)
        self.backend = backend
        self.source = source
        self.zone = zone  # the hall's: times inside `data` are written with its offset
        self.session = session or make_session(backend)
        self.clock = clock
        self.rng = rng or random.Random()
        self.backoff_base_s = backoff_base_s
        self.idle_poll_s = idle_poll_s
        self.stop = threading.Event()
        self.position = self.outbox.cursor()  # acknowledged up to here; committed lags
        self._committed = self.position
        self._committed_at = 0.0  # time.monotonic() of the last cursor write
        self.sent = 0  # events acknowledged, for benchmarks and logs
        self.watchdog = sdnotify.Watchdog()  # WATCHDOG=1 under systemd, else no-op

    # --- the loop -----------------------------------------------------------------------

    def run(self) -> None:
        """Forward until `stop` is set; an idle outbox is polled every `idle_poll_s`."""
        log.info("forwarding to %s from seq %d", self.backend.url, self.position)
        sdnotify.ready(f"forwarding to {self.backend.url}")
        try:
            while not self.stop.is_set():
                self.watchdog.beat()
                try:
                    busy = self.step()
                except Stopped:
                    break
                if not busy:
                    self.stop.wait(self.idle_poll_s)
        finally:
            self.commit()
        log.info("forwarder stopped at seq %d", self.position)

    def step(self) -> bool:
        """Deliver the next batch; False when there was nothing to send."""
        batch = self.outbox.pending(self.position, self.backend.batch_size)
        if batch:
            self._deliver(batch)
        if time.monotonic() - self._committed_at >= CURSOR_COMMIT_EVERY_S:
            self.commit()
        return bool(batch)

    def commit(self) -> None:
        """Write the acknowledged position to the cursor row, if it moved."""
        if self.position > self._committed:
            self.outbox.advance(self.position, self.clock())
            self._committed = self.position
        self._committed_at = time.monotonic()

    def drain(self) -> None:
        """Send until the outbox is empty, and commit the cursor (tests and benchmarks)."""
        while self.step():
            pass
        self.commit()

    def _deliver(self, events: list[OutboxEvent]) -> None:
        """Deliver `events` completely: acknowledged or dead-lettered, the cursor past them."""
        failures = 0
        while True:
            self.watchdog.beat()  # a split batch can be many posts before the loop comes round
            result = self.post(events)
            if result.ok:
                if failures:
                    log.info("seq %d-%d delivered after %d failed attempt(s)",
                             events[0].seq, events[-1].seq, failures)
                self.position = events[-1].seq
                self.sent += len(events)
                return
            if result.rejected:
                self._split(events, result)
                return
            failures += 1
            if failures == 1:
                # The backend may stay down for hours: what it acknowledged before must not wait
                # for its return to be committed, or a crash in the outage would send it again
                # and the office would count it as unsent all along.
                self.commit()
            self.outbox.record_failure(f"HTTP {result.status}" if result.status else result.body,
                                       self.clock())
            self._backoff(events, result, failures)

    def _split(self, events: list[OutboxEvent], result: Result) -> None:
        if len(events) == 1:
            event = events[0]
            log.error("backend refused event seq %d (%s, id %s) with %d: dead letter; %s",
                      event.seq, event.type, event.id, result.status, result.body[:200],
                      extra={"onestop": {"event": "forward.dead_letter", "seq": event.seq,
                                         "type": event.type, "event_id": event.id,
                                         "status": result.status}})
            dead = DeadLetter(seq=event.seq, event_id=event.id, type=event.type,
                              status_code=result.status, response=result.body)
            self.outbox.advance(event.seq, self.clock(), dead)  # with the letter, at once
            self.position = self._committed = event.seq
            return
        half = len(events) // 2
        self._deliver(events[:half])  # in order: the cursor only ever moves forward
        self._deliver(events[half:])

    def _backoff(self, events: list[OutboxEvent], result: Result, failures: int) -> None:
        """Exponential backoff with full jitter (or the backend's Retry-After), one log line."""
        cap = min(self.backend.max_backoff_s, self.backoff_base_s * 2 ** min(failures - 1, 30))
        delay = self.rng.uniform(0, cap)
        if result.retry_after_s is not None:
            delay = min(self.backend.max_backoff_s, result.retry_after_s)
        what = f"HTTP {result.status}" if result.status else result.body
        log.warning("seq %d-%d not delivered (%s), attempt %d: retrying in %.1f s",
                    events[0].seq, events[-1].seq, what, failures, delay,
                    extra={"onestop": {"event": "forward.retry", "seq": events[0].seq,
                                       "seq_last": events[-1].seq, "attempt": failures,
                                       "status": result.status or None,
                                       "delay_s": f"{delay:.1f}"}})
        if self._wait(delay):
            raise Stopped

    def _wait(self, seconds: float) -> bool:
        """`stop.wait` in slices with a watchdog beat between them: a backend down for hours
        means long backoffs, which systemd must not take for a hung forwarder."""
        end = time.monotonic() + seconds
        slice_s = min(1.0, self.watchdog.interval or 1.0)
        while (left := end - time.monotonic()) > 0:
            self.watchdog.beat()
            if self.stop.wait(min(left, slice_s)):
                return True
        return self.stop.is_set()

    def post(self, events: list[OutboxEvent]) -> Result:
        """One POST of a batch; every network failure becomes a Result, never an exception."""
        body = encode_batch(events, self.source, self.zone)
        try:
            # verify named on the request: a session's own is overridden by REQUESTS_CA_BUNDLE
            # in the environment, which would swap the pinned CA for the system's store.
            response = self.session.post(self.backend.url, data=body,
                                         timeout=self.backend.timeout_s,
                                         verify=self.session.verify)
        except requests.Timeout:
            return Result(0, f"timeout after {self.backend.timeout_s:g} s")
        except requests.RequestException as err:
            return Result(0, f"{type(err).__name__}: {err}"[:300])
        with contextlib.closing(response):
            return Result(response.status_code, response.text[:2000], _retry_after(response))

    # --- dead letters -------------------------------------------------------------------

    def replay(self, seqs: list[int] | None = None) -> tuple[int, int]:
        """Send dead letters again now (all not yet replayed, or `seqs`): (delivered, still
        refused or undelivered). Each goes alone, with a few quick retries on network errors."""
        letters = self.outbox.dead_letters(include_replayed=seqs is not None)
        wanted = {d["seq"] for d in letters if seqs is None or d["seq"] in seqs}
        delivered = failed = 0
        for event in self.outbox.events(wanted):
            result = self._post_with_retries([event])
            if result.ok:
                self.outbox.mark_replayed([event.seq], self.clock())
                delivered += 1
                continue
            failed += 1
            log.error("replay of seq %d refused: %d %s", event.seq, result.status,
                      result.body[:200])
            if result.rejected:
                self.outbox.refused_again(
                    DeadLetter(seq=event.seq, event_id=event.id, type=event.type,
                               status_code=result.status, response=result.body),
                    self.clock(),
                )
        return delivered, failed

    def _post_with_retries(self, events: list[OutboxEvent]) -> Result:
        result = Result(0)
        for attempt in range(1, REPLAY_ATTEMPTS + 1):
            result = self.post(events)
            if result.ok or result.rejected or attempt == REPLAY_ATTEMPTS:
                break
            time.sleep(self.rng.uniform(0, self.backoff_base_s * 2**attempt))
        return result


@contextlib.contextmanager
def single_instance(data_dir: str | Path) -> Iterator[None]:
    """One forwarder per data directory: two would only double every delivery."""
    path = Path(data_dir) / LOCK_FILE
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OSError(f"another `onestop forward` is running on {data_dir}") from None
        yield  # the lock goes with the process, even on SIGKILL
