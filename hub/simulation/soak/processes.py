"""The hall's processes for the soak, started as a hall starts them: `onestop hub`, `onestop
agent` (its keypads, LED screens and the kiosk's printer simulated on ptys in this process, as
`onestop sim-devices` has them) and `onestop forward`, every one on the same set clock."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyotp
import requests

from agent.config import AgentConfig
from agent.simulated import SimulatedHall
from hub.auth import AgentBinding, Role
from hub.children import PARENT_ENV
from hub.clock import SetClock
from hub.config import HallConfig
from hub.runtime import open_database
from hub.store.accounts import Accounts

PASSWORD = "Soak-day-2026!"  # the hall's policy asks 3 of 4 classes; a throwaway data dir's
KIOSK = "sim-kiosk"
SUPERVISOR = "soak-office"
# Housekeeping (ratings, alerts, the day's end) every second of real time: at 30× that is
# every 30 s of the hall's, about what a hall gets at 1× from the default 15 s.
TICK_S = "1"
RATING_REAL_S = 4.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clerk_name(window: int) -> str:
    return f"clerk{window:02d}"


def hall_file(source: Path, out: Path, backend_url: str, speed: float) -> Path:
    """The hall file with the backend's address; the kiosk's voice prompts off (their renderer
    is a child of the hub that would compete with it for the two cores, and says nothing the
    soak checks); and a rating window of at least RATING_REAL_S real seconds: a keypad counts
    whole real seconds and its agent polls it every 100 ms, so the hall's 30 s at 30× (one real
    second) would leave a citizen who presses at once at the mercy of the polls."""
    text = source.read_text(encoding="utf-8")
    floor = min(600, math.ceil(RATING_REAL_S * speed))
    text = re.sub(r"(?m)^(\[rating\][^\[]*?^timeout_s\s*=\s*)(\d+)",
                  lambda m: m.group(1) + str(max(int(m.group(2)), floor)), text, count=1)
    path = out / "hall.toml"
    path.write_text(f'{text}\n[backend]\nurl = "{backend_url}"\n\n[kiosk]\nvoice_prompts = false\n',
                    encoding="utf-8")
    return path


class Provisioned:
    """What the soak signs in with: a clerk per window, the office, and device tokens."""

    def __init__(self, data: Path, cfg: HallConfig, now: dt.datetime) -> None:
        data.mkdir(parents=True, exist_ok=True)
        accounts = Accounts(open_database(data))
        for w in cfg.windows:
            accounts.add_user(clerk_name(w.no), PASSWORD, Role.CLERK, f"职员{w.no}",
                              f"JZ{w.no:03d}", now, policy=cfg.identity)
        accounts.add_user(SUPERVISOR, PASSWORD, Role.SUPERVISOR, "督查员", "JZ900", now,
                          policy=cfg.identity)
        self.totp = accounts.enrol_totp(SUPERVISOR) if "supervisor" in cfg.identity.totp_roles \
            else ""
        # The agent's token bound to what it serves (every window, the kiosk), as a hall's is.
        bound = AgentBinding(kiosks=(KIOSK,), windows=tuple(w.no for w in cfg.windows))
        self.tokens = {role: accounts.add_token(role, name, now, binding) for role, name, binding
                       in ((Role.KIOSK, KIOSK, None), (Role.SCREEN, "sim-screen", None),
                           (Role.AGENT, "sim-agent", bound))}
        accounts.db.close()


class Process:
    """One `onestop …` child with its log; started, SIGKILLed, stopped, started again."""

    def __init__(self, name: str, args: list[str], out: Path, clock: SetClock,
                 env: dict[str, str] | None = None) -> None:
        self.name, self.args, self.out, self.clock = name, args, out, clock
        # PARENT_ENV: the child ends with the soak, even a soak killed outright
        # (hub/children.py; the kernel ties it to the starting thread, which must outlive it).
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", PARENT_ENV: str(os.getpid()),
                    **(env or {})}
        self.env.pop("ONESTOP_CLOCK", None)  # --clock says it
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.logs: list[Path] = []

    def start(self) -> Process:
        self.starts += 1
        log_path = self.out / f"{self.name}-{self.starts}.log"
        self.logs.append(log_path)
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hub.cli", "--log-level", "info", "--clock",
                 self.clock.spec(), *self.args], stdout=log, stderr=subprocess.STDOUT,
                env=self.env)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
            self.proc.wait(10)  # type: ignore[union-attr]

    def stop(self) -> None:
        if self.alive():
            self.proc.terminate()  # type: ignore[union-attr]
            try:
                self.proc.wait(15)  # type: ignore[union-attr]
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_kib(self) -> int | None:
        if not self.alive():
            return None
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():  # type: ignore[union-attr]
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return None


class Hub(Process):
    def __init__(self, config: Path, data: Path, out: Path, clock: SetClock) -> None:
        self.port = free_port()
        super().__init__("hub", ["hub", "--config", str(config), "--data", str(data),
                                 "--port", str(self.port)], out, clock,
                         {"ONESTOP_TICK_S": TICK_S})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> Hub:
        super().start()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"the hub exited: {self.logs[-1].read_text()[-2000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/healthz", timeout=1).ok:
                    return self
            time.sleep(0.1)
        self.kill()
        raise TimeoutError("the hub did not answer")

    def login(self, username: str, window: int | None = None, totp: str = "") -> str:
        body: dict = {"username": username, "password": PASSWORD}
        if window is not None:
            body["window"] = window
        if totp:
            body["otp"] = pyotp.TOTP(totp).at(self.clock())
        r = requests.post(f"{self.url}/api/v1/login", json=body, timeout=10)
        r.raise_for_status()
        return r.json()["token"]


def agent_toml(cfg: AgentConfig) -> str:
    """The agent's file for a SimulatedHall's devices (agent/config.py's keys)."""
    lines = [f'name = "{cfg.name}"', f'hub = "{cfg.hub}"', f'state_dir = "{cfg.state_dir}"',
             f'kiosk = "{cfg.kiosk}"', ""]
    for bus in cfg.buses:
        devices = ", ".join(f'{{ kind = "{d.kind}", address = {d.address}, window = {d.window} }}'
                            for d in bus.devices)
        lines += ["[[buses]]", f'port = "{bus.port}"', f"baud = {bus.baud}",
                  f"poll_interval_ms = {bus.poll_interval_ms}",
                  f"reply_timeout_ms = {bus.reply_timeout_ms}", f"devices = [{devices}]", ""]
    if cfg.printer is not None:
        lines += ["[printer]", f'target = "{cfg.printer.target}"',
                  f'paper = "{cfg.printer.paper}"',
                  f"status_interval_s = {cfg.printer.status_interval_s}", ""]
    return "\n".join(lines)


class Devices:
    """Every window's rating keypad, caller keypad and LED screen, and the kiosk's printer,
    simulated here on ptys, behind a real `onestop agent`."""

    def __init__(self, windows: list[int], hub: Hub, token: str, out: Path,
                 clock: SetClock) -> None:
        self.hall = SimulatedHall(windows, KIOSK)
        self.hall.start()
        config = out / "agent.toml"
        config.write_text(agent_toml(self.hall.agent_config(
            "sim-agent", hub.url, "", str(out / "agent-state"))), encoding="utf-8")
        self.agent = Process("agent", ["agent", "--config", str(config)], out, clock,
                             {"ONESTOP_AGENT_TOKEN": token})

    def stop(self) -> None:
        self.agent.stop()
        self.hall.stop()
