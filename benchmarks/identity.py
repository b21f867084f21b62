"""刷身份证取号: card placed on the reader → read, → at the hub, at 115200 baud.

`reader`: the driver (devices/idcard/reader.py) polling the simulated SAM reader over a pty,
paced at the baud rate, the reader taking `READ_S` for its own work on a read (0.7 s, within the
0.5-0.9 s desktop readers take). For each placing: placed → `CardRead` in the driver's callback.
The wire time of one read (every byte of find, select and read text both ways, 10 bits a byte)
is reported apart, computed from the frames, beside the poll phase (a card waits up to
`poll_ms` for the next find) and the reader's own time.

`agent`: the same through a real agent process, to the `id_card` event arriving at the hub's
/device namespace (a bare Socket.IO server in this process plays the hub).

`hub`: a real hub process too (tests/hubproc.py): placed → the `identity` push (sealed handle,
masked name) received by a client of the kiosk's /kiosk room.

`screen`: the kiosk page in the system Chromium instead of that client: placed → the card shown
on the page (已读取身份证), then the item tapped and 取号 tapped at once → the ticket on screen.
A fresh made-up card each time (one open ticket per person and item).

    .venv/bin/python benchmarks/identity.py [--only reader|agent|hub|screen] [--placings 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.common import summarize_ms  # noqa: E402
from devices.idcard import protocol as p  # noqa: E402
from devices.idcard.reader import ABSENT_POLLS, CardRead, IdCardReader  # noqa: E402
from devices.sim.idcard import READ_S, SimCard, SimIdReader, fictitious_card  # noqa: E402
from devices.transport import SerialTransport  # noqa: E402

log = logging.getLogger("benchmarks.identity")

BAUD = 115200
POLL_MS = 300
TARGET_S = 1.5  # card placed → ticket on screen, the reader's own time included
CARD = fictitious_card("王五", dt.date(1949, 12, 31), seq=2, valid_until=None)


def wire_s(baud: int = BAUD) -> dict[str, float]:
    """The bytes of one read on the wire, both ways, and their time at `baud` (8N1)."""
    block = p.encode_text(CARD.text)
    frames = [p.command(p.Command.FIND), p.answer(p.Status.FOUND, bytes(4)),
              p.command(p.Command.SELECT), p.answer(p.Status.OK, bytes(8)),
              p.command(p.Command.READ_TEXT),
              p.answer(p.Status.OK, p.read_text_data(block, bytes(p.PHOTO_LEN)))]
    n = sum(len(f) for f in frames)
    return {"bytes": n, "wire_ms": round(n * 10 / baud * 1000, 1)}


def placings(sim: SimIdReader, count: int, arrived: list[float],
             done: threading.Event) -> list[float]:
    """Place the card `count` times, each after the last was read and lifted off; the times
    from placing to `arrived` growing by one."""
    out = []
    for i in range(count):
        # Place at a different phase of the poll each time, as a citizen would.
        time.sleep(POLL_MS / 1000 * (i % 7) / 7)
        sim.insert(CARD)
        placed = sim.placed_at
        deadline = time.monotonic() + 10
        while len(arrived) <= i and time.monotonic() < deadline and not done.is_set():
            time.sleep(0.002)
        if len(arrived) <= i:
            raise RuntimeError(f"placing {i} was not read within 10 s")
        out.append(arrived[i] - placed)
        lift_off(sim)
    return out


def lift_off(sim: SimIdReader) -> None:
    """Take the card off and wait until the reader has asked often enough to see it gone."""
    sim.remove()
    seen = sim.stats["commands"]
    deadline = time.monotonic() + 10
    while sim.stats["commands"] <= seen + ABSENT_POLLS + 1:
        if time.monotonic() > deadline:
            raise RuntimeError("the reader stopped polling")
        time.sleep(0.01)


def bench_reader(count: int) -> dict[str, Any]:
    arrived: list[float] = []
    stop = threading.Event()
    with SimIdReader(baud=BAUD, pace=True) as sim:
        reader = IdCardReader(SerialTransport(sim.path, BAUD, personal_data=True),
                              poll_ms=POLL_MS)

        def got(read: CardRead) -> None:
            if read.error:  # counted as not read: the placing then times out, and says so
                log.warning("a placing was read as unreadable")
                return
            arrived.append(time.monotonic())

        thread = threading.Thread(target=reader.run, args=(got, stop), daemon=True)
        thread.start()
        try:
            times = placings(sim, count, arrived, stop)
        finally:
            stop.set()
            thread.join(5)
    return {"placed_to_read": summarize_ms(times), "raw_s": times}


def bench_agent(count: int) -> dict[str, Any]:
    from tests.test_agent_idcard import DeviceServer  # the test harness, only here

    server = DeviceServer()
    tmp = Path(tempfile.mkdtemp(prefix="bench-idcard-"))
    arrived: list[float] = []
    seen = 0

    def watch(stop: threading.Event) -> None:
        nonlocal seen
        while not stop.is_set():
            cards = server.cards()
            while seen < len(cards):
                arrived.append(time.monotonic())
                seen += 1
            time.sleep(0.001)

    with SimIdReader(baud=BAUD, pace=True) as sim:
        config = tmp / "agent.toml"
        config.write_text(f'name = "bench"\nhub = "{server.url}"\nstate_dir = "{tmp}/agent"\n'
                          f'kiosk = "kiosk-1"\n[id_reader]\ndevice = "{sim.path}"\n'
                          f"poll_ms = {POLL_MS}\n", encoding="utf-8")
        agent = subprocess.Popen([sys.executable, "-m", "hub.cli", "agent", "--config",
                                  str(config)], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL,
                                 env={**os.environ, "ONESTOP_AGENT_TOKEN": "bench"})
        stop = threading.Event()
        threading.Thread(target=watch, args=(stop,), daemon=True).start()
        try:
            deadline = time.monotonic() + 20
            while "online" not in server.reader_health():
                if time.monotonic() > deadline:
                    raise RuntimeError("the agent's reader did not come online")
                time.sleep(0.05)
            times = placings(sim, count, arrived, stop)
        finally:
            stop.set()
            agent.terminate()
            agent.wait(10)
            server.close()
    return {"placed_to_hub": summarize_ms(times), "raw_s": times}


@contextmanager
def hall_with_agent(tmp: Path) -> Iterator[tuple[Any, SimIdReader]]:
    """A hub process and the kiosk's agent process reading the paced simulator (kiosk
    test-kiosk), until the hub sees the reader online."""
    from tests.hubproc import HubProcess  # the test harness, only here
    from tests.test_kiosk_printing import devices

    hub = HubProcess(tmp / "hub")
    hub.provision()
    hub.start()
    sim = SimIdReader(baud=BAUD, pace=True).start()
    config = tmp / "agent.toml"
    config.write_text(f'name = "bench"\nhub = "{hub.url}"\nstate_dir = "{tmp}/agent"\n'
                      f'kiosk = "test-kiosk"\n[id_reader]\ndevice = "{sim.path}"\n'
                      f"poll_ms = {POLL_MS}\n", encoding="utf-8")
    agent = subprocess.Popen([sys.executable, "-m", "hub.cli", "agent", "--config", str(config)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env={**os.environ, "ONESTOP_AGENT_TOKEN": hub.tokens["agent"]})
    try:
        deadline = time.monotonic() + 30
        while devices(hub).get("id_reader@test-kiosk", {}).get("status") != "online":
            if time.monotonic() > deadline:
                raise RuntimeError("the agent's reader did not come online at the hub")
            time.sleep(0.1)
        yield hub, sim
    finally:
        agent.terminate()
        agent.wait(10)
        sim.stop()
        hub.stop()


def card(i: int) -> SimCard:
    """A different made-up person each time: one open ticket per person and item."""
    return fictitious_card("测试", dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28), seq=100 + i)


def bench_hub(count: int) -> dict[str, Any]:
    from tests.test_kiosk_printing import Client  # the test harness, only here

    arrived: list[float] = []
    with hall_with_agent(Path(tempfile.mkdtemp(prefix="bench-idhub-"))) as (hub, sim):
        kiosk = Client(hub.url, "/kiosk", {"token": hub.tokens["kiosk"]})
        kiosk.sio.on("identity", lambda data: arrived.append(time.monotonic()),
                     namespace="/kiosk")
        try:
            times = placings(sim, count, arrived, threading.Event())
        finally:
            kiosk.close()
    return {"placed_to_kiosk_socket": summarize_ms(times), "raw_s": times}


# Test harness only (not the product): the wall-clock time (ms since the epoch, the same clock
# as the benchmark's time.time()) of the first frame painted after the card shows, of the tap on
# 取号 (its click event), and of the first frame after the ticket shows.
PROBE = """() => {
  window.__shown = []; window.__tickets = []; window.__taps = [];
  const now = () => performance.timeOrigin + performance.now();
  document.getElementById("take").addEventListener("click", () => window.__taps.push(now()),
                                                   true);
  const watch = (el, list) => {
    let was = !el.hidden;
    new MutationObserver(() => {
      const is = !el.hidden;
      if (is && !was) requestAnimationFrame(() => list.push(now()));
      was = is;
    }).observe(el, {attributes: true});
  };
  watch(document.getElementById("id-card"), window.__shown);
  watch(document.getElementById("ticket"), window.__tickets);
}"""


def bench_screen(count: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from benchmarks.display_paint import ARGS, CHROMIUM

    placed: list[float] = []
    with hall_with_agent(Path(tempfile.mkdtemp(prefix="bench-idscreen-"))) as (hub, sim), \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1080, "height": 1920}, locale="zh-CN")
        page.goto(f"{hub.url}/kiosk/?token={hub.tokens['kiosk']}")
        page.wait_for_function("() => window.kiosk.state.connected", timeout=10_000)
        page.evaluate(PROBE)
        for i in range(count):
            time.sleep(POLL_MS / 1000 * (i % 7) / 7)
            placed.append(time.time() * 1000)
            sim.insert(card(i))
            page.wait_for_function("n => window.__shown.length > n", arg=i, timeout=10_000)
            page.click(".tile[data-service=S1]")
            page.click("#take")
            page.wait_for_function("n => window.__tickets.length > n", arg=i, timeout=10_000)
            page.click("#done")
            page.wait_for_selector("#id-card", state="hidden", timeout=10_000)
            lift_off(sim)
        shown = page.evaluate("window.__shown")
        taps = page.evaluate("window.__taps")
        tickets = page.evaluate("window.__tickets")
        browser.close()
    def ms(a: list[float], b: list[float]) -> list[float]:
        return [(y - x) / 1000 for x, y in zip(a, b, strict=True)]

    # The card and the ticket as the system shows them; the taps between (made by Playwright
    # here, by the citizen in a hall) are left out of the sum.
    system = [c + t for c, t in zip(ms(placed, shown), ms(taps, tickets), strict=True)]
    return {"placed_to_card_shown": summarize_ms(ms(placed, shown)),
            "take_tapped_to_ticket_shown": summarize_ms(ms(taps, tickets)),
            "placed_to_ticket_on_screen_without_the_taps": summarize_ms(system),
            "placed_to_ticket_on_screen_with_automated_taps": summarize_ms(ms(placed, tickets)),
            "target_s": TARGET_S, "raw_s": system}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=["reader", "agent", "hub", "screen"])
    ap.add_argument("--placings", type=int, default=20)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    result: dict[str, Any] = {"baud": BAUD, "poll_ms": POLL_MS, "reader_read_s": READ_S,
                              "one_read_on_the_wire": wire_s()}
    if args.only in (None, "reader"):
        result["reader"] = bench_reader(args.placings)
    if args.only in (None, "agent"):
        result["agent"] = bench_agent(args.placings)
    if args.only in (None, "hub"):
        result["hub"] = bench_hub(args.placings)
    if args.only in (None, "screen"):
        result["screen"] = bench_screen(args.placings)
    shown = {k: ({kk: vv for kk, vv in v.items() if kk != "raw_s"} if isinstance(v, dict)
                 else v) for k, v in result.items()}
    print(json.dumps(shown, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
