from __future__ import annotations

import pytest

from tests.hubproc import HubProcess


@pytest.fixture
def hub(tmp_path):
    """A running hub (its own process) on the 24-hour test hall, with accounts and tokens."""
    proc = HubProcess(tmp_path / "data")
    proc.provision()
    proc.start()
    yield proc
    proc.stop()
