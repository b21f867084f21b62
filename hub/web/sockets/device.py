"""The device agents' namespace (/device): keypads' events and devices' health to the hub, print
results back, scans passed on to their kiosk."""

from __future__ import annotations

from typing import Any

from flask import request

from hub import shapes
from hub.auth import Principal, Role
from hub.device_desk import DeviceDesk
from hub.engine import DomainError
from hub.service import HallService
from hub.web.device_words import agent_texts
from hub.web.printing import PrintDesk

from .base import RoleNamespace, ack_error, current_sid


class DeviceNamespace(RoleNamespace):
    """Device agents (keypads, LED screens, printers, audio) bridging hub events to hardware.

    An agent says which windows its devices serve (`auth.windows`); its caller keypads act only
    for those windows. It sends `device_event` (keys, rating presses, each with a stable id) and
    `health`; every answer is an ack, and a refusal is final.
    """

    roles = frozenset({Role.AGENT})
    auth_shape = shapes.DeviceAuth

    def __init__(self, namespace: str, service: HallService, desk: DeviceDesk,
                 printers: PrintDesk) -> None:
        super().__init__(namespace, service)
        self.desk, self.printers = desk, printers
        self.windows: dict[str, frozenset[int]] = {}
        self.kiosks: dict[str, str] = {}  # sid -> the kiosk whose printer/scanner it runs

    def admit(self, who: Principal, auth: shapes.DeviceAuth) -> None:
        windows, kiosk = auth.windows, auth.kiosk  # numbers (never true), a name: hub/shapes/
        if not all(self.service.cfg.has_window(w) for w in windows):
            raise DomainError("invalid", "error.auth_windows")
        try:
            self.printers.attach(current_sid(), who.name, kiosk, auth.printer)
        except ValueError as err:
            raise DomainError("invalid", "error.printer_config", err=str(err)) from None
        self.windows[current_sid()] = frozenset(windows)
        if auth.devices is not None and who.name not in {p.name for p in self.clients.values()}:
            self.desk.agent_has(who, auth.devices)
        if kiosk is not None:
            self.kiosks[current_sid()] = kiosk
        self.enter_room(current_sid(), "agents")
        # With the words its devices show and say (its LED screens, keypads and speaker).
        self.send_snapshot({**self.service.snapshot(), "texts": agent_texts()}, current_sid())

    def on_disconnect(self, reason: Any = None) -> None:
        who = self.clients.get(current_sid())
        self.windows.pop(current_sid(), None)
        self.kiosks.pop(current_sid(), None)
        self.printers.detach(current_sid())
        super().on_disconnect(reason)
        if who is not None and who.name not in {p.name for p in self.clients.values()}:
            self.desk.agent_gone(who)

    def on_device_event(self, data: Any = None) -> dict[str, Any]:
        try:
            return self.desk.handle_event(
                self.principal(), self.windows[current_sid()], data, request.remote_addr or ""
            )
        except DomainError as err:
            return ack_error(err)

    def on_health(self, data: Any = None) -> dict[str, Any]:
        try:
            health = shapes.convert(data, shapes.Health)
            devices = [d.given() for d in health.devices]
            # its devices' windows, and those its printer prints the 承诺单 of
            windows = self.windows[current_sid()] | self.printers.windows_of(current_sid())
            return self.desk.report_health(self.principal(), devices, request.remote_addr or "",
                                           windows, self.kiosks.get(current_sid()))
        except DomainError as err:
            return ack_error(err)

    def on_print_result(self, data: Any = None) -> dict[str, Any]:
        try:
            self.principal()
            return self.printers.result(current_sid(), data)
        except DomainError as err:
            return ack_error(err)

    def on_id_card(self, data: Any = None) -> dict[str, Any]:
        """An ID card read at a kiosk's reader (刷身份证取号): the hub keeps nothing of it and
        pushes that kiosk's page `identity` (a sealed handle and the masked name, or why the
        card was refused). Not kept in the agent's outbox: the citizen swipes again."""
        try:
            self.principal()
            kiosk = self.kiosks.get(current_sid())
            if kiosk is None:
                raise DomainError("no_kiosk", "error.no_kiosk")
            card = shapes.convert(data, shapes.IdCard)
            pushed = self.service.read_id_card(kiosk, card)
            self.socketio.emit("identity", pushed, namespace="/kiosk", to=f"kiosk:{kiosk}")
            return {"ok": True}
        except DomainError as err:
            return ack_error(err)

    def on_scan(self, data: Any = None) -> dict[str, Any]:
        """A code read by the scanner at a kiosk: to that kiosk's page, which knows what it is
        waiting for (a green pass, an appointment, a slip number)."""
        try:
            self.principal()
            kiosk = self.kiosks.get(current_sid())
            if kiosk is None:
                raise DomainError("no_kiosk", "error.no_kiosk")
            text = shapes.convert(data, shapes.Scan).text
            if not text.isprintable():
                raise DomainError("invalid", "error.scan_text")
            self.socketio.emit("scan", {"text": text}, namespace="/kiosk", to=f"kiosk:{kiosk}")
            return {"ok": True}
        except DomainError as err:
            return ack_error(err)
