"""The citizen's phone links against a real hub process: a ticket's capability minted with it
and kept only hashed, its view, one refusal for anything else (forged, malformed, another
day's), the complaint, the rating's route, the per-address limit. The /citizen namespace's
pushes are in tests/test_citizen_sockets.py, the printed QR in tests/test_kiosk_printing.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from pathlib import Path

import pytest
import requests

from tests.hubproc import HALL_24H, SUITE_START, HubProcess
from tests.waiting import eventually

pytestmark = pytest.mark.slow

# A day of the hall and the next, on set clocks: nothing here depends on the day tests run.
MORNING = SUITE_START.isoformat()
NEXT_MORNING = (SUITE_START + dt.timedelta(days=1)).isoformat()


def limited_hall(directory: Path, per_minute: int = 10, burst: int = 3) -> Path:
    path = directory / "hall-limited.toml"
    path.write_text(HALL_24H.read_text(encoding="utf-8")
                    + f"\n[citizen]\nrequests_per_minute = {per_minute}\nburst = {burst}\n",
                    encoding="utf-8")
    return path


@pytest.fixture
def hub(tmp_path):
    found = HubProcess(tmp_path / "hub", clock=MORNING)
    found.provision()
    found.start()
    yield found
    found.stop()


def capability_of(link: str) -> str:
    return link.rsplit("/t/", 1)[1]


def view(hub: HubProcess, capability: str) -> requests.Response:
    return requests.get(f"{hub.url}/api/v1/citizen/{capability}", timeout=5)


def test_a_ticket_carries_its_phone_link_and_the_store_keeps_only_its_hash(hub, tmp_path):
    issued = hub.issue("S1")
    assert issued.status_code == 201
    link = issued.json()["link"]
    assert link.startswith(f"{hub.url}/t/")
    capability = capability_of(link)
    assert len(capability) == 22  # 128 bits, URL-safe
    assert view(hub, capability).status_code == 200
    hub.stop()  # the WAL checkpointed: every byte the store holds is in these files
    stored = b"".join(p.read_bytes() for p in (tmp_path / "hub").glob("*.db*"))
    assert capability.encode() not in stored
    digest = hashlib.sha256(capability.encode()).hexdigest()
    with sqlite3.connect(tmp_path / "hub" / "onestop.db") as db:
        rows = db.execute("SELECT hash, kind, ref, day FROM citizen_links").fetchall()
    assert rows == [(digest, "ticket", issued.json()["id"], issued.json()["day"])]
    assert capability not in hub.log()


def test_a_waiting_ticket_s_view_shows_its_place_and_nothing_personal(hub):
    first = hub.issue("S1").json()
    second = hub.issue("S1").json()
    seen = view(hub, capability_of(second["link"]))
    assert seen.status_code == 200
    got = seen.json()
    assert (got["number"], got["service"], got["status"], got["people_ahead"]) == (
        second["number"], "S1", "waiting", 1)
    assert got["estimated_wait_minutes"] >= 1
    assert [w["no"] for w in got["windows"]] == second["windows"]
    assert got["called"] is None and got["rating"] is None and got["can_rate"] is False
    assert got["materials"] and got["reasons"] and got["complaint_categories"]
    assert first["id"] not in seen.text and first["number"] not in seen.text  # no other ticket
    assert "clerk" not in seen.text and "id" not in got


def test_forged_malformed_and_another_day_s_links_are_refused_alike(hub):
    capability = capability_of(hub.issue("S1").json()["link"])
    forged = capability[:-1] + ("A" if capability[-1] != "A" else "B")
    answers = [view(hub, c) for c in (forged, "x" * 22, "short", "%E4%BD%A0" * 3,
                                      "a" * 64)]
    assert [a.status_code for a in answers] == [404] * len(answers)
    assert {a.json()["error"]["code"] for a in answers} == {"unknown_link"}
    assert len({a.text for a in answers}) == 1  # one answer: no oracle
    hub.stop()
    hub.clock = NEXT_MORNING  # the same store the next day: the ticket's link ended with its day
    hub.start()
    expired = view(hub, capability)
    assert (expired.status_code, expired.text) == (404, answers[0].text)


def test_housekeeping_deletes_the_links_of_a_day_gone(tmp_path, monkeypatch):
    hub = HubProcess(tmp_path / "hub", clock=MORNING)
    hub.provision()
    hub.start()
    try:
        hub.issue("S1")
        hub.stop()
        monkeypatch.setenv("ONESTOP_TICK_S", "0.2")
        hub.clock = NEXT_MORNING
        hub.start()

        def links() -> int:
            with sqlite3.connect(tmp_path / "hub" / "onestop.db") as db:
                return db.execute("SELECT COUNT(*) FROM citizen_links").fetchone()[0]

        eventually(lambda: links() == 0, what="yesterday's links deleted")
    finally:
        hub.stop()


def test_a_complaint_from_the_phone_is_filed_as_a_kiosk_s_with_source_phone(hub):
    capability = capability_of(hub.issue("S1").json()["link"])
    filed = requests.post(f"{hub.url}/api/v1/citizen/{capability}/complaint",
                          json={"category": "efficiency", "text": "等了很久"}, timeout=5)
    assert filed.status_code == 201, filed.text
    office = hub.login("super")
    cases = requests.get(f"{hub.url}/api/v1/cases", headers=hub.auth(office), timeout=5).json()
    [case] = [c for c in cases["cases"] if c.get("complaint_id") == filed.json()["id"]]
    assert (case["kind"], case["source"]) == ("complaint", "phone")
    refused = requests.post(f"{hub.url}/api/v1/citizen/{'B' * 22}/complaint",
                            json={"category": "efficiency", "text": "x"}, timeout=5)
    assert refused.status_code == 404


def test_the_phone_rates_its_finished_ticket_once(hub):
    capability = capability_of(hub.issue("S1").json()["link"])
    rate = f"{hub.url}/api/v1/citizen/{capability}/rating"
    early = requests.post(rate, json={"level": 1}, timeout=5)
    assert early.status_code == 409  # not finished yet
    assert view(hub, capability).json()["can_rate"] is False
    clerk = hub.login("clerk1", 1)
    assert hub.act(clerk, 1, "call-next").ok
    assert hub.act(clerk, 1, "finish", outcome="immediate").ok
    assert view(hub, capability).json()["can_rate"] is True
    rated = requests.post(rate, json={"level": 1}, timeout=5)
    assert rated.status_code == 200, rated.text
    got = rated.json()
    assert got["rating"] == {"status": "rated", "level": 1, "channel": "phone"}
    assert got["can_rate"] is False
    again = requests.post(rate, json={"level": 2}, timeout=5)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_rated")


def test_one_address_past_its_limit_is_told_when_to_come_back(tmp_path):
    hub = HubProcess(tmp_path / "hub", config=limited_hall(tmp_path, per_minute=10, burst=3),
                     clock=MORNING)
    hub.provision()
    hub.start()
    try:
        capability = capability_of(hub.issue("S1").json()["link"])
        codes = [view(hub, capability).status_code for _ in range(3)]
        refused = view(hub, capability)
        assert codes == [200, 200, 200]
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 7  # one request back in 6 s
        forged = view(hub, "C" * 22)  # a guesser is limited before anything is looked up
        assert forged.status_code == 429
        assert hub.issue("S1").status_code == 201  # the staff's and devices' routes are not
    finally:
        hub.stop()


def stored_links(directory: Path) -> list[tuple]:
    with sqlite3.connect(directory / "onestop.db") as db:
        return db.execute("SELECT hash, kind, ref, expires_at FROM citizen_links "
                          "ORDER BY hash").fetchall()


def slip_of(hub: HubProcess, link: str) -> tuple[str, str]:
    """A ticket called and finished as a 承诺件 at window 1: its slip number and capability."""
    clerk = hub.login("clerk1", 1)
    assert hub.act(clerk, 1, "call-next").ok
    done = hub.act(clerk, 1, "finish", outcome="commitment")
    assert done.ok, done.text
    slip = next(e for e in done.json()["events"] if e["type"] == "ticket.finished")[
        "data"]["outcome"]["slip"]
    return slip, capability_of(link)


def test_a_slips_link_is_made_with_the_slip_and_reading_it_writes_nothing(hub, tmp_path):
    slip, capability = slip_of(hub, hub.issue("S1").json()["link"])
    made = stored_links(tmp_path / "hub")
    [minted] = [row for row in made if row[1:3] == ("slip", slip)]
    for _ in range(2):
        shown = view(hub, capability).json()["slip"]
        assert shown["number"] == slip and shown["link"].startswith(f"{hub.url}/s/")
        slip_cap = shown["link"].rsplit("/", 1)[1]
        assert hashlib.sha256(slip_cap.encode()).hexdigest() == minted[0]  # the one printed
        page = requests.get(shown["link"], timeout=5)
        assert page.status_code == 200 and slip in page.text
    assert stored_links(tmp_path / "hub") == made  # the reads wrote nothing
    assert slip_cap not in hub.log()


def test_a_slip_made_before_links_were_derived_keeps_its_links(hub, tmp_path):
    """A store of the version that gave each slip a random link, and the ticket's page a link of
    its own stored at its first read: both still open the slip; a reprint then stores the
    derived link, which the ticket's page shows from then on."""
    from hub.service.citizen import ticket_slip_capability
    from hub.store.citizen_links import link_hash
    from tests.test_kiosk_printing import Client

    slip, capability = slip_of(hub, hub.issue("S1").json()["link"])
    hub.stop()
    printed, shown = "P" * 22, ticket_slip_capability(capability, slip)  # as that version had
    with sqlite3.connect(tmp_path / "hub" / "onestop.db") as db:
        (day, expires, created), = db.execute(
            "SELECT day, expires_at, created_at FROM citizen_links WHERE kind = 'slip'")
        db.execute("DELETE FROM citizen_links WHERE kind = 'slip'")
        db.executemany("INSERT INTO citizen_links VALUES (?, 'slip', ?, ?, ?, ?)",
                       [(link_hash(c), slip, day, expires, created) for c in (printed, shown)])
    hub.start()
    before = stored_links(tmp_path / "hub")
    assert view(hub, capability).json()["slip"]["link"] == f"{hub.url}/s/{shown}"
    for old in (printed, shown):
        assert requests.get(f"{hub.url}/s/{old}", timeout=5).status_code == 200
    assert stored_links(tmp_path / "hub") == before

    hub.issue("S2")  # a kiosk's request: the hub learns the address its links are made with
    panel = Client(hub.url, "/caller", {"token": hub.login("clerk1", 1)})
    try:
        assert panel.call("print_slip", {"slip": slip})["ok"]  # no printer: stored all the same
    finally:
        panel.close()
    derived = view(hub, capability).json()["slip"]["link"]
    assert derived not in (f"{hub.url}/s/{shown}", f"{hub.url}/s/{printed}")
    assert requests.get(derived, timeout=5).status_code == 200
    slips = [row for row in stored_links(tmp_path / "hub") if row[1] == "slip"]
    assert len(slips) == 3  # the two old links and the derived one
