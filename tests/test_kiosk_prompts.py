"""Elderly mode's spoken prompts: real espeak-ng audio checked with sox, the render
cache, the `/kiosk/prompts/` route's allowlist, and (slow) the kiosk page playing them in the
system Chromium against a hub process.
"""

from __future__ import annotations

import ctypes.util
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from hub.runtime import open_hall
from kiosk import prompts
from tests.devices.test_voice import rms_amplitude, soxi_duration
from tests.hubproc import HALL_24H

needs_espeak = pytest.mark.skipif(
    ctypes.util.find_library("espeak-ng") is None,
    reason="libespeak-ng not installed (Debian: espeak-ng libespeak-ng1)",
)
needs_sox = pytest.mark.skipif(shutil.which("soxi") is None, reason="sox not installed")

ALL_FILES = sorted(f"{k}.{lang}.wav" for k in prompts.PROMPTS for lang in prompts.LANGS)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, prompts.RenderResult]:
    directory = tmp_path_factory.mktemp("prompts")
    return directory, prompts.render_prompts(directory)


@needs_espeak
@needs_sox
def test_every_prompt_is_real_speech(rendered):
    directory, result = rendered
    assert sorted(result.rendered) == ALL_FILES and result.kept == []
    for name in ALL_FILES:
        path = directory / name
        duration = soxi_duration(path)
        assert 0.5 < duration < 15, (name, duration)
        assert rms_amplitude(path) > 0.01, f"{name} is silent"
    manifest = json.loads((directory / prompts.MANIFEST).read_text(encoding="utf-8"))
    assert sorted(manifest) == ALL_FILES
    assert not list(directory.glob("*.part")) and not list(directory.glob(".*.part"))


@needs_espeak
def test_rendering_again_keeps_what_did_not_change(rendered):
    directory, first = rendered
    mtimes = {n: (directory / n).stat().st_mtime_ns for n in ALL_FILES}
    again = prompts.render_prompts(directory)
    assert again.rendered == [] and sorted(again.kept) == ALL_FILES
    assert {n: (directory / n).stat().st_mtime_ns for n in ALL_FILES} == mtimes
    # A file lost (or a damaged manifest entry) is rendered again, and only that one.
    (directory / "slip.en.wav").unlink()
    assert prompts.render_prompts(directory).rendered == ["slip.en.wav"]
    assert first.voice  # the announcer's choice of Mandarin voice


@needs_espeak
def test_another_voice_renders_the_mandarin_again(tmp_path):
    from devices.voice import synth

    voices = synth.available_voices()
    chosen = synth.choose_voice(voices)
    other = next((v for v in ("sit/cmn", "sit/cmn-latn-pinyin") if v in voices and v != chosen),
                 None)
    if other is None:
        pytest.skip("only one Mandarin voice installed")
    prompts.render_prompts(tmp_path)
    result = prompts.render_prompts(tmp_path, voice=other)
    assert result.voice == other
    assert sorted(result.rendered) == sorted(f"{k}.zh.wav" for k in prompts.PROMPTS)
    with pytest.raises(ValueError, match="not installed"):
        prompts.render_prompts(tmp_path, voice="xx/nope")


@needs_espeak
@needs_sox
def test_renderers_at_once_all_make_every_prompt_whole(tmp_path):
    """What a hub's start does (`python -m kiosk.prompts DIR`), by several processes at once on
    a busy machine: two into one directory (a hub restarted while its last renderer still
    runs) and six into their own. None may log "not rendered", and every file in every
    directory is the same real speech (same text and voice: the same length to the sample)."""
    shared = tmp_path / "shared"
    directories = [shared, shared, *(tmp_path / f"own{i}" for i in range(6))]
    procs = [subprocess.Popen([sys.executable, "-m", "kiosk.prompts", str(d)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              cwd=Path(__file__).parents[1])
             for d in directories]
    try:
        outputs = [p.communicate(timeout=120)[0] for p in procs]
    finally:
        for p in procs:
            p.kill()
            p.wait()
    for p, out in zip(procs, outputs, strict=True):
        assert p.returncode == 0 and "not rendered" not in out and "Traceback" not in out, out
    durations: dict[str, set[float]] = {}
    for directory in set(directories):
        for name in ALL_FILES:
            path = directory / name
            durations.setdefault(name, set()).add(soxi_duration(path))
            assert rms_amplitude(path) > 0.01, f"{path} is silent"
        assert not list(directory.glob("*.part")) and not list(directory.glob(".*.part"))
        manifest = json.loads((directory / prompts.MANIFEST).read_text(encoding="utf-8"))
        assert sorted(manifest) == ALL_FILES
    for name, seen in durations.items():
        assert len(seen) == 1 and 0.5 < min(seen) < 15, (name, seen)


# --- the route ------------------------------------------------------------------------------


@pytest.fixture
def client(tmp_path):
    from hub.web.app import create_app

    service = open_hall(HALL_24H, tmp_path / "data")
    app, _ = create_app(service, async_mode="threading")
    directory = tmp_path / "prompts"
    directory.mkdir()
    (directory / "home.zh.wav").write_bytes(b"RIFF-not-really-a-wav")
    (directory / "manifest.json").write_text("{}")
    (tmp_path / "secret.zh.wav").write_bytes(b"outside")
    prompts.serve_from(app, directory)
    return app, app.test_client()


def test_route_serves_a_rendered_prompt_without_a_token(client):
    _app, c = client
    r = c.get("/kiosk/prompts/home.zh.wav")
    assert r.status_code == 200
    assert r.data == b"RIFF-not-really-a-wav"
    assert r.mimetype == "audio/wav"
    assert r.headers["Cache-Control"] == "max-age=3600"
    assert "media-src 'self'" in r.headers["Content-Security-Policy"]
    page = c.get("/kiosk/")
    assert "media-src 'self'" in page.headers["Content-Security-Policy"]
    assert b'id="prompt-audio"' in page.data and b'"voice_prompts": true' in page.data


@pytest.mark.parametrize("url", [
    "/kiosk/prompts/item.zh.wav",  # known, not rendered yet
    "/kiosk/prompts/nope.zh.wav",
    "/kiosk/prompts/home.fr.wav",
    "/kiosk/prompts/home.zh.mp3",
    "/kiosk/prompts/manifest.json",
    "/kiosk/prompts/../secret.zh.wav",
    "/kiosk/prompts/..%2Fsecret.zh.wav",
    "/kiosk/prompts/%2e%2e%2fsecret.zh.wav",
    "/kiosk/prompts/..%5Csecret.zh.wav",
    "/kiosk/prompts/home.zh.wav%00.wav",
    "/kiosk/prompts/%2Fetc%2Fpasswd.zh.wav",
])
def test_route_serves_nothing_else(client, url):
    _app, c = client
    r = c.get(url)
    assert r.status_code == 404, (url, r.status_code)
    assert b"outside" not in r.data


def test_route_serves_a_directory_given_relative_to_where_the_hub_started(client, tmp_path,
                                                                           monkeypatch):
    """`make demo` starts the hub with `--data var/demo`: the prompts directory it is handed is
    relative to the hub's working directory, not to the Flask app's root."""
    app, c = client
    monkeypatch.chdir(tmp_path)
    prompts.serve_from(app, "prompts")
    r = c.get("/kiosk/prompts/home.zh.wav")
    assert r.status_code == 200 and r.data == b"RIFF-not-really-a-wav"


def test_route_is_off_when_prompts_are(client):
    app, c = client
    app.extensions[prompts.EXTENSION_KEY] = None  # [kiosk] voice_prompts = false
    assert c.get("/kiosk/prompts/home.zh.wav").status_code == 404


# --- the page in a real browser -------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    """Chromium as the kiosk runs it: play() without a gesture (the deployed flag), on top of
    the shared test flags (tests/test_display_pages.py's list is left as it is)."""
    playwright_sync = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("no Debian chromium (scripts/system-deps.sh)")
    from tests.test_display_pages import CHROMIUM_ARGS

    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=[
            *CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"])
        yield b
        b.close()


@pytest.mark.slow
@needs_espeak
def test_elderly_mode_speaks_each_screen(browser, hub):
    from tests.test_display_pages import (
        TIMEOUT_MS,
        no_serious_axe_violations,
        only_local,
        open_page,
    )

    url = f"{hub.url}/kiosk/prompts/home.zh.wav"
    deadline = time.monotonic() + 20
    while requests.get(url, timeout=5).status_code != 200:  # rendered in the background
        assert time.monotonic() < deadline, hub.log()
        time.sleep(0.2)

    page = open_page(browser, f"{hub.url}/kiosk/?token={hub.tokens['kiosk']}", 1080, 1920)
    page.wait_for_function("() => window.kiosk.state.connected", timeout=TIMEOUT_MS)
    assert page.locator(".replay").first.is_hidden()
    assert not [u for u in page.requested if "/kiosk/prompts/" in u]  # silent unless elderly

    page.click("#toggle-elderly")
    page.wait_for_function(
        "() => document.getElementById('prompt-audio').currentSrc.endsWith("
        "'/kiosk/prompts/home.zh.wav')", timeout=TIMEOUT_MS)
    assert url in page.requested
    page.wait_for_function(  # really played (the flag above: no gesture needed)
        "() => { const a = document.getElementById('prompt-audio');"
        " return a.currentTime > 0 || a.ended; }", timeout=TIMEOUT_MS)
    assert page.locator("#home .replay").is_visible()
    no_serious_axe_violations(page)

    # English on, 再听一遍: Mandarin, then English, one after the other.
    page.click("#toggle-lang")
    page.click("#home .replay")
    page.wait_for_function(
        "() => document.getElementById('prompt-audio').currentSrc.endsWith('home.en.wav')",
        timeout=TIMEOUT_MS)

    # Another screen stops the prompt playing and says its own.
    page.click("#go-complaint")
    page.wait_for_function(
        "() => document.getElementById('prompt-audio').currentSrc.endsWith('complaint.zh.wav')",
        timeout=TIMEOUT_MS)
    no_serious_axe_violations(page)

    page.evaluate("window.kiosk.idleReset()")  # the idle reset: quiet, and out of elderly mode
    assert page.evaluate("document.getElementById('prompt-audio').paused")
    assert page.locator("#home .replay").is_hidden()
    assert not page.errors, page.errors
    only_local(page, hub.url)
