"""The agent's connection to the hub's /device namespace, and the sender of its outbox.

python-socketio's client reconnects by itself with backoff; on every (re)connect the hub sends
a snapshot. The sender thread delivers the outbox oldest first and removes an event only when
the hub answered it (accepted, or refused for good); a timeout or a lost connection leaves it
for the next try.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
import socketio

from hub.tls.client import handshake_problem, verify_for

from .outbox import Outbox

log = logging.getLogger(__name__)

NAMESPACE = "/device"
ANSWER_TIMEOUT_S = 5.0


class HubLink:
    def __init__(
        self,
        url: str,
        token: str,
        windows: list[int],
        outbox: Outbox,
        on_snapshot: Callable[[dict], None],
        on_event: Callable[[dict], None],
        on_connect: Callable[[], None] = lambda: None,
        extra_auth: dict[str, Any] | None = None,
        on_print: Callable[[Any], None] | None = None,
        ca_file: str = "",  # the hall's CA: an https:// hub's certificate must be signed by it
    ) -> None:
        self.url, self.outbox, self.ca_file = url, outbox, ca_file
        self._auth = {"token": token, "windows": windows, **(extra_auth or {})}
        # engineio takes the session's `verify` for its WebSocket too: one pinned CA for both.
        session = requests.Session()
        session.verify = verify_for(url, ca_file)
        self.client = socketio.Client(
            http_session=session,
            reconnection=True,
            reconnection_delay=0.5,
            reconnection_delay_max=5,
            randomization_factor=0.3,
        )
        self.client.on("snapshot", on_snapshot, namespace=NAMESPACE)
        self.client.on("event", on_event, namespace=NAMESPACE)
        if on_print is not None:
            self.client.on("print", on_print, namespace=NAMESPACE)
        self.client.on("connect", self._connected, namespace=NAMESPACE)
        self.client.on("connect_error", self._refused, namespace=NAMESPACE)
        self._on_connect = on_connect
        self._stop = threading.Event()
        self._sender = threading.Thread(target=self._send_loop, name="outbox", daemon=True)
        self.answers: list[dict[str, Any]] = []  # the last answers, for logs and tests

    def start(self) -> None:
        self._sender.start()
        threading.Thread(target=self._connect_loop, name="hub-connect", daemon=True).start()

    def _connect_loop(self) -> None:
        # The first connect is not retried by python-socketio: keep trying until it works.
        delay = 0.5
        while not self._stop.is_set() and not self.client.connected:
            try:
                self.client.connect(
                    self.url,
                    namespaces=[NAMESPACE],
                    auth=self._auth,
                    transports=["websocket"],
                    wait_timeout=5,
                )
                return
            except socketio.exceptions.ConnectionError as err:
                why = handshake_problem(self.url, self.ca_file) or err
                log.warning("hub %s not reachable (%s); retrying in %.1f s", self.url, why, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)

    def _connected(self) -> None:
        log.info("connected to hub %s", self.url)
        self.outbox.added.set()
        # Not on this handler's thread: the namespace counts as connected only once it returns.
        threading.Thread(target=self._after_connect, name="after-connect", daemon=True).start()

    def _after_connect(self) -> None:
        deadline = time.monotonic() + 5.0
        while not self.connected and time.monotonic() < deadline:
            time.sleep(0.02)
        self._on_connect()

    def _refused(self, data: Any = None) -> None:
        log.error("hub refused the agent: %s", data)

    @property
    def connected(self) -> bool:
        return self.client.connected and NAMESPACE in self.client.namespaces

    def call(self, event: str, data: Any) -> Any:
        return self.client.call(event, data, namespace=NAMESPACE, timeout=ANSWER_TIMEOUT_S)

    def _send_loop(self) -> None:
        while not self._stop.is_set():
            item = self.outbox.peek()
            if item is None or not self.connected:
                self.outbox.added.wait(1.0)
                self.outbox.added.clear()
                continue
            try:
                answer = self.call("device_event", item)
            except (
                socketio.exceptions.TimeoutError,
                socketio.exceptions.BadNamespaceError,
                socketio.exceptions.SocketIOError,
            ) as err:
                log.info("event %s not delivered yet: %s", item["id"], err)
                self._stop.wait(0.5)
                continue
            if not isinstance(answer, dict) or "ok" not in answer:
                log.warning("unexpected answer for %s: %r; will retry", item["id"], answer)
                self._stop.wait(1.0)
                continue
            if not answer["ok"]:
                log.info("hub refused %s %s: %s", item["kind"], item["id"], answer["error"])
            self.outbox.remove(item["id"])
            self.answers = [*self.answers[-99:], {"id": item["id"], "kind": item["kind"],
                                                  "window": item.get("window"), **answer}]

    def report_health(self, devices: list[dict[str, Any]]) -> None:
        """Sent again in full on the next connect, so a report the hub misses is not lost."""
        self.send("health", {"devices": devices})

    def send(self, event: str, data: dict[str, Any]) -> Any:
        """Send now if connected, else drop (for what is worthless later); the hub's answer,
        or None."""
        if not self.connected:
            log.info("%s not sent: the hub is not connected", event)
            return None
        try:
            answer = self.call(event, data)
        except socketio.exceptions.SocketIOError as err:
            log.info("%s not delivered: %s", event, err)
            return None
        if isinstance(answer, dict) and answer.get("ok") is False:
            log.warning("hub refused %s: %s", event, answer.get("error"))
        return answer

    def stop(self) -> None:
        self._stop.set()
        self.outbox.added.set()
        self.client.disconnect()
