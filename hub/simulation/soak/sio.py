"""A small Socket.IO client at the packet level over one WebSocket (Engine.IO v4), for the soak's
kiosks, clerks' panels and screens: one reader thread answers the server's pings, collects the
pushes and hands acks to their callers. No reconnect of its own: an actor whose socket dropped
(the hub was killed) opens a new one, as a page does.

`0{...}` opens, `2`/`3` ping/pong, `4` carries a Socket.IO packet: `0/ns,{auth}` connect,
`2/ns,ID[...]` an event with an ack id, `3/ns,ID[...]` its ack, `4/ns,{...}` a refused connect.
"""

from __future__ import annotations

import contextlib
import json
import threading
from typing import Any

import websocket

CONNECT_TIMEOUT_S = 5.0


class Closed(ConnectionError):
    """The socket is gone (the hub died or closed it)."""


class SioClient:
    def __init__(self, url: str, namespace: str, token: str,
                 timeout_s: float = CONNECT_TIMEOUT_S, **auth: Any) -> None:
        ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.namespace, self.timeout_s = namespace, timeout_s
        self.ws = websocket.create_connection(ws_url, timeout=timeout_s)
        self.pushes = 0  # events the server pushed (snapshots, updates)
        self.last_push: tuple[str, Any] | None = None
        self.snapshot: dict[str, Any] | None = None  # the first one, sent on connect
        self._lock = threading.Lock()
        self._acks: dict[int, tuple[threading.Event, list[Any]]] = {}
        self._next_id = 1
        self._connected = threading.Event()
        self._refused: Any = None
        self.closed = threading.Event()
        opened = self._recv()
        if not opened.startswith("0"):
            raise Closed(f"not an Engine.IO open: {opened[:80]!r}")
        self.ws.settimeout(None)
        self._send("0" + namespace + "," + json.dumps({"token": token, **auth}))
        threading.Thread(target=self._read, name=f"sio{namespace}", daemon=True).start()
        if not self._connected.wait(timeout_s) or self.closed.is_set():
            self.close()
            raise Closed(f"{namespace}: not connected"
                         + (f" (refused: {self._refused})" if self._refused else ""))

    def _recv(self) -> str:
        """The next text frame (Engine.IO sends no binary frames to these clients)."""
        message = self.ws.recv()
        return message.decode("utf-8", "replace") if isinstance(message, bytes) else message

    def _send(self, packet: str) -> None:
        try:
            with self._lock:
                self.ws.send("4" + packet)
        except (websocket.WebSocketException, OSError) as err:
            self.closed.set()
            raise Closed(str(err)) from err

    def call(self, event: str, data: Any = None, timeout_s: float | None = None) -> Any:
        """Send `event` with `data` and return the ack's first value; Closed if the socket
        dropped or no ack came in time (the caller cannot tell whether it was done)."""
        if self.closed.is_set():
            raise Closed("socket closed")
        with self._lock:
            ack_id = self._next_id
            self._next_id += 1
            waiter: tuple[threading.Event, list[Any]] = (threading.Event(), [])
            self._acks[ack_id] = waiter
        payload = [event] if data is None else [event, data]
        self._send(f"2{self.namespace},{ack_id}{json.dumps(payload, ensure_ascii=False)}")
        if not waiter[0].wait(timeout_s or self.timeout_s) or not waiter[1]:
            self._acks.pop(ack_id, None)
            raise Closed(f"no ack for {event}")
        return waiter[1][0]

    def _read(self) -> None:
        try:
            while True:
                message = self._recv()
                if not message:
                    break
                if message == "2":
                    with self._lock:
                        self.ws.send("3")
                elif message.startswith("4"):
                    self._packet(message[1:])
                elif message.startswith("1"):
                    break
        except (websocket.WebSocketException, OSError, ValueError):
            pass
        finally:
            self.closed.set()
            self._connected.set()  # a refused or dropped connect does not wait its timeout
            for event, _ in list(self._acks.values()):
                event.set()

    def _packet(self, packet: str) -> None:
        kind, rest = packet[0], packet[1:]
        prefix = f"{self.namespace},"
        if not rest.startswith(prefix):
            return
        body = rest[len(prefix):]
        if kind == "0":
            self._connected.set()
        elif kind == "4":
            self._refused = body
            self.closed.set()
            self._connected.set()
        elif kind == "3":
            digits = len(body) - len(body.lstrip("0123456789"))
            waiter = self._acks.pop(int(body[:digits]), None)
            if waiter is not None:
                waiter[1].extend(json.loads(body[digits:]) or [None])
                waiter[0].set()
        elif kind == "2":
            start = body.find("[")
            with contextlib.suppress(ValueError):
                name, *args = json.loads(body[start:])
                self.pushes += 1
                self.last_push = (name, args[0] if args else None)
                if name == "snapshot" and self.snapshot is None and args:
                    self.snapshot = args[0]

    def close(self) -> None:
        self.closed.set()
        with contextlib.suppress(websocket.WebSocketException, OSError):
            self.ws.close()
