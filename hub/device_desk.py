"""What device agents tell the hub: caller-keypad keys, rating presses, rating windows that
closed without a press (a keypad's rating ends on its word: hub/engine/ratings.py), and
device health.

Agents buffer device events while the hub is unreachable and send them again afterwards, each
with a stable id. The hub acts on every event exactly once: the id and the verdict are committed
with the change (the device inbox), so a repeat changes nothing and gets the same verdict
(ok, or the same refusal) marked `duplicate`.
A refusal (a press outside a rating window, a key while nobody is signed in) is an answer too:
it is final, and the agent drops the event.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from hub import shapes
from hub.auth import Principal, Role
from hub.engine import DomainError, HallState, Invalid
from hub.engine.model import Event, TicketRated
from hub.presenters import ID_READER, id_reader_device
from hub.service import AlreadyHandled, Forbidden, HallService, Inbox, the

log = logging.getLogger(__name__)

# Caller-keypad keys and the window action each one is (the clerk panel's actions).
KEYS = shapes.KEYS


class DeviceDesk:
    def __init__(self, service: HallService) -> None:
        self.service = service

    def handle_event(
        self, agent: Principal, windows: frozenset[int], data: Any, addr: str = ""
    ) -> dict[str, Any]:
        self.service.require(agent, Role.AGENT)
        event = shapes.convert(data, shapes.DeviceEvent)  # an object with an id and a window
        event_id, window = event.id, event.window
        try:
            if data.get("kind") == "key":
                result = self._key(agent, windows, window, data, addr, Inbox(event_id))
            elif data.get("kind") == "rating":
                result = self._rating(agent, windows, window, data, addr, Inbox(event_id))
            elif data.get("kind") == "rating_ended":
                result = self._rating_ended(agent, windows, window, data, addr, Inbox(event_id))
            else:
                raise Invalid("invalid", "error.device_event_kind")
        except AlreadyHandled as done:
            # A repeat (the agent re-sent after a lost answer): the same verdict, nothing redone.
            return {**done.answer, "duplicate": True}
        except DomainError as err:
            error = {"code": err.code, "message": err.message}
            log.info("device event %s from %s refused: %s", event_id, agent.name, err.code,
                     extra={"onestop": {"event": "device_event.refused", "agent": agent.name,
                                        "window": window, "device": data.get("device"),
                                        "error": err.code, "event_id": event_id}})
            try:
                self.service.execute(agent, self._after_refusal(err, window, data), addr,
                                     Inbox(event_id, error))
            except AlreadyHandled as done:
                return {**done.answer, "duplicate": True}
            return {"ok": False, "error": error}
        return result

    def _key(
        self,
        agent: Principal,
        windows: frozenset[int],
        window: int,
        data: dict,
        addr: str,
        inbox: Inbox,
    ) -> dict[str, Any]:
        try:
            key: str = shapes.convert(data, shapes.KeyPress).key
        except Invalid:
            raise Invalid("unknown_key", "error.unknown_key", keys=", ".join(KEYS)) from None
        action = key
        args: dict[str, Any] = {}
        if key == "pause":  # one key toggles pause and resume
            paused = self.service.read(lambda state: _paused(state, window))
            action = "resume" if paused else "pause"
            # No reason keys on a keypad: the hall's first pause reason ("away from the desk").
            args = {"reason": self.service.cfg.queue.pause_reasons[0]}
        elif key == "transfer":  # a keypad cannot name a target: the AB partner window
            if not self.service.cfg.has_window(window):
                raise Invalid("unknown_window", "error.unknown_window", no=window)
            args = {"window": self.service.cfg.window(window).backup}
        view = self.service.window_action(agent, window, action, args, addr, windows, inbox)
        return {"ok": True, "result": {"status": view["status"], "current": view["current"]}}

    def _rating(
        self,
        agent: Principal,
        windows: frozenset[int],
        window: int,
        data: dict,
        addr: str,
        inbox: Inbox,
    ) -> dict[str, Any]:
        if window not in windows:
            raise DomainError(
                "wrong_window",
                "error.wrong_window", no=window,
            )
        press = shapes.convert(data, shapes.RatingPress)
        request_id, level = press.request_id, press.level
        reason = self._reason(press.reason)
        pressed_at = press.pressed_at()
        late_found = press.late_found is True
        engine = self.service.engine

        def decide(s: HallState, now: dt.datetime) -> list[Event]:
            at = _by_window_end(s, window, request_id, pressed_at) if late_found else pressed_at
            return engine.rate(s, now, window, request_id, level, reason, at)

        records = self.service.execute(agent, decide, addr, inbox)
        rated = the(records, TicketRated).public()
        return {
            "ok": True,
            "result": {"ticket_id": rated["data"]["ticket_id"], "level": rated["data"]["level"]},
        }

    def _after_refusal(self, err: DomainError, window: int, data: dict) -> Any:
        """What a refusal still changes: a press too late for its request ends that request
        (the keypad closed its window when it took the press); anything else, nothing."""
        request_id = data.get("request_id")
        if err.code != "rating_closed" or data.get("kind") != "rating" or \
                isinstance(request_id, bool) or not isinstance(request_id, int):
            return lambda s, now: []
        engine = self.service.engine
        return lambda s, now: engine.close_late_press(s, now, window, request_id)

    def _rating_ended(
        self,
        agent: Principal,
        windows: frozenset[int],
        window: int,
        data: dict,
        addr: str,
        inbox: Inbox,
    ) -> dict[str, Any]:
        """The keypad closed a request's window without a press (`why`): 未评价, or asked again."""
        if window not in windows:
            raise DomainError(
                "wrong_window",
                "error.wrong_window", no=window,
            )
        ended = shapes.convert(data, shapes.RatingEnded)
        request_id, why = ended.request_id, ended.why
        engine = self.service.engine
        records = self.service.execute(
            agent, lambda s, now: engine.rating_ended(s, now, window, request_id, why), addr,
            inbox,
        )
        return {"ok": True, "result": {"events": [r.type for r in records]}}

    def _reason(self, code: Any) -> str | None:
        """The hall's reason for a reason key. A key the hall does not list (a keypad with more
        reason keys than the hall file has reasons) costs the reason, never the rating: it is
        stored without one (unknown), and one can be added later (rating-reason)."""
        if code in (None, 0):
            return None
        reasons = self.service.cfg.rating.reasons
        if isinstance(code, bool) or not isinstance(code, int) or not 1 <= code <= len(reasons):
            log.warning("rating reason key %r unknown (the hall lists %d reasons): rating stored "
                        "without a reason", code, len(reasons))
            return None
        return reasons[code - 1]

    def report_health(self, agent: Principal, devices: Any, addr: str = "",
                      windows: frozenset[int] = frozenset(),
                      kiosk: str | None = None) -> dict[str, Any]:
        """Each device's state as the agent sees it; changes become events (and alerts).

        An agent speaks for its own devices only: at the windows it declared, under ids no
        other agent reports, and an ID card reader only as that of the kiosk it serves
        (`kiosk`, from its connect): a reader named for another kiosk, or reported by an agent
        with no kiosk, is ignored (and logged), so no agent can make another kiosk's page say
        it has a reader.
        """
        self.service.require(agent, Role.AGENT)
        if not isinstance(devices, list) or not all(isinstance(d, dict) for d in devices):
            raise Invalid("invalid", "error.devices_shape")
        given = [d for d in devices[:256] if not _foreign_reader(d, kiosk, agent.name)]
        reports = [_device_report(d) for d in given]
        served = [_device_windows(d) for d in given]  # a slip printer's several
        for (_device, _kind, window, _status, _detail), several in zip(reports, served,
                                                                         strict=True):
            for no in [*([] if window is None else [window]), *several]:
                if no not in windows:
                    raise Forbidden("wrong_window", "error.wrong_window", no=no)
        engine = self.service.engine

        def decide(state, now):
            events = []
            for (device, kind, window, status, detail), several in zip(reports, served,
                                                                         strict=True):
                known = state.devices.get(device)
                if known is not None and known.agent != agent.name:
                    raise Forbidden("not_your_device", "error.not_your_device", device=device,
                                    agent=known.agent)
                at = several[0] if window is None and several else window
                events += engine.report_device(
                    state, now, device, kind, at, agent.name, status, detail, several
                )
            return events

        records = self.service.execute(agent, decide, addr)
        return {"ok": True, "result": {"changed": len(records)}}

    def agent_has(self, agent: Principal, devices: list[str]) -> None:
        """All the devices of an agent that connects (alone under its name): those it reported
        before and no longer has are removed, so a rating keypad taken out of its agent.toml
        does not hold its window's ratings open for good."""
        kept = set(devices)
        if self.service.read(lambda state: any(
                d.agent == agent.name and d.device not in kept for d in state.devices.values())):
            engine = self.service.engine
            self.service.execute(agent, lambda s, now: engine.forget_devices(s, now, agent.name,
                                                                               kept))

    def agent_gone(self, agent: Principal) -> None:
        """The agent's connection ended: its devices can no longer be vouched for."""
        mine = self.service.read(lambda state: [
            d for d in state.devices.values() if d.agent == agent.name and d.status != "offline"
        ])
        if not mine:
            return
        engine = self.service.engine

        def decide(state, now):
            events = []
            for d in mine:
                events += engine.report_device(
                    state, now, d.device, d.kind, d.window, d.agent, "offline",
                    "agent disconnected", d.windows
                )
            return events

        self.service.execute(agent, decide)


def _paused(state: HallState, window: int) -> bool:
    win = state.windows.get(window)
    return win is not None and win.pause is not None


def _foreign_reader(d: dict, kiosk: str | None, agent: str) -> bool:
    """A report of an ID card reader (by its kind or its name) that is not this agent's
    kiosk's reader, `id_reader@<kiosk>` of kind id_reader: its name would tell another kiosk's
    page that it has a reader. Any other report (a malformed one too) is left to the checks."""
    device, kind = d.get("id"), d.get("kind")
    if not (kind == ID_READER or (isinstance(device, str)
                                  and device.startswith(f"{ID_READER}@"))):
        return False
    if kiosk is not None and kind == ID_READER and device == id_reader_device(kiosk):
        return False
    log.warning("agent %s: an ID card reader's report ignored: %.80r (kind %.40r) is not the "
                "reader of its kiosk %.80r", agent, device, kind, kiosk)
    return True


def _device_report(d: dict) -> tuple[str, str, int | None, str, str]:
    device, kind, status = d.get("id"), d.get("kind"), d.get("status")
    window, detail = d.get("window"), d.get("detail") or ""
    if not (isinstance(device, str) and 0 < len(device) <= shapes.MAX_DEVICE_NAME
            and all(isinstance(v, str) and 0 < len(v) <= 64 for v in (kind, status))):
        raise Invalid("invalid", "error.device_shape")
    if window is not None and (isinstance(window, bool) or not isinstance(window, int)):
        raise Invalid("invalid", "error.window_integer")
    if not isinstance(detail, str):
        raise Invalid("invalid", "error.detail_string")
    return device, kind, window, status, detail  # type: ignore[return-value]


def _device_windows(d: dict) -> list[int]:
    """The optional `windows` of a device report: every window a device serves (a slip
    printer may serve several), distinct integers."""
    several = d.get("windows")
    if several is None:
        return []
    if not (isinstance(several, list) and len(several) <= 64 and all(
            isinstance(no, int) and not isinstance(no, bool) for no in several)
            and len(set(several)) == len(several)):
        raise Invalid("invalid", "error.windows_list")
    return several


def _by_window_end(state: Any, window: int, request_id: int,
                   pressed_at: dt.datetime | None) -> dt.datetime | None:
    """A press its agent found in the keypad's ring after it started (`late_found`): the keypad
    took it while the request's window was open, so it was made by that window's end (the
    rating's deadline), whenever the agent came to read it."""
    for ticket in state.tickets.values():
        rating = ticket.rating
        if rating and rating.window == window and rating.request_id == request_id:
            return min(pressed_at or rating.deadline, rating.deadline)
    return pressed_at
