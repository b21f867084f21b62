"""The OpenAPI document against the hub itself.

Every route the Flask app serves is in the document (the pages' static files are left out, by
name and with the reason), and nothing else is; every status a real hub answers hostile input
with, on every documented operation and for every kind of caller, is documented for it. The
document is generated beside the routes (hub/web/openapi.py): this is what keeps the two
from drifting apart.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict

import pytest
import requests

from hub.auth import Role
from hub.runtime import open_database
from hub.service import WINDOW_ACTIONS
from hub.store.accounts import Accounts
from hub.web.openapi import openapi_document
from tests.hubproc import HALL_24H, PASSWORD, HubProcess, quiet_hall

# Served, not in the document, and why. Anything else the app serves must be documented.
EXCLUDED = {
    "static": "Flask's own static folder: files, not an interface (the hub has none in it)",
    "display.static": "the call screens' scripts, styles and fonts: files, not an interface",
    "caller.static": "the clerk panel's scripts and styles: files, not an interface",
    "kiosk.static": "the kiosk page's scripts and styles: files, not an interface",
    "office.static": "the office pages' scripts, styles and fonts: files, not an interface",
}


def _template(rule: str) -> str:
    """A Flask rule as an OpenAPI path: `/windows/<int:no>/<action>` -> `/windows/{no}/{action}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_every_route_served_is_in_the_document_and_nothing_else(tmp_path):
    from hub.config import load_config
    from hub.service import HallService
    from hub.web.app import create_app

    app, _ = create_app(HallService(load_config(HALL_24H), open_database(tmp_path)),
                        async_mode="threading")
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in EXCLUDED:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((_template(rule.rule), method.lower()))
    documented = {(path, method) for path, ops in openapi_document(app)["paths"].items()
                  for method in ops}
    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"
    assert {e for e in EXCLUDED if e != "static"} <= {r.endpoint for r in app.url_map.iter_rules()}


def test_every_socket_event_a_client_may_send_is_described(tmp_path):
    """`x-socketio`: per namespace, the `auth` a client connects with and every event it may
    send, each with the shape of its argument."""
    from hub.config import load_config
    from hub.service import HallService
    from hub.web.app import create_app

    app, socketio = create_app(HallService(load_config(HALL_24H), open_database(tmp_path)),
                               async_mode="threading")
    described = openapi_document(app)["x-socketio"]
    handlers = socketio.server.namespace_handlers
    assert set(described) == set(handlers)
    for namespace, handler in handlers.items():
        events = {name.removeprefix("on_") for name in dir(handler)
                  if name.startswith("on_") and name != "on_disconnect"}
        assert set(described[namespace]) == events, namespace
    schemas = openapi_document(app)["components"]["schemas"]
    for events in described.values():
        for payload in events.values():
            for ref in [payload, *payload.get("oneOf", [])]:
                assert ref.get("$ref", "/x").rsplit("/", 1)[-1] in {*schemas, "x"}, ref


# --- every operation, driven with hostile input ------------------------------------------

PATH_SAMPLES = {  # a value that may name something, then values that cannot
    "ticket_id": ["20990101-A001", "T" * 65, "%00%FF", "..%2F..%2Fetc"],
    "number": ["CN1", "N" * 65, "%ED%A0%80"],
    "code": ["S1", "C" * 65, "%FF"],
    "username": ["clerk1", "u" * 65, "%00"],
    "no": ["1", "10000", "9" * 30],
    "action": [*WINDOW_ACTIONS, "fly"],
    "decision": ["approve", "refuse", "maybe"],
    "staff_no": ["JZ001", "S" * 65, "%00"],
    "key": ["welcome", "k" * 65, "..%2Fx"],
    "lang": ["zh", "en", "xx"],
}

EXAMPLE_BODIES = {  # a plausible body per route (others: {})
    "/api/v1/tickets": {"service": "S1"},
    "/api/v1/tickets/{ticket_id}/rating-reason": {"reason": "等待太久"},
    "/api/v1/login": {"username": "clerk4", "password": PASSWORD, "window": 4},
    "/api/v1/windows/{no}/{action}": {"reason": "会议", "number": "A001"},
    "/api/v1/slips/{number}/status": {"status": "done"},
    "/api/v1/slips/{number}/parts": {"department": "D1"},
    "/api/v1/notice": {"text": "今日系统维护", "text_en": "maintenance"},
    "/api/v1/services/{code}/close": {"reason": "系统维护"},
    "/api/v1/clerks/{username}/move": {"window": 2},
    "/api/v1/returns/{ticket_id}/{decision}": {"note": "同意"},
    "/api/v1/green-passes": {"code": "G1", "project": "重点项目", "service": "S1"},
    "/api/v1/appointments": {"code": "P1", "service": "S1", "day": "2099-01-01"},
    "/api/v1/admin/config": {"toml": "x = 1"},
    "/api/v1/admin/config/check": {"toml": "x = 1"},
    "/api/v1/admin/config/edit": {"edit": {"service": "S1", "daily_quota": 5}},
}

DEEP = "[" * 5000 + "]" * 5000


def _each_value(value, make):
    if isinstance(value, dict):
        return {k: _each_value(v, make) for k, v in value.items()}
    if isinstance(value, list):
        return [_each_value(v, make) for v in value]
    return make(value)


def hostile_bodies(example: dict) -> list[tuple[bytes, str]]:
    """(body, content type): none, not an object, not JSON, too deep, wrong types, numbers
    past any range, strings too long, lone surrogates, not declared as JSON, too large."""
    js = "application/json"
    plain = [b"", b"{}", b"null", b"[]", b"7", b'"s"', b"{not json", b"\xff\xfe",
             DEEP.encode(), ('{"x": ' + DEEP + "}").encode()]
    out = [(b, js) for b in plain]
    for make in (lambda v: "zz" if isinstance(v, str) else v,  # well formed, names nothing
                 lambda v: "\ud800", lambda v: 2**64, lambda v: -1, lambda v: True,
                 lambda v: [v], lambda v: {"v": v}, lambda v: None, lambda v: "x" * 5000,
                 lambda v: 1e400 if isinstance(v, int) else "2000-02-30"):
        out.append((json.dumps(_each_value(example, make)).encode(), js))
    out.append((json.dumps(example).encode(), "text/plain"))
    out.append((json.dumps({**example, "pad": "x" * 1_100_000}).encode(), js))  # > any limit
    return out


def hostile_queries(op: dict, token: str) -> list[str]:
    names = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"] or ["x"]
    out = [""] + ([f"?token={token}"] if "token" in names else [])
    for value in ("%ED%A0%80", "9" * 40, "-1", "0", "0001-01-01", "2026-02-30", "x" * 5000,
                  "%00", "json", "2026-01-01"):
        out.append("?" + "&".join(f"{name}={value}" for name in names))
    return out


def concrete_paths(path: str) -> list[str]:
    names = re.findall(r"{([^}]+)}", path)
    if not names:
        return [path]
    count = max(len(PATH_SAMPLES[n]) for n in names)
    out = []
    for i in range(count):
        concrete = path
        for name in names:
            samples = PATH_SAMPLES[name]
            concrete = concrete.replace("{" + name + "}", samples[i % len(samples)])
        out.append(concrete)
    return out


@pytest.fixture
def office_hub(tmp_path):
    """A hub with every kind of caller: device tokens, a metrics token, clerks, a supervisor
    and an admin (whose config routes it may use)."""
    hub = HubProcess(tmp_path / "data", config=quiet_hall(tmp_path))
    hub.provision()
    accounts = Accounts(open_database(hub.data_dir))
    now = dt.datetime.now(dt.UTC)
    accounts.add_user("admin", PASSWORD, Role.ADMIN, "管理员", "JZ999", now)
    accounts.add_user("leaver", PASSWORD, Role.SUPERVISOR, "督查员二", "JZ901", now)
    hub.tokens["metrics"] = accounts.add_token(Role.METRICS, "test-metrics", now)
    accounts.db.close()
    hub.start()
    yield hub
    hub.stop()


@pytest.mark.slow
def test_every_status_the_hub_answers_is_documented(office_hub):
    hub = office_hub
    tokens = {None: None, "garbage": "osk_not-a-token", **hub.tokens,
              "clerk": hub.login("clerk1", 1), "super": hub.login("super"),
              "admin": hub.login("admin")}
    doc = requests.get(f"{hub.url}/api/v1/openapi.json", timeout=5).json()
    answered: dict[tuple[str, str], set[int]] = defaultdict(set)
    undocumented = []
    ops = [(p, m, op) for p, item in doc["paths"].items() for m, op in item.items()]
    # Signing out ends the session it is called with: last, with a session of its own.
    ops.sort(key=lambda o: o[0] == "/api/v1/logout")

    def send(method, url, token, body=None, content_type="application/json"):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if body is not None:
            headers["Content-Type"] = content_type
        r = requests.request(method, hub.url + url, data=body, headers=headers, timeout=20)
        answered[(path, method)].add(r.status_code)
        if str(r.status_code) not in op["responses"]:
            undocumented.append((method.upper(), url[:80], r.status_code, r.text[:120]))
        return r

    for path, method, op in ops:
        if path == "/api/v1/logout":
            tokens = {**tokens, "super": hub.login("leaver"), "clerk": hub.login("clerk2", 2)}
        example = json.dumps(EXAMPLE_BODIES.get(path, {})).encode() if method == "post" else None
        first = concrete_paths(path)[0]
        # Every kind of caller, with a plausible request (wrong passwords too) ...
        allowed = [who for who, token in tokens.items()
                   if send(method, first, token, example).status_code not in (401, 403)]
        token = tokens[allowed[0]] if allowed else None
        # ... then, as a caller it lets through, every path, query and body that cannot be.
        for concrete in concrete_paths(path):
            for query in hostile_queries(op, hub.tokens["screen"]) if method == "get" else [""]:
                send(method, concrete + query, token, example)
            if method == "post":
                for body, content_type in hostile_bodies(EXAMPLE_BODIES.get(path, {})):
                    send(method, concrete, token, body, content_type)
    assert not undocumented, "\n".join(map(str, undocumented[:40]))
    assert all(s < 500 for statuses in answered.values() for s in statuses)
    assert "Traceback" not in hub.log()
