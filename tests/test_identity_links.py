"""刷身份证取号 in the hub's service, in process on an injected clock: the sealed handle's life,
the id key's rotation, housekeeping's thinning of the identity links (audited by count), silent
calling's masked name on the window's screen and the phone page only, and the voice never
saying a name."""

from __future__ import annotations

import os
import subprocess
import sys

import msgspec
import pytest

from devices.voice.text import announcement
from hub import presenters, shapes
from hub.config import HallConfig
from hub.engine import DomainError
from hub.service import HallService
from hub.service.identity import HANDLE_VALID_S, KEY_FILE, rotate_id_key
from hub.store.audit import AuditLog
from tests.test_id_cards import NAME, OLD, OLD_NAME, YOUNG, card
from tests.test_store import KIOSK, Clock, act, rows, sign_in


def hall(cfg: HallConfig, **identity) -> HallConfig:
    return msgspec.structs.replace(
        cfg, identity=msgspec.structs.replace(cfg.identity, **identity))


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def service(cfg, db, clock) -> HallService:
    return HallService(hall(cfg, silent_calling=True), db, clock=clock)


def swipe(service: HallService, number: str = YOUNG, name: str = NAME) -> str:
    pushed = service.read_id_card("k", shapes.convert(card(number, name), shapes.IdCard))
    return pushed["handle"]


def test_a_handle_holds_for_its_time_then_asks_for_a_new_swipe(service, clock):
    handle = swipe(service)
    clock.advance(seconds=HANDLE_VALID_S - 1)
    assert service.issue_ticket(KIOSK, "S1", identity=handle)["identified"]
    clock.advance(seconds=2)
    with pytest.raises(DomainError) as stale:
        service.issue_ticket(KIOSK, "S2", identity=handle)
    assert stale.value.code == "identity_stale"


def test_a_key_rotation_keeps_handles_links_and_today_s_count(service, db_path):
    before = swipe(service)
    assert service.issue_ticket(KIOSK, "S1", identity=before)["identified"]
    old_key = (db_path.parent / KEY_FILE).read_bytes()
    rotate_id_key(db_path.parent)
    assert (db_path.parent / KEY_FILE).read_bytes() != old_key
    assert os.stat(db_path.parent / KEY_FILE).st_mode & 0o777 == 0o600
    # The handle sealed before still opens; the person is the same person today.
    with pytest.raises(DomainError) as refused:
        service.issue_ticket(KIOSK, "S1", identity=before)
    assert refused.value.code == "identity_open_ticket"
    with pytest.raises(DomainError) as refused:
        service.issue_ticket(KIOSK, "S1", identity=swipe(service))
    assert refused.value.code == "identity_open_ticket"
    rotate_id_key(db_path.parent)  # twice: the first key is gone, and its handles with it
    with pytest.raises(DomainError) as stale:
        service.issue_ticket(KIOSK, "S2", identity=before)
    assert stale.value.code == "identity_stale"


def test_housekeeping_clears_names_after_the_day_and_deletes_links_after_link_days(
        service, clock, db_path):
    service.issue_ticket(KIOSK, "S1", identity=swipe(service))
    links = "SELECT day, birth_year, masked_name FROM identity_links"
    day = service.current_day().isoformat()
    service.tick()
    assert rows(db_path, links) == [(day, 1990, "欧阳**")]  # its day goes on
    clock.advance(days=1)
    service.tick()
    assert rows(db_path, links) == [(day, 1990, None)]
    clock.advance(days=service.cfg.identity.link_days - 1)
    service.tick()
    assert len(rows(db_path, links)) == 1  # link_days not yet past
    clock.advance(days=1)
    service.tick()
    assert rows(db_path, links) == []
    audit = [r for r in AuditLog(service.db).records() if r["action"] == "identity-links-expired"]
    assert [(r["detail"]["names_cleared"], r["detail"]["links_deleted"]) for r in audit] == [
        (1, 0), (0, 1)]
    assert AuditLog(service.db).verify().ok


def test_silent_calling_shows_the_masked_name_at_the_window_and_on_the_phone_only(service):
    issued = service.issue_ticket(KIOSK, "S1", identity=swipe(service), base_url="http://h/")
    plain = service.issue_ticket(KIOSK, "S1")
    assert service.identity.called_name(issued["id"]) is None  # waiting: nothing shown
    sign_in(service, 1)
    act(service, 1, "call-next")
    assert service.identity.called_name(issued["id"]) == "欧阳**"
    capability = issued["link"].rsplit("/", 1)[1]
    assert service.citizen.view(capability)["called"]["masked_name"] == "欧阳**"
    snap = service.snapshot()
    assert "masked_name" not in str(snap)  # the hall screen's snapshot: never
    mine = presenters.window_screen_snapshot(snap, 1, service.identity.called_name(issued["id"]))
    assert mine["windows"][0]["current"]["masked_name"] == "欧阳**"
    act(service, 1, "finish", outcome="immediate")
    assert service.identity.called_name(issued["id"]) is None  # gone from the window
    act(service, 1, "call-next")
    assert service.identity.called_name(plain["id"]) is None  # no card, no name


def test_without_silent_calling_no_name_is_shown(cfg, db, clock):
    service = HallService(cfg, db, clock=clock)
    issued = service.issue_ticket(KIOSK, "S1", identity=swipe(service), base_url="http://h/")
    sign_in(service, 1)
    act(service, 1, "call-next")
    assert service.identity.called_name(issued["id"]) is None
    capability = issued["link"].rsplit("/", 1)[1]
    assert "masked_name" not in service.citizen.view(capability)["called"]


def test_the_voice_never_says_a_name(service):
    """The call sentences take the number and the window only; the events agents (and so the
    speakers) get never carry the masked name, silent calling or not."""
    issued = service.issue_ticket(KIOSK, "S1", identity=swipe(service, OLD, OLD_NAME))
    sign_in(service, 1)
    called = act(service, 1, "call-next")
    for event in called["events"]:
        public = presenters.public_event(event)
        assert public is None or "masked_name" not in public["data"]
    said = " ".join(seg.text for form in ("sit/cmn", "sit/cmn-latn-pinyin")
                    for seg in announcement(issued["number"], 1, voice=form, english=True))
    for text in (OLD_NAME, "张*", "张", "丰"):
        assert text not in said


def test_a_card_within_the_elderly_age_and_one_short_of_it(cfg, db, clock):
    service = HallService(hall(cfg, elderly_age=36), db, clock=clock)
    # YOUNG was born on 7 March 1990: 36 on the suite's day (24 November 2026).
    assert service.read_id_card("k", shapes.convert(card(), shapes.IdCard))["elderly"] is True
    service.cfg = hall(cfg, elderly_age=37)
    assert service.read_id_card("k", shapes.convert(card(), shapes.IdCard))["elderly"] is False


def test_expired_cards_are_taken_when_the_hall_says_so(cfg, db, clock):
    service = HallService(hall(cfg, accept_expired_cards=True), db, clock=clock)
    pushed = service.read_id_card("k", shapes.convert(card(valid_until="2020-01-01"),
                                                      shapes.IdCard))
    assert "handle" in pushed


def test_nothing_of_the_card_reaches_the_log(service, caplog):
    caplog.set_level("DEBUG")
    handle = swipe(service)
    service.read_id_card("k", shapes.convert(card(YOUNG[:-1] + "0"), shapes.IdCard))
    service.issue_ticket(KIOSK, "S1", identity=handle)
    for secret in (YOUNG, NAME, YOUNG[:-1] + "0"):
        assert secret not in caplog.text
    assert "card read" in caplog.text.lower() or "ID card read" in caplog.text



def test_the_rotate_key_command_keeps_the_key_before(tmp_path):
    data = tmp_path / "data"

    def rotate() -> str:
        done = subprocess.run([sys.executable, "-m", "hub.cli", "identity", "rotate-key",
                               "--data", str(data)], capture_output=True, text=True, timeout=60,
                              check=True)
        return done.stdout + done.stderr

    said = rotate()
    first = (data / KEY_FILE).read_text()
    said += rotate()
    assert (data / (KEY_FILE + ".previous")).read_text() == first != (data / KEY_FILE).read_text()
    for name in (KEY_FILE, KEY_FILE + ".previous"):
        assert (data / name).stat().st_mode & 0o777 == 0o600
    assert first.strip() not in said  # the key is never printed


def forget(data, number: str, by: str, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hub.cli", *options, "identity", "forget",
                           "--data", str(data), "--by", by], input=number + "\n",
                          capture_output=True, text=True, timeout=60, check=False)


def test_the_forget_command_deletes_one_citizen_s_links_under_both_keys(service, db_path):
    from hub.auth import Role
    from hub.store.accounts import Accounts
    from tests.hubproc import PASSWORD

    accounts = Accounts(service.db)
    accounts.add_user("boss", PASSWORD, Role.SUPERVISOR, "主任", "JZ001", service.clock())
    accounts.add_user("li", PASSWORD, Role.CLERK, "李四", "C002", service.clock())
    service.issue_ticket(KIOSK, "S1", identity=swipe(service))
    rotate_id_key(db_path.parent)  # the citizen's first link is under the previous key now
    service.issue_ticket(KIOSK, "S2", identity=swipe(service))
    service.issue_ticket(KIOSK, "S1", identity=swipe(service, OLD, OLD_NAME))
    links = "SELECT birth_year FROM identity_links ORDER BY birth_year"
    assert rows(db_path, links) == [(1950,), (1990,), (1990,)]

    refused = forget(db_path.parent, YOUNG, "li")  # a clerk cannot
    assert refused.returncode != 0 and "supervisor or admin" in refused.stderr
    refused = forget(db_path.parent, YOUNG[:-1] + "0", "boss")  # a wrong check digit
    assert refused.returncode != 0 and "not a valid ID number" in refused.stderr
    assert len(rows(db_path, links)) == 3

    done = forget(db_path.parent, YOUNG, "boss")
    assert done.returncode == 0, done.stderr
    assert "deleted 2 link(s)" in done.stdout
    assert rows(db_path, links) == [(1950,)]  # the other citizen's link stays
    assert YOUNG not in done.stdout + done.stderr
    audit = [r for r in AuditLog(service.db).records()
             if r["action"] == "identity-links-forgotten"]
    assert [(r["account"], r["detail"]) for r in audit] == [("boss", {"links_deleted": 2})]
    assert AuditLog(service.db).verify().ok


def test_a_forget_request_in_a_hall_that_never_linked_a_card_is_audited_too(service, db_path):
    """No id key yet (no card ever read): nothing to delete, but the citizen's request was
    handled, so it is on the audit record like any other; and no key is made for it."""
    from hub.auth import Role
    from hub.store.accounts import Accounts
    from tests.hubproc import PASSWORD

    Accounts(service.db).add_user("boss", PASSWORD, Role.SUPERVISOR, "主任", "JZ001",
                                  service.clock())
    assert not (db_path.parent / KEY_FILE).exists()
    # Dated by the process's clock (`--clock`), like every record of the hall.
    done = forget(db_path.parent, YOUNG, "boss", "--clock", "2031-07-14T10:00:00+08:00")
    assert done.returncode == 0, done.stderr
    assert YOUNG not in done.stdout + done.stderr
    audit = [r for r in AuditLog(service.db).records()
             if r["action"] == "identity-links-forgotten"]
    assert [(r["account"], r["detail"]) for r in audit] == [("boss", {"links_deleted": 0})]
    assert str(audit[0]["at"]).startswith("2031-07-14")
    assert not (db_path.parent / KEY_FILE).exists()
