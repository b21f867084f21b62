"""What the hub's server costs (per socket, and at start), and that it still works.

A real server process (tests/leanserver.py: the hub's own eventlet patching and `run_server`,
Engine.IO pings every second) and real python-socketio clients over loopback.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import socketio

from tests.hubproc import free_port

pytestmark = pytest.mark.slow

SERVER = Path(__file__).parent / "leanserver.py"
BIG = "大" * 40_000 + "end"  # 120 KB of UTF-8: more than eventlet's HTTP buffers (8 and 16 KiB)


@pytest.fixture(scope="module")
def server():
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(SERVER), str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                requests.get(f"{url}/stats", timeout=5).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        proc.kill()
        proc.wait(10)


def client(url: str, transports: list[str] | None = None) -> tuple[socketio.Client, queue.Queue]:
    got: queue.Queue = queue.Queue()
    sio = socketio.Client(reconnection=False)
    for name in ("pushed", "last"):
        sio.on(name, lambda data, name=name: got.put((name, data)))
    sio.on("disconnect", lambda *reason: got.put(("disconnect", None)))
    sio.connect(url, transports=transports or ["websocket"], wait_timeout=5)
    return sio, got


def stats(url: str) -> dict:
    return requests.get(f"{url}/stats", timeout=5).json()


@pytest.fixture
def idle_websockets(server):
    """20 connected websockets, each past its connect and a ping, and the server's stats from
    before they connected."""
    before = stats(server)
    clients = [client(server)[0] for _ in range(20)]
    try:
        for sio in clients:  # each has had its connect handled and its packets written
            assert sio.call("echo", "ok", timeout=5) == "ok"
        time.sleep(1.5)  # past a ping and its answer on every socket
        yield before
    finally:
        for sio in clients:
            sio.disconnect()


def test_one_green_thread_per_idle_websocket(server, idle_websockets) -> None:
    """Not three (the connection's, python-engineio's writer's, its ping's)."""
    assert stats(server)["greenlets"] - idle_websockets["greenlets"] <= 20 + 2


def test_no_http_buffers_held_by_an_idle_websocket(server, idle_websockets) -> None:
    assert stats(server)["open_buffered_socket_files"] == 2  # this /stats request's own two


def test_pings_keep_an_idle_websocket_connected(server) -> None:
    """The client drops a server that sends no PING within ping interval + timeout (2 s)."""
    sio, got = client(server)
    try:
        time.sleep(5)
        assert sio.connected
        assert got.empty()
        assert sio.call("echo", "still here", timeout=5) == "still here"
    finally:
        sio.disconnect()


def test_messages_larger_than_the_buffers_arrive_whole(server) -> None:
    sio, _ = client(server)
    try:
        assert sio.call("echo", BIG, timeout=10) == BIG
    finally:
        sio.disconnect()


def test_a_push_to_an_idle_websocket_arrives(server) -> None:
    sio, got = client(server)
    try:
        sio.emit("later", {"after_s": 1.5, "text": BIG})
        assert got.get(timeout=10) == ("pushed", BIG)
    finally:
        sio.disconnect()


def test_the_servers_last_message_arrives_before_it_closes(server) -> None:
    sio, got = client(server)
    sio.emit("bye", BIG)
    assert got.get(timeout=10) == ("last", BIG)
    assert got.get(timeout=10) == ("disconnect", None)


def test_an_upgrade_from_long_polling_works(server) -> None:
    """A browser's default: long-polling first, then the websocket."""
    sio, got = client(server, transports=["polling", "websocket"])
    try:
        deadline = time.monotonic() + 10
        while sio.transport() != "websocket" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sio.transport() == "websocket"
        sio.emit("later", {"after_s": 0.2, "text": "after the upgrade"})
        assert got.get(timeout=10) == ("pushed", "after the upgrade")
        assert sio.call("echo", BIG, timeout=10) == BIG
    finally:
        sio.disconnect()


def test_a_lone_hub_loads_no_green_dns_resolver(hub) -> None:
    """eventlet's green resolver (dnspython, which loads the cryptography bindings for DNSSEC)
    costs a hub ~16 MB, and a hub with no PostgreSQL or Redis to reach resolves no name."""
    maps = Path(f"/proc/{hub.proc.pid}/maps").read_text()
    assert "cryptography" not in maps


def test_the_installed_engineio_is_the_release_the_lean_handler_was_copied_from():
    """pyproject.toml pins python-engineio to it; should the pin move, hub/lean_connections.py's
    copies must be compared with the new release's code before this passes again."""
    from hub.lean_connections import engineio_as_copied, engineio_version

    assert engineio_as_copied(), engineio_version()
