"""The documents the hub sends its agents to print, built from the hub's views and the hall file:
a ticket and a 承诺单 (commitment slip), times in the hall's zone. agent/printing.py reads them
and devices/printer/ lays them out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.config import HallConfig
from hub.i18n import N_, catalogs, default_texts

# What each printed word is (devices/printer/wording.py: field -> message, and whether it is said
# in the hall's first language or its second, printed small under the first).
TICKET_WORDING = {
    "your_number": (N_("ticket.your_number"), 0),
    "item": (N_("ticket.item"), 0),
    "windows": (N_("ticket.windows"), 0),
    "windows_sep": (N_("common.list_sep"), 0),
    "no_windows": (N_("ticket.no_windows"), 0),
    "ahead": (N_("ticket.ahead"), 0),
    "ahead_count": (N_("ticket.ahead_count", "ahead"), 0),
    "issued_at": (N_("ticket.issued_at"), 0),
    "hint": (N_("ticket.hint"), 0),
    "materials": (N_("ticket.materials"), 0),
    "number_en": (N_("ticket.number_line", "number", "item"), 1),
    "go_en": (N_("ticket.go_line", "windows", "ahead"), 1),
    "no_windows_en": (N_("ticket.no_windows"), 1),
    "hint_en": (N_("ticket.hint"), 1),
    "elderly": (N_("ticket.elderly"), 0),
    "elderly_en": (N_("ticket.elderly"), 1),
}
SLIP_WORDING = {
    "title": (N_("slip.title"), 0),
    "slip_no": (N_("slip.slip_no", "slip_no"), 0),
    "item": (N_("slip.item"), 0),
    "accepted_at": (N_("slip.accepted_at"), 0),
    "promised": (N_("slip.promised"), 0),
    "promised_date": (N_("slip.promised_date", "year", "month", "day"), 0),
    "promised_items": (N_("slip.promised_items"), 0),
    "query_hint": (N_("slip.query_hint"), 0),
    "slip_en": (N_("slip.slip_line", "slip_no", "item"), 1),
    "promised_en": (N_("slip.promised_line", "date"), 1),
    "query_hint_en": (N_("slip.query_hint"), 1),
}


def wording(table: dict[str, tuple[str, int]]) -> dict[str, str]:
    """The printed words, unfilled (the printer fills in the number, the date, ...)."""
    languages = default_texts().languages
    return {name: catalogs().t_in(languages[which], key) for name, (key, which) in table.items()}


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
        # 适老优先 under the number: an elderly citizen's priority ticket (刷身份证取号).
        "elderly": ticket.get("channel") == "elderly" or ticket.get("elderly") is True,
        "wording": wording(TICKET_WORDING),
        # The QR: the ticket's page on the citizen's phone, else (links off) its id.
        "link": ticket.get("link") or "",
    }


def slip_doc(cfg: HallConfig, slip: str, service: str, accepted_at: dt.datetime | str,
             promised_date: str | None, items: list[str], link: str = "") -> dict[str, Any]:
    """What the agent prints for a 承诺单: agent/printing.py reads it."""
    return {
        "slip_no": slip,
        "center_name": cfg.center.name,
        "item": cfg.service(service).name if cfg.has_service(service) else service,
        "item_en": cfg.service(service).name_en if cfg.has_service(service) else "",
        "accepted_at": _local(cfg, accepted_at),
        "promised_date": promised_date,
        "promised": list(items),
        "wording": wording(SLIP_WORDING),
        "link": link,  # the slip's page on the citizen's phone (a QR); "" when links are off
    }


def window_label(cfg: HallConfig, no: int) -> str:
    """A window by its number first, as the staff pages show it: two windows may share a name
    (不动产登记), and the call screens and the voice say the number."""
    name = cfg.window(no).name
    texts = default_texts()
    return texts.t("ticket.window_named", no=no, name=name) if name else texts.t(
        "common.window", no=no)


def _local(cfg: HallConfig, when: dt.datetime | str) -> str:
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when)
    return when.astimezone(cfg.zone).replace(tzinfo=None).isoformat(timespec="seconds")


def _windows_en(nos: list[int]) -> str:
    """The windows in the hall's second language, printed small: "Windows 3, 5"."""
    if not nos:
        return ""
    texts = default_texts()
    listed = texts.each("common.list_sep")[1].join(str(n) for n in nos)
    key = N_("ticket.windows_one", "nos") if len(nos) == 1 else N_("ticket.windows_many", "nos")
    return texts.each(key, nos=listed)[1]
