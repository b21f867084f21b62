"""systemd's notify protocol, without a dependency: READY=1, WATCHDOG=1, STOPPING=1, STATUS=.

The units in `systemd/` are `Type=notify` with `WatchdogSec=`: systemd considers the hub, the
forwarder and an agent started only when they say READY=1 (so `After=onestop-hub.service`
means "the hub answers", not "its process exists"), and restarts one that stops sending
WATCHDOG=1 (a stuck event loop, a dead device thread), which `Restart=on-failure` alone would
never notice because the process is still there.

The protocol is one datagram per message to the AF_UNIX socket named in `$NOTIFY_SOCKET`
(a leading '@' means Linux's abstract namespace). Without the variable (a terminal, the tests,
`make demo`) every function here does nothing, so callers never need to ask.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping

log = logging.getLogger(__name__)

# Ping this many times per WatchdogSec: systemd's documentation asks for more often than
# half the interval; a third leaves room for a late wake-up on a busy Pi.
PINGS_PER_INTERVAL = 3


def notify(state: str, env: Mapping[str, str] | None = None) -> bool:
    """Send `state` (e.g. "READY=1") to systemd; False when not under systemd or it failed.

    Never raises: a lost notification must not take the hall down with it (systemd will
    restart us if it matters, which is the point of the watchdog).
    """
    address = (os.environ if env is None else env).get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace
    elif not address.startswith("/"):
        log.warning("NOTIFY_SOCKET %r is neither a path nor abstract: ignored", address)
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode("utf-8"))
    except OSError as err:
        log.warning("cannot notify systemd (%s): %s", state.split("=", 1)[0], err)
        return False
    return True


def ready(status: str = "") -> bool:
    return notify("READY=1" + (f"\nSTATUS={status}" if status else ""))


def stopping() -> bool:
    return notify("STOPPING=1")


def watchdog_interval(env: Mapping[str, str] | None = None) -> float | None:
    """Seconds between WATCHDOG=1 pings, or None when systemd does not watch this process.

    `WATCHDOG_USEC` is WatchdogSec=; `WATCHDOG_PID`, when set, names the process meant (a
    child started by the service must not think it is watched).
    """
    env = os.environ if env is None else env
    try:
        usec = int(env.get("WATCHDOG_USEC", "0"))
    except ValueError:
        return None
    pid = env.get("WATCHDOG_PID", "")
    if usec <= 0 or (pid and pid != str(os.getpid())):
        return None
    return usec / 1_000_000 / PINGS_PER_INTERVAL


class Watchdog:
    """WATCHDOG=1 at most once per interval, for loops that call `beat()` as they go (the
    forwarder): a loop that stops coming round stops the pings, and systemd restarts it."""

    def __init__(self, env: Mapping[str, str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = watchdog_interval(env)
        self._env = env
        self._clock = clock
        self._last = float("-inf")

    def beat(self) -> None:
        if self.interval is None:
            return
        now = self._clock()
        if now - self._last >= self.interval:
            self._last = now
            notify("WATCHDOG=1", self._env)


def run_pinger(
    sleep: Callable[[float], object],
    is_ready: Callable[[], bool] = lambda: True,
    alive: Callable[[], bool] = lambda: True,
    status: str = "",
    poll_s: float = 0.05,
) -> None:
    """Wait until `is_ready()`, say READY=1, then say WATCHDOG=1 while `alive()`.

    `sleep` decides what "alive" means for the process: the hub passes `eventlet.sleep`, so
    this runs as a green thread and pings only while the event loop gets round to it — a
    greenlet that blocks the loop blocks the pings, and systemd restarts the hub. An agent
    passes `time.sleep` and an `alive` that checks its threads.
    """
    if not os.environ.get("NOTIFY_SOCKET"):
        return
    while not is_ready():
        sleep(poll_s)
    ready(status)
    interval = watchdog_interval()
    if interval is None:
        return
    while alive():
        notify("WATCHDOG=1")
        sleep(interval)
    log.error("watchdog: no longer alive, pings stopped: systemd will restart this service")


def listening(host: str, port: int) -> bool:
    """True once something accepts TCP connections on host:port (a wildcard host is asked
    on loopback). In the patched hub this connect is green: it yields, never blocks."""
    target = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    try:
        with socket.create_connection((target, port), timeout=1.0):
            return True
    except OSError:
        return False


def threads_alive(threads: Iterable[threading.Thread]) -> Callable[[], bool]:
    """An `alive` for `run_pinger`: every one of these threads still runs. The first one
    found dead is logged once, by name, so the journal says why systemd restarted us."""
    watched = list(threads)
    reported: set[str] = set()

    def check() -> bool:
        dead = [t.name for t in watched if not t.is_alive()]
        for name in dead:
            if name not in reported:
                reported.add(name)
                log.error("thread %s has died", name)
        return not dead

    return check
