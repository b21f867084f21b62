"""Crash safety end to end: SIGKILL a real hub in the middle of a burst of kiosk and clerk
traffic, restart it on the same data directory, and check that everything a client was told
was committed (a 2xx answer) is still there, consistent, and replayed to the same state.
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from hub.runtime import DB_FILE
from tests.hubproc import HubProcess

pytestmark = pytest.mark.slow

ROUNDS = 3
CLERKS = {1: "clerk1", 2: "clerk2", 3: "clerk3"}
SERVICES = ("S1", "S2", "S3")
KIOSKS = 2
REQUEST_TIMEOUT_S = 3.0

# The status a ticket has after each of its events, as the engine's rules make it.
TERMINAL = {"done", "no_show", "expired"}
REACHABLE = {  # from a status, where later (maybe unacknowledged) actions can take a ticket
    "waiting": {"waiting", "called", "done", "no_show", "expired"},
    "called": {"called", "waiting", "done", "no_show", "expired"},
}


def status_after(event_type: str, data: dict[str, Any]) -> str:
    if event_type == "ticket.issued":
        return "waiting"
    if event_type in ("ticket.called", "ticket.recalled"):
        return "called"
    if event_type == "ticket.no_show":
        return "waiting" if data["requeued"] else "no_show"
    if event_type == "ticket.finished":
        return "done"
    raise AssertionError(f"unexpected event {event_type} in this burst")


@dataclass
class Ledger:
    """What the clients were told: only 2xx answers count as committed."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> issue answer
    events: dict[int, dict[str, Any]] = field(default_factory=dict)  # seq -> public event
    unanswered: int = 0  # connection errors: not acknowledged, may or may not have committed
    refused: Counter = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)  # 5xx, or a 4xx nobody should get

    def issued(self, ticket: dict[str, Any]) -> None:
        with self.lock:
            assert ticket["id"] not in self.tickets, ticket
            self.tickets[ticket["id"]] = ticket

    def acted(self, events: list[dict[str, Any]]) -> None:
        with self.lock:
            for event in events:
                assert event["seq"] not in self.events, event
                self.events[event["seq"]] = event

    def lost(self) -> None:
        with self.lock:
            self.unanswered += 1

    def refusal(self, response: requests.Response) -> None:
        with self.lock:
            if response.status_code == 409:
                self.refused[response.json()["error"]["code"]] += 1
            else:
                self.unexpected.append(
                    f"{response.status_code} {response.request.method} "
                    f"{response.request.path_url}: {response.text[:300]}"
                )


class Gate:
    """Lets the controller pause every worker between two requests, and end them."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.stop = threading.Event()
        self._cond = threading.Condition()
        self._open = True
        self._parked = 0

    def checkpoint(self) -> bool:
        """Wait while paused; False once the run is over."""
        with self._cond:
            if not self._open:
                self._parked += 1
                self._cond.notify_all()
                while not self._open and not self.stop.is_set():
                    self._cond.wait(0.1)
                self._parked -= 1
        return not self.stop.is_set()

    def pause(self, timeout_s: float = 15.0) -> None:
        with self._cond:
            self._open = False
            deadline = time.monotonic() + timeout_s
            while self._parked < self.workers:
                left = deadline - time.monotonic()
                assert left > 0, "workers did not pause"
                self._cond.wait(left)

    def resume(self) -> None:
        with self._cond:
            self._open = True
            self._cond.notify_all()

    def end(self) -> None:
        self.stop.set()
        self.resume()


def post(url: str, token: str, body: dict[str, Any] | None = None) -> requests.Response:
    return requests.post(
        url,
        json=body or {},
        headers={"Authorization": f"Bearer {token}"},
        timeout=REQUEST_TIMEOUT_S,
    )


def kiosk_worker(hub: HubProcess, ledger: Ledger, gate: Gate, rng: random.Random) -> None:
    while gate.checkpoint():
        try:
            r = post(
                f"{hub.url}/api/v1/tickets", hub.tokens["kiosk"], {"service": rng.choice(SERVICES)}
            )
        except requests.RequestException:
            ledger.lost()
            time.sleep(0.02)
            continue
        if r.status_code == 201:
            ledger.issued(r.json())
        else:
            ledger.refusal(r)
        time.sleep(rng.uniform(0.005, 0.03))


def clerk_worker(
    hub: HubProcess, window: int, ledger: Ledger, gate: Gate, rng: random.Random
) -> None:
    token = ""
    has_current = False
    while gate.checkpoint():
        if has_current:
            action = rng.choices(("finish", "skip", "recall"), weights=(5, 2, 2))[0]
        else:
            action = "call-next"
        try:
            if not token:  # at the start, and if midnight signed everybody out
                token = hub.login(CLERKS[window], window)
            r = post(f"{hub.url}/api/v1/windows/{window}/{action}", token)
        except requests.RequestException:
            ledger.lost()  # maybe committed, maybe not: the next answer tells where we are
            time.sleep(0.02)
            continue
        if r.ok:
            view = r.json()
            ledger.acted(view["events"])
            has_current = view["current"] is not None
            continue
        code = r.json()["error"]["code"] if r.status_code in (403, 409) else ""
        if code == "not_signed_in":
            token = ""
            continue
        ledger.refusal(r)
        if code == "queue_empty":
            time.sleep(0.01)
        elif code in ("ticket_in_service", "recall_limit"):
            has_current = True
        elif code == "no_current":
            has_current = False
        else:
            time.sleep(0.05)


def read_log(db_path: Path) -> list[tuple[int, str, str, str | None, dict[str, Any]]]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT seq, id, type, ticket_id, data FROM events ORDER BY seq"
        ).fetchall()
    finally:
        conn.close()
    return [(*row[:4], json.loads(row[4])) for row in rows]


def read_projection(db_path: Path) -> tuple[dict[str, str], list[tuple]]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        statuses = dict(conn.execute("SELECT id, status FROM tickets").fetchall())
        duplicates = conn.execute(
            "SELECT day, number, COUNT(*) FROM tickets GROUP BY day, number HAVING COUNT(*) > 1"
        ).fetchall()
        return statuses, duplicates
    finally:
        conn.close()


def get(hub: HubProcess, path: str) -> Any:
    r = requests.get(f"{hub.url}{path}", headers=hub.auth(hub.tokens["screen"]), timeout=5)
    assert r.status_code == 200, (path, r.status_code, r.text)
    return r.json()


def check_log(
    hub: HubProcess, health: dict[str, Any], acked_events: dict[int, dict[str, Any]]
) -> list[tuple]:
    """The event table: seq 1..N, unique ids, and every acknowledged event in it unchanged."""
    assert max(acked_events) <= health["seq"]
    log = read_log(hub.data_dir / DB_FILE)
    assert [row[0] for row in log] == list(range(1, len(log) + 1)), "seq not contiguous"
    assert len(log) == health["seq"]
    assert len({row[1] for row in log}) == len(log), "duplicate event ids"
    for seq, event in acked_events.items():
        assert log[seq - 1][:3] == (seq, event["id"], event["type"]), event
        assert log[seq - 1][3] == event["data"].get("ticket_id"), event
    return log


def check_ticket(view: dict[str, Any], history: list[tuple], told: dict[str, Any] | None) -> None:
    """A ticket's state agrees with its log (acknowledged or not) and with what was told."""
    assert history[0][2] == "ticket.issued"
    _, _, last_type, _, last_data = history[-1]
    assert view["status"] == status_after(last_type, last_data), (view, last_type)
    if told is None:
        assert view["status"] in REACHABLE["waiting"]
        return
    told_status = status_after(told["type"], told["data"])
    if told_status in TERMINAL:
        assert view["status"] == told_status, (view, told)
    else:
        assert view["status"] in REACHABLE[told_status], (view, told)
    if view["status"] == "called" and history[-1][0] == told["seq"]:
        assert view["window"] == told["data"]["window_no"]


def check_against_ledger(hub: HubProcess, ledger: Ledger) -> dict[str, Any]:
    """Everything acknowledged survived, and the hub's state agrees with its own log."""
    health = get(hub, "/healthz")
    with ledger.lock:
        acked_tickets = dict(ledger.tickets)
        acked_events = dict(ledger.events)
    assert acked_tickets and acked_events
    log = check_log(hub, health, acked_events)
    # A ticket's status follows its ticket.* events (not, say, those of its rating).
    history: dict[str, list[tuple]] = {}
    for row in log:
        if row[3] and row[2].startswith("ticket."):
            history.setdefault(row[3], []).append(row)
    last_told = {
        e["data"]["ticket_id"]: e
        for _, e in sorted(acked_events.items())
        if e["type"].startswith("ticket.")
    }

    projection, duplicates = read_projection(hub.data_dir / DB_FILE)
    assert duplicates == []
    numbers = Counter((t["day"], t["number"]) for t in acked_tickets.values())
    assert [k for k, n in numbers.items() if n > 1] == []

    # A ticket may be called without its kiosk having heard back: that answer was cut.
    views = {}
    for ticket_id in acked_tickets.keys() | last_told.keys():
        view = views[ticket_id] = get(hub, f"/api/v1/tickets/{ticket_id}")
        assert view["id"] == ticket_id
        if ticket_id in acked_tickets:
            issued = acked_tickets[ticket_id]
            assert (view["number"], view["day"]) == (issued["number"], issued["day"])
        else:
            assert view["number"] == last_told[ticket_id]["data"]["number"]
        assert projection[ticket_id] == view["status"]  # the projection committed with it
        if view["day"] != health["day"]:  # midnight passed during the test
            assert view["status"] in TERMINAL
            continue
        check_ticket(view, history[ticket_id], last_told.get(ticket_id))

    # No ticket at two windows, and a window's ticket is called there.
    queue = get(hub, "/api/v1/queue")
    assert queue["seq"] == health["seq"]
    current = [(w["no"], w["current"]["id"]) for w in queue["windows"] if w["current"]]
    assert len({t for _, t in current}) == len(current), current
    for no, ticket_id in current:
        view = views.get(ticket_id) or get(hub, f"/api/v1/tickets/{ticket_id}")
        assert (view["status"], view["window"]) == ("called", no), view
    return queue


def test_acknowledged_changes_survive_sigkill(tmp_path):
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    print(f"crash test seed {seed}")
    hub = HubProcess(tmp_path / "data")
    hub.provision(clerks=len(CLERKS))
    hub.start()
    ledger = Ledger()
    gate = Gate(KIOSKS + len(CLERKS))
    threads = []
    try:
        threads = [
            threading.Thread(
                target=kiosk_worker,
                daemon=True,
                args=(hub, ledger, gate, random.Random(rng.random())),
            )
            for _ in range(KIOSKS)
        ]
        threads += [
            threading.Thread(
                target=clerk_worker,
                daemon=True,
                args=(hub, no, ledger, gate, random.Random(rng.random())),
            )
            for no in CLERKS
        ]
        for thread in threads:
            thread.start()
        for round_no in range(ROUNDS):
            time.sleep(rng.uniform(0.6, 1.6))  # the burst…
            hub.kill()  # …cut at a random moment
            time.sleep(rng.uniform(0.05, 0.3))  # the clients keep trying meanwhile
            hub.start()
            time.sleep(0.4)  # and carry on against the restarted hub
            gate.pause()
            before = len(ledger.events)
            queue = check_against_ledger(hub, ledger)
            # The restarted state is what a fresh replay of the store gives.
            hub.kill()
            hub.start()
            assert get(hub, "/api/v1/queue") == queue, f"round {round_no}: replay differs"
            check_against_ledger(hub, ledger)
            assert len(ledger.events) == before
            gate.resume()
        gate.pause()
    finally:
        gate.end()
        for thread in threads:
            thread.join(REQUEST_TIMEOUT_S + 2)
        hub.stop()
    print(
        f"tickets {len(ledger.tickets)}, events {len(ledger.events)}, "
        f"unanswered {ledger.unanswered}, refused {dict(ledger.refused)}"
    )
    assert not any(t.is_alive() for t in threads)
    assert ledger.unexpected == [], ledger.unexpected[:5]
    assert ledger.unanswered > 0, "no request was cut by a kill: the test tested nothing"
    assert len(ledger.tickets) > 20 and len(ledger.events) > 20, (
        len(ledger.tickets),
        len(ledger.events),
    )
    assert set(ledger.refused) <= {
        "queue_empty",
        "recall_limit",
        "ticket_in_service",
        "no_current",
    }, ledger.refused
