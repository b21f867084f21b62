"""A call screen over HTTPS in the system Chromium, trusting the hall's CA only through an NSS db
made the way `onestop install --role screen` makes it (its certutil commands, run for real in a
scratch HOME), with certificate errors NOT ignored: the page loads, its Socket.IO connects over
wss://, and the same browser without that db refuses the hub's certificate.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from hub import install
from tests.hubproc import HubProcess, make_tls

pytestmark = pytest.mark.slow

playwright_sync = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("no Debian chromium (scripts/system-deps.sh)", allow_module_level=True)
if shutil.which("certutil") is None:
    pytest.skip("no certutil (Debian libnss3-tools: scripts/system-deps.sh)",
                allow_module_level=True)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
TIMEOUT_MS = 10_000


def trust_like_install(home: Path, ca: Path) -> None:
    """The install's certutil commands for a screen, with its paths moved into `home` (no
    chown: the test is not root's browser user)."""
    for cmd in install.trust_ca_commands("screen"):
        if cmd[0] != "certutil":
            continue
        moved = [a.replace(str(install.browser_home("screen")), str(home))
                 .replace(str(install.CA_FILE), str(ca)) for a in cmd]
        Path(moved[2].removeprefix("sql:")).mkdir(parents=True, exist_ok=True)
        subprocess.run(moved, check=True, capture_output=True, timeout=30)


def open_with_home(home: Path):
    """A fresh Chromium whose HOME (hence NSS db) is `home`; returns (playwright, browser,
    page-or-error)."""
    p = playwright_sync.sync_playwright().start()
    browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                env={"HOME": str(home), "PATH": "/usr/bin:/bin"})
    page = browser.new_page(ignore_https_errors=False, locale="zh-CN")
    return p, browser, page


@pytest.fixture
def tls_hub(tmp_path):
    hub = HubProcess(tmp_path / "data", tls=make_tls(tmp_path / "hall"))
    hub.provision()
    hub.start()
    yield hub
    hub.stop()


def test_a_screen_trusting_the_hall_ca_through_nss_shows_calls_over_https(tls_hub, tmp_path):
    home = tmp_path / "browser-screen"
    trust_like_install(home, tls_hub.tls.ca)
    p, browser, page = open_with_home(home)
    try:
        answer = page.goto(f"{tls_hub.url}/display/window/1?token={tls_hub.tokens['screen']}")
        assert answer is not None and answer.ok
        assert answer.headers["strict-transport-security"] == "max-age=31536000"
        page.wait_for_function("() => document.querySelector('#status').textContent.trim()"
                               " === '未开放'", timeout=TIMEOUT_MS)
        tls_hub.login("clerk1", 1)  # pushed over the page's wss:// socket
        page.wait_for_function("() => document.querySelector('#status').textContent.trim()"
                               " === '服务中'", timeout=TIMEOUT_MS)
    finally:
        browser.close()
        p.stop()


def test_a_browser_without_the_hall_ca_refuses_the_hub(tls_hub, tmp_path):
    home = tmp_path / "no-ca"
    home.mkdir()
    p, browser, page = open_with_home(home)
    try:
        with pytest.raises(playwright_sync.Error, match="ERR_CERT_AUTHORITY_INVALID"):
            page.goto(f"{tls_hub.url}/healthz")
    finally:
        browser.close()
        p.stop()
