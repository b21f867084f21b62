"""The OpenAPI document against the hub itself.

Every route the Flask app serves is in the document (the pages' static files are left out, by
name and with the reason), and nothing else is; every status a real hub answers hostile input
with, on every documented operation and for every kind of caller, is documented for it; every
route answers a hall with something in every list with its documented success, its body the
Struct the document names (and every refusal an Error); every Socket.IO event a client may
send is described. The document is generated from the routes and what each declares beside it
(hub/web/openapi.py): this is what keeps the two from drifting apart.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict

import msgspec
import pytest
import requests

from hub import shapes
from hub.auth import Role
from hub.engine.model import Channel, Outcome, OutcomeKind, Ticket, TicketStatus, Visit
from hub.runtime import open_database
from hub.service import WINDOW_ACTIONS
from hub.store.accounts import Accounts
from hub.store.forwarding import DeadLetter, Outbox
from hub.store.store import Store
from hub.web.openapi import openapi_document
from tests.hubproc import HALL_24H, PASSWORD, HubProcess, hall_today, quiet_hall
from tests.test_id_cards import swiped
from tests.test_sockets import Listener
from tests.waiting import eventually

# Served, not in the document, and why. Anything else the app serves must be documented.
EXCLUDED = {
    "static": "Flask's own static folder: files, not an interface (the hub has none in it)",
    "display.static": "the call screens' scripts, styles and fonts: files, not an interface",
    "caller.static": "the clerk panel's scripts and styles: files, not an interface",
    "kiosk.static": "the kiosk page's scripts and styles: files, not an interface",
    "office.static": "the office pages' scripts, styles and fonts: files, not an interface",
    "shared.static": "the modules all pages import, the Socket.IO client: files, not an interface",
    "citizen.static": "the citizen's phone pages' scripts and styles: files, not an interface",
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
    "case_id": ["GD202611250001", "G" * 65, "%00"],
    "draw_id": ["CC2026W47", "C" * 65, "%00"],
    "poster": ["p" * 43, "P" * 65, "%00"],
    "cap": ["A" * 22, "c" * 65, "%00"],  # a citizen's phone link (none is this one)
}

EXAMPLE_BODIES = {  # a plausible body per route (others: {})
    "/api/v1/tickets": {"service": "S1"},
    "/api/v1/tickets/{ticket_id}/rating-reason": {"reason": "等待太久"},
    "/api/v1/login": {"username": "clerk4", "password": PASSWORD, "window": 4},
    # The first change answers 204; every later one 401 (the old password is gone), and those
    # lock the address out of signing in: last of all (test_every_status_...).
    "/api/v1/change-password": {"username": "leaver", "password": PASSWORD,
                                "new_password": "Another-pass-2"},
    "/api/v1/windows/{no}/{action}": {"reason": "会议", "number": "A001"},
    "/api/v1/slips/{number}/status": {"status": "done"},
    "/api/v1/slips/{number}/parts": {"department": "D1"},
    "/api/v1/notice": {"text": "今日系统维护", "text_en": "maintenance"},
    "/api/v1/services/{code}/close": {"reason": "系统维护"},
    "/api/v1/clerks/{username}/move": {"window": 2},
    "/api/v1/returns/{ticket_id}/{decision}": {"note": "同意"},
    "/api/v1/green-passes": {"code": "G1", "project": "重点项目", "service": "S1"},
    "/api/v1/appointments": {"code": "P1", "service": "S1", "day": "2099-01-01",
                             "id_number": "11010519491231002X"},
    "/api/v1/identity/lookup": {"identity": "A" * 120},
    "/api/v1/admin/config": {"toml": "x = 1"},
    "/api/v1/admin/config/check": {"toml": "x = 1"},
    "/api/v1/admin/config/edit": {"edit": {"service": "S1", "daily_quota": 5}},
    "/api/v1/pairing": {"kind": "screen", "page": "/display/hall"},
    "/api/v1/pairing/claim": {"secret": "not-the-secret-of-any-request"},
    "/api/v1/pairing/approve": {"code": "ABCD2345", "role": "screen", "name": "hall-2"},
    "/api/v1/cases/{case_id}/steps": {"action": "callback", "result": "已回访",
                                       "reached": True, "attachments": ["通话记录"]},
    "/api/v1/complaints": {"category": "attitude", "text": "态度生硬", "channel": "phone",
                           "window": 1, "staff_no": "JZ001", "phone": "0416-1234567"},
    "/api/v1/spot-checks/draw": {"week": "2026-11-16"},
    "/api/v1/spot-checks/{draw_id}/items/{ticket_id}": {
        "answers": {"informed": "fail", "time_limit": "pass", "outcome": "pass",
                    "return_justified": "na"}, "note": "未一次性告知"},
    "/api/v1/citizen/{cap}/complaint": {"category": "efficiency", "text": "等了很久"},
    "/api/v1/citizen/{cap}/rating": {"level": 4, "reason": "办事效率"},
    "/api/v1/staff/{username}/records": {"kind": "notice", "grounds": "第十八条第一项",
                                         "detail": "工作时间离岗"},
    "/api/v1/citizen/take": {"poster": "p" * 43, "service": "S1", "device": "d" * 32},
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
    # Signing out ends the session it is called with: last, with a session of its own; then
    # changing a password, whose failures lock the address out of signing in.
    ops.sort(key=lambda o: (o[0] == "/api/v1/change-password", o[0] == "/api/v1/logout"))

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


# --- every answer, as documented ------------------------------------------------------------

# Documented, and answered with their success status by no hall a test can make here, and why.
NOT_REACHED = {
    ("/display/badge/{staff_no}", "get"): "the test hall has no badge photos (404 is tested)",
    ("/kiosk/prompts/{key}.{lang}.wav", "get"): "prompts are rendered by a child process the "
    "quiet hall does not start (404 is tested)",
}


class Answers:
    """Calls a hub and holds every answer to the document: the success status's body to the
    Struct its schema names (hub/shapes/responses.py), an error's to Error."""

    def __init__(self, hub: HubProcess) -> None:
        self.hub = hub
        self.doc = requests.get(f"{hub.url}/api/v1/openapi.json", timeout=5).json()
        self.ok: set[tuple[str, str]] = set()

    def __call__(self, method: str, path: str, token: str | None = None, *, ok: bool = True,
                 **args) -> requests.Response:
        template = next(t for t, item in self.doc["paths"].items()
                        if method in item and _matches(t, path))
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        r = requests.request(method, self.hub.url + path, headers=headers, timeout=20, **args)
        op = self.doc["paths"][template][method]
        assert str(r.status_code) in op["responses"], (method, path, r.status_code, r.text)
        content = op["responses"][str(r.status_code)].get("content", {})
        if r.headers.get("Content-Type", "").startswith("application/json"):
            schema = content["application/json"]["schema"]
            self._holds(r.content, schema)
        if ok:
            assert r.status_code < 300, (method, path, r.status_code, r.text[:300])
            self.ok.add((template, method))
        return r

    @staticmethod
    def _holds(body: bytes, schema: dict) -> None:
        names = [s["$ref"].rsplit("/", 1)[-1] for s in schema.get("oneOf", [schema])
                 if "$ref" in s]
        if not names:
            return  # a plain object (the document itself)
        problems = []
        for name in names:
            try:
                msgspec.json.decode(body, type=getattr(shapes, name))
                return
            except msgspec.ValidationError as err:
                problems.append(f"{name}: {err}")
        raise AssertionError(f"{body[:300]!r} is none of {names}: {problems}")


def _matches(template: str, path: str) -> bool:
    """Whether `path` is one of `template`'s (`/slips/{number}` holds `/slips/CN1`)."""
    parts = re.split(r"{[^}]+}", template)
    return re.fullmatch("[^/]+".join(map(re.escape, parts)), path) is not None


@pytest.fixture
def busy_hub(tmp_path, monkeypatch):
    """A hub whose every list has something in it: an agent's device, an alert (one no-show
    in one call is an alert here), a dead letter of the feed, staff of every role."""
    monkeypatch.setenv("ONESTOP_TICK_S", "0.5")
    hall = quiet_hall(tmp_path)
    hall.write_text(hall.read_text(encoding="utf-8")
                    + "\n[supervision]\nno_show_sample = 1\nno_show_share = 0.5\n",
                    encoding="utf-8")
    hub = HubProcess(tmp_path / "data", config=hall)
    hub.provision()
    db = open_database(hub.data_dir)
    now = dt.datetime.now(dt.UTC)
    Accounts(db).add_user("admin", PASSWORD, Role.ADMIN, "管理员", "JZ999", now)
    hub.tokens["metrics"] = Accounts(db).add_token(Role.METRICS, "test-metrics", now)
    # What the forwarder keeps of an event the backend refused (tests/test_forwarder.py makes
    # real ones): the feed's API reads it from the store.
    Outbox(db).advance(1, now, DeadLetter(seq=1, event_id="00000000-0000-4000-8000-000000000001",
                                          type="ticket.issued", status_code=400,
                                          response='{"error": "refused"}'))
    finished_last_week(db)
    db.close()
    hub.start()
    yield hub
    hub.stop()


@pytest.mark.slow
def test_every_route_answers_as_its_document_says(busy_hub):
    hub, call = busy_hub, Answers(busy_hub)
    kiosk, screen, metrics = hub.tokens["kiosk"], hub.tokens["screen"], hub.tokens["metrics"]
    agent = Listener(hub, "/device", hub.tokens["agent"], windows=[1])
    try:
        _walk(hub, call, agent, kiosk, screen, metrics)
    finally:
        agent.close()
    served_ok = {(path, method) for path, item in call.doc["paths"].items() for method in item}
    assert served_ok - call.ok - set(NOT_REACHED) == set(), "never answered with success"
    assert "Traceback" not in hub.log()


def _walk(hub, call, agent, kiosk, screen, metrics) -> None:  # noqa: PLR0915 (one story)
    api = "/api/v1"
    for page in ("/display/hall", "/display/window/1", "/caller/", "/caller/returns",
                 "/kiosk/", "/office/", "/office/reports", "/office/admin", "/office/cases",
                 "/office/spot-checks", "/office/staff", "/office/staff/clerk1"):
        call("get", page)
    call("get", "/healthz")
    call("get", f"{api}/openapi.json")
    call("get", "/metrics", metrics)
    call("get", f"{api}/services", kiosk)
    agent.snapshot()
    keypad = {"id": "bus1/rating@1", "kind": "rating", "window": 1, "status": "online"}
    assert agent.call("health", {"devices": [keypad]})["ok"]

    clerk = call("post", f"{api}/login", json={"username": "clerk1", "password": PASSWORD,
                                               "window": 1}).json()["token"]
    office = call("post", f"{api}/login", json={"username": "super",
                                                "password": PASSWORD}).json()["token"]
    admin = call("post", f"{api}/login", json={"username": "admin",
                                               "password": PASSWORD}).json()["token"]
    tickets = [call("post", f"{api}/tickets", kiosk, json={"service": "S1"}).json()
               for _ in range(4)]
    call("post", f"{api}/tickets", office, json={"service": "S2"})
    assert call("post", f"{api}/tickets", kiosk,
                json={"service": "S2", "print": True}).json()["print"] == "no_printer"
    call("get", f"{api}/tickets/{tickets[0]['id']}", kiosk)
    call("get", f"{api}/queue", screen)

    # A 承诺件, rated 不满意 at the keypad, its reason added at the kiosk; its slip moves on.
    call("post", f"{api}/windows/1/call-next", clerk)
    done = call("post", f"{api}/windows/1/finish", clerk,
                json={"outcome": "commitment", "items": ["营业执照"]}).json()
    slip = next(e["data"]["outcome"]["slip"] for e in done["events"]
                if e["type"] == "ticket.finished")
    asked = agent.next_event("rating.requested")["data"]
    press = {"id": "press-0000001", "kind": "rating", "window": 1, "level": 4,
             "request_id": asked["request_id"]}
    assert agent.call("device_event", press)["ok"]
    call("post", f"{api}/tickets/{asked['ticket_id']}/rating-reason", kiosk,
         json={"reason": "等候时间太长"})
    call("get", f"{api}/tickets/{asked['ticket_id']}", office)
    call("get", f"{api}/slips/{slip}", kiosk)
    # 刷身份证取号: a card read beside the kiosk; a ticket issued with its handle, a look-up.
    handle = swiped(hub)
    call("post", f"{api}/tickets", kiosk, json={"service": "S3", "identity": handle})
    call("post", f"{api}/identity/lookup", kiosk, json={"identity": handle})
    # The finished ticket's phone: its view (with its 承诺单's link), a complaint; its rating
    # came first from the keypad.
    cap = tickets[0]["link"].rsplit("/", 1)[1]
    call("get", f"/t/{cap}")  # its page
    slip_link = call("get", f"{api}/citizen/{cap}").json()["slip"]
    assert slip_link["number"] == slip
    # Its 承诺单 on the phone: the page and the view the slip's QR opens.
    slip_cap = slip_link["link"].rsplit("/", 1)[1]
    assert call("get", f"{api}/citizen/slip/{slip_cap}").json()["number"] == slip
    call("get", f"/s/{slip_cap}")
    call("get", f"/s/{cap}", ok=False)  # a ticket's capability opens no slip: 404
    call("post", f"{api}/citizen/{cap}/complaint", json={"category": "efficiency",
                                                        "text": "等了很久"})
    call("post", f"{api}/citizen/{cap}/rating", json={"level": 1}, ok=False)  # 409
    # Its 差评 opened a case (督办工单): listed, read, called back; one entered by the office
    # names clerk1, who sees it among their own.
    case_id = call("get", f"{api}/cases", office, params={"open": 1}).json()["cases"][0][
        "case_id"]
    call("get", f"{api}/cases/{case_id}", office)
    call("post", f"{api}/cases/{case_id}/steps", office,
         json={"action": "callback", "result": "已回访", "reached": True})
    call("post", f"{api}/complaints", office,
         json={"category": "attitude", "text": "态度生硬", "channel": "phone", "window": 1,
               "staff_no": "JZ001"})
    assert call("get", f"{api}/my/cases", clerk).json()["cases"]
    call("post", f"{api}/slips/{slip}/status", clerk, json={"status": "in_progress"})

    # A 联办件 with the window's department and another; its part done here.
    call("post", f"{api}/windows/1/call-next", clerk)
    done = call("post", f"{api}/windows/1/finish", clerk,
                json={"outcome": "joint", "departments": ["SCJG", "GA"]}).json()
    joint = next(e["data"]["outcome"]["slip"] for e in done["events"]
                 if e["type"] == "ticket.finished")
    assert call("get", f"{api}/joint-cases", clerk).json()["cases"]
    call("post", f"{api}/slips/{joint}/parts", clerk)
    # Rated from its phone while the keypad still asks: the phone's rating settles it.
    rated = call("post", f"{api}/citizen/{tickets[1]['link'].rsplit('/', 1)[1]}/rating",
                 json={"level": 2}).json()["rating"]
    assert (rated["status"], rated["level"], rated["channel"]) == ("rated", 2, "phone")

    # A no-show (an alert in this hall), then a 退件 the office approves.
    call("post", f"{api}/windows/1/call-next", clerk)
    call("post", f"{api}/windows/1/skip", clerk)
    call("post", f"{api}/windows/1/call-next", clerk)
    returned = call("post", f"{api}/windows/1/finish", clerk,
                    json={"outcome": "returned", "reason": "申请人撤回申请"}).json()
    pending = call("get", f"{api}/returns", office).json()["returns"]
    assert pending
    call("post", f"{api}/returns/{pending[0]['id']}/approve", office, json={"note": "同意"})
    assert returned["status"] == "open"
    eventually(lambda: call("get", f"{api}/alerts", office).json()["alerts"], timeout_s=20,
               what="the no-show alert")

    # 扫码取号: today's poster, its page, a ticket taken from it, the poster page to print.
    poster = call("get", f"{api}/poster", office).json()
    secret = poster["url"].rsplit("/", 1)[1]
    call("get", f"/q/{secret}")
    call("get", "/q/not-todays-poster", ok=False)  # 404, said on the page
    call("post", f"{api}/citizen/take", json={"poster": secret, "service": "S1",
                                              "device": "d" * 32})
    call("post", f"{api}/citizen/take", json={"poster": "x" * 43, "service": "S1",
                                              "device": "d" * 32}, ok=False)  # 404
    call("get", "/office/poster")

    call("post", f"{api}/notice", office, json={"text": "今日系统维护"})
    call("get", f"{api}/totals", office)
    call("post", f"{api}/services/S3/close", office, json={"reason": "系统维护"})
    call("post", f"{api}/services/S3/reopen", office)
    hub.login("clerk2", 2)
    call("post", f"{api}/clerks/clerk2/move", office, json={"window": 3})
    call("post", f"{api}/green-passes", office, json={"code": "G1", "project": "重点项目"})
    day = (hall_today() + dt.timedelta(days=1)).isoformat()
    call("post", f"{api}/appointments", office, json={"code": "P1", "service": "S1",
                                                       "day": day})
    assert call("get", f"{api}/devices", office).json()["devices"]
    assert call("get", f"{api}/dead-letters", office).json()["dead_letters"]
    assert call("get", f"{api}/audit", office).json()["records"]
    today = hall_today().isoformat()
    assert call("get", f"{api}/audit/export", office, params={"from": today, "to": today}).text
    for by in ("department", "window", "clerk", "service"):
        assert call("get", f"{api}/reports", office, params={"from": today, "by": by}
                    ).json()["rows"]
    call("get", f"{api}/reports", office, params={"format": "csv"})
    for by in ("window", "clerk"):
        assert call("get", f"{api}/assessment", office, params={"by": by}).json()["rows"]
    # The week after finished_last_week's ticket: advice computed by the hub's child process.
    assert call("get", f"{api}/reports/staffing", office, params={"week": "2026-W48"}
                ).json()["days"]

    running = call("get", f"{api}/admin/config", admin).json()
    call("post", f"{api}/admin/config/check", office, json={"toml": running["toml"]})
    call("post", f"{api}/admin/config/check", office, json={"toml": "[center"})
    edited = call("post", f"{api}/admin/config/edit", admin,
                  json={"edit": {"service": "S1", "daily_quota": 150}}).json()
    call("post", f"{api}/admin/config", admin, json={"toml": "x = 1"}, ok=False)  # 422, why
    assert call("post", f"{api}/admin/config", admin,
                json={"toml": edited["toml"]}).json()["applied"]
    call("post", f"{api}/change-password", json={
        "username": "clerk3", "password": PASSWORD, "new_password": "Another-pass-3"})
    # A screen paired: asked, listed, approved, claimed while waiting and then paired.
    asked = call("post", f"{api}/pairing", json={"kind": "screen", "page": "/display/hall"}
                 ).json()
    call("post", f"{api}/pairing/claim", json={"secret": asked["secret"]})
    assert call("get", f"{api}/pairing/requests", office).json()["requests"]
    call("post", f"{api}/pairing/approve", office,
         json={"code": asked["code"], "role": "screen", "name": "hall-2"})
    assert call("post", f"{api}/pairing/claim", json={"secret": asked["secret"]}
                ).json()["status"] == "paired"
    _spot_checks(call, f"{api}", office)
    call("post", f"{api}/logout", clerk)


def finished_last_week(db) -> None:
    """A ticket finished at window 1 in the week before the suite's (its row, as the hub
    keeps a finished ticket): something for a spot-check draw to sample."""
    at = dt.datetime(2026, 11, 17, 2, 0, tzinfo=dt.UTC)
    ticket = Ticket(id="20261117-A001", number="A001", service="S1", day=dt.date(2026, 11, 17),
                    channel=Channel.NORMAL, priority=False, rank=(0, 1), issued_at=at,
                    status=TicketStatus.DONE, finished_at=at + dt.timedelta(minutes=5),
                    outcome=Outcome(kind=OutcomeKind.IMMEDIATE),
                    visits=[Visit(window=1, clerk="clerk1", service="S1", called_at=at,
                                  ended_at=at + dt.timedelta(minutes=5), end="finished")])
    with db.transaction() as tx:
        Store(db).save_tickets(tx, [ticket])


def _spot_checks(call, api: str, office: str) -> None:
    """办件抽查 of last week, a review, the staff's efficiency records."""
    drawn = call("post", f"{api}/spot-checks/draw", office).json()
    assert drawn["items"][0]["ticket_id"] == "20261117-A001"
    call("get", f"{api}/spot-checks", office)
    call("get", f"{api}/spot-checks/{drawn['draw_id']}", office)
    answers = {c["code"]: "pass" for c in drawn["checklist"]}
    call("post", f"{api}/spot-checks/{drawn['draw_id']}/items/20261117-A001", office,
         json={"answers": answers})
    call("post", f"{api}/staff/clerk1/records", office,
         json={"kind": "warning", "grounds": "第十六条第二项", "detail": "迟到早退"})
    assert call("get", f"{api}/staff/clerk1/records", office).json()["records"]
    assert call("get", f"{api}/staff", office).json()["staff"]
