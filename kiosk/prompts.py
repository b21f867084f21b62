"""The kiosk's spoken prompts in elderly mode: a fixed set of short sentences rendered to
WAV files with espeak-ng, once, when the hub starts.

Why files made here: a kiosk's headless Chromium has no speech voices and a closed network has
no cloud TTS, so the page plays ordinary audio files (`GET /kiosk/prompts/<key>.<lang>.wav`),
made the same way as the hall's call announcements (devices/voice: pyttsx3 + espeak-ng, the
Mandarin voice `choose_voice` picks, read from pinyin when that voice needs it).

`DATA/prompts/<key>.<lang>.wav`, with `manifest.json` holding a hash of each file's text, voice
and rate: a restart re-renders only what changed (a new voice, an edited sentence), so a hub
start costs nothing once the files exist. Rendering runs in a child process of the hub
(`python -m kiosk.prompts DIR`): espeak-ng is C code that would otherwise hold the event loop,
and it stays out of the hub's memory.

The sentences carry nothing personal, so the files are public like the page's own script.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.i18n import N_, catalogs

log = logging.getLogger(__name__)

RATE = 135  # words per minute: a little slower than the announcer's 150, for older listeners
LANGS = ("zh", "en")
MANIFEST = "manifest.json"
LOCK = ".render.lock"
EXTENSION_KEY = "onestop_prompts"  # app.extensions[...]: the directory the route serves


@dataclass(frozen=True, slots=True)
class Prompt:
    """One prompt: the hanzi (what the page means), its pinyin with tone numbers (what the
    `sit/cmn-latn-pinyin` voice needs — espeak-ng 1.51's hanzi voice reads tones in English)
    and the English sentence, from the catalogs (hub/locale: `prompt.<key>`,
    `prompt.<key>.pinyin`)."""

    hanzi: str
    pinyin: str
    english: str


# The screens that have a prompt, each with its message and the pinyin the Mandarin voice reads.
_KEYS = {
    "home": (N_("prompt.home"), N_("prompt.home.pinyin")),
    "item": (N_("prompt.item"), N_("prompt.item.pinyin")),
    "ticket": (N_("prompt.ticket"), N_("prompt.ticket.pinyin")),
    "print_failed": (N_("prompt.print_failed"), N_("prompt.print_failed.pinyin")),
    "code": (N_("prompt.code"), N_("prompt.code.pinyin")),
    "slip": (N_("prompt.slip"), N_("prompt.slip.pinyin")),
    "complaint": (N_("prompt.complaint"), N_("prompt.complaint.pinyin")),
}


def _prompt(text: str, pinyin: str) -> Prompt:
    say = catalogs().t_in
    return Prompt(say("zh_CN", text), say("zh_CN", pinyin), say("en", text))


PROMPTS: dict[str, Prompt] = {key: _prompt(*keys) for key, keys in _KEYS.items()}


def file_name(key: str, lang: str) -> str | None:
    """`<key>.<lang>.wav` for a known prompt, else None: the route's allowlist (a name never
    comes from the request, so no path can be smuggled in)."""
    return f"{key}.{lang}.wav" if key in PROMPTS and lang in LANGS else None


@dataclass(frozen=True, slots=True)
class RenderResult:
    """What a rendering did, for the caller to log (see the module docstring)."""

    directory: Path
    voice: str
    rendered: list[str]
    kept: list[str]


def _digest(voice: str, text: str) -> str:
    return hashlib.sha256(f"{voice}\n{RATE}\n{text}".encode()).hexdigest()[:16]


def _load_manifest(directory: Path) -> dict[str, str]:
    try:
        data = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none yet, or damaged: render everything again
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def render_prompts(directory: str | os.PathLike, voice: str = "") -> RenderResult:
    """Render every prompt in both languages into `directory`, skipping files already rendered
    from the same text, voice and rate. `voice` "" picks the Mandarin voice as the announcer
    does. Raises (ImportError, OSError, RuntimeError, ValueError) when espeak-ng cannot."""
    from devices.voice import synth  # noqa: PLC0415 (loads libespeak-ng: only when rendering)

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    # One renderer per directory at a time: a hub restarted while its last renderer still runs
    # (or two hubs on one data directory) waits for it, then keeps what it made.
    with open(directory / LOCK, "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _render_locked(directory, voice, synth)


def _render_locked(directory: Path, voice: str, synth: Any) -> RenderResult:
    from devices.voice.text import ENGLISH_VOICE, form_for_voice  # noqa: PLC0415

    voices = synth.available_voices()
    zh_voice = voice or synth.choose_voice(voices)
    for v in (zh_voice, ENGLISH_VOICE):
        if v not in voices:
            raise ValueError(f"espeak-ng voice {v!r} not installed")
    pinyin = form_for_voice(zh_voice) == "pinyin"
    manifest = _load_manifest(directory)
    rendered: list[str] = []
    kept: list[str] = []
    for key, prompt in PROMPTS.items():
        for lang, v, text in (("zh", zh_voice, prompt.pinyin if pinyin else prompt.hanzi),
                              ("en", ENGLISH_VOICE, prompt.english)):
            name = f"{key}.{lang}.wav"
            digest = _digest(v, text)
            if manifest.get(name) == digest and (directory / name).is_file():
                kept.append(name)
                continue
            synth.render_text(text, v, directory / name, rate=RATE)
            manifest[name] = digest
            rendered.append(name)
    if rendered:  # written aside and renamed: a reader never sees half a manifest
        part = directory / f".{MANIFEST}.part"
        part.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
        part.replace(directory / MANIFEST)
    return RenderResult(directory, zh_voice, rendered, kept)


def serve_from(app: Any, directory: str | os.PathLike) -> Path:
    """Let the `/kiosk/prompts/` route serve `directory`, made absolute now: Flask's send_file
    reads a relative path from the app's root, not from the directory the hub started in
    (`--data var/demo` would find its prompts but fail to send them)."""
    absolute = Path(directory).resolve()
    app.extensions[EXTENSION_KEY] = absolute
    return absolute


def start_rendering(app: Any, socketio: Any, directory: str | os.PathLike, *, enabled: bool,
                    voice: str) -> None:
    """Serve prompts from `directory` and render them in a child process; start-up never waits.

    A child process rather than a thread: espeak-ng (C, loaded through pyttsx3) then never
    holds the hub's event loop nor stays in the hub's memory (hub.children.run_beside).
    Disabled (`[kiosk] voice_prompts = false`): nothing is rendered or served.
    """
    if not enabled:
        app.extensions[EXTENSION_KEY] = None
        return
    from hub.children import run_beside  # noqa: PLC0415 (kiosk/ is a page package of the hub)

    directory = serve_from(app, directory)
    run_beside(socketio, ["-m", "kiosk.prompts", str(directory), "--voice", voice],
               "rendering the kiosk's voice prompts (elderly mode stays silent)")


def main(argv: list[str] | None = None) -> int:
    """`python -m kiosk.prompts DIR [--voice V]`: render (or keep) every prompt into DIR."""
    from hub.children import follow_parent  # noqa: PLC0415

    follow_parent()  # started by a hub (run_beside): end with it
    parser = argparse.ArgumentParser(description="render the kiosk's voice prompts")
    parser.add_argument("directory")
    parser.add_argument("--voice", default="", help="espeak-ng Mandarin voice ('' chooses)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        result = render_prompts(args.directory, args.voice)
    except Exception as err:  # no espeak-ng, no voice: the kiosk just stays quiet
        log.warning("kiosk voice prompts not rendered (%s: %s)", type(err).__name__, err)
        return 1
    log.info("kiosk voice prompts in %s (voice %s): %d rendered, %d kept", result.directory,
             result.voice, len(result.rendered), len(result.kept))
    return 0


if __name__ == "__main__":
    sys.exit(main())
