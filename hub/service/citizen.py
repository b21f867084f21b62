"""The citizen's own phone: what a ticket's (or 承诺单's) capability opens, and what a phone may do
with it (docs/citizen.md).

A capability is minted with the ticket or slip it opens, in the same transaction
(hub/service/commit.py `Commit.link`), and only its SHA-256 is stored (`citizen_links`). It is
the phone's one credential: no account, no token. Forged, expired and unknown capabilities get
one and the same answer (404 `unknown_link`), so the routes are no oracle. The view shows the
ticket's number, item, place and windows, never a name, ID number, phone or clerk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from base64 import urlsafe_b64encode
from typing import Any

import msgspec

from hub import presenters, shapes
from hub.engine import HallState, Invalid, NotFound, queries
from hub.engine.model import (
    Channel,
    ComplaintFiled,
    SlipStatus,
    Ticket,
    TicketStatus,
)
from hub.store.citizen_links import CitizenLinks, Link

from .calling import given
from .commit import (
    CAPABILITY_BYTES,
    SLIP_COLLECTED_DAYS,
    SLIP_OPEN_DAYS,
    slip_capability,
    the_event,
)
from .core import ServiceCore
from .phone_ratings import CITIZEN

log = logging.getLogger(__name__)

CAPABILITY_CHARS = 22  # secrets.token_urlsafe(CAPABILITY_BYTES)
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def plausible(capability: str) -> bool:
    """Whether `capability` has a capability's form at all (checked before it is hashed)."""
    return len(capability) == CAPABILITY_CHARS and set(capability) <= _ALPHABET


def link_url(base_url: str, kind: str, capability: str) -> str:
    """The address the QR holds: `base_url` + /t/<cap> (a ticket) or /s/<cap> (a slip)."""
    return f"{base_url.rstrip('/')}/{'t' if kind == 'ticket' else 's'}/{capability}"


def ticket_slip_capability(ticket_capability: str, slip: str) -> str:
    """The link a ticket's page showed for its 承诺单 before slips' links were derived from the
    hall's slip key (commit.py `slip_capability`): its hash was stored on the page's first
    read. Still opened, and shown for such a slip, never written any more."""
    mac = hmac.new(ticket_capability.encode("ascii"), f"slip:{slip}".encode(), hashlib.sha256)
    return urlsafe_b64encode(mac.digest()[:16]).decode("ascii").rstrip("=")


class Citizen:
    def __init__(self, core: ServiceCore) -> None:
        self.core = core
        self.links = CitizenLinks(core.db)
        # The hub's address as the last kiosk or API client reached it: a slip printed after a
        # clerk's finish (no request of a phone-facing client) links there.
        self.seen_base = ""

    @property
    def enabled(self) -> bool:
        return self.core.cfg.citizen.enabled

    def base_url(self, seen: str) -> str:
        """The configured base URL, else the hub's address as the caller's request saw it."""
        return self.core.cfg.citizen.base_url or seen.rstrip("/")

    # --- minted with a ticket -------------------------------------------------------------

    def capability_of(self, kind: str, ref: str) -> str | None:
        """The capability the change just executed minted for (kind, ref); call under the
        lock, right after `execute`."""
        return self.core.minted.get((kind, ref))

    def mint_again(self, ticket_id: str) -> str | None:
        """A new capability for a ticket issued before (a repeated request: only the hash of
        the first is kept), in a transaction of its own; None when links are off or the
        ticket is no longer today's."""
        core = self.core
        if not self.enabled:
            return None
        with core.lock:
            ticket = core.state.tickets.get(ticket_id)
            if ticket is None or ticket.day != core.state.day:
                return None
            end = dt.datetime.combine(ticket.day + dt.timedelta(days=1), dt.time(),
                                      tzinfo=core.cfg.zone)
            capability = secrets.token_urlsafe(CAPABILITY_BYTES)
            with core.db.transaction() as tx:
                self.links.save(tx, capability, Link("ticket", ticket_id, ticket.day, end),
                                core.clock())
        return capability

    def issued_link(self, ticket_id: str, base_url: str) -> str | None:
        """The link of a ticket just issued (None when links are off); under the lock, right
        after `execute`."""
        if base_url:
            self.seen_base = base_url
        return self.minted_link("ticket", ticket_id) or None

    def minted_link(self, kind: str, ref: str) -> str:
        """The link of what the change just executed minted ("" if none, or no address is
        known yet to put in it); under the lock, right after `execute`."""
        capability = self.capability_of(kind, ref)
        base = self.base_url(self.seen_base)
        return link_url(base, kind, capability) if capability and base else ""

    # --- what a capability opens ------------------------------------------------------------

    def link(self, capability: str) -> Link:
        """The ticket or slip `capability` opens now; NotFound `unknown_link` for anything
        else (forged, expired, unknown, malformed, links off): one answer, no oracle."""
        if self.enabled and plausible(capability):
            found = self.links.find(capability, self.core.clock())
            if found is not None:
                return found
        raise NotFound("unknown_link", "error.unknown_link")

    def citizen_link(self, capability: str) -> tuple[str, str]:
        """(kind, ticket id or slip number) of `capability`; NotFound as `link`."""
        found = self.link(capability)
        return found.kind, found.ref

    def ticket_of(self, capability: str) -> Ticket:
        """The ticket a ticket capability opens (a slip's capability opens no ticket)."""
        found = self.link(capability)
        if found.kind != "ticket":
            raise NotFound("unknown_link", "error.unknown_link")
        core = self.core
        core.catch_up()
        with core.lock:
            ticket = core.state.tickets.get(found.ref)
        if ticket is None:
            ticket = core.store.ticket(found.ref)
        if ticket is None:
            raise NotFound("unknown_link", "error.unknown_link")
        return ticket

    def view(self, capability: str, base_url: str = "") -> dict[str, Any]:
        """What the ticket's phone page shows (docs/citizen.md): nothing personal, no other
        ticket. Reading it writes nothing."""
        ticket = self.ticket_of(capability)
        core = self.core
        with core.lock:
            view = ticket_view(core, core.state, ticket)
        slip = ticket.outcome.slip if ticket.outcome else None
        if slip:
            link = self._stored_slip_link(slip_capability(core.slip_key(), slip), base_url)
            legacy = ticket_slip_capability(capability, slip)
            view["slip"] = {"number": slip,
                            "link": link or self._stored_slip_link(legacy, base_url)}
        return view

    def pushed_view(self, ticket_id: str) -> dict[str, Any] | None:
        """The view pushed to a ticket's phones after an event (under the lock): as `view`,
        but with the slip's link left out (null: the page asks for its view to get it), so a
        push costs no store read."""
        core = self.core
        with core.lock:
            ticket = core.state.tickets.get(ticket_id)
            if ticket is None:
                return None
            view = ticket_view(core, core.state, ticket)
        slip = ticket.outcome.slip if ticket.outcome else None
        if slip:
            view["slip"] = {"number": slip, "link": None}
        return view

    def _stored_slip_link(self, capability: str, base_url: str) -> str | None:
        """The slip link of `capability` if the store knows it (and it has not expired)."""
        if self.links.find(capability, self.core.clock()) is None:
            return None
        return link_url(self.base_url(base_url), "slip", capability)

    def slip_link(self, slip: str) -> str:
        """The link a 承诺单 printed again carries: its first print's (derived from its number,
        commit.py `slip_capability`). A slip made before links were derived gets that link now,
        stored with the slip's expiry. "" when links are off or no address is known yet."""
        core = self.core
        base = self.base_url(self.seen_base)
        if not self.enabled or not base:
            return ""
        capability = slip_capability(core.slip_key(), slip)
        if self.links.find(capability, core.clock()) is None:
            found = core.store.slip(slip)
            if found is None:
                return ""
            created = dt.datetime.fromisoformat(found["created_at"])
            expires = created + dt.timedelta(days=SLIP_OPEN_DAYS)
            if found["status"] == SlipStatus.COLLECTED.value:
                expires = dt.datetime.fromisoformat(found["updated_at"]) + dt.timedelta(
                    days=SLIP_COLLECTED_DAYS)
            if expires <= core.clock():
                return ""
            day = core.engine.local(created).date()
            with core.lock, core.db.transaction() as tx:
                if self.links.find(capability, core.clock()) is None:
                    self.links.save(tx, capability, Link("slip", slip, day, expires),
                                    core.clock())
        return link_url(base, "slip", capability)

    # --- what a phone may do ----------------------------------------------------------------

    def complain(self, capability: str, data: shapes.CitizenComplaint | dict[str, Any],
                 addr: str = "") -> dict[str, Any]:
        """A complaint from the ticket's phone: the kiosk's path, source `phone`; its case
        opens as every complaint's does."""
        self.ticket_of(capability)
        if isinstance(data, dict):
            data = shapes.convert(data, shapes.CitizenComplaint)
        category = given(data.category, "category", required=True) or ""
        text = given(data.text, "text", required=True) or ""
        phone = given(data.phone, "phone")
        core = self.core
        records = core.execute(
            None,
            lambda s, now: core.engine.file_complaint(
                s, now, category, text, window=data.window, phone=phone, source="phone"),
            addr, actor=CITIZEN,
        )
        return {"id": the_event(records, ComplaintFiled).complaint_id}


    def rate(self, capability: str, data: shapes.CitizenRating | dict[str, Any],
             addr: str = "", base_url: str = "") -> dict[str, Any]:
        """The phone's rating of its finished ticket (the rule is `rate_by_phone`'s); the
        ticket's view after it."""
        if isinstance(data, dict):
            data = shapes.convert(data, shapes.CitizenRating)
        ticket = self.ticket_of(capability)
        level = data.level
        if level is None:
            raise Invalid("invalid", "error.field_required", key="level")
        self.core.rate_by_phone(ticket.id, level, data.reason, addr)  # type: ignore[attr-defined]
        return self.view(capability, base_url)


def ticket_view(core: ServiceCore, state: HallState, ticket: Ticket) -> dict[str, Any]:
    """The citizen's view of `ticket` (under the lock)."""
    cfg = core.cfg
    svc = cfg.service(ticket.service) if cfg.has_service(ticket.service) else None
    live = ticket.day == state.day and ticket.status is TicketStatus.WAITING
    windows = presenters.ticket_view(cfg, None, ticket)["windows"]
    if ticket.target_window is not None and ticket.status is TicketStatus.WAITING:
        windows = [ticket.target_window]  # sent on to that window (联办): it calls it there
    if ticket.window is not None and ticket.window not in windows:
        windows = [ticket.window, *windows]
    rating = ticket.rating
    today = ticket.day == state.day
    return {
        "number": ticket.number,
        "service": ticket.service,
        "service_name": svc.name if svc else ticket.service,
        "service_name_en": svc.name_en if svc else "",
        "status": ticket.status.value,
        "people_ahead": queries.people_ahead(state, ticket) if live else 0,
        "estimated_wait_minutes":
            queries.estimated_wait_minutes(cfg, state, ticket) if live else 0,
        "windows": [{"no": no, "name": cfg.window(no).name, "location": cfg.window(no).zone}
                    for no in windows if cfg.has_window(no)],
        "called": _called(core, ticket),
        "elderly": ticket.channel is Channel.ELDERLY,
        "no_show": {"recall_limit": cfg.queue.recall_limit,
                    "requeue_behind": cfg.queue.no_show_requeue_behind},
        "materials": [{"text": m, "text_en": ""} for m in (svc.materials if svc else [])],
        "finished_at": _iso(ticket.finished_at),
        "rating": ({"status": rating.status.value, "level": rating.level,
                    "channel": rating.source} if rating is not None else None),
        # The phone-rating rule's own answer (hub/engine/ratings.py), not a copy of it.
        "can_rate": today and core.engine.can_rate_by_phone(state, core.clock(), ticket.id),
        "reasons": list(cfg.rating.reasons),
        "complaint_categories": [
            {"code": c.code, "name": c.name, "name_en": c.name_en}
            for c in cfg.kiosk.complaint_categories],
        "slip": None,
        "now": _iso(core.clock()),
    }


def _called(core: ServiceCore, ticket: Ticket) -> dict[str, Any] | None:
    if ticket.status is not TicketStatus.CALLED:
        return None
    called = {"window": ticket.window, "at": _iso(ticket.called_at), "recalls": ticket.recalls}
    masked = core.identity.called_name(ticket.id)  # type: ignore[attr-defined]  # HallService's
    if masked:  # silent calling (无声叫号): the masked name beside the number
        called["masked_name"] = masked
    return called


def _iso(when: dt.datetime | None) -> str | None:
    return msgspec.to_builtins(when) if when else None  # as in events: RFC 3339

