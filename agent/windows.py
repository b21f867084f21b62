"""What this agent's windows look like, kept from the hub's snapshot and events, and what each
change means for the devices: pure code, no I/O.

`WindowBoard.apply(...)` returns device commands; the bridge hands them to the drivers. On
every (re)connect the hub sends a snapshot, and `load` rebuilds the board from it and re-issues
the commands, so a device that missed something while the link was down is brought up to date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Command:
    # led | caller_display | rating_request | rating_close | rating_cancel | rating_thanks
    kind: str
    window: int
    text: str = ""
    number: str = ""
    waiting: int = 0
    request_id: int = 0
    timeout_s: int = 0  # rating_request: whole seconds left until the hub's deadline (≥ 1)
    # rating_request, rating_close: seconds left until the hub's deadline (negative: past), on
    # the hub's timeline; the bridge turns them into a time on the system clock the drivers use
    left_s: float = 0.0


@dataclass
class Window:
    no: int
    services: list[str] = field(default_factory=list)
    status: str = "closed"  # open | paused | closed
    current: str | None = None
    rating: dict[str, Any] | None = None  # the open rating request, if any


def led_text(win: Window) -> str:
    """The LED screen over a window: Chinese first, short enough for a 16×32 dot line."""
    if win.status == "closed":
        return "暂停受理"
    if win.status == "paused":
        return "暂停服务"
    if win.current:
        return f"请{win.current}号"
    return f"{win.no}号窗口"


class WindowBoard:
    def __init__(self, windows: list[int]) -> None:
        self.windows = {no: Window(no) for no in windows}
        self.waiting: dict[str, int] = {}
        self.seq = 0

    def load(self, snapshot: dict[str, Any], now: dt.datetime) -> list[Command]:
        """Rebuild from a (re)connect's snapshot, and bring every device up to date with it."""
        self.seq = snapshot.get("seq", 0)
        self.waiting = dict(snapshot.get("waiting", {}))
        wanted: dict[int, tuple[dict[str, Any] | None, dict[str, Any]]] = {}
        for w in snapshot.get("windows", []):
            win = self.windows.get(w["no"])
            if win is None:
                continue
            win.services = list(w.get("services", []))
            win.status = w["status"]
            win.current = (w.get("current") or {}).get("number")
            wanted[win.no] = (w.get("rating"), w.get("clerk") or {})
        commands = []
        for win in self.windows.values():
            commands += self._show(win)
            pending, clerk = wanted.get(win.no, (None, {}))
            commands += self._rating_after_reconnect(win, pending, clerk, now)
        return commands

    def _rating_after_reconnect(self, win: Window, pending: dict[str, Any] | None,
                                clerk: dict[str, Any], now: dt.datetime) -> list[Command]:
        """The hub says which rating the keypad should be waiting for; make it so."""
        had = win.rating["request_id"] if win.rating else None
        if pending is None:
            win.rating = None
            return [Command("rating_cancel", win.no)] if had is not None else []
        if pending["request_id"] == had:
            return []  # the keypad is already asking (it keeps its window across our restart)
        win.rating = {**pending, "clerk_name": clerk.get("name", ""),
                      "staff_no": clerk.get("staff_no", "")}
        command = self._rating_request(win, now)
        if command.kind == "rating_close":
            win.rating = None
        return [command]

    def apply(self, event: dict[str, Any], now: dt.datetime) -> list[Command]:
        if event.get("seq", 0) <= self.seq:
            return []  # already reflected in the snapshot
        self.seq = event["seq"]
        kind, data = event["type"], event["data"]
        if kind == "day.rolled":
            self.waiting = {}
            for win in self.windows.values():
                win.current = None
            return self._show_all()
        if kind in ("ticket.issued", "ticket.transferred", "ticket.no_show"):
            service = data.get("to_service") or data.get("service")
            if kind != "ticket.no_show" or data.get("requeued"):
                self.waiting[service] = self.waiting.get(service, 0) + 1
        if kind == "ticket.called":
            service = data["service"]
            self.waiting[service] = max(0, self.waiting.get(service, 0) - 1)
        at = self.windows.get(data.get("window_no"))
        if at is None:
            return self._show_all() if kind.startswith("ticket.") else []
        return self._window_event(at, kind, data, now)

    def _window_event(self, win: Window, kind: str, data: dict, now: dt.datetime) -> list[Command]:
        commands: list[Command] = []
        if kind == "ticket.called":
            win.current = data["number"]
        elif kind in (
            "ticket.no_show",
            "ticket.transferred",
            "ticket.finished",
            "ticket.return_requested",
        ):
            win.current = None
        elif kind == "window.signed_in":
            win.status = "open"
        elif kind == "window.signed_out":
            win.status, win.current = "closed", None
        elif kind == "window.paused":
            win.status = "paused"
        elif kind == "window.resumed":
            win.status = "open"
        elif kind == "rating.requested":
            win.rating = data
            command = self._rating_request(win, now)
            if command.kind == "rating_close":
                win.rating = None
            return [command]
        elif kind in ("ticket.rated", "rating.expired"):
            if win.rating and win.rating["request_id"] == data["request_id"]:
                win.rating = None
                commands.append(
                    Command("rating_thanks" if kind == "ticket.rated" else "rating_cancel", win.no)
                )
            return commands
        return commands + self._show_all()

    def _rating_request(self, win: Window, now: dt.datetime) -> Command:
        """Open the keypad for the whole seconds left until the hub's deadline, rounded down
        (it closes no later than the hub expects); with less than a second left, or none (a
        request the hub still waits for when this agent (re)connects), close it instead: the
        keypad reports what it took, or that nothing came."""
        data = win.rating or {}
        left_s = (dt.datetime.fromisoformat(data["deadline"]) - now).total_seconds()
        if left_s < 1:
            return Command("rating_close", win.no, request_id=data["request_id"], left_s=left_s)
        text = f"{data['clerk_name']} 工号{data['staff_no']}" if data.get("clerk_name") else ""
        return Command("rating_request", win.no, text=text, request_id=data["request_id"],
                       timeout_s=int(left_s), left_s=left_s)

    def _show_all(self) -> list[Command]:
        commands: list[Command] = []
        for win in self.windows.values():
            commands += self._show(win)
        return commands

    def _show(self, win: Window) -> list[Command]:
        waiting = sum(self.waiting.get(s, 0) for s in win.services)
        return [
            Command("led", win.no, text=led_text(win)),
            Command("caller_display", win.no, number=win.current or "", waiting=waiting),
        ]

    def open_rating(self, window: int) -> int | None:
        """The request id a rating press at `window` answers, if a request is open."""
        win = self.windows.get(window)
        return win.rating["request_id"] if win and win.rating else None
