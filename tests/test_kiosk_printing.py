"""Kiosk tickets and 承诺单 through the real chain: kiosk socket → hub process → device agent
process → ESC/POS bytes on a simulated printer's pty, decoded back (GBK text, QR, CODE128).

Also the kiosk's other calls (idempotent issuing, slip lookup, complaints) and the scan relay.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid

import pytest
import requests
import socketio

from devices.printer.sim import NetSimPrinter, SimPrinter, decode, raster_images, text_of
from tests.hubproc import HubProcess
from tests.test_sockets import Listener
from tests.waiting import eventually

pytestmark = pytest.mark.slow


class Client:
    """A Socket.IO client of one namespace that keeps what the hub pushes."""

    def __init__(self, url: str, namespace: str, auth: dict) -> None:
        self.namespace = namespace
        self.sio = socketio.Client(reconnection=False)
        self.got: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        for name in ("snapshot", "printed", "scan", "status", "event"):
            self.sio.on(name, self._keep(name), namespace=namespace)
        self.sio.connect(url, namespaces=[namespace], auth=auth, transports=["websocket"],
                         wait_timeout=5)

    def _keep(self, name: str):
        def handler(data):
            with self.lock:
                self.got.append((name, data))
        return handler

    def call(self, event: str, data: dict | None = None) -> dict:
        return self.sio.call(event, data or {}, namespace=self.namespace, timeout=10)

    def pushed(self, name: str) -> list[dict]:
        with self.lock:
            return [d for n, d in self.got if n == name]

    def close(self) -> None:
        self.sio.disconnect()


def start_agent(tmp_path, hub: HubProcess, printer: SimPrinter | None, *,
                kiosk: str = "test-kiosk", windows: tuple[int, ...] = (),
                target: str = "", status_interval_s: int = 1) -> subprocess.Popen:
    """An agent printing on `printer` (its pty), or on `target` (a file, socket://...); with
    `kiosk = ""` a window's slip printer only (no kiosk, no scanner)."""
    target = target or printer.path  # type: ignore[union-attr]
    config = tmp_path / "agent.toml"
    scanner = """
[scanner]
device = "/dev/input/by-id/usb-onestop-test-no-such-scanner-event-kbd"
""" if kiosk else ""
    config.write_text(f"""
name = "kiosk-pi"
hub = "{hub.url}"
state_dir = "{tmp_path / 'agent'}"
{f'kiosk = "{kiosk}"' if kiosk else ""}

[printer]
target = "{target}"
paper = "80mm"
windows = {list(windows)}
status_interval_s = {status_interval_s}
{scanner}""", encoding="utf-8")
    log = open(tmp_path / "agent.log", "ab")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "--log-level", "info", "agent", "--config",
         str(config)], stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "ONESTOP_AGENT_TOKEN": hub.tokens["agent"], "PYTHONUNBUFFERED": "1"})


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def devices(hub: HubProcess) -> dict[str, dict]:
    if "office" not in hub.tokens:
        hub.tokens["office"] = hub.login("super")
    r = requests.get(f"{hub.url}/api/v1/devices", headers=hub.auth(hub.tokens["office"]),
                     timeout=5)
    return {d["device"]: d for d in r.json()["devices"]}


@pytest.fixture
def hall(tmp_path):
    hub = HubProcess(tmp_path / "hub")
    hub.provision()
    hub.start()
    printer = SimPrinter().start()
    agent = start_agent(tmp_path, hub, printer)
    eventually(lambda: devices(hub).get("printer@test-kiosk", {}).get("status") == "online",
               what="the kiosk printer online")
    kiosk = Client(hub.url, "/kiosk", {"token": hub.tokens["kiosk"]})
    yield hub, printer, agent, kiosk
    kiosk.close()
    stop(agent)
    printer.stop()
    hub.stop()
    print((tmp_path / "agent.log").read_text(errors="replace")[-3000:])


def printed_jobs(printer: SimPrinter) -> list[bytes]:
    """Each job the printer received (status requests removed), split at ESC @."""
    from devices.printer.sim import strip_status_requests

    data = strip_status_requests(printer.data())
    return [b"\x1b@" + part for part in data.split(b"\x1b@") if part]


def qr_payloads(job: bytes) -> list[str]:
    from PIL import Image
    from pyzbar import pyzbar

    found = []
    for w, h, rows in raster_images(job):
        img = Image.eval(Image.frombytes("1", (w, h), rows).convert("L"), lambda v: 255 - v)
        canvas = Image.new("L", (w + 40, h + 40), 255)
        canvas.paste(img, (20, 20))
        found += [f.data.decode() for f in pyzbar.decode(canvas)]
    return found


def test_ticket_printed_at_the_kiosk_decodes(hall):
    _hub, printer, _agent, kiosk = hall
    snap = kiosk.pushed("snapshot")[0]
    assert snap["kiosk"] == {"name": "test-kiosk", "printer": True,  # and no ID card reader
                             "id_reader": False, "id_reader_ready": False}
    answer = kiosk.call("issue_ticket", {"service": "S1", "request_id": uuid.uuid4().hex,
                                         "materials": True})
    assert answer["ok"], answer
    ticket = answer["result"]["ticket"]
    assert answer["result"]["print"] == "queued"
    assert ticket["number"] == "A001" and ticket["people_ahead"] == 0
    assert ticket["estimated_wait_minutes"] == 0
    done = eventually(lambda: kiosk.pushed("printed"), what="the print result")
    assert done[0]["ticket_id"] == ticket["id"] and done[0]["ok"] is True
    [job] = printed_jobs(printer)
    text = text_of(job)
    assert "A001" in text and "企业设立登记" in text.replace("\n", "")
    assert "一次性告知" in text and "身份证明" in text
    assert "Your number A001: Business registration" in text  # English second, small
    assert "Go to Windows 1, 2; 0 ahead of you." in text
    assert "?" not in text
    # The QR opens the ticket's page on the citizen's phone; the id is printed under it.
    [link] = qr_payloads(job)
    assert link == ticket["link"] and link.startswith(f"{_hub.url}/t/")
    assert ticket["id"] in text
    page = requests.get(f"{_hub.url}/api/v1/citizen/{link.rsplit('/', 1)[1]}", timeout=5)
    assert (page.status_code, page.json()["number"]) == (200, "A001")
    sizes = [op.value[1] for op in decode(job) if op.kind == "cmd" and op.value[0] == "GS !"]
    assert b"\x33" in sizes  # the number at 4x4 on 80 mm
    assert job.endswith(b"\x1dVA\x00")  # fed and cut


def test_one_request_id_gives_one_ticket(hall):
    hub, printer, _agent, kiosk = hall
    rid = uuid.uuid4().hex
    first = kiosk.call("issue_ticket", {"service": "S1", "request_id": rid})
    again = kiosk.call("issue_ticket", {"service": "S1", "request_id": rid})
    assert first["ok"] and again["ok"]
    assert first["result"]["ticket"]["id"] == again["result"]["ticket"]["id"]
    assert (first["result"]["print"], again["result"]["print"]) == ("queued", "repeated")
    eventually(lambda: kiosk.pushed("printed"), what="the print result")
    time.sleep(0.5)
    assert len(printed_jobs(printer)) == 1  # printed once, not once per re-send
    other = kiosk.call("issue_ticket", {"service": "S1", "request_id": uuid.uuid4().hex})
    assert other["result"]["ticket"]["number"] == "A002"
    queue = requests.get(f"{hub.url}/api/v1/queue", headers=hub.auth(hub.tokens["kiosk"]),
                         timeout=5).json()
    assert queue["waiting"]["S1"] == 2
    # The same id survives a restart of the hub: still one ticket.
    hub.kill()
    hub.start()
    kiosk2 = Client(hub.url, "/kiosk", {"token": hub.tokens["kiosk"]})
    try:
        after = kiosk2.call("issue_ticket", {"service": "S1", "request_id": rid})
        assert after["result"]["ticket"]["id"] == first["result"]["ticket"]["id"]
    finally:
        kiosk2.close()


def test_paper_out_is_reported_and_a_reprint_works(hall):
    hub, printer, _agent, kiosk = hall
    printer.faults.paper_out = True
    answer = kiosk.call("issue_ticket", {"service": "S1", "request_id": "r1", "materials": True})
    assert answer["ok"] and answer["result"]["print"] == "queued"
    ticket = answer["result"]["ticket"]
    failed = eventually(lambda: kiosk.pushed("printed"), what="the print result")[0]
    assert failed["ok"] is False and "纸" in failed["message"]
    assert "paper" in failed["message_en"]
    assert printed_jobs(printer) == []
    state = eventually(lambda: devices(hub)["printer@test-kiosk"]["status"] == "error"
                       and devices(hub)["printer@test-kiosk"], what="printer error reported")
    assert "纸" in state["detail"]
    # The ticket stands: it is waiting, and can be printed once paper is back.
    printer.faults.paper_out = False
    again = kiosk.call("reprint", {"ticket_id": ticket["id"]})
    assert again == {"ok": True, "result": {"print": "queued"}}
    eventually(lambda: len(kiosk.pushed("printed")) == 2 and kiosk.pushed("printed")[1]["ok"],
               what="the reprint")
    reprinted = text_of(printed_jobs(printer)[0])
    assert ticket["number"] in reprinted
    # what the first print had: the 一次性告知 materials list, though the reprint did not say
    assert "一次性告知" in reprinted and "身份证明" in reprinted
    eventually(lambda: devices(hub)["printer@test-kiosk"]["status"] == "online",
               what="printer online again")


def test_a_reprint_prints_what_the_first_print_printed(hall):
    _hub, printer, _agent, kiosk = hall
    with_list = kiosk.call("issue_ticket", {"service": "S1", "request_id": "m1",
                                            "materials": True})["result"]["ticket"]
    without = kiosk.call("issue_ticket", {"service": "S1", "request_id": "m2"})["result"]["ticket"]
    eventually(lambda: len(kiosk.pushed("printed")) == 2, what="two tickets printed")
    for ticket, asked in ((with_list, {}), (without, {}), (with_list, {"materials": True}),
                          (without, {"materials": False})):
        assert kiosk.call("reprint", {"ticket_id": ticket["id"], **asked})["ok"]
    eventually(lambda: len(kiosk.pushed("printed")) == 6, what="four reprints")
    jobs = [text_of(job) for job in printed_jobs(printer)]
    assert [ticket["number"] in text for text, ticket in zip(
        jobs, [with_list, without] * 3, strict=True)] == [True] * 6
    assert ["一次性告知" in text for text in jobs] == [True, False] * 3


def test_without_a_printer_the_ticket_still_stands(hall):
    hub, _printer, agent, kiosk = hall
    stop(agent)
    eventually(lambda: devices(hub)["printer@test-kiosk"]["status"] == "offline",
               what="the printer's agent gone")
    answer = kiosk.call("issue_ticket", {"service": "S1", "request_id": "r2"})
    assert answer["ok"] and answer["result"]["print"] == "no_printer"
    assert answer["result"]["ticket"]["number"] == "A001"


def test_commitment_slip_prints_at_the_kiosk_printer_and_the_kiosk_finds_it(hall):
    hub, printer, _agent, kiosk = hall
    clerk = hub.login("clerk1", 1)
    panel = Client(hub.url, "/caller", {"token": clerk})
    try:
        ticket = kiosk.call("issue_ticket", {"service": "S1", "request_id": "r3"})
        eventually(lambda: kiosk.pushed("printed"), what="ticket printed")
        assert panel.call("call-next")["ok"]
        done = panel.call("finish", {"outcome": "commitment", "items": ["营业执照变更"]})
        assert done["ok"], done
        slip_no = hub.full_ticket(ticket["result"]["ticket"]["id"])["outcome"]["slip"]
        note = eventually(lambda: panel.pushed("printed"), what="the slip's print result")[0]
        assert note == {"slip": slip_no, "ok": True, "message": "已打印", "message_en": "Printed"}
        job = printed_jobs(printer)[-1]
        text = text_of(job)
        assert "承诺单" in text and slip_no in text and "营业执照变更" in text
        [(_kind, payload)] = [op.value for op in decode(job) if op.kind == "barcode"]
        assert payload == b"{B" + slip_no.encode()
        [link] = qr_payloads(job)  # the slip's phone page, as the ticket's page links it
        assert link.startswith(f"{hub.url}/s/")
        cap = ticket["result"]["ticket"]["link"].rsplit("/", 1)[1]
        view = requests.get(f"{hub.url}/api/v1/citizen/{cap}", timeout=5).json()
        assert view["slip"] == {"number": slip_no, "link": link}
        # Printed again from the panel: the same slip, the same QR.
        assert panel.call("print_slip", {"slip": slip_no})["result"] == {"print": "queued"}
        eventually(lambda: len(panel.pushed("printed")) == 2, what="the reprint")
        assert len(printed_jobs(printer)) == 3
        again = printed_jobs(printer)[-1]
        assert slip_no in text_of(again) and qr_payloads(again) == [link]
        found = kiosk.call("lookup_slip", {"number": slip_no.lower()})
        assert found["ok"], found
        assert found["result"]["status"] == "accepted" and found["result"]["status_name"] == "受理"
        assert found["result"]["items"] == ["营业执照变更"]
        missing = kiosk.call("lookup_slip", {"number": "CN000"})
        assert missing["ok"] is False and missing["error"]["code"] == "no_slip"
    finally:
        panel.close()


def test_complaint_goes_to_the_office_not_the_screens(hall):
    hub, _printer, _agent, kiosk = hall
    office = Client(hub.url, "/monitor", {"token": hub.login("super")})
    screen = Client(hub.url, "/display", {"token": hub.tokens["screen"], "room": "hall"})
    try:
        bad = kiosk.call("complain", {"category": "nope", "text": "x"})
        assert bad["ok"] is False and bad["error"]["code"] == "invalid"
        empty = kiosk.call("complain", {"category": "attitude", "text": "   "})
        assert empty["ok"] is False
        answer = kiosk.call("complain", {"category": "attitude", "text": "窗口人员态度生硬",
                                         "window": 2, "staff_no": "JZ002",
                                         "phone": "138-0000-0000"})
        assert answer["ok"], answer
        cid = answer["result"]["id"]
        assert cid.startswith("TS") and cid.endswith("0001")
        seen = eventually(lambda: [e for e in office.pushed("event")
                                   if e["type"] == "complaint.filed"], what="the complaint")[0]
        assert seen["data"]["complaint_id"] == cid and seen["data"]["phone"] == "138-0000-0000"
        assert seen["data"]["window_about"] == 2
        time.sleep(0.3)
        assert not [e for e in screen.pushed("event") if e["type"] == "complaint.filed"]
    finally:
        office.close()
        screen.close()


def test_a_scan_goes_to_its_kiosk_page_only(hall):
    hub, _printer, _agent, kiosk = hall
    agent = Client(hub.url, "/device", {"token": hub.tokens["agent"], "windows": [],
                                        "kiosk": "test-kiosk"})
    stranger = Client(hub.url, "/device", {"token": hub.tokens["agent"], "windows": []})
    try:
        assert agent.call("scan", {"text": "CN202611250001"}) == {"ok": True}
        got = eventually(lambda: kiosk.pushed("scan"), what="the scan")
        assert got == [{"text": "CN202611250001"}]
        refused = stranger.call("scan", {"text": "x"})
        assert refused["ok"] is False and refused["error"]["code"] == "no_kiosk"
        assert agent.call("scan", {"text": "a\x00b"})["ok"] is False
        assert agent.call("scan", "garbage")["ok"] is False
    finally:
        agent.close()
        stranger.close()


def test_an_unplugged_scanner_is_reported_and_the_agent_keeps_working(hall):
    hub, _printer, _agent, kiosk = hall
    scanner = eventually(lambda: devices(hub).get("scanner@test-kiosk"), what="scanner health")
    assert scanner["status"] == "offline" and scanner["kind"] == "scanner"
    assert scanner["window"] is None
    answer = kiosk.call("issue_ticket", {"service": "S1", "request_id": "r-scan"})
    assert answer["ok"]
    eventually(lambda: kiosk.pushed("printed"), what="printing still works")


def test_kiosk_status_follows_the_hall(hall):
    hub, _printer, _agent, kiosk = hall
    kiosk.call("issue_ticket", {"service": "S2", "request_id": "r9"})
    status = eventually(lambda: [s for s in kiosk.pushed("status")
                                 if s["waiting"].get("S2") == 1], what="status push")[-1]
    assert status["open_windows"] == {}
    hub.login("clerk1", 1)
    eventually(lambda: [s for s in kiosk.pushed("status") if s["open_windows"]],
               what="a window open")


def test_a_plain_file_target_prints_without_a_status_answer(tmp_path):
    """A file target (a spool, a capture) that does not exist yet: created, never asked its
    status (it cannot answer), and every ticket printed into it."""
    hub = HubProcess(tmp_path / "hub")
    hub.provision()
    hub.start()
    spool = tmp_path / "spool" / "kiosk.prn"
    spool.parent.mkdir()
    agent = start_agent(tmp_path, hub, None, target=str(spool))
    kiosk = None
    try:
        eventually(lambda: devices(hub).get("printer@test-kiosk", {}).get("status") == "online",
                   what="the file printer online")
        kiosk = Client(hub.url, "/kiosk", {"token": hub.tokens["kiosk"]})
        answer = kiosk.call("issue_ticket", {"service": "S1", "request_id": "f1"})
        assert answer["ok"] and answer["result"]["print"] == "queued"
        done = eventually(lambda: kiosk.pushed("printed"), what="the print result")
        assert done[0]["ok"] is True, done
        job = spool.read_bytes()
        assert job.startswith(b"\x1b@\x1c&") and b"\x10\x04" not in job  # no status requests
        assert answer["result"]["ticket"]["number"] in text_of(job)
        assert qr_payloads(job) == [answer["result"]["ticket"]["link"]]
    finally:
        if kiosk is not None:
            kiosk.close()
        stop(agent)
        hub.stop()


def test_a_network_printer_that_dropped_its_connection_prints_the_next_ticket(tmp_path):
    """socket://: the printer closed its connection (switched off and on) between two tickets.
    The next ticket prints at once, not after the next status poll (here: 10 minutes away)."""
    hub = HubProcess(tmp_path / "hub")
    hub.provision()
    hub.start()
    net = NetSimPrinter().start()
    agent = start_agent(tmp_path, hub, None, target=net.url, status_interval_s=600)
    kiosk = None
    try:
        eventually(lambda: devices(hub).get("printer@test-kiosk", {}).get("status") == "online",
                   what="the network printer online")
        kiosk = Client(hub.url, "/kiosk", {"token": hub.tokens["kiosk"]})
        first = kiosk.call("issue_ticket", {"service": "S1", "request_id": "n1"})
        assert eventually(lambda: kiosk.pushed("printed"), what="the first ticket")[0]["ok"]
        net.drop()
        eventually(lambda: net.connected() == 0, what="the connection dropped")
        second = kiosk.call("issue_ticket", {"service": "S1", "request_id": "n2"})
        done = eventually(lambda: kiosk.pushed("printed")[1:], what="the second ticket")
        assert done[0]["ok"] is True, done
        texts = [text_of(b"\x1b@" + j) for j in net.data().split(b"\x1b@") if j]
        numbers = [t["result"]["ticket"]["number"] for t in (first, second)]
        assert [n for n in numbers for t in texts if n in t] == numbers  # each once
        assert devices(hub)["printer@test-kiosk"]["status"] == "online"
    finally:
        if kiosk is not None:
            kiosk.close()
        stop(agent)
        net.stop()
        hub.stop()


def test_a_ticket_issued_over_http_prints_when_the_kiosk_asks(hall):
    """A third-party kiosk on the HTTP API: `"print": true` prints at the printer of the agent
    beside it, as the kiosk socket does; without it nothing prints."""
    hub, printer, _agent, kiosk = hall
    url, as_kiosk = f"{hub.url}/api/v1/tickets", hub.auth(hub.tokens["kiosk"])
    silent = requests.post(url, json={"service": "S1"}, headers=as_kiosk, timeout=5)
    assert silent.status_code == 201 and "print" not in silent.json()
    asked = requests.post(url, json={"service": "S1", "print": True, "materials": True},
                          headers=as_kiosk, timeout=5)
    assert asked.status_code == 201, asked.text
    ticket = asked.json()
    assert ticket["number"] == "A002" and ticket["print"] == "queued"
    done = eventually(lambda: kiosk.pushed("printed"), what="the print result")
    assert done == [{"ticket_id": ticket["id"], "ok": True, "message": "已打印",
                     "message_en": "Printed"}]
    [job] = printed_jobs(printer)
    text = text_of(job)
    assert "A002" in text and "一次性告知" in text and qr_payloads(job) == [ticket["link"]]
    # Only a kiosk has a printer beside it; a refused request issues nothing.
    office = hub.auth(hub.login("super"))
    refused = requests.post(url, json={"service": "S1", "print": True}, headers=office, timeout=5)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid"
    wrong = requests.post(url, json={"service": "S1", "print": "yes"}, headers=as_kiosk,
                          timeout=5)
    assert wrong.status_code == 422
    queue = requests.get(f"{hub.url}/api/v1/queue", headers=as_kiosk, timeout=5).json()
    assert queue["waiting"]["S1"] == 2
    doc = requests.get(f"{hub.url}/api/v1/openapi.json", timeout=5).json()
    assert "print" in doc["components"]["schemas"]["TicketRequest"]["properties"]


def test_a_window_slip_printer_is_reported_at_its_windows(tmp_path):
    """A printer for the 承诺单 of windows 1 and 2: its health names those windows, so the
    office can show it on their cards; a fault there is a fault at window 1's card too."""
    hub = HubProcess(tmp_path / "hub")
    hub.provision()
    hub.start()
    hub.tokens["office"] = hub.login("super")  # one session: devices() reads with it too
    monitor = Listener(hub, "/monitor", hub.tokens["office"])
    printer = SimPrinter().start()
    printer.faults.paper_out = True
    agent = start_agent(tmp_path, hub, printer, kiosk="", windows=(1, 2))
    try:
        state = eventually(lambda: devices(hub).get("printer@kiosk-pi", {}).get("status")
                           == "error" and devices(hub)["printer@kiosk-pi"],
                           what="the slip printer's paper out")
        assert (state["kind"], state["window"], state["windows"]) == ("printer", 1, [1, 2])
        changed = monitor.next_event("device.state_changed")  # what the backend gets too
        assert changed["data"]["window_at"] == 1 and changed["data"]["windows_at"] == [1, 2]
        printer.faults.paper_out = False
        eventually(lambda: devices(hub)["printer@kiosk-pi"]["status"] == "online",
                   what="the slip printer online again")
        stop(agent)
        gone = eventually(lambda: devices(hub)["printer@kiosk-pi"]["status"] == "offline"
                          and devices(hub)["printer@kiosk-pi"], what="its agent gone")
        assert gone["windows"] == [1, 2]
    finally:
        monitor.client.disconnect()
        stop(agent)
        printer.stop()
        hub.stop()
