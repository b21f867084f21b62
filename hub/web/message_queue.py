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

`Peers` also carries the few things only the hub holding a socket can do (a clerk's sessions
ended by a sign-in elsewhere, a clerk moved to another window): each hub does them for its own
sockets, and tells the others on the same channel.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import socketio

log = logging.getLogger(__name__)

BATCH = "onestop_batch"  # a method python-socketio's listener does not know, so never handles
CONTROL = "onestop_peers"  # likewise: a message for the other hubs' Peers


class BatchingRedisManager(socketio.RedisManager):
    """A RedisManager whose emits inside `batch()` leave as one Redis message."""

    def __init__(self, url: str, channel: str = "flask-socketio") -> None:
        # A Redis host that stops answering must not hold a commit (publishing runs under the
        # service lock) for the OS's connect timeout; a dead listening connection is found by
        # a PING when it has been quiet for 30 s.
        super().__init__(url, channel=channel, redis_options={
            "socket_connect_timeout": 3, "health_check_interval": 30})
        # Per thread, and per green thread under eventlet (threading.local is patched): another
        # greenlet's emits while a commit's batch waits on Redis are not swept into it.
        self._pending = threading.local()
        self._handlers: dict[str, Callable[[Any], None]] = {}

    def on_control(self, kind: str, handler: Callable[[Any], None]) -> None:
        self._handlers[kind] = handler

    def send_control(self, kind: str, payload: Any) -> None:
        super()._publish({"method": CONTROL, "host_id": self.host_id, "kind": kind,
                          "payload": payload})

    def _control(self, data: dict[str, Any]) -> None:
        if data.get("host_id") == self.host_id:
            return  # this hub did it already
        handler = self._handlers.get(str(data.get("kind")))
        if handler is None:
            log.warning("ignored a message for peers of unknown kind %.40r", data.get("kind"))
            return
        try:
            handler(data.get("payload"))
        except Exception:  # a bad message must not stop this hub's listening
            log.exception("a message from another hub (%s) failed", data.get("kind"))

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
            elif isinstance(data, dict) and data.get("method") == CONTROL:
                self._control(data)
            else:
                yield data


def batch(sio: Any) -> contextlib.AbstractContextManager[None]:
    """`with batch(socketio):` around one commit's emits (a no-op without a message queue)."""
    manager = getattr(getattr(sio, "server", None), "manager", None)
    if isinstance(manager, BatchingRedisManager):
        return manager.batch()
    return contextlib.nullcontext()


class Peers:
    """The other hubs on the same message queue (none without one): `tell` them to do
    something for their own sockets, `on` what they tell this one."""

    def __init__(self, sio: Any) -> None:
        server = getattr(sio, "server", None)
        manager = getattr(server, "manager", None)
        self._manager = manager if isinstance(manager, BatchingRedisManager) else None
        if self._manager is not None and server is not None and not server.manager_initialized:
            # python-socketio starts listening to Redis at this hub's first connection; a hub
            # nobody has connected to yet must still hear what the other hubs tell it.
            server.manager_initialized = True
            self._manager.initialize()

    @property
    def shared(self) -> bool:
        """Whether there are other hubs to tell (a message queue)."""
        return self._manager is not None

    @property
    def host_id(self) -> str:
        """This hub among its peers ("" without a message queue)."""
        return self._manager.host_id if self._manager is not None else ""

    def on(self, kind: str, handler: Callable[[Any], None]) -> None:
        if self._manager is not None:
            self._manager.on_control(kind, handler)

    def tell(self, kind: str, payload: Any) -> None:
        if self._manager is not None:
            self._manager.send_control(kind, payload)
