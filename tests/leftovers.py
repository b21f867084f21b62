"""A pytest plugin: processes a test leaves running are ended, even when the test fails, times
out or its fixture breaks half-way (a failed test's hub used to outlive pytest, holding its
port and data directory).

- After each test: every child of pytest that the test started and left running is ended
  (SIGTERM, then SIGKILL after a grace), with its own children, and named in a `LeftRunning`
  warning: whatever started it should have ended it. "Started by the test" means a child of
  the pytest process that was not there when the test's setup began: a module's browser or
  database (set up before) is left alone, and so is a child that such a process starts
  meanwhile (a browser's renderer), since its parent is not pytest.
- At the end of the session: every process still running under pytest is ended the same way,
  and PostgreSQL servers of tests/pgredis.py still running are stopped (pg_ctl detaches them,
  so they are no children of pytest).
- A hub that tests/hubproc.py starts also ends with pytest itself (hub.children), should
  pytest be killed outright and none of this run.

Loaded by tests/conftest.py; `-p tests.leftovers` loads it into a pytest run elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import warnings
from collections.abc import Iterator

import pytest

GRACE_S = 5.0  # after SIGTERM, before SIGKILL
POLL_S = 0.05


class LeftRunning(UserWarning):
    """A test or fixture left a process running; it has been ended."""


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, state, start time in clock ticks) of a process, None if there is none."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()  # the name may hold spaces and ")"
    except OSError:
        return None
    return int(fields[1]), fields[0].decode(), int(fields[19])


def processes() -> dict[int, tuple[int, str, int]]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            found[int(entry)] = stat
    return found


def _has_children() -> bool:
    """Cheaply: does pytest have any child, running or exited and not yet reaped?"""
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


def running_children(procs: dict[int, tuple[int, str, int]]) -> set[tuple[int, int]]:
    """(pid, start time) of pytest's children that are still running (not zombies)."""
    me = os.getpid()
    return {(pid, start) for pid, (ppid, state, start) in procs.items()
            if ppid == me and state not in ("Z", "X")}


def _subtree(root: int, procs: dict[int, tuple[int, str, int]]) -> Iterator[int]:
    todo = [root]
    while todo:
        pid = todo.pop()
        yield pid
        todo.extend(p for p, (ppid, _, _) in procs.items() if ppid == pid)


def _alive(pid: int, start: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[2] == start and stat[1] not in ("Z", "X")


def describe(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return str(pid)
    return f"{pid} {b' '.join(argv).decode(errors='replace').strip()[:200]}"


def end(roots: list[int], procs: dict[int, tuple[int, str, int]]) -> None:
    """End these processes and everything under them: SIGTERM, then SIGKILL after GRACE_S.
    The roots, children of pytest, are reaped."""
    targets = {pid: procs[pid][2] for root in roots for pid in _subtree(root, procs)}
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid, start in targets.items():
            if _alive(pid, start):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
        deadline = time.monotonic() + GRACE_S
        while any(_alive(p, s) for p, s in targets.items()) and time.monotonic() < deadline:
            time.sleep(POLL_S)
    for root in roots:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(root, os.WNOHANG)


@pytest.fixture(autouse=True)
def _ends_what_it_started(request: pytest.FixtureRequest) -> Iterator[None]:
    before = running_children(processes()) if _has_children() else set()
    yield
    if not _has_children():
        return
    procs = processes()
    left = sorted(pid for pid, start in running_children(procs) - before)
    if left:
        names = [describe(pid) for pid in left]
        end(left, procs)
        warnings.warn(LeftRunning(f"{request.node.nodeid} left running (now ended): {names}"),
                      stacklevel=1)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from tests import pgredis

    for server in list(pgredis.RUNNING):
        server.stop()
    if _has_children():
        procs = processes()
        end(sorted(pid for pid, _ in running_children(procs)), procs)
