"""The office's namespace (/monitor): everything, including events screens never see, and
returns decided."""

from __future__ import annotations

from typing import Any

from flask import request

from hub import shapes
from hub.auth import OFFICE_ROLES, Principal
from hub.engine import DomainError

from .base import RoleNamespace, ack_error, ack_ok, current_sid


class MonitorNamespace(RoleNamespace):
    """The center's office: everything, including events screens never see."""

    roles = OFFICE_ROLES

    def admit(self, who: Principal, auth: shapes.Auth) -> None:
        self.enter_room(current_sid(), "monitor")
        snap = self.service.snapshot(usernames=True)
        snap["returns"] = self.service.pending_returns(who)
        snap["devices"] = self.service.devices(who)
        # Agents whose token is bound to nothing (may act for any kiosk and window): the page
        # marks their devices, to be bound (docs/security.md). An office role, admitted above.
        snap["unbound_agents"] = self.service.accounts.unbound_agents()
        snap["alerts"] = self.service.alerts(who)
        snap["totals"] = self.service.totals(who)
        self.send_snapshot(snap, current_sid())

    def on_decide_return(self, data: Any = None) -> dict[str, Any]:
        try:
            decision = shapes.convert(data, shapes.DecideReturn)
            return ack_ok(
                self.service.decide_return(
                    self.principal(),
                    decision.ticket_id or "",
                    decision.approve is True,
                    decision.note or "",
                    request.remote_addr or "",
                )
            )
        except DomainError as err:
            return ack_error(err)
