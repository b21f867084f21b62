"""Hostile input, property-based: every HTTP route and every Socket.IO event of every namespace
of a real hub over loopback, driven with what an attacker or a broken device sends: wrong
types, numbers past any range, JSON nested thousands deep, lone surrogates, long strings, more
than one argument, the server's own event names, names that are no event at all.

Whatever comes in: no 5xx, no traceback in the hub's log, every socket event answered by an
ack (`ok`, or an error with a code and a message), a refused connect answered with its reason,
and no event committed by anyone but the hub's own housekeeping unless the request was
acknowledged. Derandomized and a few hundred examples in all, so CI sees the same run each time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import urllib.parse
from typing import Any
from unittest import mock

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.auth import Role
from hub.runtime import open_database
from hub.service import WINDOW_ACTIONS
from hub.store.accounts import Accounts
from hub.store.store import Store
from hub.web.app import routes_app
from hub.web.openapi import openapi_document
from tests.hubproc import PASSWORD, HubProcess, quiet_hall
from tests.rawsio import RawSocket
from tests.test_openapi import EXAMPLE_BODIES

pytestmark = pytest.mark.slow

SETTINGS = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


class Hall:
    """One hub for the module, signed in as every kind of caller once (a second sign-in of
    the same account would end the first session)."""

    def __init__(self, hub: HubProcess, tokens: dict[Any, str | None]) -> None:
        self.hub, self.tokens = hub, tokens
        self.store = Store(open_database(hub.data_dir))
        self.log_seen = 0

    def seq(self) -> int:
        return requests.get(f"{self.hub.url}/healthz", timeout=5).json()["seq"]

    def acted_since(self, seq: int) -> list[tuple[str, str]]:
        """Events committed after `seq` by anyone but the hub itself (a day's rollover or a
        housekeeping tick may always come)."""
        return [(r.type, r.actor) for r in self.store.records_after(seq) if r.actor != "system"]

    def new_log(self) -> str:
        text = self.hub.log()
        new, self.log_seen = text[self.log_seen:], len(text)
        return new


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    directory = tmp_path_factory.mktemp("hostile")
    config = quiet_hall(directory)  # the phone's limit out of the way: the input gets read
    config.write_text(config.read_text(encoding="utf-8")
                      + "\n[citizen]\nrequests_per_minute = 10000\nburst = 1000\n",
                      encoding="utf-8")
    hub = HubProcess(directory / "data", config=config)
    hub.provision()
    accounts = Accounts(open_database(hub.data_dir))
    accounts.add_user("admin", PASSWORD, Role.ADMIN, "管理员", "JZ999", dt.datetime.now(dt.UTC))
    hub.tokens["metrics"] = accounts.add_token(Role.METRICS, "m", dt.datetime.now(dt.UTC))
    accounts.db.close()
    with mock.patch.dict(os.environ, {"ONESTOP_TICK_S": "3600"}):  # a quiet hall: no ticks
        hub.start()
    try:
        link = hub.issue("S1").json()["link"]  # something to act on, and its phone's link
        PATH_VALUES["cap"].append(link.rsplit("/", 1)[1])
        tokens = {None: None, "garbage": "osk_not-a-token", **hub.tokens,
                  "clerk": hub.login("clerk1", 1), "panel": hub.login("clerk3", 3),
                  "super": hub.login("super"), "admin": hub.login("admin")}
        for staff_no in ("JZ001", "JZ002"):  # two cases to step (GD…0001 names clerk1)
            requests.post(f"{hub.url}/api/v1/complaints", headers=hub.auth(tokens["super"]),
                          json={"category": "attitude", "text": "态度生硬", "channel": "box",
                                "staff_no": staff_no}, timeout=5).raise_for_status()
        hall = Hall(hub, tokens)
        yield hall
        hall.store.db.close()
    finally:
        hub.stop()


# --- values -------------------------------------------------------------------------------


class Deep:
    """A list nested `depth` deep: written out as text (no JSON encoder goes that deep)."""

    def __init__(self, depth: int) -> None:
        self.depth = depth


def to_json(value: Any) -> str:
    if isinstance(value, Deep):
        return "[" * value.depth + "]" * value.depth
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    return json.dumps(value)  # a lone surrogate is written as its \\ud800 escape


FIELDS = ("service", "channel", "code", "request_id", "materials", "ticket_id", "number",
          "category", "text", "window", "staff_no", "phone", "slip", "reason", "outcome",
          "items", "departments", "authority", "reported_on", "approve", "note", "id", "kind",
          "key", "level", "at", "devices", "status", "detail", "username", "password",
          "project", "day", "toml", "edit", "department", "text_en", "token", "room",
          "windows", "kiosk", "printer", "job", "ok", "action", "result", "reached", "cause",
          "plan", "fix", "reply", "verdict", "grounds", "upheld", "attachments", "channel",
          "week", "answers", "open_case", "year", "capability")

plain = st.one_of(
    st.none(), st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, 2, 4, -1, 9999, 10_000, 2**31, 2**63, 2**64, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["\ud800", "a\udfffb", "\ud83d", "x" * 70, "y" * 5000, "", " ", "S1", "A001",
                     "normal", "green", "appointment", "immediate", "commitment", "joint",
                     "call-next", "window:1", "hall", "2026-12-04", "0001-01-01", "true",
                     "\x00", "🙂", "<script>", "%00"]),
)
# One leaf in twenty nests thousands deep: enough to meet it often, not so often that nothing
# else gets past the parser.
scalars = st.integers(0, 19).flatmap(
    lambda n: st.integers(1500, 6000).map(Deep) if n == 0 else plain)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=6)), inner,
                        max_size=5),
    ),
    max_leaves=10,
)
payloads = st.one_of(  # objects with the fields the hub reads, or anything at all
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=6),
    values,
)


def near(plausible: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A payload close to one the hub takes: as is, one field hostile, one field more, or
    anything at all (the closer, the further the input gets before it is refused)."""
    keys = sorted(plausible) or ["x"]
    return st.one_of(
        st.just(plausible),
        st.builds(lambda k, v: {**plausible, k: v}, st.sampled_from(keys), values),
        st.builds(lambda k, v: {**plausible, k: v}, st.sampled_from(FIELDS), values),
        payloads,
    )


# --- HTTP ---------------------------------------------------------------------------------

OPS = [(path, method, op) for path, item in openapi_document(routes_app())["paths"].items()
       for method, op in item.items()]
PATH_VALUES = {
    "ticket_id": ["20990101-A001"], "number": ["CN1"], "code": ["S1", "S3"],
    "username": ["clerk1", "clerk2"], "no": ["1", "2", "10000", "9" * 25],
    "action": [*WINDOW_ACTIONS, "fly"], "decision": ["approve", "refuse", "x"],
    "staff_no": ["JZ001"], "key": ["welcome"], "lang": ["zh", "en"],
    "case_id": ["GD202611250001", "GD202611250002"],
    "draw_id": ["CC2026W47", "CC2026W48"],
    "poster": ["p" * 43],
    "cap": ["A" * 22],  # and the hall's one ticket's (the fixture adds it)
}
path_text = st.one_of(st.text(max_size=80), st.sampled_from(["\ud800", "T" * 65, "..", "."]))


def _caller(path: str) -> str | None:
    """Who may use `path` (roughly: the test only prefers them)."""
    for part, who in (("/windows/", "clerk"), ("/slips/", "clerk"), ("/joint-cases", "clerk"),
                      ("/my/", "clerk"),
                      ("/tickets", "kiosk"), ("/admin/", "admin"), ("/metrics", "metrics"),
                      ("/login", None), ("/badge/", None), ("/citizen/", None), ("/q/", None),
                      ("/api/v1/", "super")):
        if part in path:
            return who
    return None


@st.composite
def http_requests(draw) -> tuple[str, str, dict, str | None, bytes | None, str]:
    path, method, op = draw(st.sampled_from(OPS))
    concrete = path
    for name in re.findall(r"{([^}]+)}", path):
        value = draw(st.one_of(st.sampled_from(PATH_VALUES[name]), path_text))
        quoted = urllib.parse.quote(value.encode("utf-8", "surrogatepass"), safe="")
        concrete = concrete.replace("{" + name + "}", quoted or "x")
    query = {}
    for param in op.get("parameters", []):
        if param["in"] == "query" and draw(st.booleans()):
            query[param["name"]] = draw(st.one_of(st.text(max_size=30), st.sampled_from(
                ["0001-01-01", "2026-12-04", str(2**64), "-1", "csv", "xlsx", "clerk"])))
    # Signing out would end a session the other examples use: only tokens that have none.
    anyone = [None, "garbage", "kiosk", "screen", "agent", "metrics", "clerk", "super", "admin"]
    if path == "/api/v1/logout":
        who = draw(st.sampled_from(anyone[:6]))
    else:  # mostly a caller the route lets through, so that the input is read
        who = draw(st.one_of(st.just(_caller(path)), st.just(_caller(path)),
                             st.sampled_from(anyone)))
    body = None
    content_type = "application/json"
    if method == "post":
        kind = draw(st.sampled_from(["json", "json", "json", "raw", "none"]))
        if kind == "json":
            payload = draw(near(EXAMPLE_BODIES.get(path, {})))
            body = to_json(payload).encode("utf-8", "surrogatepass")
        elif kind == "raw":
            body = draw(st.binary(max_size=200))
            content_type = draw(st.sampled_from(["application/json", "text/plain"]))
    return method, concrete, query, who, body, content_type


@SETTINGS
@given(request=http_requests())
def test_no_http_input_gets_a_5xx_or_changes_the_hall_unacknowledged(hall, request):
    method, path, query, who, body, content_type = request
    token = hall.tokens[who]
    headers = {"Content-Type": content_type, **({"Authorization": f"Bearer {token}"}
                                                 if token else {})}
    before = hall.seq()
    r = requests.request(method, hall.hub.url + path, params=query, data=body,
                         headers=headers, timeout=20)
    assert r.status_code < 500, (method, path, r.status_code, r.text[:200])
    if r.status_code >= 400 and r.content and r.status_code not in (400, 414):
        if r.headers.get("Content-Type", "").startswith("text/html"):  # a phone page's refusal
            assert path.startswith(("/q/", "/s/", "/t/")), (method, path, r.status_code)
        else:
            error = r.json()["error"]
            assert error["code"] and error["message"], r.text
        assert hall.acted_since(before) == [], (method, path, r.status_code, r.text[:200])
    assert "Traceback" not in hall.new_log()


# --- Socket.IO ----------------------------------------------------------------------------

EVENTS = {
    "/display": [],
    "/kiosk": ["issue_ticket", "reprint", "lookup_slip", "complain", "lookup_identity"],
    "/caller": [*WINDOW_ACTIONS, "print_slip"],
    "/monitor": ["decide_return"],
    "/device": ["device_event", "health", "print_result", "scan", "id_card"],
    "/citizen": ["refresh"],
}
SIGNED_IN = {"/display": ("screen", {"room": "hall"}), "/kiosk": ("kiosk", {}),
             "/caller": ("panel", {}), "/monitor": ("super", {}),
             "/device": ("agent", {"windows": [1, 2], "kiosk": "test-kiosk"}),
             "/citizen": (None, {})}  # the phone: its capability, no token
NOT_EVENTS = ["connect", "disconnect", "message", "connect_error", "", "on_connect",
              "__init__", "trigger_event", 5, None, ["issue_ticket"], {"a": 1}, True]


@pytest.fixture(scope="module")
def sockets(hall):
    """One raw socket per namespace, connected as its role, for the whole module."""
    opened = {}
    for namespace, (who, auth) in SIGNED_IN.items():
        phone = {"capability": PATH_VALUES["cap"][-1]} if namespace == "/citizen" else {}
        opened[namespace] = RawSocket(hall.hub.url, namespace,
                                      {"token": hall.tokens[who], **auth, **phone})
        assert opened[namespace].connected, opened[namespace].connect_reply
    yield opened
    for sock in opened.values():
        sock.close()


PLAUSIBLE = {  # what each event takes, roughly: the starting point of its hostile variants
    "issue_ticket": {"service": "S1", "request_id": "r-1", "materials": False,
                     "identity": "A" * 120},
    "lookup_identity": {"identity": "A" * 120},
    "id_card": {"number": "11010519491231002X", "name": "张三", "birth": "1949-12-31",
                "valid_until": "2036-01-01"},
    "reprint": {"ticket_id": "20990101-A001"},
    "lookup_slip": {"number": "CN1"},
    "complain": {"category": "attitude", "text": "态度生硬", "window": 1, "phone": "123"},
    "call": {"number": "A001"},
    "transfer": {"window": 2, "reason": "需其他窗口办理"},
    "pause": {"reason": "会议"},
    "finish": {"outcome": "commitment", "items": ["营业执照"]},
    "print_slip": {"slip": "CN1"},
    "decide_return": {"ticket_id": "20990101-A001", "approve": True, "note": "同意"},
    "device_event": {"id": "press-0001", "kind": "key", "window": 1, "key": "call-next"},
    "health": {"devices": [{"id": "kp@1", "kind": "caller_keypad", "window": 1,
                            "status": "online"}]},
    "print_result": {"job": "job-1", "ok": True},
    "scan": {"text": "LS-2026-001"},
}


@st.composite
def socket_events(draw) -> tuple[str, Any, list[Any]]:
    namespace = draw(st.sampled_from(sorted(EVENTS)))
    handlers = EVENTS[namespace] or ["issue_ticket"]
    event = draw(st.one_of(st.sampled_from(handlers), st.sampled_from(handlers),
                           st.sampled_from(handlers), st.sampled_from(NOT_EVENTS),
                           st.text(max_size=10)))
    count = draw(st.sampled_from([1, 1, 1, 1, 0, 2, 3]))  # one argument, or not
    plausible = PLAUSIBLE.get(event, {}) if isinstance(event, str) else {}
    return namespace, event, [draw(near(plausible)) for _ in range(count)]


def _clear(answer: Any) -> bool:
    """An ack of one object: ok, or an error with a code and a message."""
    if not (isinstance(answer, list) and len(answer) == 1 and isinstance(answer[0], dict)):
        return False
    ack = answer[0]
    if ack.get("ok") is True:
        return True
    error = ack.get("error")
    return (ack.get("ok") is False and isinstance(error, dict)
            and bool(error.get("code")) and bool(error.get("message")))


@SETTINGS
@given(sent=socket_events())
def test_every_socket_event_is_answered_and_a_refusal_changes_nothing(hall, sockets, sent):
    namespace, event, args = sent
    sock = sockets[namespace]
    before = hall.seq()
    answer = sock.event_raw(to_json([event, *args]))
    assert _clear(answer), (namespace, event, answer)
    if answer[0]["ok"] is not True:
        assert hall.acted_since(before) == [], (namespace, event, answer)
    assert "Traceback" not in hall.new_log()


@settings(SETTINGS, max_examples=60)
@given(namespace=st.sampled_from(sorted(EVENTS)),
       auth=st.one_of(st.dictionaries(st.sampled_from(FIELDS), values, max_size=4), values),
       who=st.sampled_from(["as sent", "garbage", "screen", "kiosk", "agent", "panel", "super"]))
def test_a_hostile_connect_is_admitted_or_refused_with_its_reason(hall, namespace, auth, who):
    if isinstance(auth, dict) and who != "as sent":
        auth = {**auth, "token": hall.tokens[who]}
    before = hall.seq()
    sock = RawSocket(hall.hub.url, namespace, to_json(auth))
    try:
        if not sock.connected:
            refusal = sock.refusal
            assert refusal["message"] and refusal["data"]["code"], refusal
            assert hall.acted_since(before) == [], (namespace, refusal)
    finally:
        sock.close()
    assert "Traceback" not in hall.new_log()
