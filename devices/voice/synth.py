"""Render an announcement to a WAV file with pyttsx3 (espeak-ng driver), offline.

pyttsx3 2.99 quirks handled here:
- two `save_to_file` before one `runAndWait` write only the last file: one segment per
  `runAndWait`, each to its own temporary WAV, concatenated afterwards with `wave`;
- `save_to_file` prints "Audio saved to …" on stdout: silenced with `redirect_stdout` (only
  while the process-wide synth lock is held, ≈15 ms);
- `setProperty` is queued while the driver is busy, so `getProperty` returns stale values: the
  voice is kept here, set again before every segment and never read back;
- the rate: espeak-ng 1.51's `SetParameter(RATE)` between two syntheses in retrieval mode is
  applied unreliably (measured: a changed rate often keeps the previous one until the voice
  changes). The rate goes into the text as an espeak embedded command (Ctrl-A "150S"), which
  applies to that text deterministically; `setProperty("rate")` is never used;
- espeak-ng is initialised once per process and `pyttsx3.init` returns a shared engine, so all
  rendering in the process goes through one lock;
- `runAndWait` does not always wait. The driver initialises espeak-ng in retrieval mode, which is
  asynchronous: `Synth` queues the text and espeak-ng's own thread calls back with the audio and
  writes the file at the end. The driver's loop is ended by a queued `endLoop` which, on the
  first `runAndWait` of a process (commands still queued), runs before the synthesis starts, so
  that call returns at once. A short sentence usually wins the race (its file exists ~10 ms
  later); a long one, or any sentence on a loaded machine, does not: "espeak-ng wrote no
  audio", the late callback then writing into a deleted directory, and the next segment
  started while espeak-ng is still busy. Every segment therefore waits until espeak-ng is
  idle (`espeak_IsPlaying()` false: its callbacks have returned) before the lock is released.

Never use `engine.say()`: it plays through `os.system("aplay …")`, which blocks an eventlet hub.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import io
import logging
import math
import os
import tempfile
import threading
import time
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

from devices.voice.text import (
    ENGLISH_VOICE,
    HANZI_VOICE,
    PHRASES,
    PINYIN_VOICE,
    CallPhrases,
    Segment,
    announcement,
)

log = logging.getLogger(__name__)

MIN_RATE, MAX_RATE = 80, 450  # espeak-ng's speed range (words per minute)
SEGMENT_TIMEOUT_S = 30.0  # one segment's synthesis: a sentence takes ~15 ms; a hung engine fails
IDLE_POLL_S = 0.002
# A segment that comes back without audio is synthesised again: on a starved machine (several
# renderers at a hub's start on a Pi) espeak-ng now and then ends an utterance with no samples.
SYNTH_TRIES = 3
_LOCK = threading.Lock()  # espeak-ng is one global engine per process
_engine = None


def _get_engine():
    global _engine  # noqa: PLW0603
    if _engine is None:
        import pyttsx3  # noqa: PLC0415 (loads libespeak-ng via ctypes: only when needed)

        _engine = pyttsx3.init("espeak")
        atexit.register(_release_engine)
    return _engine


def _release_engine() -> None:
    """Let pyttsx3 tear its driver down while the interpreter is still whole: its driver's
    __del__ otherwise runs at shutdown, after `contextlib` is gone, and prints a traceback."""
    global _engine  # noqa: PLW0603
    _engine = None
    gc.collect()


def available_voices() -> list[str]:
    """Voice ids as pyttsx3 lists them (lower case, e.g. "sit/cmn-latn-pinyin", "gmw/en")."""
    with _LOCK:
        return [v.id for v in _get_engine().getProperty("voices")]


def espeak_version() -> str:
    """The espeak-ng library's version, e.g. "1.51" ("" if unknown)."""
    with _LOCK:
        _get_engine()
        try:
            from pyttsx3.drivers import _espeak  # noqa: PLC0415

            raw = _espeak.Info()
        except Exception:  # an older/newer pyttsx3 without Info: version unknown
            log.debug("espeak-ng version unknown", exc_info=True)
            return ""
    return raw.decode() if isinstance(raw, bytes) else str(raw or "")


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for p in version.split(".")[:2]:
        digits = "".join(ch for ch in p if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def choose_voice(voices: list[str] | None = None, version: str | None = None) -> str:
    """The Mandarin voice to use: `sit/cmn-latn-pinyin` on espeak-ng up to 1.51 (whose `cmn`
    reads tone digits in English) when it is installed, else `sit/cmn`. An unknown version
    counts as old (the pinyin voice is correct on every version)."""
    voices = available_voices() if voices is None else voices
    version = espeak_version() if version is None else version
    old = not version or _version_tuple(version) <= (1, 51)
    if old and PINYIN_VOICE in voices:
        return PINYIN_VOICE
    if HANZI_VOICE in voices:
        return HANZI_VOICE
    if PINYIN_VOICE in voices:
        return PINYIN_VOICE
    raise RuntimeError("espeak-ng has no Mandarin voice (sit/cmn or sit/cmn-latn-pinyin)")


def _wait_until_idle(timeout_s: float) -> None:
    """Until espeak-ng's synthesis thread has finished (see the module docstring)."""
    from pyttsx3.drivers import _espeak  # noqa: PLC0415 (loaded with the engine)

    deadline = time.monotonic() + timeout_s
    while _espeak.IsPlaying():
        if time.monotonic() > deadline:
            raise RuntimeError(f"espeak-ng still busy after {timeout_s:.0f} s")
        time.sleep(IDLE_POLL_S)


def _synth_segment(segment: Segment, rate: int, path: Path) -> None:
    for attempt in range(1, SYNTH_TRIES + 1):
        path.unlink(missing_ok=True)
        # The engine is made under the lock too: two threads making it at once would make two
        # drivers, and the one dropped unsets espeak-ng's (process-wide) callback for good.
        with _LOCK, contextlib.redirect_stdout(io.StringIO()):
            engine = _get_engine()
            engine.setProperty("voice", segment.voice)
            engine.save_to_file(f"\x01{rate}S {segment.text}", str(path))
            engine.runAndWait()
            _wait_until_idle(SEGMENT_TIMEOUT_S)  # still redirected: the callback prints too
        if path.exists() and path.stat().st_size > 44:  # more than a WAV header
            return
        log.warning("espeak-ng wrote no audio for %r (try %d of %d)", segment.text, attempt,
                    SYNTH_TRIES)
    raise RuntimeError(f"espeak-ng wrote no audio for {segment.text!r}")


@dataclass(frozen=True, slots=True)
class WavFormat:
    channels: int
    sampwidth: int
    framerate: int


def _read_wav(path: Path) -> tuple[WavFormat, bytes]:
    with wave.open(str(path), "rb") as w:
        fmt = WavFormat(w.getnchannels(), w.getsampwidth(), w.getframerate())
        return fmt, w.readframes(w.getnframes())


def silence(fmt: WavFormat, seconds: float) -> bytes:
    return b"\x00" * (int(fmt.framerate * seconds) * fmt.channels * fmt.sampwidth)


def chime(
    fmt: WavFormat,
    tones: tuple[float, ...] = (880.0, 659.25),
    tone_s: float = 0.35,
    amplitude: float = 0.45,
) -> bytes:
    """A "ding-dong" chime (decaying sine tones) as raw 16-bit frames in `fmt`."""
    if fmt.sampwidth != 2:
        raise ValueError("chime: 16-bit audio only")
    n = int(fmt.framerate * tone_s)
    samples = array("h")
    for freq in tones:
        for i in range(n):
            t = i / fmt.framerate
            env = math.exp(-4.0 * t / tone_s) * min(1.0, i / (0.005 * fmt.framerate))
            v = int(32767 * amplitude * env * math.sin(2 * math.pi * freq * t))
            samples.extend([v] * fmt.channels)
    if samples.itemsize != 2:  # pragma: no cover (array "h" is 16-bit on every platform we run)
        raise RuntimeError("array('h') is not 16-bit")
    return samples.tobytes()


def write_chime_wav(path: str | os.PathLike, framerate: int = 22050) -> Path:
    """A standalone chime WAV (mono 16-bit)."""
    fmt = WavFormat(1, 2, framerate)
    path = Path(path)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(framerate)
        w.writeframes(chime(fmt) + silence(fmt, 0.2))
    return path


@dataclass(frozen=True, slots=True)
class Rendered:
    path: Path
    text: str  # the segments' texts, " / "-joined (for logs)
    duration_s: float
    render_s: float  # wall time spent rendering


class Synthesizer:
    """Renders calls to WAV files. Thread-safe (all synthesis in the process is serialised).

    voice: Mandarin voice id (None: `choose_voice()`); rate: words per minute (80-450);
    english: add the English sentence (voice `english_voice`); chime: prepend a ding-dong;
    repeat: how many times the sentence(s) are said; gap_s: pause between repeats.
    """

    def __init__(
        self,
        *,
        voice: str | None = None,
        rate: int = 150,
        english: bool = False,
        english_voice: str = ENGLISH_VOICE,
        chime: bool = True,
        repeat: int = 1,
        gap_s: float = 0.7,
    ) -> None:
        if repeat < 1:
            raise ValueError("repeat must be >= 1")
        voices = available_voices()
        self.voice = voice or choose_voice(voices)
        for v in (self.voice, *((english_voice,) if english else ())):
            if v not in voices:
                raise ValueError(f"espeak-ng voice {v!r} not installed")
        if not MIN_RATE <= int(rate) <= MAX_RATE:
            raise ValueError(f"rate must be {MIN_RATE}..{MAX_RATE} words per minute")
        self.rate = int(rate)
        self.english = english
        self.english_voice = english_voice
        self.chime = chime
        self.repeat = repeat
        self.gap_s = gap_s

    def segments(self, ticket: str, window: int | str,
                 phrases: CallPhrases = PHRASES) -> list[Segment]:
        return announcement(ticket, window, voice=self.voice, english=self.english,
                            english_voice=self.english_voice, phrases=phrases)

    def render(self, ticket: str, window: int | str, path: str | os.PathLike,
               phrases: CallPhrases = PHRASES) -> Rendered:
        """Write the announcement for `ticket` to `window` to `path` (a WAV file), said with
        `phrases` (the hub's, sent to the agent)."""
        t0 = time.perf_counter()
        segs = self.segments(ticket, window, phrases)
        path = Path(path)
        pieces: list[bytes] = []
        fmt: WavFormat | None = None
        with tempfile.TemporaryDirectory(prefix="onestop-voice-") as tmp:
            for i, seg in enumerate(segs):
                part = Path(tmp) / f"seg{i}.wav"
                _synth_segment(seg, self.rate, part)
                seg_fmt, frames = _read_wav(part)
                if fmt is None:
                    fmt = seg_fmt
                elif seg_fmt != fmt:
                    raise RuntimeError(f"segment formats differ: {fmt} vs {seg_fmt}")
                pieces.append(frames)
        assert fmt is not None  # announcement() always yields at least one segment
        body = silence(fmt, 0.3).join(pieces)
        out = [chime(fmt) + silence(fmt, 0.25)] if self.chime else []
        out.append(silence(fmt, self.gap_s).join([body] * self.repeat))
        out.append(silence(fmt, 0.2))
        seconds = _write_wav(path, fmt, b"".join(out))
        return Rendered(
            path, " / ".join(s.text for s in segs), seconds, time.perf_counter() - t0
        )


def render_text(
    text: str, voice: str, path: str | os.PathLike, *, rate: int = 150, tail_s: float = 0.2
) -> float:
    """One sentence in one voice to a WAV file; returns its duration in seconds.

    For fixed prompts (the kiosk's elderly-mode prompts) rather than calls: no chime, no repeat.
    Written aside and renamed, so a web server reading the file never sends half of it.
    """
    if not MIN_RATE <= int(rate) <= MAX_RATE:
        raise ValueError(f"rate must be {MIN_RATE}..{MAX_RATE} words per minute")
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="onestop-voice-") as tmp:
        part = Path(tmp) / "seg.wav"
        _synth_segment(Segment(voice, text), int(rate), part)
        fmt, frames = _read_wav(part)
    return _write_wav(path, fmt, frames + silence(fmt, tail_s))


def _write_wav(path: Path, fmt: WavFormat, data: bytes) -> float:
    """`data` as a WAV file at `path`, written aside and renamed (a reader never gets half of
    it); its duration in seconds."""
    # A name of its own beside the target: two writers of one file (two renderers of one
    # directory) never write into or rename away each other's part.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide the file from a player of another user
        with os.fdopen(fd, "wb") as f, wave.open(f, "wb") as w:
            w.setnchannels(fmt.channels)
            w.setsampwidth(fmt.sampwidth)
            w.setframerate(fmt.framerate)
            w.writeframes(data)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    return len(data) // (fmt.channels * fmt.sampwidth) / fmt.framerate
