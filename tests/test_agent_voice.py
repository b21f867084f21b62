"""Voice calling end to end: hub process, and an agent process that only has a [voice] section
(no buses, no keypads) writing each announcement's WAV into a directory.

Calls and recalls in the agent's zone are said, in call order, as real audio (checked with sox);
calls in another zone are not; a hub restart (a new snapshot) re-announces nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hubproc import HALL_24H, HubProcess
from tests.waiting import eventually

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not shutil.which("sox") or not shutil.which("soxi"), reason="needs sox"),
]

ZONES = {1: "1F", 2: "1F", 3: "2F", 4: "2F"}
NAME_RE = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-\d{5}-(?P<ticket>[A-Z0-9]+)-w(?P<window>\d+)"
                     r"(?P<recall>-recall)?\.wav$")


def zoned_hall(path: Path) -> Path:
    """The 24-hour test hall with windows 1-2 in zone 1F and 3-4 in zone 2F."""
    text = HALL_24H.read_text(encoding="utf-8")
    for no, zone in ZONES.items():
        text, n = re.subn(rf"(?m)^no = {no}$", f'no = {no}\nzone = "{zone}"', text, count=1)
        assert n == 1, f"window {no} not found in {HALL_24H}"
    path.write_text(text, encoding="utf-8")
    return path


def agent_config(tmp_path: Path, hub: HubProcess, voice: str) -> Path:
    config = tmp_path / "agent.toml"
    config.write_text(f"""
name = "hall-audio"
hub = "{hub.url}"
state_dir = "{tmp_path / 'agent'}"

[voice]
{voice}
""", encoding="utf-8")
    return config


def start_agent(config: Path, token: str, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "wb")  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "--log-level", "info", "agent", "--config",
         str(config)], stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "ONESTOP_AGENT_TOKEN": token, "PYTHONUNBUFFERED": "1"})


def stop_agent(agent: subprocess.Popen) -> None:
    agent.terminate()
    try:
        agent.wait(10)
    except subprocess.TimeoutExpired:
        agent.kill()
        agent.wait(10)


def connections(log_path: Path) -> int:
    return log_path.read_text(errors="replace").count("connected to hub")


def wavs(out: Path) -> list[Path]:
    return sorted(out.glob("*.wav")) if out.exists() else []


def described(path: Path) -> tuple[str, int, bool]:
    m = NAME_RE.match(path.name)
    assert m, path.name
    return m["ticket"], int(m["window"]), bool(m["recall"])


def duration_s(path: Path) -> float:
    out = subprocess.run(["soxi", "-D", str(path)], capture_output=True, text=True, check=True)
    return float(out.stdout)


def rms(path: Path) -> float:
    out = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True,
                         check=True)
    m = re.search(r"RMS\s+amplitude:\s+([0-9.]+)", out.stderr)
    assert m, out.stderr
    return float(m[1])


@pytest.fixture
def hall_audio(tmp_path, request):
    hub = HubProcess(tmp_path / "hub", config=zoned_hall(tmp_path / "hall.toml"))
    hub.provision()
    hub.start()
    request.addfinalizer(hub.stop)  # also when the setup below fails
    out = tmp_path / "announcements"
    log_path = tmp_path / "agent.log"
    config = agent_config(tmp_path, hub, f"""
zones = ["1F"]
english = false
repeat = 1
player = "dir"
dir = "{out}"
""")
    agent = start_agent(config, hub.tokens["agent"], log_path)
    request.addfinalizer(lambda: stop_agent(agent))
    eventually(lambda: connections(log_path) >= 1, timeout_s=20, what="agent connected")
    yield hub, out, log_path
    print(log_path.read_text(errors="replace")[-3000:])


def test_calls_and_recalls_in_the_zone_are_announced_in_order(hall_audio):
    hub, out, log_path = hall_audio
    clerks = {w: hub.login(f"clerk{w}", w) for w in (1, 2, 3)}
    upstairs = hub.issue("S3").json()
    first, second = hub.issue("S1").json(), hub.issue("S1").json()

    # 2F first: had it been announced, its file would come before the 1F ones.
    assert hub.act(clerks[3], 3, "call-next").json()["current"]["number"] == upstairs["number"]
    assert hub.act(clerks[1], 1, "call-next").json()["current"]["number"] == first["number"]
    assert hub.act(clerks[2], 2, "call-next").json()["current"]["number"] == second["number"]
    assert hub.act(clerks[1], 1, "recall").json()["current"]["recalls"] == 1

    # Bounded, not timed: espeak-ng renders each call on a machine the suite keeps busy.
    eventually(lambda: len(wavs(out)) >= 3, timeout_s=60, what="three announcements")
    files = wavs(out)
    assert [described(f) for f in files] == [
        (first["number"], 1, False),
        (second["number"], 2, False),
        (first["number"], 1, True),
    ]
    for f in files:
        assert 2.0 < duration_s(f) < 15.0, f  # chime + "请 A 零 零 一 号 到 一 号窗口 办理"
        assert rms(f) > 0.02, f  # speech, not silence
    assert not list(out.glob(".*.part"))

    # A hub restart: the agent reconnects and gets a new snapshot, which says nothing again.
    hub.stop()
    hub.start()
    eventually(lambda: connections(log_path) >= 2, timeout_s=20, what="agent reconnected")
    third = hub.issue("S1").json()
    clerk2 = hub.login("clerk2", 2)  # sessions survive a restart, but be independent of it
    hub.act(clerk2, 2, "finish")
    assert hub.act(clerk2, 2, "call-next").json()["current"]["number"] == third["number"]
    eventually(lambda: len(wavs(out)) >= 4, timeout_s=60, what="the call after the restart")
    assert [described(f) for f in wavs(out)][3:] == [(third["number"], 2, False)]


def test_an_agent_without_scope_announces_every_window(tmp_path, hub):
    out = tmp_path / "all"
    log_path = tmp_path / "agent.log"
    config = agent_config(tmp_path, hub, f'player = "dir"\ndir = "{out}"\nchime = false')
    agent = start_agent(config, hub.tokens["agent"], log_path)
    try:
        eventually(lambda: connections(log_path) >= 1, timeout_s=20, what="agent connected")
        clerk = hub.login("clerk4", 4)
        served = hub.issue("S4").json()
        hub.act(clerk, 4, "call-next")
        eventually(lambda: wavs(out), timeout_s=60, what="announcement")
        [f] = wavs(out)
        assert described(f) == (served["number"], 4, False)
        assert duration_s(f) > 4.0  # Mandarin, then English
        assert rms(f) > 0.02
    finally:
        stop_agent(agent)
        print(log_path.read_text(errors="replace")[-2000:])
