"""A real CloudEvents batch receiver on loopback, standing in for the city's supervision backend.

It is deliberately unreliable (switches, like OctoPrint's virtual printer): it answers 500 to a
share of the requests (or to all of them once it has accepted `accept_limit` batches: a backend
that goes down right after acknowledging), hangs past the forwarder's timeout on others (and
then still accepts the batch, as a real backend that was merely slow would, so the retry is an
exact repeat), refuses any batch holding an event a predicate picks with a 400, and records
every event it accepted, each one parsed back by the CloudEvents SDK. Used by
tests/test_forwarder.py and benchmarks/forwarding.py.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cloudevents.core.formats.json import JSONFormat

from hub.simulation.soak.backend import BATCH_TYPE, LoopbackReceiver

_format = JSONFormat()


@dataclass
class Receiver(LoopbackReceiver):
    fail_rate: float = 0.0  # share of requests answered 500
    hang_rate: float = 0.0  # share of requests held `hang_s` before being answered
    hang_s: float = 0.0
    reject: Callable[[dict[str, Any]], bool] = lambda _event: False  # -> 400 for its batch
    token: str = ""  # expected bearer token ("" = none checked)
    seed: int = 7
    accept_limit: int | None = None  # batches accepted before all get 500 (None: no limit)
    accepted: list[dict[str, Any]] = field(default_factory=list)  # every accepted copy
    requests: int = 0
    batches: int = 0  # batches accepted
    statuses: dict[int, int] = field(default_factory=dict)
    invalid: list[str] = field(default_factory=list)  # what the SDK or the checks refused
    tls: tuple[str, str] | None = None  # (certificate, key): the backend answers over HTTPS

    def __post_init__(self) -> None:
        super().__init__(tls=self.tls, name="receiver")
        self.rng = random.Random(self.seed)

    def ids(self) -> set[str]:
        with self.lock:
            return {e["id"] for e in self.accepted}

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.accepted)

    # --- the HTTP side ------------------------------------------------------------------

    def _decide(self) -> tuple[bool, bool]:
        with self.lock:
            self.requests += 1
            down = self.accept_limit is not None and self.batches >= self.accept_limit
            return down or self.rng.random() < self.fail_rate, self.rng.random() < self.hang_rate

    def _answer(self, headers: Any, body: bytes) -> tuple[int, str]:
        status, text = self._judge(headers, body)
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
        return status, text

    def _judge(self, headers: Any, body: bytes) -> tuple[int, str]:
        fail, hang = self._decide()
        if hang:
            time.sleep(self.hang_s)
        if fail:
            return 500, "backend busy"
        if self.token and headers.get("Authorization") != f"Bearer {self.token}":
            return 401, "bad token"
        if headers.get("Content-Type") != BATCH_TYPE:
            return 415, f"want {BATCH_TYPE}"
        try:
            events = [self._parse(item) for item in json.loads(body)]
        except Exception as err:  # any parse failure is the sender's bug: record it
            with self.lock:
                self.invalid.append(repr(err))
            return 400, f"invalid CloudEvent: {err}"
        refused = [e["id"] for e in events if self.reject(e)]
        if refused:
            return 400, f"rejected event(s) {', '.join(refused)}"
        with self.lock:
            self.accepted.extend(events)
            self.batches += 1
        return 200, "ok"

    @staticmethod
    def _parse(item: dict[str, Any]) -> dict[str, Any]:
        """Parse one element with the SDK (it validates the required attributes)."""
        event = _format.read(None, json.dumps(item))
        assert event.get_specversion() == "1.0"
        assert event.get_datacontenttype() == "application/json"
        return {
            "id": event.get_id(),
            "source": event.get_source(),
            "type": event.get_type(),
            "subject": event.get_subject(),
            "time": event.get_time(),
            "sequence": int(event.get_extension("sequence")),
            "data": event.get_data(),
        }
