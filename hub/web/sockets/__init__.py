"""Socket.IO namespaces, one per client role, over the same HallService as the HTTP API.

Every client authenticates when it connects (`auth={"token": ...}`), gets a full snapshot that
carries the sequence number of the last event it reflects, and from then on every newer event
(`event`, each with its `seq`). A client that reconnects gets a fresh snapshot, so a screen that
missed events heals itself.

One module per role: display.py (call screens), kiosk.py, caller.py (clerks' panels),
monitor.py (the office), device.py (device agents), citizen.py (the citizen's phones), on
base.py; publisher.py pushes each
commit to them, sessions.py follows ended and moved sessions (also across hubs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_socketio import SocketIO

from hub.device_desk import DeviceDesk
from hub.service import HallService
from hub.web import message_queue
from hub.web.printing import PrintDesk

from .base import RESERVED_EVENTS, RoleNamespace
from .caller import CallerNamespace
from .citizen import CitizenNamespace
from .device import DeviceNamespace
from .display import DisplayNamespace
from .kiosk import KioskNamespace
from .monitor import MonitorNamespace
from .publisher import TOTALS_EVERY_S, WINDOW_ONLY, Publisher
from .sessions import SessionFollower

__all__ = [
    "RESERVED_EVENTS",
    "TOTALS_EVERY_S",
    "WINDOW_ONLY",
    "CallerNamespace",
    "CitizenNamespace",
    "DeviceNamespace",
    "DisplayNamespace",
    "KioskNamespace",
    "MonitorNamespace",
    "Publisher",
    "RoleNamespace",
    "register",
]


def register(socketio: SocketIO, service: HallService,
             extensions: dict[str, Any] | None = None) -> Callable[[], None]:
    """Mount the namespaces; returns the sweep that drops sockets whose token stopped holding.
    The print desk goes into `extensions` (the app's) as "onestop_printers" for the HTTP API."""
    peers = message_queue.Peers(socketio)  # the other hubs of a pair (none on SQLite)
    printers = PrintDesk(socketio, lambda: service.cfg, peers)  # the live config, reloads too
    if extensions is not None:
        extensions["onestop_printers"] = printers
    caller = CallerNamespace("/caller", service, printers)
    monitor = MonitorNamespace("/monitor", service)
    citizen = CitizenNamespace("/citizen", service)  # the citizen's phones
    namespaces: list[RoleNamespace] = [
        DisplayNamespace("/display", service),
        KioskNamespace("/kiosk", service, printers),
        caller,
        monitor,
        DeviceNamespace("/device", service, DeviceDesk(service), printers),
        citizen,
    ]
    for ns in namespaces:
        socketio.on_namespace(ns)
    service.subscribe(Publisher(socketio, service, printers, monitor, citizen).publish)
    SessionFollower(service, peers, namespaces, caller).install()

    def sweep() -> None:
        for ns in namespaces:
            ns.sweep()

    return sweep
