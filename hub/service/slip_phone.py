"""A 承诺单 on the citizen's phone: what the slip's QR code opens (`/s/<capability>`).

The view says where the case stands (status, promised date, each department's part of a 联办件)
and how to collect it: what to bring, where and when. It names no person: the slip's store row
holds none, and the view takes nothing else from it. The capability is resolved by the caller
(HallService.citizen_link); this only reads the slip it names.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.auth import Principal, Role
from hub.engine.model import SlipStatus
from hub.i18n import N_, default_texts

from .core import ServiceCore
from .slips import Slips

# Who reads a slip for a phone: of the kiosk's role, as the kiosk's slip lookup is.
PHONE = Principal(role=Role.KIOSK, name="phone")

# What to bring when the hall names no collection item (`[citizen] collect_service`).
BRING = (N_("slip_phone.bring_slip"), N_("slip_phone.bring_id"),
         N_("slip_phone.bring_authorization"))
# When the case's result may be collected.
COLLECTABLE = frozenset({SlipStatus.READY})


class SlipForPhone:
    def __init__(self, core: ServiceCore, slips: Slips) -> None:
        self.core = core
        self.slips = slips

    def view(self, number: str) -> dict[str, Any]:
        """The slip `number` as its phone page shows it (NotFound if there is none)."""
        slip = self.slips.slip(PHONE, number)
        status = SlipStatus(slip["status"])
        return {
            "number": slip["number"],
            "kind": slip["kind"],
            "service": slip["service"],
            "service_name": slip["service_name"],
            "service_name_en": slip["service_name_en"],
            "status": status.value,
            "status_name": slip["status_name"],
            "status_name_en": slip["status_name_en"],
            "accepted_on": slip["accepted_on"],
            "promised_date": slip["promised_date"],
            "overdue": self._overdue(slip["promised_date"], status),
            "items": slip["items"],
            "parts": [{"department": d["code"], "name": d["name"], "name_en": d["name_en"],
                       "done": d["done"]} for d in slip["departments"]],
            "collectable": status in COLLECTABLE,
            "collect": self._collect(slip["service"]),
            "now": self.core.clock().isoformat(),
        }

    def _overdue(self, promised: str | None, status: SlipStatus) -> bool:
        """Past its promised date and not yet done (the citizen may ask why)."""
        if not promised or status not in (SlipStatus.ACCEPTED, SlipStatus.IN_PROGRESS):
            return False
        today = self.core.engine.local(self.core.clock()).date()
        return dt.date.fromisoformat(promised) < today

    def _collect(self, service: str) -> dict[str, Any]:
        """What to bring, where and when: the hall's collection item (办结取件) if it names
        one, else the slip's own item's windows and hours with the usual list."""
        cfg = self.core.cfg
        code = cfg.citizen.collect_service or service
        svc = cfg.service(code) if cfg.has_service(code) else None
        texts = default_texts()
        if cfg.citizen.collect_service and svc is not None:
            bring = [{"text": m, "text_en": ""} for m in svc.materials]
        else:
            bring = [dict(zip(("text", "text_en"), texts.each(key), strict=False))
                     for key in BRING]
        windows = [w for w in cfg.windows if code in w.services]
        hours = cfg.hours[svc.hours] if svc is not None else None
        return {
            "service": code if svc is not None else None,
            "service_name": svc.name if svc else "",
            "service_name_en": svc.name_en if svc else "",
            "bring": bring,
            "windows": [{"no": w.no, "name": w.name, "zone": w.zone} for w in windows],
            "weekdays": list(hours.weekdays) if hours else [],
            "periods": [list(p) for p in hours.periods] if hours else [],
        }
