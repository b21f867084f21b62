"""Changing the hall while it runs (art. 6 动态管理).

In process (HallService with a controllable clock): a change applies, is committed as
`config.reloaded` and audited; a change that would strand today's tickets or clerks is refused
with nothing changed. Then a real hub: `onestop reload` after editing its file, the screens'
`config.reloaded`, an invalid file refused; and the admin page in Chromium.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from hub.auth import Principal, Role
from hub.config import HallConfig, load_config
from hub.engine import DomainError
from hub.hall_file import config_hash, diff, parse_text, quick_edit
from hub.service import HallService
from hub.store.database import Database
from tests.hubproc import HALL_24H, PASSWORD, SUITE_CLOCK, HubProcess
from tests.test_store import KIOSK, act, clock, sign_in  # noqa: F401 - fixtures

ADMIN = Principal(role=Role.ADMIN, name="admin")
TEXT = HALL_24H.read_text(encoding="utf-8")


@pytest.fixture
def hall(db, clock) -> HallService:  # noqa: F811
    service = HallService(load_config(HALL_24H), db, clock=clock)
    service.config_hash = config_hash(TEXT)
    return service


def changed(text: str) -> tuple[HallConfig, str]:
    return parse_text(text, "hall.toml"), config_hash(text)


def without_service(text: str, code: str) -> str:
    """The test hall without item `code` (its [[services]] entry and every window's mention)."""
    blocks = re.split(r"(?m)^(?=\[\[)", text)
    kept = [b for b in blocks if not (b.startswith("[[services]]") and f'code = "{code}"' in b)]
    return "".join(kept).replace(f', "{code}"', "").replace(f'"{code}", ', "")


def without_window(text: str, no: int) -> str:
    blocks = re.split(r"(?m)^(?=\[\[)", text)
    kept = [b for b in blocks if not (b.startswith("[[windows]]") and f"\nno = {no}\n" in b)]
    return re.sub(rf"(?m)^backup = {no}\n", "", "".join(kept))


def audit_actions(hall: HallService) -> list[tuple[str, str]]:
    return [(r["action"], r["outcome"]) for r in hall.audit.records(limit=50)]


# --- in process ------------------------------------------------------------------------------


def test_a_quota_change_applies_is_committed_and_audited(hall):
    text = quick_edit(TEXT, hall.cfg, {"service": "S1", "daily_quota": 2})
    cfg, new_hash = changed(text)
    result = hall.reload(ADMIN, cfg, "admin", new_hash)
    assert result["applied"] and result["summary"] == {"services": {"changed": ["S1"]}}
    assert hall.cfg.service("S1").daily_quota == 2 and hall.engine.cfg is hall.cfg
    assert hall.config_hash == new_hash
    record = hall.store.records_after(0)[-1]
    assert record.type == "config.reloaded"
    assert record.event.hash == new_hash and record.event.by == "admin"
    assert ("reload-config", "ok") in audit_actions(hall)
    entry = hall.audit.records(limit=1)[-1]
    assert entry["detail"]["changes"] == {"services": {"changed": ["S1"]}}
    # The new quota holds at once.
    hall.issue_ticket(KIOSK, "S1")
    hall.issue_ticket(KIOSK, "S1")
    with pytest.raises(DomainError) as err:
        hall.issue_ticket(KIOSK, "S1")
    assert err.value.code == "quota_exhausted"
    # The same file again: nothing to do, no event.
    seq = hall.state.seq
    assert not hall.reload(ADMIN, cfg, "admin", new_hash)["applied"]
    assert hall.state.seq == seq


def test_only_an_admin_reloads(hall):
    cfg, new_hash = changed(quick_edit(TEXT, hall.cfg, {"service": "S1", "daily_quota": 5}))
    with pytest.raises(DomainError) as err:
        hall.reload(Principal(role=Role.SUPERVISOR, name="super"), cfg, "admin", new_hash)
    assert err.value.code == "forbidden"


def test_removing_an_item_with_waiting_tickets_is_refused_and_changes_nothing(hall):
    sign_in(hall, 3)
    ticket = hall.issue_ticket(KIOSK, "S4")
    before, seq = hall.cfg, hall.state.seq
    cfg, new_hash = changed(without_service(TEXT, "S4"))
    with pytest.raises(DomainError) as err:
        hall.reload(ADMIN, cfg, "admin", new_hash)
    assert err.value.code == "config_refused"
    assert "S4" in err.value.message and "不能删除" in err.value.message
    assert hall.cfg is before and hall.engine.cfg is before
    assert hall.config_hash == config_hash(TEXT) and hall.state.seq == seq
    assert ("reload-config", "config_refused") in audit_actions(hall)
    # A prefix change is refused the same way while the ticket waits.
    cfg, new_hash = changed(TEXT.replace('prefix = "C"', 'prefix = "D"'))
    with pytest.raises(DomainError, match="prefix"):
        hall.reload(ADMIN, cfg, "admin", new_hash)
    # Once served, the item can go; its ticket stays readable with its number and item.
    hall.window_action(Principal(role=Role.CLERK, name="clerk3", window=3), 3, "call",
                       {"number": ticket["number"]})
    with pytest.raises(DomainError):  # called, not finished: still refused
        hall.reload(ADMIN, cfg, "admin", new_hash)


def test_removing_an_item_without_tickets_applies_and_old_tickets_stay_readable(hall):
    sign_in(hall, 4)
    ticket = hall.issue_ticket(KIOSK, "S4")
    act(hall, 4, "call-next")
    act(hall, 4, "finish", outcome="immediate")
    cfg, new_hash = changed(without_service(TEXT, "S4"))
    result = hall.reload(ADMIN, cfg, "admin", new_hash)
    assert result["summary"]["services"] == {"removed": ["S4"]}
    assert not hall.cfg.has_service("S4")
    view = hall.ticket(ADMIN, ticket["id"])
    assert view["number"] == ticket["number"] and view["service"] == "S4"
    assert view["service_name"] == "S4" and view["windows"] == []
    assert hall.snapshot()["windows"]  # screens still render
    hall.tick()  # supervision runs over the old ticket without the item


def test_removing_a_window_with_a_clerk_is_refused(hall):
    sign_in(hall, 4)
    cfg, new_hash = changed(without_window(TEXT, 4).replace('services = ["S3"]',
                                                           'services = ["S3", "S4"]'))
    with pytest.raises(DomainError, match="clerk4"):
        hall.reload(ADMIN, cfg, "admin", new_hash)
    assert hall.cfg.has_window(4)
    act(hall, 4, "pause", reason="暂离")
    hall.window_action(Principal(role=Role.CLERK, name="clerk4", window=4), 4, "resume", {})
    hall.execute(None, lambda s, now: hall.engine.sign_out(s, now, 4))
    summary = hall.reload(ADMIN, cfg, "admin", new_hash)["summary"]
    assert summary["windows"] == {"removed": [4], "changed": [3]}
    assert [w["no"] for w in hall.snapshot()["windows"]] == [1, 2, 3]


def test_a_time_zone_change_needs_a_restart(hall):
    cfg, new_hash = changed(TEXT.replace('timezone = "Asia/Shanghai"', 'timezone = "Asia/Urumqi"'))
    with pytest.raises(DomainError, match="restart"):
        hall.reload(ADMIN, cfg, "admin", new_hash)


def second_hub(db_path, clock, text: str = TEXT) -> HallService:  # noqa: F811
    """Another HallService on the same database file, started on its own copy of `text`: on
    SQLite as on PostgreSQL, `_commit` catches up with the other's events in its transaction."""
    other = HallService(parse_text(text), Database(db_path), clock=clock)
    other.config_hash = config_hash(text)
    return other


def test_the_text_is_stored_with_its_event_and_another_hub_decides_with_it(
    hall, db_path, clock  # noqa: F811
):
    other = second_hub(db_path, clock)
    text = quick_edit(TEXT, hall.cfg, {"service": "S1", "daily_quota": 1})
    cfg, new_hash = changed(text)
    hall.reload(ADMIN, cfg, "admin", new_hash, text=text)
    stored = hall.configs.current()
    assert stored is not None and (stored.hash, stored.toml, stored.source) == (
        new_hash, text, "admin")
    assert hall.store.records_after(stored.seq - 1, limit=1)[0].type == "config.reloaded"
    # The other hub still runs its file until it applies the event, then decides with the new
    # quota at once: its first ticket is the one ticket of the day, the next one is refused.
    assert other.cfg.service("S1").daily_quota == 999
    other.issue_ticket(KIOSK, "S1")
    assert other.config_hash == new_hash and other.engine.cfg is other.cfg
    assert other.cfg.service("S1").daily_quota == 1
    with pytest.raises(DomainError) as err:
        other.issue_ticket(KIOSK, "S1")
    assert err.value.code == "quota_exhausted"
    # The hub that reloaded does not swap a second time (it never catches up on its own event).
    with pytest.raises(DomainError, match="quota"):
        hall.issue_ticket(KIOSK, "S1")
    assert hall.cfg is cfg
    other.db.close()


def test_a_hub_starting_records_its_file_or_runs_the_store_s(hall, db_path, clock):  # noqa: F811
    assert hall.configs.current() is None
    hall.adopt_hall_file(TEXT)
    first = hall.configs.current()
    assert first is not None and first.hash == config_hash(TEXT) and first.source == "start"
    hall.adopt_hall_file(TEXT)  # the same file again: nothing new recorded
    assert hall.configs.current() == first
    edited = quick_edit(TEXT, hall.cfg, {"service": "S2", "daily_quota": 7})
    # One hub per SQLite file: a file edited while the hub was stopped runs, and is recorded.
    alone = second_hub(db_path, clock, edited)
    alone.adopt_hall_file(edited)
    assert alone.cfg.service("S2").daily_quota == 7
    assert hall.configs.current().hash == config_hash(edited)
    # Several hubs on one store (shared): a hub starting on a stale copy runs the store's.
    shared = second_hub(db_path, clock)
    shared.db.shared = True  # what a PgDatabase says
    shared.adopt_hall_file(TEXT)
    assert shared.config_hash == config_hash(edited)
    assert shared.cfg.service("S2").daily_quota == 7 and shared.engine.cfg is shared.cfg
    assert hall.configs.current().hash == config_hash(edited)
    for other in (alone, shared):
        other.db.close()


def test_diff_and_quick_edits_keep_the_rest_of_the_file():
    cfg = load_config(HALL_24H)
    text = quick_edit(TEXT, cfg, {"window": 1, "services": ["S2", "S1"], "backup": None})
    new = parse_text(text)
    assert new.window(1).services == ["S2", "S1"] and new.window(1).backup is None
    assert diff(cfg, new) == {"windows": {"changed": [1]}}
    assert text.count("\n") == TEXT.count("\n") - 1  # one line changed, the backup line gone
    text = quick_edit(text, new, {"window": 1, "backup": 2})
    assert parse_text(text).window(1).backup == 2
    text = quick_edit(TEXT, cfg, {"service": "S3", "daily_quota": 50, "hours": "allday"})
    assert parse_text(text).service("S3").daily_quota == 50
    with pytest.raises(KeyError):
        quick_edit(TEXT, cfg, {"service": "S9", "daily_quota": 1})


# --- a real hub ------------------------------------------------------------------------------


def reload_cmd(hub: HubProcess, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", "reload", "--data", str(hub.data_dir), *extra],
        capture_output=True, text=True, timeout=30, check=False)


@pytest.fixture
def own_hub(tmp_path):
    """A hub on its own copy of the test hall (the test edits the file), with an admin."""
    config = tmp_path / "hall.toml"
    shutil.copyfile(HALL_24H, config)
    proc = HubProcess(tmp_path / "data", config=config)
    proc.provision()
    from hub.runtime import open_database
    from hub.store.accounts import Accounts

    database = open_database(proc.data_dir)
    Accounts(database).add_user("admin", PASSWORD, Role.ADMIN, "管理员", "JZ999",
                                SUITE_CLOCK())
    database.close()
    proc.start()
    yield proc
    proc.stop()


def health(hub: HubProcess) -> dict:
    return requests.get(f"{hub.url}/healthz", timeout=5).json()


@pytest.mark.slow
def test_onestop_reload_applies_an_edited_file_and_screens_hear_of_it(own_hub):
    import socketio

    hub = own_hub
    assert (hub.data_dir / "hub.pid").read_text().strip() == str(hub.proc.pid)
    first = health(hub)["config"]
    assert first == config_hash(hub.config.read_bytes())
    screen = socketio.Client(reconnection=False)
    heard: list[dict] = []
    screen.on("event", heard.append, namespace="/display")
    screen.connect(hub.url, namespaces=["/display"], auth={"token": hub.tokens["screen"]},
                   transports=["websocket"], wait_timeout=10)
    try:
        text = quick_edit(hub.config.read_text(encoding="utf-8"), load_config(hub.config),
                          {"service": "S2", "daily_quota": 20})
        hub.config.write_text(text, encoding="utf-8")
        done = reload_cmd(hub)
        assert done.returncode == 0, done.stderr + hub.log()
        assert "applied" in done.stdout
        assert health(hub)["config"] == config_hash(text) != first
        deadline = time.monotonic() + 5
        while not [e for e in heard if e["type"] == "config.reloaded"]:
            assert time.monotonic() < deadline, heard
            time.sleep(0.05)
        event = next(e for e in heard if e["type"] == "config.reloaded")
        assert event["data"] == {"hash": config_hash(text)}  # nothing else on a screen
        services = requests.get(f"{hub.url}/api/v1/services", timeout=5,
                                headers=hub.auth(hub.tokens["kiosk"])).json()["services"]
        assert next(s for s in services if s["code"] == "S2")["daily_quota"] == 20
    finally:
        screen.disconnect()

    # An invalid file: refused here (exit 2), the hub runs on unchanged.
    seq = health(hub)["seq"]
    hub.config.write_text(text.replace("daily_quota = 20", "daily_quota = 0"), encoding="utf-8")
    bad = reload_cmd(hub)
    assert bad.returncode == 2 and "daily_quota" in bad.stderr, bad.stderr
    assert health(hub)["config"] == config_hash(text) and health(hub)["seq"] == seq
    # A file the hub refuses (a live ticket's item removed): exit 1 with the hub's reason.
    assert hub.issue("S4").status_code == 201
    hub.config.write_text(without_service(text, "S4"), encoding="utf-8")
    refused = reload_cmd(hub)
    assert refused.returncode == 1 and "S4" in refused.stderr, refused.stderr + hub.log()
    assert health(hub)["config"] == config_hash(text)
    assert json.loads((hub.data_dir / "reload-result.json").read_text())["ok"] is False
    assert hub.proc.poll() is None


@pytest.mark.slow
def test_reload_without_a_hub_says_so(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    done = subprocess.run([sys.executable, "-m", "hub.cli", "reload", "--data", str(data),
                           "--config", str(HALL_24H)],
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 1 and "no hub runs" in done.stderr


@pytest.mark.slow
def test_admin_api_checks_and_applies_with_a_backup(own_hub):
    hub = own_hub
    admin = hub.auth(hub.login("admin"))
    got = requests.get(f"{hub.url}/api/v1/admin/config", headers=admin, timeout=5).json()
    assert got["editable"] and got["toml"] == hub.config.read_text(encoding="utf-8")
    sup = hub.auth(hub.login("super"))
    assert not requests.get(f"{hub.url}/api/v1/admin/config", headers=sup,
                            timeout=5).json()["editable"]
    bad = requests.post(f"{hub.url}/api/v1/admin/config/check", headers=sup, timeout=5,
                        json={"toml": got["toml"].replace("daily_quota = 999", "daily_quota = 0",
                                                          1)}).json()
    assert bad["problems"][0]["key"] == "services[0].daily_quota"
    edit = requests.post(f"{hub.url}/api/v1/admin/config/edit", headers=admin, timeout=5,
                         json={"edit": {"service": "S1", "daily_quota": 30}}).json()
    assert edit["problems"] == [] and edit["summary"] == {"services": {"changed": ["S1"]}}
    r = requests.post(f"{hub.url}/api/v1/admin/config", headers=sup, timeout=5,
                      json={"toml": edit["toml"]})
    assert r.status_code == 403
    r = requests.post(f"{hub.url}/api/v1/admin/config", headers=admin, timeout=5,
                      json={"toml": edit["toml"]})
    assert r.ok and r.json()["applied"], r.text
    assert hub.config.read_text(encoding="utf-8") == edit["toml"]
    assert Path(r.json()["backup"]).read_text(encoding="utf-8") == got["toml"]
    assert health(hub)["config"] == config_hash(edit["toml"])


@pytest.mark.slow
def test_admin_page_validates_and_applies_a_quota_change(own_hub):
    """Chromium: an admin signs in, an invalid edit shows ConfigError's key and reason, the
    quick-edit form prepares a quota change and 应用 applies it; screenshot and axe."""
    from tests import test_display_pages as pages  # skips here when there is no Chromium

    hub = own_hub
    with pages.playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=pages.CHROMIUM, args=pages.CHROMIUM_ARGS)
        try:
            page = pages.open_page(browser, f"{hub.url}/office/admin", 1920, 1080)
            page.fill("#username", "admin")
            page.fill("#password", PASSWORD)
            page.click("#signin-form button[type=submit]")
            page.wait_for_function(
                "() => document.querySelector('#toml').value.includes('[[windows]]')",
                timeout=pages.TIMEOUT_MS)
            text = page.input_value("#toml")
            page.fill("#toml", text.replace('prefix = "B"', 'prefix = "b"'))
            page.click("#check")
            pages.text_has(page, "#result", "services[2].prefix")
            pages.text_has(page, "#result", "must be 1-2 uppercase letters")
            page.click("#revert")
            page.select_option("#item-code", "S3")
            page.fill("#item-quota", "77")
            page.click("#item-form button[type=submit]")
            pages.text_has(page, "#result", "S3")
            assert "daily_quota = 77" in page.input_value("#toml")
            page.click("#apply")
            pages.text_has(page, "#result", "已应用")
            assert load_config(hub.config).service("S3").daily_quota == 77
            assert health(hub)["config"] == config_hash(hub.config.read_bytes())
            pages.text_has(page, "#hash", health(hub)["config"])
            pages.shot(page, "office-admin-1920x1080.png")
            pages.no_serious_axe_violations(page)
            pages.only_local(page, hub.url)
            assert not page.errors, page.errors
            page.close()
            # A supervisor reads the file but cannot change it.
            page = pages.open_page(browser, f"{hub.url}/office/admin", 1920, 1080)
            page.fill("#username", "super")
            page.fill("#password", PASSWORD)
            page.click("#signin-form button[type=submit]")
            pages.text_has(page, "#mode", "只读")
            assert page.eval_on_selector("#toml", "e => e.readOnly")
            assert page.is_hidden("#apply") and page.is_hidden("#quick")
        finally:
            browser.close()
