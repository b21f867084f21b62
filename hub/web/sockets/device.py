"""The device agents' namespace (/device): keypads' events and devices' health to the hub, print
results back, scans passed on to their kiosk."""

from __future__ import annotations

import logging
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

log = logging.getLogger(__name__)


class DeviceNamespace(RoleNamespace):
    """Device agents (keypads, LED screens, printers, audio) bridging hub events to hardware.

    An agent says which windows its devices serve (`auth.windows`); its caller keypads act only
    for those windows. It sends `device_event` (keys, rating presses, each with a stable id) and
    `health`; every answer is an ack, and a refusal is final.

    What it declares (its kiosk, its devices' windows, its printer's windows) must lie within
    its token's binding (`onestop token add/bind --kiosk --windows`), or the connect is refused
    with `agent_not_bound`: everything it sends later is checked against that declaration
    (hub/device_desk.py), so a token can act only for what it was bound to. A token that was
    never bound may declare anything; the hub warns at each of its connects.
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
        self._within_binding(who, kiosk, {*windows, *_printer_windows(auth.printer)})
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

    @staticmethod
    def _within_binding(who: Principal, kiosk: str | None, windows: set[int]) -> None:
        """Refuse a declaration outside the token's binding; warn of a token without one."""
        if who.binding is None:
            log.warning("agent %s connected with an unbound token: it may serve any kiosk and "
                        "window it names (here kiosk %s, windows %s); bind it: onestop token "
                        "bind %s --kiosk NAME --windows N,N", who.name, kiosk, sorted(windows),
                        who.name, extra={"onestop": {"event": "agent.unbound",
                                                     "agent": who.name}})
            return
        outside = who.binding.outside(kiosk, windows)
        if outside is not None:
            log.warning("agent %s refused: %s is outside its token's binding (%s)", who.name,
                        outside, who.binding.describe(),
                        extra={"onestop": {"event": "agent.outside_binding",
                                           "agent": who.name, "outside": outside}})
            raise DomainError("agent_not_bound", "error.agent_not_bound", outside=outside,
                              binding=who.binding.describe())

    def principal(self) -> Principal:
        """Who is acting, checked again: also that its token's binding (which `onestop token
        bind` may have narrowed since the connect) still covers what it declared."""
        who = super().principal()
        sid = current_sid()
        self._within_binding_quietly(who, sid)
        return who

    def _within_binding_quietly(self, who: Principal, sid: str) -> None:
        if who.binding is None:
            return
        outside = who.binding.outside(self.kiosks.get(sid),
                                      self.windows.get(sid, frozenset())
                                      | self.printers.windows_of(sid))
        if outside is not None:
            raise DomainError("agent_not_bound", "error.agent_not_bound", outside=outside,
                              binding=who.binding.describe())

    def sweep(self) -> None:
        """Also disconnect agents whose token's binding no longer covers what they declared
        (rebound narrower while connected): their print jobs and scans stop at once."""
        super().sweep()
        for sid, token in list(self.tokens.items()):
            try:
                who = self.service.authenticate(token, use=False)
            except DomainError:
                continue  # a token that stopped holding: the base sweep's
            try:
                self._within_binding_quietly(who, sid)
            except DomainError as err:
                log.warning("agent %s disconnected: %s", who.name, err.message)
                self.emit("signed_out", {"reason": err.code}, room=sid)
                self.socketio.server.disconnect(sid, namespace=self.namespace)

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


def _printer_windows(spec: Any) -> list[int]:
    """The windows an agent's `auth.printer` names, as far as they are numbers (the print desk
    refuses a malformed one: hub/web/printing.py)."""
    windows = spec.get("windows") if isinstance(spec, dict) else None
    if not isinstance(windows, list):
        return []
    return [w for w in windows if isinstance(w, int) and not isinstance(w, bool)]
