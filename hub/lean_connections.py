"""What each connected socket costs the hub under eventlet, made smaller (hub/main.py only).

Thousands of citizens' phones stay connected to `/citizen` all day, one websocket each
(docs/citizen.md), so the hub's memory grows with every byte a connection keeps for its life.
Measured per phone (benchmarks/README.md, "Citizens' phones"): eventlet's HTTP read and write
buffers, which a websocket never uses once upgraded, and two of the three green threads per
socket, which only wait: python-engineio's writer, blocked on the socket's queue, and its ping
task, asleep between two pings (each green thread keeps its own saved C stack and a 16 KiB
Python frame stack). Everything here changes how memory is held, not what goes over the wire.
"""

from __future__ import annotations

import time
from importlib.metadata import version
from typing import Any

# The python-engineio release whose `Socket._websocket_handler` and `schedule_ping` are copied
# below (pyproject.toml pins it). Another release is served by its own code, unpatched.
LEAN_ENGINEIO = "4.15."


def engineio_version() -> str:
    return version("python-engineio")


def engineio_as_copied() -> bool:
    return engineio_version().startswith(LEAN_ENGINEIO)


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
            """Unbuffered socket files in place of the buffered ones, which are closed:
            closing is what frees a buffer, as eventlet's request handling keeps references
            to both files for as long as the websocket lives. Nothing reads or writes them
            again: the read buffer is empty (a client sends no frame before the 101 it waits
            for, and eventlet's websocket never read from it anyway), and closing flushes the
            write buffer. The new files keep the socket's count of open files as it was, so
            the socket itself is closed when eventlet's `finish` closes them, as before (a
            socket closed earlier would make eventlet's second websocket close, after a
            client's close frame, fail on a closed descriptor)."""
            buffered: tuple[Any, Any] = (self.rfile, self.wfile)
            self.rfile: Any = self.connection.makefile("rb", 0)
            self.wfile: Any = self.connection.makefile("wb", 0)
            for file in buffered:
                file.close()
            # The parsed request headers (the environ has them): eventlet reads only
            # `headers.get("Connection")` again, when it writes a response of its own.
            self.headers: Any = {}

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


def write_on_demand() -> None:
    """python-engineio gives each websocket a writer green thread for the socket's whole life,
    blocked on the socket's packet queue. Here the queue starts a writer when a packet is put
    and the writer ends once the queue is empty: a phone that hears nothing for minutes holds
    no green thread for it. The handler is python-engineio 4's `Socket._websocket_handler`
    (same upgrade steps, same receive loop, same closing) with only the writer changed."""
    import eventlet.queue
    from engineio import packet
    from engineio.async_drivers import eventlet as engineio_eventlet
    from engineio.socket import Socket

    class WakingQueue(eventlet.queue.Queue):
        """A socket's packet queue that tells its writer (once it has one) about each put."""

        writer: _Writer | None = None

        def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
            super().put(item, block, timeout)
            if self.writer is not None:
                self.writer.wake()

    original = Socket._websocket_handler

    def websocket_handler(self: Any, ws: Any) -> list:
        if not isinstance(self.queue, WakingQueue):  # made before this was set up
            return original(self, ws)

        def websocket_wait() -> Any:
            data = ws.wait()
            if data and len(data) > self.server.max_http_buffer_size:
                raise ValueError("packet is too large")
            return data

        for attr in ("_sock", "socket"):  # a socket timeout of ping interval + timeout
            if hasattr(ws, attr) and hasattr(getattr(ws, attr), "settimeout"):
                getattr(ws, attr).settimeout(self.server.ping_interval + self.server.ping_timeout)
        if self.connected:  # an upgrade from long-polling
            self.upgrading = True
            if not upgrade_probe(self, ws, websocket_wait):
                self.upgrading = False
                return []
            self.upgraded = True
            self.upgrading = False
        else:
            self.connected = True
            self.upgraded = True
        writer = _Writer(self, ws)
        self.queue.writer = writer
        writer.wake()  # whatever was queued before the upgrade
        receive_until_closed(self, websocket_wait)
        self.queue.put(None)  # the writer sends what is queued, then closes the websocket
        writer.wait_ended()
        self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)
        return []

    def upgrade_probe(self: Any, ws: Any, websocket_wait: Any) -> bool:
        pkt = packet.Packet(encoded_packet=websocket_wait())
        if pkt.packet_type != packet.PING or pkt.data != "probe":
            self.server.logger.info("%s: Failed websocket upgrade, no PING packet", self.sid)
            return False
        ws.send(packet.Packet(packet.PONG, data="probe").encode())
        self.queue.put(packet.Packet(packet.NOOP))  # ends the pending long-poll
        pkt = packet.Packet(encoded_packet=websocket_wait())
        if pkt.packet_type != packet.UPGRADE:
            self.upgraded = False
            self.server.logger.info("%s: Failed websocket upgrade, expected UPGRADE packet",
                                    self.sid)
            return False
        return True

    Socket._websocket_handler = websocket_handler
    engineio_eventlet._async["queue"] = WakingQueue


def receive_until_closed(sock: Any, websocket_wait: Any) -> None:
    """python-engineio's receive loop: until the client closes, or an error."""
    from engineio import exceptions, packet

    while True:
        try:
            data = websocket_wait()
        except Exception as err:  # python-engineio's: a failed read ends the connection
            if not sock.closed:
                sock.server.logger.info('%s: Unexpected error "%s", closing connection',
                                        sock.sid, err)
            return
        if data is None:  # closed by the client
            return
        try:
            sock.receive(packet.Packet(encoded_packet=data))
        except exceptions.UnknownPacketError:
            pass
        except exceptions.SocketIsClosedError:
            sock.server.logger.info("Receive error -- socket is closed")
            return
        except BaseException:  # python-engineio's bare except: logged, the connection ends
            sock.server.logger.exception("Unknown receive error")
            return


class _Writer:
    """Sends an Engine.IO socket's queued packets over its websocket, from a green thread that
    runs only while there is something to send. A None in the queue (the socket closing) or a
    failed send closes the websocket, and nothing is sent after that: python-engineio's
    writer's rules."""

    __slots__ = ("ended", "running", "sock", "stopped", "ws")

    def __init__(self, sock: Any, ws: Any) -> None:
        self.sock = sock
        self.ws = ws
        self.running = False
        self.stopped = False
        self.ended: Any = None  # an eventlet Event, only while the handler waits for the end

    def wake(self) -> None:
        if not self.running and not self.stopped:
            import eventlet

            self.running = True
            eventlet.spawn_n(self.drain)

    def drain(self) -> None:
        import eventlet.queue

        queue = self.sock.queue
        try:
            while not self.stopped:
                try:
                    pkt = queue.get(block=False)
                except eventlet.queue.Empty:
                    return
                queue.task_done()
                if pkt is None:
                    self.stop()
                    return
                try:
                    self.ws.send(pkt.encode())
                except Exception:  # python-engineio's writer: any failed send ends it
                    self.stop()
                    return
        finally:
            self.running = False
            if self.stopped and self.ended is not None and not self.ended.ready():
                self.ended.send()

    def stop(self) -> None:
        self.stopped = True
        self.ws.close()

    def wait_ended(self) -> None:
        """Until the writer has sent what was queued and closed the websocket (a None is
        queued, so it will: it is running, or has already stopped)."""
        import eventlet.event

        if self.stopped and not self.running:
            return
        self.ended = eventlet.event.Event()
        self.ended.wait()
