"""Hub messages in commit order, although the Socket.IO client hands each one to a new thread.

python-socketio's threaded client runs every incoming message's handler on a thread of its own,
so two events committed a millisecond apart may reach our code swapped. Handlers only `put`
here; one worker `take`s them by sequence number, holding each back briefly so that an earlier
one still on its way can overtake it.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from typing import Any

HOLD_S = 0.02


class SeqOrderer:
    def __init__(self, hold_s: float = HOLD_S) -> None:
        self.hold_s = hold_s
        self._heap: list[tuple[int, int, float, str, Any]] = []
        self._tie = itertools.count()
        self._cond = threading.Condition()
        self._closed = False

    def put(self, kind: str, message: dict[str, Any]) -> None:
        """`kind` is "snapshot" or "event"; a snapshot orders at its seq, before later events."""
        seq = message.get("seq", 0) if isinstance(message, dict) else 0
        with self._cond:
            heapq.heappush(self._heap, (seq, next(self._tie), time.monotonic(), kind, message))
            self._cond.notify()

    def take(self, timeout_s: float = 1.0) -> tuple[str, dict[str, Any]] | None:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                if self._heap:
                    ready_at = self._heap[0][2] + self.hold_s
                    if now >= ready_at:
                        _, _, _, kind, message = heapq.heappop(self._heap)
                        return kind, message
                    wait = min(ready_at, deadline) - now
                else:
                    wait = deadline - now
                if wait <= 0:
                    return None
                self._cond.wait(wait)
            return None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
