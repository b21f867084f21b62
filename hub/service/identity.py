"""刷身份证取号: a card read at a kiosk becomes a sealed handle, a ticket bound to a person, a
look-up of that person's 承诺单 and appointments — and the card's number and name are gone.

What the hub derives from a card, at once, and all it keeps (docs/privacy.md):

- `person` = HMAC-SHA256(id key, number), hex: the identity link of a ticket (identity_links,
  deleted after `[identity] link_days`) and what the kiosk's look-up by swipe searches;
- the day pseudonym HMAC-SHA256(id key, "day:" date "|" person): what `ticket.issued` carries
  (internal) and the per-person rules count, so the event log cannot link one person's days;
- the birth year, whether they are elderly on the hall day, and the masked name (张*).

The handle pushed to the kiosk (`identity`) is those values sealed with AES-GCM under a key
derived from the id key, valid HANDLE_VALID_S: any hub of a pair (they share DATA/id.key)
accepts it, and nothing is kept server-side until a ticket is issued.

The id key is DATA/id.key, made 0600 on first use like the poster key, never in the repository,
the hall file or a log. `onestop identity rotate-key` keeps the previous key beside it
(id.key.previous): handles, links and today's counts made under it keep working until the next
rotation, so rotate at most once every `link_days`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import msgspec

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub import shapes
from hub.auth import OFFICE_ROLES, Principal, Role
from hub.engine import DomainError, Invalid
from hub.engine.model import HallState
from hub.engine.persons import Identified, age_on, birth_from_number, mask_name, valid_id_number
from hub.keyfiles import load_key, read_key, write_new_key
from hub.presenters import ID_READER, id_reader_device, id_reader_view, silent_name
from hub.store.identity_links import IdentityLink, IdentityLinks

from .core import ServiceCore

log = logging.getLogger(__name__)

KEY_FILE = "id.key"
PREVIOUS_SUFFIX = ".previous"
HANDLE_VALID_S = 120  # a swipe is good for this long: choose an item, or swipe again
_NONCE = 12


class IdKeys(NamedTuple):
    """The hall's id key and the one before it (after a rotation), as read from the data dir."""

    current: bytes
    previous: bytes | None

    @property
    def all(self) -> tuple[bytes, ...]:
        return (self.current,) if self.previous is None else (self.current, self.previous)


def load_id_keys(data_dir: Path) -> IdKeys:
    """The hall's id keys; a new random one (0600) if there is none yet."""
    path = data_dir / KEY_FILE
    previous = path.with_name(KEY_FILE + PREVIOUS_SUFFIX)
    return IdKeys(load_key(path, "id key"),
                  read_key(previous, "id key") if previous.exists() else None)


def rotate_id_key(data_dir: Path) -> None:
    """A new id key; the current one becomes the previous (the one before that is dropped).
    Each step is a rename, so a hub reading meanwhile sees the old pair or the new one."""
    path = data_dir / KEY_FILE
    load_id_keys(data_dir)  # there is a current key to keep
    fresh = path.with_name(KEY_FILE + ".new")
    fresh.unlink(missing_ok=True)
    write_new_key(fresh)
    os.replace(path, path.with_name(KEY_FILE + PREVIOUS_SUFFIX))
    os.replace(fresh, path)


def person_of(key: bytes, number: str) -> str:
    """The hall-wide pseudonym of an ID number: what an identity link keeps."""
    return hmac.new(key, number.upper().encode("ascii"), hashlib.sha256).hexdigest()


def day_person(key: bytes, day: dt.date, person: str) -> str:
    """The pseudonym of one hall day: what `ticket.issued` carries and the rules count."""
    msg = b"day:" + day.isoformat().encode() + b"|" + person.encode("ascii")
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def key_id(key: bytes) -> bytes:
    """A short name of an id key: which key a person in a handle was hashed under."""
    return hmac.new(key, b"onestop-id-key-id", hashlib.sha256).digest()[:4]


class Holder(msgspec.Struct, array_like=True, frozen=True):
    """What a handle holds: the person under each id key (current first) with that key's id,
    the birth year, elderly on the hall day the card was read, the masked name, and until
    when it holds."""

    persons: tuple[bytes, ...]
    kids: tuple[bytes, ...]
    birth_year: int
    elderly: bool
    masked_name: str
    until: float  # UNIX seconds
    day: str  # the hall day it was read on

    def hexes(self) -> tuple[str, ...]:
        return tuple(p.hex() for p in self.persons)


def _seal_key(key: bytes) -> AESGCM:
    # Imported at the first card: the cryptography bindings cost a hub ~8 MB resident, which
    # a hall without ID card readers (and its 2,000 phones) need not carry.
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415

    return AESGCM(hmac.new(key, b"onestop-id-handle", hashlib.sha256).digest())


def seal(keys: IdKeys, holder: Holder) -> str:
    nonce = secrets.token_bytes(_NONCE)
    sealed = _seal_key(keys.current).encrypt(nonce, msgspec.msgpack.encode(holder), b"id1")
    return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()


def unseal(keys: IdKeys, handle: str) -> Holder | None:
    """The holder sealed in `handle` under either key; None if it is not one of ours."""
    from cryptography.exceptions import InvalidTag  # noqa: PLC0415 - with AESGCM, at the first card
    try:
        raw = base64.urlsafe_b64decode(handle + "=" * (-len(handle) % 4))
    except ValueError:
        return None
    for key in keys.all:
        try:
            plain = _seal_key(key).decrypt(raw[:_NONCE], raw[_NONCE:], b"id1")
        except (InvalidTag, ValueError):
            continue
        try:
            return msgspec.msgpack.decode(plain, type=Holder)
        except msgspec.DecodeError:
            return None
    return None


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


class IdentityDesk:
    """Cards in, handles out; a handle opened for an issue or a look-up."""

    def __init__(self, core: ServiceCore) -> None:
        self.core = core
        self._keys: IdKeys | None = None
        self._stamp: tuple[int, int] | None = None
        self._names: dict[str, str | None] = {}  # ticket id -> masked name, on _names_day
        self._names_day: dt.date | None = None

    @property
    def data_dir(self) -> Path:
        return self.core.db.path.parent

    @property
    def keys(self) -> IdKeys:
        """Read again when `onestop identity rotate-key` replaced the file under a running hub
        (a stat per use: nanoseconds beside a card read)."""
        path = self.data_dir / KEY_FILE
        try:
            st = path.stat()
            stamp = (st.st_ino, st.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        if self._keys is None or stamp != self._stamp:
            self._keys = load_id_keys(self.data_dir)
            st = path.stat()
            self._stamp = (st.st_ino, st.st_mtime_ns)
        return self._keys

    def hall_day(self) -> dt.date:
        return self.core.engine.local(self.core.clock()).date()

    # --- a kiosk's reader -------------------------------------------------------------------

    def reader(self, kiosk: str) -> dict[str, bool]:
        """What kiosk `kiosk`'s page is told of its ID card reader (presenters.id_reader_view):
        the reader its agent reported, kept in the hall's state while the agent is away, until
        the agent connects without it (agent.toml changed)."""
        found = self.core.read(lambda state: state.devices.get(id_reader_device(kiosk)))
        return id_reader_view(
            found.status if found is not None and found.kind == ID_READER else None)

    # --- a card read at a kiosk ------------------------------------------------------------

    def read_id_card(self, kiosk: str, card: shapes.IdCard) -> dict:
        """What the kiosk `kiosk` is pushed (`identity`) for a card read at its reader: the
        sealed handle with the masked name and the elderly mark, or a refusal's code and its
        message (id_unreadable, id_invalid, id_expired). Never the number or the name."""
        try:
            holder = self._holder(card)
        except DomainError as err:
            log.info("ID card at kiosk %s refused: %s", kiosk, err.code)
            return {"error": err.code, "message": err.message}
        log.info("ID card read at kiosk %s", kiosk)
        return {"handle": seal(self.keys, holder), "masked_name": holder.masked_name,
                "elderly": holder.elderly, "valid_s": HANDLE_VALID_S}

    def _holder(self, card: shapes.IdCard) -> Holder:
        if card.error is not None:
            raise DomainError("id_unreadable", "error.id_unreadable")
        number = card.number.strip().upper()
        if not valid_id_number(number):
            raise DomainError("id_invalid", "error.id_invalid")
        birth = _date(card.birth) or birth_from_number(number)
        assert birth is not None  # a valid number holds a real date
        day = self.hall_day()
        until = card.valid_until
        if until and until != "长期":
            end = _date(until)
            if end is None:
                raise DomainError("id_unreadable", "error.id_unreadable")
            if end < day and not self.core.cfg.identity.accept_expired_cards:
                raise DomainError("id_expired", "error.id_expired")
        keys = self.keys
        return Holder(
            persons=tuple(bytes.fromhex(person_of(k, number)) for k in keys.all),
            kids=tuple(key_id(k) for k in keys.all),
            birth_year=birth.year,
            elderly=age_on(birth, day) >= self.core.cfg.identity.elderly_age,
            masked_name=mask_name(card.name),
            until=self.core.clock().timestamp() + HANDLE_VALID_S,
            day=day.isoformat(),
        )

    # --- a handle used ----------------------------------------------------------------------

    def open(self, handle: str) -> Holder:
        """The holder of a handle still valid; `identity_stale` (swipe again) for one expired,
        forged, sealed under a key no longer kept, or read on another hall day."""
        holder = unseal(self.keys, handle)
        if holder is None or holder.until < self.core.clock().timestamp() \
                or holder.day != self.hall_day().isoformat():
            raise DomainError("identity_stale", "error.identity_stale")
        return holder

    def identified(self, holder: Holder, state: HallState) -> Identified:
        """The holder as the issue rules see them on the state's day."""
        keys = {key_id(k): k for k in self.keys.all}
        persons = tuple(day_person(keys[kid], state.day, p)
                        for kid, p in zip(holder.kids, holder.hexes(), strict=True)
                        if kid in keys)
        return Identified(persons=persons, elderly=holder.elderly)

    def draft(self, holder: Holder) -> IdentityLink:
        """The identity link the issue's commit writes (its ticket id and day filled in)."""
        return IdentityLink("", dt.date.min, holder.hexes()[0], holder.birth_year,
                            holder.masked_name or None)

    def appointment_person(self, id_number: str, day: dt.date) -> str:
        """The pseudonym an appointment for `day` is booked under (never the number)."""
        number = id_number.strip().upper()
        if not valid_id_number(number):
            raise Invalid("id_invalid", "error.id_invalid")
        key = self.keys.current
        return day_person(key, day, person_of(key, number))

    # --- silent calling ------------------------------------------------------------------

    def masked_name(self, ticket_id: str) -> str | None:
        """An identified ticket's masked name, while its day lasts (then housekeeping clears
        it); from this hub's memory, or the store for a ticket another hub issued."""
        day = self.core.current_day()
        if self._names_day != day:
            self._names, self._names_day = {}, day
        if ticket_id not in self._names:
            self._names[ticket_id] = IdentityLinks(self.core.db).masked_name(ticket_id)
        return self._names[ticket_id]

    def remember(self, ticket_id: str, masked: str | None) -> None:
        """The masked name of a ticket this hub just issued (spares silent calling a read)."""
        if self._names_day == self.core.current_day():
            self._names[ticket_id] = masked

    def called_name(self, ticket_id: str) -> str | None:
        """What silent calling shows beside `ticket_id` now (presenters.silent_name)."""
        return silent_name(self.core.cfg, self.core.state.tickets.get(ticket_id),
                           self.masked_name)

    # --- the look-up by swipe ---------------------------------------------------------------

    def lookup(self, who: Principal, handle: str) -> dict:
        """The person's open 承诺单 (as the kiosk's slip look-up shows each) and today's
        appointments booked for them; their masked name, nothing more about them."""
        core = self.core
        core.require(who, Role.KIOSK, *OFFICE_ROLES)
        holder = self.open(handle)
        links = IdentityLinks(core.db)
        from .slips import Slips  # noqa: PLC0415 (one use case calling another's read)

        slips = [Slips(core).slip(who, n) for n in links.open_slips_of(holder.hexes())]
        return {"identity": {"masked_name": holder.masked_name, "elderly": holder.elderly},
                "slips": slips, "appointments": self._appointments(holder)}

    def _appointments(self, holder: Holder) -> list[dict]:
        core = self.core
        core.catch_up()
        with core.lock:
            state = core.state
            mine = set(self.identified(holder, state).persons)
            found = [a for a in state.appointments.values()
                     if a.day == state.day and a.person is not None and a.person in mine]
        cfg = core.cfg
        return [{"code": a.code, "service": a.service,
                 "service_name": cfg.service(a.service).name if cfg.has_service(a.service)
                 else a.service,
                 "service_name_en": cfg.service(a.service).name_en
                 if cfg.has_service(a.service) else "",
                 "day": a.day.isoformat(), "used": a.used_by is not None} for a in found]
