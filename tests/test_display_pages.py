"""The call screens in a real browser: the system Chromium driven by Playwright (sync API; this
test process is not eventlet-patched), against a hub running as its own process.

Screenshots of every layout at its real resolution go to tests/artifacts/.
"""

from __future__ import annotations

import shutil
import struct
import uuid
import zlib
from pathlib import Path

import pytest
import socketio

from hub.runtime import open_database
from hub.store.accounts import Accounts

pytestmark = pytest.mark.slow

playwright_sync = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("no Debian chromium (scripts/system-deps.sh)", allow_module_level=True)

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",  # as root
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
GLYPHS = "请号窗口暂停服务服务中未开放等候人数最近叫号评价满意工作人员离线正在重新连接"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def browser():
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_page(browser, url: str, width: int, height: int):
    page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    # While the hub is down the browser logs every refused reconnect attempt: that is expected.
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(url)
    page.errors = errors  # type: ignore[attr-defined]
    page.requested = requested  # type: ignore[attr-defined]
    return page


def online(page) -> None:
    page.wait_for_selector("#offline", state="hidden", timeout=TIMEOUT_MS)


def text_is(page, selector: str, value: str) -> None:
    page.wait_for_function(
        "([s, v]) => document.querySelector(s).textContent.trim() === v",
        arg=[selector, value],
        timeout=TIMEOUT_MS,
    )


def text_has(page, selector: str, value: str) -> None:
    page.wait_for_function(
        "([s, v]) => document.querySelector(s).textContent.includes(v)",
        arg=[selector, value],
        timeout=TIMEOUT_MS,
    )


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path


def glyphs_ok(page) -> None:
    page.evaluate("document.fonts.ready")
    assert page.evaluate(
        "([t]) => document.fonts.check('48px \"Noto Sans CJK SC\"', t)", [GLYPHS]
    ), "Noto Sans CJK SC is missing glyphs (install fonts-noto-cjk)"
    family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert family.startswith('"Noto Sans CJK SC"')


def no_serious_axe_violations(page) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, bad


def only_local(page, base: str) -> None:
    outside = [u for u in page.requested
               if not u.startswith((base, "ws://127.0.0.1", "data:", f"blob:{base}/"))]
    assert not outside, outside


def tiny_png(width: int = 48, height: int = 64) -> bytes:
    """A plain PNG (a blue badge-sized block), made here so the test needs no image file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + b"\x2e\x4a\x7a" * width
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


def call_next(hub, clerk: str) -> str:
    r = hub.act(clerk, 1, "call-next")
    assert r.ok, r.text
    return next(e for e in r.json()["events"] if e["type"] == "ticket.called")["data"]["number"]


def test_call_screens_walkthrough(browser, tmp_path):  # noqa: PLR0915 - one walk, in order
    from tests.hubproc import HubProcess

    hub = HubProcess(tmp_path / "data")
    hub.provision()
    photo = tmp_path / "clerk1.png"
    photo.write_bytes(tiny_png())
    accounts = Accounts(open_database(hub.data_dir))
    accounts.set_photo("clerk1", photo)
    accounts.db.close()
    hub.start()
    try:
        token = hub.tokens["screen"]
        hall = open_page(browser, f"{hub.url}/display/hall?token={token}", 1920, 1080)
        portrait = open_page(browser, f"{hub.url}/display/hall?token={token}", 1080, 1920)
        win = open_page(browser, f"{hub.url}/display/window/1?token={token}", 1280, 720)
        for page in (hall, portrait, win):
            online(page)
        text_is(win, "#status", "未开放")

        clerk = hub.login("clerk1", 1)
        text_is(win, "#status", "服务中")
        text_is(win, "#clerk-name", "职员1")
        text_is(win, "#staff-no", "JZ001")
        # The work badge's photo (art. 17), fetched with the screen's token in a header and
        # shown from a blob: URL (no token in any address).
        win.wait_for_function(
            "() => { const i = document.querySelector('#photo');"
            " return !i.hidden && i.complete && i.naturalWidth === 48; }", timeout=TIMEOUT_MS)
        assert win.eval_on_selector("#photo", "i => i.src").startswith("blob:")
        assert not [u for u in win.requested if "/display/badge/" in u and "token=" in u]

        for _ in range(3):
            assert hub.issue("S1").status_code == 201
        text_has(hall, "#waiting", "企业设立登记")
        text_has(hall, "#waiting", "3")

        number = call_next(hub, clerk)
        for page in (hall, portrait):
            text_is(page, "#now-number", number)
            text_is(page, "#now-window", "到 1号窗口")
            text_has(page, "#recent", number)
            page.wait_for_selector("#flash:not([hidden])", timeout=TIMEOUT_MS)
            text_has(page, "#flash", f"请 {number} 号 到 1号窗口")
        text_is(win, "#current", number)
        text_has(hall, ".svc-row", "2")
        # The call is painted, and the page measured it (the benchmark reads these).
        hall.wait_for_function("() => window.__paints.length >= 1", timeout=TIMEOUT_MS)
        assert hall.evaluate("window.__paints[0].number") == number

        # No citizen's data on any screen, and the clerk only on the window screen.
        assert "职员1" not in hall.inner_text("body")

        shot(hall, "hall-call-flash-1920x1080.png")
        shot(portrait, "hall-portrait-call-flash-1080x1920.png")
        shot(win, "window-1280x720.png")
        for page in (hall, portrait, win):
            glyphs_ok(page)
            only_local(page, hub.url)
        no_serious_axe_violations(hall)
        no_serious_axe_violations(win)

        # Finish: the window screen asks for a rating on the keypad.
        r = hub.act(clerk, 1, "finish")
        assert r.ok, r.text
        win.wait_for_selector("#rating:not([hidden])", timeout=TIMEOUT_MS)
        text_has(win, "#rating", "评价")
        text_has(win, "#rating", number)
        text_has(win, "#rating-levels", "Very dissatisfied")  # the keys' meanings, in English too
        text_is(win, "#current", "—")
        shot(win, "window-rating-1280x720.png")
        no_serious_axe_violations(win)

        # The citizen presses 满意 on the keypad (here: an agent's device event): thanks.
        asked = r.json()["events"][-1]["data"]
        agent = socketio.Client(reconnection=False)
        agent.connect(hub.url, namespaces=["/device"], transports=["websocket"],
                      auth={"token": hub.tokens["agent"], "windows": [1]}, wait_timeout=5)
        try:
            answer = agent.call("device_event", {
                "id": str(uuid.uuid4()), "kind": "rating", "window": 1,
                "request_id": asked["request_id"], "level": 2}, namespace="/device", timeout=5)
            assert answer["ok"], answer
        finally:
            agent.disconnect()
        text_has(win, "#rating", "感谢您的评价")
        shot(win, "window-thanks-1280x720.png")
        win.wait_for_selector("#rating", state="hidden", timeout=TIMEOUT_MS)
        text_is(win, "#current", "—")

        # Pause with a reason.
        r = hub.act(clerk, 1, "pause", reason="暂离")
        assert r.ok, r.text
        text_is(win, "#status", "暂停服务")
        text_has(win, "#pause-reason", "暂离")
        shot(win, "window-paused-1280x720.png")
        assert hub.act(clerk, 1, "resume").ok
        text_is(win, "#status", "服务中")

        # The highlight of a call ends after a few seconds; the screens at rest.
        for page, name in ((hall, "hall-1920x1080.png"), (portrait, "hall-portrait-1080x1920.png")):
            page.wait_for_selector("#flash", state="hidden", timeout=15_000)
            shot(page, name)

        # The hub dies: every screen says it is offline.
        hub.kill()
        for page in (hall, portrait, win):
            page.wait_for_selector("#offline:not([hidden])", timeout=TIMEOUT_MS)
            text_has(page, "#offline", "离线")
        shot(hall, "hall-offline-1920x1080.png")

        # Back on the same port; calls made before the screens are back are not lost.
        hub.start()
        clerk = hub.login("clerk1", 1)
        missed = call_next(hub, clerk)
        assert hub.act(clerk, 1, "finish").ok
        latest = call_next(hub, clerk)
        for page in (hall, portrait, win):
            online(page)
        for page in (hall, portrait):
            text_is(page, "#now-number", latest)
            text_has(page, "#recent", missed)
            text_has(page, "#recent", number)
        text_is(win, "#current", latest)
        text_is(win, "#status", "服务中")

        for page in (hall, portrait, win):
            errors = [e for e in page.errors if "ERR_CONNECTION_REFUSED" not in e]
            assert not errors, errors
    finally:
        hub.stop()


def test_zone_and_unknown_window(browser, tmp_path):
    """`?zone=` keeps a floor's screen to its own windows; a token the hub refuses is forgotten
    and the screen shows a pairing code instead."""
    import requests

    from tests.hubproc import HubProcess

    hub = HubProcess(tmp_path / "data")
    hub.provision()
    hub.start()
    try:
        assert requests.get(f"{hub.url}/display/window/99", timeout=5).status_code == 404
        token = hub.tokens["screen"]
        # The test hall has no zones: a zone that no window is in shows no calls.
        other = open_page(browser, f"{hub.url}/display/hall?token={token}&zone=9F", 1920, 1080)
        allz = open_page(browser, f"{hub.url}/display/hall?token={token}", 1920, 1080)
        bad = open_page(browser, f"{hub.url}/display/hall?token=wrong", 1920, 1080)
        online(other)
        online(allz)
        clerk = hub.login("clerk1", 1)
        assert hub.issue("S1").status_code == 201
        number = call_next(hub, clerk)
        text_is(allz, "#now-number", number)
        text_is(other, "#now-number", "—")
        text_has(other, "#zone", "9F")
        bad.wait_for_function("() => document.querySelector('#pairing-code')?.dataset.code",
                              timeout=TIMEOUT_MS)
        assert bad.evaluate("localStorage.getItem('onestop.device-token.screen')") is None

        # A screen keeps only the last calls, however many there were.
        assert hub.act(clerk, 1, "finish").ok
        for _ in range(14):
            assert hub.issue("S1").status_code == 201
            call_next(hub, clerk)
            assert hub.act(clerk, 1, "finish").ok
        text_is(allz, "#now-number", "A015")
        assert allz.evaluate("document.querySelectorAll('#recent li').length") <= 10
        assert not allz.evaluate("[...document.querySelectorAll('#recent li')]"
                                 ".some((li) => li.textContent.includes('A001'))")

        # A screen runs for days: after many more calls it holds no more than it did.
        nodes = "document.getElementsByTagName('*').length"
        before = allz.evaluate(nodes)
        for _ in range(60):
            assert hub.issue("S1").status_code == 201
            call_next(hub, clerk)
            assert hub.act(clerk, 1, "finish").ok
        text_is(allz, "#now-number", "A075")
        assert allz.evaluate(nodes) <= before + 2
        assert allz.evaluate("window.__paints.length") <= 1000

        # A supervisor sets the scrolling line live; every screen shows it at once.
        boss = hub.login("super")
        r = requests.post(f"{hub.url}/api/v1/notice", json={"text": "今日下午系统升级，请提前办理"},
                          headers=hub.auth(boss), timeout=5)
        assert r.status_code == 200, r.text
        text_has(allz, "#notice", "今日下午系统升级")
        text_has(other, "#notice", "今日下午系统升级")
    finally:
        hub.stop()


BOX = "(s) => { const r = document.querySelector(s).getBoundingClientRect();" \
      " return {x: r.x, y: r.y, w: r.width, h: r.height}; }"
# Each line of the banner whose box leaves the banner, or whose text (a range over it) is wider.
BANNER_CLIPPED = (
    "() => { const f = document.getElementById('flash').getBoundingClientRect();"
    " return [...document.querySelectorAll('#flash > *')].filter((n) => {"
    " const range = document.createRange(); range.selectNodeContents(n);"
    " const r = range.getBoundingClientRect(), b = n.getBoundingClientRect();"
    " return r.left < f.left || r.right > f.right || b.top < f.top || b.bottom > f.bottom;"
    " }).map((n) => n.textContent); }"
)
LONGEST_CALL = (  # a two-letter prefix, the last number of a day, a three-digit window
    "() => { const [zh, en] = document.querySelectorAll('#flash > *');"
    " zh.textContent = '请 BD999 号 到 999号窗口';"
    " en.textContent = 'Number BD999, please go to window 999'; }"
)


def overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
            and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])


def test_call_banner_covers_no_panel(browser, hub):
    """The flashing banner of a call stands over the header, never over the panels: at
    1920×1080 it covered the top of 最近叫号 (its heading and first rows). Its text is whole."""
    token = hub.tokens["screen"]
    pages = {size: open_page(browser, f"{hub.url}/display/hall?token={token}", *size)
             for size in ((1920, 1080), (1080, 1920))}
    try:
        banner_stays_over_the_header(hub, pages)
    finally:
        for page in pages.values():
            page.close()


def banner_stays_over_the_header(hub, pages: dict) -> None:
    for page in pages.values():
        online(page)
    clerk = hub.login("clerk1", 1)
    assert hub.issue("S1").status_code == 201
    number = call_next(hub, clerk)
    for (width, height), page in pages.items():
        page.wait_for_selector("#flash:not([hidden])", timeout=TIMEOUT_MS)
        text_has(page, "#flash", f"请 {number} 号 到 1号窗口")
        text_has(page, "#recent", number)
        page.evaluate("document.fonts.ready")
        shot(page, f"hall-call-banner-{width}x{height}.png")
        flash = page.evaluate(BOX, "#flash")
        assert flash["y"] >= 0 and flash["h"] > 0, flash
        for panel in ("#recent-title", ".recent", "#recent li", ".now", ".waiting"):
            box = page.evaluate(BOX, panel)
            assert not overlap(flash, box), ((width, height), panel, flash, box)
        assert not page.evaluate(BANNER_CLIPPED), (width, height)
        page.evaluate(LONGEST_CALL)
        assert not page.evaluate(BANNER_CLIPPED), (width, height, "longest call")
        assert not page.errors, page.errors
