"""How the hub serves HTTP under eventlet: each connection sends without Nagle's delay.

eventlet writes an answer's headers and body in more than one send; with Nagle's algorithm on,
an answer of some 20-60 KB (a page of cases, the Socket.IO client, a report) then waits for the
client's delayed ACK of the first part, about 40 ms on Linux (benchmarks/README.md, "Casework
page"). The connection's setup turns TCP_NODELAY on.
"""

from __future__ import annotations

import socket

from hub.main import eventlet_protocol, no_delay


class Accepted:
    """The least of a request handler: the accepted connection, and a setup() to extend."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection

    def setup(self) -> None:
        pass


def test_a_connection_set_up_by_the_hub_sends_without_delay():
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        accepted, _ = server.accept()
        with client, accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
            no_delay(Accepted)(accepted).setup()
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_the_hub_serves_with_eventlets_own_protocol_underneath():
    assert issubclass(no_delay(eventlet_protocol()), eventlet_protocol())
