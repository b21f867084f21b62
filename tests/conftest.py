from __future__ import annotations

import pytest

from tests.hubproc import HubProcess, quiet_hall


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
