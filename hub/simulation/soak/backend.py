"""The supervision backend the soak's forwarder delivers to: a CloudEvents batch receiver on
loopback that records every event it acknowledged, by id, and can be taken down (it then answers
503, as a backend behind a load balancer does while its service is away)."""

from __future__ import annotations

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

BATCH_TYPE = "application/cloudevents-batch+json"


class LoopbackReceiver:
    """An HTTP server on loopback that answers each POST with `_answer(headers, body)` (status,
    text), on threads of its own; over HTTPS with `tls` (certificate, key). The soak's backend
    builds on it, and so does the tests' stricter CloudEvents receiver (tests/cereceiver.py)."""

    def __init__(self, tls: tuple[str, str] | None = None, name: str = "backend") -> None:
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self._https = tls is not None
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, name=name, daemon=True)

    @property
    def url(self) -> str:
        scheme = "https" if self._https else "http"
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}/events"

    def start(self) -> Self:
        self.thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _answer(self, headers: Any, body: bytes) -> tuple[int, str]:
        raise NotImplementedError

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, text = receiver._answer(self.headers, body)
                payload = text.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the sender gave up waiting (its timeout): nobody to answer

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


class Backend(LoopbackReceiver):
    def __init__(self) -> None:
        super().__init__()
        self.received: dict[str, dict[str, Any]] = {}  # event id -> the event's first copy
        self.copies = 0  # every event accepted, repeats included
        self.refused_while_down = 0
        self.bad: list[str] = []
        self.down = False

    def ids(self) -> set[str]:
        with self.lock:
            return set(self.received)

    def _answer(self, headers: Any, body: bytes) -> tuple[int, str]:
        with self.lock:
            if self.down:
                self.refused_while_down += 1
                return 503, "down"
        if headers.get("Content-Type") != BATCH_TYPE:
            return 415, f"want {BATCH_TYPE}"
        try:
            batch = json.loads(body)
            events = [(str(e["id"]), e) for e in batch if e.get("specversion") == "1.0"]
            if len(events) != len(batch):
                raise ValueError("an element is not a CloudEvent 1.0")
        except (ValueError, TypeError, KeyError, AttributeError) as err:
            with self.lock:
                self.bad.append(repr(err))
            return 400, f"invalid batch: {err}"
        with self.lock:
            for event_id, event in events:
                self.received.setdefault(event_id, event)
            self.copies += len(events)
        return 200, "ok"
