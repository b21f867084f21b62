"""The supervision backend the soak's forwarder delivers to: a CloudEvents batch receiver on
loopback that records every event it acknowledged, by id, and can be taken down (it then answers
503, as a backend behind a load balancer does while its service is away)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BATCH_TYPE = "application/cloudevents-batch+json"


class Backend:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: dict[str, dict[str, Any]] = {}  # event id -> the event's first copy
        self.copies = 0  # every event accepted, repeats included
        self.refused_while_down = 0
        self.bad: list[str] = []
        self.down = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="backend",
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/events"

    def start(self) -> Backend:
        self.thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def ids(self) -> set[str]:
        with self.lock:
            return set(self.received)

    def _take(self, headers: Any, body: bytes) -> int:
        with self.lock:
            if self.down:
                self.refused_while_down += 1
                return 503
        if headers.get("Content-Type") != BATCH_TYPE:
            return 415
        try:
            batch = json.loads(body)
            events = [(str(e["id"]), e) for e in batch if e.get("specversion") == "1.0"]
            if len(events) != len(batch):
                raise ValueError("an element is not a CloudEvent 1.0")
        except (ValueError, TypeError, KeyError, AttributeError) as err:
            with self.lock:
                self.bad.append(repr(err))
            return 400
        with self.lock:
            for event_id, event in events:
                self.received.setdefault(event_id, event)
            self.copies += len(events)
        return 200

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = backend._take(self.headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
