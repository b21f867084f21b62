"""The kiosk agent's ID card reader: `[id_reader]` in agent.toml, and a real agent process
reading a simulated reader on a pty and sending `id_card` to a Socket.IO server on /device
(each placing once, an unreadable card as an error, nothing of a card in its log, the reader's
health like the scanner's)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio
from werkzeug.serving import make_server

from agent.config import load_agent_config
from devices.sim.idcard import SimIdReader, fictitious_card
from hub.config import ConfigError
from tests.waiting import eventually

ZHANG = fictitious_card("张三", dt.date(1990, 5, 17), seq=11)
ELDER = fictitious_card("王五", dt.date(1949, 12, 31), seq=2)
DAMAGED = fictitious_card("李四", dt.date(1970, 1, 1), seq=21, damaged=True)


def test_id_reader_config(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text('name = "a"\n[id_reader]\ndevice = "/dev/serial/by-id/usb-x"\n')
    with pytest.raises(ConfigError) as err:
        load_agent_config(path)
    assert err.value.key == "id_reader" and "kiosk" in err.value.reason
    path.write_text('name = "a"\nkiosk = "k1"\n[id_reader]\ndevice = "x"\npoll_ms = 10\n')
    with pytest.raises(ConfigError) as err:
        load_agent_config(path)
    assert err.value.key == "id_reader.poll_ms"
    path.write_text('name = "a"\nkiosk = "k1"\n[id_reader]\ndevice = "x"\nkind = "nfc"\n')
    with pytest.raises(ConfigError):
        load_agent_config(path)
    path.write_text('name = "a"\nkiosk = "k1"\n[id_reader]\ndevice = "x"\n')
    reader = load_agent_config(path).id_reader
    assert reader is not None
    assert (reader.kind, reader.baud, reader.poll_ms) == ("sam", 115200, 300)
    path.write_text('name = "a"\nkiosk = "k1"\n[id_reader]\ndevice = "/dev/input/by-id/k"\n'
                    'kind = "keyboard"\ngrab = false\ngap_s = 0.3\n')
    reader = load_agent_config(path).id_reader
    assert reader is not None and (reader.kind, reader.grab, reader.gap_s) == ("keyboard",
                                                                               False, 0.3)


class DeviceServer:
    """A bare Socket.IO server playing the hub's /device namespace: it admits any agent and
    keeps every `id_card` and `health` it is sent, answering {"ok": true}."""

    def __init__(self) -> None:
        self.sio = socketio.Server(async_mode="threading")
        self.got: list[tuple[str, Any]] = []
        self.lock = threading.Lock()
        self.sio.on("connect", lambda sid, environ, auth=None: True, namespace="/device")
        for name in ("id_card", "health", "device_event"):
            self.sio.on(name, self._keep(name), namespace="/device")
        self.server = make_server("127.0.0.1", 0, socketio.WSGIApp(self.sio), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _keep(self, name: str) -> Any:
        def handler(sid: str, data: Any = None) -> dict[str, bool]:
            with self.lock:
                self.got.append((name, data))
            return {"ok": True}
        return handler

    def cards(self) -> list[dict]:
        with self.lock:
            return [d for n, d in self.got if n == "id_card"]

    def reader_health(self) -> list[str]:
        with self.lock:
            return [d["status"] for n, data in self.got if n == "health"
                    for d in data["devices"] if d["id"] == "id_reader@kiosk-1"]

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[DeviceServer, SimIdReader, Path]]:
    server = DeviceServer()
    sim = SimIdReader(read_s=0.05).start()
    config = tmp_path / "agent.toml"
    config.write_text(f"""
name = "kiosk-pi"
hub = "{server.url}"
state_dir = "{tmp_path / 'agent'}"
kiosk = "kiosk-1"

[id_reader]
device = "{sim.path}"
poll_ms = 50
""", encoding="utf-8")
    log_path = tmp_path / "agent.log"
    with open(log_path, "ab") as log:
        agent = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "--log-level", "debug", "agent", "--config",
             str(config)], stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "ONESTOP_AGENT_TOKEN": "t", "PYTHONUNBUFFERED": "1"})
    try:
        eventually(lambda: "online" in server.reader_health(), what="the reader online")
        yield server, sim, log_path
    finally:
        agent.terminate()
        try:
            agent.wait(10)
        except subprocess.TimeoutExpired:
            agent.kill()
        sim.stop()
        server.close()
        print(log_path.read_text(errors="replace")[-3000:])


@pytest.mark.slow
def test_the_agent_sends_each_card_once_and_logs_nothing_of_it(rig) -> None:
    server, sim, log_path = rig
    sim.insert(ZHANG)
    eventually(lambda: len(server.cards()) == 1, what="the card at the server")
    assert server.cards()[0] == {"number": ZHANG.text.number, "name": "张三",
                                 "birth": "1990-05-17", "valid_until": "2036-01-01"}
    sim.remove()
    eventually(lambda: sim.stats["commands"] > 20)
    sim.insert(DAMAGED)
    eventually(lambda: len(server.cards()) == 2, what="the damaged card")
    assert server.cards()[1] == {"error": "unreadable"}
    sim.remove()
    eventually(lambda: sim.stats["commands"] > 40)
    sim.insert(ELDER)
    eventually(lambda: len(server.cards()) == 3, what="the elderly card")
    assert server.cards()[2]["birth"] == "1949-12-31"
    eventually(lambda: sim.stats["commands"] > 80)  # left on the reader: not sent again
    assert len(server.cards()) == 3
    log = log_path.read_text(encoding="utf-8", errors="replace")
    said = [line.rsplit(": ", 1)[-1] for line in log.splitlines() if "agent.bridge" in line]
    assert said.count("card read") == 2 and said.count("card unreadable") == 1
    for card in (ZHANG, ELDER, DAMAGED):  # a debug log, with the wire log, holds none of them
        for secret in (card.text.number, card.text.name, card.text.number[6:14],
                       card.text.number.encode("utf-16-le").hex(" ")):
            assert secret not in log


@pytest.mark.slow
def test_the_readers_health_follows_an_unplug(rig) -> None:
    server, sim, _log = rig
    sim.unplug()
    eventually(lambda: server.reader_health()[-1:] == ["offline"], what="offline")
    sim.plug()
    eventually(lambda: server.reader_health()[-1:] == ["online"], what="online again")
    sim.insert(ZHANG)
    eventually(lambda: len(server.cards()) == 1, what="a card after the replug")
