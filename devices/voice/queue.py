"""The announcement queue: one worker thread says calls in call order, one at a time.

- Order: calls are announced in the order they were enqueued; never two at once.
- Recall: a call with `recall=True` is announced again even if the ticket was announced
  before; a recall of a call still waiting merges into it (said once, and protected).
- Stale calls: when more than `max_pending` calls wait, the oldest non-recall ones are dropped
  (logged); a hall that calls faster than the speaker talks wants the newest calls heard.
- Zones: an announcer only announces the windows of its zones (`zone_map` + `zones`), or the
  windows given directly; other calls are ignored (enqueue returns False).

The renderer and the player are injected: `render(call) -> Clip` (default: a Synthesizer that
writes a temporary WAV) and `player(clip)` (default `AplayPlayer`: `aplay -q FILE` through
`subprocess.run` with a timeout, which also works in an eventlet-patched process).
"""

from __future__ import annotations

import collections
import logging
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devices.voice.text import PHRASES, CallPhrases

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Call:
    """A call event to announce: ticket `ticket` to window `window`."""

    ticket: str
    window: int
    recall: bool = False
    at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class Clip:
    """Audio ready to play. `temporary`: the announcer deletes the file after playing."""

    call: Call
    path: Path | None
    text: str
    duration_s: float = 0.0
    temporary: bool = False


Renderer = Callable[[Call], Clip]
Player = Callable[[Clip], None]


class SynthRenderer:
    """Renders a call with a `devices.voice.synth.Synthesizer` into a temporary WAV, in the
    sentences `phrases()` gives at that moment (the hub's, as the agent last heard them)."""

    def __init__(self, synth, tmp_dir: str | os.PathLike | None = None,
                 phrases: Callable[[], CallPhrases] | None = None) -> None:
        self.synth = synth
        self.tmp_dir = tmp_dir
        self.phrases = phrases or (lambda: PHRASES)

    def __call__(self, call: Call) -> Clip:
        fd, name = tempfile.mkstemp(prefix="call-", suffix=".wav", dir=self.tmp_dir)
        os.close(fd)
        try:
            r = self.synth.render(call.ticket, call.window, name, self.phrases())
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return Clip(call, r.path, r.text, r.duration_s, temporary=True)


class AplayPlayer:
    """Plays a clip with `aplay -q [-D device] FILE`; waits for it to finish (timeout: clip
    duration x 2 + 5 s). Failures are logged, not raised (the queue goes on)."""

    def __init__(self, device: str | None = None, aplay: str = "aplay") -> None:
        self.device = device
        self.aplay = aplay

    def __call__(self, clip: Clip) -> None:
        if clip.path is None:
            return
        cmd = [self.aplay, "-q", *(["-D", self.device] if self.device else []), str(clip.path)]
        timeout = clip.duration_s * 2 + 5
        try:
            proc = subprocess.run(cmd, timeout=timeout, capture_output=True, check=False)
        except subprocess.TimeoutExpired:
            log.error("aplay timed out after %.1f s: %s", timeout, clip.text)
            return
        except OSError as e:
            log.error("cannot run aplay: %s", e)
            return
        if proc.returncode:
            log.error(
                "aplay failed (%d): %s",
                proc.returncode,
                proc.stderr.decode(errors="replace").strip(),
            )


def windows_of(zone_map: Mapping[str, Iterable[int]], zones: Iterable[str]) -> frozenset[int]:
    """The windows of a zone set; KeyError on an unknown zone (a config typo should fail)."""
    out: set[int] = set()
    for z in zones:
        out.update(int(w) for w in zone_map[z])
    return frozenset(out)


class Announcer:
    """One speaker's announcement queue (see the module docstring).

    windows: the windows this announcer covers (None: all); or give `zone_map` and `zones`.
    max_pending: most calls waiting (not counting the one being said) before stale ones drop.
    on_dropped(call): optional callback for each dropped call (called on the caller's thread).
    """

    def __init__(
        self,
        render: Renderer,
        player: Player,
        *,
        windows: Iterable[int] | None = None,
        zone_map: Mapping[str, Iterable[int]] | None = None,
        zones: Iterable[str] | None = None,
        max_pending: int = 5,
        on_dropped: Callable[[Call], None] | None = None,
        name: str = "voice",
    ) -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be >= 1")
        if zones is not None:
            if windows is not None:
                raise ValueError("give windows or zones, not both")
            windows = windows_of(zone_map or {}, zones)
        self.windows = None if windows is None else frozenset(int(w) for w in windows)
        self.render = render
        self.player = player
        self.max_pending = max_pending
        self.on_dropped = on_dropped
        self.name = name
        self.announced: list[Call] = []  # calls said, in order (capped: last 100)
        self.dropped: list[Call] = []  # calls dropped as stale (capped: last 100)
        self._pending: collections.deque[Call] = collections.deque()
        self._cond = threading.Condition()
        self._busy = False
        self._stop = False
        self._thread: threading.Thread | None = None

    # -- producer side -----------------------------------------------------------------------

    def covers(self, window: int) -> bool:
        return self.windows is None or int(window) in self.windows

    def enqueue(self, call: Call) -> bool:
        """Queue a call; False if its window is not in this announcer's zones."""
        if not self.covers(call.window):
            log.debug(
                "%s: window %s not in my zones, ignored: %s", self.name, call.window, call.ticket
            )
            return False
        dropped: list[Call] = []
        with self._cond:
            same = next(
                (
                    i
                    for i, c in enumerate(self._pending)
                    if c.ticket == call.ticket and c.window == call.window
                ),
                None,
            )
            if same is not None and call.recall:
                # Still waiting: say it once, but protect it from the stale drop.
                self._pending[same] = Call(call.ticket, call.window, True, self._pending[same].at)
            else:
                self._pending.append(call)
            while len(self._pending) > self.max_pending:
                victim = next((c for c in self._pending if not c.recall), self._pending[0])
                self._pending.remove(victim)
                dropped.append(victim)
            self.dropped.extend(dropped)
            del self.dropped[:-100]
            self._cond.notify_all()
        if dropped:
            log.warning(
                "%s: queue over %d, dropped stale calls: %s",
                self.name,
                self.max_pending,
                ", ".join(f"{c.ticket}->{c.window}" for c in dropped),
            )
            for c in dropped:
                if self.on_dropped:
                    self.on_dropped(c)
        return True

    def call(self, ticket: str, window: int, *, recall: bool = False) -> bool:
        return self.enqueue(Call(ticket, int(window), recall))

    def pending(self) -> list[Call]:
        with self._cond:
            return list(self._pending)

    # -- worker --------------------------------------------------------------------------------

    def start(self) -> Announcer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.run, name=f"{self.name}-announcer", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop after the announcement being said (pending ones are discarded)."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is pending or playing; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def run(self) -> None:
        """The worker loop (start() runs it in a daemon thread)."""
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._stop)
                if self._stop:
                    return
                call = self._pending.popleft()
                self._busy = True
            try:
                self._say(call)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _say(self, call: Call) -> None:
        try:
            clip = self.render(call)
        except Exception:
            log.exception("%s: cannot render %s->%s", self.name, call.ticket, call.window)
            return
        try:
            self.player(clip)
            self.announced.append(call)
            del self.announced[:-100]
        except Exception:
            log.exception("%s: cannot play %s", self.name, clip.text)
        finally:
            if clip.temporary and clip.path is not None:
                clip.path.unlink(missing_ok=True)
