"""What the hub pushes after each commit: every event to the rooms that show it, the kiosks'
tiles and their ID card readers, receipts to print; and, beside the commits, the office's
totals. With several hubs, every hub's clients get the events in seq order
(hub/web/message_queue.py)."""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any

from flask_socketio import SocketIO

from hub import presenters
from hub.engine.model import (
    CaseOpened,
    CaseStepped,
    Channel,
    DeviceRemoved,
    DeviceStateChanged,
    TicketFinished,
)
from hub.service import HallService
from hub.store.store import Record
from hub.web import message_queue
from hub.web.printing import PrintDesk

from .caller import clerk_room
from .citizen import CitizenNamespace, service_room, ticket_room
from .monitor import MonitorNamespace

log = logging.getLogger(__name__)


# Events about one window's keypad that only that window's screen, panel and agent need.
WINDOW_ONLY = frozenset({"rating.requested", "ticket.rated", "rating.expired"})
TOTALS_EVERY_S = 0.5  # the office's totals are at most this old (plus a pass over the day)
# Events after which a ticket's phones get its view again (docs/citizen.md), and those that
# also bring the full-screen alert.
CITIZEN_VIEW = frozenset({
    "ticket.called", "ticket.recalled", "ticket.no_show", "ticket.transferred",
    "ticket.finished", "ticket.rated", "rating.requested", "rating.expired",
    "rating.reason_added", "ticket.return_requested", "ticket.return_decided",
})
CITIZEN_ALERT = {"ticket.called": "called", "ticket.recalled": "recalled"}
# Events a window's screen shows the masked name with, when the hall calls silently.
SILENT_CALLS = frozenset({"ticket.called", "ticket.recalled"})


class Publisher:
    """What the hub pushes after each commit: every event to the rooms that show it, the
    kiosks' tiles, receipts to print; and, beside the commits, the office's totals."""

    def __init__(self, socketio: SocketIO, service: HallService, printers: PrintDesk,
                 monitor: MonitorNamespace, citizen: CitizenNamespace | None = None) -> None:
        self.socketio = socketio
        self.service = service
        self.printers = printers
        self.monitor = monitor
        self.citizen = citizen
        self.totals_due = threading.Event()
        socketio.start_background_task(self._push_totals)
        # Several hubs: every hub's clients get the events in seq order (message_queue.py).
        manager = socketio.server.manager if socketio.server else None
        self.queue = manager if isinstance(manager, message_queue.BatchingRedisManager) else None
        self.sequencer = None
        if self.queue is not None:
            self.sequencer = message_queue.Sequencer(
                service.applied_seq() + 1, self._fill, service.store.last_seq, socketio.sleep,
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
                # Published under the lock of the commit that minted the slip's link.
                link = self.service.citizen.minted_link("slip", event.outcome.slip)
                self.printers.print_finished(event, link)

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
            about = record.event.clerk if isinstance(record.event, CaseOpened | CaseStepped) \
                else None
            if about:  # the clerk a case names: their panel shows their cases (read-only)
                emit("event", full, namespace="/caller", to=clerk_room(about))
            self._to_kiosk_reader(record)
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
            masked, elderly = self._silent_name(record), self._elderly_call(record)
            if masked or elderly:  # the window's own screen: the name (silent calling), 适老
                emit("event", public, namespace="/display", to=[s for s in screens
                                                                if s not in rooms])
                emit("event", presenters.with_masked_name(public, masked, elderly),
                     namespace="/display", to=rooms)
            else:
                emit("event", public, namespace="/display", to=screens)
            emit("event", public, namespace="/caller", to=rooms)
            if record.type not in WINDOW_ONLY:
                emit("event", public, namespace="/kiosk", to="kiosk")
            emit("event", public, namespace="/device", to="agents")
            self._to_phones(record)
        if records and status:
            emit("status", service.kiosk_status(catch_up=False), namespace="/kiosk", to="kiosk")
            self.totals_due.set()

    def _to_kiosk_reader(self, record: Record) -> None:
        """A kiosk's ID card reader reported, gone offline with its agent, or taken out of the
        agent: that kiosk's page is told (`id_reader`), so its home screen says what a card is
        used for before any card is placed — also when the agent connects after the page."""
        event = record.event
        if not isinstance(event, DeviceStateChanged | DeviceRemoved):
            return
        kiosk = presenters.id_reader_kiosk(event.device, event.kind)
        if kiosk is None:
            return
        status = event.status if isinstance(event, DeviceStateChanged) else None
        self.socketio.emit("id_reader", presenters.id_reader_view(status), namespace="/kiosk",
                           to=f"kiosk:{kiosk}")

    def _silent_name(self, record: Record) -> str | None:
        if record.type not in SILENT_CALLS or not self.service.cfg.identity.silent_calling:
            return None
        return self.service.identity.called_name(record.event.ticket or "")

    def _elderly_call(self, record: Record) -> bool:
        """A call of an elderly (适老) ticket: its window's screen shows the quiet mark."""
        if record.type not in SILENT_CALLS:
            return False
        ticket = self.service.state.tickets.get(record.event.ticket or "")
        return ticket is not None and ticket.channel is Channel.ELDERLY

    def _to_phones(self, record: Record) -> None:
        """A ticket's own phones get its view (and the alert when called); a call ticks its
        item's phones once. Never an event, never the hall: only these three messages. With
        one hub, a push nobody follows is skipped; with several, a phone may be on any."""
        event, citizen = record.event, self.citizen
        if citizen is None or record.type not in CITIZEN_VIEW or not event.ticket:
            return
        ticket_id, shared = event.ticket, self.service.db.shared
        if shared or citizen.watched(ticket_id):
            view = self.service.citizen.pushed_view(ticket_id)
            if view is not None:
                room = ticket_room(ticket_id)
                self.socketio.emit("view", view, namespace="/citizen", to=room)
                if record.type in CITIZEN_ALERT:
                    self.socketio.emit("alert", {"kind": CITIZEN_ALERT[record.type],
                                                 "window": event.window},
                                       namespace="/citizen", to=room)
                if record.type == "ticket.transferred":
                    citizen.follow_transfer(ticket_id, view["service"])
        if record.type == "ticket.called":
            service = getattr(event, "service", "")
            self.socketio.emit("queue_moved", {"service": service}, namespace="/citizen",
                               to=service_room(service))

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
