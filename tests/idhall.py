"""刷身份证取号 end to end, for the kiosk page test and the privacy grep: the test hall with the
citizen's card settings on (silent calling, an item that requires a card), a kiosk agent process
with a simulated ESC/POS printer and a simulated GA 467-2013 ID card reader on ptys, made-up
cards, and Socket.IO clients that keep everything the hub pushes them."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import socketio

from devices.sim.idcard import SimCard, SimIdReader, fictitious_card
from tests.hubproc import HALL_24H, HubProcess
from tests.waiting import eventually

# Made-up people (fictitious numbers with valid check digits). The hall day is 2026-11-25:
# 欧阳娜娜 (76) and 司马懿 (85) are elderly at `elderly_age = 65`, the others not.
ZHANG = fictitious_card("张三丰", dt.date(1990, 5, 17), seq=11)
OUYANG = fictitious_card("欧阳娜娜", dt.date(1950, 3, 2), seq=22, region="210702")
LI = fictitious_card("李四", dt.date(1985, 1, 1), seq=33, region="310101")
SIMA = fictitious_card("司马懿", dt.date(1941, 8, 8), seq=44, region="440305")
DAMAGED = fictitious_card("赵六", dt.date(1970, 1, 1), seq=55, damaged=True)
REQUIRED_ITEM = "S3"  # 户口迁移: only with a card

IDENTITY = """[identity]
totp_roles = []
# The citizen's ID card at the kiosk (刷身份证取号)
elderly_age = 65
open_per_item = 1
per_day = 3
accept_expired_cards = false
link_days = 30
silent_calling = {silent}
"""


def id_hall(directory: Path, *, silent_calling: bool = True, backend_url: str = "") -> Path:
    """The test hall with the card settings, item S3 requiring a card, and (given) a backend."""
    text = HALL_24H.read_text(encoding="utf-8")
    text = text.replace("[identity]\ntotp_roles = []\n",
                        IDENTITY.format(silent="true" if silent_calling else "false"), 1)
    text = text.replace(f'code = "{REQUIRED_ITEM}"\n',
                        f'code = "{REQUIRED_ITEM}"\nid_required = "required"\n', 1)
    text += "\n[kiosk]\nvoice_prompts = false\n"
    if backend_url:
        text += f'\n[backend]\nurl = "{backend_url}"\nbatch_size = 50\ntimeout_s = 5\n' \
                "max_backoff_s = 1\n"
    path = directory / "hall-id.toml"
    path.write_text(text, encoding="utf-8")
    return path


def start_kiosk_agent(directory: Path, hub: HubProcess, printer_path: str, reader: SimIdReader,
                      *, log_level: str = "info") -> subprocess.Popen:
    """The kiosk's agent: its printer and its ID card reader (`[id_reader]`), kiosk test-kiosk."""
    return run_kiosk_agent(directory, hub.url, hub.tokens["agent"], reader,
                           printer_path=printer_path, log_level=log_level)


def run_kiosk_agent(directory: Path, url: str, token: str, reader: SimIdReader, *,
                    printer_path: str | None = None, kiosk: str = "test-kiosk",
                    log_level: str = "info") -> subprocess.Popen:
    """A kiosk's agent process for the hub at `url`: its ID card reader, and its printer if
    given; logging to DIR/agent.log, its outbox in DIR/agent."""
    printer = "" if printer_path is None else f"""
[printer]
target = "{printer_path}"
paper = "80mm"
status_interval_s = 1
"""
    config = directory / "agent.toml"
    config.write_text(f"""
name = "kiosk-pi"
hub = "{url}"
state_dir = "{directory / 'agent'}"
kiosk = "{kiosk}"
{printer}
[id_reader]
device = "{reader.path}"
poll_ms = 50
""", encoding="utf-8")
    log = open(directory / "agent.log", "ab")  # noqa: SIM115 - the child keeps its own copy
    return subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "--log-level", log_level, "agent", "--config",
         str(config)], stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "ONESTOP_AGENT_TOKEN": token, "PYTHONUNBUFFERED": "1"})


class Recorder:
    """A Socket.IO client of one namespace that keeps every message the hub pushes it, and
    every answer it got, for the tests to read and the privacy grep to search."""

    def __init__(self, url: str, namespace: str, auth: dict[str, Any]) -> None:
        self.namespace = namespace
        self.sio = socketio.Client(reconnection=False)
        self.got: list[tuple[str, Any]] = []
        self.lock = threading.Lock()
        self.sio.on("*", self._keep, namespace=namespace)
        self.sio.connect(url, namespaces=[namespace], auth=auth, transports=["websocket"],
                         wait_timeout=5)

    def _keep(self, event: str, *args: Any) -> None:
        with self.lock:
            self.got.append((event, args[0] if len(args) == 1 else list(args)))

    def call(self, event: str, data: Any = None) -> Any:
        answer = self.sio.call(event, data if data is not None else {},
                               namespace=self.namespace, timeout=10)
        with self.lock:
            self.got.append((f"ack:{event}", answer))
        return answer

    def pushed(self, name: str) -> list[Any]:
        with self.lock:
            return [d for n, d in self.got if n == name]

    def dump(self) -> bytes:
        """Everything received, as JSON both ways a page could read it (escaped and not)."""
        with self.lock:
            got = list(self.got)
        return (json.dumps(got, ensure_ascii=False) + json.dumps(got)).encode("utf-8")

    def close(self) -> None:
        self.sio.disconnect()


def swipe(reader: SimIdReader, card: SimCard, kiosk: Recorder) -> dict[str, Any]:
    """Place `card` on the reader and take it off: what the kiosk's page was pushed."""
    before = len(kiosk.pushed("identity"))
    reader.insert(card)
    eventually(lambda: len(kiosk.pushed("identity")) > before, what="the identity push")
    reader.remove()
    seen = reader.stats["commands"]
    eventually(lambda: reader.stats["commands"] > seen + 3, what="the reader polled empty")
    return kiosk.pushed("identity")[before]
