"""The documents the hub sends its agents to print, built from the hub's views and the hall file:
a ticket and a 承诺单 (commitment slip), times in the hall's zone. agent/printing.py reads them
and devices/printer/ lays them out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.config import HallConfig


def ticket_doc(cfg: HallConfig, ticket: dict[str, Any], materials: bool) -> dict[str, Any]:
    """What the agent prints for a ticket (the hub's ticket view): agent/printing.py reads it."""
    svc = cfg.service(ticket["service"])
    return {
        "ticket_id": ticket["id"],
        "number": ticket["number"],
        "center_name": cfg.center.name,
        "center_name_en": cfg.center.name_en,
        "item": svc.name,
        "item_en": svc.name_en,
        "windows": [window_label(cfg, no) for no in ticket["windows"]],
        "windows_en": _windows_en(ticket["windows"]),
        "ahead": ticket["people_ahead"],
        "issued_at": _local(cfg, ticket["issued_at"]),
        "materials": list(svc.materials) if materials else [],
    }


def slip_doc(cfg: HallConfig, slip: str, service: str, accepted_at: dt.datetime | str,
             promised_date: str | None, items: list[str]) -> dict[str, Any]:
    """What the agent prints for a 承诺单: agent/printing.py reads it."""
    return {
        "slip_no": slip,
        "center_name": cfg.center.name,
        "item": cfg.service(service).name if cfg.has_service(service) else service,
        "item_en": cfg.service(service).name_en if cfg.has_service(service) else "",
        "accepted_at": _local(cfg, accepted_at),
        "promised_date": promised_date,
        "promised": list(items),
    }


def window_label(cfg: HallConfig, no: int) -> str:
    """A window by its number first, as the staff pages show it: two windows may share a name
    (不动产登记), and the call screens and the voice say the number."""
    name = cfg.window(no).name
    return f"{no}号窗口·{name}" if name else f"{no}号窗口"


def _local(cfg: HallConfig, when: dt.datetime | str) -> str:
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when)
    return when.astimezone(cfg.zone).replace(tzinfo=None).isoformat(timespec="seconds")


def _windows_en(nos: list[int]) -> str:
    if not nos:
        return ""
    return ("Window " if len(nos) == 1 else "Windows ") + ", ".join(str(n) for n in nos)
