"""The hubs' message queue: python-socketio's Redis manager, one Redis message per
commit, and every hub's clients served the events in commit order.

python-socketio sends every `emit` to this hub's own clients and then PUBLISHes it to Redis for
the other hubs, a round trip each. One commit's push is about a dozen emits (each event to the
screens, panels, kiosks, agents and the office, then the kiosks' status), and the hub publishes
under the service lock, so a burst of call-nexts queued behind a dozen Redis round trips each.
`collect()` gathers one commit's emits instead; `publish_batch` sends them as one message with
the commit's seq range, and `deliver` hands them to this hub's clients as python-socketio would
have, one by one.

Order: two hubs commit seq 35 and 36 one after the other, but their publishes can cross, and
every page (screens, panels, the office, the agents) ignores an event older than the last it
applied: a screen that got 36 first would never show the call of 35. So no hub hands events to
its clients straight away: `Sequencer` (used by hub/web/sockets/) delivers batches strictly in
seq order, this hub's own and the others' alike, and fills a gap that stays open (a hub died
between its commit and its publish) from the store.

An emit to one client of this hub (its sid: a snapshot at connection) is not published at all:
no other hub holds that client.

Only the documented hooks of a pub/sub manager are overridden: `_publish` (send one message)
and `_listen` (yield the received ones). Other emits outside a batch are published as before.

`Peers` also carries what one hub knows and the others need: a clerk's sessions ended by a
sign-in elsewhere and a clerk moved to another window (the hub holding the panel's socket acts),
failed sign-ins (one limit for the pair), and each hub's printers and the print jobs handed to
them (hub/web/printing.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import socketio

log = logging.getLogger(__name__)

BATCH = "onestop_batch"  # a method python-socketio's listener does not know, so never handles
CONTROL = "onestop_peers"  # likewise: a message for the other hubs' Peers


class BatchingRedisManager(socketio.RedisManager):
    """A RedisManager whose emits inside `collect()` are kept for one batch message."""

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
        # Another hub's batch: (first seq, last seq, its emits); None: handled as they come.
        self.on_batch: Callable[[int, int, list[dict[str, Any]]], None] | None = None

    def on_control(self, kind: str, handler: Callable[[Any], None]) -> None:
        self._handlers[kind] = handler

    def send_control(self, kind: str, payload: Any) -> None:
        super()._publish({"method": CONTROL, "host_id": self.host_id, "kind": kind,
                          "payload": payload})

    def _batch(self, data: dict[str, Any]) -> None:
        if data.get("host_id") == self.host_id:
            return  # this hub's own, delivered here already
        messages, seqs = data.get("messages"), data.get("seqs")
        if not (isinstance(messages, list) and isinstance(seqs, list) and len(seqs) == 2
                and all(isinstance(n, int) for n in seqs)):
            log.warning("ignored a malformed batch from another hub")
            return
        messages = [m for m in messages if isinstance(m, dict)]
        try:
            if self.on_batch is not None:
                self.on_batch(seqs[0], seqs[1], messages)
            else:
                self.deliver(messages)
        except Exception:  # a bad message must not stop this hub's listening
            log.exception("a batch from another hub failed")

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

    def collect(self, push: Callable[[], None]) -> list[dict[str, Any]]:
        """The emits `push()` makes (in this thread), neither sent nor published: for
        `deliver` and `publish_batch`."""
        messages: list[dict[str, Any]] = []
        outer = getattr(self._pending, "messages", None)
        self._pending.messages = messages
        try:
            push()
        finally:
            self._pending.messages = outer
        return messages

    def emit(self, event: str, data: Any, namespace: str | None = None, room: Any = None,
             skip_sid: Any = None, callback: Any = None, to: Any = None, **kwargs: Any) -> Any:
        messages = getattr(self._pending, "messages", None)
        if messages is None or callback is not None or kwargs.get("ignore_queue"):
            return super().emit(event, data, namespace=namespace, room=room, skip_sid=skip_sid,
                                callback=callback, to=to, **kwargs)
        # What PubSubManager.emit would publish (no callback, no binary data in a push).
        messages.append({"method": "emit", "event": event,
                         "data": list(data) if isinstance(data, tuple) else [data],
                         "binary": False, "namespace": namespace or "/", "room": to or room,
                         "skip_sid": skip_sid, "callback": None, "host_id": self.host_id})
        return None

    def deliver(self, messages: list[dict[str, Any]]) -> None:
        """To this hub's own clients, in order (python-socketio's own handling of an emit)."""
        for message in messages:
            try:
                self._handle_emit(message)
            except Exception:  # one bad emit must not hold back the ones after it
                log.exception("could not deliver %s to %s", message.get("event"),
                              message.get("room"))

    def publish_batch(self, first: int, last: int, messages: list[dict[str, Any]]) -> None:
        super()._publish({"method": BATCH, "host_id": self.host_id, "seqs": [first, last],
                          "messages": messages})

    def _publish(self, data: dict[str, Any]) -> Any:
        if data.get("method") == "emit":  # already handled for this hub's own clients
            room, namespace = data.get("room"), data.get("namespace") or "/"
            if isinstance(room, str) and (self.is_connected(room, namespace)
                                          or self.is_pre_connected(room, namespace)):
                # To one client of this very hub (a snapshot, an answer): no other hub has it.
                # After a failover hundreds of screens reconnect at once, each with a snapshot.
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
                self._batch(data)
            elif isinstance(data, dict) and data.get("method") == CONTROL:
                self._control(data)
            else:
                yield data


class Sequencer:
    """Hands batches of events to this hub's clients strictly in seq order (module docstring).

    `submit(first, last, deliver)` a batch; it runs when every seq before `first` has run. A
    gap still open after GAP_S is filled by `fill(first, last)`: the missing events, read from
    the store and delivered here (a hub died after its commit, before its publish). So are
    events the store has and no batch brought for GAP_S (`latest()`: the store's last seq,
    asked every STORE_EVERY_S): Redis down or this hub's listening broken, its clients still
    get the other hubs' events, a moment late.
    """

    GAP_S = 0.5
    STORE_EVERY_S = 1.0

    def __init__(self, next_seq: int, fill: Callable[[int, int], None],
                 latest: Callable[[], int], sleep: Callable[[float], None],
                 spawn: Callable[[Callable[[], None]], Any]) -> None:
        self.next_seq = next_seq
        self._fill, self._latest, self._sleep = fill, latest, sleep
        self._waiting: dict[int, tuple[int, Callable[[], None], float]] = {}
        self._behind: tuple[int, float] | None = None  # (next_seq, since) the store was ahead
        self._lock = threading.RLock()
        spawn(self._watch_gaps)

    def submit(self, first: int, last: int, deliver: Callable[[], None]) -> None:
        with self._lock:
            if last < self.next_seq:
                return  # delivered already (filled from the store while it was on its way)
            self._waiting[first] = (last, deliver, time.monotonic())
            self._drain()

    def _drain(self) -> None:
        while (ready := self._waiting.pop(self.next_seq, None)) is not None:
            last, deliver, _ = ready
            self.next_seq = last + 1
            deliver()
        for first in [f for f, (last, _, _) in self._waiting.items() if last < self.next_seq]:
            del self._waiting[first]

    def _watch_gaps(self) -> None:
        asked = time.monotonic()
        while True:
            self._sleep(self.GAP_S / 5)
            try:
                self.fill_old_gap()
                if time.monotonic() - asked >= self.STORE_EVERY_S:
                    asked = time.monotonic()
                    self.catch_up_with_store()
            except Exception:
                log.exception("could not fill a gap in the events")

    def catch_up_with_store(self) -> None:
        """Deliver from the store what it has had for GAP_S and no batch brought."""
        latest = self._latest()
        with self._lock:
            if latest < self.next_seq or self._waiting:  # up to date, or fill_old_gap's
                self._behind = None
                return
            now = time.monotonic()
            if self._behind is None or self._behind[0] != self.next_seq:
                self._behind = (self.next_seq, now)  # maybe on their way: look again later
                return
            if now - self._behind[1] < self.GAP_S:
                return
            log.warning("events %d-%d came from no other hub (is Redis reachable?): "
                        "delivering them from the store", self.next_seq, latest)
            self._fill(self.next_seq, latest)
            self.next_seq = latest + 1
            self._behind = None

    def fill_old_gap(self) -> None:
        """If the batch waiting longest has waited GAP_S for the ones before it, fill them in."""
        with self._lock:
            if not self._waiting:
                return
            first = min(self._waiting)
            if time.monotonic() - self._waiting[first][2] < self.GAP_S:
                return
            log.warning("events %d-%d did not come from the hub that committed them: "
                        "delivering them from the store", self.next_seq, first - 1)
            self._fill(self.next_seq, first - 1)
            self.next_seq = first
            self._drain()


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
