"""A real hub as a subprocess on a loopback port, with accounts and device tokens, for tests.

The hub runs exactly as `onestop hub` does in a hall: its own process, eventlet, SQLite on disk.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

from hub.auth import Role
from hub.children import PARENT_ENV
from hub.clock import SetClock
from hub.runtime import open_database
from hub.store.accounts import Accounts

HALL_24H = Path(__file__).parent / "data" / "hall-24h.toml"
PASSWORD = "correct-horse-9"

# The one clock of every process the suite starts (hubs, agents, forwarders, CLI commands get it
# as ONESTOP_CLOCK, set by conftest.py): a Wednesday morning in the hall's zone, running on from
# when the suite started, so no test depends on the date or the hour it runs at, and processes
# started one after another (a hub and its restart, a pair) share one timeline.
SUITE_START = dt.datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SUITE_CLOCK = SetClock(SUITE_START)


def hall_today() -> dt.date:
    """The day it is in the test hall (Asia/Shanghai) by the suite's clock."""
    assert SUITE_START.tzinfo is not None
    return SUITE_CLOCK().astimezone(SUITE_START.tzinfo).date()


def quiet_hall(directory: Path) -> Path:
    """The test hall without the kiosk's voice prompts, written in `directory`: their renderer
    is a child process that writes to the hub's log, and a test that reads the log for the
    hub's own tracebacks must read only the hub's."""
    path = directory / "hall-quiet.toml"
    path.write_text(HALL_24H.read_text(encoding="utf-8") + "\n[kiosk]\nvoice_prompts = false\n",
                    encoding="utf-8")
    return path


@dataclass(frozen=True)
class HallTLS:
    """A hall CA and a server certificate for localhost and 127.0.0.1, made by `onestop ca`."""

    ca: Path  # ca.pem: what clients pin
    cert: Path
    key: Path


def make_tls(directory: Path, days: int = 397) -> HallTLS:
    """`onestop ca init` and `onestop ca issue` in `directory`, on the system's clock: TLS
    clients check a certificate's dates against the real time, whatever clock the hub runs on
    (so a certificate made on the suite's set clock could be expired on the day tests run)."""
    env = {k: v for k, v in os.environ.items() if k != "ONESTOP_CLOCK"}
    ca_dir = directory / "ca"
    for step in (["init"], ["issue", "--host", "localhost", "--host", "127.0.0.1",
                            "--days", str(days), "--out", str(directory / "hub")]):
        subprocess.run([sys.executable, "-m", "hub.cli", "ca", *step, "--dir", str(ca_dir)],
                       check=True, env=env, capture_output=True, timeout=30)
    return HallTLS(ca_dir / "ca.pem", directory / "hub.pem", directory / "hub.key")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class HubProcess:
    data_dir: Path
    config: Path = HALL_24H
    port: int = field(default_factory=free_port)
    tokens: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    log_path: Path | None = None
    extra_args: list[str] = field(default_factory=list)
    db_url: str = ""  # postgresql://…: the store on PostgreSQL (`--db`), else SQLite in data_dir
    clock: str = ""  # `--clock SPEC` (hub/clock.py); else the suite's (ONESTOP_CLOCK)
    tls: HallTLS | None = None  # serve HTTPS with this certificate; clients pin its CA

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def verify(self) -> str | bool:
        """What this test's HTTP requests verify the hub with: the hall CA over TLS."""
        return str(self.tls.ca) if self.tls else True

    def provision(self, clerks: int = 4) -> None:
        """Staff accounts clerk1..clerkN, a supervisor, and one token per device role."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        db = open_database(self.data_dir, url=self.db_url or None)
        accounts = Accounts(db)
        now = SUITE_CLOCK()
        for i in range(1, clerks + 1):
            accounts.add_user(f"clerk{i}", PASSWORD, Role.CLERK, f"职员{i}", f"JZ{i:03d}", now)
        accounts.add_user("super", PASSWORD, Role.SUPERVISOR, "督查员", "JZ900", now)
        for role in (Role.KIOSK, Role.SCREEN, Role.AGENT):
            self.tokens[role.value] = accounts.add_token(role, f"test-{role.value}", now)
        db.close()

    def command(self, *args: str) -> list[str]:
        """How `onestop ARGS` is started (a benchmark may start it differently)."""
        return [sys.executable, "-m", "hub.cli", *args]

    def start(self, timeout_s: float = 20.0) -> HubProcess:
        """Start the hub and wait until it answers; a hub that does not is killed, not left
        running. Started from the main thread, the hub also ends when this process does, even
        killed outright (hub.children: the kernel ties that to the starting thread, and the
        scale-out tests start hubs from threads that end at once)."""
        self.log_path = self.data_dir / f"hub-{int(time.time() * 1000)}.log"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if threading.current_thread() is threading.main_thread():
            env[PARENT_ENV] = str(os.getpid())
        with open(self.log_path, "wb") as log:  # the child has its own copy of the descriptor
            self.proc = subprocess.Popen(
                self.command("--log-level", "warning",
                             *(["--clock", self.clock] if self.clock else []),
                             "hub", "--config", str(self.config),
                             "--data", str(self.data_dir), "--port", str(self.port),
                             *(["--db", self.db_url] if self.db_url else []),
                             *(["--tls-cert", str(self.tls.cert), "--tls-key", str(self.tls.key)]
                               if self.tls else []), *self.extra_args),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        try:
            self.started()
            self._wait_answering(timeout_s)
        except BaseException:
            self.kill()
            raise
        return self

    def _wait_answering(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited {self.proc.returncode}: {self.log()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=0.5, verify=self.verify).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise TimeoutError(f"hub did not start: {self.log()}")

    def started(self) -> None:
        """Called once the process exists, before waiting for it to answer."""

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    # --- HTTP helpers -------------------------------------------------------------------

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def login(self, username: str, window: int | None = None) -> str:
        body = {"username": username, "password": PASSWORD}
        if window is not None:
            body["window"] = window
        r = requests.post(f"{self.url}/api/v1/login", json=body, timeout=5, verify=self.verify)
        r.raise_for_status()
        return r.json()["token"]

    def full_ticket(self, ticket_id: str) -> dict:
        """A ticket as the office sees it (devices get it without slips and reasons)."""
        if "office" not in self.tokens:
            self.tokens["office"] = self.login("super")
        r = requests.get(f"{self.url}/api/v1/tickets/{ticket_id}",
                         headers=self.auth(self.tokens["office"]), timeout=5,
                         verify=self.verify)
        r.raise_for_status()
        return r.json()

    def issue(self, service: str = "S1", **extra) -> requests.Response:
        return requests.post(
            f"{self.url}/api/v1/tickets",
            json={"service": service, **extra},
            headers=self.auth(self.tokens["kiosk"]),
            timeout=5,
            verify=self.verify,
        )

    def act(self, token: str, window: int, action: str, **body) -> requests.Response:
        return requests.post(
            f"{self.url}/api/v1/windows/{window}/{action}",
            json=body,
            headers=self.auth(token),
            timeout=5,
            verify=self.verify,
        )


class TicketTaker:
    """A thread taking tickets at `hub` (a kiosk, as fast as the hub answers) until stopped;
    `issued` holds the ids acknowledged so far. Used as a context manager."""

    def __init__(self, hub: HubProcess) -> None:
        self.hub = hub
        self.issued: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._take, daemon=True)

    def _take(self) -> None:
        while not self._stop.is_set():
            r = self.hub.issue()
            assert r.status_code == 201, r.text
            self.issued.append(r.json()["id"])

    def __enter__(self) -> TicketTaker:
        self._thread.start()
        return self

    def wait_for(self, count: int, timeout_s: float = 30.0) -> set[str]:
        """Once `count` tickets are acknowledged: the ids so far."""
        deadline = time.monotonic() + timeout_s
        while len(self.issued) < count:
            assert time.monotonic() < deadline, f"only {len(self.issued)} tickets taken"
            time.sleep(0.01)
        return set(self.issued)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serves_restored(hub: HubProcess, tickets: set[str]) -> None:
    """Start `hub` on restored data: it has every one of `tickets`, and takes new ones."""
    hub.start()
    try:
        for ticket in sorted(tickets):
            assert hub.full_ticket(ticket)["id"] == ticket
        assert hub.issue().status_code == 201
    finally:
        hub.stop()
