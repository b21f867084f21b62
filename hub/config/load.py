"""Reading a hall file: TOML, then the schema, then the cross-checks; the first problem found
stops the load with the file, the key and the reason (ConfigError)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import msgspec

from .checks import cross_check
from .schema import HallConfig


class ConfigError(ValueError):
    """A hall configuration that cannot run: names the file, the key and the reason."""

    def __init__(self, file: str, key: str, reason: str) -> None:
        self.file, self.key, self.reason = file, key, reason
        super().__init__(f"{file}: {key}: {reason}" if key else f"{file}: {reason}")


def load_config(path: str | Path) -> HallConfig:
    """Read, type-check and cross-check a hall file; raise ConfigError naming what is wrong."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(str(path), "", f"cannot read: {err.strerror}") from err
    except UnicodeDecodeError as err:
        raise ConfigError(str(path), "", f"not UTF-8 text (byte {err.start})") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(str(path), "", f"not valid TOML: {err}") from err
    return parse_config(raw, str(path))


def parse_config(raw: dict, file: str = "<config>") -> HallConfig:
    try:
        cfg = msgspec.convert(raw, HallConfig, strict=True)
    except msgspec.ValidationError as err:
        reason, _, where = str(err).partition(" - at `$")
        key = where.rstrip("`").lstrip(".")
        raise ConfigError(file, key, reason.replace("`", "")) from err
    problems = list(cross_check(cfg))
    if problems:
        key, reason = problems[0]
        raise ConfigError(file, key, reason)
    return cfg
