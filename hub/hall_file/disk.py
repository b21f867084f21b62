"""The hub's hall file on disk: read for a reload, written atomically by the admin page (the
previous version kept as a .bak beside it), and where the last SIGHUP reload's outcome is kept
for `onestop reload`."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.config import ConfigError, HallConfig

from .text import parse_text

RESULT_FILE = "reload-result.json"  # the last SIGHUP reload's outcome, for `onestop reload`
PID_FILE = "hub.pid"
HUB_FILE = "hub.json"  # the running hub's pid, hall file and address, for `onestop reload`


@dataclass
class HallFile:
    """The hub's `--config` file: read for a reload, written (atomically) by the admin page.

    `adjust` is applied to every parsed config before it runs: the demo keeps its hall open
    around the clock whatever the hours in the file say.
    """

    path: Path | None
    data_dir: Path | None = None
    adjust: Callable[[HallConfig], HallConfig] = field(default=lambda cfg: cfg)

    @property
    def writable(self) -> bool:
        return self.path is not None and os.access(self.path.parent, os.W_OK) and (
            not self.path.exists() or os.access(self.path, os.W_OK))

    def read_text(self) -> str:
        if self.path is None:
            raise ConfigError("<config>", "", "this hub was started without a hall file")
        try:
            return self.path.read_text(encoding="utf-8")
        except OSError as err:
            raise ConfigError(str(self.path), "", f"cannot read: {err.strerror}") from err
        except UnicodeDecodeError as err:
            raise ConfigError(str(self.path), "", f"not UTF-8 text (byte {err.start})") from err

    def parse(self, text: str) -> HallConfig:
        """Validate `text` as this hub's hall file (ConfigError if it cannot run)."""
        return self.adjust(parse_text(text, str(self.path or "<config>")))

    def write(self, text: str, now: dt.datetime) -> Path | None:
        """Replace the file atomically: a temporary file beside it, fsync, rename; the previous
        version is kept as `<name>.<timestamp>.bak`. A crash leaves the old or the new file,
        never half of one. Returns the backup's path (None if there was no file before)."""
        if self.path is None:
            raise OSError("this hub was started without a hall file")
        backup = None
        if self.path.exists():
            backup = self.path.with_name(f"{self.path.name}.{now:%Y%m%dT%H%M%S%f}.bak")
            backup.write_bytes(self.path.read_bytes())
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the rename itself survives a power cut
        finally:
            os.close(dir_fd)
        return backup

    def save_result(self, result: dict[str, Any]) -> None:
        """The last SIGHUP reload's outcome, where `onestop reload` reads why it was refused."""
        if self.data_dir is None:
            return
        target = self.data_dir / RESULT_FILE
        tmp = target.with_name(f".{RESULT_FILE}.tmp")
        tmp.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, target)
