"""The systemd units (`systemd/`) and the notify protocol the hub, forwarder and agent speak.

`systemd-analyze verify` checks each unit as systemd would load it: unknown keys, bad values,
missing executables, dependency cycles. Templates are verified as instances (an `@.service`
alone cannot be loaded). It also insists that ExecStart's program exists: the units name
`/opt/onestop/venv/bin/onestop` and `/usr/bin/cage`, which are not on this machine, so the
copies under test point those two paths at executable stubs in a temp dir. (`--root DIR` was
tried instead: it then wants sysinit.target and every unit of the host under DIR too.)
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from hub import sdnotify
from tests.hubproc import HubProcess

UNITS = Path(__file__).resolve().parents[1] / "systemd"
INSTANCES = {
    "onestop-hub.service": "onestop-hub.service",
    "onestop-forward.service": "onestop-forward.service",
    "onestop-agent@.service": "onestop-agent@window3.service",
    "onestop-browser@.service": "onestop-browser@kiosk.service",
}
PROGRAMS = ("/opt/onestop/venv/bin/onestop", "/usr/bin/cage")


def _units() -> dict[str, str]:
    return {name: (UNITS / name).read_text(encoding="utf-8") for name in INSTANCES}


def _settings(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_every_unit_is_in_the_list() -> None:
    assert sorted(p.name for p in UNITS.glob("*.service")) == sorted(INSTANCES)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze not installed (Debian package systemd)")
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    stubs = {}
    for program in PROGRAMS:
        stub = tmp_path / "stubs" / program.lstrip("/")
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
        stubs[program] = str(stub) if not Path(program).exists() else program
    copies = []
    for name, text in _units().items():
        stubbed = text
        for program, stub in stubs.items():
            stubbed = stubbed.replace(program, stub)
        copy = tmp_path / INSTANCES[name]
        copy.write_text(stubbed)
        copies.append(str(copy))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *copies],
                            capture_output=True, text=True, timeout=60, check=False)
    # verify reports unknown keys and bad values as warnings with exit code 0: none allowed.
    assert result.returncode == 0 and not result.stdout.strip() and not result.stderr.strip(), \
        result.stdout + result.stderr


@pytest.mark.parametrize("name", ["onestop-hub.service", "onestop-forward.service",
                                  "onestop-agent@.service"])
def test_services_notify_are_watched_and_hardened(name: str) -> None:
    s = _settings(_units()[name])
    assert s["Type"] == ["notify"] and int(s["WatchdogSec"][0]) >= 10
    assert s["Restart"] == ["on-failure"]
    assert "network-online.target" in " ".join(s["After"])
    assert "network-online.target" in " ".join(s["Wants"])
    assert s["User"] == ["onestop"]
    assert s["ExecStart"][0].startswith("/opt/onestop/venv/bin/onestop ")
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict",
                       "ReadWritePaths": "/var/lib/onestop", "PrivateTmp": "yes",
                       "ProtectHome": "yes", "ProtectKernelTunables": "yes",
                       "ProtectKernelModules": "yes", "LockPersonality": "yes",
                       "MemoryDenyWriteExecute": "yes",
                       "SystemCallFilter": "@system-service",
                       "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6"}.items():
        assert s[key] == [value], key
    assert s["SyslogIdentifier"][0].startswith("onestop-")
    assert "TOKEN" not in " ".join(s.get("Environment", []))  # secrets: EnvironmentFile only
    if "agent" in name:
        assert s["DevicePolicy"] == ["closed"]
        assert {"char-ttyUSB rw", "char-input r", "char-usb rw"} <= set(s["DeviceAllow"])
        assert s["ExecStart"][0].endswith("--config /etc/onestop/agent-%i.toml")
    else:
        assert s["PrivateDevices"] == ["yes"] and "DeviceAllow" not in s


def test_browser_runs_cage_on_tty1_in_a_login_session() -> None:
    s = _settings(_units()["onestop-browser@.service"])
    assert s["ExecStart"][0].startswith("/usr/bin/cage -- /usr/bin/chromium ")
    assert "--kiosk" in s["ExecStart"][0] and s["ExecStart"][0].endswith("${ONESTOP_URL}")
    # the profile is kept: a paired page's token lives in its localStorage
    assert "--incognito" not in s["ExecStart"][0]
    assert "--user-data-dir=/var/lib/onestop/browser-%i" in s["ExecStart"][0]
    assert s["EnvironmentFile"] == ["/etc/onestop/browser-%i.env"]
    assert s["TTYPath"] == ["/dev/tty1"] and s["PAMName"] == ["login"]
    assert s["User"] == ["onestop"] and s["Conflicts"] == ["getty@tty1.service"]
    assert "MemoryDenyWriteExecute" not in s  # V8's JIT
    assert s["Restart"] == ["on-failure"]


# --- the notify protocol ----------------------------------------------------------------


def _listen(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + address[1:] if address.startswith("@") else address)
    sock.settimeout(5)
    return sock


@pytest.mark.parametrize("kind", ["path", "abstract"])
def test_notify_sends_datagrams(tmp_path: Path, kind: str) -> None:
    address = (str(tmp_path / "notify.sock") if kind == "path"
               else f"@onestop-test-{os.getpid()}-{time.monotonic_ns()}")
    with _listen(address) as sock:
        env = {"NOTIFY_SOCKET": address}
        assert sdnotify.notify("READY=1\nSTATUS=up", env)
        assert sdnotify.notify("WATCHDOG=1", env)
        assert sock.recv(4096) == b"READY=1\nSTATUS=up"
        assert sock.recv(4096) == b"WATCHDOG=1"


def test_notify_is_a_no_op_outside_systemd(tmp_path: Path) -> None:
    assert sdnotify.notify("READY=1", {}) is False
    assert sdnotify.notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "none")}) is False
    assert sdnotify.watchdog_interval({}) is None
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "3000000"}) == pytest.approx(1.0)
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": "1"}) is None


def test_watchdog_beat_is_throttled(tmp_path: Path) -> None:
    address = str(tmp_path / "n.sock")
    now = [0.0]
    with _listen(address) as sock:
        dog = sdnotify.Watchdog({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "3000000"},
                                clock=lambda: now[0])
        for t in (0.0, 0.3, 0.9, 1.0, 1.5, 2.2):
            now[0] = t
            dog.beat()
        sock.settimeout(0.2)
        got = []
        while True:
            try:
                got.append(sock.recv(64))
            except TimeoutError:
                break
    assert got == [b"WATCHDOG=1"] * 3  # at 0.0, 1.0 and 2.2


def test_pinger_stops_when_a_watched_thread_dies(tmp_path: Path, monkeypatch) -> None:
    address = str(tmp_path / "n.sock")
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    monkeypatch.setenv("WATCHDOG_USEC", "150000")  # a ping every 50 ms
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    worker_stop = threading.Event()
    worker = threading.Thread(target=worker_stop.wait, name="bus1")
    worker.start()
    with _listen(address) as sock:
        pinger = threading.Thread(target=sdnotify.run_pinger,
                                  args=(time.sleep,),
                                  kwargs={"alive": sdnotify.threads_alive([worker])})
        pinger.start()
        assert sock.recv(64) == b"READY=1"
        assert sock.recv(64) == b"WATCHDOG=1"
        worker_stop.set()
        worker.join()
        pinger.join(2)
        assert not pinger.is_alive()


# --- end to end: the real hub process under a pretend systemd -----------------------------


class NotifiedHub(HubProcess):
    """A hub whose READY=1 the test waits for before asking anything over HTTP."""

    sock: socket.socket | None = None
    ready_answered: bool | None = None

    def started(self) -> None:
        assert self.sock is not None
        first = self.sock.recv(4096)  # the socket's timeout: 30 s
        assert first.startswith(b"READY=1\nSTATUS=serving on "), first  # before any ping
        # READY=1 means "serving": the first request after it must be answered, no retry.
        self.ready_answered = requests.get(f"{self.url}/healthz", timeout=5).ok


@pytest.mark.slow
def test_hub_says_ready_after_it_listens_and_keeps_pinging(tmp_path: Path, monkeypatch) -> None:
    address = str(tmp_path / "notify.sock")
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    monkeypatch.setenv("WATCHDOG_USEC", "3000000")  # WatchdogSec=3: a ping every second
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    hub = NotifiedHub(tmp_path / "data")
    hub.provision()
    with _listen(address) as sock:
        sock.settimeout(30)
        hub.sock = sock
        try:
            hub.start()
            assert hub.ready_answered is True
            sock.settimeout(3)
            start = time.monotonic()
            pings = [sock.recv(64) for _ in range(3)]
            assert pings == [b"WATCHDOG=1"] * 3
            assert time.monotonic() - start < 5  # about one a second
            assert hub.issue().status_code == 201  # and it serves while it pings
        finally:
            hub.stop()


@pytest.mark.slow
def test_agent_says_ready_and_pings_while_its_threads_live(tmp_path: Path, hub) -> None:
    """The real `onestop agent` process, with a byte keypad on a port that does not exist (its
    thread retries the port, and is watched)."""
    config = tmp_path / "agent.toml"
    config.write_text(f'name = "window9"\nhub = "{hub.url}"\nstate_dir = "{tmp_path}/state"\n'
                      '[[keypads]]\nport = "/dev/serial/by-id/none"\nwindow = 1\n'
                      'kind = "rating"\nkeymap = { "1" = "1" }\n')
    address = f"@onestop-agent-test-{os.getpid()}-{time.monotonic_ns()}"
    env = {**os.environ, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1500000",
           "ONESTOP_AGENT_TOKEN": hub.tokens["agent"]}
    env.pop("WATCHDOG_PID", None)
    with _listen(address) as sock:
        sock.settimeout(20)
        agent = subprocess.Popen([sys.executable, "-m", "hub.cli", "--log-level", "warning",
                                  "agent", "--config", str(config)], env=env)
        try:
            assert sock.recv(4096) == b"READY=1\nSTATUS=agent window9"
            sock.settimeout(2)
            assert [sock.recv(64) for _ in range(3)] == [b"WATCHDOG=1"] * 3
        finally:
            agent.terminate()
            agent.wait(10)
        # SIGTERM: it says so, and stops pinging.
        sock.settimeout(2)
        rest = []
        with contextlib.suppress(TimeoutError):
            while True:
                rest.append(sock.recv(64))
        assert b"STOPPING=1" in rest


def test_forwarder_keeps_pinging_through_a_long_backoff(tmp_path: Path, monkeypatch) -> None:
    """A backend that is down means backoffs longer than the watchdog's interval: the
    forwarder still pings between the slices of its wait, so systemd does not restart it."""
    from hub.config import load_config
    from hub.forwarder import Forwarder
    from hub.runtime import DB_FILE
    from hub.service import HallService
    from hub.store.database import Database
    from tests.hubproc import HALL_24H, free_port
    from tests.test_forwarder import backend_cfg
    from tests.test_store import KIOSK, Clock

    address = str(tmp_path / "n.sock")
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    monkeypatch.setenv("WATCHDOG_USEC", "900000")  # a ping at least every 0.3 s
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    db = Database(tmp_path / DB_FILE)
    db.migrate()
    HallService(load_config(HALL_24H), db, clock=Clock()).issue_ticket(KIOSK, "S1")
    cfg = backend_cfg(f"http://127.0.0.1:{free_port()}/events", max_backoff_s=30)
    forwarder = Forwarder(db, cfg.backend, cfg.event_source, cfg.zone, backoff_base_s=20,
                          rng=random.Random(1))
    forwarder.rng.uniform = lambda a, b: b  # the full 20 s wait
    with _listen(address) as sock:
        runner = threading.Thread(target=forwarder.run)
        runner.start()
        try:
            assert sock.recv(4096).startswith(b"READY=1")
            sock.settimeout(1)
            start = time.monotonic()
            while time.monotonic() - start < 2.5:  # well inside the first 20 s backoff
                assert sock.recv(64) == b"WATCHDOG=1"
        finally:
            forwarder.stop.set()
            runner.join(5)
    assert not runner.is_alive() and forwarder.position == 0
    db.close()
