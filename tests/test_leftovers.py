"""A failing test leaves no hub behind: an inner pytest, run as the suite runs, starts a real
hub (tests/hubproc.py) and fails in each way a test can; once it is over, no process of that
hub is left (tests/leftovers.py, hub.children)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.leftovers import describe, processes

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

INNER = '''
import time
from pathlib import Path

import pytest

from tests.hubproc import HubProcess

DATA = Path({data!r})


def started_hub() -> HubProcess:
    hub = HubProcess(DATA)
    hub.provision()
    hub.start()
    (DATA / "hub-up").write_text(str(hub.proc.pid))
    return hub


@pytest.fixture
def broken_fixture():
    started_hub()
    raise RuntimeError("the fixture breaks after starting its hub")


def test_fails():
    started_hub()
    assert False, "fails while its hub runs"


def test_breaks_in_its_fixture(broken_fixture):
    pass


@pytest.mark.timeout(10)
def test_times_out():
    started_hub()
    time.sleep(120)


def test_pytest_is_killed():
    started_hub()
    time.sleep(120)  # the outer test kills this pytest meanwhile
'''


def processes_of(data: Path) -> list[int]:
    """Processes whose command line names the hub's data directory (the hub, its helpers)."""
    return [pid for pid, (_, state, _) in processes().items()
            if state not in ("Z", "X") and str(data) in describe(pid)]


@pytest.mark.parametrize("case", ["test_fails", "test_breaks_in_its_fixture", "test_times_out",
                                  "test_pytest_is_killed"])
def test_no_hub_outlives_a_failed_test(tmp_path, case):
    data = tmp_path / "data"
    inner = tmp_path / "test_inner.py"
    inner.write_text(INNER.format(data=str(data)), encoding="utf-8")
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.leftovers",
         "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT), f"{inner}::{case}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        if case == "test_pytest_is_killed":  # no teardown, no session end: only the kernel
            deadline = time.monotonic() + 60
            while not (data / "hub-up").exists():
                assert run.poll() is None and time.monotonic() < deadline, run.stdout.read()
                time.sleep(0.1)
            run.kill()
        out = run.communicate(timeout=120)[0]
        assert (data / "hub-up").exists(), out  # the hub did run
        deadline = time.monotonic() + 15  # a killed parent's hub gets its SIGTERM at once
        while processes_of(data) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [describe(pid) for pid in processes_of(data)] == [], out
        if case != "test_pytest_is_killed":
            assert run.returncode == 1, out  # the inner test failed (or errored)
            assert "left running" in out, out  # and was told what it left
    finally:
        run.kill()
        run.wait()
        for pid in processes_of(data):  # whatever this test found, not left for the next
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
