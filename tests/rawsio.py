"""A Socket.IO client written at the packet level, over a real WebSocket: it sends what no
well-behaved client library would (a payload nested 5,000 deep, an event named 5, packets
that are not JSON), as an attacker or a broken device would.

Engine.IO v4 over WebSocket: the server opens with `0{...}`, pings with `2` (answered `3`);
Socket.IO packets ride in Engine.IO messages (`4`): `40/ns,{auth}` connects, `42/ns,ID[...]`
is an event with an ack id, `43/ns,ID[...]` its ack, `44/ns,{...}` a refused connect.
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import websocket


class RawSocket:
    def __init__(self, url: str, namespace: str, auth: dict[str, Any] | str | None) -> None:
        """Connect to `namespace` with `auth`: an object, or the JSON text of anything."""
        ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(ws_url, timeout=5)
        self.namespace = namespace
        self.next_id = 1
        opened = self.ws.recv()
        assert opened.startswith("0"), opened
        self.send_raw(f"0{namespace}," + (auth if isinstance(auth, str) else json.dumps(auth)))
        self.connect_reply = self._wait(lambda p: p.startswith(("0", "4")) and self._ours(p))

    @property
    def connected(self) -> bool:
        return self.connect_reply.startswith("0")

    @property
    def refusal(self) -> Any:
        """A refused connect's data: {"message", "data": {"code", "message"}}."""
        return json.loads(self.connect_reply.split(",", 1)[1])

    def _ours(self, packet: str) -> bool:
        return packet[1:].startswith(f"{self.namespace},")

    def send_raw(self, socketio_packet: str) -> None:
        """One Socket.IO packet, as text (an Engine.IO message)."""
        self.ws.send("4" + socketio_packet)

    def event_raw(self, body: str) -> Any:
        """Send `42/ns,ID` + `body` (the JSON array, or anything) and return the ack's data."""
        ack_id = self.next_id
        self.next_id += 1
        self.send_raw(f"2{self.namespace},{ack_id}{body}")
        prefix = f"3{self.namespace},{ack_id}"
        reply = self._wait(lambda p: p.startswith(prefix) and p[len(prefix)] in "[")
        return json.loads(reply[len(prefix):])

    def call(self, event: Any, *args: Any) -> Any:
        return self.event_raw(json.dumps([event, *args]))

    def _wait(self, wanted, timeout_s: float = 5.0) -> str:
        """The next Socket.IO packet `wanted` accepts; pings are answered, pushes skipped."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            message = self.ws.recv()
            if message == "2":
                self.ws.send("3")
                continue
            if message.startswith("4") and wanted(message[1:]):
                return message[1:]
            if message.startswith("1"):
                raise ConnectionError("the server closed the connection")
        raise TimeoutError("no answer")

    def alive(self) -> bool:
        """Whether the connection still answers: a fresh call of an unknown event is acked."""
        try:
            return isinstance(self.call("no-such-event", {}), list)
        except (TimeoutError, ConnectionError, websocket.WebSocketException, OSError):
            return False

    def close(self) -> None:
        with contextlib.suppress(websocket.WebSocketException, OSError):
            self.ws.close()
