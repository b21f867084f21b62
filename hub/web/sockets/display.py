"""The call screens' namespace (/display): read-only, one room for the hall's screen and one per
window's screen."""

from __future__ import annotations

from hub import presenters, shapes
from hub.auth import OFFICE_ROLES, Principal, Role
from hub.engine import DomainError

from .base import RoleNamespace, current_sid


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
                    "invalid_room", "error.invalid_room", room=room
                )
            room = f"window:{int(no)}"  # "window:03" joins the room events go to
        self.enter_room(current_sid(), room)
        snapshot = self.service.snapshot()
        if room != "hall":  # silent calling: the window's own screen shows the masked name
            window_no = int(room.removeprefix("window:"))
            current = next((w["current"] for w in snapshot["windows"] if w["no"] == window_no),
                           None)
            masked = self.service.identity.called_name(current["id"]) if current else None
            snapshot = presenters.window_screen_snapshot(snapshot, window_no, masked)
        self.send_snapshot(snapshot, current_sid())
