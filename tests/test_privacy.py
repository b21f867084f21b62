"""No ID number and no full name anywhere a day of the hall leaves them (docs/privacy.md).

A whole run through real processes: a hub (debug log), the kiosk's agent reading a simulated
GA 467-2013 reader on a pty and printing on a simulated ESC/POS printer, made-up cards swiped
(read, damaged, refused as invalid, an elderly one), tickets issued with them (one refused as a
second open ticket for its item, one over the daily cap), a card-only item, an appointment
booked with an ID number and found by a swipe, calls with silent calling on (window screen,
phone page), a recall, finishes, a 承诺单, ratings, the office's pages and reports, housekeeping
over the day's end and past `link_days` (hubs restarted on later clocks), a backup, and the feed
to a CloudEvents receiver. Then everything the run produced is searched for every number, full
name, full birth date and address, as UTF-8, UTF-16 (both orders), GB18030 and JSON's \\uXXXX
escapes: the data directory (SQLite file, -wal, -shm, logs, keys), the backup unpacked, every
process's output, every page's HTML and JSON answer, every socket message and answer, the
printer's bytes and the backend's batches. Nothing is found.

Also: the voice of a call never says a name, even handed an event that carries one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from devices.sim.idcard import SimCard, SimIdReader
from devices.voice.text import announcement
from tests.cereceiver import Receiver
from tests.hubproc import SUITE_CLOCK, SUITE_START, HubProcess, hall_today
from tests.idhall import (
    DAMAGED,
    LI,
    OUYANG,
    REQUIRED_ITEM,
    SIMA,
    ZHANG,
    Recorder,
    id_hall,
    start_kiosk_agent,
    swipe,
)
from tests.waiting import eventually

# A made-up number with a wrong check digit: refused as id_invalid, and searched for too.
INVALID = SimCard(dataclasses.replace(LI.text, name="钱七", number=LI.text.number[:17] + (
    "0" if LI.text.number[17] != "0" else "1")))
CARDS = (ZHANG, OUYANG, LI, SIMA, DAMAGED, INVALID)


class RawReceiver(Receiver):
    """The receiver, also keeping each accepted request's body as it came."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.bodies: list[bytes] = []

    def _handle(self, headers: Any, body: bytes) -> tuple[int, str]:
        status, text = super()._handle(headers, body)
        if status == 200:
            with self.lock:
                self.bodies.append(body)
        return status, text


class DebugHub(HubProcess):
    """The hub as `onestop --log-level debug hub ...`: every line any library writes."""

    def command(self, *args: str) -> list[str]:
        found = list(args)
        if "--log-level" in found:
            found[found.index("--log-level") + 1] = "debug"
        return super().command(*found)


# --- what is searched for, and how ------------------------------------------------------------

def secrets_of(cards: Iterable[SimCard]) -> dict[str, str]:
    """label -> value: what no byte of the run may hold."""
    found: dict[str, str] = {}
    for card in cards:
        text = card.text
        found[f"number of {text.name}"] = text.number
        found[f"name of {text.name}"] = text.name
        found[f"birth date of {text.name}"] = text.birth.isoformat()
        found[f"address of {text.name}"] = text.address
    return found


def encodings(value: str) -> dict[str, bytes]:
    """The forms a value could be written in: a page's or a log's, a database's, a printer's."""
    forms = {"utf-8": value.encode("utf-8"), "utf-16-le": value.encode("utf-16-le"),
             "utf-16-be": value.encode("utf-16-be"),
             "json-escaped": json.dumps(value)[1:-1].encode("ascii")}
    if not value.isascii():
        forms["gb18030"] = value.encode("gb18030")
        forms["json-escaped-upper"] = json.dumps(value)[1:-1].upper().replace(
            "\\U", "\\u").encode("ascii")
    return forms


def leaks(secrets: dict[str, str], blobs: Iterable[tuple[str, bytes]]) -> list[str]:
    """Every (secret, form, place) found."""
    needles = [(label, form, data) for label, value in secrets.items()
               for form, data in encodings(value).items()]
    found = []
    for where, blob in blobs:
        for label, form, data in needles:
            if data in blob:
                found.append(f"{label} ({form}) in {where}")
    return found


def files_under(root: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield str(path), path.read_bytes()


def unpacked(archive: Path) -> Iterator[tuple[str, bytes]]:
    """A backup's members, decompressed (a .tar.gz hides its text from a plain search)."""
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            f = tar.extractfile(member)
            if f is not None:
                yield f"{archive}!{member.name}", f.read()


# --- the run -----------------------------------------------------------------------------------

class Run:
    """The processes of one run and everything they answered."""

    def __init__(self, tmp: Path) -> None:
        from devices.printer.sim import SimPrinter

        self.tmp = tmp
        self.answers: list[tuple[str, bytes]] = []  # (what, the answer's bytes)
        self.receiver = RawReceiver().start()
        self.config = id_hall(tmp, silent_calling=True, backend_url=self.receiver.url)
        self.hub = DebugHub(tmp / "data", config=self.config)
        self.hub.provision()
        self.hub.start()
        self.printer = SimPrinter().start()
        self.reader = SimIdReader(read_s=0.05).start()
        self.agent = start_kiosk_agent(tmp, self.hub, self.printer.path, self.reader,
                                       log_level="debug")
        self.office = self.hub.login("super")
        eventually(self.reader_online, timeout_s=20, what="the kiosk's ID card reader online")
        self.kiosk = Recorder(self.hub.url, "/kiosk", {"token": self.hub.tokens["kiosk"]})
        screen = self.hub.tokens["screen"]
        self.screens = [Recorder(self.hub.url, "/display", {"token": screen, "room": room})
                        for room in ("hall", "window:1", "window:3")]
        self.monitor = Recorder(self.hub.url, "/monitor", {"token": self.office})
        self.listeners = [self.kiosk, *self.screens, self.monitor]

    def reader_online(self) -> bool:
        r = requests.get(f"{self.hub.url}/api/v1/devices", headers=self.hub.auth(self.office),
                         timeout=5)
        return any(d["device"] == "id_reader@test-kiosk" and d["status"] == "online"
                   for d in r.json()["devices"])

    def http(self, method: str, path: str, token: str | None = None, **kw: Any):
        headers = self.hub.auth(token) if token else {}
        r = requests.request(method, f"{self.hub.url}{path}", headers=headers, timeout=10, **kw)
        self.answers.append((f"{method} {path} -> {r.status_code}", r.content))
        return r

    def take(self, card_pushed: dict[str, Any], service: str) -> dict[str, Any]:
        return self.kiosk.call("issue_ticket", {
            "service": service, "channel": "normal", "request_id": uuid.uuid4().hex,
            "materials": True, "identity": card_pushed["handle"]})

    def stop(self) -> None:
        for listener in self.listeners:
            listener.close()
        self.agent.terminate()
        try:
            self.agent.wait(10)
        except subprocess.TimeoutExpired:
            self.agent.kill()
        self.hub.stop()
        self.reader.stop()
        self.printer.stop()
        self.receiver.close()


def cli(*args: str, tmp: Path) -> bytes:
    """`onestop ARGS`, its output kept (searched too)."""
    done = subprocess.run([sys.executable, "-m", "hub.cli", *args], capture_output=True,
                          timeout=120, check=False)
    out = done.stdout + done.stderr
    (tmp / f"cli-{args[0]}-{uuid.uuid4().hex[:6]}.out").write_bytes(out)
    assert done.returncode == 0, out.decode(errors="replace")
    return out


def swipes_and_tickets(run: Run) -> tuple[dict, dict]:
    """Cards read, refused and unreadable; tickets issued and refused by the per-person rules.
    The first ticket and the elderly one."""
    kiosk = run.kiosk
    zhang = swipe(run.reader, ZHANG, kiosk)  # the page gets a masked name, never more
    assert zhang["masked_name"] == "张**" and zhang["elderly"] is False, zhang
    assert swipe(run.reader, DAMAGED, kiosk)["error"] == "id_unreadable"
    assert swipe(run.reader, INVALID, kiosk)["error"] == "id_invalid"
    first = run.take(zhang, "S1")
    assert first["ok"], first
    again = run.take(swipe(run.reader, ZHANG, kiosk), "S1")  # a second open ticket: refused
    assert again["error"]["code"] == "identity_open_ticket", again
    assert run.take(swipe(run.reader, ZHANG, kiosk), "S2")["ok"]
    assert run.take(swipe(run.reader, ZHANG, kiosk), REQUIRED_ITEM)["ok"]  # needs the card
    capped = run.take(swipe(run.reader, ZHANG, kiosk), "S4")  # the fourth today: over the cap
    assert capped["error"]["code"] == "identity_daily_cap", capped
    no_card = kiosk.call("issue_ticket", {"service": REQUIRED_ITEM, "channel": "normal",
                                          "request_id": uuid.uuid4().hex})
    assert no_card["error"]["code"] == "identity_required", no_card
    elder = swipe(run.reader, OUYANG, kiosk)
    assert elder["masked_name"] == "欧阳**" and elder["elderly"] is True, elder
    elderly = run.take(elder, "S1")
    assert elderly["ok"] and elderly["result"]["ticket"]["channel"] == "elderly", elderly
    for card in (LI, SIMA):
        assert run.take(swipe(run.reader, card, kiosk), "S1")["ok"]
    return first["result"]["ticket"], elderly["result"]["ticket"]


def lookups(run: Run) -> None:
    """An appointment booked with an ID number, found at the kiosk by a swipe; the look-up
    over HTTP too."""
    booked = run.http("POST", "/api/v1/appointments", run.office, json={
        "code": "YY-PRIV-1", "service": "S2", "day": hall_today().isoformat(),
        "id_number": LI.text.number})
    assert booked.status_code == 201, booked.text
    handle = swipe(run.reader, LI, run.kiosk)["handle"]
    found = run.kiosk.call("lookup_identity", {"identity": handle})
    assert [a["code"] for a in found["result"]["appointments"]] == ["YY-PRIV-1"], found
    assert run.http("POST", "/api/v1/identity/lookup", run.hub.tokens["kiosk"], json={
        "identity": swipe(run.reader, ZHANG, run.kiosk)["handle"]}).ok


def calls(run: Run, elderly: dict) -> None:
    """Window 1 calls with silent calling on (the elderly ticket first): its screen and the
    ticket's phone get 欧阳**, the hall screen does not; recall, 承诺件, rating, the rest."""
    hub = run.hub
    cap = elderly["link"].rsplit("/", 1)[1]
    run.http("GET", f"/t/{cap}")
    phone = Recorder(hub.url, "/citizen", {"capability": cap})
    clerk = hub.login("clerk1", 1)
    panel = Recorder(hub.url, "/caller", {"token": clerk})
    run.listeners += [phone, panel]
    called = run.http("POST", "/api/v1/windows/1/call-next", clerk, json={})
    assert called.ok, called.text
    eventually(lambda: any((v.get("called") or {}).get("masked_name") == "欧阳**"
                           for v in phone.pushed("view")), what="the masked name on the phone")
    hall_screen, window_1 = run.screens[0], run.screens[1]
    eventually(lambda: "欧阳**".encode() in window_1.dump(), what="欧阳** on window 1's screen")
    assert "欧阳**".encode() not in hall_screen.dump()
    assert run.http("GET", f"/api/v1/citizen/{cap}").json()["called"]["masked_name"] == "欧阳**"
    assert run.http("POST", "/api/v1/windows/1/recall", clerk, json={}).ok
    assert run.http("POST", "/api/v1/windows/1/finish", clerk,
                    json={"outcome": "commitment"}).ok
    rated = run.http("POST", f"/api/v1/citizen/{cap}/rating", json={"level": 1})
    assert rated.ok, rated.text
    for _ in range(3):  # the others at window 1
        assert run.http("POST", "/api/v1/windows/1/call-next", clerk, json={}).ok
        assert run.http("POST", "/api/v1/windows/1/finish", clerk, json={}).ok
    third = hub.login("clerk3", 3)
    assert run.http("POST", "/api/v1/windows/3/call-next", third, json={}).ok
    assert run.http("POST", "/api/v1/windows/3/skip", third, json={}).ok  # 过号


def office_and_screens_read(run: Run, first: dict) -> None:
    day = hall_today().isoformat()
    for path in ("/api/v1/queue", "/api/v1/totals", "/api/v1/devices", "/api/v1/alerts",
                 f"/api/v1/reports?from={day}&by=service", f"/api/v1/reports?from={day}&by=window",
                 f"/api/v1/reports?from={day}&by=service&format=csv",
                 f"/api/v1/assessment?from={day}&by=clerk", "/api/v1/audit?limit=500",
                 f"/api/v1/tickets/{first['id']}"):
        run.http("GET", path, run.office)
    for path in ("/kiosk/", "/display/hall", "/display/window/1", "/display/window/3",
                 "/api/v1/services"):
        run.http("GET", path, run.hub.tokens["screen"])


def a_day_with_cards(run: Run) -> None:
    first, elderly = swipes_and_tickets(run)
    run.answers.append(("printer", run.printer.data()))
    lookups(run)
    calls(run, elderly)
    office_and_screens_read(run, first)


def housekeeping(run: Run, days: int) -> None:
    """The hub restarted `days` later, ticking fast: the day rolls over, housekeeping runs."""
    run.hub.stop()
    later = SUITE_CLOCK() + dt.timedelta(days=days)
    run.hub.clock = later.isoformat()
    os.environ["ONESTOP_TICK_S"] = "0.2"
    try:
        run.hub.start()
    finally:
        del os.environ["ONESTOP_TICK_S"]
    day = later.astimezone(SUITE_START.tzinfo).date().isoformat()
    eventually(lambda: run.http("GET", "/healthz").json()["day"] == day, timeout_s=15,
               what="the day rolled over on the later hub")


def links(data_dir: Path) -> list[tuple]:
    db = sqlite3.connect(f"file:{data_dir / 'onestop.db'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT day, masked_name FROM identity_links").fetchall()
    finally:
        db.close()


@pytest.mark.slow
def test_no_number_and_no_full_name_anywhere_a_day_of_the_hall_leaves(tmp_path):
    run = Run(tmp_path)
    try:
        a_day_with_cards(run)
        assert len(links(run.hub.data_dir)) == 6  # the tickets issued with a card
        housekeeping(run, days=1)  # the day ended: masked names emptied
        eventually(lambda: all(name is None for _day, name in links(run.hub.data_dir)),
                   what="masked names emptied after the day")
        housekeeping(run, days=31)  # past link_days: the links deleted
        eventually(lambda: not links(run.hub.data_dir), what="links deleted after link_days")
        backup = tmp_path / "backup.tar.gz"
        cli("backup", "--data", str(run.hub.data_dir), "--to", str(backup), tmp=tmp_path)
        forward = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "--log-level", "debug", "forward", "--config",
             str(run.config), "--data", str(run.hub.data_dir)],
            stdout=open(tmp_path / "forward.log", "wb"), stderr=subprocess.STDOUT)  # noqa: SIM115
        try:
            last = run.http("GET", "/healthz").json()["seq"]
            eventually(lambda: run.receiver.snapshot() and max(
                e["sequence"] for e in run.receiver.snapshot()) >= last, timeout_s=30,
                what="every event at the backend")
        finally:
            forward.terminate()
            forward.wait(10)
    finally:
        run.stop()

    identified = [e for e in run.receiver.snapshot() if e["type"].endswith("ticket.issued")
                  and e["data"].get("identified")]
    assert len(identified) == 6
    assert not [e for e in run.receiver.snapshot() if "person" in (e["data"] or {})]

    blobs: list[tuple[str, bytes]] = [
        *files_under(tmp_path),  # data dir (db, -wal, -shm, keys), agent state, every log
        *unpacked(tmp_path / "backup.tar.gz"),
        *run.answers,
        *((f"socket {r.namespace}", r.dump()) for r in run.listeners),
        *((f"backend batch {i}", body) for i, body in enumerate(run.receiver.bodies)),
        ("backend events", json.dumps(run.receiver.snapshot(), ensure_ascii=False,
                                      default=str).encode()),
    ]
    assert any("hub-" in where for where, _ in blobs)  # the hub's own logs were read
    found = leaks(secrets_of(CARDS), blobs)
    assert not found, "\n".join(found)


def test_the_voice_never_says_a_name():
    """The announcer says a number and a window, whatever else an event carries: the sentence
    of a call made with silent calling on holds neither the masked nor the full name."""
    from agent.config import Voice
    from agent.voice import VoiceCaller

    said: list[tuple[str, int]] = []

    class Announcer:  # the lowest layer: what would be synthesised
        def call(self, ticket: str, window: int, recall: bool = False) -> bool:
            said.append((ticket, window))
            return True

    caller = VoiceCaller(Voice(), Announcer())  # type: ignore[arg-type]
    caller.load({"seq": 0, "windows": [{"no": 1}]})
    assert caller.apply({"seq": 1, "type": "ticket.called", "data": {
        "number": "A001", "window_no": 1, "masked_name": "张**", "name": "张三丰",
        "elderly": True}})
    assert said == [("A001", 1)]
    text = " ".join(s.text for s in announcement("A001", 1, english=True))
    assert "张" not in text and "A" in text.upper()
