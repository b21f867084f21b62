"""Pairing screens and kiosks over the real API of a hub process: a page asks, the office
approves the code, the page claims its token with its secret; and every hostile input a clear
4xx (never a 5xx), audited where the office acted."""

from __future__ import annotations

import uuid

import pytest
import requests

from hub.auth import Principal, Role
from hub.clock import system_clock
from hub.config import load_config
from hub.engine import NotFound
from hub.runtime import open_database
from hub.service import HallService
from hub.service.pairing import CLAIM_WITHIN, CODE_ALPHABET, CODE_LENGTH, PER_ADDR, REQUEST_TTL
from hub.store.accounts import Accounts
from hub.store.database import Database
from tests.hubproc import HALL_24H
from tests.pgredis import postgres_or_skip
from tests.test_store import Clock

pytestmark = pytest.mark.slow


def ask(hub, kind: str = "screen", page: str = "/display/hall") -> requests.Response:
    return requests.post(f"{hub.url}/api/v1/pairing", json={"kind": kind, "page": page},
                         timeout=5)


def claim(hub, secret: str) -> requests.Response:
    return requests.post(f"{hub.url}/api/v1/pairing/claim", json={"secret": secret}, timeout=5)


def approve(hub, token: str, code: str, role: str = "screen",
            name: str = "hall-screen-1") -> requests.Response:
    return requests.post(f"{hub.url}/api/v1/pairing/approve", headers=hub.auth(token),
                         json={"code": code, "role": role, "name": name}, timeout=5)


def test_a_screen_paired_by_code_gets_a_working_revocable_token(hub):
    opened = ask(hub)
    assert opened.status_code == 201, opened.text
    req = opened.json()
    assert len(req["code"]) == CODE_LENGTH and set(req["code"]) <= set(CODE_ALPHABET)
    assert len(req["secret"]) >= 43  # 256 bits, url-safe base64
    assert claim(hub, req["secret"]).json()["status"] == "waiting"

    sup = hub.login("super")
    listed = requests.get(f"{hub.url}/api/v1/pairing/requests", headers=hub.auth(sup),
                          timeout=5).json()["requests"]
    assert [(r["code"], r["kind"], r["page"], r["approved"]) for r in listed] == [
        (req["code"], "screen", "/display/hall", False)]
    typed = req["code"][:4].lower() + "-" + req["code"][4:]  # as a person types it
    ok = approve(hub, sup, typed)
    assert ok.status_code == 200, ok.text
    assert ok.json()["name"] == "hall-screen-1"

    paired = claim(hub, req["secret"]).json()
    assert paired["status"] == "paired" and paired["role"] == "screen"
    token = paired["token"]
    assert requests.get(f"{hub.url}/api/v1/queue", headers=hub.auth(token),
                        timeout=5).status_code == 200
    # handed out once: the request is gone
    assert claim(hub, req["secret"]).status_code == 404

    audit = requests.get(f"{hub.url}/api/v1/audit", headers=hub.auth(sup), timeout=5).json()
    paired_rows = [r for r in audit["records"] if r["action"] == "pair-device"]
    assert paired_rows and paired_rows[-1]["outcome"] == "ok"
    assert paired_rows[-1]["detail"]["name"] == "hall-screen-1"
    assert token not in str(audit) and req["secret"] not in str(audit)

    db = open_database(hub.data_dir)
    assert Accounts(db).revoke_tokens(Role.SCREEN, "hall-screen-1", system_clock()) == 1
    db.close()
    assert requests.get(f"{hub.url}/api/v1/queue", headers=hub.auth(token),
                        timeout=5).status_code == 401


def test_hostile_pairing_gets_clear_refusals_never_a_500(hub):
    sup = hub.login("super")
    kiosk = ask(hub, "kiosk", "/kiosk/").json()
    # a kiosk's code approved as a screen: refused, and nothing paired
    mismatch = approve(hub, sup, kiosk["code"], role="screen")
    assert mismatch.status_code == 409 and mismatch.json()["error"]["code"] == \
        "pairing_role_mismatch", mismatch.text
    assert claim(hub, kiosk["secret"]).json()["status"] == "waiting"
    # wrong codes, bad roles and names, a device or clerk approving
    assert approve(hub, sup, "ZZZZZZZZ").status_code == 404
    assert approve(hub, sup, "").status_code == 404
    assert approve(hub, sup, kiosk["code"], role="agent").status_code == 422
    assert approve(hub, sup, kiosk["code"], role="kiosk", name="").status_code == 422
    assert approve(hub, sup, kiosk["code"], role="kiosk", name="x" * 65).status_code == 422
    assert approve(hub, hub.tokens["screen"], kiosk["code"], role="kiosk").status_code == 403
    assert approve(hub, hub.login("clerk1", 1), kiosk["code"], role="kiosk").status_code == 403
    assert approve(hub, "nope", kiosk["code"], role="kiosk").status_code == 401
    assert requests.get(f"{hub.url}/api/v1/pairing/requests", timeout=5).status_code == 401
    # approved once; twice is a conflict
    assert approve(hub, sup, kiosk["code"], role="kiosk", name="kiosk-2").status_code == 200
    again = approve(hub, sup, kiosk["code"], role="kiosk", name="kiosk-3")
    assert again.status_code == 409 and again.json()["error"]["code"] == "pairing_approved"
    # the code alone is no secret: claiming with it, or garbage, gets nothing
    assert claim(hub, kiosk["code"]).status_code == 404
    assert claim(hub, "x" * 300).status_code == 422
    assert requests.post(f"{hub.url}/api/v1/pairing/claim", json={}, timeout=5).status_code == 422
    assert requests.post(f"{hub.url}/api/v1/pairing/claim", data="secret=abc",
                         timeout=5).status_code == 422
    assert ask(hub, "agent").status_code == 422
    assert ask(hub, "screen", "/" * 201).status_code == 422
    assert claim(hub, kiosk["secret"]).json()["role"] == "kiosk"
    # every refusal of the office's is on record
    audit = requests.get(f"{hub.url}/api/v1/audit", headers=hub.auth(sup), timeout=5).json()
    outcomes = [r["outcome"] for r in audit["records"] if r["action"] == "pair-device"]
    assert "pairing_role_mismatch" in outcomes and "pairing_code_unknown" in outcomes


def test_requests_are_bounded_per_address(hub):
    codes = [ask(hub) for _ in range(PER_ADDR)]
    assert all(r.status_code == 201 for r in codes)
    refused = ask(hub)
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "too_many_attempts"
    assert int(refused.headers["Retry-After"]) > 0


# --- expiry, on an injected clock (in process) ----------------------------------------------


@pytest.fixture(scope="module")
def pg():
    with postgres_or_skip() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def hall(request, tmp_path):
    """A hall in process on an injected clock, on either store (the hubs of a pair share
    PostgreSQL, and a page may ask one hub while the office approves on the other)."""
    if request.param == "sqlite":
        db: Database = Database(tmp_path / "onestop.db")
        db.migrate()
    else:
        server = request.getfixturevalue("pg")
        db = open_database(tmp_path, url=server.create_database(f"p_{uuid.uuid4().hex[:8]}"))
    clock = Clock()
    yield HallService(load_config(HALL_24H), db, clock=clock), clock
    db.close()


def test_an_expired_code_cannot_be_approved_nor_claimed(hall):
    service, clock = hall
    sup = Principal(role=Role.SUPERVISOR, name="super")
    late = service.pairing.open_request(Role.SCREEN, "/display/hall", "10.0.0.5")
    clock.advance(seconds=REQUEST_TTL.total_seconds())
    with pytest.raises(NotFound) as err:
        service.pairing.approve(sup, late["code"], Role.SCREEN, "s1")
    assert err.value.code == "pairing_code_unknown"
    with pytest.raises(NotFound):
        service.pairing.claim(late["secret"])
    assert service.pairing.waiting(sup) == []  # and it left the office's list

    # approved in its last second: the page still has CLAIM_WITHIN to claim, not a moment more
    last = service.pairing.open_request(Role.KIOSK, "/kiosk/", "10.0.0.5")
    clock.advance(seconds=REQUEST_TTL.total_seconds() - 1)
    service.pairing.approve(sup, last["code"], Role.KIOSK, "k1")
    clock.advance(seconds=CLAIM_WITHIN.total_seconds())
    with pytest.raises(NotFound):
        service.pairing.claim(last["secret"])
    # expired requests no longer count against their address
    for _ in range(PER_ADDR):
        service.pairing.open_request(Role.SCREEN, "/display/hall", "10.0.0.5")
