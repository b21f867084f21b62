"""Child processes that end with the process that started them.

`onestop demo` runs its simulated window devices as a child (which holds the devices panel's
port), and a hub runs helpers beside itself (the kiosk's prompt renderer, the reports' summing
up). A service manager stops a process with SIGTERM (`kill <pid>`), a closed terminal with
SIGHUP, Ctrl-C with SIGINT; a crash or the OOM killer uses SIGKILL, which no handler sees. A
child left running holds its port, and the next start fails. Two guards:

- the child asks the kernel for SIGTERM when its parent dies, whatever killed it
  (`prctl(PR_SET_PDEATHSIG)`, Linux), and stops at once if the parent was already gone;
- a parent that is stopped ends its children itself and waits for them (bounded), so that
  their ports are free once it is gone: a restart right after finds them free.

The kernel's "parent" is the *thread* that started the child: start children from the main
thread (under eventlet every green thread is on it), never from a worker thread that ends.
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

log = logging.getLogger(__name__)

PARENT_ENV = "ONESTOP_PARENT_PID"  # set for a child by start(); read by follow_parent()
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
END_TIMEOUT_S = 5.0  # SIGTERM, then SIGKILL for a child still there after this
POLL_S = 0.02

_children: list[subprocess.Popen] = []


def start(argv: list[str], **popen_kwargs: Any) -> subprocess.Popen:
    """`python argv…` as a child that ends with this process (its entry point calls
    `follow_parent()`: `onestop …` and `python -m kiosk.prompts` do)."""
    env = dict(popen_kwargs.pop("env", None) or os.environ)
    env[PARENT_ENV] = str(os.getpid())
    child = subprocess.Popen([sys.executable, *argv], env=env, **popen_kwargs)
    if not _children:
        atexit.register(end_children)
    _children[:] = [c for c in _children if c.poll() is None]
    _children.append(child)
    return child


class Tasks(Protocol):
    """What run_beside needs of a server: Flask-SocketIO's background tasks and its sleep."""

    def start_background_task(self, target: Callable[..., Any], *args: Any) -> Any: ...

    def sleep(self, seconds: float) -> Any: ...


def run_beside(server: Tasks, argv: list[str], what: str) -> None:
    """Run `python argv…` as a child process, reaped by a background task of the server (a
    green thread under eventlet): work that is C code or long SQL runs beside the hub, never on
    its event loop, and start-up never waits for it. It ends with the hub, even a hub killed
    with SIGKILL."""
    child = start(argv, stdin=subprocess.DEVNULL)

    def reap() -> None:
        while child.poll() is None:
            server.sleep(0.5)
        if child.returncode:
            log.warning("%s failed (exit %d)", what, child.returncode)

    server.start_background_task(reap)


def follow_parent() -> None:
    """In a child started by `start()`: end (SIGTERM) when the parent does, however it ends."""
    expected = os.environ.pop(PARENT_ENV, "")  # a grandchild must not follow our parent
    if not expected.isdigit():
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
    except (OSError, AttributeError) as err:  # not Linux: the parent's own ending still holds
        log.debug("cannot follow the parent process: %s", err)
    if os.getppid() != int(expected):  # it died before we asked: nobody would tell us
        os.kill(os.getpid(), signal.SIGTERM)


def end_children(timeout_s: float = END_TIMEOUT_S) -> None:
    """SIGTERM every child still running, wait for them, SIGKILL any still there after
    `timeout_s`. Safe at exit and inside a signal handler of an eventlet process: it never
    yields to another greenlet (polls without blocking, pauses with `_pause`)."""
    live = [c for c in _children if c.poll() is None]
    for child in live:
        child.terminate()
    deadline = time.monotonic() + timeout_s
    while live and time.monotonic() < deadline:
        _pause(POLL_S)
        live = [c for c in live if c.poll() is None]
    for child in live:
        log.warning("child %d did not end on SIGTERM: killed", child.pid)
        child.kill()
    while live:
        _pause(POLL_S)
        live = [c for c in live if c.poll() is None]
    _children.clear()


def _pause(seconds: float) -> None:
    """Sleep until a child ends (SIGCHLD) or `seconds` pass. Not time.sleep: eventlet makes
    that a switch to its loop, which fails when a signal handler runs on the loop itself."""
    signal.sigtimedwait([signal.SIGCHLD], seconds)


def stop_on(signals: Iterable[signal.Signals]) -> None:
    """On these signals, end the children (and wait for them), then die of the signal as
    without a handler. Not by raising SystemExit or KeyboardInterrupt from the handler: it
    runs in whichever greenlet is current, and a request's greenlet just logs it and goes on."""

    def stop(signum: int, frame: Any) -> None:
        end_children()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    for sig in signals:
        signal.signal(sig, stop)
