"""The feed to the supervision backend: CloudEvents batches, at least once, in order.

In process: a Forwarder over a store filled through HallService, against a real, unreliable
HTTP receiver on loopback (tests/cereceiver.py). End to end: a real hub and a real
`onestop forward`, both SIGKILLed mid-burst and restarted, until every committed event has
arrived. The receiver parses every accepted event back with the CloudEvents SDK.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from hub.config import ConfigError, load_config, parse_config
from hub.engine.model import public_fields
from hub.forwarder import Forwarder, make_session, to_cloudevent
from hub.runtime import DB_FILE
from hub.service import HallService
from hub.store.database import Database
from hub.store.forwarding import Outbox, OutboxEvent, forwarding_status
from tests.cereceiver import Receiver
from tests.hubproc import HALL_24H, HubProcess
from tests.test_store import KIOSK, Clock, act, sign_in

REJECTED_NUMBER = "A005"  # the receiver refuses this ticket's issue event: a dead letter


def rejects_a005(event: dict[str, Any]) -> bool:
    return event["type"] == "cn.gov.hall.ticket.issued" and event["data"].get("number") == (
        REJECTED_NUMBER
    )


def backend_cfg(url: str, **extra: Any):
    raw = load_config(HALL_24H)  # a valid hall; only its backend section changes
    import msgspec

    data = msgspec.to_builtins(raw)
    data["backend"] = {"url": url, "timeout_s": 0.5, "max_backoff_s": 1, **extra}
    return parse_config(data)


def db_events(db_path: Path) -> list[tuple[int, str, str, str | None]]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT seq, id, type, ticket_id FROM events ORDER BY seq").fetchall()
    finally:
        conn.close()


def check_delivery(
    received: list[dict[str, Any]], committed: list[tuple], dead: set[str], upto: int | None = None
) -> None:
    """Every committed event up to seq `upto` arrived (but the dead letters), nothing the hall
    did not commit did, first copies in seq order, and any repeat is an exact copy."""
    by_id = {row[1]: row for row in committed}
    upto = committed[-1][0] if upto is None else upto
    first: dict[str, dict[str, Any]] = {}
    order = []
    for event in received:
        assert event["id"] in by_id, f"an event the hall never committed: {event}"
        seq, _, kind, ticket = by_id[event["id"]]
        assert event["sequence"] == seq and event["type"] == "cn.gov.hall." + kind
        assert event["subject"] == (f"tickets/{ticket}" if ticket else event["subject"])
        if event["id"] in first:
            assert event == first[event["id"]], "a repeat differs from the first copy"
            continue
        first[event["id"]] = event
        order.append(seq)
    assert order == sorted(order), "events arrived out of seq order"
    missing = {row[1] for row in committed if row[0] <= upto} - set(first) - dead
    assert not missing, f"{len(missing)} committed events never arrived"
    assert not dead & set(first), "a dead letter was delivered before its replay"


# --- in process -------------------------------------------------------------------------


@pytest.fixture
def hall(tmp_path):
    db = Database(tmp_path / DB_FILE)
    db.migrate()
    clock = Clock()
    service = HallService(load_config(HALL_24H), db, clock=clock)
    yield service, clock
    db.close()


def issued_id(service: HallService, number: str) -> str:
    """The event id of the issue of ticket `number` (today's)."""
    return next(r.id for r in service.store.records_after(0)
                if r.type == "ticket.issued" and r.event.number == number)


def fill(service: HallService, clock: Clock, tickets: int) -> None:
    """Issue `tickets` tickets and serve most of them at two windows: every common event."""
    sign_in(service, 1)
    sign_in(service, 3)
    for i in range(tickets):
        clock.advance(seconds=20)
        service.issue_ticket(KIOSK, ("S1", "S3")[i % 2])
    for _ in range(tickets // 2 - 1):
        for no in (1, 3):
            clock.advance(seconds=30)
            act(service, no, "call-next")
            act(service, no, "finish", outcome="immediate")


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.close()


def test_every_event_is_a_cloudevent_with_its_stable_id_seq_and_data(hall, receiver):
    service, clock = hall
    fill(service, clock, 10)
    cfg = backend_cfg(receiver.url, source="urn:onestop:test-hall")
    forwarder = Forwarder(service.db, cfg.backend, cfg.event_source, cfg.zone)
    forwarder.drain()
    committed = service.store.records_after(0)
    assert len(receiver.accepted) == len(committed) > 30
    for record, event in zip(committed, receiver.accepted, strict=True):
        data = public_fields(record.event, cfg.zone)  # times with the hall's offset
        del data["at"]
        assert event["id"] == record.id and event["sequence"] == record.seq
        assert event["source"] == "urn:onestop:test-hall"
        assert event["type"] == f"cn.gov.hall.{record.type}"
        assert event["time"] == record.at.astimezone(dt.UTC)
        assert event["data"] == json.loads(json.dumps(data))  # tuples as arrays
        if record.event.ticket:
            assert event["subject"] == f"tickets/{record.event.ticket}"
        elif record.event.window is not None:
            assert event["subject"] == f"windows/{record.event.window}"
    assert forwarding_status(service.db) == {
        "cursor": committed[-1].seq, "last_seq": committed[-1].seq, "backlog": 0,
        "oldest_unsent_at": None, "dead_letters": 0, "failures": 0, "last_error": None,
        "last_error_at": None,
    }
    assert not receiver.invalid


def test_an_alert_is_raised_and_cleared_under_the_same_subject(hall, receiver):
    """A window alert's clearing reaches the backend about the same window as its raising."""
    service, clock = hall
    sign_in(service, 1)
    service.issue_ticket(KIOSK, "S1")
    act(service, 1, "call-next")
    clock.advance(minutes=16)  # past the item's target time at the window
    service.tick()
    act(service, 1, "finish", outcome="immediate")
    service.tick()
    cfg = backend_cfg(receiver.url)
    Forwarder(service.db, cfg.backend, cfg.event_source, cfg.zone).drain()
    alerts = [e for e in receiver.accepted if e["type"].startswith("cn.gov.hall.alert.")]
    serving = [(e["type"], e["subject"], e["data"].get("window_at"), e["data"].get("service"))
               for e in alerts if e["data"]["key"] == "serving:1"]
    assert serving == [("cn.gov.hall.alert.raised", "windows/1", 1, "S1"),
                       ("cn.gov.hall.alert.cleared", "windows/1", 1, "S1")]


ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


def times_in(value: Any) -> list[str]:
    """Every date-time string anywhere in a JSON value."""
    if isinstance(value, dict):
        return [t for v in value.values() for t in times_in(v)]
    if isinstance(value, list):
        return [t for v in value for t in times_in(v)]
    return [value] if isinstance(value, str) and ISO_TIME.match(value) else []


def forward_a_morning(service: HallService, clock: Clock, url: str) -> None:
    """Tickets served, rated and no-showed, an alert raised and cleared; all forwarded."""
    fill(service, clock, 6)  # ratings asked (deadline)
    act(service, 1, "call-next")
    act(service, 1, "skip")  # a no-show, back in the queue
    act(service, 1, "call-next")
    clock.advance(minutes=16)
    service.tick()  # serving over its target: raised ...
    act(service, 1, "finish", outcome="immediate")
    service.tick()  # ... and cleared (raised_at)
    cfg = backend_cfg(url)
    Forwarder(service.db, cfg.backend, cfg.event_source, cfg.zone).drain()


def test_times_in_the_data_carry_the_halls_offset(hall, receiver):
    """docs/events.md: times inside `data` are ISO 8601 with the hall's offset (Asia/Shanghai:
    +08:00), the same instants the hall committed; the envelope's `time` stays UTC."""
    service, clock = hall
    forward_a_morning(service, clock, receiver.url)
    by_id = {r.id: r for r in service.store.records_after(0)}
    kinds = {e["type"].removeprefix("cn.gov.hall.") for e in receiver.accepted}
    assert {"rating.requested", "alert.raised", "alert.cleared"} <= kinds
    checked = 0
    for event in receiver.accepted:
        assert event["time"].utcoffset() == dt.timedelta(0)
        assert all(t.endswith("+08:00") for t in times_in(event["data"])), event
        record = by_id[event["id"]]
        for name in ("deadline", "raised_at", "pressed_at"):
            if name in event["data"]:
                sent = dt.datetime.fromisoformat(event["data"][name])
                assert sent == getattr(record.event, name)  # the same instant
                checked += 1
    assert checked >= 4


def test_the_queues_internal_sort_key_is_neither_forwarded_nor_pushed(hall, receiver):
    """`rank` orders a queue inside the engine (a number handed out at issue, not a place in
    the queue): the backend and the office's monitor get the ticket events without it."""
    service, clock = hall
    forward_a_morning(service, clock, receiver.url)
    kinds = {e["type"].removeprefix("cn.gov.hall.") for e in receiver.accepted}
    assert {"ticket.issued", "ticket.no_show"} <= kinds
    assert [e for e in receiver.accepted if "rank" in e["data"]] == []
    records = service.store.records_after(0)
    assert any(r.type == "ticket.issued" and r.event.rank for r in records)  # still stored
    assert [r.public() for r in records if "rank" in r.public()["data"]] == []


def test_an_event_this_version_cannot_type_is_forwarded_as_stored(caplog):
    """A row of a type this forwarder does not know (a newer hub wrote it) must not stop the
    feed: it goes out as stored, only its times are left as they are."""
    row = OutboxEvent(seq=7, id="e7", type="queue.future", at="2026-11-24T02:00:00.000000+00:00",
                      ticket_id=None, window_no=3, data=json.dumps(
                          {"type": "queue.future", "at": "2026-11-24T02:00:00Z",
                           "until": "2026-11-24T03:00:00Z", "n": 1}))
    event = to_cloudevent(row, "urn:onestop:test", load_config(HALL_24H).zone)
    assert event.get_data() == {"until": "2026-11-24T03:00:00Z", "n": 1}
    assert event.get_subject() == "windows/3" and "seq 7" in caplog.text


def test_flaky_backend_gets_everything_once_acknowledged_and_the_rejected_one_is_dead(
    hall, receiver
):
    service, clock = hall
    fill(service, clock, 40)
    receiver.fail_rate, receiver.hang_rate, receiver.hang_s = 0.5, 0.1, 0.7
    receiver.reject = rejects_a005
    cfg = backend_cfg(receiver.url, batch_size=16)
    forwarder = Forwarder(service.db, cfg.backend, cfg.event_source, cfg.zone, backoff_base_s=0.01,
                          rng=random.Random(3))
    status = forwarding_status(service.db)
    assert status["backlog"] == status["last_seq"] > 100 and status["oldest_unsent_at"]
    forwarder.drain()
    committed = db_events(service.db.path)
    dead = Outbox(service.db).dead_letters()
    a005 = next(r for r in committed if r[1] == issued_id(service, REJECTED_NUMBER))
    assert [(d["seq"], d["event_id"], d["status_code"]) for d in dead] == [(a005[0], a005[1], 400)]
    assert a005[1] in dead[0]["response"] and dead[0]["replayed_at"] is None
    check_delivery(receiver.snapshot(), committed, {a005[1]})
    assert receiver.statuses.get(500, 0) > 5 and receiver.statuses[400] >= 2
    status = forwarding_status(service.db)
    assert status["cursor"] == status["last_seq"] and status["dead_letters"] == 1

    receiver.fail_rate = receiver.hang_rate = 0.0
    assert forwarder.replay() == (0, 1)  # still refused: kept, not marked
    receiver.reject = lambda _e: False
    assert forwarder.replay() == (1, 0)
    assert [e["sequence"] for e in receiver.accepted].count(a005[0]) == 1
    assert Outbox(service.db).dead_letters()[0]["replayed_at"] is not None
    assert forwarding_status(service.db)["dead_letters"] == 0
    assert forwarder.replay() == (0, 0)


def test_a_wrong_token_retries_and_never_dead_letters(hall, receiver, monkeypatch):
    service, clock = hall
    fill(service, clock, 4)
    receiver.token = "right"
    cfg = backend_cfg(receiver.url)
    monkeypatch.setenv("ONESTOP_BACKEND_TOKEN", "wrong")
    forwarder = Forwarder(service.db, cfg.backend, cfg.event_source, cfg.zone, backoff_base_s=0.01)
    worker = threading.Thread(target=forwarder.run)
    worker.start()
    try:
        time.sleep(0.5)
        assert receiver.statuses.get(401, 0) >= 2 and not receiver.accepted
        assert Outbox(service.db).cursor() == 0
        monkeypatch.setenv("ONESTOP_BACKEND_TOKEN", "right")  # the token is rotated
        forwarder.session.headers.update(make_session(cfg.backend).headers)
        deadline = time.monotonic() + 5
        while Outbox(service.db).cursor() < service.store.last_seq():
            assert time.monotonic() < deadline, "did not recover from 401"
            time.sleep(0.05)
    finally:
        forwarder.stop.set()
        worker.join(5)
    assert not worker.is_alive()
    assert Outbox(service.db).dead_letters() == []


def test_last_error_is_stamped_with_its_time_and_cleared_once_the_backend_is_back(
    hall, receiver
):
    """While the backend fails, the status names the error and when it happened; once it
    acknowledges again, the error is gone (the count of failed attempts stays)."""
    service, clock = hall
    fill(service, clock, 4)
    receiver.fail_rate = 1.0
    cfg = backend_cfg(receiver.url, batch_size=10)
    failed_at = dt.datetime(2026, 11, 24, 3, 15, 30, tzinfo=dt.UTC)
    forwarder = Forwarder(service.db, cfg.backend, cfg.event_source, cfg.zone, backoff_base_s=0.01,
                          clock=lambda: failed_at)
    worker = threading.Thread(target=forwarder.run)
    worker.start()
    try:
        deadline = time.monotonic() + 5
        while forwarding_status(service.db)["failures"] < 2:
            assert time.monotonic() < deadline, "no failure recorded"
            time.sleep(0.02)
        failing = forwarding_status(service.db)
        assert failing["last_error"] == "HTTP 500" and failing["cursor"] == 0
        assert failing["last_error_at"] == "2026-11-24T03:15:30.000000+00:00"

        receiver.fail_rate = 0.0  # full recovery
        while forwarding_status(service.db)["backlog"]:
            assert time.monotonic() < deadline + 5, "did not recover"
            time.sleep(0.02)
    finally:
        forwarder.stop.set()
        worker.join(5)
    recovered = forwarding_status(service.db)
    assert recovered["last_error"] is None and recovered["last_error_at"] is None
    assert recovered["failures"] >= failing["failures"]


def test_stop_during_backoff_leaves_promptly_and_keeps_the_cursor(hall, receiver):
    service, clock = hall
    fill(service, clock, 4)
    receiver.fail_rate = 1.0
    cfg = backend_cfg(receiver.url, max_backoff_s=30)
    forwarder = Forwarder(service.db, cfg.backend, cfg.event_source, cfg.zone, backoff_base_s=5)
    worker = threading.Thread(target=forwarder.run)
    worker.start()
    time.sleep(0.3)
    started = time.monotonic()
    forwarder.stop.set()
    worker.join(5)
    assert not worker.is_alive() and time.monotonic() - started < 1
    assert Outbox(service.db).cursor() == 0 and not receiver.accepted


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"url": "ftp://x"}, "backend.url"),
        ({"url": "http://x", "batch_size": 1001}, "backend.batch_size"),
        ({"url": "http://x", "timeout_s": 0}, "backend.timeout_s"),
        ({"url": "http://x", "max_backoff_s": 0}, "backend.max_backoff_s"),
        ({"url": "http://x", "client_cert": "c.pem"}, "backend.client_key"),
        ({"url": "http://x", "source": "no uri"}, "backend.source"),
        ({"url": "http://x", "token": "inline"}, "backend"),
    ],
)
def test_backend_section_is_checked(section, key):
    import msgspec

    data = msgspec.to_builtins(load_config(HALL_24H))
    data["backend"] = section
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    assert err.value.key == key


def test_every_event_type_is_documented():
    import typing

    from hub.engine.model import AnyEvent

    doc = (Path(__file__).parents[1] / "docs" / "events.md").read_text(encoding="utf-8")
    tags = [t.__struct_config__.tag for t in typing.get_args(AnyEvent)]
    assert len(tags) > 20
    assert [t for t in tags if f"`cn.gov.hall.{t}`" not in doc] == []


def test_default_source_names_the_center():
    cfg = load_config(HALL_24H)
    assert cfg.backend.url == "" and cfg.event_source.startswith("urn:onestop:%E6%B5%8B")


# --- end to end -------------------------------------------------------------------------


def check_replay(hub: HubProcess, forward: ForwardProcess, receiver: Receiver, event_id: str):
    """`onestop events dead` lists the letter; `onestop events replay --all` delivers it once
    the backend takes it, and the hub's API then shows it replayed."""
    listing = subprocess.run(
        [sys.executable, "-m", "hub.cli", "events", "dead", "--data", str(forward.data_dir)],
        capture_output=True, text=True, timeout=30, check=True,
    )
    assert event_id in listing.stdout
    receiver.fail_rate = receiver.hang_rate = 0.0
    receiver.reject = lambda _e: False
    replay = subprocess.run(forward.command("events", "replay", "--all"),
                            capture_output=True, text=True, timeout=30, check=False)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    copies = [e for e in receiver.snapshot() if e["id"] == event_id]
    assert len(copies) == 1 and copies[0]["data"]["number"] == REJECTED_NUMBER
    after = requests.get(f"{hub.url}/api/v1/dead-letters",
                         headers=hub.auth(hub.login("super")), timeout=5).json()
    assert after["dead_letters"][0]["replayed_at"] and after["forwarding"]["dead_letters"] == 0


class ForwardProcess:
    """`onestop forward` as a hall runs it: its own process on the hub's data directory."""

    def __init__(self, config: Path, data_dir: Path) -> None:
        self.config, self.data_dir = config, data_dir
        self.proc: subprocess.Popen | None = None
        self.log_path = data_dir / "forward.log"

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "hub.cli", *args, "--config", str(self.config),
                "--data", str(self.data_dir)]

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.command("forward"), stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def kill(self) -> None:
        assert self.proc is not None and self.proc.poll() is None, self.log_path.read_text()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.terminate()
        return self.proc.wait(15)


def burst(hub: HubProcess, stop: threading.Event, rng: random.Random) -> None:
    """Kiosk and clerk traffic that tolerates the hub vanishing under it."""

    def kiosk() -> None:
        while not stop.is_set():
            try:
                hub.issue(rng.choice(("S1", "S2", "S3")))
            except requests.RequestException:
                time.sleep(0.05)
            time.sleep(0.02)

    def clerk(no: int) -> None:
        token = ""
        while not stop.is_set():
            try:
                token = token or hub.login(f"clerk{no}", no)
                r = hub.act(token, no, "call-next")
                if r.ok:
                    hub.act(token, no, "finish", outcome="immediate")
                    hub.act(token, no, "request-rating")
                elif r.status_code in (401, 403):
                    token = ""
                else:
                    time.sleep(0.02)
            except requests.RequestException:
                time.sleep(0.05)

    workers = [threading.Thread(target=kiosk) for _ in range(2)]
    workers += [threading.Thread(target=clerk, args=(no,)) for no in (1, 2, 3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def kill_mid_burst(hub: HubProcess, forward: ForwardProcess, per_round: int = 300) -> None:
    """Traffic under which the hub is SIGKILLed three times (and the forwarder once), each time
    after `per_round` more events were committed: paced by the hall's progress, not the clock,
    so a slow or busy machine makes the burst longer, never too thin to mean anything."""
    stop = threading.Event()
    traffic = threading.Thread(target=burst, args=(hub, stop, random.Random(11)))
    traffic.start()
    try:
        for round_no in range(3):
            committed_more(hub, per_round)
            hub.kill()
            if round_no == 1:
                forward.kill()
                forward.start()
            hub.start()
        committed_more(hub, per_round)
    finally:
        stop.set()
        traffic.join(30)


def committed_more(hub: HubProcess, count: int, timeout_s: float = 120) -> None:
    def last_seq() -> int:
        conn = sqlite3.connect(f"file:{hub.data_dir / DB_FILE}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
        finally:
            conn.close()

    start, deadline = last_seq(), time.monotonic() + timeout_s
    while last_seq() < start + count:
        assert time.monotonic() < deadline, f"the hub committed under {count} events"
        time.sleep(0.1)


def forward_config(tmp_path: Path, url: str, **backend: Any) -> Path:
    """The 24-hour test hall with a [backend] section pointing at `url`."""
    config = tmp_path / "hall.toml"
    lines = [f'url = "{url}"', "timeout_s = 0.5", "max_backoff_s = 1",
             *(f"{key} = {value}" for key, value in backend.items())]
    config.write_text(HALL_24H.read_text(encoding="utf-8") + "\n[backend]\n"
                      + "\n".join(lines) + "\n", encoding="utf-8")
    return config


def wait_for(what: str, predicate, log: Path, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"{what}; forwarder log:\n{log.read_text()}"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_forwarder_killed_in_an_outage_resends_nothing_the_backend_acknowledged(tmp_path):
    """The backend acknowledges two batches and goes down; the forwarder, retrying the third,
    is SIGKILLed. The office sees only the unacknowledged events as unsent, and the restarted
    forwarder sends each event exactly once: the acknowledged ones are not sent again."""
    data = tmp_path / "data"
    data.mkdir()
    db = Database(data / DB_FILE)
    db.migrate()
    clock = Clock()
    fill(HallService(load_config(HALL_24H), db, clock=clock), clock, 6)
    committed = db_events(data / DB_FILE)
    db.close()
    assert len(committed) > 15
    receiver = Receiver(accept_limit=2).start()
    forward = ForwardProcess(forward_config(tmp_path, receiver.url, batch_size=5), data)
    status = Database(data / DB_FILE)
    try:
        forward.start()
        wait_for("the backend never went down", lambda: receiver.statuses.get(500, 0) >= 2,
                 forward.log_path)
        assert len(receiver.accepted) == 10
        office = forwarding_status(status)  # what GET /api/v1/dead-letters shows
        assert (office["cursor"], office["backlog"]) == (committed[9][0], len(committed) - 10)
        assert office["oldest_unsent_at"] == status.query_one(
            "SELECT at FROM events WHERE seq = ?", (committed[10][0],))["at"]
        forward.kill()

        receiver.accept_limit = None  # the backend is back
        forward.start()
        wait_for("the restarted forwarder did not drain",
                 lambda: Outbox(status).cursor() == committed[-1][0], forward.log_path)
        assert forward.stop() == 0
        received = [e["id"] for e in receiver.snapshot()]
        assert received == [row[1] for row in committed], "an acknowledged event was re-sent"
    finally:
        if forward.proc and forward.proc.poll() is None:
            forward.proc.kill()
        status.close()
        receiver.close()


@pytest.mark.slow
def test_hub_and_forwarder_killed_mid_burst_lose_nothing(tmp_path):
    receiver = Receiver(fail_rate=0.5, hang_rate=0.05, hang_s=0.8, reject=rejects_a005).start()
    data = tmp_path / "data"
    config = tmp_path / "hall.toml"
    config.write_text(
        HALL_24H.read_text(encoding="utf-8")
        + f'\n[backend]\nurl = "{receiver.url}"\ntimeout_s = 0.5\nmax_backoff_s = 1\n',
        encoding="utf-8",
    )
    hub = HubProcess(data, config=config)
    hub.provision()
    hub.start()
    forward = ForwardProcess(config, data)
    forward.start()
    kill_mid_burst(hub, forward)
    try:
        last_seq = db_events(data / DB_FILE)[-1][0]  # the hub goes on (ratings expire) after it
        assert last_seq > 1000, "too little traffic to mean anything"
        deadline = time.monotonic() + 45
        while True:
            status = requests.get(  # the hub's own view of the feed, as a supervisor
                f"{hub.url}/api/v1/dead-letters", headers=hub.auth(hub.login("super")), timeout=5
            ).json()
            if status["forwarding"]["cursor"] >= last_seq:
                break
            assert time.monotonic() < deadline, (status["forwarding"], forward.log_path.read_text())
            time.sleep(0.2)
        print(f"{last_seq} events, drained {time.monotonic() - deadline + 45:.1f} s after the "
              f"burst; receiver answered {receiver.statuses}")
        assert forward.stop() == 0  # SIGTERM: a clean stop
        dead = status["dead_letters"]
        assert len(dead) == 1 and dead[0]["status_code"] == 400, dead
        cursor = Outbox(Database(data / DB_FILE)).cursor()
        check_delivery(receiver.snapshot(), db_events(data / DB_FILE), {dead[0]["event_id"]},
                       cursor)
        assert not receiver.invalid
        assert receiver.statuses[500] > 10 and receiver.statuses[400] >= 2
        kiosk = requests.get(f"{hub.url}/api/v1/dead-letters",
                             headers=hub.auth(hub.tokens["kiosk"]), timeout=5)
        assert kiosk.status_code == 403

        check_replay(hub, forward, receiver, dead[0]["event_id"])
    finally:
        hub.stop()
        if forward.proc and forward.proc.poll() is None:
            forward.proc.kill()
        receiver.close()


def test_the_backends_ca_is_pinned_even_with_a_ca_bundle_in_the_environment(hall, tmp_path,
                                                                           monkeypatch):
    """[backend] ca_file is the only CA the forwarder trusts: REQUESTS_CA_BUNDLE (set on many
    machines, to the system's store) must not replace it, and another CA's certificate is
    refused."""
    from tests.hubproc import make_tls

    service, clock = hall
    fill(service, clock, 2)
    ours, other = make_tls(tmp_path / "ours"), make_tls(tmp_path / "other")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    receiver = Receiver(tls=(str(ours.cert), str(ours.key))).start()
    try:
        wrong = backend_cfg(receiver.url, ca_file=str(other.ca))
        refused = Forwarder(service.db, wrong.backend, wrong.event_source, wrong.zone)
        pending = refused.outbox.pending(0, 10)
        result = refused.post(pending)
        assert not result.ok and "CERTIFICATE_VERIFY_FAILED" in result.body
        cfg = backend_cfg(receiver.url, ca_file=str(ours.ca))
        Forwarder(service.db, cfg.backend, cfg.event_source, cfg.zone).drain()
        assert len(receiver.accepted) == len(service.store.records_after(0))
    finally:
        receiver.close()
