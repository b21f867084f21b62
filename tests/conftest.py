from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.clock import ENV
from hub.config import HallConfig, load_config
from hub.store.database import Database
from hub.web.operations import CHECK_ENV
from tests.hubproc import HALL_24H, SUITE_CLOCK, HubProcess, quiet_hall
from tests.leftovers import _ends_what_it_started, pytest_sessionfinish  # noqa: F401 (plugin)

# The tests of days and dates (opening days, rollover, promised dates, reports, restarts):
# `make test` runs them a second time with the whole system clock faked to a day far from
# today at 23:59 in the hall's zone (libfaketime), so a path that reads the real date instead
# of its injected clock fails there. Not the rest: libfaketime breaks threads' timed waits
# (sem_timedwait, clock_nanosleep: EINVAL or hangs), which device buses and the forwarder need.
DATE_MODULES = frozenset({
    "test_api.py", "test_audit.py", "test_casework_engine.py", "test_casework_properties.py",
    "test_clock.py", "test_config.py", "test_crash.py",
    "test_engine.py", "test_engine_alerts.py", "test_engine_properties.py",
    "test_engine_ratings.py", "test_reload.py", "test_reports.py", "test_slips.py",
    "test_store.py",
})


def pytest_configure(config):
    os.environ[ENV] = SUITE_CLOCK.spec()  # inherited by every process a test starts
    # Every JSON answer of every hub a test runs is held to its documented shape: one that
    # is not fails its request (hub/web/operations.py).
    os.environ[CHECK_ENV] = "1"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in DATE_MODULES:
            item.add_marker(pytest.mark.dates)


@pytest.fixture
def cfg() -> HallConfig:
    """The suite's hall, open round the clock (tests/data/hall-24h.toml)."""
    return load_config(HALL_24H)


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "onestop.db"


@pytest.fixture
def db(db_path) -> Iterator[Database]:
    """A migrated SQLite store in the test's directory, closed after it."""
    database = Database(db_path)
    database.migrate()
    yield database
    database.close()


@pytest.fixture
def hub(tmp_path):
    """A running hub (its own process) on the 24-hour test hall, with accounts and tokens."""
    proc = HubProcess(tmp_path / "data")
    proc.provision()
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def quiet_hub(tmp_path):
    """`hub` without the kiosk's voice prompts (tests/hubproc.py quiet_hall): for tests that
    read its log for tracebacks."""
    proc = HubProcess(tmp_path / "data", config=quiet_hall(tmp_path))
    proc.provision()
    proc.start()
    yield proc
    proc.stop()
