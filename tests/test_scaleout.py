"""Scale-out and high availability: two hub processes on one PostgreSQL store, with
Redis as Flask-SocketIO's message queue, against real servers started on loopback.

- call-next from both hubs at the same instant never hands out the same ticket;
- a screen connected to hub B sees a call made on hub A, exactly once;
- kill -9 one hub mid-burst behind a real nginx running the shipped deploy/nginx/onestop.conf:
  the other goes on, screens and agents reconnect to it through nginx within 3 s, and no
  acknowledged ticket, rating or event is lost (no gap, no duplicate in the outbox);
- migrations apply on PostgreSQL, `onestop db migrate --db` is idempotent;
- of two `onestop forward` processes only one delivers; the other takes over when it dies.

Skipped, with the reason, only when PostgreSQL or Redis cannot be started here (and the nginx
tests when nginx is not installed).
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from hub.auth import Role
from hub.runtime import open_database
from hub.store.accounts import Accounts
from hub.store.database import available_migrations, split_statements
from tests.cereceiver import Receiver
from tests.hubproc import (
    HALL_24H,
    PASSWORD,
    SUITE_CLOCK,
    HallTLS,
    HubProcess,
    free_port,
    make_tls,
)
from tests.pgredis import Postgres, Redis, unavailable
from tests.waiting import eventually

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

WHY_NOT = unavailable()
REQUEST_TIMEOUT_S = 3.0


@pytest.fixture(scope="module")
def servers():
    if WHY_NOT:
        pytest.skip(WHY_NOT)
    pg, redis = Postgres(), Redis()
    try:
        pg.start()
        redis.start()
    except (OSError, subprocess.SubprocessError) as err:
        pg.stop()
        redis.stop()
        detail = getattr(err, "stderr", b"") or b""
        pytest.skip(f"cannot start PostgreSQL or Redis here: {err} {detail[-300:]!r}")
    yield pg, redis
    pg.stop()
    redis.stop()


def make_pair(servers, tmp_path: Path, name: str) -> tuple[HubProcess, HubProcess, str]:
    pg, redis = servers
    url = pg.create_database(f"{name}_{uuid.uuid4().hex[:8]}")
    args = ["--message-queue", redis.url]
    a = HubProcess(tmp_path / "a", db_url=url, extra_args=args)
    a.provision()
    b = HubProcess(tmp_path / "b", db_url=url, extra_args=args, tokens=a.tokens)
    b.data_dir.mkdir(parents=True, exist_ok=True)
    return a, b, url


@pytest.fixture
def pair(servers, tmp_path):
    a, b, url = make_pair(servers, tmp_path, "pair")
    starters = [threading.Thread(target=h.start) for h in (a, b)]
    for t in starters:
        t.start()
    for t in starters:
        t.join()
    yield a, b, url
    for h in (a, b):
        h.stop()


def rows(url: str, sql: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def check_outbox(url: str) -> list[tuple]:
    """The events table: seq 1..N without a gap, unique ids; returns (seq, id, type, ticket)."""
    found = rows(url, "SELECT seq, id, type, ticket_id, data FROM events ORDER BY seq")
    assert [r[0] for r in found] == list(range(1, len(found) + 1)), "gap or repeat in seq"
    assert len({r[1] for r in found}) == len(found), "an event id twice"
    return found


# --- (d) migrations ---------------------------------------------------------------------


def test_migrations_apply_on_postgresql_and_migrate_is_idempotent(servers, tmp_path):
    pg, _ = servers
    url = pg.create_database(f"mig_{uuid.uuid4().hex[:8]}")
    cmd = [sys.executable, "-m", "hub.cli", "db", "migrate", "--data", str(tmp_path), "--db", url]
    first = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    latest = available_migrations()[-1][0]
    assert f"schema version {latest}" in first.stdout
    again = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and f"schema version {latest}" in again.stdout, again.stderr
    versions = [r[0] for r in rows(url, "SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == [v for v, _, _ in available_migrations()]
    seq_type = rows(url, "SELECT data_type FROM information_schema.columns "
                         "WHERE table_name = 'events' AND column_name = 'seq'")
    assert seq_type == [("bigint",)]
    assert not (tmp_path / "onestop.db").exists()  # nothing written to SQLite


def test_migrations_have_no_question_mark_inside_a_string_literal():
    """The PostgreSQL Tx turns every `?` into `%s`: one inside a literal would break."""
    pytest.importorskip("psycopg")
    from hub.store.postgres import literal_question_marks

    for _, name, sql in available_migrations():
        for dialect in ("sqlite", "postgresql"):
            for statement in split_statements(sql, dialect):
                assert not literal_question_marks(statement), (name, statement)


def test_a_failing_statement_rolls_the_whole_transaction_back(servers, tmp_path):
    """Transactions run in pipeline mode (statements are not waited for one by one): a failing
    statement whose answer was never read still fails the transaction, at COMMIT at the latest,
    and nothing of it is kept; the connection then serves the next one."""
    import psycopg

    pg, _ = servers
    db = open_database(tmp_path, url=pg.create_database(f"tx_{uuid.uuid4().hex[:8]}"))
    insert = ("INSERT INTO events (seq, id, type, at, day, actor, addr, data) "
              "VALUES (?, ?, 'test', '2026-01-01T00:00:00+00:00', '2026-01-01', 'test', '', '{}')")
    try:
        with db.transaction() as tx:
            tx.execute(insert, (1, "first"))
        with pytest.raises(psycopg.errors.UniqueViolation), db.transaction() as tx:
            tx.execute(insert, (2, "kept only if the transaction were not rolled back"))
            tx.execute(insert, (1, "a second seq 1"))  # never read: fails at COMMIT
        assert [tuple(r) for r in db.query("SELECT seq, id FROM events")] == [(1, "first")]
        with db.transaction() as tx:
            tx.execute(insert, (2, "second"))
        assert [r[0] for r in db.query("SELECT seq FROM events ORDER BY seq")] == [1, 2]
    finally:
        db.close()


def test_account_changes_on_postgresql_count_what_they_changed(servers, tmp_path):
    """In pipeline mode a cursor's rowcount is -1: a password change for nobody must still be
    refused, and a revocation must say how many tokens it revoked (`onestop token revoke`)."""
    from hub.store.accounts import AccountError

    pg, _ = servers
    db = open_database(tmp_path, url=pg.create_database(f"acc_{uuid.uuid4().hex[:8]}"))
    try:
        accounts = Accounts(db)
        now = SUITE_CLOCK()
        accounts.add_user("li", PASSWORD, Role.CLERK, "李", "JZ001", now)
        accounts.set_password("li", "another-password-1", now)
        with pytest.raises(AccountError, match="no user"):
            accounts.set_password("nobody", "another-password-1", now)
        for _ in range(2):
            accounts.add_token(Role.SCREEN, "hall-1F", now)
        assert accounts.revoke_tokens(Role.SCREEN, "hall-1F", now) == 2
        assert accounts.revoke_tokens(Role.SCREEN, "hall-1F", now) == 0
    finally:
        db.close()


def run_for(threads: list[threading.Thread], stop: threading.Event, seconds: float,
            until: Callable[[], bool] = lambda: True, at_most_s: float = 120.0) -> None:
    """Start `threads`, let them run `seconds` and on `until` they have done enough (a loaded
    machine is slower, not wrong: the work asked for is counted, never a rate), then `stop`
    them and wait for each."""
    for t in threads:
        t.start()
    try:
        time.sleep(seconds)
        deadline = time.monotonic() + at_most_s
        while not until() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        for t in threads:
            t.join(30)


# --- (a) call-next from both hubs at once -----------------------------------------------


def test_two_hubs_never_call_the_same_ticket(pair):
    a, b, url = pair
    hubs = (a, b)
    clerks = {w: a.login(f"clerk{w}", w) for w in (1, 2, 3)}  # sessions live in the store
    issued: list[dict] = []
    called: list[tuple[int, str]] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def kiosk(i: int) -> None:
        rng = random.Random(i)
        while not stop.is_set():
            hub = hubs[rng.randrange(2)]
            r = hub.issue(rng.choice(("S1", "S2", "S3")))
            with lock:
                (issued.append(r.json()) if r.status_code == 201
                 else errors.append(f"issue {r.status_code} {r.text[:200]}"))

    def clerk(window: int, i: int) -> None:
        # Two threads per window, one on each hub, racing: call-next then finish.
        hub = hubs[i % 2]
        while not stop.is_set():
            r = hub.act(clerks[window], window, "call-next")
            if r.ok:
                for e in r.json()["events"]:
                    if e["type"] == "ticket.called":
                        with lock:
                            called.append((e["seq"], e["data"]["ticket_id"]))
                hub.act(clerks[window], window, "finish", outcome="immediate")
            elif r.status_code == 409:
                time.sleep(0.002)  # queue empty, or the other thread's ticket is in service
            else:
                with lock:
                    errors.append(f"call-next {r.status_code} {r.text[:200]}")

    threads = [threading.Thread(target=kiosk, args=(i,)) for i in range(6)]
    threads += [threading.Thread(target=clerk, args=(w, i)) for w in (1, 2, 3) for i in range(4)]
    run_for(threads, stop, 5, until=lambda: len(issued) > 50 and len(called) > 20)
    assert not errors, errors[:5]
    assert len(issued) > 50 and len(called) > 20, (len(issued), len(called))
    tickets = [t for _, t in called]
    assert len(tickets) == len(set(tickets)), "a ticket was called twice"
    log = check_outbox(url)
    in_log = Counter(r[3] for r in log if r[2] == "ticket.called")
    assert all(n == 1 for n in in_log.values()), "a ticket.called twice in the outbox"
    assert set(tickets) == set(in_log)
    numbers = [t["number"] for t in issued]
    assert len(numbers) == len(set(numbers)), "a number handed out twice"
    stored = dict(rows(url, "SELECT id, number FROM tickets"))
    assert all(stored.get(t["id"]) == t["number"] for t in issued)
    assert len(stored) == len(issued)  # every ticket accounted for, none extra


# --- (b) a screen on hub B sees a call made on hub A ------------------------------------


class Screen:
    """A python-socketio client that records snapshots and events, with their arrival time."""

    def __init__(self, url: str, namespace: str, token: str, reconnect: bool = False,
                 verify: str | bool = True, **auth: Any) -> None:
        session = requests.Session()
        session.verify = verify  # the hall CA, through nginx's TLS
        self.client = socketio.Client(
            reconnection=reconnect, reconnection_delay=0.1, reconnection_delay_max=0.5,
            randomization_factor=0.0, http_session=session,
        )
        self.namespace = namespace
        self.snapshots: list[tuple[float, dict]] = []
        self.events: list[tuple[float, dict]] = []
        self.client.on("snapshot", lambda d: self.snapshots.append((time.monotonic(), d)),
                       namespace=namespace)
        self.client.on("event", lambda d: self.events.append((time.monotonic(), d)),
                       namespace=namespace)
        self.client.connect(url, namespaces=[namespace], transports=["websocket"],
                            auth={"token": token, **auth}, wait_timeout=5)

    def wait_for(self, predicate, timeout_s: float = 5.0) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for _, e in list(self.events):
                if predicate(e):
                    return e
            time.sleep(0.01)
        raise AssertionError(f"no such event in {len(self.events)} received")

    def call(self, event: str, data: Any) -> Any:
        return self.client.call(event, data, namespace=self.namespace, timeout=2)

    def close(self) -> None:
        self.client.disconnect()


def test_screen_on_hub_b_sees_a_call_on_hub_a_exactly_once(pair):
    a, b, _ = pair
    screen_b = Screen(b.url, "/display", b.tokens["screen"])
    screen_a = Screen(a.url, "/display", a.tokens["screen"])
    try:
        ticket = a.issue("S1").json()
        assert b.full_ticket(ticket["id"])["number"] == ticket["number"]  # B caught up on read
        clerk = a.login("clerk1", 1)
        r = a.act(clerk, 1, "call-next")
        assert r.ok, r.text
        seq = next(e["seq"] for e in r.json()["events"] if e["type"] == "ticket.called")
        got = screen_b.wait_for(lambda e: e["type"] == "ticket.called")
        assert got["data"]["ticket_id"] == ticket["id"] and got["seq"] == seq
        screen_a.wait_for(lambda e: e["seq"] == seq)
        # And the other way round, with a fresh snapshot on B that already has the call.
        r = b.act(clerk, 1, "finish", outcome="immediate")
        assert r.ok, r.text
        done = next(e["seq"] for e in r.json()["events"] if e["type"] == "ticket.finished")
        screen_a.wait_for(lambda e: e["seq"] == done)
        time.sleep(1.0)  # anything doubled would have arrived by now
        for screen in (screen_a, screen_b):
            seqs = [e["seq"] for _, e in screen.events]
            assert len(seqs) == len(set(seqs)), f"an event delivered twice: {seqs}"
            assert seq in seqs and done in seqs
        late = Screen(b.url, "/display", b.tokens["screen"])
        try:
            deadline = time.monotonic() + 5
            while not late.snapshots and time.monotonic() < deadline:
                time.sleep(0.01)
            assert late.snapshots[0][1]["seq"] >= done  # B's snapshot is not stale
        finally:
            late.close()
    finally:
        screen_a.close()
        screen_b.close()


def test_one_redis_message_per_commit_and_none_for_a_snapshot(servers, pair):
    """hub/web/message_queue.py: a call-next's dozen emits reach the other hubs as one Redis
    message, in order; a screen's snapshot (to that one client) is not published at all."""
    import json

    import redis as redis_lib

    _, redis = servers
    a, _, _ = pair
    ticket = a.issue("S1").json()
    clerk = a.login("clerk1", 1)
    time.sleep(1.0)  # the office's totals of that ticket are pushed by now (every 0.5 s)
    listener = redis_lib.Redis.from_url(redis.url).pubsub(ignore_subscribe_messages=True)
    listener.subscribe("flask-socketio")

    def published(seconds: float) -> list[dict]:
        """What the hubs published meanwhile for the screens and pages."""
        found, end = [], time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            m = listener.get_message(timeout=left)
            data = json.loads(m["data"]) if m is not None else {}
            # Not the office's totals nor what the hubs tell each other (printers, every 10 s).
            if data and data.get("event") != "totals" and data.get("method") != "onestop_peers":
                found.append(data)
        return found

    try:
        assert published(0.5) == []
        screen = Screen(a.url, "/display", a.tokens["screen"])
        try:
            assert screen.snapshots
            assert published(0.5) == [], "a snapshot went through Redis"
            r = a.act(clerk, 1, "call-next")
            assert r.ok, r.text
            got = published(1.0)
        finally:
            screen.close()
    finally:
        listener.close()
    assert len(got) == 1, got  # one message for the whole commit
    batch = got[0]
    assert batch["method"] == "onestop_batch"
    emits = [(m["namespace"], m["event"]) for m in batch["messages"]]
    assert emits[-1] == ("/kiosk", "status")  # the kiosks' tiles after the events
    assert len(emits) > 5
    called = [m["data"][0] for m in batch["messages"]
              if m["namespace"] == "/display" and m["data"][0].get("type") == "ticket.called"]
    assert len(called) == 1 and called[0]["data"]["ticket_id"] == ticket["id"]


def test_office_monitor_on_hub_b_gets_the_totals_of_tickets_issued_on_hub_a(pair):
    """Hub A has no monitor of its own, yet pushes the totals: hub B's office is watching."""
    a, b, _ = pair
    totals: list[dict] = []
    office = socketio.Client(reconnection=False)
    office.on("totals", totals.append, namespace="/monitor")
    office.connect(b.url, namespaces=["/monitor"], transports=["websocket"],
                   auth={"token": b.login("super")}, wait_timeout=5)
    try:
        for _ in range(3):
            assert a.issue("S1").status_code == 201
        deadline = time.monotonic() + 5
        while not (totals and totals[-1]["issued"] == 3) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert totals and totals[-1]["issued"] == 3, totals[-1:]
    finally:
        office.disconnect()


# --- (c) failover -----------------------------------------------------------------------


NGINX_SHIPPED = Path(__file__).parents[1] / "deploy" / "nginx" / "onestop.conf"


def nginx_binary() -> str:
    """The nginx executable, or skip the test: nothing else here needs nginx."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                      else None)
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx: scripts/system-deps.sh)")
    return nginx


def shipped_with_test_certificate(site: str, tls: HallTLS) -> str:
    """The shipped config with a test's certificate in place of /etc/onestop/hub.*."""
    for shipped, made in (("/etc/onestop/hub.pem;", f"{tls.cert};"),
                          ("/etc/onestop/hub.key;", f"{tls.key};")):
        assert site.count(shipped) == 1, f"the shipped config no longer names {shipped}"
        site = site.replace(shipped, made)
    return site


def write_nginx_conf(tmp_path: Path, site: str) -> Path:
    """A main nginx.conf in tmp_path (pid, logs, temp files all in there) that includes `site`,
    an `http {}`-level snippet like the shipped onestop.conf; returns its path."""
    (tmp_path / "onestop.conf").write_text(site)
    # Run as root, nginx's workers would switch to nobody, who cannot enter tmp_path.
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = tmp_path / "nginx.conf"
    main.write_text(f"{user}pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
                    f"worker_processes 1;\n"
                    f"events {{}}\nhttp {{\n  access_log off;\n"
                    f"  client_body_temp_path {tmp_path}/body;\n"
                    f"  proxy_temp_path {tmp_path}/proxy;\n"
                    f"  fastcgi_temp_path {tmp_path}/fastcgi;\n"
                    f"  uwsgi_temp_path {tmp_path}/uwsgi;\n"
                    f"  scgi_temp_path {tmp_path}/scgi;\n"
                    f"  include {tmp_path}/onestop.conf;\n}}\n")
    return main


class Nginx:
    """A real nginx, in the foreground as a child process, running the shipped
    deploy/nginx/onestop.conf with only what a test must change: it listens on free loopback
    ports (TLS, with a certificate from `onestop ca`, and the plain one that redirects), its two
    upstream servers are the two hubs (their max_fails/fail_timeout kept), and `location /`
    names the hub that answered in an X-Onestop-Upstream header."""

    def __init__(self, tmp_path: Path, hub_ports: list[int]) -> None:
        nginx = nginx_binary()
        self.dir = tmp_path / "nginx"
        self.dir.mkdir()
        self.port, self.plain_port = free_port(), free_port()
        tls = make_tls(self.dir / "tls")
        self.verify = str(tls.ca)
        site = shipped_with_test_certificate(NGINX_SHIPPED.read_text(), tls)
        site = self._replace(site, "listen 443 ssl;", f"listen 127.0.0.1:{self.port} ssl;")
        site = self._replace(site, "listen 80;", f"listen 127.0.0.1:{self.plain_port};")
        for shipped, port in zip((8080, 8082), hub_ports, strict=True):
            site = self._replace(site, f"server 127.0.0.1:{shipped} ",
                                 f"server 127.0.0.1:{port} ")
        site = self._replace(site, "/var/log/nginx/onestop-access.log",
                             str(self.dir / "access.log"), count=2)  # the 80 and 443 servers
        location = "    location / {\n"
        site = self._replace(site, location, location
                             + "        add_header X-Onestop-Upstream $upstream_addr always;\n")
        main = write_nginx_conf(self.dir, site)
        self.proc = subprocess.Popen(
            [nginx, "-c", str(main), "-p", str(self.dir), "-e", str(self.dir / "error.log"),
             "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited {self.proc.returncode}: {self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise TimeoutError(f"nginx did not listen: {self.log()}") from None
                time.sleep(0.05)

    @staticmethod
    def _replace(text: str, old: str, new: str, count: int = 1) -> str:
        assert text.count(old) == count, f"the shipped config no longer has {count} {old!r}"
        return text.replace(old, new)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def upstream_port(self) -> int:
        """The hub that nginx sends this (loopback) client to: its address hash decides.
        $upstream_addr lists every hub nginx tried, comma-separated: the last one answered."""
        r = requests.get(f"{self.url}/healthz", timeout=5, verify=self.verify)
        assert r.ok, r.text
        return int(r.headers["X-Onestop-Upstream"].rsplit(":", 1)[1])

    def log(self) -> str:
        path = self.dir / "error.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # fast shutdown: open websockets are not waited for
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@dataclass
class Ledger:
    lock: threading.Lock = field(default_factory=threading.Lock)
    tickets: dict[str, dict] = field(default_factory=dict)  # acknowledged issues
    events: dict[int, str] = field(default_factory=dict)  # acknowledged seq -> event id
    ratings: dict[str, int] = field(default_factory=dict)  # ticket id -> level acknowledged
    retries: int = 0
    unexpected: list[str] = field(default_factory=list)


# nginx's answer when the hub it sent a request to died with it (502) or did not answer (504):
# the request may have committed there, so it is sent again (kiosks with their request_id).
FRONT_FAILED = {502, 504}


def with_failover(urls: list[str], ledger: Ledger, send) -> requests.Response | None:
    """`send(url)` on the first hub, on the other one if the first does not answer; through
    nginx (`urls` is just nginx), again to nginx, which sends it to a hub still alive."""
    for attempt in range(6):
        try:
            r = send(urls[attempt % len(urls)])
        except requests.RequestException:
            r = None
        if r is not None and r.status_code not in FRONT_FAILED:
            return r
        with ledger.lock:
            ledger.retries += 1
        time.sleep(0.05)
    if r is not None:  # nginx still failing after six tries: it did not fail over
        with ledger.lock:
            ledger.unexpected.append(f"nginx {r.status_code} six times")
    return None


class _Burst:
    """The failover test's clients: kiosks issuing, clerks calling and finishing, and the keypad
    rating, each as a thread until `stop`, recording what the hubs acknowledged in `ledger`."""

    def __init__(self, front, first, second, agent, clerks: dict[int, str], auth_k: dict) -> None:
        self.front, self.first, self.second, self.agent = front, first, second, agent
        self.clerks, self.auth_k = clerks, auth_k
        self.ledger = Ledger()
        self.stop = threading.Event()

    def kiosk(self, i: int) -> None:
        rng = random.Random(i)
        # Two kiosks through nginx, two straight to the hubs (one preferring each).
        front, first, second = self.front, self.first, self.second
        urls = [[front.url], [front.url], [first.url, second.url], [second.url, first.url]][i]
        while not self.stop.is_set():
            body = {"service": rng.choice(("S1", "S2", "S3")), "request_id": uuid.uuid4().hex}
            r = with_failover(urls, self.ledger, lambda u, body=body: requests.post(
                f"{u}/api/v1/tickets", json=body, headers=self.auth_k, timeout=REQUEST_TIMEOUT_S,
                verify=self.front.verify))
            with self.ledger.lock:
                if r is not None and r.status_code == 201:
                    ticket = r.json()
                    seen = self.ledger.tickets.setdefault(ticket["id"], ticket)
                    assert seen["number"] == ticket["number"]
                elif r is not None:
                    self.ledger.unexpected.append(f"issue {r.status_code} {r.text[:200]}")
            time.sleep(0.01)

    def rate(self, window: int, request_id: int, ticket_id: str) -> None:
        press = {"id": str(uuid.uuid4()), "kind": "rating", "window": window,
                 "request_id": request_id, "level": 5,
                 "at": SUITE_CLOCK().isoformat()}
        for _ in range(60):  # the same press again until an answer: the inbox dedups
            try:
                got = self.agent.call("device_event", press)
            except (socketio.exceptions.SocketIOError, TimeoutError):
                time.sleep(0.05)
                continue
            if got.get("ok"):  # a re-sent press is answered {"ok", "seqs", "duplicate"}
                with self.ledger.lock:
                    self.ledger.ratings[ticket_id] = press["level"]
            elif got.get("error", {}).get("code") != "no_rating_open":
                with self.ledger.lock:
                    self.ledger.unexpected.append(f"rating {got}")
            return

    def clerk(self, window: int) -> None:
        # Window 1 through nginx, windows 2 and 3 straight to the hubs. A call-next or finish
        # that committed on the first hub as it died is answered 502 by nginx and sent again:
        # the answer then is ticket_in_service or no_current, handled below.
        front, first, second = self.front, self.first, self.second
        urls = {1: [front.url], 2: [first.url, second.url], 3: [second.url, first.url]}[window]
        headers = {"Authorization": f"Bearer {self.clerks[window]}"}
        current = False
        while not self.stop.is_set():
            action = "finish" if current else "call-next"
            r = with_failover(urls, self.ledger, lambda u, action=action: requests.post(
                f"{u}/api/v1/windows/{window}/{action}", json={}, headers=headers,
                timeout=REQUEST_TIMEOUT_S, verify=self.front.verify))
            if r is None:
                continue
            if r.ok:
                view = r.json()
                with self.ledger.lock:
                    for e in view["events"]:
                        self.ledger.events[e["seq"]] = e["id"]
                current = view["current"] is not None
                for e in view["events"]:
                    if e["type"] == "rating.requested":
                        self.rate(window, e["data"]["request_id"], e["data"]["ticket_id"])
                continue
            code = r.json().get("error", {}).get("code", "")
            if code == "queue_empty":
                time.sleep(0.01)
            elif code == "ticket_in_service":
                current = True
            elif code == "no_current":
                current = False
            else:
                with self.ledger.lock:
                    self.ledger.unexpected.append(f"{action} {r.status_code} {r.text[:200]}")
                time.sleep(0.05)


def test_failover_kill_one_hub_mid_burst(pair, tmp_path):  # noqa: PLR0915 - one scenario
    a, b, url = pair
    front = Nginx(tmp_path, [a.port, b.port])  # the shipped config, for real
    screen = agent = None
    try:
        # One client address, one hub: the hub nginx sends loopback to ("first") is killed.
        first, second = (a, b) if front.upstream_port() == a.port else (b, a)
        screen = Screen(front.url, "/display", a.tokens["screen"], reconnect=True,
                        verify=front.verify)
        agent = Screen(front.url, "/device", a.tokens["agent"], reconnect=True,
                       verify=front.verify, windows=[1, 2, 3])
    except BaseException:
        for client in (screen, agent):
            if client is not None:
                client.close()
        front.stop()
        raise
    clerks = {w: a.login(f"clerk{w}", w) for w in (1, 2, 3)}
    auth_k = {"Authorization": f"Bearer {a.tokens['kiosk']}"}
    burst = _Burst(front, first, second, agent, clerks, auth_k)
    ledger, stop = burst.ledger, burst.stop
    threads = [threading.Thread(target=burst.kiosk, args=(i,)) for i in range(4)]
    threads += [threading.Thread(target=burst.clerk, args=(w,)) for w in (1, 2, 3)]
    try:
        for t in threads:
            t.start()
        time.sleep(2.0)
        snapshots_before, agent_before = len(screen.snapshots), len(agent.snapshots)
        killed_at = time.monotonic()
        first.kill()
        time.sleep(3.5)
        stop.set()
        for t in threads:
            t.join(30)
        # Screens and agents reconnected (through nginx, to the second hub) within 3 s.
        for client, before in ((screen, snapshots_before), (agent, agent_before)):
            again = [at for at, _ in client.snapshots[before:]]
            assert again, f"{client.namespace} did not reconnect"
            took = again[0] - killed_at
            print(f"{client.namespace} reconnected through nginx {took:.2f} s after the kill")
            assert took <= 3.0, f"{client.namespace}: {took:.2f} s"
        print(f"nginx routed to hub {'ab'[first is b]}, killed; {ledger.retries} retries")
        # The surviving hub went on serving, straight and through nginx.
        assert second.issue("S1").status_code == 201
        assert front.upstream_port() == second.port
        r = requests.post(f"{front.url}/api/v1/tickets", json={"service": "S1"},
                          headers=auth_k, timeout=REQUEST_TIMEOUT_S, verify=front.verify)
        assert r.status_code == 201, r.text
    finally:
        stop.set()
        screen.close()
        agent.close()
        front.stop()
    assert not ledger.unexpected, ledger.unexpected[:5]
    log = check_outbox(url)
    by_seq = {r[0]: r[1] for r in log}
    assert all(by_seq.get(s) == i for s, i in ledger.events.items()), "an acknowledged event lost"
    stored = dict(rows(url, "SELECT id, number FROM tickets"))
    assert all(stored.get(t) == v["number"] for t, v in ledger.tickets.items()), "ticket lost"
    rated = {r[3] for r in log if r[2] == "ticket.rated"}
    assert set(ledger.ratings) <= rated, "an acknowledged rating lost"
    issued = [r[3] for r in log if r[2] == "ticket.issued"]
    assert len(issued) == len(set(issued))
    assert len(ledger.tickets) > 20 and ledger.ratings, (len(ledger.tickets), ledger.ratings)


# --- (e) one forwarder delivers ---------------------------------------------------------


def test_two_forwarders_only_one_delivers_and_the_other_takes_over(servers, tmp_path):
    pg, _ = servers
    url = pg.create_database(f"fwd_{uuid.uuid4().hex[:8]}")
    receiver = Receiver().start()
    hall = tmp_path / "hall.toml"
    hall.write_text(HALL_24H.read_text(encoding="utf-8") + (
        f'\n[backend]\nurl = "{receiver.url}"\ntimeout_s = 1\nmax_backoff_s = 1\n'),
        encoding="utf-8")
    hub = HubProcess(tmp_path / "hub", config=hall, db_url=url)
    hub.provision()
    hub.start()
    forwarders: list[subprocess.Popen] = []
    logs = []
    try:
        for i in range(2):
            logs.append(tmp_path / f"forward{i}.log")
            with open(logs[-1], "wb") as out:
                forwarders.append(subprocess.Popen(
                    [sys.executable, "-m", "hub.cli", "forward", "--config", str(hall),
                     "--data", str(tmp_path / f"f{i}"), "--db", url],
                    stdout=out, stderr=subprocess.STDOUT,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"}))
            time.sleep(1.0 if i == 0 else 0)  # the first one takes the lock
        first = [hub.issue("S1").json()["id"] for _ in range(30)]
        wait_delivered(receiver, url, 30)
        # The one that did not get the lock says so once it has started (a loaded machine may
        # start it seconds late): which one delivers is known only then.
        standing = eventually(lambda: [i for i, log in enumerate(logs)
                                       if "standing by" in log.read_text()],
                              timeout_s=30, what="a forwarder standing by")
        assert len(standing) == 1, [p.read_text() for p in logs]
        holder = 1 - standing[0]
        forwarders[holder].kill()
        forwarders[holder].wait(10)
        second = [hub.issue("S2").json()["id"] for _ in range(30)]
        wait_delivered(receiver, url, 60)
        assert "took over" in logs[1 - holder].read_text()
        delivered = Counter(e["id"] for e in receiver.accepted)
        events = rows(url, "SELECT id, ticket_id FROM events ORDER BY seq")
        assert {e[0] for e in events} == set(delivered)
        # The holder was killed with its cursor committed: a copy would mean two delivered.
        assert max(delivered.values()) == 1, delivered.most_common(3)
        assert set(first + second) <= {e[1] for e in events}
    finally:
        for p in forwarders:
            if p.poll() is None:
                p.terminate()
                p.wait(10)
        hub.stop()
        receiver.close()


def wait_delivered(receiver: Receiver, url: str, count: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        total = rows(url, "SELECT COUNT(*) FROM events")[0][0]
        cursor = rows(url, "SELECT seq FROM forward_cursor")[0][0]
        if total >= count and cursor >= total:  # delivered, and the cursor committed
            return
        time.sleep(0.1)
    raise AssertionError(f"{len(receiver.accepted)} delivered, expected {count}")


def test_shipped_nginx_config_is_valid(tmp_path):
    """deploy/nginx/onestop.conf passes `nginx -t` (when nginx is installed on this machine)."""
    nginx = nginx_binary()
    site = shipped_with_test_certificate(NGINX_SHIPPED.read_text(), make_tls(tmp_path / "tls"))
    main = write_nginx_conf(tmp_path, site.replace("listen 80;", "listen 127.0.0.1:8;")
                            .replace("listen 443 ssl;", "listen 127.0.0.1:9 ssl;"))
    checked = subprocess.run([nginx, "-t", "-c", str(main), "-p", str(tmp_path),
                              "-e", str(tmp_path / "error.log")], check=False,
                             capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr


def test_the_shipped_nginx_terminates_tls_redirects_plain_http_and_sends_hsts(hub, tmp_path):
    """Through the shipped config in a real nginx (one hub behind it, the other upstream
    down): HTTPS with the hall CA answers with HSTS, plain HTTP is only redirected, and a
    client that does not trust the hall CA is refused."""
    front = Nginx(tmp_path, [hub.port, free_port()])
    try:
        r = requests.get(f"{front.url}/kiosk/", timeout=5, verify=front.verify)
        assert r.ok and r.headers["Strict-Transport-Security"] == "max-age=31536000"
        plain = requests.post(f"http://127.0.0.1:{front.plain_port}/api/v1/login?x=1",
                              json={}, allow_redirects=False, timeout=5)
        assert plain.status_code == 308
        assert plain.headers["Location"] == "https://127.0.0.1/api/v1/login?x=1"
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"{front.url}/healthz", timeout=5)
        screen = Screen(front.url, "/display", hub.tokens["screen"], verify=front.verify)
        try:  # Socket.IO over wss:// through nginx
            eventually(lambda: screen.snapshots, what="a snapshot through nginx's TLS")
        finally:
            screen.close()
    finally:
        front.stop()


# --- (e) a reload on one hub changes the rules of every hub -------------------------------


def test_a_reload_on_hub_a_is_enforced_by_hub_b(servers, tmp_path):
    """Each hub on its own copy of the hall file: an admin lowers an item's quota through hub
    A's admin API; hub B, applying A's config.reloaded, runs the text A stored with it (its
    own file untouched), refuses the next ticket, and reports the new hash. A screen on B hears
    the reload once (from A, through Redis; B only swaps)."""
    from hub.config import load_config
    from hub.hall_file import config_hash, quick_edit

    a, b, url = make_pair(servers, tmp_path, "reload")
    for hub in (a, b):
        hub.config = tmp_path / f"{hub.data_dir.name}.toml"
        shutil.copyfile(HALL_24H, hub.config)
    db = open_database(a.data_dir, url=url)
    Accounts(db).add_user("admin", PASSWORD, Role.ADMIN, "管理员", "JZ999", SUITE_CLOCK())
    db.close()
    screen_b = None
    try:
        a.start()
        b.start()
        original = HALL_24H.read_text(encoding="utf-8")
        assert requests.get(f"{b.url}/healthz", timeout=5).json()["config"] == config_hash(
            original)
        screen_b = Screen(b.url, "/display", b.tokens["screen"])
        assert a.issue("S1").status_code == 201
        text = quick_edit(original, load_config(HALL_24H), {"service": "S1", "daily_quota": 1})
        r = requests.post(f"{a.url}/api/v1/admin/config", json={"toml": text}, timeout=10,
                          headers=a.auth(a.login("admin")))
        assert r.ok and r.json()["applied"], r.text
        refused = b.issue("S1")
        assert refused.status_code >= 400, refused.text
        assert refused.json()["error"]["code"] == "quota_exhausted", refused.text
        assert requests.get(f"{b.url}/healthz", timeout=5).json()["config"] == config_hash(text)
        assert b.config.read_text(encoding="utf-8") == original  # B ran the store's text
        screen_b.wait_for(lambda e: e["type"] == "config.reloaded")
        time.sleep(1.0)  # a second push would have arrived by now
        assert [e["type"] for _, e in screen_b.events].count("config.reloaded") == 1
    finally:
        if screen_b is not None:
            screen_b.close()
        for hub in (a, b):
            hub.stop()


def test_a_hub_refuses_to_start_without_its_message_queue(servers, tmp_path):
    """A hub whose Redis cannot be reached would serve its own screens and silently never show
    them another hub's calls (python-socketio only logs a failed publish): it must not start."""
    pg, _ = servers
    url = pg.create_database(f"noqueue_{uuid.uuid4().hex[:8]}")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{s.getsockname()[1]}/0"
    run = subprocess.run(
        [sys.executable, "-m", "hub.cli", "hub", "--config", str(HALL_24H), "--data",
         str(tmp_path), "--port", "0", "--db", url, "--message-queue", dead],
        capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 2, run.stderr[-2000:]
    assert "cannot reach the message queue" in run.stderr
    assert "Traceback" not in run.stderr


# --- (f) what only the hub holding a socket can do, done on whichever hub holds it ---------


def test_a_move_and_a_sign_out_on_hub_a_reach_the_clerks_panel_on_hub_b(pair):
    a, b, _ = pair
    token = b.login("clerk1", 1)
    panel = socketio.Client(reconnection=False)
    got: list[tuple[str, Any]] = []
    for name in ("moved", "snapshot", "signed_out"):
        panel.on(name, lambda d, name=name: got.append((name, d)), namespace="/caller")
    panel.connect(b.url, namespaces=["/caller"], transports=["websocket"],
                  auth={"token": token}, wait_timeout=5)
    try:
        boss = {"Authorization": f"Bearer {a.login('super')}"}
        r = requests.post(f"{a.url}/api/v1/clerks/clerk1/move", json={"window": 3},
                          headers=boss, timeout=5)
        assert r.ok, r.text

        def arrived(name: str) -> list[Any]:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                found = [d for n, d in got if n == name]
                if found:
                    return found
                time.sleep(0.02)
            raise AssertionError(f"no {name} on the panel: {[n for n, _ in got]}")

        assert arrived("moved")[0] == {"from_window": 1, "window": 3}
        time.sleep(0.2)  # the snapshot follows the move
        after_move = [d for n, d in got if n == "snapshot"][-1]
        at_3 = next(w for w in after_move["windows"] if w["no"] == 3)
        assert at_3["clerk"] is not None  # hub B's snapshot already has the move
        # Signed out on hub A: hub B tells its panel and drops the socket.
        r = requests.post(f"{a.url}/api/v1/logout", headers={"Authorization": f"Bearer {token}"},
                          timeout=5)
        assert r.ok, r.text
        assert arrived("signed_out")[0] == {"reason": "session_ended"}
        deadline = time.monotonic() + 5
        while panel.connected and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not panel.connected
    finally:
        panel.disconnect()


def test_wrong_passwords_on_hub_a_count_on_hub_b(pair):
    """The sign-in limit (5 failures in 5 minutes) is the pair's, not each hub's."""
    a, b, _ = pair
    for _ in range(5):
        r = requests.post(f"{a.url}/api/v1/login", timeout=5,
                          json={"username": "clerk2", "password": "wrong", "window": 2})
        assert r.status_code == 401
    deadline = time.monotonic() + 5
    while True:  # the other hub hears of them in a moment (a wrong guess meanwhile: one more)
        r = requests.post(f"{b.url}/api/v1/login", timeout=5,
                          json={"username": "clerk2", "password": "wrong", "window": 2})
        if r.status_code == 429 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert r.status_code == 429, r.text
    r = requests.post(f"{b.url}/api/v1/login", timeout=5,  # even with the right password
                      json={"username": "clerk2", "password": PASSWORD, "window": 2})
    assert r.status_code == 429, r.text


def test_a_slip_finished_on_hub_a_prints_at_the_window_printer_of_an_agent_on_hub_b(
        pair, tmp_path):
    """The window's slip printer's agent is connected to hub B, the clerk to hub A: the job goes
    to hub B, which prints it (real agent, simulated ESC/POS printer), and the clerk's panel on
    hub A hears that it printed."""
    from devices.printer.sim import SimPrinter, text_of
    from tests.test_kiosk_printing import Client, printed_jobs, start_agent, stop

    a, b, _ = pair
    printer = SimPrinter().start()
    agent = start_agent(tmp_path, b, printer, windows=(1,))
    panel = None
    try:
        eventually(lambda: any(d["device"].startswith("printer@") and d["status"] == "online"
                               for d in requests.get(f"{a.url}/api/v1/devices", timeout=5,
                                                     headers=a.auth(a.login("super")))
                               .json()["devices"]),
                   what="the printer online", timeout_s=15)
        panel = Client(a.url, "/caller", {"token": a.login("clerk1", 1)})
        ticket = a.issue("S1").json()
        assert panel.call("call-next")["ok"]
        done = panel.call("finish", {"outcome": "commitment", "items": ["营业执照变更"]})
        assert done["ok"], done
        slip_no = a.full_ticket(ticket["id"])["outcome"]["slip"]
        note = eventually(lambda: panel.pushed("printed"), what="the slip's print result",
                          timeout_s=10)[0]
        assert note == {"slip": slip_no, "ok": True, "message": "已打印", "message_en": "Printed"}
        text = text_of(printed_jobs(printer)[-1])
        assert "承诺单" in text and slip_no in text
        # Hub B dies with the printer's agent on it: a reprint handed to it is never answered,
        # and the clerk hears that it did not print (rather than waiting for ever).
        b.kill()
        assert panel.call("print_slip", {"slip": slip_no})["result"] == {"print": "queued"}
        late = eventually(lambda: panel.pushed("printed")[1:], what="the unanswered job",
                          timeout_s=20)[0]
        assert late["slip"] == slip_no and late["ok"] is False, late
        assert late["message_en"] == "The printer did not answer"
    finally:
        if panel is not None:
            panel.close()
        stop(agent)
        printer.stop()


def test_a_badge_photo_is_shown_by_every_hub(pair, tmp_path):
    """Photos live in the store (PostgreSQL here): set once, every hub's window screen has it."""
    a, b, url = pair
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
    (tmp_path / "clerk1.png").write_bytes(png)
    db = open_database(tmp_path / "elsewhere", url=url)  # `onestop user photo` on any host
    try:
        Accounts(db).set_photo("clerk1", tmp_path / "clerk1.png")
    finally:
        db.close()
    for hub in (a, b):
        r = requests.get(f"{hub.url}/display/badge/JZ001?token={a.tokens['screen']}", timeout=5)
        assert r.status_code == 200 and r.content == png
        assert r.headers["Content-Type"] == "image/png"


class RawScreen:
    """A hall screen speaking Engine.IO/Socket.IO text frames itself over one WebSocket, read in
    one thread: the order events are recorded in is the order the hub sent them (a
    python-socketio client hands each message to a thread of its own)."""

    def __init__(self, url: str, token: str) -> None:
        import json

        import websocket

        self.seqs: list[int] = []
        self.called: list[int] = []
        self.ws = websocket.create_connection(
            url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket", timeout=5)
        assert self.ws.recv().startswith("0")
        self.ws.send("40/display," + json.dumps({"token": token, "room": "hall"}))
        self.ready = threading.Event()
        self.stop = threading.Event()

        def read() -> None:
            prefix = "42/display,"
            while not self.stop.is_set():
                try:
                    frame = self.ws.recv()
                except websocket.WebSocketTimeoutException:
                    continue
                except (websocket.WebSocketException, OSError):
                    return
                if frame == "2":
                    self.ws.send("3")
                elif frame.startswith(prefix):
                    name, payload = json.loads(frame[len(prefix):])[:2]
                    if name == "snapshot":
                        self.ready.set()
                    elif name == "event":
                        self.seqs.append(payload["seq"])
                        if payload["type"] == "ticket.called":
                            self.called.append(payload["seq"])

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        assert self.ready.wait(5), "no snapshot"

    def close(self) -> None:
        self.stop.set()
        self.ws.close()
        self.reader.join(5)


def test_every_screen_gets_the_events_in_commit_order(pair):
    """Clerks on both hubs call at the same time: their commits are seq 35 and 36, but the two
    hubs' pushes can cross. A page drops an event older than the last it applied, so a screen
    that got 36 first would never show 35's call: each hub must hand its screens the events in
    seq order, its own and the other's alike."""
    a, b, url = pair
    for i in range(60):
        assert (a if i % 2 else b).issue("S1" if i % 3 else "S2").status_code == 201
    screens = [RawScreen(hub.url, a.tokens["screen"]) for hub in (a, b, a, b)]
    clerks = {w: a.login(f"clerk{w}", w) for w in (1, 2, 3)}
    stop = threading.Event()

    def clerk(window: int) -> None:
        n = 0
        while not stop.is_set():
            hub = (a, b)[(window + n) % 2]
            n += 1
            if hub.act(clerks[window], window, "call-next").ok:
                hub.act(clerks[window], window, "finish", outcome="immediate")

    try:
        run_for([threading.Thread(target=clerk, args=(w,)) for w in (1, 2, 3)], stop, 4)
        time.sleep(1.0)  # the last pushes arrive
    finally:
        for screen in screens:
            screen.close()
    called = [r[0] for r in check_outbox(url) if r[2] == "ticket.called"]
    assert len(called) > 20
    for screen in screens:
        assert screen.seqs == sorted(screen.seqs), "events out of commit order on a screen"
        assert screen.called == called  # every call, once, in order


def test_with_redis_down_a_screen_still_gets_the_other_hubs_calls(servers, tmp_path):
    """The message queue is gone (Redis stopped): hub B's screen still shows the call made on
    hub A, a moment late, from the store (message_queue.Sequencer.catch_up_with_store)."""
    pg, _ = servers
    own_redis = Redis().start()
    url = pg.create_database(f"noredis_{uuid.uuid4().hex[:8]}")
    args = ["--message-queue", own_redis.url]
    a = HubProcess(tmp_path / "a", db_url=url, extra_args=args)
    a.provision()
    b = HubProcess(tmp_path / "b", db_url=url, extra_args=args, tokens=a.tokens)
    b.data_dir.mkdir(parents=True, exist_ok=True)
    screen = None
    try:
        a.start()
        b.start()
        screen = RawScreen(b.url, a.tokens["screen"])
        assert a.issue("S1").status_code == 201
        own_redis.stop()
        clerk = a.login("clerk1", 1)
        r = a.act(clerk, 1, "call-next")
        assert r.ok, r.text
        seq = next(e["seq"] for e in r.json()["events"] if e["type"] == "ticket.called")
        deadline = time.monotonic() + 10
        while seq not in screen.called and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seq in screen.called, (seq, screen.seqs)
        assert screen.seqs == sorted(screen.seqs)
    finally:
        if screen is not None:
            screen.close()
        a.stop()
        b.stop()
        own_redis.stop()
