"""What every role's Socket.IO namespace shares: authentication at connect, an answer (ack) to
every event the client sends, refusals of unknown or malformed events, and sockets dropped when
their token stops holding."""

from __future__ import annotations

import logging
from typing import Any

from flask import request
from flask_socketio import ConnectionRefusedError, Namespace

from hub import shapes
from hub.auth import Principal, Role
from hub.engine import DomainError
from hub.service import HallService

log = logging.getLogger(__name__)


def current_sid() -> str:
    """The Socket.IO session of the event being handled (Flask-SocketIO sets it on the request)."""
    return request.sid  # type: ignore[attr-defined]


def ack_ok(result: Any) -> dict[str, Any]:
    return {"ok": True, "result": result}


def ack_error(err: DomainError) -> dict[str, Any]:
    return {"ok": False, "error": {"code": err.code, "message": err.message}}


# The server's own events: python-socketio calls their handlers as a socket connects and
# disconnects. A client may name its events anything, these too.
RESERVED_EVENTS = frozenset({"connect", "disconnect"})


class RoleNamespace(Namespace):
    roles: frozenset[Role] = frozenset()
    auth_shape: type[shapes.Auth] = shapes.Auth  # what `auth` holds besides the token

    def __init__(self, namespace: str, service: HallService) -> None:
        super().__init__(namespace)
        self.service = service
        self.clients: dict[str, Principal] = {}
        self.tokens: dict[str, str] = {}

    def on_connect(self, auth: Any = None) -> None:
        auth = auth if isinstance(auth, dict) else {}
        token = auth.get("token") if isinstance(auth.get("token"), str) else None
        try:
            who = self.service.authenticate(token)  # any text: refused unless it is a token
            self.service.require(who, *self.roles)
            self.admit(who, shapes.convert(auth, self.auth_shape))
        except DomainError as err:
            log.info(
                "refused %s connection from %s: %s", self.namespace, request.remote_addr, err.code
            )
            # Two arguments: the client gets `message` and `data` (one would arrive as a string).
            raise ConnectionRefusedError(
                err.message, {"code": err.code, "message": err.message}
            ) from None
        self.clients[current_sid()] = who
        self.tokens[current_sid()] = token or ""  # a token: authenticate refuses no token

    def on_disconnect(self, reason: Any = None) -> None:
        self.clients.pop(current_sid(), None)
        self.tokens.pop(current_sid(), None)

    def trigger_event(self, event: Any, *args: Any) -> Any:
        """Run a client's event (args: the sid, then what the client sent), or refuse it with
        an error ack and no effect: an unknown or reserved name, more than one argument, text
        that is not valid Unicode. Every event is answered, even one whose handler failed."""
        reserved = isinstance(event, str) and event in RESERVED_EVENTS
        if reserved and not self._connected(args[0] if args else None):
            return super().trigger_event(event, *args)  # the server's own (dis)connect
        try:
            self._check_event(event, reserved, args[1:])
        except DomainError as err:  # outside Flask's request context: the sid says who
            log.info("%s: refused event %.40r from %s: %s", self.namespace, event,
                     args[0] if args else None, err.code)
            return ack_error(err)
        try:
            return super().trigger_event(event, *args)
        except Exception:
            log.exception("%s: event %r failed", self.namespace, event)
            return ack_error(DomainError("internal", "error.internal"))

    def _connected(self, sid: Any) -> bool:
        """Whether `sid` is connected: python-socketio runs the server's connect and disconnect
        handlers while a socket is still connecting or already disconnecting (not connected),
        and a client's events only while it is connected. So an event named `disconnect` sent
        by a client cannot make the hub forget a socket that stays connected (and would keep
        getting its room's pushes after its session ended), nor `connect` re-admit it."""
        return bool(sid) and self.socketio.server.manager.is_connected(sid, self.namespace)

    def _check_event(self, event: Any, reserved: bool, data: tuple[Any, ...]) -> None:
        if reserved:
            raise DomainError("reserved_event", "error.reserved_event", event=event)
        if not (isinstance(event, str) and hasattr(self, f"on_{event}")):
            raise DomainError("unknown_event", "error.unknown_event", namespace=self.namespace,
                              event=event)
        if len(data) > 1:
            raise DomainError("invalid", "error.event_arguments", count=len(data))
        shapes.check_text(data)

    def admit(self, who: Principal, auth: Any) -> None:
        """Join rooms and send the snapshot; raise DomainError to refuse."""
        raise NotImplementedError

    def send_snapshot(self, snap: dict[str, Any], sid: str) -> None:
        """A snapshot with the hub's time (`now`): pages keep time by it, not by their device's
        clock (a Pi has no battery clock and may boot before it can sync)."""
        self.emit("snapshot", {**snap, "now": self.service.clock().isoformat()}, room=sid)

    def principal(self) -> Principal:
        """Who is acting now: the token is checked again, so an expired session, a disabled
        account or a revoked device token stops acting at once, not at the next reconnect."""
        who = self.service.authenticate(self.tokens.get(current_sid()))
        self.service.require(who, *self.roles)
        return who

    def sweep(self) -> None:
        """Disconnect sockets whose token no longer holds (screens never act, so look); a look,
        not a use: it keeps no staff session from going idle."""
        for sid, token in list(self.tokens.items()):
            try:
                self.service.authenticate(token, use=False)
            except DomainError as err:
                reason = "session_idle" if err.code == "session_idle" else "token_invalid"
                self.emit("signed_out", {"reason": reason}, room=sid)
                self.socketio.server.disconnect(sid, namespace=self.namespace)

    def end_sessions(self, token_hashes: set[str]) -> None:
        for sid, who in list(self.clients.items()):
            if who.token_hash in token_hashes:
                self.emit("signed_out", {"reason": "session_ended"}, room=sid)
                self.socketio.server.disconnect(sid, namespace=self.namespace)
