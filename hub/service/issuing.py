"""The kiosk's side of the hall: tickets issued and looked up, complaints filed, the tiles.

A ticket's request id makes issuing idempotent (a double tap, a re-sent request after a lost
answer gets the same ticket), because the id is committed with the ticket.
"""

from __future__ import annotations

from typing import Any

from hub import presenters, shapes
from hub.auth import DEVICE_ROLES, OFFICE_ROLES, Principal, Role
from hub.engine import Invalid, NotFound, queries
from hub.engine.model import Channel, ComplaintFiled, TicketIssued

from .calling import given
from .citizen import link_url
from .commit import AlreadyHandled, Inbox, the_event
from .core import ServiceCore

# Who issues a 扫码取号 ticket (hub/service/take.py): of the kiosk's role, so the kiosk's rules
# and its ticket view apply, under a name of its own in the event log (actor `kiosk:poster`).
# Only this very object issues on channel `scan`; no kiosk token does.
POSTER = Principal(role=Role.KIOSK, name="poster")


class Issuing:
    def __init__(self, core: ServiceCore) -> None:
        self.core = core

    def services(self) -> list[dict]:
        return [presenters.service_view(self.core.cfg, s) for s in self.core.cfg.services]

    def issue_ticket(
        self,
        who: Principal,
        service: str,
        channel: str = "normal",
        reference: str | None = None,
        addr: str = "",
        request_id: str | None = None,
        base_url: str = "",
        identity: str | None = None,
    ) -> dict:
        """Issue a ticket. `request_id` makes it idempotent: the same id from the same kiosk
        (a double tap, or a re-sent request after a lost answer) gets the same ticket back,
        even across a hub restart, because the id is recorded in the issuing transaction.

        The answer's `link` opens the ticket's page on the citizen's phone (its QR):
        `[citizen] base_url`, else `base_url` (the hub's address as the request saw it), +
        /t/<capability>; None when the hall has the phone pages off.

        `identity`: the sealed handle of a swiped ID card (hub/service/identity.py): the
        ticket is bound to that person, under the per-person rules."""
        core = self.core
        core.require(who, Role.KIOSK, *OFFICE_ROLES)
        try:
            chan = Channel(channel)
        except ValueError:
            chan = None
        # scan: the poster's own; elderly: given by a swiped card, never asked for
        if chan is None or (chan is Channel.SCAN) != (who is POSTER) or chan is Channel.ELDERLY:
            raise Invalid(
                "invalid",
                "error.channel", channels=', '.join(c.value for c in Channel
                                                     if c not in (Channel.SCAN, Channel.ELDERLY)),
            )
        inbox = None
        if request_id is not None:
            if not (0 < len(request_id) <= 64 and request_id.isascii()
                    and request_id.isprintable()):
                raise Invalid("invalid", "error.request_id")
            inbox = Inbox(f"issue:{who.actor}:{request_id}")
        citizen = core.citizen  # type: ignore[attr-defined]  # HallService's
        desk = core.identity  # type: ignore[attr-defined]  # HallService's
        holder = desk.open(identity) if identity is not None else None
        try:
            with core.lock:  # the capability minted is read before the next change
                core.identity_link = desk.draft(holder) if holder is not None else None
                try:
                    records = core.execute(
                        who,
                        lambda s, now: core.engine.issue_ticket(
                            s, now, service, chan, reference,
                            desk.identified(holder, s) if holder is not None else None),
                        addr, inbox,
                    )
                finally:
                    core.identity_link = None
                if holder is not None:
                    desk.remember(the_event(records, TicketIssued).ticket_id,
                                  holder.masked_name or None)
                ticket_id, repeated = the_event(records, TicketIssued).ticket_id, False
                link = citizen.issued_link(ticket_id, base_url)
        except AlreadyHandled as seen:
            first = seen.answer["seqs"][0]
            issued = core.store.records_after(first - 1, limit=1)
            ticket_id, repeated = the_event(issued, TicketIssued).ticket_id, True
            # Only the first capability's hash is kept: the repeat gets one of its own.
            capability = citizen.mint_again(ticket_id)
            link = link_url(citizen.base_url(base_url), "ticket", capability) \
                if capability else None
        view = self.ticket(who, ticket_id)
        view["repeated"] = repeated
        view["link"] = link
        with core.lock:
            found = core.state.tickets.get(ticket_id)
            view["estimated_wait_minutes"] = (
                queries.estimated_wait_minutes(core.cfg, core.state, found) if found else 0
            )
        return view

    def file_complaint(self, who: Principal, data: shapes.Complaint | dict[str, Any],
                       addr: str = "") -> dict:
        """A complaint or suggestion from a kiosk (art. 27); its number is the receipt."""
        core = self.core
        core.require(who, Role.KIOSK, *OFFICE_ROLES)
        if isinstance(data, dict):
            data = shapes.convert(data, shapes.Complaint)
        category = given(data.category, "category", required=True) or ""
        text = given(data.text, "text", required=True) or ""
        window = data.window
        staff_no, phone = given(data.staff_no, "staff_no"), given(data.phone, "phone")
        records = core.execute(
            who,
            lambda s, now: core.engine.file_complaint(
                s, now, category, text, window=window, staff_no=staff_no, phone=phone,
            ),
            addr,
        )
        return {"id": the_event(records, ComplaintFiled).complaint_id}

    def kiosk_status(self, catch_up: bool = True) -> dict:
        """What a kiosk's tiles show: waiting counts, suspended items, windows open per item.

        `catch_up=False` right after this hub's own commit (its state is then the store's):
        spares a PostgreSQL round trip per commit."""
        core = self.core
        if catch_up:
            core.catch_up()
        with core.lock:
            return {
                "seq": core.state.seq,  # hubs of a pair push in any order: the newest wins
                "waiting": queries.waiting_counts(core.state),
                "closed_services": dict(core.state.closed_services),
                "open_windows": queries.open_windows(core.cfg, core.state),
            }

    def ticket(self, who: Principal, ticket_id: str) -> dict:
        """One ticket; devices (kiosk, screen, agent) get it without what is the office's."""
        core = self.core
        core.catch_up()
        with core.lock:
            found = core.state.tickets.get(ticket_id)
            if found is not None:
                view = presenters.ticket_view(core.cfg, core.state, found)
        if found is None:
            stored = core.store.ticket(ticket_id)
            if stored is None:
                raise NotFound("no_ticket", "error.no_ticket_quoted", ticket_id=ticket_id)
            view = presenters.ticket_view(core.cfg, None, stored)
        return presenters.redacted(view) if who.role in DEVICE_ROLES else view
