"""`make demo` runs `onestop demo`: the hall, its simulated devices and screens, on one machine."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests
import socketio

from hub.identity import totp_code, totp_step
from tests.hubproc import SUITE_CLOCK, free_port

pytestmark = pytest.mark.slow


def test_the_demo_starts_the_whole_hall_and_its_devices(tmp_path):
    port, devices_port = free_port(), free_port()
    log = tmp_path / "demo.log"
    with open(log, "wb") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "demo", "--data", str(tmp_path / "demo"),
             "--port", str(port), "--devices-port", str(devices_port)],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        state = None
        while time.monotonic() < deadline and state is None:
            assert demo.poll() is None, log.read_text()
            try:
                state = requests.get(f"http://127.0.0.1:{devices_port}/state", timeout=1).json()
            except requests.ConnectionError:
                time.sleep(0.2)
        text = log.read_text()
        assert state is not None, text
        # The agent connects to the hub and writes the LEDs a moment after the panel is up.
        while time.monotonic() < deadline and state[0]["led"] != "暂停受理":
            time.sleep(0.2)
            state = requests.get(f"http://127.0.0.1:{devices_port}/state", timeout=5).json()
        assert len(state) == 22 and state[0]["led"] == "暂停受理"
        password = re.search(r"this run only\): (\S+)", text).group(1)
        kiosk = re.search(r"kiosk:demo-kiosk\s+(\S+)", text).group(1)
        assert f"http://127.0.0.1:{port}/display/hall\n" in text  # paired: no token in it
        base = f"http://127.0.0.1:{port}/api/v1"
        r = requests.post(f"{base}/login", json={"username": "clerk01", "password": password,
                                                  "window": 1}, timeout=5)
        assert r.ok, r.text
        # The supervisor signs in with the password and the code of the authenticator printed
        # (the demo keeps the hall's second factor for the office).
        secret = re.search(r"supervisor otpauth://\S+secret=([A-Z2-7]+)", text).group(1)
        code = totp_code(secret, totp_step(SUITE_CLOCK()))  # the demo runs on the suite's clock
        r = requests.post(f"{base}/login", json={"username": "supervisor", "password": password,
                                                  "otp": code}, timeout=5)
        assert r.ok, r.text
        service = re.search(r'"service": "([^"]+)"', text).group(1)
        number = requests.post(f"{base}/tickets", json={"service": service}, timeout=5,
                               headers={"Authorization": f"Bearer {kiosk}"}).json()["number"]
        requests.post(f"http://127.0.0.1:{devices_port}/press",
                      json={"window": 1, "device": "caller", "key": 1}, timeout=5)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            led = requests.get(f"http://127.0.0.1:{devices_port}/state", timeout=5).json()[0]
            if led["led"] == f"请{number}号":
                break
            time.sleep(0.2)
        assert led["led"] == f"请{number}号", led
        kiosk_ticket_prints(port, devices_port, kiosk, service)
        kiosk_card_swipes(port, devices_port, kiosk)
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        try:
            demo.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)


def kiosk_card_swipes(port: int, devices_port: int, kiosk: str) -> None:
    """A made-up card placed on the kiosk's simulated ID card reader from the devices panel
    reaches the kiosk's page through the agent and the hub, masked, with its elderly mark."""
    got: list[dict] = []
    sio = socketio.Client(reconnection=False)
    sio.on("identity", got.append, namespace="/kiosk")
    sio.connect(f"http://127.0.0.1:{port}", namespaces=["/kiosk"], auth={"token": kiosk},
                transports=["websocket"], wait_timeout=5)
    panel = f"http://127.0.0.1:{devices_port}/idcard"
    try:
        deadline = time.monotonic() + 15
        while requests.get(panel, timeout=5).json()["health"] != "online":
            assert time.monotonic() < deadline, "the demo's ID card reader is not online"
            time.sleep(0.2)
        assert requests.post(panel, json={"card": "elder"}, timeout=5).json()["on"] == "elder"
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        requests.post(panel, json={"card": None}, timeout=5)
        sio.disconnect()
    assert got and got[0]["masked_name"] == "王*" and got[0]["elderly"] is True, got


def kiosk_ticket_prints(port: int, devices_port: int, kiosk: str, service: str) -> None:
    """The kiosk's page takes a ticket over its socket; the simulated printer prints it."""
    sio = socketio.Client(reconnection=False)
    sio.connect(f"http://127.0.0.1:{port}", namespaces=["/kiosk"], auth={"token": kiosk},
                transports=["websocket"], wait_timeout=5)
    try:
        got = sio.call("issue_ticket", {"service": service, "request_id": "demo-1"},
                       namespace="/kiosk", timeout=5)
    finally:
        sio.disconnect()
    assert got["ok"] and got["result"]["print"] == "queued", got
    printed = got["result"]["ticket"]["number"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        paper = requests.get(f"http://127.0.0.1:{devices_port}/printer", timeout=5).json()
        if printed in paper["last"]:
            break
        time.sleep(0.2)
    assert printed in paper["last"] and "您的号码" in paper["last"], paper


def start_demo(tmp_path, port: int, devices_port: int) -> subprocess.Popen:
    """`onestop demo` on free ports, once its devices panel answers."""
    log = tmp_path / "demo.log"
    with open(log, "wb") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "demo", "--data", str(tmp_path / "demo"),
             "--port", str(port), "--devices-port", str(devices_port)],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert demo.poll() is None, log.read_text()
        try:
            requests.get(f"http://127.0.0.1:{devices_port}/state", timeout=1)
            return demo
        except requests.ConnectionError:
            time.sleep(0.2)
    raise TimeoutError(log.read_text())


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, ValueError):  # not a process, or gone meanwhile
            continue
        if entry.isdigit() and int(fields[1]) == pid:
            found.append(int(entry))
    return found


def gone(pid: int) -> bool:
    """Ended: no such process, or only its exit status left (a zombie nobody has reaped)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def port_free(port: int) -> bool:
    """Free to listen on, as the demo checks it (hub.main.ensure_free: SO_REUSEADDR)."""
    try:
        with socket.create_server(("127.0.0.1", port)):
            return True
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_stopped_demo_ends_its_devices_and_frees_their_port(tmp_path, sig):
    """`kill <pid>` (a service manager), a closed terminal, Ctrl-C sent to the demo alone: once
    the demo has exited, its simulated devices have too, and both ports are free for the next
    `make demo`. SIGTERM and SIGHUP used to leave the devices holding their port."""
    port, devices_port = free_port(), free_port()
    demo = start_demo(tmp_path, port, devices_port)
    try:
        devices = children_of(demo.pid)
        assert devices, "the demo runs its devices as a child"
        os.kill(demo.pid, sig)  # the demo only, not its process group
        demo.wait(30)
        assert [pid for pid in devices if not gone(pid)] == [], (tmp_path / "demo.log").read_text()
        assert port_free(port) and port_free(devices_port)
    finally:
        with contextlib.suppress(ProcessLookupError):  # its session: whatever is left of it
            os.killpg(demo.pid, signal.SIGKILL)
        demo.wait(15)


def test_a_killed_demo_takes_its_devices_with_it(tmp_path):
    """SIGKILL (the OOM killer, a crash) runs no handler: the devices follow their parent
    anyway (the kernel sends them SIGTERM when it dies), and their port comes free."""
    port, devices_port = free_port(), free_port()
    demo = start_demo(tmp_path, port, devices_port)
    try:
        devices = children_of(demo.pid)
        assert devices
        demo.kill()
        demo.wait(15)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not (all(gone(p) for p in devices)
                                                   and port_free(devices_port)):
            time.sleep(0.1)
        assert all(gone(p) for p in devices) and port_free(devices_port)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(demo.pid, signal.SIGKILL)


def test_the_demos_agent_token_is_bound_to_its_kiosk_and_windows(tmp_path):
    """The demo ships least privilege too: its agent's token serves demo-kiosk and the hall's
    windows, and a run with another kiosk's name would be refused (tests/test_agent_binding)."""
    from hub.auth import AgentBinding
    from hub.config import load_config
    from hub.demo import prepare_demo
    from hub.runtime import open_database
    from hub.store.accounts import Accounts
    from tests.hubproc import HALL_24H

    cfg = load_config(HALL_24H)
    demo = prepare_demo(cfg, str(tmp_path), SUITE_CLOCK())
    accounts = Accounts(open_database(tmp_path))
    try:
        agent = accounts.principal(demo.tokens["agent:demo-agent"], SUITE_CLOCK())
        kiosk = accounts.principal(demo.tokens["kiosk:demo-kiosk"], SUITE_CLOCK())
    finally:
        accounts.db.close()
    assert agent is not None and kiosk is not None
    assert agent.binding == AgentBinding(kiosks=("demo-kiosk",),
                                         windows=tuple(w.no for w in cfg.windows))
    assert kiosk.binding is None  # only agents are bound
