"""扫码取号: a phone on the hall's network takes a ticket from the poster's QR code.

The poster's secret is HMAC-SHA256(the hall's poster key, the hall date): no state, and the
poster of yesterday stops working at midnight in the hall's zone. The key is a file in the data
directory, made 0600 on first use (like the audit archive key), never in the repository, the
hall file or a log; the hubs of a pair share the data directory's key as they share the store.

A take is issued through the kiosk's own path (`Issuing.issue_ticket`: hours, quota,
suspension, the same engine rule) on channel `scan`, after the abuse limits: tickets per device
(a random id the page keeps) and per network address per hall day (`[citizen]`). They are
counted in the store (`citizen_takes`, keyed hashes only), so a hub restart resets nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import uuid

from hub.auth import OFFICE_ROLES, Principal
from hub.engine import DomainError, Invalid, NotFound
from hub.engine.model import Channel
from hub.i18n import N_
from hub.keyfiles import load_key
from hub.store.store import utc_iso

from .core import ServiceCore
from .issuing import POSTER, Issuing

log = logging.getLogger(__name__)

KEY_FILE = "poster.key"
DEVICE_ID_CHARS = (8, 64)  # the page makes 22 (secrets of 128 bits, base64url)


class TooManyTakes(DomainError):
    """A device or an address took its day's tickets: 429, come back tomorrow."""

    kind = "rate_limited"

    def __init__(self, code: str, key: str, retry_after_s: float, limit: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(code, key, limit=limit)


class Takes:
    def __init__(self, core: ServiceCore, issuing: Issuing) -> None:
        self.core = core
        self.issuing = issuing
        self._key: bytes | None = None

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = load_key(self.core.db.path.parent / KEY_FILE, "poster key")
        return self._key

    # --- the poster -----------------------------------------------------------------------

    def hall_day(self) -> dt.date:
        return self.core.engine.local(self.core.clock()).date()

    def poster_secret(self, day: dt.date | None = None) -> str:
        """The poster's secret on hall day `day` (today by default): 256 bits, base64url."""
        day = day or self.hall_day()
        mac = hmac.new(self.key, b"onestop-poster:" + day.isoformat().encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()

    def poster(self, secret: str) -> dict:
        """What today's poster's page shows besides the catalogue: the hall day, the items
        suspended and the waiting counts, as the kiosk's tiles know them. Yesterday's secret,
        a forged one and any other: one refusal (404 `unknown_poster`)."""
        self._check(secret)
        status = self.issuing.kiosk_status()
        return {"day": self.hall_day().isoformat(),
                "closed_services": status["closed_services"], "waiting": status["waiting"]}

    def _check(self, secret: str) -> None:
        # Any text at all may come here: bytes, so a lone surrogate is refused like the rest.
        if not hmac.compare_digest(secret.encode("utf-8", "replace"),
                                   self.poster_secret().encode()):
            raise NotFound("unknown_poster", N_("error.unknown_poster"))

    # --- a take ---------------------------------------------------------------------------

    def take(self, secret: str, service: str, device: str, addr: str,
             base_url: str = "") -> dict:
        """Issue a ticket for `service` to a phone that scanned today's poster; its `link`
        (the ticket's phone page) starts with `base_url` unless the hall configures one."""
        self._check(secret)
        lo, hi = DEVICE_ID_CHARS
        if not (lo <= len(device) <= hi and device.isascii() and device.isprintable()):
            raise Invalid("invalid", N_("error.take_device"))
        day = self.hall_day().isoformat()
        device_hash, address_hash = self._hash("device", device), self._hash("address", addr)
        with self.core.lock:  # one count, then its reservation: no two takes slip past a limit
            self._within_limits(day, device_hash, address_hash)
            take_id = uuid.uuid4().hex
            with self.core.db.transaction() as tx:
                # Past days count against nothing: forgotten here, whenever the day rolled.
                tx.execute("DELETE FROM citizen_takes WHERE day < ?", (day,))
                tx.execute("INSERT INTO citizen_takes (id, day, device_hash, address_hash, "
                           "taken_at) VALUES (?, ?, ?, ?, ?)",
                           (take_id, day, device_hash, address_hash, utc_iso(self.core.clock())))
            try:
                ticket = self.issuing.issue_ticket(POSTER, service, Channel.SCAN.value, None,
                                                   addr, base_url=base_url)
            except BaseException:  # refused (hours, quota, suspension): it counts for nothing
                with self.core.db.transaction() as tx:
                    tx.execute("DELETE FROM citizen_takes WHERE id = ?", (take_id,))
                raise
            with self.core.db.transaction() as tx:
                tx.execute("UPDATE citizen_takes SET ticket_id = ? WHERE id = ?",
                           (ticket["id"], take_id))
        return ticket

    def _hash(self, kind: str, value: str) -> str:
        """Keyed, so the few billion IPv4 addresses cannot be tried against the store."""
        return hmac.new(self.key, f"onestop-take:{kind}:{value}".encode(),
                        hashlib.sha256).hexdigest()

    def _within_limits(self, day: str, device_hash: str, address_hash: str) -> None:
        limits = self.core.cfg.citizen
        taken = self.core.db.query_one(
            "SELECT COUNT(*) AS n FROM citizen_takes WHERE day = ? AND device_hash = ?",
            (day, device_hash))
        if taken is not None and taken["n"] >= limits.take_per_device_per_day:
            raise TooManyTakes("take_limit_device", N_("error.take_limit_device", "limit"),
                               self._until_midnight(), limits.take_per_device_per_day)
        taken = self.core.db.query_one(
            "SELECT COUNT(*) AS n FROM citizen_takes WHERE day = ? AND address_hash = ?",
            (day, address_hash))
        if taken is not None and taken["n"] >= limits.take_per_address_per_day:
            raise TooManyTakes("take_limit_address", N_("error.take_limit_address", "limit"),
                               self._until_midnight(), limits.take_per_address_per_day)

    def _until_midnight(self) -> float:
        """Seconds until the hall's next midnight, when the day's counts start again."""
        local = self.core.engine.local(self.core.clock())
        midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(),
                                       local.tzinfo)
        return max(0.0, (midnight - local).total_seconds())

    # --- the office's poster ----------------------------------------------------------------

    def poster_of_today(self, who: Principal) -> tuple[dt.date, str]:
        """Today's hall day and poster secret, for the office to print (supervisor, admin)."""
        self.core.require(who, *OFFICE_ROLES)
        day = self.hall_day()
        return day, self.poster_secret(day)
