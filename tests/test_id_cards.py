"""刷身份证取号 through a real hub: a card read by an agent beside a kiosk becomes a sealed handle
pushed to that kiosk, a ticket issued with it is bound to the person under the per-person
rules, a swipe finds the person's 承诺单 and appointments, and a hub killed right after an
identified issue comes back with the person's count intact. Nothing of the card is stored."""

from __future__ import annotations

import queue
import sqlite3

import pytest
import requests

from hub.engine.persons import mask_name
from tests.hubproc import HALL_24H, HubProcess, hall_today
from tests.test_sockets import Listener

pytestmark = pytest.mark.slow

KIOSK = "test-kiosk"  # the kiosk token's name (tests/hubproc.py)


def with_check(first17: str) -> str:
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


YOUNG = with_check("11010119900307123")  # 36 on the suite's day
OLD = with_check("11010119500307456")  # 76
NAME, OLD_NAME = "欧阳修文", "张三丰"


def card(number: str = YOUNG, name: str = NAME, **more) -> dict:
    return {"number": number, "name": name, "birth": "", "valid_until": "2036-01-01", **more}


class Kiosk(Listener):
    """The kiosk page's socket, with what the hub pushes it as `identity`."""

    def __init__(self, hub) -> None:
        super().__init__(hub, "/kiosk", hub.tokens["kiosk"])
        self.identities: queue.Queue = queue.Queue()
        self.client.on("identity", self.identities.put, namespace="/kiosk")

    def identity(self) -> dict:
        return self.identities.get(timeout=5)


@pytest.fixture
def desk(hub):
    """(agent beside the kiosk, the kiosk) connected to the hub."""
    kiosk = Kiosk(hub)
    kiosk.snapshot()
    agent = Listener(hub, "/device", hub.tokens["agent"], kiosk=KIOSK)
    agent.snapshot()
    yield agent, kiosk
    agent.close()
    kiosk.close()


def swipe(agent, kiosk, payload: dict) -> dict:
    assert agent.call("id_card", payload) == {"ok": True}
    return kiosk.identity()


def swiped(hub, payload: dict | None = None) -> str:
    """The handle a kiosk is pushed for a card read by the agent beside it."""
    kiosk = Kiosk(hub)
    agent = Listener(hub, "/device", hub.tokens["agent"], kiosk=KIOSK)
    try:
        kiosk.snapshot()
        agent.snapshot()
        return swipe(agent, kiosk, payload or card())["handle"]
    finally:
        agent.close()
        kiosk.close()


def issue(hub, service: str, handle: str | None) -> requests.Response:
    return hub.issue(service, **({"identity": handle} if handle else {}))


def test_a_swipe_pushes_a_handle_and_the_masked_name_to_that_kiosk_only(desk):
    agent, kiosk = desk
    pushed = swipe(agent, kiosk, card())
    assert pushed["masked_name"] == "欧阳**" == mask_name(NAME)
    assert pushed["elderly"] is False and pushed["valid_s"] == 120
    assert 0 < len(pushed["handle"]) <= 300
    assert YOUNG not in pushed["handle"] and NAME not in str(pushed)
    assert swipe(agent, kiosk, card(OLD, OLD_NAME))["elderly"] is True


@pytest.mark.parametrize(("payload", "code"), [
    ({"error": "unreadable"}, "id_unreadable"),
    (card(YOUNG[:-1] + ("0" if YOUNG[-1] != "0" else "1")), "id_invalid"),
    (card("12345"), "id_invalid"),
    (card(valid_until="2020-01-01"), "id_expired"),
    (card(valid_until="not a date"), "id_unreadable"),
])
def test_a_card_refused_says_why_to_the_kiosk(desk, payload, code):
    agent, kiosk = desk
    pushed = swipe(agent, kiosk, payload)
    assert pushed["error"] == code and " / " in pushed["message"]
    assert "handle" not in pushed


def test_a_payload_of_the_wrong_shape_is_refused_to_the_agent(desk):
    agent, kiosk = desk
    for bad in ({"number": 5}, "text", {"number": "1" * 65}):
        assert agent.call("id_card", bad)["error"]["code"] == "invalid"
    assert kiosk.identities.empty()
    assert swipe(agent, kiosk, None)["error"] == "id_invalid"  # nothing read: no number


def test_a_card_with_no_end_date_is_read(desk):
    agent, kiosk = desk
    assert "handle" in swipe(agent, kiosk, card(valid_until=None))
    assert "handle" in swipe(agent, kiosk, card(valid_until="长期"))


def test_an_agent_with_no_kiosk_has_nowhere_to_send_a_card(hub):
    agent = Listener(hub, "/device", hub.tokens["agent"], windows=[1])
    try:
        agent.snapshot()
        answer = agent.call("id_card", card())
        assert answer["ok"] is False and answer["error"]["code"] == "no_kiosk"
    finally:
        agent.close()


def test_identified_tickets_one_open_per_item_and_an_elderly_priority_ticket(hub, desk):
    agent, kiosk = desk
    handle = swipe(agent, kiosk, card())["handle"]
    first = issue(hub, "S1", handle)
    assert first.status_code == 201, first.text
    assert first.json()["identified"] is True and first.json()["elderly"] is False
    again = issue(hub, "S1", handle)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "identity_open_ticket"
    assert YOUNG not in again.text and NAME not in again.text
    assert issue(hub, "S2", handle).status_code == 201  # another item
    old = issue(hub, "S1", swipe(agent, kiosk, card(OLD, OLD_NAME))["handle"]).json()
    assert (old["channel"], old["priority"], old["elderly"]) == ("elderly", True, True)
    forged = issue(hub, "S1", handle[:-4] + "AAAA")
    assert forged.status_code == 409 and forged.json()["error"]["code"] == "identity_stale"
    asked = hub.issue("S1", channel="elderly")
    assert asked.status_code == 422  # only a card makes an elderly ticket


def test_the_kiosk_socket_issues_with_the_handle_too(hub, desk):
    agent, kiosk = desk
    handle = swipe(agent, kiosk, card())["handle"]
    answer = kiosk.call("issue_ticket", {"service": "S1", "identity": handle})
    assert answer["ok"] and answer["result"]["ticket"]["identified"] is True
    refused = kiosk.call("issue_ticket", {"service": "S1", "identity": handle})
    assert refused["error"]["code"] == "identity_open_ticket"


def test_the_daily_cap_refuses_with_when_to_come_back(hub, desk):
    agent, kiosk = desk
    handle = swipe(agent, kiosk, card())["handle"]
    for service in ("S1", "S2", "S3"):
        assert issue(hub, service, handle).status_code == 201
    capped = issue(hub, "S4", handle)
    assert capped.status_code == 409
    assert capped.json()["error"]["code"] == "identity_daily_cap"
    assert int(capped.headers["Retry-After"]) > 0
    assert "20" in capped.json()["error"]["message"]  # the date to come back on


def test_the_lookup_by_swipe_finds_the_person_s_appointments_and_nothing_of_others(hub, desk):
    agent, kiosk = desk
    office = hub.auth(hub.login("super"))
    booked = requests.post(f"{hub.url}/api/v1/appointments", headers=office, timeout=5, json={
        "code": "YY-ID-1", "service": "S1", "day": hall_today().isoformat(), "id_number": YOUNG})
    assert booked.status_code == 201, booked.text
    assert YOUNG not in booked.text
    bad = requests.post(f"{hub.url}/api/v1/appointments", headers=office, timeout=5, json={
        "code": "YY-ID-2", "service": "S1", "day": hall_today().isoformat(),
        "id_number": "123"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "id_invalid"
    handle = swipe(agent, kiosk, card())["handle"]
    found = requests.post(f"{hub.url}/api/v1/identity/lookup", headers=hub.auth(
        hub.tokens["kiosk"]), json={"identity": handle}, timeout=5)
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["identity"] == {"masked_name": "欧阳**", "elderly": False}
    assert [a["code"] for a in body["appointments"]] == ["YY-ID-1"]
    assert body["slips"] == []
    other = swipe(agent, kiosk, card(OLD, OLD_NAME))["handle"]
    by_socket = kiosk.call("lookup_identity", {"identity": other})
    assert by_socket["ok"] and by_socket["result"]["appointments"] == []
    stale = requests.post(f"{hub.url}/api/v1/identity/lookup", headers=hub.auth(
        hub.tokens["kiosk"]), json={"identity": "x" * 40}, timeout=5)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "identity_stale"
    screen = requests.post(f"{hub.url}/api/v1/identity/lookup", headers=hub.auth(
        hub.tokens["screen"]), json={"identity": handle}, timeout=5)
    assert screen.status_code == 403


def test_a_hub_killed_after_an_identified_issue_keeps_the_person_s_count(tmp_path):
    hub = HubProcess(tmp_path / "data")
    hub.provision()
    hub.start()
    try:
        handle = swiped(hub)
        assert issue(hub, "S1", handle).status_code == 201
        hub.kill()  # SIGKILL: no shutdown, no snapshot
        hub.start()
        again = issue(hub, "S1", handle)  # the same swipe, still valid: any hub takes it
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "identity_open_ticket"
    finally:
        hub.stop()
    db = sqlite3.connect(tmp_path / "data" / "onestop.db")
    rows = db.execute("SELECT day, person, birth_year, masked_name FROM identity_links").fetchall()
    db.close()
    assert len(rows) == 1
    day, person, birth_year, masked = rows[0]
    assert (day, birth_year, masked) == (hall_today().isoformat(), 1990, "欧阳**")
    assert len(person) == 64 and person != YOUNG
    key = tmp_path / "data" / "id.key"
    assert key.stat().st_mode & 0o777 == 0o600
    stored = b"".join(p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file()
                      and p.name != "id.key")
    for secret in (YOUNG, NAME):
        assert secret.encode() not in stored and secret.encode("utf-16-le") not in stored


def silent_hall(directory) -> object:
    path = directory / "hall-silent.toml"
    text = HALL_24H.read_text(encoding="utf-8")
    assert "[identity]\ntotp_roles = []\n" in text
    path.write_text(text.replace("[identity]\ntotp_roles = []\n",
                                 "[identity]\ntotp_roles = []\nsilent_calling = true\n"),
                    encoding="utf-8")
    return path


def test_silent_calling_pushes_the_masked_name_to_the_window_s_screen_only(tmp_path):
    hub = HubProcess(tmp_path / "data", config=silent_hall(tmp_path))
    hub.provision()
    hub.start()
    screens = []
    try:
        hall = Listener(hub, "/display", hub.tokens["screen"], room="hall")
        window = Listener(hub, "/display", hub.tokens["screen"], room="window:1")
        agent = Listener(hub, "/device", hub.tokens["agent"], windows=[1])
        screens = [hall, window, agent]
        for listener in screens:
            listener.snapshot()
        issued = issue(hub, "S1", swiped(hub, card(OLD, OLD_NAME))).json()
        assert issued["elderly"] is True
        clerk = hub.login("clerk1", 1)
        assert hub.act(clerk, 1, "call-next").json()["current"]["number"] == issued["number"]
        at_window = window.next_event("ticket.called")["data"]
        assert at_window["masked_name"] == "张**"
        for other in (hall, agent):  # the hall's screen and the voice's agent: no name
            assert "masked_name" not in other.next_event("ticket.called")["data"]
        capability = issued["link"].rsplit("/", 1)[1]
        phone = requests.get(f"{hub.url}/api/v1/citizen/{capability}", timeout=5).json()
        assert phone["called"]["masked_name"] == "张**" and phone["elderly"] is True
        again = Listener(hub, "/display", hub.tokens["screen"], room="window:1")
        screens.append(again)
        mine = again.snapshot()["windows"][0]["current"]
        assert mine["number"] == issued["number"] and mine["masked_name"] == "张**"
        hall_again = Listener(hub, "/display", hub.tokens["screen"], room="hall")
        screens.append(hall_again)
        assert "masked_name" not in str(hall_again.snapshot())
        assert OLD_NAME not in hub.log() and OLD not in hub.log()
    finally:
        for listener in screens:
            listener.close()
        hub.stop()
