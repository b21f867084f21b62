"""The kiosk agent's ID card reader: `[id_reader]` in agent.toml, and a real agent process
reading a simulated reader on a pty and sending `id_card` to a Socket.IO server on /device
(each placing once, an unreadable card as an error, nothing of a card in its log, the reader's
health like the scanner's)."""

from __future__ import annotations

import datetime as dt
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio
from werkzeug.serving import make_server

from agent.config import load_agent_config
from devices.sim.idcard import SimIdReader, check_character, fictitious_card
from hub.config import ConfigError
from tests.idhall import run_kiosk_agent
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
    log_path = tmp_path / "agent.log"
    agent = run_kiosk_agent(tmp_path, server.url, "t", sim, kiosk="kiosk-1", log_level="debug")
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


def test_the_demo_panel_places_sample_cards(tmp_path: Path) -> None:
    import requests

    from agent.bridge import Agent
    from agent.simulated import DEMO_CARDS, SimulatedHall, serve_panel

    hall = SimulatedHall([1], kiosk="demo-kiosk")
    hall.start()
    agent = Agent(hall.agent_config("demo-devices", "http://127.0.0.1:9", "t",
                                    str(tmp_path / "agent")))
    server = serve_panel(hall, agent, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.server_port}/idcard"
    try:
        got = requests.get(url, timeout=5).json()
        assert got["present"] and got["on"] is None and len(got["cards"]) == len(DEMO_CARDS)
        assert agent.cfg.id_reader is not None
        assert agent.cfg.id_reader.device == hall.id_reader.path  # type: ignore[union-attr]
        assert requests.post(url, json={"card": "elder"}, timeout=5).json()["on"] == "elder"
        card = hall.id_reader.card  # type: ignore[union-attr]
        assert card is not None and card.text.birth.year == 1949
        for bad in ({"card": "nobody"}, {"card": ["elder"]}, {}):
            assert requests.post(url, json=bad, timeout=5).status_code == 422
        assert requests.post(url, json={"card": None}, timeout=5).json()["on"] is None
        assert hall.id_reader.card is None  # type: ignore[union-attr]
        numbers = [c.text.number for _, c in DEMO_CARDS.values()]
        assert all(n[17] == check_character(n[:17]) for n in numbers)
    finally:
        server.shutdown()
        agent.outbox.close()
        hall.stop()


@pytest.fixture
def hub_rig(tmp_path: Path) -> Iterator[tuple[Any, SimIdReader, Path]]:
    """A real hub process, a real agent process with `[id_reader]` on the simulator's pty, and
    the kiosk's page as a Socket.IO client of /kiosk (kiosk name test-kiosk)."""
    from tests.hubproc import HubProcess
    from tests.test_kiosk_printing import Client, devices

    hub = HubProcess(tmp_path / "hub")
    hub.provision()
    hub.start()
    sim = SimIdReader(read_s=0.05).start()
    log_path = tmp_path / "agent.log"
    agent = run_kiosk_agent(tmp_path, hub.url, hub.tokens["agent"], sim, log_level="debug")
    kiosk = None
    try:
        eventually(lambda: devices(hub).get("id_reader@test-kiosk", {}).get("status")
                   == "online", what="the ID card reader online at the hub")
        kiosk = Client(hub.url, "/kiosk", {"token": hub.tokens["kiosk"]})
        kiosk.sio.on("identity", kiosk._keep("identity"), namespace="/kiosk")
        yield hub, sim, kiosk
    finally:
        if kiosk is not None:
            kiosk.close()
        agent.terminate()
        try:
            agent.wait(10)
        except subprocess.TimeoutExpired:
            agent.kill()
        sim.stop()
        hub.stop()
        print(log_path.read_text(errors="replace")[-3000:])


@pytest.mark.slow
def test_the_reader_is_one_of_the_kiosks_devices_at_the_hub(hub_rig) -> None:
    from tests.test_kiosk_printing import devices

    hub, sim, _kiosk = hub_rig
    reader = devices(hub)["id_reader@test-kiosk"]
    assert reader["status"] == "online"
    sim.unplug()
    eventually(lambda: devices(hub)["id_reader@test-kiosk"]["status"] == "offline",
               what="offline at the hub")
    sim.plug()
    eventually(lambda: devices(hub)["id_reader@test-kiosk"]["status"] == "online",
               what="online again at the hub")


def _swipe(sim: SimIdReader, kiosk: Any, card: Any) -> dict:
    """Place `card` and return what the kiosk's page is pushed; then lift it off."""
    before = len(kiosk.pushed("identity"))
    sim.insert(card)
    eventually(lambda: len(kiosk.pushed("identity")) > before, what="identity at the kiosk")
    pushed = kiosk.pushed("identity")
    sim.remove()
    seen = sim.stats["commands"]
    eventually(lambda: sim.stats["commands"] > seen + 4, what="the card lifted off")
    assert len(kiosk.pushed("identity")) == before + 1  # one push per placing
    return pushed[-1]


@pytest.mark.slow
def test_a_card_on_the_reader_reaches_the_kiosk_as_a_masked_identity(hub_rig) -> None:
    import requests

    from devices.idcard import protocol as p
    from devices.sim.idcard import SimCard

    hub, sim, kiosk = hub_rig
    got = _swipe(sim, kiosk, ZHANG)
    assert (got["masked_name"], got["elderly"]) == ("张*", False) and got["handle"]
    r = requests.post(f"{hub.url}/api/v1/tickets", json={"service": "S1",
                                                         "identity": got["handle"]},
                      headers=hub.auth(hub.tokens["kiosk"]), timeout=5)
    assert r.ok, r.text
    elder = _swipe(sim, kiosk, ELDER)
    assert (elder["masked_name"], elder["elderly"]) == ("王*", True)
    assert _swipe(sim, kiosk, DAMAGED)["error"] == "id_unreadable"
    expired = fictitious_card("赵六", dt.date(1978, 8, 1), seq=15,
                              valid_until=dt.date(2020, 8, 1))
    assert _swipe(sim, kiosk, expired)["error"] == "id_expired"
    text = ZHANG.text
    wrong = text.number[:17] + ("0" if text.number[17] != "0" else "1")
    forged = SimCard(p.CardText(**{**{f: getattr(text, f) for f in text.__slots__},
                                   "number": wrong}))
    assert _swipe(sim, kiosk, forged)["error"] == "id_invalid"
    for pushed in kiosk.pushed("identity"):
        assert ZHANG.text.number not in str(pushed) and "张三" not in str(pushed)
