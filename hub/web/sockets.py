"""Socket.IO namespaces, one per client role, over the same HallService as the HTTP API.

Every client authenticates when it connects (`auth={"token": ...}`), gets a full snapshot that
carries the sequence number of the last event it reflects, and from then on every newer event
(`event`, each with its `seq`). A client that reconnects gets a fresh snapshot, so a screen that
missed events heals itself.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

import msgspec
from flask import request
from flask_socketio import ConnectionRefusedError, Namespace, SocketIO

from hub import presenters, shapes
from hub.auth import OFFICE_ROLES, Principal, Role
from hub.device_desk import DeviceDesk
from hub.engine import DomainError
from hub.engine.model import TicketFinished
from hub.service import WINDOW_ACTIONS, HallService
from hub.store.store import Record
from hub.web import message_queue
from hub.web.printing import PrintDesk

log = logging.getLogger(__name__)


def _ok(result: Any) -> dict[str, Any]:
    return {"ok": True, "result": result}


def _error(err: DomainError) -> dict[str, Any]:
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
        self.clients[request.sid] = who
        self.tokens[request.sid] = token  # type: ignore[assignment]

    def on_disconnect(self, reason: Any = None) -> None:
        self.clients.pop(request.sid, None)
        self.tokens.pop(request.sid, None)

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
            return _error(err)
        try:
            return super().trigger_event(event, *args)
        except Exception:
            log.exception("%s: event %r failed", self.namespace, event)
            return _error(DomainError("internal", "内部错误", "internal error"))

    def _connected(self, sid: Any) -> bool:
        """Whether `sid` is connected: python-socketio runs the server's connect and disconnect
        handlers while a socket is still connecting or already disconnecting (not connected),
        and a client's events only while it is connected. So an event named `disconnect` sent
        by a client cannot make the hub forget a socket that stays connected (and would keep
        getting its room's pushes after its session ended), nor `connect` re-admit it."""
        return bool(sid) and self.socketio.server.manager.is_connected(sid, self.namespace)

    def _check_event(self, event: Any, reserved: bool, data: tuple[Any, ...]) -> None:
        if reserved:
            raise DomainError("reserved_event", "不支持的操作",
                              f"{event!r} is the server's own event: a client cannot send it")
        if not (isinstance(event, str) and hasattr(self, f"on_{event}")):
            raise DomainError("unknown_event", "不支持的操作",
                              f"{self.namespace} has no event {event!r}")
        if len(data) > 1:
            raise DomainError("invalid", "每个事件只带一个参数（一个对象）",
                              f"an event takes one argument (an object), got {len(data)}")
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
        who = self.service.authenticate(self.tokens.get(request.sid))
        self.service.require(who, *self.roles)
        return who

    def sweep(self) -> None:
        """Disconnect sockets whose token no longer holds (screens never act, so look)."""
        for sid, token in list(self.tokens.items()):
            try:
                self.service.authenticate(token)
            except DomainError:
                self.emit("signed_out", {"reason": "token_invalid"}, room=sid)
                self.socketio.server.disconnect(sid, namespace=self.namespace)

    def end_sessions(self, token_hashes: set[str]) -> None:
        for sid, who in list(self.clients.items()):
            if who.token_hash in token_hashes:
                self.emit("signed_out", {"reason": "session_ended"}, room=sid)
                self.socketio.server.disconnect(sid, namespace=self.namespace)


class DisplayNamespace(RoleNamespace):
    """Call screens: read-only. Room `hall`, or `window:<no>` for one window's screen."""

    roles = frozenset({Role.SCREEN, *OFFICE_ROLES})
    auth_shape = shapes.DisplayAuth

    def admit(self, who: Principal, auth: shapes.DisplayAuth) -> None:
        room = auth.room
        if room != "hall":
            no = room.removeprefix("window:")
            if not (no.isascii() and no.isdigit() and len(no) <= 6
                    and self.service.cfg.has_window(int(no))):
                raise DomainError(
                    "invalid_room", "无此屏幕房间", f"no room {room!r}: use hall or window:<no>"
                )
            room = f"window:{int(no)}"  # "window:03" joins the room events go to
        self.enter_room(request.sid, room)
        self.send_snapshot(self.service.snapshot(), request.sid)


class KioskNamespace(RoleNamespace):
    """Ticket kiosks. A kiosk is known by its token's name: its printer and scanner (on the
    device agent beside it) are matched by that name."""

    roles = frozenset({Role.KIOSK})

    def __init__(self, namespace: str, service: HallService, printers: PrintDesk) -> None:
        super().__init__(namespace, service)
        self.printers = printers

    def admit(self, who: Principal, auth: shapes.Auth) -> None:
        self.enter_room(request.sid, "kiosk")
        self.enter_room(request.sid, f"kiosk:{who.name}")
        snap = {
            **self.service.snapshot(),
            **self.service.kiosk_status(),
            "kiosk": {"name": who.name, "printer": self.printers.has_kiosk_printer(who.name)},
        }
        self.send_snapshot(snap, request.sid)

    def on_issue_ticket(self, data: Any = None) -> dict[str, Any]:
        try:
            req = shapes.convert(data, shapes.IssueTicket)
            who = self.principal()
            ticket = self.service.issue_ticket(
                who,
                req.service or "",
                req.channel or "normal",
                req.code,
                request.remote_addr or "",
                req.request_id,
            )
            if ticket.pop("repeated", False):
                # The same request again (a lost answer, an impatient re-send): the ticket was
                # printed the first time; its result reaches the kiosk's room as it comes.
                return _ok({"ticket": ticket, "print": "repeated"})
            printed = self.printers.print_ticket(who.name, ticket, req.materials is True)
            return _ok({"ticket": ticket, "print": printed})
        except DomainError as err:
            return _error(err)

    def on_reprint(self, data: Any = None) -> dict[str, Any]:
        """Print a ticket again (paper was out, the printer was off): today's, still waiting."""
        data = data if isinstance(data, dict) else {}
        try:
            who = self.principal()
            ticket = self.service.ticket(who, str(data.get("ticket_id") or ""))
            if ticket["status"] != "waiting":
                raise DomainError("not_waiting", "该号已叫过或已失效", "the ticket is not waiting")
            return _ok({"print": self.printers.reprint_ticket(who.name, ticket,
                                                              data.get("materials"))})
        except DomainError as err:
            return _error(err)

    def on_lookup_slip(self, data: Any = None) -> dict[str, Any]:
        try:
            number = shapes.convert(data, shapes.LookupSlip).number
            if not number.strip():
                raise DomainError("invalid", "请输入承诺单号", "number is the slip's number")
            return _ok(self.service.slip(self.principal(), number.strip().upper()))
        except DomainError as err:
            return _error(err)

    def on_complain(self, data: Any = None) -> dict[str, Any]:
        try:
            complaint = shapes.convert(data, shapes.Complaint)
            return _ok(self.service.file_complaint(self.principal(), complaint,
                                                   request.remote_addr or ""))
        except DomainError as err:
            return _error(err)


class CallerNamespace(RoleNamespace):
    """Clerks' panels: the window's state, and the window actions as events with an ack."""

    roles = frozenset({Role.CLERK})

    def admit(self, who: Principal, auth: shapes.Auth) -> None:
        self.enter_room(request.sid, f"window:{who.window}")
        self.send_snapshot(self.service.snapshot(), request.sid)

    def __init__(self, namespace: str, service: HallService, printers: PrintDesk) -> None:
        super().__init__(namespace, service)
        self.printers = printers

    def on_print_slip(self, data: Any = None) -> dict[str, Any]:
        """Print a 承诺单 again at this window (or the kiosk's printer)."""
        try:
            number = shapes.convert(data, shapes.PrintSlip).slip or ""
            who = self.principal()
            slip = self.service.slip(who, number.strip().upper())
            return _ok({"print": self.printers.print_slip(
                who.window or 0, slip["number"], slip["service"], slip["accepted_at"],
                slip["promised_date"], slip["items"])})
        except DomainError as err:
            return _error(err)

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
            return _ok(
                self.service.window_action(
                    who, who.window or 0, action, args, request.remote_addr or ""
                )
            )
        except DomainError as err:
            return _error(err)


def _action_handler(action: str):
    def handler(self: CallerNamespace, data: Any = None) -> dict[str, Any]:
        return self.window_action(action, data)

    return handler


# Socket.IO events named like the HTTP actions: "call-next", "recall", ...
for _action in WINDOW_ACTIONS:
    setattr(CallerNamespace, f"on_{_action}", _action_handler(_action))


class MonitorNamespace(RoleNamespace):
    """The center's office: everything, including events screens never see."""

    roles = OFFICE_ROLES

    def admit(self, who: Principal, auth: shapes.Auth) -> None:
        self.enter_room(request.sid, "monitor")
        snap = self.service.snapshot(usernames=True)
        snap["returns"] = self.service.pending_returns(who)
        snap["devices"] = self.service.devices(who)
        snap["alerts"] = self.service.alerts(who)
        snap["totals"] = self.service.totals(who)
        self.send_snapshot(snap, request.sid)

    def on_decide_return(self, data: Any = None) -> dict[str, Any]:
        try:
            decision = shapes.convert(data, shapes.DecideReturn)
            return _ok(
                self.service.decide_return(
                    self.principal(),
                    decision.ticket_id or "",
                    decision.approve is True,
                    decision.note or "",
                    request.remote_addr or "",
                )
            )
        except DomainError as err:
            return _error(err)


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
        windows, kiosk = auth.windows, auth.kiosk  # numbers (never true), a name: hub/shapes.py
        if not all(self.service.cfg.has_window(w) for w in windows):
            raise DomainError("invalid", "窗口列表无效", "auth.windows lists existing windows")
        try:
            self.printers.attach(request.sid, who.name, kiosk, auth.printer)
        except ValueError as err:
            raise DomainError("invalid", "打印机配置无效", str(err)) from None
        self.windows[request.sid] = frozenset(windows)
        if auth.devices is not None and who.name not in {p.name for p in self.clients.values()}:
            self.desk.agent_has(who, auth.devices)
        if kiosk is not None:
            self.kiosks[request.sid] = kiosk
        self.enter_room(request.sid, "agents")
        self.send_snapshot(self.service.snapshot(), request.sid)

    def on_disconnect(self, reason: Any = None) -> None:
        who = self.clients.get(request.sid)
        self.windows.pop(request.sid, None)
        self.kiosks.pop(request.sid, None)
        self.printers.detach(request.sid)
        super().on_disconnect(reason)
        if who is not None and who.name not in {p.name for p in self.clients.values()}:
            self.desk.agent_gone(who)

    def on_device_event(self, data: Any = None) -> dict[str, Any]:
        try:
            return self.desk.handle_event(
                self.principal(), self.windows[request.sid], data, request.remote_addr or ""
            )
        except DomainError as err:
            return _error(err)

    def on_health(self, data: Any = None) -> dict[str, Any]:
        try:
            health = shapes.convert(data, shapes.Health)
            devices = [d.given() for d in health.devices]
            # its devices' windows, and those its printer prints the 承诺单 of
            windows = self.windows[request.sid] | self.printers.windows_of(request.sid)
            return self.desk.report_health(self.principal(), devices, request.remote_addr or "",
                                           windows)
        except DomainError as err:
            return _error(err)

    def on_print_result(self, data: Any = None) -> dict[str, Any]:
        try:
            self.principal()
            return self.printers.result(request.sid, data)
        except DomainError as err:
            return _error(err)

    def on_scan(self, data: Any = None) -> dict[str, Any]:
        """A code read by the scanner at a kiosk: to that kiosk's page, which knows what it is
        waiting for (a green pass, an appointment, a slip number)."""
        try:
            self.principal()
            kiosk = self.kiosks.get(request.sid)
            if kiosk is None:
                raise DomainError("no_kiosk", "该代理未绑定自助终端", "this agent has no kiosk")
            text = shapes.convert(data, shapes.Scan).text
            if not text.isprintable():
                raise DomainError("invalid", "扫码内容无效", "text is 1-512 printable characters")
            self.socketio.emit("scan", {"text": text}, namespace="/kiosk", to=f"kiosk:{kiosk}")
            return {"ok": True}
        except DomainError as err:
            return _error(err)


# Events about one window's keypad that only that window's screen, panel and agent need.
WINDOW_ONLY = frozenset({"rating.requested", "ticket.rated", "rating.expired"})
TOTALS_EVERY_S = 0.5  # the office's totals are at most this old (plus a pass over the day)


class Publisher:
    """What the hub pushes after each commit: every event to the rooms that show it, the
    kiosks' tiles, receipts to print; and, beside the commits, the office's totals."""

    def __init__(self, socketio: SocketIO, service: HallService, printers: PrintDesk,
                 monitor: MonitorNamespace) -> None:
        self.socketio = socketio
        self.service = service
        self.printers = printers
        self.monitor = monitor
        self.totals_due = threading.Event()
        socketio.start_background_task(self._push_totals)
        # Several hubs: every hub's clients get the events in seq order (message_queue.py).
        manager = socketio.server.manager if socketio.server else None
        self.queue = manager if isinstance(manager, message_queue.BatchingRedisManager) else None
        self.sequencer = None
        if self.queue is not None:
            self.sequencer = message_queue.Sequencer(
                service.state.seq + 1, self._fill, service.store.last_seq, socketio.sleep,
                socketio.start_background_task)
            self.queue.on_batch = self._received

    def publish(self, records: list[Record]) -> None:
        if self.queue is None or self.sequencer is None:
            self._push(records)
        else:
            queue = self.queue
            messages = queue.collect(lambda: self._push(records))
            first, last = records[0].seq, records[-1].seq
            queue.publish_batch(first, last, messages)  # to the other hubs, in one message
            self.sequencer.submit(first, last, lambda: queue.deliver(messages))
        for record in records:
            event = record.event
            if isinstance(event, TicketFinished) and event.outcome.slip:
                self.printers.print_finished(event)

    def _received(self, first: int, last: int, messages: list[dict[str, Any]]) -> None:
        """Another hub's commit, for this hub's clients (in seq order, like its own)."""
        if self.queue is not None and self.sequencer is not None:
            queue = self.queue
            self.sequencer.submit(first, last, lambda: queue.deliver(messages))

    def _fill(self, first: int, last: int) -> None:
        """Events `first`..`last` that no hub published (it died in between), from the store:
        this hub's clients get them as their hub would have pushed them."""
        if self.queue is None:
            return
        after = first - 1
        while after < last:
            records = [r for r in self.service.store.records_after(after) if r.seq <= last]
            if not records:
                return
            push = functools.partial(self._push, records, status=False)
            self.queue.deliver(self.queue.collect(push))
            after = records[-1].seq

    def _push(self, records: list[Record], status: bool = True) -> None:
        emit, service = self.socketio.emit, self.service
        # The windows of the config now (a reload can add or remove them).
        window_rooms = [f"window:{w.no}" for w in service.cfg.windows]
        for record in records:
            full = record.public()
            emit("event", full, namespace="/monitor", to="monitor")
            public = presenters.public_event(full)
            if public is None:
                continue
            window = record.event.window
            rooms = [f"window:{window}"] if window else window_rooms
            if record.type in WINDOW_ONLY:
                screens = rooms  # the hall screen has nothing to show for it: spare 200 pushes
            elif record.type == "ticket.issued":
                screens = ["hall"]  # a window's screen shows its window, not the queue
            else:
                screens = ["hall", *rooms]
            emit("event", public, namespace="/display", to=screens)
            emit("event", public, namespace="/caller", to=rooms)
            if record.type not in WINDOW_ONLY:
                emit("event", public, namespace="/kiosk", to="kiosk")
            emit("event", public, namespace="/device", to="agents")
        if records and status:
            emit("status", service.kiosk_status(catch_up=False), namespace="/kiosk", to="kiosk")
            self.totals_due.set()

    def _push_totals(self) -> None:
        """The office's totals as they now stand (the monitor never sums events itself), at
        most every TOTALS_EVERY_S rather than after each commit: a pass over today's tickets
        is ~3 ms with 4,500 of them, which a burst of 600 tickets a second cannot pay each time.
        """
        while True:
            self.socketio.sleep(TOTALS_EVERY_S)
            if not self.totals_due.is_set():
                continue
            self.totals_due.clear()
            # Only while a monitor watches, on any hub: this one cannot see another's sockets.
            if not (self.monitor.clients or self.service.db.shared):
                continue
            try:
                self.socketio.emit("totals", self.service.current_totals(),
                                   namespace="/monitor", to="monitor")
            except Exception:
                log.exception("could not push the office's totals")


def register(socketio: SocketIO, service: HallService,
             extensions: dict[str, Any] | None = None) -> Callable[[], None]:
    """Mount the namespaces; returns the sweep that drops sockets whose token stopped holding.
    The print desk goes into `extensions` (the app's) as "onestop_printers" for the HTTP API."""
    peers = message_queue.Peers(socketio)  # the other hubs of a pair (none on SQLite)
    printers = PrintDesk(socketio, lambda: service.cfg, peers)  # the live config, reloads too
    if extensions is not None:
        extensions["onestop_printers"] = printers
    namespaces = [
        DisplayNamespace("/display", service),
        KioskNamespace("/kiosk", service, printers),
        CallerNamespace("/caller", service, printers),
        MonitorNamespace("/monitor", service),
        DeviceNamespace("/device", service, DeviceDesk(service), printers),
    ]
    for ns in namespaces:
        socketio.on_namespace(ns)
    monitor = next(ns for ns in namespaces if isinstance(ns, MonitorNamespace))
    service.subscribe(Publisher(socketio, service, printers, monitor).publish)

    # A clerk's sessions ended (signed in elsewhere) or moved to another window: the hub that
    # holds their sockets acts on them, and that may be another hub of a pair.
    caller = next(ns for ns in namespaces if isinstance(ns, CallerNamespace))

    def end_sessions(hashes: Any) -> None:
        if isinstance(hashes, list) and all(isinstance(h, str) for h in hashes):
            for ns in namespaces:
                ns.end_sessions(set(hashes))

    def follow_move(moved: Any) -> None:
        if isinstance(moved, dict) and isinstance(moved.get("sessions"), list):
            caller.follow_move({str(h) for h in moved["sessions"]}, int(moved["from"]),
                               int(moved["to"]))

    def sessions_ended(hashes: list[str]) -> None:
        end_sessions(list(hashes))
        peers.tell("sessions_ended", list(hashes))

    def clerk_moved(_user: str, old: int, new: int, hashes: list[str]) -> None:
        moved = {"sessions": list(hashes), "from": old, "to": new}
        follow_move(moved)
        peers.tell("clerk_moved", moved)

    def count_sign_in(said: Any) -> None:
        """Another hub's failed (or successful) sign-in counts here too: five wrong passwords
        are five, whichever hubs nginx sent them to."""
        if isinstance(said, dict) and isinstance(key := said.get("key"), str):
            if said.get("kind") == "fail":
                service.limiter.fail(key, local=False)
            elif said.get("kind") == "succeed":
                service.limiter.succeed(key, local=False)

    peers.on("sessions_ended", end_sessions)
    peers.on("clerk_moved", follow_move)
    peers.on("sign_in", count_sign_in)
    service.limiter.listeners.append(
        lambda kind, key: peers.tell("sign_in", {"kind": kind, "key": key}))
    service.on_sessions_ended(sessions_ended)
    service.on_clerk_moved(clerk_moved)

    def sweep() -> None:
        for ns in namespaces:
            ns.sweep()

    return sweep
