"""`make demo` runs `onestop demo`: the hall, its simulated devices and screens, on one machine."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests
import socketio

from tests.hubproc import free_port

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
        assert f"http://127.0.0.1:{port}/display/hall?token=" in text
        base = f"http://127.0.0.1:{port}/api/v1"
        r = requests.post(f"{base}/login", json={"username": "clerk01", "password": password,
                                                  "window": 1}, timeout=5)
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
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        try:
            demo.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)


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
