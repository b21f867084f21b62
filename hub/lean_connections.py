"""What each connected socket costs the hub under eventlet, made smaller (hub/main.py only).

Thousands of citizens' phones stay connected to `/citizen` all day, one websocket each
(docs/citizen.md), so the hub's memory grows with every byte a connection keeps for its life.
Measured per phone (benchmarks/README.md, "Citizens' phones"): eventlet's HTTP read and write
buffers, which a websocket never uses once upgraded, and a green thread per socket that only
sleeps between two Engine.IO pings (each green thread keeps its own saved C stack and a 16 KiB
Python frame stack). Everything here changes how memory is held, not what goes over the wire.
"""

from __future__ import annotations

import time
from typing import Any


def release_buffers_on_upgrade(protocol: Any) -> Any:
    """`protocol` (an eventlet.wsgi.HttpProtocol) that drops its buffered files when a request
    becomes a websocket: eventlet's websocket reads and writes the socket itself from then on,
    so the 8 KiB read and 16 KiB write buffers would only sit there for the socket's life.
    eventlet calls `environ['eventlet.set_idle']` at exactly that moment (the 101 is sent, the
    websocket handler about to run), so the hook goes there."""

    class ReleaseOnUpgrade(protocol):
        def get_environ(self) -> dict:
            environ = super().get_environ()
            set_idle = environ["eventlet.set_idle"]

            def upgraded() -> None:
                set_idle()
                self.unbuffer(environ)

            environ["eventlet.set_idle"] = upgraded
            return environ

        def unbuffer(self, environ: dict) -> None:
            """The raw socket files in place of the buffered ones (their buffers freed). The
            read buffer holds nothing: a client sends no frame before the 101 it waits for,
            and eventlet's websocket never read from it anyway."""
            self.wfile = self.wfile.detach()  # flushes first
            self.rfile = self.rfile.detach()
            request_input = environ["eventlet.input"]
            request_input.rfile = self.rfile
            request_input.wfile = None  # only ever used for a 100 Continue
            # The parsed request headers (the environ has them): eventlet reads only
            # `headers.get("Connection")` again, when it writes a response of its own.
            self.headers = {}

    return ReleaseOnUpgrade


def ping_from_timers() -> None:
    """python-engineio sends each socket's next PING from a green thread that sleeps
    ping_interval (25 s) after every PONG: one sleeping green thread per connected socket.
    A timer on eventlet's hub does the same wait for the price of one small object, and the
    green thread that sends the PING lives only while it sends it. Same checks, same packet,
    same timing as python-engineio's `Socket._send_ping`."""
    import eventlet
    import eventlet.hubs
    from engineio import packet
    from engineio.socket import Socket

    def ping(sock: Any) -> None:
        if not sock.closing and not sock.closed:
            sock.last_ping = time.time()
            sock.send(packet.Packet(packet.PING))

    def schedule_ping(self: Any) -> None:
        if self.last_ping:  # only after the previous ping's wait (engineio's rule)
            self.last_ping = None
            eventlet.hubs.get_hub().schedule_call_global(self.server.ping_interval,
                                                    eventlet.spawn_n, ping, self)

    Socket.schedule_ping = schedule_ping
