"""好差评 from the citizen's phone: the ticket's page rates the service once it is over.

The edge authorizes the citizen by the ticket's capability (the QR on the printed ticket), so
there is no Principal here: the change is recorded as the citizen's. The rule is the engine's
(`RatingRules.rate_by_phone`); the 差评's supervision case opens in the same commit, as for a
keypad's (`ServiceCore._reactions`).
"""

from __future__ import annotations

from typing import Any

from hub.engine.model import TicketRated

from .commit import the_event
from .core import ServiceCore

CITIZEN = "citizen"  # the events' actor for what a citizen did on their own phone


class PhoneRatings:
    def __init__(self, core: ServiceCore) -> None:
        self.core = core

    def rate_by_phone(self, ticket_id: str, level: int, reason: str | None,
                      addr: str) -> dict[str, Any]:
        """Rate ticket `ticket_id` from its phone page: {status, level, reason, channel,
        rated_at}; DomainError `already_rated` when a keypad (or the phone) came first."""
        core = self.core
        records = core.execute(
            None, lambda s, now: core.engine.rate_by_phone(s, now, ticket_id, level, reason),
            addr, actor=CITIZEN,
        )
        rated = the_event(records, TicketRated)
        return {"status": "rated", "level": rated.level, "reason": rated.reason,
                "channel": rated.source, "rated_at": rated.pressed_at.isoformat()}
