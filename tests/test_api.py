"""The HTTP API of a real hub process: roles, the clerk's actions, errors as JSON, never a 500."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests

from tests.hubproc import PASSWORD, hall_today

pytestmark = pytest.mark.slow


def test_health_and_openapi(hub):
    health = requests.get(f"{hub.url}/healthz", timeout=5).json()
    assert health["status"] == "ok"
    doc = requests.get(f"{hub.url}/api/v1/openapi.json", timeout=5).json()
    assert doc["openapi"].startswith("3.")
    for path in (
        "/api/v1/services",
        "/api/v1/queue",
        "/api/v1/tickets",
        "/api/v1/tickets/{ticket_id}",
        "/api/v1/login",
        "/api/v1/windows/{no}/{action}",
        "/healthz",
    ):
        assert path in doc["paths"], path


def test_services_carry_six_disclosures_and_materials(hub):
    r = requests.get(f"{hub.url}/api/v1/services", headers=hub.auth(hub.tokens["kiosk"]), timeout=5)
    assert r.status_code == 200
    services = {s["code"]: s for s in r.json()["services"]}
    assert set(services) == {"S1", "S2", "S3", "S4"}
    s1 = services["S1"]
    assert set(s1["disclosure"]) == {
        "duties",
        "basis",
        "preconditions",
        "procedure",
        "time_limit",
        "fees",
    }
    assert s1["materials"] == ["申请书", "身份证明"]
    assert s1["windows"] == [1, 2]


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}]
)
def test_every_api_call_needs_a_valid_token(hub, headers):
    for method, path in (
        ("get", "/api/v1/services"),
        ("get", "/api/v1/queue"),
        ("post", "/api/v1/tickets"),
        ("post", "/api/v1/windows/1/call-next"),
    ):
        r = requests.request(method, f"{hub.url}{path}", headers=headers, json={}, timeout=5)
        assert r.status_code == 401, (path, r.text)
        assert r.json()["error"]["code"] == "unauthorized"


def test_kiosk_issues_numbered_tickets(hub):
    first = hub.issue("S1")
    second = hub.issue("S2")  # same prefix A: one sequence
    other = hub.issue("S3")
    assert first.status_code == second.status_code == other.status_code == 201
    assert [first.json()["number"], second.json()["number"], other.json()["number"]] == [
        "A001",
        "A002",
        "B001",
    ]
    ticket = requests.get(
        f"{hub.url}/api/v1/tickets/{first.json()['id']}",
        headers=hub.auth(hub.tokens["screen"]),
        timeout=5,
    ).json()
    assert ticket["status"] == "waiting"
    assert ticket["service_name"] == "企业设立登记"


def test_roles_are_enforced(hub):
    screen = hub.auth(hub.tokens["screen"])
    r = requests.post(
        f"{hub.url}/api/v1/tickets", json={"service": "S1"}, headers=screen, timeout=5
    )
    assert r.status_code == 403, "a screen cannot write anything"
    hub.issue("S1")
    r = hub.act(hub.tokens["kiosk"], 1, "call-next")
    assert r.status_code == 403, "a kiosk cannot call"
    clerk = hub.login("clerk1", 1)
    r = hub.act(clerk, 2, "call-next")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "wrong_window"
    r = requests.post(
        f"{hub.url}/api/v1/tickets", json={"service": "S1"}, headers=hub.auth(clerk), timeout=5
    )
    assert r.status_code == 403, "a clerk does not issue tickets"
    r = requests.get(f"{hub.url}/api/v1/returns", headers=hub.auth(clerk), timeout=5)
    assert r.status_code == 403, "a clerk does not approve returns"


def test_a_clerk_serves_a_ticket_through_every_action(hub):
    numbers = [hub.issue("S1").json()["number"] for _ in range(4)]
    clerk = hub.login("clerk1", 1)
    called = hub.act(clerk, 1, "call-next")
    assert called.status_code == 200
    assert called.json()["current"]["number"] == numbers[0]
    assert called.json()["events"][0]["type"] == "ticket.called"
    assert hub.act(clerk, 1, "recall").json()["current"]["recalls"] == 1
    assert hub.act(clerk, 1, "recall").status_code == 200
    refused = hub.act(clerk, 1, "recall")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "recall_limit"
    assert hub.act(clerk, 1, "skip").json()["current"] is None
    assert hub.act(clerk, 1, "call", number=numbers[2]).json()["current"]["number"] == numbers[2]
    finished = hub.act(clerk, 1, "finish", outcome="commitment", items=["营业执照"])
    outcome = finished.json()["events"][0]["data"]["outcome"]
    assert outcome["slip"].startswith("CN") and outcome["items"] == ["营业执照"]
    assert dt.date.fromisoformat(outcome["promised_date"]) >= hall_today()
    hub.act(clerk, 1, "call-next")
    moved = hub.act(clerk, 1, "transfer", service="S3", reason="需公安办理")
    assert moved.status_code == 200
    assert moved.json()["events"][0]["data"]["to_service"] == "S3"
    assert hub.act(clerk, 1, "pause", reason="暂离").json()["status"] == "paused"
    refused = hub.act(clerk, 1, "call-next")
    assert refused.json()["error"]["code"] == "window_paused"
    resumed = hub.act(clerk, 1, "resume")
    assert resumed.json()["status"] == "open"
    assert resumed.json()["events"][0]["data"]["paused_s"] >= 0


def test_a_return_needs_a_supervisor(hub):
    ticket = hub.issue("S2").json()
    clerk = hub.login("clerk2", 2)
    hub.act(clerk, 2, "call-next")
    r = hub.act(clerk, 2, "finish", outcome="returned", reason="材料与实际不符")
    assert r.status_code == 200 and r.json()["current"] is None
    status = requests.get(
        f"{hub.url}/api/v1/tickets/{ticket['id']}",
        headers=hub.auth(hub.tokens["screen"]),
        timeout=5,
    ).json()["status"]
    assert status == "return_pending"
    boss = hub.login("super")
    pending = requests.get(f"{hub.url}/api/v1/returns", headers=hub.auth(boss), timeout=5)
    assert [t["id"] for t in pending.json()["returns"]] == [ticket["id"]]
    r = requests.post(
        f"{hub.url}/api/v1/returns/{ticket['id']}/approve",
        json={"note": "同意"},
        headers=hub.auth(boss),
        timeout=5,
    )
    assert r.status_code == 200 and r.json()["data"]["approved"] is True
    status = requests.get(
        f"{hub.url}/api/v1/tickets/{ticket['id']}", headers=hub.auth(boss), timeout=5
    ).json()
    assert status["status"] == "done"
    assert status["outcome"] == {"kind": "returned", "reason": "材料与实际不符",
                                 "approved_by": "super"}
    public = requests.get(
        f"{hub.url}/api/v1/tickets/{ticket['id']}",
        headers=hub.auth(hub.tokens["screen"]),
        timeout=5,
    ).json()
    assert public["outcome"] == {"kind": "returned"}, "a 退件 reason is the office's"
    assert "visits" not in public


def test_the_snapshot_says_which_rating_a_window_waits_for(hub):
    hub.issue("S1")
    clerk = hub.login("clerk1", 1)
    hub.act(clerk, 1, "call-next")
    asked = hub.act(clerk, 1, "finish").json()["events"][-1]
    assert asked["type"] == "rating.requested"
    queue = requests.get(f"{hub.url}/api/v1/queue", headers=hub.auth(hub.tokens["screen"]),
                         timeout=5).json()
    window1 = next(w for w in queue["windows"] if w["no"] == 1)
    assert window1["rating"]["request_id"] == asked["data"]["request_id"]
    assert window1["rating"]["number"] == "A001"
    assert all(w["rating"] is None for w in queue["windows"] if w["no"] != 1)


def test_devices_read_tickets_without_slip_numbers(hub):
    ticket = hub.issue("S1").json()
    clerk = hub.login("clerk1", 1)
    hub.act(clerk, 1, "call-next")
    slip = hub.act(clerk, 1, "finish").json()["events"][0]["data"]["outcome"]["slip"]
    for role in ("kiosk", "screen", "agent"):
        seen = requests.get(f"{hub.url}/api/v1/tickets/{ticket['id']}",
                            headers=hub.auth(hub.tokens[role]), timeout=5).text
        assert slip not in seen and '"commitment"' in seen, role
        assert "clerk1" not in seen, "usernames are the office's too"
    boss = hub.login("super")
    full = requests.get(f"{hub.url}/api/v1/tickets/{ticket['id']}", headers=hub.auth(boss),
                        timeout=5).json()
    assert full["outcome"]["slip"] == slip


def test_green_channel_ticket_goes_first(hub):
    boss = hub.login("super")
    hub.issue("S3")
    r = requests.post(
        f"{hub.url}/api/v1/green-passes",
        json={"code": "LS-2026-001", "project": "重点项目：新能源产业园"},
        headers=hub.auth(boss),
        timeout=5,
    )
    assert r.status_code == 201
    green = hub.issue("S3", channel="green", code="LS-2026-001")
    assert green.status_code == 201 and green.json()["priority"] is True
    again = hub.issue("S3", channel="green", code="LS-2026-001")
    assert again.status_code == 409 and again.json()["error"]["code"] == "pass_used"
    clerk = hub.login("clerk3", 3)
    assert hub.act(clerk, 3, "call-next").json()["current"]["id"] == green.json()["id"]


def test_second_sign_in_elsewhere_ends_the_first(hub):
    first = hub.login("clerk1", 1)
    hub.login("clerk1", 2)
    r = hub.act(first, 1, "call-next")
    assert r.status_code == 401
    queue = requests.get(
        f"{hub.url}/api/v1/queue", headers=hub.auth(hub.tokens["screen"]), timeout=5
    ).json()
    status = {w["no"]: w["status"] for w in queue["windows"]}
    assert status[1] == "closed" and status[2] == "open"


def test_login_attempts_are_rate_limited(hub):
    for _ in range(5):
        r = requests.post(
            f"{hub.url}/api/v1/login",
            json={"username": "clerk4", "password": "wrong", "window": 4},
            timeout=5,
        )
        assert r.status_code == 401
    r = requests.post(
        f"{hub.url}/api/v1/login",
        json={"username": "clerk4", "password": PASSWORD, "window": 4},
        timeout=5,
    )
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0


BAD_BODIES = [
    ("post", "/api/v1/tickets", "{not json", "kiosk"),
    ("post", "/api/v1/tickets", "[1, 2]", "kiosk"),
    ("post", "/api/v1/tickets", '{"service": 7}', "kiosk"),
    ("post", "/api/v1/tickets", '{"service": "NOPE"}', "kiosk"),
    ("post", "/api/v1/tickets", '{"service": "S1", "channel": "vip"}', "kiosk"),
    ("post", "/api/v1/tickets", '{"service": "S1", "channel": "green", "code": "x"}', "kiosk"),
    ("post", "/api/v1/tickets", '{"channel": "appointment", "code": 5}', "kiosk"),
    ("post", "/api/v1/login", '{"username": ["a"], "password": "x"}', None),
    ("post", "/api/v1/login", '{"username": "clerk1", "password": "x", "window": "1"}', None),
    ("post", "/api/v1/login", "null", None),
    ("get", "/api/v1/tickets/%00%ff", "", "kiosk"),
    ("get", "/api/v1/nothing-here", "", "kiosk"),
    ("delete", "/api/v1/tickets", "", "kiosk"),
    ("post", "/api/v1/windows/99/call-next", "{}", "clerk"),
    ("post", "/api/v1/windows/1/fly", "{}", "clerk"),
    ("post", "/api/v1/windows/1/call", '{"number": 12}', "clerk"),
    ("post", "/api/v1/windows/1/transfer", '{"window": "two"}', "clerk"),
    ("post", "/api/v1/windows/1/finish", '{"outcome": "maybe"}', "clerk"),
    ("post", "/api/v1/windows/1/finish", '{"items": "abc"}', "clerk"),
    ("post", "/api/v1/windows/1/pause", '{"reason": ""}', "clerk"),
    ("post", "/api/v1/appointments", '{"code": "a", "service": "S1", "day": "tomorrow"}', "super"),
]


def test_bad_input_gets_a_clear_4xx_never_a_500(hub):
    tokens = {
        "kiosk": hub.tokens["kiosk"],
        "clerk": hub.login("clerk1", 1),
        "super": hub.login("super"),
        None: None,
    }
    for method, path, body, who in BAD_BODIES:
        headers = {"Content-Type": "application/json"}
        if tokens[who]:
            headers["Authorization"] = f"Bearer {tokens[who]}"
        r = requests.request(
            method, f"{hub.url}{path}", data=body.encode(), headers=headers, timeout=5
        )
        assert 400 <= r.status_code < 500, (method, path, body, r.status_code, r.text)
        error = r.json()["error"]
        assert error["code"] and error["message"], (path, body)
    assert requests.get(f"{hub.url}/healthz", timeout=5).ok


def test_a_method_a_route_does_not_take_is_answered_with_the_methods_it_does(hub):
    """RFC 9110 §15.5.6: a 405 names the methods allowed (`Allow`), in the API's error shape."""
    for method, path in (("DELETE", "/api/v1/queue"), ("TRACE", "/api/v1/tickets"),
                         ("PUT", "/healthz")):
        r = requests.request(method, f"{hub.url}{path}", timeout=5)
        assert r.status_code == 405, (method, path)
        assert r.json()["error"]["code"] == "method_not_allowed"
        allowed = {m.strip() for m in r.headers.get("Allow", "").split(",")}
        assert allowed & {"GET", "POST"}, (method, path, r.headers)


def test_double_tap_gives_two_distinct_numbers_never_one_reused(hub):
    numbers = {hub.issue("S1").json()["number"] for _ in range(20)}
    assert len(numbers) == 20


def test_badge_photos_need_a_token(hub):
    r = requests.get(f"{hub.url}/display/badge/JZ001", timeout=5)
    assert r.status_code == 401
    r = requests.get(f"{hub.url}/display/badge/JZ001?token={hub.tokens['screen']}", timeout=5)
    assert r.status_code == 404  # provisioned without a photo


def test_behind_a_proxy_one_clients_wrong_passwords_lock_only_that_client(tmp_path):
    """`--proxy-hops 1` (nginx): the sign-in limit and the audit log see the client's address
    from X-Forwarded-For. Without it, every client would share the proxy's address and five
    typos anywhere would lock the whole hall out."""
    from tests.hubproc import HubProcess

    hub = HubProcess(tmp_path / "data", extra_args=["--proxy-hops", "1"])
    hub.provision()
    hub.start()
    try:
        for _ in range(5):
            r = requests.post(f"{hub.url}/api/v1/login", timeout=5,
                              headers={"X-Forwarded-For": "10.0.0.66"},
                              json={"username": "nobody", "password": "guess"})
            assert r.status_code == 401
        r = requests.post(f"{hub.url}/api/v1/login", timeout=5,
                          headers={"X-Forwarded-For": "10.0.0.66"},
                          json={"username": "clerk2", "password": PASSWORD, "window": 2})
        assert r.status_code == 429  # that client is slowed down ...
        r = requests.post(f"{hub.url}/api/v1/login", timeout=5,
                          headers={"X-Forwarded-For": "10.0.0.7"},
                          json={"username": "clerk1", "password": PASSWORD, "window": 1})
        assert r.status_code == 200, r.text  # ... the clerk at another PC is not
        office = hub.login("super")
        audit = requests.get(f"{hub.url}/api/v1/audit", headers=hub.auth(office),
                             params={"account": "clerk1"}, timeout=5).json()
        assert any(rec["addr"] == "10.0.0.7" for rec in audit["records"]), audit
        # nginx with TLS: the page's origin is https://; told the scheme by X-Forwarded-Proto
        # (deploy/nginx/onestop.conf sends it), the hub accepts its WebSocket: Engine.IO
        # accepts only the hub's own origin.
        import socketio

        for proto, accepted in (("https", True), ("http", False)):
            screen = socketio.Client(reconnection=False, websocket_extra_options={
                "origin": f"https://127.0.0.1:{hub.port}"})
            try:
                screen.connect(hub.url, namespaces=["/display"], transports=["websocket"],
                               headers={"X-Forwarded-Proto": proto},
                               auth={"token": hub.tokens["screen"]}, wait_timeout=5)
                assert accepted, f"an https page accepted as {proto}"
            except socketio.exceptions.ConnectionError:
                assert not accepted, f"an https page behind {proto} refused"
            finally:
                screen.disconnect()
    finally:
        hub.stop()


def test_a_device_token_cannot_sign_out(hub):
    """A device token has no session: `logout` used to answer 204 and drop its sockets while
    the token went on working. Refused, saying how a device token is revoked."""
    from tests.test_sockets import Listener

    screen = Listener(hub, "/display", hub.tokens["screen"])
    try:
        screen.snapshot()
        for role in ("kiosk", "screen", "agent"):
            r = requests.post(f"{hub.url}/api/v1/logout", headers=hub.auth(hub.tokens[role]),
                              timeout=5)
            assert r.status_code == 403, (role, r.text)
            assert r.json()["error"]["code"] == "device_token"
            assert "onestop token revoke" in r.json()["error"]["message"]
        hub.issue("S1")
        assert screen.next_event("ticket.issued"), "the screen's socket was left alone"
    finally:
        screen.close()


def _add_admin(hub) -> str:
    from hub.auth import Role
    from hub.runtime import open_database
    from hub.store.accounts import Accounts

    accounts = Accounts(open_database(hub.data_dir))
    accounts.add_user("admin", PASSWORD, Role.ADMIN, "管理员", "JZ999", dt.datetime.now(dt.UTC))
    accounts.db.close()
    return hub.login("admin")


# Every route that reads a JSON body, with a token that gets as far as reading it.
JSON_ROUTES = [
    ("/api/v1/tickets", "kiosk", {"service": "S1"}),
    ("/api/v1/tickets/X/rating-reason", "kiosk", {"reason": "慢"}),
    ("/api/v1/login", None, {"username": "clerk4", "password": "x"}),
    ("/api/v1/windows/1/call", "clerk", {"number": "A001"}),
    ("/api/v1/windows/1/finish", "clerk", {"outcome": "joint", "items": ["a"],
                                           "departments": ["d"], "authority": "x"}),
    ("/api/v1/slips/CN1/status", "clerk", {"status": "done"}),
    ("/api/v1/slips/CN1/parts", "clerk", {"department": "d"}),
    ("/api/v1/notice", "super", {"text": "t", "text_en": "t"}),
    ("/api/v1/services/S1/close", "super", {"reason": "r"}),
    ("/api/v1/services/S1/reopen", "super", {"x": "y"}),
    ("/api/v1/clerks/clerk1/move", "super", {"window": 2}),
    ("/api/v1/returns/X/approve", "super", {"note": "n"}),
    ("/api/v1/green-passes", "super", {"code": "G", "project": "p", "service": "S1"}),
    ("/api/v1/appointments", "super", {"code": "P", "service": "S1", "day": "2099-01-01"}),
    ("/api/v1/admin/config/check", "admin", {"toml": "x = 1"}),
    ("/api/v1/admin/config/edit", "admin", {"edit": {"service": "S1", "hours": "h"}}),
    ("/api/v1/admin/config", "admin", {"toml": "x = 1"}),
]


def _spoiled(value):
    """`value` with a lone surrogate for every string, 2**63 for every number."""
    if isinstance(value, str):
        return "\ud800"
    if isinstance(value, list):
        return [_spoiled(v) for v in value]
    if isinstance(value, dict):
        return {k: _spoiled(v) for k, v in value.items()}
    return 2**63


def test_hostile_json_gets_a_4xx_on_every_route(quiet_hub):
    """JSON nested 5,000 deep (a RecursionError, 500, on every JSON route) and a lone
    surrogate in any string (500 where it reached the audit chain or SQLite) are refused."""
    hub = quiet_hub
    tokens = {"kiosk": hub.tokens["kiosk"], "clerk": hub.login("clerk1", 1),
              "super": hub.login("super"), "admin": _add_admin(hub), None: None}
    deep = "[" * 5000 + "]" * 5000
    for path, who, good in JSON_ROUTES:
        headers = {"Content-Type": "application/json"}
        if tokens[who]:
            headers["Authorization"] = f"Bearer {tokens[who]}"
        bodies = [deep, '{"x": ' + deep + "}"]
        for key, value in good.items():
            bodies.append(json.dumps({**good, key: _spoiled(value)}))  # "\ud800" escapes
            bodies.append(json.dumps({**good, key: "@"}).replace('"@"', deep))
        for body in bodies:
            r = requests.post(f"{hub.url}{path}", data=body.encode(), headers=headers,
                              timeout=10)
            assert 400 <= r.status_code < 500, (path, body[:60], r.status_code, r.text)
            assert r.json()["error"]["code"], (path, body[:60])
    assert "Traceback" not in hub.log()


def test_audit_since_the_year_one_is_a_4xx(hub):
    office = hub.login("super")
    for since in ("0001-01-01", "9999-12-31"):
        r = requests.get(f"{hub.url}/api/v1/audit", headers=hub.auth(office),
                         params={"since": since}, timeout=5)
        assert r.status_code == 422, (since, r.text)
    r = requests.get(f"{hub.url}/api/v1/audit", headers=hub.auth(office),
                     params={"limit": str(2**70)}, timeout=5)
    assert r.status_code == 422


def test_a_sign_in_with_a_window_past_any_window_is_refused_and_audited(quiet_hub):
    """`"window": 9223372036854775808` was a 401 whose audit record SQLite could not take
    (OverflowError): a failed sign-in off the record. Every failed sign-in is audited."""
    hub = quiet_hub
    r = requests.post(f"{hub.url}/api/v1/login", timeout=5, json={
        "username": "clerk2", "password": PASSWORD, "window": 9223372036854775808})
    assert r.status_code == 422, r.text
    r = requests.post(f"{hub.url}/api/v1/login", timeout=5,
                      data=b'{"username": "clerk3", "password": "\\ud800"}',
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    office = hub.login("super")
    records = requests.get(f"{hub.url}/api/v1/audit", headers=hub.auth(office),
                           params={"account": "clerk2"}, timeout=5).json()["records"]
    assert [(rec["action"], rec["outcome"]) for rec in records] == [("sign-in", "invalid")]
    assert "Traceback" not in hub.log()


def test_an_optional_field_may_be_null(hub):
    """null is "not given" for an optional field, as the API has always read it."""
    r = hub.issue("S1", channel=None, code=None)
    assert r.status_code == 201, r.text
    office = hub.login("super")
    r = requests.post(f"{hub.url}/api/v1/notice", headers=hub.auth(office), timeout=5,
                      json={"text": "午休时间照常办理", "text_en": None})
    assert r.status_code == 200, r.text
