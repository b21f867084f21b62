"""Opening a hall: the config, the data directory, the database and the service over them."""

from __future__ import annotations

import logging
from pathlib import Path

from hub.clock import Clock, system_clock
from hub.config import HallConfig, load_config
from hub.service import HallService, Offload
from hub.store.database import Database

log = logging.getLogger(__name__)

DB_FILE = "onestop.db"


def open_database(
    data_dir: str | Path, synchronous: str = "FULL", url: str | None = None
) -> Database:
    """The hall's database, migrated: SQLite in `data_dir` by default; PostgreSQL when `url`
    is a `postgresql://` URL (several hubs on one database; hub/store/postgres.py)."""
    if url:
        from hub.store.postgres import (  # noqa: PLC0415 - psycopg: the optional extra `pg`
            PgDatabase,
            is_postgres_url,
        )

        if not is_postgres_url(url):
            raise ValueError(f"--db: not a postgresql:// URL: {url.split('@')[-1]!r}")
        db: Database = PgDatabase(url, synchronous, files=data_dir)  # type: ignore[assignment]
    else:
        db = Database(Path(data_dir) / DB_FILE, synchronous=synchronous)
    applied = db.migrate()
    if applied:
        log.info("database migrated: %s", ", ".join(applied))
    from hub.store.accounts import Accounts  # noqa: PLC0415 - after the tables exist

    if adopted := Accounts(db).adopt_photo_files(Path(data_dir) / "photos"):
        log.info("copied %d badge photo(s) from %s into the store", adopted,
                 Path(data_dir) / "photos")
    return db


def open_hall(
    config: str | Path | HallConfig,
    data_dir: str | Path,
    synchronous: str = "FULL",
    offload: Offload | None = None,
    url: str | None = None,
    clock: Clock | None = None,
) -> HallService:
    cfg = config if isinstance(config, HallConfig) else load_config(config)
    db = open_database(data_dir, synchronous, url)
    if offload:
        return HallService(cfg, db, clock=clock or system_clock, offload=offload)
    return HallService(cfg, db, clock=clock or system_clock)
