"""Supervision casework (督办工单) against a real hub process over loopback: a 差评 pressed at a
window's keypad (through its device agent's socket) and a complaint left at the kiosk each open
a case; the office takes one through to 已办结; the clerk a case names appeals it and a
supervisor upholds the appeal; nobody else may; the office's monitor and the clerk's own panel
get the events as they happen; every step is in the audit log."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import requests

from hub.runtime import open_database
from hub.store.store import Store
from tests.hubproc import HubProcess, hall_today
from tests.test_sockets import Listener
from tests.waiting import eventually

pytestmark = pytest.mark.slow
API = "/api/v1"


class Office:
    def __init__(self, hub: HubProcess, token: str) -> None:
        self.hub, self.token = hub, token

    def get(self, path: str, token: str | None = None, **params) -> requests.Response:
        return requests.get(f"{self.hub.url}{API}{path}", params=params, timeout=10,
                            headers=self.hub.auth(token or self.token))

    def post(self, path: str, body: dict, token: str | None = None) -> requests.Response:
        return requests.post(f"{self.hub.url}{API}{path}", json=body, timeout=10,
                             headers=self.hub.auth(token or self.token))

    def step(self, case_id: str, token: str | None = None, **body) -> requests.Response:
        return self.post(f"/cases/{case_id}/steps", body, token)


def next_case_event(listener: Listener, type_: str, case_id: str | None = None) -> dict:
    while True:
        event = listener.next_event(type_)
        if case_id is None or event["data"]["case_id"] == case_id:
            return event


def bad_rating(hub: HubProcess, clerk: str, agent: Listener) -> str:
    """Serve a ticket at window 1 and press 不满意 with reason key 2 on its keypad."""
    ticket = hub.issue("S1").json()["id"]
    assert hub.act(clerk, 1, "call-next").ok
    assert hub.act(clerk, 1, "finish").ok
    asked = agent.next_event("rating.requested")["data"]
    assert asked["ticket_id"] == ticket
    press = {"id": "press-case-0001", "kind": "rating", "window": 1, "level": 4, "reason": 2,
             "request_id": asked["request_id"]}
    assert agent.call("device_event", press)["ok"]
    return ticket


def test_a_keypad_bad_rating_and_a_kiosk_complaint_each_open_a_case_taken_to_closed(hub):
    office = Office(hub, hub.login("super"))
    clerk1, clerk2 = hub.login("clerk1", 1), hub.login("clerk2", 2)
    monitor = Listener(hub, "/monitor", office.token)
    panel1, panel2 = Listener(hub, "/caller", clerk1), Listener(hub, "/caller", clerk2)
    agent = Listener(hub, "/device", hub.tokens["agent"], windows=[1])
    kiosk = Listener(hub, "/kiosk", hub.tokens["kiosk"])
    try:
        agent.snapshot()
        keypad = {"id": "bus1/rating@1", "kind": "rating", "window": 1, "status": "online"}
        assert agent.call("health", {"devices": [keypad]})["ok"]

        ticket = bad_rating(hub, clerk1, agent)
        opened = next_case_event(monitor, "case.opened")["data"]
        assert (opened["kind"], opened["source"], opened["ticket_id"], opened["clerk"],
                opened["level"], opened["window_no"]) == ("rating", "keypad", ticket, "clerk1",
                                                          4, 1)
        rating_case = opened["case_id"]
        assert rating_case.startswith("GD") and len(rating_case) == 14
        # The clerk's own panel is told; another clerk's is not.
        assert next_case_event(panel1, "case.opened")["data"]["case_id"] == rating_case

        filed = kiosk.call("complain", {"category": "attitude", "text": "态度生硬 13800000000",
                                        "window": 2})
        assert filed["ok"], filed
        complaint = next_case_event(monitor, "case.opened")["data"]
        assert (complaint["kind"], complaint["source"], complaint["complaint_id"]) == (
            "complaint", "kiosk", filed["result"]["id"])
        assert "13800000000" not in complaint["summary"]

        listed = office.get("/cases", open=1).json()
        assert {c["case_id"] for c in listed["cases"]} == {rating_case, complaint["case_id"]}
        case = office.get(f"/cases/{rating_case}").json()["case"]
        assert (case["status"], case["status_name"], case["reason"], case["actions"]) == (
            "pending", "待核实", "办事效率", ["callback"])

        # Through to 已办结, every step recorded with who and what.
        for body in ({"action": "callback", "result": "市民反映等候时间长", "reached": True},
                     {"action": "rectify", "cause": "窗口人手不足", "plan": "高峰期增开窗口",
                      "attachments": ["排班表 12月"]},
                     {"action": "rectified", "fix": "已增开2号窗口"},
                     {"action": "close", "reply": "已电话告知市民整改结果",
                      "verdict": "founded"}):
            r = office.step(rating_case, **body)
            assert r.status_code == 200, r.text
            stepped = next_case_event(monitor, "case.stepped", rating_case)["data"]
            assert (stepped["action"], stepped["by"]) == (body["action"], "super")
        done = r.json()
        assert done["case"]["status"] == "closed" and done["case"]["status_name"] == "已办结"
        assert [s["action"] for s in done["steps"]] == ["callback", "rectify", "rectified",
                                                        "close"]
        assert done["steps"][1]["attachments"] == ["排班表 12月"]
        assert office.step(rating_case, action="callback", result="x",
                           reached=True).json()["error"]["code"] == "case_final"
        assert next_case_event(panel1, "case.stepped", rating_case)["data"]["status"] == \
            "called_back"
        with pytest.raises(Exception):  # noqa: B017 (queue.Empty: nothing for clerk2)
            panel2.next_event("case.opened")

        audit = office.get("/audit", account="super", limit=50).json()["records"]
        assert [r["detail"]["action"] for r in audit if r["action"] == "case-step"] == [
            "callback", "rectify", "rectified", "close", "callback"]
        assert audit[-1]["outcome"] == "case_final"  # the refusal is on record too
    finally:
        for listener in (monitor, panel1, panel2, agent, kiosk):
            listener.close()


def test_the_clerk_a_case_names_appeals_it_and_a_supervisor_upholds_it(hub):
    office = Office(hub, hub.login("super"))
    clerk1, clerk2 = hub.login("clerk1", 1), hub.login("clerk2", 2)
    entered = office.post("/complaints", {"category": "efficiency", "text": "办理太慢",
                                          "channel": "phone", "window": 2, "staff_no": "JZ002",
                                          "phone": "0416-7654321"})
    assert entered.status_code == 201, entered.text
    case_id = entered.json()["case_id"]
    case = office.get(f"/cases/{case_id}").json()["case"]
    assert (case["source"], case["channel"], case["clerk"], case["contact"]) == (
        "office", "phone", "clerk2", "0416-7654321")

    # Nobody but clerk2 appeals it; a clerk reads only their own cases, never the office's list.
    refused = office.step(case_id, clerk1, action="appeal", grounds="不是我")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_your_case")
    assert office.step(case_id, action="appeal", grounds="代申诉").status_code == 403
    assert office.get(f"/cases/{case_id}", clerk1).status_code == 403
    assert office.get("/cases", clerk2).status_code == 403
    assert office.step(case_id, clerk2, action="callback", result="x",
                       reached=True).status_code == 403
    mine = office.get("/my/cases", clerk2).json()["cases"]
    assert [(c["case_id"], c["actions"]) for c in mine] == [(case_id, ["appeal"])]
    assert "contact" not in office.get(f"/cases/{case_id}", clerk2).json()["case"]
    assert office.get("/my/cases", clerk1).json()["cases"] == []

    appealed = office.step(case_id, clerk2, action="appeal", grounds="当日该窗口由他人顶岗")
    assert appealed.status_code == 200, appealed.text
    assert appealed.json()["case"]["status"] == "appealing"
    assert appealed.json()["case"]["actions"] == []
    again = office.step(case_id, clerk2, action="appeal", grounds="再申诉")
    assert again.status_code == 409
    upheld = office.step(case_id, action="decide_appeal", upheld=True, note="排班表证实")
    assert upheld.status_code == 200, upheld.text
    final = upheld.json()["case"]
    assert (final["status"], final["status_name"], final["appeal"]) == (
        "appeal_upheld", "申诉成立", "upheld")
    assert office.get("/cases", open=1).json()["cases"] == []
    assert [c["case_id"] for c in office.get("/cases").json()["cases"]] == [case_id]


def test_bad_bodies_are_refused_with_a_4xx(hub):
    office = Office(hub, hub.login("super"))
    case_id = office.post("/complaints", {"category": "attitude", "text": "x",
                                          "channel": "visit"}).json()["case_id"]
    for body in ({}, {"action": "fly"}, {"action": "callback"},
                 {"action": "callback", "result": "x" * 2001, "reached": True},
                 {"action": "callback", "result": "x", "reached": "yes"},
                 {"action": "callback", "result": "x", "reached": True,
                  "attachments": ["a"] * 11},
                 {"action": "close", "reply": "x", "verdict": "maybe"}):
        r = office.step(case_id, **body)
        assert r.status_code == 422, (body, r.status_code, r.text)
    assert office.step("GD209901010001", action="callback", result="x",
                       reached=True).status_code == 404
    for body in ({"category": "attitude", "text": "x", "channel": "fax"},
                 {"category": "nope", "text": "x", "channel": "box"},
                 {"category": "attitude", "text": "", "channel": "box"}):
        assert office.post("/complaints", body).status_code == 422, body
    assert office.post("/complaints", {"category": "attitude", "text": "x", "channel": "box"},
                       hub.tokens["kiosk"]).status_code == 403
    assert office.get("/cases", status="lost").status_code == 422
    assert office.get("/cases", after="x" * 65).status_code == 422


def test_an_overdue_callback_is_alerted_once_across_restarts_and_cleared_by_the_callback(
        tmp_path, monkeypatch):
    """The hub restarted days later (its clock set on): the supervision tick raises the case's
    alert after the day rolls over; another restart does not raise it again; the callback
    clears it in its own commit."""
    monkeypatch.setenv("ONESTOP_TICK_S", "0.3")
    hub = HubProcess(tmp_path / "data")
    hub.provision()
    hub.start()
    try:
        office = Office(hub, hub.login("super"))
        case_id = office.post("/complaints", {"category": "attitude", "text": "无人接待",
                                              "channel": "letter", "window": 3}
                              ).json()["case_id"]
        due = office.get(f"/cases/{case_id}").json()["case"]["callback_due"]
    finally:
        hub.stop()
    later = hall_today() + dt.timedelta(days=9)  # past the callback's day, whatever the calendar
    assert later.isoformat() > due
    hub.clock = f"{later.isoformat()}T10:00:00+08:00"
    key = f"case_overdue:{case_id}:callback"

    def raised() -> list[str]:
        db = open_database(hub.data_dir)
        try:
            return [r.type for r in Store(db).records_after(0, limit=10**6)
                    if r.type in ("alert.raised", "alert.cleared") and r.event.key == key]
        finally:
            db.close()

    for _ in range(2):  # and again after a restart: nothing more
        hub.start()
        try:
            office = Office(hub, hub.login("super"))
            alerts = eventually(lambda o=office: [a for a in o.get("/alerts").json()["alerts"]
                                                  if a["key"] == key],
                                timeout_s=20, what="the alert")
            assert alerts[0]["kind"] == "case_overdue" and alerts[0]["window"] == 3
            case = office.get(f"/cases/{case_id}").json()["case"]
            assert case["overdue"] == ["callback"]
            time.sleep(1.0)  # a few more ticks
        finally:
            hub.stop()
        assert raised() == ["alert.raised"]
    hub.start()
    try:
        office = Office(hub, hub.login("super"))
        assert office.step(case_id, action="callback", result="已回访", reached=True).ok
        assert not [a for a in office.get("/alerts").json()["alerts"] if a["key"] == key]
    finally:
        hub.stop()
    assert raised() == ["alert.raised", "alert.cleared"]
