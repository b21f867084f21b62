"""The hall configuration: one typed schema for `config/hall.toml`.

Everything a hall is made of that changes only when the center reorganises (art. 6, 动态管理):
departments (窗口单位), service items (事项) with their six disclosures (六公开) and required
materials (一次性告知), opening hours, windows with their AB backups (同岗替代) and the queue's
rules. Staff accounts are *not* here: they live in the store, with hashed passwords.

Loading is strict, like Klipper's config: an unknown key or a bad value stops the hub at start
with the file, the key and the reason, rather than running a hall on a typo.

The schema's types are in `schema`, the checks the types cannot say in `checks`, reading a
file in `load`; everything is importable from here.
"""

from .load import ConfigError, load_config, parse_config
from .schema import (
    MAX_WINDOW,
    SCHEMA_VERSION,
    Assessment,
    Audit,
    Backend,
    Calendar,
    CaseType,
    Center,
    ChecklistItem,
    Citizen,
    ComplaintCategory,
    Department,
    Disclosure,
    GreenChannel,
    HallConfig,
    Hours,
    IdRequired,
    Kiosk,
    QueueRules,
    Rating,
    Service,
    SpotCheck,
    Supervision,
    Window,
)

__all__ = [
    "MAX_WINDOW",
    "SCHEMA_VERSION",
    "Assessment",
    "Audit",
    "Backend",
    "Calendar",
    "CaseType",
    "Center",
    "ChecklistItem",
    "Citizen",
    "ComplaintCategory",
    "ConfigError",
    "Department",
    "Disclosure",
    "GreenChannel",
    "HallConfig",
    "Hours",
    "IdRequired",
    "Kiosk",
    "QueueRules",
    "Rating",
    "Service",
    "SpotCheck",
    "Supervision",
    "Window",
    "load_config",
    "parse_config",
]
