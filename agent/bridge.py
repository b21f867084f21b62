"""The agent: its devices, its link to the hub, and the glue between them.

Threads: one per bus (devices/bus.py polls and runs commands), one per byte keypad, one each for
the kiosk's scanner and ID card reader, the hub link's Socket.IO threads and outbox sender, and
one worker that applies hub messages in order and turns them into device commands. Device events
go straight into the durable outbox; a card read goes straight to the hub.
With a [voice] section the worker also queues calls for the announcer, whose own thread
renders and plays them (agent/voice.py).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devices.bus import Bus
from devices.bytekeypad import ByteKeypad
from devices.events import Event, HealthChange, KeyEvent, RatingExpired, RatingPress
from devices.idcard.keyboard import IdKeyboardReader
from devices.idcard.reader import CardRead, IdCardReader
from devices.keypad import CallerKeypad, RatingKeypad
from devices.led import LedDisplay
from devices.master import Health, ModbusMaster
from devices.regmap import CallerKey, RatingLevel
from devices.scanner import ScannerReader
from devices.transport import SerialTransport
from devices.words import sent_part
from hub.clock import Clock, reading_at, real_seconds, system_clock

from .config import AgentConfig, key_byte
from .hub_link import HubLink
from .ordering import SeqOrderer
from .outbox import Outbox
from .printing import PrintStation
from .voice import VoiceCaller
from .windows import Command, WindowBoard

log = logging.getLogger(__name__)

STOP_DRAIN_S = 3.0  # at most this long for the device threads to hand over what they read
_DRIVERS = {"rating": RatingKeypad, "caller": CallerKeypad, "led": LedDisplay}
_HEALTH = {Health.ONLINE: "online", Health.OFFLINE: "offline", Health.ERROR: "error"}


@dataclass
class Device:
    name: str
    kind: str  # rating | caller | led
    window: int
    driver: Any  # a devices/ driver, or a ByteKeypad
    bus: Bus | None = None  # None for a byte keypad: no bus thread, call it directly
    health: str = "unknown"
    detail: str = ""
    windows: tuple[int, ...] = ()  # a slip printer's windows (`window` is the first)

    def run(self, fn_name: str, *args: Any) -> None:
        fn = getattr(self.driver, fn_name)
        if self.bus is None:
            fn(*args)
        elif fn_name == "show":  # a display: only what it shows last needs writing
            self.bus.submit_latest((self.name, fn_name), fn, *args)
        else:
            self.bus.submit(fn, *args)  # on the bus thread, between polls, in order


class Agent:
    def __init__(self, cfg: AgentConfig, clock: Clock = system_clock) -> None:
        self.cfg = cfg
        # The hub's time, as the hall's Pis keep it (NTP); a set clock in tests (hub.clock).
        self.clock = clock
        self.outbox = Outbox(Path(cfg.state_dir) / "outbox.db")
        self.board = WindowBoard(cfg.windows())
        self.devices: dict[str, Device] = {}
        self.buses: list[Bus] = []
        self._keypad_threads: list[threading.Thread] = []
        self._bus_threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._orderer = SeqOrderer()
        self._shown: dict[tuple[str, int], Command] = {}
        self._health_due = threading.Event()
        self._build_buses()
        self._build_byte_keypads()
        self.voice = VoiceCaller(cfg.voice) if cfg.voice is not None else None
        self.printer = self._build_printer()
        self.scanner = self._build_scanner()
        self.id_reader = self._build_id_reader()
        extra: dict[str, Any] = {"devices": sorted(self.devices)}
        if cfg.kiosk:
            extra["kiosk"] = cfg.kiosk
        if cfg.printer is not None:
            extra["printer"] = {"windows": list(cfg.printer.windows)}
        self.link = HubLink(cfg.hub, cfg.read_token(), cfg.windows(), self.outbox,
                            on_snapshot=lambda m: self._orderer.put("snapshot", m),
                            on_event=lambda m: self._orderer.put("event", m),
                            on_connect=self._send_health, extra_auth=extra,
                            on_print=self.printer.submit if self.printer else None,
                            ca_file=cfg.ca())

    def _build_printer(self) -> PrintStation | None:
        if self.cfg.printer is None:
            return None
        name = f"printer@{self.cfg.kiosk or self.cfg.name}"
        # At the windows whose 承诺单 it prints, so the office shows it on their cards.
        windows = tuple(self.cfg.printer.windows)
        self.devices[name] = Device(name, "printer", windows[0] if windows else 0, None,
                                    windows=windows)
        return PrintStation(self.cfg.printer, self._print_result,
                            lambda state, detail: self._set_health(name, state, detail))

    def _build_scanner(self) -> ScannerReader | None:
        if self.cfg.scanner is None:
            return None
        name = f"scanner@{self.cfg.kiosk}"
        self.devices[name] = Device(name, "scanner", 0, None)
        sc = self.cfg.scanner
        return ScannerReader(sc.device, self._scanned, grab=sc.grab, gap_s=sc.gap_s,
                             on_health=lambda state, detail: self._set_health(name, state,
                                                                              detail))

    def _build_id_reader(self) -> IdCardReader | IdKeyboardReader | None:
        ir = self.cfg.id_reader
        if ir is None:
            return None
        name = f"id_reader@{self.cfg.kiosk}"
        self.devices[name] = Device(name, "id_reader", 0, None)
        if ir.kind == "keyboard":
            return IdKeyboardReader(ir.device, self._id_card, grab=ir.grab, gap_s=ir.gap_s,
                                    on_health=lambda state, detail: self._set_health(name, state,
                                                                                     detail))
        transport = SerialTransport(ir.device, ir.baud, name=name, personal_data=True)
        return IdCardReader(transport, name=name, poll_ms=ir.poll_ms)

    def _build_buses(self) -> None:
        for i, bus_cfg in enumerate(self.cfg.buses, start=1):
            transport = SerialTransport(bus_cfg.port, bus_cfg.baud, name=f"bus{i}")
            master = ModbusMaster(transport, reply_timeout_s=bus_cfg.reply_timeout_ms / 1000)
            drivers = []
            for dev in bus_cfg.devices:
                name = f"bus{i}/{dev.kind}@{dev.address}"
                driver = _DRIVERS[dev.kind](master, dev.address, name=name)
                drivers.append(driver)
                self.devices[name] = Device(name, dev.kind, dev.window, driver)
            bus = Bus(master, drivers, on_event=self._device_event, on_health=self._health,
                      poll_interval_s=bus_cfg.poll_interval_ms / 1000, name=f"bus{i}")
            for driver in drivers:
                self.devices[driver.name].bus = bus
            self.buses.append(bus)

    def _build_byte_keypads(self) -> None:
        for i, kp in enumerate(self.cfg.keypads, start=1):
            name = f"keypad{i}/{kp.kind}@{kp.window}"
            keys = RatingLevel if kp.kind == "rating" else CallerKey
            keymap = {key_byte(b): _key(keys, k) for b, k in kp.keymap.items()}
            driver = ByteKeypad(SerialTransport(kp.port, kp.baud, name=name), keymap, name=name)
            self.devices[name] = Device(name, kp.kind, kp.window, driver)

    # --- run ------------------------------------------------------------------------------

    def start(self) -> None:
        if self.voice is not None:
            self.voice.start()
        for bus in self.buses:
            t = threading.Thread(target=bus.run, name=bus.name, daemon=True)
            t.start()
            self._bus_threads.append(t)
        for device in self.devices.values():
            if isinstance(device.driver, ByteKeypad):
                t = threading.Thread(target=device.driver.run, name=device.name, daemon=True,
                                     args=(self._device_event, self._stop, self._health))
                t.start()
                self._keypad_threads.append(t)
        if self.printer is not None:
            threading.Thread(target=self.printer.run, name="printer", daemon=True,
                             args=(self._stop,)).start()
        if self.scanner is not None:
            threading.Thread(target=self.scanner.run, name="scanner", daemon=True,
                             args=(self._stop,)).start()
        if isinstance(self.id_reader, IdCardReader):
            threading.Thread(target=self.id_reader.run, name="id-reader", daemon=True,
                             args=(self._id_card, self._stop, self._health)).start()
        elif self.id_reader is not None:
            threading.Thread(target=self.id_reader.run, name="id-reader", daemon=True,
                             args=(self._stop,)).start()
        threading.Thread(target=self._work, name="hub-messages", daemon=True).start()
        threading.Thread(target=self._health_loop, name="health", daemon=True).start()
        self.link.start()
        log.info("agent %s: %d devices for windows %s, hub %s", self.cfg.name,
                 len(self.devices), self.cfg.windows(), self.cfg.hub)
        if self.cfg.voice is not None:
            v = self.cfg.voice
            scope = (f"windows {v.windows}" if v.windows else f"zones {v.zones}" if v.zones
                     else "all windows")
            log.info("announcing calls at %s through %s", scope,
                     f"dir {v.dir}" if v.player == "dir" else f"aplay {v.device or 'default'}")

    def stop(self) -> None:
        self._stop.set()
        self._orderer.close()
        for bus in self.buses:
            bus.stop()
        # A poll in progress may have taken key events off a device (a caller keypad's key,
        # or a byte keypad's, is gone from the device once read): they reach the outbox
        # before it closes. A bus ends its step within a transaction or two.
        deadline = time.monotonic() + STOP_DRAIN_S
        for thread in self._bus_threads + self._keypad_threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("%s did not stop within %.0f s", thread.name, STOP_DRAIN_S)
        self.link.stop()
        if self.printer is not None:
            self.printer.stop()
        if self.voice is not None:
            self.voice.stop()
        self.outbox.close()

    def wait(self) -> None:
        self._stop.wait()

    # --- hub → devices --------------------------------------------------------------------

    def _work(self) -> None:
        while not self._stop.is_set():
            item = self._orderer.take()
            if item is None:
                continue
            kind, message = item
            if self.voice is not None:
                self._announce(kind, message)
            now = self.clock()
            try:
                if kind == "snapshot":
                    self._shown.clear()  # a new connection: show everything again
                    if self.printer is not None:
                        self.printer.use_words(sent_part(message, "printer"))
                    commands = self.board.load(message, now)
                else:
                    commands = self.board.apply(message, now)
                for command in commands:
                    self._dispatch(command)
            except Exception:  # a bad message must not stop the agent
                log.exception("could not apply hub message %r", message)

    def _announce(self, kind: str, message: dict) -> None:
        """Queue a call for the speaker: first, and quick (the announcer's thread speaks)."""
        assert self.voice is not None
        try:
            if kind == "snapshot":
                self.voice.load(message)
            else:
                self.voice.apply(message)
        except Exception:  # a bad message must not stop the agent
            log.exception("could not announce hub message %r", message)

    def _dispatch(self, command: Command) -> None:
        if command.kind in ("led", "caller_display"):
            key = (command.kind, command.window)
            if self._shown.get(key) == command:
                return  # unchanged: the driver restores it after a device restart itself
            self._shown[key] = command
        for device in self._at(command.window, _TARGET[command.kind]):
            if command.kind == "led":
                device.run("show", command.text)
            elif command.kind == "caller_display":
                if isinstance(device.driver, CallerKeypad):
                    device.run("show", command.number, command.waiting)
            elif command.kind == "rating_request":
                # The hub's seconds are its clock's; the keypads time windows in real seconds
                # (they differ on a sped-up clock: a simulated day).
                left_s = real_seconds(self.clock, command.left_s)
                if isinstance(device.driver, ByteKeypad):  # the agent's own window: to the ms
                    device.run("request_rating", command.request_id, max(0.0, left_s))
                elif left_s < 1:  # a keypad counts whole seconds: it would take a late press
                    device.run("close_request", command.request_id, time.time() + left_s)
                else:  # the drivers date presses and deadlines by the system's clock
                    device.run("request_rating", command.request_id, int(left_s),
                               command.text, None, time.time() + left_s)
            elif command.kind == "rating_close":
                device.run("close_request", command.request_id,
                           time.time() + real_seconds(self.clock, command.left_s))
            elif command.kind == "rating_thanks" and not isinstance(device.driver, ByteKeypad):
                device.run("thanks")
            elif command.kind in ("rating_cancel", "rating_thanks"):
                device.run("cancel")

    def _at(self, window: int, kind: str) -> list[Device]:
        return [d for d in self.devices.values() if d.window == window and d.kind == kind]

    # --- devices → hub --------------------------------------------------------------------

    def _device_event(self, event: Event) -> None:
        """On a bus or keypad thread: into the durable outbox, nothing slower."""
        device = self.devices.get(event.device)
        if device is None:
            return
        at = reading_at(self.clock, event.at).isoformat()
        if isinstance(event, KeyEvent):
            self.outbox.put({"kind": "key", "window": device.window, "key": event.key.hub_key,
                             "device": device.name, "at": at})
        elif isinstance(event, RatingPress):
            self.outbox.put({"kind": "rating", "window": device.window,
                             "request_id": event.request_id, "level": int(event.level),
                             "reason": event.reason, "device": device.name, "at": at,
                             **({"late_found": True} if event.late_found else {})})
        elif isinstance(event, RatingExpired):
            # The hub ends a keypad's rating only on this word, which comes after any press the
            # keypad took for it: 未评价 is never said while a press is still on its way.
            log.info("%s: rating %d ended without a press (%s)", device.name, event.request_id,
                     event.why)
            self.outbox.put({"kind": "rating_ended", "window": device.window,
                             "request_id": event.request_id, "why": event.why,
                             "device": device.name, "at": at})

    def _health(self, change: HealthChange) -> None:
        self._set_health(change.device, _HEALTH.get(change.state, "offline"), change.detail)

    def _set_health(self, name: str, state: str, detail: str) -> None:
        device = self.devices.get(name)
        if device is None:
            return
        device.health, device.detail = state, detail
        log.info("%s: %s %s", device.name, device.health, detail, extra={"onestop": {
            "event": "device.health", "device": device.name, "window": device.window,
            "health": state, "agent": self.cfg.name}})
        self._health_due.set()

    # --- kiosk: print results and scans -------------------------------------------------

    def _print_result(self, job: str, ok: bool, message: str, message_en: str) -> None:
        """On the printer's thread: tell the hub, which tells the page that asked. Not kept if
        the hub is away: the page has told the citizen to ask the front desk by then."""
        self.link.send("print_result", {"job": job, "ok": ok, "message": message,
                                        "message_en": message_en})

    def _scanned(self, text: str) -> None:
        """On the scanner's thread. A scan is not kept either: whoever scanned is standing
        there and scans again."""
        log.info("scanned %d characters", len(text))
        self.link.send("scan", {"text": text})

    def _id_card(self, read: CardRead) -> None:
        """On the reader's thread. Straight to the hub, not through the durable outbox: the
        citizen is standing at the kiosk and swipes again. Nothing of the card in the log."""
        log.info("card unreadable" if read.error else "card read")
        self.link.send("id_card", read.payload())

    def _send_health(self) -> None:
        """Ask the health sender to report (on connect, and on every change)."""
        self._health_due.set()

    def _health_loop(self) -> None:
        # One sender, and always the latest state of every device: a report can never arrive
        # after a newer one and undo it.
        while not self._stop.is_set():
            if not self._health_due.wait(1.0):
                continue
            self._health_due.clear()
            self.link.report_health([
                {"id": d.name, "kind": d.kind, "window": d.window or None, "status": d.health,
                 "detail": d.detail, **({"windows": list(d.windows)} if d.windows else {})}
                for d in self.devices.values() if d.health != "unknown"
            ])


_TARGET = {"led": "led", "caller_display": "caller", "rating_request": "rating",
           "rating_close": "rating", "rating_cancel": "rating", "rating_thanks": "rating"}


def _key(keys: type, name: str) -> Any:
    if keys is RatingLevel:
        return RatingLevel(int(name))
    return CallerKey[name.upper().replace("-", "_")]
