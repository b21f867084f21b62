"""身份鉴别: the hall's password policy, the second factor (TOTP, RFC 6238) and the idle limit of
staff sessions, held to account at a frozen clock: the rules alone, the store, the CLI, and a
real hub's HTTP API and Socket.IO over loopback (in this process, so its clock can be moved)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
import socketio
from werkzeug.serving import make_server

from hub.auth import Role
from hub.config import ConfigError, load_config
from hub.config.schema import Identity
from hub.identity import (
    PolicyRefusal,
    character_classes,
    check_password,
    password_expired,
    totp_code,
    totp_match,
    totp_step,
)
from hub.runtime import open_database
from hub.service import HallService
from hub.store.accounts import Accounts
from hub.web.app import create_app
from tests.hubproc import HALL_24H, PASSWORD, free_port
from tests.test_display_pages import browser  # noqa: F401 - the module's browser fixture

T0 = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)  # 10:00 in the hall
# RFC 6238 appendix B's SHA-1 key, "12345678901234567890", in base32.
RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


class Clock:
    """The hub's clock, frozen, moved by the test."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


# --- the rules alone --------------------------------------------------------------------------


def refusal(policy: Identity, password: str, username: str = "") -> str | None:
    try:
        check_password(policy, password, username)
    except PolicyRefusal as err:
        return err.code
    return None


def test_the_default_policy_asks_for_ten_characters_of_three_classes():
    policy = Identity()
    assert refusal(policy, "Ab1-xyz") == "password_too_short"
    assert refusal(policy, "abcdefghij12") == "password_too_simple"  # lower + digit
    assert refusal(policy, "Clerk1-secret", "clerk1") == "password_has_username"
    assert refusal(policy, "Correct-horse") is None  # upper, lower, other
    assert refusal(policy, PASSWORD) is None  # the suite's: lower, digit, other
    assert character_classes("密码密码Ab1") == 4  # a Chinese character is an "other"


def test_a_refusal_is_said_in_the_halls_languages():
    with pytest.raises(PolicyRefusal) as err:
        check_password(Identity(password_min_length=12), "Short-1")
    assert "12" in str(err.value) and "/" in str(err.value)  # "密码至少… / a password needs…"


def test_a_password_expires_after_the_halls_days_and_never_with_zero():
    policy = Identity(password_expiry_days=90)
    assert not password_expired(policy, T0, T0 + dt.timedelta(days=89, hours=23))
    assert password_expired(policy, T0, T0 + dt.timedelta(days=90))
    assert not password_expired(Identity(password_expiry_days=0), T0, T0 + dt.timedelta(
        days=9999))


def test_totp_codes_are_rfc_6238s():
    # Appendix B: at T = 59 s the 8-digit SHA-1 code is 94287082; ours are its last 6 digits.
    when = dt.datetime.fromtimestamp(59, dt.UTC)
    assert totp_code(RFC_SECRET, totp_step(when)) == "287082"
    when = dt.datetime.fromtimestamp(1111111109, dt.UTC)  # 07081804
    assert totp_code(RFC_SECRET, totp_step(when)) == "081804"
    assert totp_match(RFC_SECRET, "081804", when) == totp_step(when)
    assert totp_match(RFC_SECRET, "081 804", when + dt.timedelta(seconds=30)) is not None
    assert totp_match(RFC_SECRET, "081804", when + dt.timedelta(seconds=90)) is None
    assert totp_match(RFC_SECRET, "08180", when) is None
    assert totp_match(RFC_SECRET, "abcdef", when) is None


@pytest.mark.parametrize(("line", "key"), [
    ("password_min_length = 6", "identity.password_min_length"),
    ("password_min_classes = 5", "identity.password_min_classes"),
    ("password_expiry_days = -1", "identity.password_expiry_days"),
    ("password_history = 99", "identity.password_history"),
    ('totp_roles = ["kiosk"]', "identity.totp_roles"),
    ("idle_minutes_office = 0", "identity.idle_minutes_office"),
])
def test_the_hall_file_refuses_a_weaker_or_impossible_identity_section(tmp_path, line, key):
    hall = tmp_path / "hall.toml"
    hall.write_text(hall_text(None).replace("[identity]\n", f"[identity]\n{line}\n"),
                    encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(hall)
    assert err.value.key == key


# --- the store --------------------------------------------------------------------------------


def test_a_password_of_the_last_n_is_refused_and_an_older_one_taken(tmp_path):
    accounts = Accounts(open_database(tmp_path))
    policy = Identity(password_history=2)
    accounts.add_user("li", "First-pass-1", Role.CLERK, "李", "JZ001", T0, policy=policy)
    accounts.set_password("li", "Second-pass-2", T0, policy)
    for old in ("First-pass-1", "Second-pass-2"):
        with pytest.raises(PolicyRefusal) as err:
            accounts.set_password("li", old, T0, policy)
        assert err.value.code == "password_reused"
    accounts.set_password("li", "Third-pass-3", T0, policy)
    accounts.set_password("li", "First-pass-1", T0, policy)  # three back: allowed again
    with pytest.raises(PolicyRefusal):
        accounts.set_password("li", "short", T0, policy)
    accounts.db.close()


def test_an_account_from_before_the_migration_expires_from_its_creation(tmp_path):
    accounts = Accounts(open_database(tmp_path))
    accounts.add_user("li", PASSWORD, Role.CLERK, "李", "JZ001", T0)
    assert accounts.user("li")["password_changed_at"].startswith("2026-11-25T02:00")
    assert accounts.previous_hashes("li", 5) == [accounts.user("li")["password_hash"]]
    accounts.db.close()


# --- the CLI ----------------------------------------------------------------------------------


def onestop(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hub.cli", *args], input=stdin, text=True,
                          capture_output=True, timeout=60, env={**os.environ}, check=False)


def test_the_cli_holds_passwords_to_the_policy_and_enrols_an_authenticator(tmp_path):
    data = str(tmp_path / "data")
    weak = onestop("user", "add", "boss", "--role", "supervisor", "--data", data,
                   stdin="password12\n")
    assert weak.returncode != 0
    assert "at least 3 of" in weak.stderr and "Traceback" not in weak.stderr
    made = onestop("user", "add", "boss", "--role", "supervisor", "--data", data,
                   stdin="Chief-password-1\n")
    assert made.returncode == 0, made.stderr
    again = onestop("user", "passwd", "boss", "--data", data, stdin="Chief-password-1\n")
    assert again.returncode != 0 and "last 5" in again.stderr
    enrolled = onestop("user", "totp-enroll", "boss", "--data", data)
    assert enrolled.returncode == 0, enrolled.stderr
    uri, secret = enrolled.stdout.splitlines()[:2]
    assert uri.startswith("otpauth://totp/") and "boss" in uri
    secret = secret.removeprefix("secret: ")
    assert f"secret={secret}" in uri
    accounts = Accounts(open_database(data))
    assert accounts.user("boss")["totp_secret"] == secret
    accounts.db.close()


# --- a real hub over loopback, at a frozen clock ------------------------------------------


def hall_text(totp_roles: str | None) -> str:
    """The test hall with its own `totp_roles` line (None: the hall file's default)."""
    line = "" if totp_roles is None else f"totp_roles = {totp_roles}\n"
    return HALL_24H.read_text(encoding="utf-8").replace("[identity]\ntotp_roles = []\n",
                                                        f"[identity]\n{line}")


class Hall:
    def __init__(self, tmp_path: Path, text: str) -> None:
        path = tmp_path / "hall.toml"
        path.write_text(text, encoding="utf-8")
        self.clock = Clock(T0)
        self.db = open_database(tmp_path / "data")
        self.accounts = Accounts(self.db)
        self.accounts.add_user("super", PASSWORD, Role.SUPERVISOR, "督查员", "JZ900", T0)
        self.accounts.add_user("clerk1", PASSWORD, Role.CLERK, "职员1", "JZ001", T0)
        self.service = HallService(load_config(path), self.db, clock=self.clock)
        self.app, self.socketio = create_app(self.service, async_mode="threading")
        self.port = free_port()
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.port}"

    def login(self, username: str, window: int | None = None, **more) -> requests.Response:
        body = {"username": username, "password": PASSWORD, **more}
        if window is not None:
            body["window"] = window
        return requests.post(f"{self.url}/api/v1/login", json=body, timeout=10)

    def queue(self, token: str) -> requests.Response:
        return requests.get(f"{self.url}/api/v1/queue", timeout=10,
                            headers={"Authorization": f"Bearer {token}"})

    def code(self, secret: str, steps_later: int = 0) -> str:
        return totp_code(secret, totp_step(self.clock()) + steps_later)

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(10)
        self.db.close()


@pytest.fixture
def office_hall(tmp_path):
    """The hall's default: supervisors and admins give a one-time code."""
    hall = Hall(tmp_path, hall_text(None))
    yield hall
    hall.close()


@pytest.fixture
def plain_hall(tmp_path):
    hall = Hall(tmp_path, hall_text("[]"))
    yield hall
    hall.close()


def code_of(r: requests.Response) -> str:
    return r.json()["error"]["code"]


def test_a_supervisor_without_an_authenticator_is_told_to_get_one(office_hall):
    r = office_hall.login("super")
    assert (r.status_code, code_of(r)) == (403, "otp_not_enrolled")
    assert office_hall.login("clerk1", 1).status_code == 200  # clerks: optional, not enrolled


def test_totp_sign_in_valid_wrong_replayed_and_missing(office_hall):
    hall = office_hall
    secret = hall.accounts.enrol_totp("super")
    r = hall.login("super")
    assert (r.status_code, code_of(r)) == (401, "otp_required")
    r = hall.login("super", otp=str((int(hall.code(secret)) + 1) % 10**6).zfill(6))
    assert (r.status_code, code_of(r)) == (401, "otp_invalid")
    code = hall.code(secret)
    r = hall.login("super", otp=code)
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "supervisor"
    r = hall.login("super", otp=code)  # the same code again, still within its step
    assert (r.status_code, code_of(r)) == (401, "otp_replayed")
    hall.clock.advance(seconds=30)
    assert hall.login("super", otp=hall.code(secret)).status_code == 200
    # A code from three minutes ago is no code.
    r = hall.login("super", otp=hall.code(secret, steps_later=-6))
    assert code_of(r) == "otp_invalid"


def test_wrong_and_missing_codes_count_toward_the_lockout(office_hall):
    hall = office_hall
    secret = hall.accounts.enrol_totp("super")
    # otp_invalid, otp_required, otp_required, otp_invalid: four failures, the fifth locks.
    for otp in ("000000", None, None, "999999", None):
        r = hall.login("super", **({"otp": otp} if otp else {}))
        assert r.status_code == 401
    r = hall.login("super", otp=hall.code(secret))
    assert (r.status_code, code_of(r)) == (429, "too_many_attempts")


def test_an_expired_password_is_changed_with_the_old_one_then_signs_in(office_hall):
    hall = office_hall
    secret = hall.accounts.enrol_totp("clerk1")  # an enrolled clerk gives a code too
    hall.clock.advance(days=90)
    r = hall.login("clerk1", 1, otp=hall.code(secret))
    assert (r.status_code, code_of(r)) == (403, "password_expired")

    def change(new: str, **more) -> requests.Response:
        hall.clock.advance(seconds=30)  # a new step: each try gives a fresh code
        body = {"username": "clerk1", "password": PASSWORD, "new_password": new,
                "otp": hall.code(secret), **more}
        return requests.post(f"{hall.url}/api/v1/change-password", json=body, timeout=10)

    assert code_of(change("Short-1")) == "password_too_short"
    assert code_of(change("alllowercase12")) == "password_too_simple"
    assert code_of(change(PASSWORD)) == "password_reused"
    r = change("Short-1", otp="000000")
    assert (r.status_code, code_of(r)) == (401, "otp_invalid")
    assert change("New-password-9").status_code == 204
    hall.clock.advance(seconds=30)
    r = hall.login("clerk1", 1, otp=hall.code(secret))
    assert r.status_code == 401  # the old password is gone
    r = requests.post(f"{hall.url}/api/v1/login", timeout=10, json={
        "username": "clerk1", "password": "New-password-9", "window": 1,
        "otp": hall.code(secret)})
    assert r.status_code == 200, r.text


def test_an_idle_session_is_refused_on_the_api_and_its_socket_dropped(plain_hall):
    hall = plain_hall
    token = hall.login("super").json()["token"]
    client = socketio.Client(reconnection=False)
    signed_out: list[dict] = []
    ended = threading.Event()

    def on_signed_out(data: dict) -> None:
        signed_out.append(data)
        ended.set()

    client.on("signed_out", on_signed_out, namespace="/monitor")
    client.connect(hall.url, namespaces=["/monitor"], auth={"token": token},
                   transports=["polling"], wait_timeout=10)
    try:
        # Used every 29 minutes, the office's session lives on past its 30-minute limit ...
        for _ in range(3):
            hall.clock.advance(minutes=29)
            assert hall.queue(token).status_code == 200
        hall.clock.advance(minutes=29)
        ack = client.call("decide_return", {"ticket_id": "nope", "approve": True},
                          namespace="/monitor", timeout=10)
        assert ack["error"]["code"] != "session_idle"  # an event is a use too
        # ... and unused for longer, it is refused, with a code that says why.
        hall.clock.advance(minutes=31)
        r = hall.queue(token)
        assert (r.status_code, code_of(r)) == (401, "session_idle")
        ack = client.call("decide_return", {"ticket_id": "nope", "approve": True},
                          namespace="/monitor", timeout=10)
        assert ack["error"]["code"] == "session_idle"
        hall.app.extensions["onestop_sweep"]()  # the hub's housekeeping drops the socket
        assert ended.wait(10)
        assert signed_out == [{"reason": "session_idle"}]
    finally:
        client.disconnect()
    refused = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        refused.connect(hall.url, namespaces=["/monitor"], auth={"token": token},
                        transports=["polling"], wait_timeout=10)


def test_a_clerks_idle_limit_is_the_halls_clerk_setting(plain_hall):
    hall = plain_hall
    token = hall.login("clerk1", 1).json()["token"]
    hall.clock.advance(minutes=119)
    assert hall.queue(token).status_code == 200
    hall.clock.advance(minutes=121)
    assert code_of(hall.queue(token)) == "session_idle"


# --- the office page, in a real browser ---------------------------------------------------


@pytest.mark.slow
def test_the_office_page_asks_for_the_code_when_the_hub_does(browser, tmp_path):  # noqa: F811
    from tests.hubproc import SUITE_CLOCK, HubProcess
    from tests.test_display_pages import TIMEOUT_MS, open_page, text_has

    hall = tmp_path / "hall.toml"
    hall.write_text(hall_text(None), encoding="utf-8")  # the office gives a one-time code
    hub = HubProcess(tmp_path / "data", config=hall)
    hub.provision()
    accounts = Accounts(open_database(hub.data_dir))
    secret = accounts.enrol_totp("super")
    accounts.db.close()
    hub.start()
    try:
        page = open_page(browser, f"{hub.url}/office/", 1280, 800)
        assert page.is_hidden("#otp-row")
        page.fill("#username", "super")
        page.fill("#password", PASSWORD)
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#otp-row:not([hidden])", timeout=TIMEOUT_MS)
        text_has(page, "#error", "动态口令")
        page.fill("#otp", totp_code(secret, totp_step(SUITE_CLOCK())))  # the hub's clock
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#monitor:not([hidden])", timeout=TIMEOUT_MS)
        text_has(page, "#conn", "已连接")
    finally:
        hub.stop()


@pytest.mark.slow
def test_the_clerk_panel_changes_an_expired_password_then_signs_in(browser, tmp_path):  # noqa: F811
    from tests.hubproc import SUITE_CLOCK, HubProcess
    from tests.test_display_pages import TIMEOUT_MS, open_page, text_has

    hub = HubProcess(tmp_path / "data")  # the test hall: clerks give no code
    hub.provision(clerks=0)
    accounts = Accounts(open_database(hub.data_dir))
    accounts.add_user("old", PASSWORD, Role.CLERK, "老职员", "JZ077",
                      SUITE_CLOCK() - dt.timedelta(days=91))  # past the 90 days
    accounts.db.close()
    hub.start()
    try:
        page = open_page(browser, f"{hub.url}/caller/", 1280, 800)
        page.fill("#username", "old")
        page.fill("#password", PASSWORD)
        page.select_option("#window-select", "1")
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#new-password-row:not([hidden])", timeout=TIMEOUT_MS)
        text_has(page, "#error", "密码已过期")
        page.fill("#new-password", "short")  # the policy's refusal, said on the page
        page.click("#signin-form button[type=submit]")
        text_has(page, "#error", "至少需要10个字符")
        page.fill("#new-password", "Fresh-password-7")
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#new-password-row", state="hidden", timeout=TIMEOUT_MS)
        text_has(page, "#info", "密码已修改")
        page.fill("#password", "Fresh-password-7")
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#panel:not([hidden])", timeout=TIMEOUT_MS)
    finally:
        hub.stop()
