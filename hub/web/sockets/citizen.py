"""The citizen's phones (/citizen): a ticket's page, live (docs/citizen.md).

A phone connects with its ticket's capability (`auth = {capability}`) and joins two rooms only:
`citizen:<ticket id>` (its own ticket's `view` and `alert`) and `citizen-service:<item>` (a
`queue_moved` tick when a ticket of its item is called, upon which a waiting phone re-reads its
view with some jitter: one small message per call, no per-phone work at the hub). No hall
snapshot and no event ever reach a phone. The publisher (publisher.py) pushes to these rooms.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import request
from flask_socketio import ConnectionRefusedError

from hub import shapes
from hub.engine import DomainError
from hub.service import HallService
from hub.web.citizen_api import limiter

from .base import RoleNamespace, ack_error, ack_ok, current_sid

log = logging.getLogger(__name__)


def ticket_room(ticket_id: str) -> str:
    return f"citizen:{ticket_id}"


def service_room(service: str) -> str:
    return f"citizen-service:{service}"


class CitizenNamespace(RoleNamespace):
    """Phones, each admitted by its ticket's capability alone (no token, no account)."""

    def __init__(self, namespace: str, service: HallService) -> None:
        super().__init__(namespace, service)
        self.swept_day = service.current_day()
        # sid -> (capability, ticket id, its item's room): kept in memory only, never logged
        self.phones: dict[str, tuple[str, str, str]] = {}

    def on_connect(self, auth: Any = None) -> None:
        try:
            limiter().take(request.remote_addr or "")
            capability = shapes.convert(auth if isinstance(auth, dict) else {},
                                        shapes.CitizenAuth).capability or ""
            ticket = self.service.citizen.ticket_of(capability)
        except DomainError as err:
            log.info("refused %s connection from %s: %s", self.namespace, request.remote_addr,
                     err.code)
            raise ConnectionRefusedError(
                err.message, {"code": err.code, "message": err.message}) from None
        sid = current_sid()
        room = service_room(ticket.service)
        self.enter_room(sid, ticket_room(ticket.id))
        self.enter_room(sid, room)
        self.phones[sid] = (capability, ticket.id, room)
        self.emit("view", self.service.citizen.view(capability, request.host_url), room=sid)

    def on_disconnect(self, reason: Any = None) -> None:
        self.phones.pop(current_sid(), None)

    def on_refresh(self, data: Any = None) -> dict[str, Any]:
        """The ticket's view now (after a `queue_moved`): the ack carries it."""
        found = self.phones.get(current_sid())
        try:
            if found is None:
                raise DomainError("unknown_link", "error.unknown_link")
            limiter().take(request.remote_addr or "")
            view = self.service.citizen.view(found[0], request.host_url)
        except DomainError as err:
            return ack_error(err)
        self._follow_item(current_sid(), found, view["service"])
        return ack_ok(view)

    def _follow_item(self, sid: str, found: tuple[str, str, str], service: str) -> None:
        """A ticket transferred to another item: its phone hears that item's ticks now."""
        room = service_room(service)
        if room != found[2]:
            self.leave_room(sid, found[2])
            self.enter_room(sid, room)
            self.phones[sid] = (found[0], found[1], room)

    def follow_transfer(self, ticket_id: str, service: str) -> None:
        """This hub's phones of `ticket_id` move to `service`'s ticks (after a transfer)."""
        for sid, found in list(self.phones.items()):
            if found[1] == ticket_id:
                self._follow_item(sid, found, service)

    def watched(self, ticket_id: str) -> bool:
        """Whether a phone on this hub follows `ticket_id` (a push for nobody is skipped)."""
        rooms = self.socketio.server.manager.rooms.get(self.namespace, {})
        return bool(rooms.get(ticket_room(ticket_id)))

    def sweep(self) -> None:
        """Drop the phones whose link ended (their ticket's day is over): looked at once the
        day changed, not at every housekeeping tick."""
        if self.service.current_day() == self.swept_day:
            return
        self.swept_day = self.service.current_day()
        for sid, (capability, _ticket, _room) in list(self.phones.items()):
            try:
                self.service.citizen.link(capability)
            except DomainError:
                self.phones.pop(sid, None)
                self.socketio.server.disconnect(sid, namespace=self.namespace)

    def principal(self) -> Any:  # phones act by capability only
        raise DomainError("forbidden", "error.forbidden", role="citizen", roles="")

    def end_sessions(self, token_hashes: set[str]) -> None:
        """Phones hold no staff session."""
