"""The announcer role: the agent on the hall-audio Pi says every call and recall in its scope.

The hub-message worker hands each snapshot and event here, in seq order; this only decides and
enqueues (`Announcer.call`), so the worker never waits on speech. Synthesis and playback run in
the announcer's own thread (`devices/voice/queue.py`): calls in call order, never two at once,
stale ones dropped when the hall calls faster than the speaker talks.

Scope: `windows = [...]`, or `zones = [...]` (the window→zone map comes from the hub's snapshot,
`windows[].zone`), or neither: every window. The agent does not declare these windows to the
hub: a speaker acts for no window, it only listens.

After a (re)connect the hub sends a snapshot: it announces nothing, and an event at or before
its seq (already in it, e.g. delivered late from the old connection) is never said again.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devices.voice.queue import Announcer, AplayPlayer, Clip, SynthRenderer
from devices.voice.text import PHRASES, CallPhrases
from devices.words import from_sent, sent_part

from .config import Voice

log = logging.getLogger(__name__)

CALL_EVENTS = {"ticket.called": False, "ticket.recalled": True}  # type -> recall


class DirPlayer:
    """Instead of playing, writes each announcement's WAV into `directory` (for tests, and for a
    hall without a sound card). The name starts with the UTC time the file was complete and a
    counter, so names sort in announcement order: `20261124T235901.123456Z-00001-A001-w3.wav`
    (`-recall` before `.wav` for a recall). A file appears whole (written aside, then renamed)."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self, clip: Clip) -> None:
        if clip.path is None:
            return
        with self._lock:
            n = next(self._counter)
        call = clip.call
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        name = f"{stamp}-{n:05d}-{call.ticket}-w{call.window}{'-recall' if call.recall else ''}"
        part = self.directory / f".{name}.wav.part"
        shutil.copyfile(clip.path, part)
        os.replace(part, self.directory / f"{name}.wav")
        log.info("announcement %s -> %s written (%.1f s)", call.ticket, call.window,
                 clip.duration_s)


def build_announcer(cfg: Voice, phrases: Callable[[], CallPhrases] | None = None) -> Announcer:
    """The announcer a [voice] section describes (loads espeak-ng), saying calls in the
    sentences `phrases()` gives."""
    from devices.voice.synth import Synthesizer  # noqa: PLC0415 (espeak-ng: only when needed)

    synth = Synthesizer(voice=cfg.voice or None, rate=cfg.rate, english=cfg.english,
                        chime=cfg.chime, repeat=cfg.repeat)
    player = DirPlayer(cfg.dir) if cfg.player == "dir" else AplayPlayer(cfg.device or None)
    # Scope is decided here (zones are only known from the snapshot): the announcer takes all.
    return Announcer(SynthRenderer(synth, phrases=phrases), player, max_pending=cfg.max_pending)


class VoiceCaller:
    """Turns hub messages into announcements. Not thread-safe: the hub-message worker only."""

    def __init__(self, cfg: Voice, announcer: Announcer | None = None) -> None:
        self.cfg = cfg
        # The sentences calls are said in: the hub's (its snapshot's `texts.voice`); read by the
        # announcer's thread as each call is rendered (one reference, swapped whole).
        self.phrases: CallPhrases = PHRASES
        self.announcer = announcer if announcer is not None else build_announcer(
            cfg, lambda: self.phrases)
        self.seq = 0  # the newest seq seen: an event at or before it is not said (again)
        self.zone_of: dict[int, str] = {}  # window -> zone, from the last snapshot
        self._warned: set[str] = set()

    def start(self) -> VoiceCaller:
        self.announcer.start()
        return self

    def stop(self) -> None:
        self.announcer.stop(timeout=2.0)

    def load(self, snapshot: dict[str, Any]) -> None:
        """A (re)connect's snapshot: nothing to say, but the seq and the zones to go by."""
        # The hub's word, as in WindowBoard.load: a hub restored from a backup may go back.
        self.seq = int(snapshot.get("seq", 0))
        self.phrases = from_sent(CallPhrases, sent_part(snapshot, "voice"))
        self.zone_of = {int(w["no"]): str(w.get("zone") or "")
                        for w in snapshot.get("windows", []) if isinstance(w, dict) and "no" in w}
        self._check_scope()

    def apply(self, event: dict[str, Any]) -> bool:
        """One hub event; True if it was queued for announcement."""
        seq = int(event.get("seq", 0))
        if seq <= self.seq:
            return False  # in the snapshot already, or a repeat: said before, or too old
        self.seq = seq
        recall = CALL_EVENTS.get(event.get("type", ""))
        if recall is None:
            return False
        data = event.get("data") or {}
        window, number = data.get("window_no"), data.get("number")
        if not isinstance(window, int) or not number or not self.covers(window):
            return False
        age_ms = _age_ms(event)
        log.debug("announce %s -> %s%s (event %s ms old)", number, window,
                  " (recall)" if recall else "", age_ms)
        return self.announcer.call(str(number), window, recall=recall)

    def covers(self, window: int) -> bool:
        if self.cfg.windows:
            return window in self.cfg.windows
        if self.cfg.zones:
            return self.zone_of.get(window) in self.cfg.zones
        return True

    def _check_scope(self) -> None:
        """A zone or window the hall does not have is a typo: say so once (the hub's hall file
        decides, so it cannot be checked when agent.toml is loaded)."""
        known_zones = set(self.zone_of.values())
        unknown = [f"zone {z!r}" for z in self.cfg.zones if z not in known_zones]
        unknown += [f"window {w}" for w in self.cfg.windows if w not in self.zone_of]
        for what in unknown:
            if what not in self._warned:
                self._warned.add(what)
                log.warning("[voice]: the hall has no %s: nothing there will be announced", what)


def _age_ms(event: dict[str, Any]) -> int | None:
    try:
        at = dt.datetime.fromisoformat(event["at"])
    except (KeyError, TypeError, ValueError):
        return None
    return round((time.time() - at.timestamp()) * 1000)
