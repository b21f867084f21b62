"""扫码取号 against a real hub process: the poster's secret of the day, a ticket taken on a phone
through the kiosk's rules (hours, suspension) on channel `scan`, the day's limits per device and
per network address (kept across a hub restart), and yesterday's poster refused after midnight
(a set clock, so nothing depends on today's date).
"""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
import requests

from hub.clock import SetClock
from hub.runtime import open_database
from tests.hubproc import HALL_24H, HubProcess, hall_today
from tests.waiting import eventually

pytestmark = pytest.mark.slow

ZONE = ZoneInfo("Asia/Shanghai")
DEVICE_A, DEVICE_B, DEVICE_C = "a" * 32, "b" * 32, "c" * 32


def limited_hall(directory, device: int = 2, address: int = 3):
    """The test hall with small limits, and item S4 open only 01:00-02:00 (the suite's clock
    reads a Wednesday morning)."""
    text = HALL_24H.read_text(encoding="utf-8")
    head, _, s4 = text.partition('code = "S4"')
    s4 = s4.replace('hours = "allday"', 'hours = "night"', 1)
    text = (head + 'code = "S4"' + s4 + '\n[hours.night]\nweekdays = [1, 2, 3, 4, 5, 6, 7]\n'
            'periods = [["01:00", "02:00"]]\n\n[kiosk]\nvoice_prompts = false\n\n'
            f'[citizen]\ntake_per_device_per_day = {device}\n'
            f'take_per_address_per_day = {address}\n')
    path = directory / "hall-limited.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def hub(tmp_path, request):
    hub = HubProcess(tmp_path / "data", config=limited_hall(tmp_path))
    hub.provision()
    hub.start()
    request.addfinalizer(hub.stop)
    hub.tokens["office"] = hub.login("super")
    return hub


def poster(hub) -> dict:
    r = requests.get(f"{hub.url}/api/v1/poster", headers=hub.auth(hub.tokens["office"]),
                     timeout=5)
    assert r.status_code == 200, r.text
    return r.json()


def secret_of(answer: dict) -> str:
    return answer["url"].rsplit("/", 1)[1]


def take(hub, secret: str, device: str, service: str = "S1") -> requests.Response:
    return requests.post(f"{hub.url}/api/v1/citizen/take", timeout=10,
                         json={"poster": secret, "service": service, "device": device})


def test_the_poster_is_the_days_url_and_takes_a_ticket_on_channel_scan(hub):
    today = poster(hub)
    assert today["day"] == hall_today().isoformat()
    secret = secret_of(today)
    assert today["url"] == f"{hub.url}/q/{secret}" and len(secret) >= 43  # 256 bits
    assert today["svg"].startswith("<svg")
    page = requests.get(today["url"], timeout=5)
    assert page.status_code == 200 and "企业设立登记" in page.text
    r = take(hub, secret, DEVICE_A)
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    ticket = hub.full_ticket(f"{hall_today():%Y%m%d}-{number}")
    assert ticket["channel"] == "scan" and ticket["status"] == "waiting"
    # Only the poster issues on channel scan: a kiosk asking for it is refused.
    refused = hub.issue("S1", channel="scan")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid"
    # The key lives in the data directory, readable by the hub's user alone.
    key = hub.data_dir / "poster.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.read_text().strip() not in hub.log()


def test_a_forged_or_other_poster_is_refused_alike(hub):
    real = secret_of(poster(hub))
    for forged in ("x" * 43, real[:-1] + ("A" if real[-1] != "A" else "E"), "%00"):
        r = take(hub, forged, DEVICE_A)
        assert r.status_code in (404, 422), r.text
        page = requests.get(f"{hub.url}/q/{forged}", timeout=5)
        assert page.status_code == 404 and "扫描大厅今天张贴" in page.text
    assert take(hub, "x" * 43, DEVICE_A).json()["error"]["code"] == "unknown_poster"


def test_outside_hours_and_suspended_items_are_refused_as_at_the_kiosk(hub):
    secret = secret_of(poster(hub))
    kiosk = hub.issue("S4")
    phone = take(hub, secret, DEVICE_A, "S4")
    assert (phone.status_code, phone.json()["error"]["code"]) == (
        kiosk.status_code, kiosk.json()["error"]["code"]) == (409, "closed")
    office = hub.auth(hub.tokens["office"])
    requests.post(f"{hub.url}/api/v1/services/S2/close", headers=office,
                  json={"reason": "系统维护"}, timeout=5).raise_for_status()
    kiosk = hub.issue("S2")
    phone = take(hub, secret, DEVICE_A, "S2")
    assert (phone.status_code, phone.json()["error"]["code"]) == (
        kiosk.status_code, kiosk.json()["error"]["code"]) == (409, "service_closed")
    page = requests.get(f"{hub.url}/q/{secret}", timeout=5).text
    assert "暂停办理" in page and "系统维护" in page and "不在办理时间" in page
    # Refusals count for nothing: this phone still has its two tickets of the day.
    assert take(hub, secret, DEVICE_A).status_code == 201
    assert take(hub, secret, DEVICE_A).status_code == 201


def test_the_limits_per_device_and_per_address_hold_across_a_restart(hub):
    secret = secret_of(poster(hub))
    assert [take(hub, secret, DEVICE_A).status_code for _ in range(2)] == [201, 201]
    third = take(hub, secret, DEVICE_A)
    assert third.status_code == 429, third.text
    assert third.json()["error"]["code"] == "take_limit_device"
    assert "明天" in third.json()["error"]["message"]
    assert "tomorrow" in third.json()["error"]["message"]
    # Retry-After: until the hall's midnight, by the hub's clock.
    assert 0 < int(third.headers["Retry-After"]) <= 24 * 3600
    assert take(hub, secret, DEVICE_B).status_code == 201  # the address's third
    fourth = take(hub, secret, DEVICE_C)
    assert fourth.status_code == 429 and fourth.json()["error"]["code"] == "take_limit_address"

    hub.stop()
    hub.start()
    assert take(hub, secret, DEVICE_A).json()["error"]["code"] == "take_limit_device"
    assert take(hub, secret, DEVICE_C).json()["error"]["code"] == "take_limit_address"
    # Only keyed hashes are stored: neither the device id nor the address.
    db = open_database(hub.data_dir)
    rows = [dict(r) for r in db.query("SELECT * FROM citizen_takes")]
    db.close()
    assert len(rows) == 3 and all(r["ticket_id"] for r in rows)
    stored = " ".join(str(v) for r in rows for v in r.values())
    assert DEVICE_A not in stored and "127.0.0.1" not in stored


def test_yesterdays_poster_stops_at_the_halls_midnight(tmp_path, request):
    """A hub whose clock reads 23:59:52 a few seconds after it starts: the poster taken before
    midnight is refused after it, and the new day's poster works."""
    start = time.time() + 6
    clock = SetClock(dt.datetime(2026, 11, 25, 23, 59, 52, tzinfo=ZONE), anchor=start)
    hub = HubProcess(tmp_path / "data", config=limited_hall(tmp_path), clock=clock.spec())
    hub.provision()
    hub.start()
    request.addfinalizer(hub.stop)
    hub.tokens["office"] = hub.login("super")
    before = poster(hub)
    assert before["day"] == "2026-11-25", "the hub started too slowly for this test's clock"
    secret = secret_of(before)
    assert take(hub, secret, DEVICE_A).status_code == 201
    midnight = dt.datetime(2026, 11, 26, tzinfo=ZONE)
    while clock() < midnight + dt.timedelta(seconds=0.5):
        time.sleep(0.1)
    after = take(hub, secret, DEVICE_B)
    assert after.status_code == 404 and after.json()["error"]["code"] == "unknown_poster"
    assert requests.get(before["url"], timeout=5).status_code == 404
    today = eventually(lambda: (p := poster(hub))["day"] == "2026-11-26" and p,
                       what="the new day's poster")
    assert secret_of(today) != secret
    assert take(hub, secret_of(today), DEVICE_A).status_code == 201  # a new day's count
    db = open_database(hub.data_dir)
    days = [r["day"] for r in db.query("SELECT day FROM citizen_takes")]
    db.close()
    assert days == ["2026-11-26"]  # yesterday's counts forgotten with their day
