"""The hub process: the only place that imports eventlet, and it patches first.

`eventlet.monkey_patch()` must run before Flask, sockets or threading are used, so this module
imports the rest of the hub only inside `serve`, after patching.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub.lean_connections import (
    LEAN_ENGINEIO,
    engineio_as_copied,
    engineio_version,
    ping_from_timers,
    release_buffers_on_upgrade,
    write_on_demand,
)

log = logging.getLogger("hub")

M_MMAP_THRESHOLD = -3  # glibc <malloc.h>
# Connections eventlet serves at once: each websocket holds one green thread for its life, and
# eventlet's default (1024) would leave the citizens' phones past it waiting unserved (2,000
# phones on one hub: docs/citizen.md, benchmarks/citizen.py), with screens and devices besides.
MAX_CONNECTIONS = 8192


def patch(async_mode: str, resolves_names: bool = False) -> None:
    """Green everything for eventlet. `resolves_names`: the hub connects to other servers by
    name (a pair's PostgreSQL and Redis) and needs eventlet's green DNS resolver, which would
    otherwise cost a lone hub ~16 MB for nothing (dnspython, and the cryptography bindings it
    loads for DNSSEC), lookups it never makes: it resolves only its own listening address."""
    if async_mode == "eventlet":
        # Chosen by design for the hall's Pis; its bug-fix-only notice is known, not news.
        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
        if not resolves_names:
            import_without_green_dns()
        import eventlet

        eventlet.monkey_patch()
        if engineio_as_copied():
            ping_from_timers()
            write_on_demand()
        else:  # its internals may differ: the plain handler costs memory, never correctness
            log.warning("python-engineio %s is not the version hub/lean_connections.py was "
                        "written for (%s): connections keep its own ping and writer threads",
                        engineio_version(), LEAN_ENGINEIO)


def import_without_green_dns() -> None:
    """Import eventlet with its resolver off (it reads the variable once, at import), and
    leave the environment as it was for the hub's children."""
    if "eventlet" in sys.modules or "EVENTLET_NO_GREENDNS" in os.environ:
        return
    os.environ["EVENTLET_NO_GREENDNS"] = "yes"
    try:
        import eventlet  # noqa: F401
    finally:
        del os.environ["EVENTLET_NO_GREENDNS"]


def keep_heap_small() -> None:
    """Return big blocks to the system when freed. scrypt takes 16 MiB per sign-in, and glibc's
    adaptive threshold would otherwise keep that in the heap for good (+16 MB RSS on a Pi).
    The state's snapshots are big blocks too, a little bigger each time (2.3 MB of JSON at
    3,000 tickets): in the heap, each left a hole the next could not use (benchmarks/
    day_memory.py: +19 MiB over a day's snapshots without this, +5 MiB with it). Set before
    the day's state is read at start, whose snapshot and replay are the biggest of all."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, 128 * 1024)
    except (OSError, AttributeError):  # not glibc: nothing to tune
        log.debug("mallopt not available")


def ensure_free(host: str, port: int, option: str = "--port") -> None:
    """Fail at once, and say why, if the port is taken (rather than after saying "ready")."""
    import socket

    try:
        with socket.create_server((host, port)):
            pass
    except OSError as err:
        raise OSError(f"cannot listen on {host}:{port}: {err.strerror} — is another program "
                      f"(or another Onestop) using it? Choose one with {option}") from err


def check_message_queue(url: str) -> None:
    """Fail at start, and say why, if the hubs' message queue cannot be used. python-socketio
    only logs a failed publish: a hub without redis, or with Redis down, would serve its own
    screens and silently never show them another hub's calls (or show another hub's never)."""
    from urllib.parse import urlsplit

    from hub.store.postgres import redact  # a pair runs on PostgreSQL: psycopg is there

    try:
        import redis
    except ImportError as err:
        raise OSError("--message-queue needs the redis package: install Onestop with its "
                      "`pg` extra (pip install 'onestop[pg]')") from err
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        return  # Sentinel or valkey: python-socketio connects its own way; not checked here
    if parts.scheme == "redis" and parts.hostname not in ("127.0.0.1", "::1", "localhost"):
        # Every call, sign-out and print job crosses it: over the LAN it wants TLS and a password.
        log.warning("the message queue %s is plain redis:// over the network: use rediss:// "
                    "with a password and the hall CA (README \"TLS\")", redact(url))
    try:
        with redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5) as client:
            client.ping()
    except (redis.RedisError, ValueError) as err:
        raise OSError(f"cannot reach the message queue at {redact(url)}: {err}") from err


def start_sd_notify(host: str, port: int, async_mode: str) -> None:
    """READY=1 to systemd once the port accepts connections, then WATCHDOG=1 pings.

    Under eventlet the pinger is a green thread: it runs only when the event loop comes round,
    so a loop stuck in one greenlet stops the pings and systemd restarts the hub. A no-op
    outside systemd (no NOTIFY_SOCKET).
    """
    import os

    from hub import sdnotify

    if not os.environ.get("NOTIFY_SOCKET"):
        return
    status = f"serving on {host}:{port}"
    if async_mode == "eventlet":
        import eventlet

        eventlet.spawn(sdnotify.run_pinger, eventlet.sleep,
                       lambda: sdnotify.listening(host, port), status=status)
    else:
        import threading

        threading.Thread(target=sdnotify.run_pinger, name="sd-notify", daemon=True,
                         args=(time.sleep, lambda: sdnotify.listening(host, port)),
                         kwargs={"status": status}).start()


ARCHIVE_LOOK_S = 60.0  # how often the audit archiver looks whether the hall's day changed


def archive_audit_daily(socketio: Any, service: Any, argv: list[str]) -> None:
    """Once a business day (at start, then after each midnight), `onestop audit archive` beside
    the hub: audit records past [audit] retention_days go to signed archive files
    (hub/store/audit_archive.py). A child process, as the reports' summing up: its file writes,
    fsyncs and deletes never stall the event loop. A failed run deletes nothing and is logged;
    the next day's run tries again."""
    from hub.children import run_beside

    def loop() -> None:
        done = None
        while True:
            day = service.current_day()
            if day != done:
                done = day
                run_beside(socketio, argv, "archiving old audit records")
            socketio.sleep(ARCHIVE_LOOK_S)

    socketio.start_background_task(loop)


def serve(
    config: Any,
    data_dir: str,
    host: str,
    port: int,
    async_mode: str = "eventlet",
    synchronous: str = "FULL",
    message_queue: str | None = None,
    on_ready: Callable[[Any], None] | None = None,
    db_url: str | None = None,
    hall_file: Any = None,  # hub.hall_file.HallFile: the --config file, reloaded on SIGHUP
    proxy_hops: int = 0,
    clock: Callable[[], Any] | None = None,  # hub.clock: the system's, or a set one (tests)
    tls: Any = None,  # hub.tls.serving.ServerTLS: serve HTTPS with this certificate
    http_redirect_port: int | None = None,  # a plain-HTTP port that only redirects to HTTPS
) -> None:
    started = time.monotonic()
    patch(async_mode, resolves_names=bool(message_queue or db_url))
    keep_heap_small()  # before the day's state is read: its snapshot is a big block too
    from hub.clock import child_spec
    from hub.runtime import open_hall
    from hub.web.app import create_app, start_housekeeping

    ensure_free(host, port)
    if http_redirect_port:
        ensure_free(host, http_redirect_port, "--http-redirect-port")
    ssl_context = None
    if tls is not None:  # a bad certificate fails here, before the port is served
        ssl_context = tls.context(green_ssl_context() if async_mode == "eventlet" else None)
    if message_queue:
        check_message_queue(message_queue)
    offload = None
    if async_mode == "eventlet":
        from eventlet import tpool  # a real OS thread: scrypt must not stall every greenlet

        offload = tpool.execute
    service = open_hall(config, data_dir, synchronous, offload, url=db_url, clock=clock)
    app, socketio = create_app(service, async_mode=async_mode, message_queue=message_queue,
                             proxy_hops=proxy_hops)
    if tls is not None:
        from hub.tls.serving import add_hsts

        add_hsts(app)
        service.set_cert_expiry(tls.expires())  # watched by the supervision rules
    start_housekeeping(app, socketio, service)
    # Elderly mode's spoken prompts, rendered by a child process (start-up never waits).
    from kiosk.prompts import start_rendering

    start_rendering(app, socketio, Path(data_dir) / "prompts",
                    enabled=service.cfg.kiosk.voice_prompts, voice=service.cfg.kiosk.prompt_voice)
    if hall_file is not None:  # DATA/hub.pid, SIGHUP reloads, the admin page's file
        from hub.hall_file import start_watching

        start_watching(app, socketio, service, hall_file, host, port,
                       scheme="https" if tls is not None else "http")
    if hall_file is not None and hall_file.path is not None:
        # Closed days not summed up yet for the reports (the hub was down over a midnight, or
        # upgraded with history): summed beside the hub, so no office request pays for them.
        from hub.children import run_beside

        same_clock = ["--clock", spec] if (spec := child_spec(service.clock)) else []
        run_beside(socketio, ["-m", "hub.cli", "--log-level", "warning", *same_clock,
                              "reports", "settle",
                              "--config", str(hall_file.path), "--data", str(data_dir),
                              *(["--db", db_url] if db_url else [])],
                   "summing up closed days for the reports")
        archive_audit_daily(socketio, service, [
            "-m", "hub.cli", "--log-level", "warning", *same_clock, "audit", "archive",
            "--config", str(hall_file.path), "--data", str(data_dir),
            *(["--db", db_url] if db_url else [])])
    # Everything loaded so far lives as long as the process: keep the collector off it, so a
    # full collection late in a busy day is not a 40 ms pause in the middle of a call.
    gc.collect()
    gc.freeze()
    if on_ready:
        on_ready(service)
    log.info(
        "hub ready on %s://%s:%d in %.2f s (%s, event %d%s)",
        "https" if tls is not None else "http",
        host,
        port,
        time.monotonic() - started,
        async_mode,
        service.applied_seq(),
        f", set clock {service.clock()}" if clock is not None and child_spec(clock) else "",
    )
    start_sd_notify(host, port, async_mode)
    run_server(app, socketio, host, port, async_mode, ssl_context, http_redirect_port)


def run_server(app: Any, socketio: Any, host: str, port: int, async_mode: str,
               ssl_context: Any = None, http_redirect_port: int | None = None) -> None:
    """Serve until the process ends: HTTPS when given an SSL context, else plain HTTP."""
    if ssl_context is not None and async_mode == "eventlet":
        serve_tls_eventlet(app, host, port, ssl_context, http_redirect_port)
        return
    kwargs: dict[str, Any] = {"host": host, "port": port}
    if ssl_context is not None:  # threading (Werkzeug): tests and debugging only
        kwargs["ssl_context"] = ssl_context
    if async_mode == "eventlet":
        kwargs["log_output"] = False
        kwargs["max_size"] = MAX_CONNECTIONS
        kwargs["protocol"] = no_delay(release_buffers_on_upgrade(eventlet_protocol()))
    elif async_mode == "threading":
        kwargs["allow_unsafe_werkzeug"] = True
    socketio.run(app, **kwargs)


def eventlet_protocol() -> Any:
    import eventlet.wsgi

    return eventlet.wsgi.HttpProtocol


def no_delay(protocol: Any) -> Any:
    """`protocol` with TCP_NODELAY on each connection: eventlet writes an answer's headers and
    its body in more than one send, and with Nagle's algorithm on, a body of 20-60 KB then waits
    for the client's delayed ACK of the first part (about 40 ms on Linux)."""
    import contextlib
    import socket

    class NoDelay(protocol):
        def setup(self) -> None:
            super().setup()
            with contextlib.suppress(OSError):  # not a TCP socket: nothing to turn off
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    return NoDelay


def green_ssl_context() -> Any:
    """eventlet's SSLContext: once patched, the standard one's property setters recurse (they
    look themselves up through the module's patched `SSLContext` name)."""
    from eventlet.green import ssl as green_ssl

    return green_ssl.SSLContext


def serve_tls_eventlet(app: Any, host: str, port: int, context: Any,
                       http_redirect_port: int | None) -> None:
    """What socketio.run does under eventlet, with our own TLS context (TLS 1.2 or later;
    flask-socketio's own path goes through eventlet's deprecated ssl.wrap_socket arguments).
    A handshake happens in the connection's own green thread, not in the accept loop, so a
    client that connects and says nothing stalls nobody else."""
    import eventlet
    import eventlet.wsgi

    family = eventlet.green.socket.getaddrinfo(host, port)[0][0]
    listener = context.wrap_socket(eventlet.listen((host, port), family), server_side=True)
    from hub.tls.serving import quiet_handshake

    protocol = no_delay(release_buffers_on_upgrade(quiet_handshake(eventlet.wsgi.HttpProtocol)))
    if http_redirect_port:
        from hub.tls.serving import redirect_app

        plain = eventlet.listen((host, http_redirect_port), family)
        eventlet.spawn(eventlet.wsgi.server, plain, redirect_app(port), log_output=False)
        log.info("plain HTTP on %s:%d redirects to HTTPS", host, http_redirect_port)
    eventlet.wsgi.server(listener, app, log_output=False, protocol=protocol,
                         max_size=MAX_CONNECTIONS)
