"""The hubs' message queue (issue 9): python-socketio's Redis manager, one Redis message per commit.

python-socketio sends every `emit` to this hub's own clients and then PUBLISHes it to Redis for
the other hubs, a round trip each. One commit's push is about a dozen emits (each event to the
screens, panels, kiosks, agents and the office, then the kiosks' status), and the hub publishes
under the service lock, so a burst of call-nexts queued behind a dozen Redis round trips each.
`batch()` collects one commit's emits into a single PUBLISH; the other hubs unpack it and handle
each emit exactly as python-socketio would have handled it alone, in the same order.

An emit to one client of this hub (its sid: a snapshot at connection) is not published at all:
no other hub holds that client.

Only the documented hooks of a pub/sub manager are overridden: `_publish` (send one message)
and `_listen` (yield the received ones). Other emits outside a batch are published as before.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

import socketio

log = logging.getLogger(__name__)

BATCH = "onestop_batch"  # a method python-socketio's listener does not know, so never handles


class BatchingRedisManager(socketio.RedisManager):
    """A RedisManager whose emits inside `batch()` leave as one Redis message."""

    def __init__(self, url: str, channel: str = "flask-socketio") -> None:
        super().__init__(url, channel=channel)
        # Per thread, and per green thread under eventlet (threading.local is patched): another
        # greenlet's emits while a commit's batch waits on Redis are not swept into it.
        self._pending = threading.local()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        if getattr(self._pending, "messages", None) is not None:  # nested: the outer one sends
            yield
            return
        messages: list[dict[str, Any]] = []
        self._pending.messages = messages
        try:
            yield
        finally:
            self._pending.messages = None
            if messages:
                super()._publish({"method": BATCH, "host_id": self.host_id,
                                  "messages": messages})

    def _publish(self, data: dict[str, Any]) -> Any:
        if data.get("method") == "emit":  # already handled for this hub's own clients
            room, namespace = data.get("room"), data.get("namespace") or "/"
            if isinstance(room, str) and (self.is_connected(room, namespace)
                                          or self.is_pre_connected(room, namespace)):
                # To one client of this very hub (a snapshot, an answer): no other hub has it.
                # After a failover hundreds of screens reconnect at once, each with a snapshot.
                return None
            messages = getattr(self._pending, "messages", None)
            if messages is not None:
                messages.append(data)
                return None
        return super()._publish(data)

    def _listen(self) -> Iterator[Any]:
        for raw in super()._listen():
            try:
                data = self.json.loads(raw) if not isinstance(raw, dict) else raw
            except ValueError:
                log.warning("ignored a message queue message that is not JSON: %.80r", raw)
                continue
            if isinstance(data, dict) and data.get("method") == BATCH:
                messages = data.get("messages")
                if isinstance(messages, list):
                    yield from (m for m in messages if isinstance(m, dict))
            else:
                yield data


def batch(sio: Any) -> contextlib.AbstractContextManager[None]:
    """`with batch(socketio):` around one commit's emits (a no-op without a message queue)."""
    manager = getattr(getattr(sio, "server", None), "manager", None)
    if isinstance(manager, BatchingRedisManager):
        return manager.batch()
    return contextlib.nullcontext()
