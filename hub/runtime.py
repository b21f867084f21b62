"""Opening a hall: the config, the data directory, the database and the service over them."""

from __future__ import annotations

import logging
from pathlib import Path

from hub.config import HallConfig, load_config
from hub.service import HallService, Offload
from hub.store.database import Database

log = logging.getLogger(__name__)

DB_FILE = "onestop.db"


def open_database(data_dir: str | Path, synchronous: str = "FULL") -> Database:
    db = Database(Path(data_dir) / DB_FILE, synchronous=synchronous)
    applied = db.migrate()
    if applied:
        log.info("database migrated: %s", ", ".join(applied))
    return db


def open_hall(
    config: str | Path | HallConfig,
    data_dir: str | Path,
    synchronous: str = "FULL",
    offload: Offload | None = None,
) -> HallService:
    cfg = config if isinstance(config, HallConfig) else load_config(config)
    db = open_database(data_dir, synchronous)
    return HallService(cfg, db, offload=offload) if offload else HallService(cfg, db)
