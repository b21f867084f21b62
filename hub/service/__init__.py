"""The one service layer every edge calls: parse nothing, authorize, decide, commit, apply, publish.

HTTP handlers and Socket.IO handlers both call these methods, so a rule or a permission exists in
exactly one place. Each change runs under one lock and one transaction: the engine decides the
events, the store writes them with their projections, the in-memory state applies them, and only
after the commit are they handed to listeners (screens, voice, forwarding).

`HallService` is a thin façade over the use cases, one module each, all on one core:

- core.py: the lock, the state, execute / commit / publish, catch-up, listeners, the read API;
  commit.py: the steps of a commit and which projection each event type writes
- housekeeping.py: the day's rollover, ratings ended on time, the supervision rules checked
- sessions.py: tokens, sign-in and sign-out; pairing.py: screens and kiosks get their token
- issuing.py: tickets, complaints, the kiosk's tiles; citizen.py: the citizen's phone links;
  phone_ratings.py: 好差评 from the phone; take.py: 扫码取号 from the hall's poster;
  slip_phone.py: a 承诺单 on the phone
- calling.py: a window's actions and their arguments
- slips.py: 承诺单 and 联办件; casework.py: supervision cases (督办工单) for 差评 and complaints
- office.py: what the office changes; supervision.py: what it (and the screens) watch
- spot_checks.py: 办件抽查; staff_records.py: 效能告诫 and the other efficiency records
- hub/hall_file/: the hall file, swapped in live and kept in step with the store
"""

from __future__ import annotations

from functools import cached_property

from hub import shapes
from hub.auth import RateLimiter
from hub.clock import Clock, system_clock
from hub.config import HallConfig
from hub.hall_file import ConfigRefused
from hub.store.database import Database

from .calling import WINDOW_ACTIONS, Calling
from .casework import Casework
from .citizen import Citizen
from .commit import AlreadyHandled, Inbox, the, the_event
from .core import Listener, Offload, ServiceCore, run_inline
from .errors import Forbidden, TooManyAttempts, Unauthorized
from .housekeeping import Housekeeping
from .identity import IdentityDesk
from .issuing import Issuing
from .office import Office
from .pairing import Pairing
from .phone_ratings import PhoneRatings
from .sessions import SESSION_TTL, Sessions
from .slip_phone import SlipForPhone
from .slips import Slips
from .spot_checks import SpotCheckDesk
from .staff_records import StaffRecords
from .supervision import Supervision
from .take import Takes

__all__ = [
    "SESSION_TTL",
    "WINDOW_ACTIONS",
    "AlreadyHandled",
    "ConfigRefused",
    "Forbidden",
    "HallService",
    "Inbox",
    "Listener",
    "Offload",
    "TooManyAttempts",
    "Unauthorized",
    "the",
    "the_event",
]


class HallService(ServiceCore):
    """The core (state, lock, execute, catch-up, listeners, reads) with every use case's
    methods, under the names the edges and tests have always called."""

    def __init__(
        self,
        cfg: HallConfig,
        db: Database,
        clock: Clock = system_clock,
        login_limiter: RateLimiter | None = None,
        offload: Offload = run_inline,
    ) -> None:
        super().__init__(cfg, db, clock, login_limiter, offload)
        sessions = Sessions(self)
        self.authenticate = sessions.authenticate
        self.login = sessions.login
        self.sign_in_refused = sessions.sign_in_refused
        self.logout = sessions.logout
        self.change_password = sessions.change_password

        self.pairing = Pairing(self)  # screens and kiosks get their token without typing one

        issuing = Issuing(self)
        self.services = issuing.services
        self.issue_ticket = issuing.issue_ticket
        self.file_complaint = issuing.file_complaint
        self.kiosk_status = issuing.kiosk_status
        self.ticket = issuing.ticket

        self.window_action = Calling(self).window_action

        slips = Slips(self)
        self.set_slip_status = slips.set_slip_status
        self.part_done = slips.part_done
        self.joint_cases = slips.joint_cases
        self.slip = slips.slip

        self.casework = Casework(self)  # 督办工单: cases, their steps, office-entered complaints

        office = Office(self)
        self.decide_return = office.decide_return
        self.grant_green_pass = office.grant_green_pass
        self.book_appointment = office.book_appointment
        self.add_rating_reason = office.add_rating_reason
        self.rate_by_phone = PhoneRatings(self).rate_by_phone
        self.set_notice = office.set_notice
        self.close_service = office.close_service
        self.reopen_service = office.reopen_service
        self.move_clerk = office.move_clerk

        watch = Supervision(self)
        self.snapshot = watch.snapshot
        self.totals = watch.totals
        self.current_totals = watch.current_totals
        self.pending_returns = watch.pending_returns
        self.devices = watch.devices
        self.alerts = watch.alerts
        self.forwarding_status = watch.forwarding_status
        self.dead_letters = watch.dead_letters
        self.audit_records = watch.audit_records
        self.audit_export = watch.audit_export

        housekeeping = Housekeeping(self)
        self.tick = housekeeping.tick
        self.next_rating_deadline = housekeeping.next_rating_deadline
        self.expire_ratings = housekeeping.expire_ratings
        self.set_cert_expiry = housekeeping.set_cert_expiry
        self.publish_audit_head = housekeeping.publish_audit_head

        self.reload = self.hall_file_sync.reload
        self.adopt_hall_file = self.hall_file_sync.adopt

    @cached_property
    def citizen(self) -> Citizen:
        """The citizen's phone: what a ticket's QR (its capability) opens and may do."""
        return Citizen(self)

    def citizen_link(self, capability: str) -> tuple[str, str]:
        """(kind `ticket`|`slip`, ticket id or slip number) a capability opens; NotFound
        `unknown_link` for a forged, expired or unknown one alike."""
        return self.citizen.citizen_link(capability)

    def prune_links(self) -> int:
        """Delete the expired phone links (housekeeping does at each day's end)."""
        return Housekeeping(self).prune_links()

    @cached_property
    def identity(self) -> IdentityDesk:
        """刷身份证取号: cards read, handles sealed and opened, the look-up by swipe."""
        return IdentityDesk(self)

    def read_id_card(self, kiosk: str, card: shapes.IdCard) -> dict:
        """What kiosk `kiosk`'s page is pushed (`identity`) for a card read at its reader."""
        return self.identity.read_id_card(kiosk, card)

    @cached_property
    def spot_checks(self) -> SpotCheckDesk:
        """办件抽查: draw, review, read."""
        return SpotCheckDesk(self)

    @cached_property
    def takes(self) -> Takes:
        """扫码取号: the poster's secret of the day, a take and its limits."""
        return Takes(self, Issuing(self))

    @cached_property
    def slip_for_phone(self) -> SlipForPhone:
        """A 承诺单 as its phone page shows it: view(number)."""
        return SlipForPhone(self, Slips(self))

    @cached_property
    def staff_records(self) -> StaffRecords:
        """Efficiency records (效能告诫 ...): add, of, staff."""
        return StaffRecords(self)

    def excluded_from_awards(self, year: int) -> set[str]:
        """Usernames with a 效能告诫 in the hall's calendar `year`: out of its 评先评优."""
        return self.staff_records.excluded_from_awards(year)
