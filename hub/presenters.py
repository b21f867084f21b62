"""Presenters: what each kind of client is shown, plain dicts built from the config and the state.

Screens are public: they get ticket numbers, items and windows, and a clerk's name and staff
number (the work badge of art. 17) — never anything about a citizen, except, when the hall
turns silent calling (无声叫号) on, the masked name (张*) of the ticket a window calls, on that
window's own screen and that ticket's phone page (`silent_name`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import msgspec

from hub.config import HallConfig, Service
from hub.engine import queries
from hub.engine.model import (
    RATING_CHANNELS,
    Channel,
    HallState,
    RatingLevel,
    RatingStatus,
    Ticket,
    TicketStatus,
    WindowState,
)
from hub.i18n import default_texts


def catalogue(cfg: HallConfig) -> dict[str, Any]:
    """What a page may know before it connects: the hall's names, nothing live or personal."""
    return {
        "center": {"name": cfg.center.name, "name_en": cfg.center.name_en,
                   "timezone": cfg.center.timezone},
        "departments": [
            {"code": d.code, "name": d.name, "name_en": d.name_en} for d in cfg.departments
        ],
        "services": {
            s.code: {"name": s.name, "name_en": s.name_en, "department": s.department}
            for s in cfg.services
        },
    }


def service_view(cfg: HallConfig, svc: Service, full: bool = True) -> dict[str, Any]:
    dept = cfg.department(svc.department)
    view: dict[str, Any] = {
        "code": svc.code,
        "name": svc.name,
        "name_en": svc.name_en,
        "department": {"code": dept.code, "name": dept.name, "name_en": dept.name_en},
        "prefix": svc.prefix,
        "case_type": svc.case_type.value,
        "time_limit_days": svc.time_limit_days,
        "target_minutes": svc.target_minutes,
        "daily_quota": svc.daily_quota,
        "hours": msgspec.to_builtins(cfg.hours[svc.hours]),
        "windows": [w.no for w in cfg.windows if svc.code in w.services],
    }
    if full:
        view["disclosure"] = msgspec.to_builtins(svc.disclosure)
        view["materials"] = list(svc.materials)
    return view


def window_view(cfg: HallConfig, state: HallState, win: WindowState) -> dict[str, Any]:
    conf = cfg.window(win.no)
    dept = cfg.department(conf.department)
    current = state.tickets.get(win.current) if win.current else None
    if win.clerk is None:
        status = "closed"
    elif win.pause:
        status = "paused"
    else:
        status = "open"
    return {
        "no": win.no,
        "name": conf.name or default_texts().t("common.window", no=win.no),
        "zone": conf.zone,
        "department": {"code": dept.code, "name": dept.name, "name_en": dept.name_en},
        "services": list(conf.services),
        "backup": conf.backup,
        "status": status,
        "pause_reason": win.pause.reason if win.pause else None,
        "paused_since": _iso(win.pause.since) if win.pause else None,
        "clerk": {"name": win.clerk.name, "staff_no": win.clerk.staff_no} if win.clerk else None,
        "current": _current(current) if current else None,
        "covering": queries.covered_windows(cfg, state, win.no) if status == "open" else [],
        "rating": _open_rating(state, win),
    }


def _open_rating(state: HallState, win: WindowState) -> dict[str, Any] | None:
    """The rating the window's keypad is waiting for, so a screen that reconnects asks on."""
    ticket = state.tickets.get(win.rating_ticket) if win.rating_ticket else None
    if ticket is None or ticket.rating is None or ticket.rating.status is not RatingStatus.PENDING:
        return None
    return {"ticket_id": ticket.id, "number": ticket.number,
            "request_id": ticket.rating.request_id, "deadline": _iso(ticket.rating.deadline)}


def _current(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "number": ticket.number,
        "service": ticket.service,
        "called_at": _iso(ticket.called_at),
        "recalls": ticket.recalls,
        "elderly": ticket.channel is Channel.ELDERLY,  # the window screen's quiet 适老 mark
    }


def public_snapshot(cfg: HallConfig, state: HallState) -> dict[str, Any]:
    return {
        "seq": state.seq,
        "day": state.day.isoformat(),
        "center": {
            "name": cfg.center.name,
            "name_en": cfg.center.name_en,
            "notice": state.notice.text if state.notice else cfg.center.notice,
            "notice_en": state.notice.text_en if state.notice else cfg.center.notice_en,
        },
        "windows": [
            window_view(cfg, state, queries.window_state(state, w.no)) for w in cfg.windows
        ],
        "waiting": queries.waiting_counts(state),
        "closed_services": dict(state.closed_services),
        "recent_calls": [msgspec.to_builtins(c) for c in state.recent_calls],
    }


# 好差评: 非常满意, 满意 and 基本满意 count as satisfied; 不满意 and 非常不满意 do not.
SATISFIED_LEVELS = frozenset(level for level in RatingLevel if not level.needs_reason)


def totals(state: HallState) -> dict[str, Any]:
    """The hall's counts today, for the office's monitor. Read from the state, not summed from
    events on the page, so a monitor that reconnects (or missed events) shows the truth."""
    issued = served = serving = no_shows = 0
    levels = dict.fromkeys(range(1, 6), 0)
    channels = dict.fromkeys(RATING_CHANNELS, 0)
    for t in state.tickets.values():
        if t.day != state.day:
            continue  # a 退件 from an earlier day still awaiting a decision
        issued += 1
        serving += t.status is TicketStatus.CALLED
        served += t.status in (TicketStatus.DONE, TicketStatus.RETURN_PENDING,
                               TicketStatus.RETURN_REFUSED)
        no_shows += sum(1 for v in t.visits if v.end == "no_show")
        if t.rating is not None and t.rating.status is RatingStatus.RATED and t.rating.level:
            levels[t.rating.level] = levels.get(t.rating.level, 0) + 1
            channel = t.rating.source or "keypad"
            channels[channel] = channels.get(channel, 0) + 1
    rated = sum(levels.values())
    satisfied = sum(n for level, n in levels.items() if level in SATISFIED_LEVELS)
    waiting = queries.waiting_counts(state)
    return {
        "seq": state.seq,  # two hubs push in either order: the office keeps the newest
        "day": state.day.isoformat(),
        "issued": issued,
        "served": served,
        "serving": serving,
        "waiting": sum(waiting.values()),
        "waiting_by_service": waiting,
        "no_shows": no_shows,
        "ratings": rated,
        "rating_levels": {str(level): n for level, n in levels.items()},
        "rating_channels": channels,  # keypad, phone: where the ratings came from
        "satisfied": satisfied,
        "satisfaction": round(satisfied / rated, 4) if rated else None,
        "complaints": state.complaint_seq,
    }


def ticket_view(cfg: HallConfig, state: HallState | None, ticket: Ticket) -> dict[str, Any]:
    svc = cfg.service(ticket.service) if cfg.has_service(ticket.service) else None
    view = msgspec.to_builtins(msgspec.structs.asdict(ticket))  # every field, defaults too
    if ticket.rating is not None:
        view["rating"] = msgspec.to_builtins(msgspec.structs.asdict(ticket.rating))
    view.pop("rank", None)
    view.pop("reference", None)
    view["service_name"] = svc.name if svc else ticket.service
    view["service_name_en"] = svc.name_en if svc else ""
    live = state is not None and ticket.day == state.day and ticket.status is TicketStatus.WAITING
    view["people_ahead"] = queries.people_ahead(state, ticket) if live else 0  # type: ignore[arg-type]
    view["windows"] = [w.no for w in cfg.windows if svc and svc.code in w.services]
    view["elderly"] = ticket.channel is Channel.ELDERLY  # the screens' quiet 适老 mark
    return view


def silent_name(cfg: HallConfig, ticket: Ticket | None,
                masked_names: Callable[[str], str | None]) -> str | None:
    """The masked name (张*) a called ticket shows beside its number with silent calling (无声
    叫号): only then, only for a ticket issued against an ID card, only while it is at a window.
    For the window's own screen and the ticket's phone page; never the hall screen, never a
    voice (the agents' events never carry it)."""
    if (ticket is None or not cfg.identity.silent_calling or not ticket.identified
            or ticket.status is not TicketStatus.CALLED):
        return None
    return masked_names(ticket.id)


def with_masked_name(event: dict[str, Any], masked: str | None, elderly: bool = False
                     ) -> dict[str, Any]:
    """A screen-safe call event (`public_event`) as the called window's screen gets it: with
    the masked name (silent calling) and the quiet 适老 mark of an elderly ticket."""
    data = {**event["data"], **({"masked_name": masked} if masked else {})}
    if elderly:
        data["elderly"] = True
    return {**event, "data": data}


def window_screen_snapshot(snapshot: dict[str, Any], no: int, masked: str | None
                           ) -> dict[str, Any]:
    """The public snapshot as window `no`'s own screen gets it: its current ticket with the
    masked name when silent calling shows one."""
    if masked is None:
        return snapshot
    windows = [{**w, "current": {**w["current"], "masked_name": masked}}
               if w["no"] == no and w.get("current") else w for w in snapshot["windows"]]
    return {**snapshot, "windows": windows}


def redacted(view: dict[str, Any]) -> dict[str, Any]:
    """A ticket as a kiosk, screen or agent may see it: its number, item, state and place in
    the queue, without slip numbers, 退件 reasons, rating reasons or notes (ticket ids are
    guessable, so this is what anyone holding a device token can read)."""
    out = {k: v for k, v in view.items() if k not in ("visits", "outcome", "rating", "clerk")}
    if view.get("outcome"):
        out["outcome"] = {"kind": view["outcome"]["kind"]}
    if view.get("rating"):
        out["rating"] = {"status": view["rating"]["status"]}
    return out


def _iso(when: dt.datetime | None) -> str | None:
    return msgspec.to_builtins(when) if when else None  # same form as in events


# Fields of each event type that a screen, kiosk or agent may see. Anything not listed (green
# pass codes, appointment codes, slip numbers, reasons for a 退件) stays in the office.
_PUBLIC_FIELDS: dict[str, tuple[str, ...]] = {
    "ticket.issued": ("ticket_id", "number", "service", "channel", "priority"),
    "ticket.called": ("ticket_id", "number", "service", "window_no", "covering"),
    "ticket.recalled": ("ticket_id", "number", "service", "window_no", "recalls"),
    "ticket.no_show": ("ticket_id", "number", "service", "window_no", "requeued"),
    "ticket.transferred": ("ticket_id", "number", "window_no", "to_service", "to_window"),
    "ticket.finished": ("ticket_id", "number", "service", "window_no"),
    "ticket.return_requested": ("ticket_id", "number", "window_no"),
    "ticket.return_decided": ("ticket_id", "number", "approved", "requeued_to"),
    "window.signed_in": ("window_no", "clerk"),
    "window.signed_out": ("window_no",),
    "window.paused": ("window_no", "reason"),
    "window.resumed": ("window_no",),
    "day.rolled": ("day",),
    "service.closed": ("service", "reason"),
    "service.reopened": ("service",),
    "notice.set": ("text", "text_en"),
    # Every page reloads on it to read the new catalogue; what changed stays in the office.
    "config.reloaded": ("hash",),
    # The keypad shows the clerk's badge while it waits; the window screen prompts to rate.
    "rating.requested": (
        "ticket_id",
        "number",
        "window_no",
        "request_id",
        "deadline",
        "clerk_name",
        "staff_no",
    ),
    "ticket.rated": ("ticket_id", "number", "window_no", "request_id", "level"),
    "rating.expired": ("ticket_id", "number", "window_no", "request_id"),
}


def public_event(record: dict[str, Any]) -> dict[str, Any] | None:
    """The screen-safe form of a committed event, or None if screens must not see it."""
    fields = _PUBLIC_FIELDS.get(record["type"])
    if fields is None:
        return None
    data = {k: record["data"][k] for k in fields if k in record["data"]}
    if "clerk" in data and isinstance(data["clerk"], dict):
        data["clerk"] = {"name": data["clerk"]["name"], "staff_no": data["clerk"]["staff_no"]}
    return {**record, "data": data}


# --- a kiosk's ID card reader (刷身份证取号) --------------------------------------------------

# The kind a kiosk's agent reports its ID card reader under, and the start of its name:
# `id_reader@<the kiosk token's name>` (agent/bridge.py). The hub checks the name against the
# kiosk its agent said it serves (hub/device_desk.py), so the name says whose reader it is.
ID_READER = "id_reader"


def id_reader_device(kiosk: str) -> str:
    """The name the reader of kiosk `kiosk` is reported under."""
    return f"{ID_READER}@{kiosk}"


def id_reader_kiosk(device: str, kind: str) -> str | None:
    """The kiosk whose reader `device` is, or None for any other device."""
    prefix = f"{ID_READER}@"
    if kind != ID_READER or not device.startswith(prefix) or device == prefix:
        return None
    return device[len(prefix):]


def id_reader_view(status: str | None) -> dict[str, bool]:
    """What a kiosk's page is told of its reader (`status`: its last reported state, None for
    none): `id_reader`, it has one, even while it or its agent is offline — the home screen then
    says what a card is used for before any card is placed (个人信息保护法 art. 17); and
    `id_reader_ready`, it reads cards now."""
    return {"id_reader": status is not None, "id_reader_ready": status == "online"}
