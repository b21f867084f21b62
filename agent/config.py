"""`agent.toml`: which hub, which token, and the devices on this Pi. Strict like the hall file."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import msgspec

from devices.regmap import CallerKey
from hub.config import ConfigError
from hub.tls.client import check_hub_url, pinned_ca


class _Strict(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Unknown keys rejected, values read-only. Each section says frozen=True again: a type
    checker reads it per class (PEP 681), msgspec inherits it anyway."""


class BusDevice(_Strict, frozen=True, kw_only=True):
    kind: Literal["rating", "caller", "led"]
    address: int  # Modbus slave address, 1-247
    window: int


class Bus(_Strict, frozen=True, kw_only=True):
    """One RS-485 line with Modbus RTU devices on it."""

    port: str  # /dev/serial/by-id/... or a pyserial URL
    baud: int = 9600
    poll_interval_ms: int = 100
    reply_timeout_ms: int = 100
    devices: list[BusDevice]


class ByteKeypad(_Strict, frozen=True, kw_only=True):
    """A cheap USB-serial keypad that sends one byte per key."""

    port: str
    baud: int = 9600
    window: int
    kind: Literal["rating", "caller"]
    keymap: dict[str, str]  # byte ("0x31" or "1") -> key name, or a level "1".."5" for rating


class Voice(_Strict, frozen=True, kw_only=True):
    """The announcer role: this Pi's speaker says every call and recall in its scope."""

    windows: list[int] = []  # announce only these windows; or
    zones: list[str] = []  # only windows whose `zone` (hall file) is one of these; neither: all
    voice: str = ""  # an espeak-ng Mandarin voice id; "" chooses one
    rate: int = 150  # words per minute, 80-450
    english: bool = True  # then the English sentence
    chime: bool = True  # a ding-dong first
    repeat: int = 1  # how many times the sentence(s) are said, 1-3
    max_pending: int = 5  # calls waiting beyond this: the oldest non-recalls are dropped
    player: Literal["aplay", "dir"] = "aplay"
    device: str = ""  # aplay -D DEVICE (e.g. "hw:0", "plughw:1,0"); "" = ALSA default
    dir: str = ""  # player = "dir": write each announcement's WAV here instead of playing


class Printer(_Strict, frozen=True, kw_only=True):
    """A receipt printer: the kiosk's tickets (with `kiosk` set), and/or 承诺单 of `windows`."""

    target: str  # /dev/usb/lp0, /dev/serial/by-id/..., socket://10.0.0.50:9100, or a file
    paper: Literal["58mm", "80mm"] = "80mm"
    baud: int = 9600  # serial printers only
    windows: list[int] = []  # print the commitment slips finished at these windows
    # A printer that does not answer the real-time status request (DLE EOT) fails the job.
    # Unset: required on a serial port or network printer, not on /dev/usb/lp0 or a file.
    require_status: bool | None = None
    status_interval_s: float = 15.0  # ask the printer's state this often between jobs


class Scanner(_Strict, frozen=True, kw_only=True):
    """A USB barcode/QR scanner (a keyboard to the kernel), read with evdev."""

    device: str  # /dev/input/by-id/usb-...-event-kbd
    grab: bool = True  # keep its keystrokes from reaching the browser
    gap_s: float = 0.5  # a pause longer than this between keys drops a half-read code


class IdReader(_Strict, frozen=True, kw_only=True):
    """The kiosk's ID card reader (刷身份证取号): a SAM reader on USB-serial (GA 467-2013), or
    one that types the number like a keyboard (read with evdev, as the scanner)."""

    device: str  # sam: /dev/serial/by-id/...; keyboard: /dev/input/by-id/...-event-kbd
    kind: Literal["sam", "keyboard"] = "sam"
    baud: int = 115200  # sam
    poll_ms: int = 300  # sam: how often it asks whether a card is on it
    grab: bool = True  # keyboard: keep its keystrokes from reaching the browser
    gap_s: float = 0.5  # keyboard: a pause longer than this between keys drops a half number


class AgentConfig(_Strict, frozen=True, kw_only=True):
    name: str
    hub: str = "http://127.0.0.1:8080"
    # The hall's CA (ca.pem, `onestop ca init`) the hub's certificate must be signed by, for an
    # https:// hub; else ONESTOP_CA_FILE. Only this CA is trusted, not the system's.
    ca_file: str = ""
    token: str = ""  # better: token_file, or ONESTOP_AGENT_TOKEN in the environment
    token_file: str = ""
    state_dir: str = "var/agent"  # the outbox of device events lives here
    buses: list[Bus] = []
    keypads: list[ByteKeypad] = []
    voice: Voice | None = None
    # the kiosk token's name of the touchscreen this Pi serves (printer, scanner, ID reader);
    # the agent's token must be bound to it (onestop token add/bind --kiosk NAME)
    kiosk: str = ""
    printer: Printer | None = None
    scanner: Scanner | None = None
    id_reader: IdReader | None = None

    def windows(self) -> list[int]:
        found = {d.window for bus in self.buses for d in bus.devices}
        found |= {k.window for k in self.keypads}
        return sorted(found)

    def ca(self) -> str:
        return pinned_ca(self.ca_file)

    def read_token(self) -> str:
        if env := os.environ.get("ONESTOP_AGENT_TOKEN"):
            return env.strip()
        if self.token_file:
            return Path(self.token_file).read_text(encoding="utf-8").strip()
        return self.token


def load_agent_config(path: str | Path) -> AgentConfig:
    path = Path(path)
    cfg = _read(path)
    for key, problem in _problems(cfg):  # the first problem stops the agent
        raise ConfigError(str(path), key, problem)
    return cfg


def _read(path: Path) -> AgentConfig:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return msgspec.convert(raw, AgentConfig, strict=True)
    except OSError as err:
        raise ConfigError(str(path), "", f"cannot read: {err.strerror}") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(str(path), "", f"not valid TOML: {err}") from err
    except msgspec.ValidationError as err:
        reason, _, where = str(err).partition(" - at `$")
        raise ConfigError(str(path), where.rstrip("`").lstrip("."), reason) from err


def _problems(cfg: AgentConfig) -> Iterator[tuple[str, str]]:
    """What the schema cannot say, as (key, problem), in the order they are reported."""
    if problem := check_hub_url(cfg.hub, cfg.ca()):
        yield "ca_file", problem
    for i, keypad in enumerate(cfg.keypads):
        for byte, key in keypad.keymap.items():
            if problem := keymap_problem(keypad.kind, byte, key):
                yield f"keypads[{i}].keymap.{byte!r}", problem
    for i, bus in enumerate(cfg.buses):
        yield from _bus_problems(f"buses[{i}]", bus)
    if cfg.printer is not None:
        if not (cfg.kiosk or cfg.printer.windows):
            yield "printer", "set kiosk = NAME, or printer.windows"
        if not 1 <= cfg.printer.status_interval_s <= 600:
            yield "printer.status_interval_s", "must be 1-600 seconds"
    if cfg.scanner is not None and not cfg.kiosk:
        yield "scanner", "a scanner needs kiosk = NAME (the kiosk's token)"
    if cfg.id_reader is not None:
        yield from _id_reader_problems(cfg.id_reader, cfg.kiosk)
    if cfg.voice is not None:
        for where, problem in [*voice_problems(cfg.voice), *voice_installed(cfg.voice)]:
            yield f"voice.{where}", problem


def _id_reader_problems(reader: IdReader, kiosk: str) -> Iterator[tuple[str, str]]:
    if not kiosk:
        yield "id_reader", "an ID card reader needs kiosk = NAME (the kiosk's token)"
    if not 50 <= reader.poll_ms <= 5000:
        yield "id_reader.poll_ms", "must be 50-5000 milliseconds"
    if reader.baud <= 0:
        yield "id_reader.baud", "must be a baud rate such as 115200"


def _bus_problems(at: str, bus: Bus) -> Iterator[tuple[str, str]]:
    for j, dev in enumerate(bus.devices):
        if not 1 <= dev.address <= 247:
            yield f"{at}.devices[{j}].address", "must be 1-247"
    addresses = [d.address for d in bus.devices]
    if len(set(addresses)) != len(addresses):
        yield f"{at}.devices", "two devices share an address"


def voice_problems(voice: Voice) -> list[tuple[str, str]]:
    """What is wrong with a [voice] section that the schema cannot say (empty: nothing)."""
    from devices.voice.synth import MAX_RATE, MIN_RATE  # noqa: PLC0415 (no espeak loaded)

    problems = []
    if voice.windows and voice.zones:
        problems.append(("zones", "give windows or zones, not both"))
    if any(w < 1 for w in voice.windows):
        problems.append(("windows", "window numbers are 1 or more"))
    if any(not z.strip() for z in voice.zones):
        problems.append(("zones", "a zone is a non-empty name, as in the hall file"))
    if not MIN_RATE <= voice.rate <= MAX_RATE:
        problems.append(("rate", f"must be {MIN_RATE}-{MAX_RATE} words per minute"))
    if not 1 <= voice.repeat <= 3:
        problems.append(("repeat", "must be 1-3"))
    if not 1 <= voice.max_pending <= 50:
        problems.append(("max_pending", "must be 1-50"))
    if voice.player == "dir" and not voice.dir:
        problems.append(("dir", 'player = "dir" needs dir = PATH'))
    if voice.player != "dir" and voice.dir:
        problems.append(("dir", 'only for player = "dir"'))
    if voice.player != "aplay" and voice.device:
        problems.append(("device", 'only for player = "aplay"'))
    return problems


def voice_installed(voice: Voice) -> list[tuple[str, str]]:
    """Whether espeak-ng can speak what [voice] asks (loads espeak-ng: only for a [voice])."""
    from devices.voice import synth  # noqa: PLC0415
    from devices.voice.text import ENGLISH_VOICE  # noqa: PLC0415

    try:
        voices = synth.available_voices()
    except Exception as err:  # no libespeak-ng, or pyttsx3 cannot load it
        return [("voice", f"espeak-ng cannot be loaded ({err}): apt install espeak-ng")]
    if voice.voice and voice.voice not in voices:
        return [("voice", f"espeak-ng voice {voice.voice!r} not installed")]
    if not voice.voice:
        try:
            synth.choose_voice(voices)
        except RuntimeError as err:
            return [("voice", str(err))]
    if voice.english and ENGLISH_VOICE not in voices:
        return [("english", f"espeak-ng voice {ENGLISH_VOICE!r} not installed")]
    return []


# The names a keymap may use: the caller keypad's keys as the hub's device desk knows them.
CALLER_KEYS = tuple(key.hub_key for key in CallerKey)


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
