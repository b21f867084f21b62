"""Throwaway PostgreSQL and Redis servers on loopback, for the scale-out tests and benchmark.

Each is a real server in a temporary directory on a free port, stopped and removed at the end.
PostgreSQL refuses to run as root: when the tests run as root (`make test` on a fresh Debian
machine does), the cluster belongs to the `postgres` system user that the Debian package
creates, and initdb/pg_ctl run through `runuser`. `unavailable()` says why a server cannot be
started, so the tests skip with that reason instead of failing on a machine without them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin(name: str) -> str | None:
    """A PostgreSQL server program: Debian keeps them out of PATH, per major version."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return found[0] if found else shutil.which(name)


def _run_as() -> list[str]:
    """The prefix that runs a PostgreSQL program as a non-root user when we are root."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


def unavailable() -> str | None:
    """Why the scale-out servers cannot run here (None: they can)."""
    for name in ("initdb", "pg_ctl"):
        if pg_bin(name) is None:
            return f"PostgreSQL's {name} is not installed (scripts/system-deps.sh installs it)"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (scripts/system-deps.sh installs it)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to run the server as"
    try:
        import psycopg  # noqa: F401
        import redis  # noqa: F401
    except ImportError as err:
        return f"{err.name} is not installed: pip install -e '.[test]'"
    return None


@dataclass
class Postgres:
    """`initdb` + `pg_ctl start` in a temporary directory; `url` is a database for the hall."""

    fsync: bool = False  # tests: off (a killed hub, not a killed server, is what is tested)
    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="onestop-pg-")))

    @property
    def url(self) -> str:
        return f"postgresql://onestop@127.0.0.1:{self.port}/onestop"

    def _pg(self, *args: str) -> None:
        subprocess.run([*_run_as(), *args], check=True, capture_output=True, timeout=60)

    def start(self) -> Postgres:
        RUNNING.append(self)  # pg_ctl detaches the server: the session's last resort stops it
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        data = self.root / "data"
        self._pg(pg_bin("initdb") or "initdb", "-D", str(data), "-A", "trust", "-U", "onestop",
                 "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   f"-c fsync={'on' if self.fsync else 'off'} -c max_connections=200")
        self._pg(pg_bin("pg_ctl") or "pg_ctl", "-D", str(data), "-l", str(self.root / "log"),
                 "-w", "-t", "30", "-o", options, "start")
        import psycopg

        with psycopg.connect(f"postgresql://onestop@127.0.0.1:{self.port}/postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE onestop")
        return self

    def create_database(self, name: str) -> str:
        """Another empty database on the same server (one per test keeps tests apart)."""
        import psycopg

        with psycopg.connect(f"postgresql://onestop@127.0.0.1:{self.port}/postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://onestop@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self._pg(pg_bin("pg_ctl") or "pg_ctl", "-D", str(self.root / "data"), "-m",
                     "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
        with contextlib.suppress(ValueError):
            RUNNING.remove(self)


RUNNING: list[Postgres] = []  # started and not stopped yet (tests/leftovers.py)


@dataclass
class Redis:
    """`redis-server` on loopback, nothing saved to disk."""

    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    tls: Any = None  # tests.hubproc.HallTLS: TLS only (rediss://), with this certificate
    password: str = ""  # requirepass

    @property
    def url(self) -> str:
        secret = f":{self.password}@" if self.password else ""
        if self.tls is not None:
            return f"rediss://{secret}127.0.0.1:{self.port}/0?ssl_ca_certs={self.tls.ca}"
        return f"redis://{secret}127.0.0.1:{self.port}/0"

    def start(self) -> Redis:
        ports = ["--port", str(self.port)]
        if self.tls is not None:
            ports = ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file",
                     str(self.tls.cert), "--tls-key-file", str(self.tls.key),
                     "--tls-ca-cert-file", str(self.tls.ca), "--tls-auth-clients", "no"]
        self.proc = subprocess.Popen(
            ["redis-server", *ports, "--bind", "127.0.0.1", "--save", "",
             *(["--requirepass", self.password] if self.password else []),
             "--appendonly", "no", "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()  # not answering: not left running either
        raise TimeoutError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@contextlib.contextmanager
def postgres_or_skip() -> Iterator[Postgres]:
    """A throwaway PostgreSQL running for the `with` block, or the calling test skipped with the
    reason there is none here (pytest imported only then: the benchmarks use this module too)."""
    import pytest

    why = unavailable()
    if why:
        pytest.skip(why)
    server = Postgres()
    try:
        server.start()
    except (OSError, subprocess.SubprocessError) as err:
        server.stop()
        pytest.skip(f"cannot start PostgreSQL here: {err}")
    try:
        yield server
    finally:
        server.stop()
