"""The hand-driven simulator (`python -m devices.sim`) the demo uses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devices import regmap as rm
from devices.sim import SimBus
from devices.sim.__main__ import build, command, parse_args

REPO = Path(__file__).resolve().parents[2]


def test_windows_layout_and_commands() -> None:
    devices = build(parse_args(["--windows", "2", "--led", "40"]))
    assert [(d.address, d.kind.name) for d in devices] == [
        (1, "RATING"), (2, "CALLER"), (3, "LED"), (4, "RATING"), (5, "CALLER"), (6, "LED"),
        (40, "LED")]
    with SimBus(devices) as sim:
        assert command(sim, "press 2 call-next") == "seq 1"
        assert command(sim, "press 5 7") == "seq 1"
        assert sim[5].ring[1][1] >> 8 == rm.CallerKey.REQUEST_RATING
        assert command(sim, "rate 1 2").startswith("ignored")
        assert "no_reply=True" in command(sim, "fault 3 no_reply on")
        assert "delay_s=0.3" in command(sim, "fault bus delay_s 0.3")
        command(sim, "fault 3 clear")
        assert not sim[3].faults.any
        assert "LED" in command(sim, "show")
        with pytest.raises(ValueError):
            command(sim, "press 3 1")  # an LED has no keys


def test_cli_process_serves_and_quits(tmp_path: Path) -> None:
    link = tmp_path / "ttyBUS"
    proc = subprocess.run(
        [sys.executable, "-m", "devices.sim", "--windows", "1", "--link", str(link)],
        input="press 2 1\nshow\nquit\n", capture_output=True, text=True, timeout=20, check=False,
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    assert f"simulated bus at {link}" in proc.stdout
    assert "seq 1" in proc.stdout
    assert not link.exists()  # unplugged at exit
