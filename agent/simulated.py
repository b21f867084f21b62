"""A whole hall's window devices, simulated: for `onestop demo` and for trying the hall by hand.

Every window gets a rating keypad, a caller keypad and an LED screen on simulated RS-485 buses
(pseudo-terminals speaking the documented Modbus bytes), driven by a real device agent, exactly
as on site. A small page (no external assets) shows what each device shows and has a button for
every key, so a person can call, finish and rate with the simulated hardware.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from devices import regmap as rm
from devices.printer.sim import SimPrinter, strip_status_requests, text_of
from devices.sim import SimBus, SimCallerKeypad, SimDevice, SimLed, SimRatingKeypad
from devices.sim.idcard import SimCard, SimIdReader, fictitious_card
from hub.clock import Clock, system_clock

from .bridge import Agent
from .config import AgentConfig, Bus, BusDevice, IdReader, Printer

log = logging.getLogger(__name__)

WINDOWS_PER_BUS = 10  # 3 devices each: 30 of the 32 a bus may carry
BAUD = 115200
_KINDS: tuple[Literal["rating", "caller", "led"], ...] = ("rating", "caller", "led")  # a trio

# The kiosk's ID card reader's cards: made up (placeholder names, the GB 11643 standard's own
# example number for the elderly one), with valid check digits.
DEMO_CARDS: dict[str, tuple[str, SimCard]] = {
    "zhang": ("张三 · 1990 · 示例卡 sample", fictitious_card("张三", dt.date(1990, 5, 17), seq=11)),
    "ouyang": ("欧阳测试 · 1985 · 长期 no end",
               fictitious_card("欧阳测试", dt.date(1985, 3, 9), seq=13, valid_until=None)),
    "elder": ("王五 · 1949 · 适老 elderly",
              fictitious_card("王五", dt.date(1949, 12, 31), seq=2, valid_until=None)),
    "expired": ("赵六 · 1978 · 已过期 expired",
                fictitious_card("赵六", dt.date(1978, 8, 1), seq=15,
                                valid_until=dt.date(2020, 8, 1))),
    "damaged": ("损坏的卡 · damaged card",
                fictitious_card("李四", dt.date(1970, 1, 1), seq=21, damaged=True)),
}


class SimulatedHall:
    def __init__(self, windows: list[int], kiosk: str = "") -> None:
        self.kiosk = kiosk
        self.printer = SimPrinter() if kiosk else None  # the kiosk's ticket printer
        self.id_reader = SimIdReader(baud=BAUD) if kiosk else None  # and its ID card reader
        self.card_on: str | None = None
        self.buses: list[SimBus] = []
        self.at: dict[int, tuple[SimRatingKeypad, SimCallerKeypad, SimLed]] = {}
        for first in range(0, len(windows), WINDOWS_PER_BUS):
            devices: list[SimDevice] = []
            for i, window in enumerate(windows[first:first + WINDOWS_PER_BUS]):
                trio = (SimRatingKeypad(3 * i + 1), SimCallerKeypad(3 * i + 2), SimLed(3 * i + 3))
                self.at[window] = trio
                devices += trio
            self.buses.append(SimBus(devices, baud=BAUD))

    def start(self) -> None:
        for bus in self.buses:
            bus.start()
        if self.printer is not None:
            self.printer.start()
        if self.id_reader is not None:
            self.id_reader.start()

    def stop(self) -> None:
        for bus in self.buses:
            bus.stop()
        if self.printer is not None:
            self.printer.stop()
        if self.id_reader is not None:
            self.id_reader.stop()

    def place_card(self, key: str | None) -> None:
        """Put a demo card on the kiosk's reader (replacing the one there), or lift it (None)."""
        if self.id_reader is None:
            raise ValueError("no kiosk: no ID card reader")
        if key is None:
            self.id_reader.remove()
        else:
            self.id_reader.insert(DEMO_CARDS[key][1])  # KeyError for an unknown card
        self.card_on = key

    def id_cards(self, health: str = "") -> dict[str, Any]:
        if self.id_reader is None:
            return {"present": False}
        return {"present": True, "on": self.card_on, "health": health,
                "cards": [{"card": k, "label": label} for k, (label, _) in DEMO_CARDS.items()]}

    def printed(self) -> dict[str, Any]:
        """The kiosk printer's last job as text, and its fault switches."""
        if self.printer is None:
            return {"present": False}
        jobs = [j for j in strip_status_requests(self.printer.data()).split(b"\x1b@") if j]
        try:
            last = text_of(b"\x1b@" + jobs[-1]) if jobs else ""
        except ValueError as err:  # not our ESC/POS: show that rather than fail the panel
            last = f"(undecodable job: {err})"
        return {"present": True, "jobs": len(jobs), "last": last,
                "paper_out": self.printer.faults.paper_out}

    def set_paper_out(self, out: bool) -> None:
        if self.printer is not None:
            self.printer.faults.paper_out = out

    def agent_config(self, name: str, hub: str, token: str, state_dir: str) -> AgentConfig:
        buses = []
        for bus in self.buses:
            devices = []
            for window, trio in self.at.items():
                if trio[0] in bus.devices.values():
                    devices += [BusDevice(kind=kind, address=dev.address, window=window)
                                for kind, dev in zip(_KINDS, trio, strict=True)]
            buses.append(Bus(port=bus.path, baud=BAUD, poll_interval_ms=100,
                             reply_timeout_ms=50, devices=devices))
        printer = None
        if self.printer is not None:
            printer = Printer(target=self.printer.path, paper="80mm", status_interval_s=5)
        id_reader = None
        if self.id_reader is not None:
            id_reader = IdReader(device=self.id_reader.path, baud=BAUD)
        return AgentConfig(name=name, hub=hub, token=token, state_dir=state_dir, buses=buses,
                           kiosk=self.kiosk, printer=printer, id_reader=id_reader)

    def state(self, answers: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
        """What each window's devices show, and the hub's answer to its last press."""
        last = {a.get("window"): a for a in answers}
        return [{"window": window, "led": led.text, "caller": caller.number,
                 "waiting": caller.waiting, "rating": rating.screen,
                 "hub": _answer_text(last.get(window))}
                for window, (rating, caller, led) in sorted(self.at.items())]

    def press(self, window: int, device: str, key: int, reason: int = 0) -> bool:
        """Press a key; False if the device ignored it (a rating key with no window open)."""
        if window not in self.at:
            raise ValueError(f"no window {window}")
        rating, caller, _led = self.at[window]
        if device == "caller":
            caller.press(rm.CallerKey(key))  # ValueError for a key it does not have
            return True
        if device == "rating":
            rm.RatingLevel(key)
            return rating.press_rating(key, reason)
        raise ValueError(f"device is caller or rating, not {device!r}")


def _answer_text(answer: dict[str, Any] | None) -> str:
    if answer is None:
        return ""
    if answer.get("ok"):
        return "✓"
    return answer.get("error", {}).get("message", "")


class _Panel(BaseHTTPRequestHandler):
    """The devices panel's requests; `hall`, `agent` and `page` are set for each server."""

    hall: SimulatedHall
    agent: Agent
    page: bytes

    def do_GET(self) -> None:
        if self.path == "/":
            self._send(HTTPStatus.OK, self.page, "text/html; charset=utf-8")
        elif self.path == "/state":
            self._json(HTTPStatus.OK, self.hall.state(self.agent.link.answers))
        elif self.path == "/printer":
            self._json(HTTPStatus.OK, self.hall.printed())
        elif self.path == "/idcard":
            self._json(HTTPStatus.OK, self.hall.id_cards(self._reader_health()))
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def do_POST(self) -> None:
        if self.path == "/printer":
            self._set_printer()
        elif self.path == "/press":
            self._press()
        elif self.path == "/idcard":
            self._place_card()
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def _set_printer(self) -> None:
        body = self._body()
        if body is None or not isinstance(body.get("paper_out"), bool):
            self._json(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": "paper_out: bool"})
            return
        self.hall.set_paper_out(body["paper_out"])
        self._json(HTTPStatus.OK, self.hall.printed())

    def _place_card(self) -> None:
        body = self._body()
        card = "" if body is None else body.get("card", "")
        if not (card is None or (isinstance(card, str) and card in DEMO_CARDS)) \
                or self.hall.id_reader is None:
            self._json(HTTPStatus.UNPROCESSABLE_ENTITY,
                       {"error": f"card: one of {', '.join(DEMO_CARDS)}, or null to lift it"})
            return
        self.hall.place_card(card)
        self._json(HTTPStatus.OK, self.hall.id_cards(self._reader_health()))

    def _reader_health(self) -> str:
        device = self.agent.devices.get(f"id_reader@{self.hall.kiosk}")
        return device.health if device is not None else ""

    def _press(self) -> None:
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            ok = self.hall.press(int(body["window"]), str(body["device"]), int(body["key"]),
                                 int(body.get("reason", 0)))
        except KeyError as err:
            self._json(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": f"missing {err}"})
            return
        except (ValueError, TypeError, AttributeError) as err:
            self._json(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": str(err)})
            return
        self._json(HTTPStatus.OK, {"ok": ok, "note": "" if ok else
                                   "the keypad ignored it: no rating window is open"})

    def _body(self) -> dict | None:
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        except (ValueError, TypeError):
            return None
        return body if isinstance(body, dict) else None

    def _json(self, status: HTTPStatus, data: Any) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode(),
                   "application/json; charset=utf-8")

    def _send(self, status: HTTPStatus, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


def serve_panel(hall: SimulatedHall, agent: Agent, host: str, port: int) -> ThreadingHTTPServer:
    page = resources.files("agent.static").joinpath("simpanel.html").read_bytes()
    handler = type("Panel", (_Panel,), {"hall": hall, "agent": agent, "page": page})
    server = ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, name="sim-panel", daemon=True).start()
    return server


def run(windows: list[int], hub: str, token: str, state_dir: str, host: str,
        port: int, kiosk: str = "", clock: Clock = system_clock) -> None:
    """Simulated devices + a real agent + the panel, until interrupted. With `kiosk`, also that
    kiosk's ticket printer (the agent prints its tickets, and the slips of every window) and its
    ID card reader (the panel places made-up cards on it)."""
    hall = SimulatedHall(windows, kiosk)
    hall.start()
    agent = Agent(hall.agent_config("demo-devices", hub, token, str(Path(state_dir))), clock)
    agent.start()
    server = serve_panel(hall, agent, host, port)
    log.info("simulated devices for %d windows; panel on http://%s:%d", len(windows), host,
             port)
    try:
        agent.wait()
    finally:
        server.shutdown()
        agent.stop()
        hall.stop()
