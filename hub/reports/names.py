"""Names of a report's groups, from the hall file and the staff accounts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.config import HallConfig
from hub.store.database import Database

from .summary import Key


class Namer:
    """Names of groups, from the hall file and the staff accounts."""

    def __init__(self, cfg: HallConfig, db: Database) -> None:
        self.cfg = cfg
        self.users = {r["username"]: (r["name"], r["staff_no"])
                      for r in db.query("SELECT username, name, staff_no FROM users")}
        self.by_staff_no = {no: u for u, (_, no) in self.users.items() if no}
        self.departments = {d.code: d for d in cfg.departments}
        self.services = {s.code: s for s in cfg.services}
        self.windows = {w.no: w for w in cfg.windows}

    def department_of_service(self, code: str) -> str:
        return self.cfg.service(code).department if self.cfg.has_service(code) else "?"

    def department_of_window(self, no: int) -> str:
        return self.cfg.window(no).department if self.cfg.has_window(no) else "?"

    def grouper(self, by: str) -> Callable[[Key], str | None]:
        if by == "department":
            return lambda k: self.department_of_service(k[2])
        if by == "service":
            return lambda k: k[2]
        if by == "window":
            return lambda k: str(k[0]) if k[0] else None
        return lambda k: k[1] or None

    def label(self, by: str, key: str) -> dict[str, Any]:
        if by == "department":
            d = self.departments.get(key)
            return {"name": d.name if d else key, "name_en": d.name_en if d else ""}
        if by == "service":
            s = self.services.get(key)
            return {"name": s.name if s else key, "name_en": s.name_en if s else ""}
        if by == "window":
            w = self.windows.get(int(key))
            return {"name": (w.name if w and w.name else f"{key}号窗口"),
                    "name_en": f"Window {key}"}
        name, staff_no = self.users.get(key, (key, ""))
        return {"name": name, "name_en": key, "staff_no": staff_no}
