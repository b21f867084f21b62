"""`agent.toml`: which hub, which token, and the devices on this Pi. Strict like the hall file."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

import msgspec

from hub.config import ConfigError


class _Strict(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class BusDevice(_Strict, kw_only=True):
    kind: Literal["rating", "caller", "led"]
    address: int  # Modbus slave address, 1-247
    window: int


class Bus(_Strict, kw_only=True):
    """One RS-485 line with Modbus RTU devices on it."""

    port: str  # /dev/serial/by-id/... or a pyserial URL
    baud: int = 9600
    poll_interval_ms: int = 100
    reply_timeout_ms: int = 100
    devices: list[BusDevice]


class ByteKeypad(_Strict, kw_only=True):
    """A cheap USB-serial keypad that sends one byte per key."""

    port: str
    baud: int = 9600
    window: int
    kind: Literal["rating", "caller"]
    keymap: dict[str, str]  # byte ("0x31" or "1") -> key name, or a level "1".."5" for rating


class AgentConfig(_Strict, kw_only=True):
    name: str
    hub: str = "http://127.0.0.1:8080"
    token: str = ""  # better: token_file, or ONESTOP_AGENT_TOKEN in the environment
    token_file: str = ""
    state_dir: str = "var/agent"  # the outbox of device events lives here
    buses: list[Bus] = []
    keypads: list[ByteKeypad] = []

    def windows(self) -> list[int]:
        found = {d.window for bus in self.buses for d in bus.devices}
        found |= {k.window for k in self.keypads}
        return sorted(found)

    def read_token(self) -> str:
        if env := os.environ.get("ONESTOP_AGENT_TOKEN"):
            return env.strip()
        if self.token_file:
            return Path(self.token_file).read_text(encoding="utf-8").strip()
        return self.token


def load_agent_config(path: str | Path) -> AgentConfig:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        cfg = msgspec.convert(raw, AgentConfig, strict=True)
    except OSError as err:
        raise ConfigError(str(path), "", f"cannot read: {err.strerror}") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(str(path), "", f"not valid TOML: {err}") from err
    except msgspec.ValidationError as err:
        reason, _, where = str(err).partition(" - at `$")
        raise ConfigError(str(path), where.rstrip("`").lstrip("."), reason) from err
    for i, keypad in enumerate(cfg.keypads):
        for byte, key in keypad.keymap.items():
            problem = keymap_problem(keypad.kind, byte, key)
            if problem:
                raise ConfigError(str(path), f"keypads[{i}].keymap.{byte!r}", problem)
    for i, bus in enumerate(cfg.buses):
        for j, dev in enumerate(bus.devices):
            if not 1 <= dev.address <= 247:
                raise ConfigError(str(path), f"buses[{i}].devices[{j}].address", "must be 1-247")
        addresses = [d.address for d in bus.devices]
        if len(set(addresses)) != len(addresses):
            raise ConfigError(str(path), f"buses[{i}].devices", "two devices share an address")
    return cfg


CALLER_KEYS = ("call-next", "recall", "skip", "pause", "transfer", "finish", "request-rating")


def key_byte(text: str) -> int:
    """A keymap key: one character ("1": its code, 0x31), or a number ("0x31", "49")."""
    if len(text) == 1:
        return ord(text)
    return int(text, 0)


def keymap_problem(kind: str, byte: str, key: str) -> str:
    try:
        value = key_byte(byte)
    except ValueError:
        return "a byte is one character, or a number such as 0x31"
    if not 0 <= value <= 255:
        return "a byte is 0-255"
    if kind == "rating" and key not in ("1", "2", "3", "4", "5"):
        return "a rating key is a level 1 (非常满意) to 5 (非常不满意)"
    if kind == "caller" and key not in CALLER_KEYS:
        return f"a caller key is one of {', '.join(CALLER_KEYS)}"
    return ""
