"""Agent tokens bound to what they serve (least privilege): a device agent's token names the
kiosks and windows it may serve, and the hub refuses (`agent_not_bound`) a connect that declares
anything else, so a stolen or misconfigured agent token cannot act as another kiosk's scanner,
printer or ID card reader, nor another window's keypads or slip printer. A token made before
bindings (unbound) still works, with a warning, and the CLI lists it as unbound."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import socketio

from hub.auth import AgentBinding, Role
from hub.runtime import open_database
from hub.store import database
from hub.store.accounts import Accounts
from tests.hubproc import SUITE_CLOCK, HubProcess
from tests.pgredis import postgres_or_skip
from tests.test_sockets import Listener
from tests.waiting import eventually

pytestmark = pytest.mark.slow

KIOSK_AGENT = AgentBinding(kiosks=("test-kiosk",), windows=())
WINDOWS_AGENT = AgentBinding(kiosks=(), windows=(1, 2))


@pytest.fixture
def hall(tmp_path):
    """A hub with the usual tokens (test-agent unbound) and two bound agents' tokens."""
    hub = HubProcess(tmp_path / "data")
    hub.provision()
    accounts = Accounts(open_database(hub.data_dir))
    hub.tokens["kiosk-agent"] = accounts.add_token(Role.AGENT, "kiosk-agent", SUITE_CLOCK(),
                                                   KIOSK_AGENT)
    hub.tokens["windows-agent"] = accounts.add_token(Role.AGENT, "windows-agent",
                                                     SUITE_CLOCK(), WINDOWS_AGENT)
    accounts.db.close()
    hub.start()
    yield hub
    hub.stop()


def refusal(hub, token: str, **auth) -> dict | None:
    """The connect_error's data (code, message) if the hub refuses this /device connect, else
    None."""
    client = socketio.Client(reconnection=False)
    said: queue.Queue = queue.Queue()
    client.on("connect_error", said.put, namespace="/device")
    try:
        client.connect(hub.url, namespaces=["/device"], transports=["websocket"],
                       auth={"token": token, **auth}, wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        return said.get(timeout=5)["data"]
    client.disconnect()
    return None


def test_a_kiosk_agent_serves_its_own_kiosk_and_no_other(hall):
    page = Listener(hall, "/kiosk", hall.tokens["kiosk"])  # the kiosk token test-kiosk
    scans: queue.Queue = queue.Queue()
    page.client.on("scan", scans.put, namespace="/kiosk")
    agent = Listener(hall, "/device", hall.tokens["kiosk-agent"], kiosk="test-kiosk",
                     printer={"windows": []}, devices=["printer"])
    try:
        agent.snapshot()
        assert agent.call("scan", {"text": "GREEN-PASS-1"}) == {"ok": True}
        assert scans.get(timeout=5) == {"text": "GREEN-PASS-1"}
    finally:
        agent.close()
        page.close()
    other = refusal(hall, hall.tokens["kiosk-agent"], kiosk="kiosk-2")
    assert other is not None and other["code"] == "agent_not_bound"
    assert "kiosk kiosk-2" in other["message"]
    # Nor a window's 承诺单 printer, nor a window's keypads: it was bound to the kiosk only.
    assert refusal(hall, hall.tokens["kiosk-agent"], kiosk="test-kiosk",
                   printer={"windows": [1]})["code"] == "agent_not_bound"
    assert refusal(hall, hall.tokens["kiosk-agent"], windows=[1])["code"] == "agent_not_bound"
    assert "refused: kiosk kiosk-2 is outside its token's binding" in hall.log()


def test_a_window_agent_serves_its_windows_only(hall):
    token = hall.tokens["windows-agent"]
    assert refusal(hall, token, windows=[1, 2], printer={"windows": [2]}) is None
    assert refusal(hall, token, windows=[1]) is None
    for auth in ({"windows": [1, 3]}, {"windows": [1], "printer": {"windows": [3]}},
                 {"windows": [1], "kiosk": "test-kiosk"}):
        refused = refusal(hall, token, **auth)
        assert refused is not None and refused["code"] == "agent_not_bound", auth
    assert "not bound to windows 3 (it may serve: kiosks -; windows 1, 2)" in \
        refusal(hall, token, windows=[1, 3])["message"]


def test_an_id_reader_reported_for_a_kiosk_is_its_bound_kiosks_only(hall):
    """The chain from the binding: health reports are checked against the connect's kiosk,
    which is now within the token's binding."""
    agent = Listener(hall, "/device", hall.tokens["kiosk-agent"], kiosk="test-kiosk")
    try:
        agent.snapshot()
        own = agent.call("health", {"devices": [
            {"id": "id_reader@test-kiosk", "kind": "id_reader", "status": "online"}]})
        assert own == {"ok": True, "result": {"changed": 1}}
        # Another kiosk's reader is ignored, and another window's device refused.
        foreign = agent.call("health", {"devices": [
            {"id": "id_reader@kiosk-2", "kind": "id_reader", "status": "online"}]})
        assert foreign == {"ok": True, "result": {"changed": 0}}
        window = agent.call("health", {"devices": [
            {"id": "printer-3", "kind": "printer", "status": "online", "window": 3}]})
        assert window["error"]["code"] == "wrong_window"
    finally:
        agent.close()


def test_an_unbound_token_still_works_and_the_hub_warns(hall):
    agent = Listener(hall, "/device", hall.tokens["agent"], kiosk="any-kiosk", windows=[3])
    try:
        agent.snapshot()
        assert agent.call("scan", {"text": "X1"}) == {"ok": True}
    finally:
        agent.close()
    eventually(lambda: "agent test-agent connected with an unbound token" in hall.log(),
               what="the hub's warning about an unbound agent token")


def test_the_office_monitor_is_told_which_agents_are_unbound(hall):
    office = Listener(hall, "/monitor", hall.login("super"))
    try:
        assert office.snapshot()["unbound_agents"] == ["test-agent"]
    finally:
        office.close()


def test_a_rebound_agent_is_held_to_its_new_binding_and_dropped(hall):
    agent = Listener(hall, "/device", hall.tokens["windows-agent"], windows=[1, 2])
    try:
        agent.snapshot()
        assert agent.call("health", {"devices": []})["ok"]
        done = onestop("token", "bind", "windows-agent", "--windows", "1",
                       "--data", str(hall.data_dir))
        assert done.returncode == 0, done.stderr
        refused = agent.call("health", {"devices": []})
        assert refused["ok"] is False and refused["error"]["code"] == "agent_not_bound"
        assert agent.call("scan", {"text": "X"})["error"]["code"] == "agent_not_bound"
        # and its socket is dropped by the hub's next housekeeping sweep (every 15 s), so no
        # print job reaches it either
        assert agent.signed_out.wait(40), "the rebound agent's socket was not dropped"
    finally:
        agent.close()
    assert refusal(hall, hall.tokens["windows-agent"], windows=[1, 2])["code"] == \
        "agent_not_bound"
    assert refusal(hall, hall.tokens["windows-agent"], windows=[1]) is None


# --- the CLI ----------------------------------------------------------------------------------


def onestop(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hub.cli", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ}, check=False)


def listing(data: str) -> dict[str, str]:
    done = onestop("token", "list", "--data", data)
    assert done.returncode == 0, done.stderr
    return {line.split()[1]: line for line in done.stdout.splitlines()}


def test_the_cli_makes_binds_rebinds_and_lists_agent_tokens(tmp_path):
    data = str(tmp_path / "data")
    made = onestop("token", "add", "--role", "agent", "--name", "kiosk1F", "--kiosk",
                   "kiosk-1F-1", "--kiosk", "kiosk-1F-2", "--data", data)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("osa_")
    loose = onestop("token", "add", "--role", "agent", "--name", "old", "--data", data)
    assert loose.returncode == 0 and "unbound" in loose.stderr
    windows = onestop("token", "add", "--role", "agent", "--name", "win", "--windows", "3,1",
                      "--data", data)
    assert windows.returncode == 0, windows.stderr
    audio = onestop("token", "add", "--role", "agent", "--name", "voice", "--windows", "none",
                    "--data", data)
    assert audio.returncode == 0, audio.stderr
    assert onestop("token", "add", "--role", "kiosk", "--name", "k", "--windows", "1",
                   "--data", data).returncode != 0  # only agents are bound
    bad = onestop("token", "add", "--role", "agent", "--name", "x", "--windows", "1,b",
                  "--data", data)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr

    rows = listing(data)
    assert "kiosks kiosk-1F-1, kiosk-1F-2; windows -" in rows["kiosk1F"]
    assert "kiosks -; windows 1, 3" in rows["win"]
    assert "kiosks -; windows -" in rows["voice"]
    assert "unbound" in rows["old"] and "unbound" not in rows["win"]
    assert token not in "".join(rows.values())  # never the token

    rebound = onestop("token", "bind", "win", "--windows", "4", "--kiosk", "kiosk-2F-1",
                      "--data", data)
    assert rebound.returncode == 0, rebound.stderr
    bound = onestop("token", "bind", "old", "--windows", "2", "--data", data)
    assert bound.returncode == 0 and "bound 1 token(s)" in bound.stdout
    rows = listing(data)
    assert "kiosks kiosk-2F-1; windows 4" in rows["win"] and "windows 2" in rows["old"]
    assert onestop("token", "bind", "nobody", "--windows", "1", "--data", data).returncode != 0
    assert onestop("token", "bind", "win", "--data", data).returncode != 0  # binding to what?

    accounts = Accounts(open_database(data))
    who = accounts.principal(token, SUITE_CLOCK())
    assert who is not None
    assert who.binding == AgentBinding(kiosks=("kiosk-1F-1", "kiosk-1F-2"), windows=())
    accounts.db.close()


# --- the migration ----------------------------------------------------------------------------


def old_store(monkeypatch, data: Path, url: str | None) -> str:
    """A store at the schema before bindings, with an agent token made then; the token."""
    before = [m for m in database.available_migrations() if m[0] < 21]
    with monkeypatch.context() as patched:
        patched.setattr(database, "available_migrations", lambda: before)
        db = open_database(data, url=url)
        assert db.schema_version() == 20
        token = "osa_" + uuid.uuid4().hex
        from hub.auth import token_hash

        with db.transaction() as tx:
            tx.execute("INSERT INTO tokens (token_hash, name, role, created_at) "
                       "VALUES (?, ?, ?, ?)", (token_hash(token), "pi-3", "agent",
                                               "2026-01-05T08:00:00+00:00"))
        db.close()
    return token


def check_kept(data: Path, url: str | None, token: str) -> None:
    db = open_database(data, url=url)
    try:
        assert db.schema_version() >= 21
        who = Accounts(db).principal(token, SUITE_CLOCK())
        assert who is not None and who.name == "pi-3" and who.binding is None
    finally:
        db.close()


def test_a_token_from_before_the_migration_keeps_working_unbound(tmp_path, monkeypatch):
    token = old_store(monkeypatch, tmp_path, None)
    check_kept(tmp_path, None, token)
    assert "unbound" in listing(str(tmp_path))["pi-3"]


@pytest.mark.timeout(300)
def test_a_token_from_before_the_migration_keeps_working_on_postgresql(tmp_path, monkeypatch):
    with postgres_or_skip() as pg:
        url = pg.create_database(f"bind_{uuid.uuid4().hex[:8]}")
        token = old_store(monkeypatch, tmp_path, url)
        check_kept(tmp_path, url, token)
