"""A hall file's text: its identity (the hash `/healthz` reports), parsed and checked as at start,
and a refusal as the admin page shows it."""

from __future__ import annotations

import hashlib
import tomllib

from hub.config import ConfigError, HallConfig, parse_config


def config_hash(text: str | bytes) -> str:
    """The hall file's identity: what `/healthz` reports and `onestop reload` waits for."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()[:16]


def parse_text(text: str, file: str = "<config>") -> HallConfig:
    """A hall file's text, checked exactly as `load_config` checks a file at start."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(file, "", f"not valid TOML: {err}") from err
    return parse_config(raw, file)


def problem(err: ConfigError) -> dict[str, str]:
    """A ConfigError as the admin page shows it: the key and the reason, and the full line."""
    return {"key": err.key, "reason": err.reason, "message": str(err)}
