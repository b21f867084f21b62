"""The hall's secret keys, kept as files in the data directory (beside the store): made random
and 0600 on first use, never in the repository, the hall file or a log. The hubs of a pair
share them as they share the store (copy them).

- `poster.key`: the 扫码取号 poster's secret of the day (hub/service/take.py);
- `slip-links.key`: each 承诺单's phone link, derived from its number (hub/service/commit.py),
  so a reprint carries the link of the first print, and the ticket's page shows the same one;
- `id.key` (and `id.key.previous` after a rotation): the ID card's pseudonyms and the kiosk's
  sealed handles (hub/service/identity.py, docs/privacy.md);
- the audit archive key (hub/store/audit_archive.py).
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger(__name__)

KEY_BYTES = 32


def write_new_key(path: Path) -> None:
    """A new random key in `path`, 0600, on disk before this returns. FileExistsError if
    there is one already (another process made it a moment ago)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_hex(KEY_BYTES) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_key(path: Path, what: str) -> bytes:
    """The key in `path` (hex). `what` names it in errors and the log."""
    key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    if len(key) < 16:
        raise ValueError(f"the {what} {path} is too short")
    if path.stat().st_mode & 0o077:
        log.warning("the %s %s is readable by others: chmod 600 it", what, path)
    return key


def load_key(path: Path, what: str, create: bool = True) -> bytes:
    """The key in `path`; with `create`, a new random one if there is none yet."""
    if create and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            write_new_key(path)
        except FileExistsError:  # made by the other hub of a pair a moment ago: read it
            pass
        else:
            log.info("made the %s %s", what, path)
    return read_key(path, what)
