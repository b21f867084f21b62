"""The ticket kiosks' namespace (/kiosk): tickets issued and printed, slips looked up,
complaints filed."""

from __future__ import annotations

from typing import Any

from flask import request

from hub import shapes
from hub.auth import Principal, Role
from hub.engine import DomainError
from hub.service import HallService
from hub.web.printing import PrintDesk

from .base import RoleNamespace, ack_error, ack_ok, current_sid


class KioskNamespace(RoleNamespace):
    """Ticket kiosks. A kiosk is known by its token's name: its printer, scanner and ID card
    reader (on the device agent beside it) are matched by that name."""

    roles = frozenset({Role.KIOSK})

    def __init__(self, namespace: str, service: HallService, printers: PrintDesk) -> None:
        super().__init__(namespace, service)
        self.printers = printers

    def admit(self, who: Principal, auth: shapes.Auth) -> None:
        self.enter_room(current_sid(), "kiosk")
        self.enter_room(current_sid(), f"kiosk:{who.name}")
        snap = {
            **self.service.snapshot(),
            **self.service.kiosk_status(),
            # its printer, and its ID card reader (the notice before a card: `id_reader` pushes)
            "kiosk": {"name": who.name, "printer": self.printers.has_kiosk_printer(who.name),
                      **self.service.identity.reader(who.name)},
        }
        self.send_snapshot(snap, current_sid())

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
                request.host_url,  # the phone's link: the hub as this kiosk reaches it
                req.identity,
            )
            if ticket.pop("repeated", False):
                # The same request again (a lost answer, an impatient re-send): the ticket was
                # printed the first time; its result reaches the kiosk's room as it comes.
                return ack_ok({"ticket": ticket, "print": "repeated"})
            printed = self.printers.print_ticket(who.name, ticket, req.materials is True)
            return ack_ok({"ticket": ticket, "print": printed})
        except DomainError as err:
            return ack_error(err)

    def on_reprint(self, data: Any = None) -> dict[str, Any]:
        """Print a ticket again (paper was out, the printer was off): today's, still waiting."""
        data = data if isinstance(data, dict) else {}
        try:
            who = self.principal()
            ticket = self.service.ticket(who, str(data.get("ticket_id") or ""))
            if ticket["status"] != "waiting":
                raise DomainError("not_waiting", "error.reprint_not_waiting")
            return ack_ok({"print": self.printers.reprint_ticket(who.name, ticket,
                                                              data.get("materials"))})
        except DomainError as err:
            return ack_error(err)

    def on_lookup_slip(self, data: Any = None) -> dict[str, Any]:
        try:
            number = shapes.convert(data, shapes.LookupSlip).number
            if not number.strip():
                raise DomainError("invalid", "error.slip_number_required")
            return ack_ok(self.service.slip(self.principal(), number.strip().upper()))
        except DomainError as err:
            return ack_error(err)

    def on_lookup_identity(self, data: Any = None) -> dict[str, Any]:
        """The swiped person's open 承诺单 and today's appointments (as POST
        /api/v1/identity/lookup)."""
        try:
            handle = shapes.convert(data, shapes.IdentityLookup).identity
            return ack_ok(self.service.identity.lookup(self.principal(), handle))
        except DomainError as err:
            return ack_error(err)

    def on_complain(self, data: Any = None) -> dict[str, Any]:
        try:
            complaint = shapes.convert(data, shapes.Complaint)
            return ack_ok(self.service.file_complaint(self.principal(), complaint,
                                                   request.remote_addr or ""))
        except DomainError as err:
            return ack_error(err)
