"""The clerks' panels' namespace (/caller): the window's actions as events with an ack, slips
printed again, and a panel that follows its clerk when the office moves them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from flask import request

from hub import shapes
from hub.auth import Principal, Role
from hub.engine import DomainError
from hub.service import WINDOW_ACTIONS, HallService
from hub.web.printing import PrintDesk

from .base import RoleNamespace, ack_error, ack_ok, current_sid


def clerk_room(username: str) -> str:
    return f"clerk:{username}"


class CallerNamespace(RoleNamespace):
    """Clerks' panels: the window's state, and the window actions as events with an ack."""

    roles = frozenset({Role.CLERK})

    def admit(self, who: Principal, auth: shapes.Auth) -> None:
        self.enter_room(current_sid(), f"window:{who.window}")
        # The supervision cases naming this clerk reach their own panels (and no one else's),
        # wherever they are signed in: hub/web/sockets/publisher.py.
        self.enter_room(current_sid(), clerk_room(who.name))
        self.send_snapshot(self.service.snapshot(), current_sid())

    def __init__(self, namespace: str, service: HallService, printers: PrintDesk) -> None:
        super().__init__(namespace, service)
        self.printers = printers

    def on_print_slip(self, data: Any = None) -> dict[str, Any]:
        """Print a 承诺单 again at this window (or the kiosk's printer), with the QR of its
        first print: the same phone link."""
        try:
            number = shapes.convert(data, shapes.PrintSlip).slip or ""
            who = self.principal()
            slip = self.service.slip(who, number.strip().upper())
            link = self.service.citizen.slip_link(slip["number"])
            return ack_ok({"print": self.printers.print_slip(
                who.window or 0, slip["number"], slip["service"], slip["accepted_at"],
                slip["promised_date"], slip["items"], link)})
        except DomainError as err:
            return ack_error(err)

    def follow_move(self, hashes: set[str], from_window: int, to_window: int) -> None:
        """A supervisor moved this clerk: their panel leaves the old window's room for the
        new one, is told (`moved`) and gets a snapshot; it is not signed out."""
        for sid, who in list(self.clients.items()):
            if who.token_hash not in hashes:
                continue
            self.leave_room(sid, f"window:{from_window}")
            self.enter_room(sid, f"window:{to_window}")
            self.clients[sid] = msgspec.structs.replace(who, window=to_window)
            self.emit("moved", {"from_window": from_window, "window": to_window}, room=sid)
            self.send_snapshot(self.service.snapshot(), sid)

    def window_action(self, action: str, data: Any = None) -> dict[str, Any]:
        try:
            who = self.principal()
            args = shapes.convert(data, shapes.WindowAction)
            return ack_ok(
                self.service.window_action(
                    who, who.window or 0, action, args, request.remote_addr or ""
                )
            )
        except DomainError as err:
            return ack_error(err)


def _action_handler(action: str) -> Callable[[CallerNamespace, Any], dict[str, Any]]:
    def handler(self: CallerNamespace, data: Any = None) -> dict[str, Any]:
        return self.window_action(action, data)

    return handler


# Socket.IO events named like the HTTP actions: "call-next", "recall", ...
for _action in WINDOW_ACTIONS:
    setattr(CallerNamespace, f"on_{_action}", _action_handler(_action))
