"""The hall's secret keys kept as files in the data directory (beside the store): made random
and 0600 on first use, never in the repository, the hall file or a log. The hubs of a pair
share them as they share the store (copy them, like the audit archive key).

- `poster.key`: the 扫码取号 poster's secret of the day (hub/service/take.py);
- `slip-links.key`: each 承诺单's phone link, derived from its number (hub/service/commit.py),
  so a reprint carries the link of the first print, and the ticket's page shows the same one.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger(__name__)

KEY_BYTES = 32


def load_key(path: Path, what: str) -> bytes:
    """The key in `path` (hex); a new random one (0600) if there is none yet. `what` names it
    in the log."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # made by the other hub of a pair a moment ago: read it
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(secrets.token_hex(KEY_BYTES) + "\n")
                f.flush()
                os.fsync(f.fileno())
            log.info("made the %s %s", what, path)
    key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    if len(key) < 16:
        raise ValueError(f"the {what} {path} is too short")
    if path.stat().st_mode & 0o077:
        log.warning("the %s %s is readable by others: chmod 600 it", what, path)
    return key
