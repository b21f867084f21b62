"""Voice calling: announcement texts, real espeak-ng audio checked with sox, and the queue."""

from __future__ import annotations

import ctypes.util
import itertools
import logging
import re
import shutil
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import pytest

from devices.voice import text as vt
from devices.voice.queue import Announcer, AplayPlayer, Call, Clip, SynthRenderer, windows_of

# -- texts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "hanzi"),
    [
        (1, "一"),
        (3, "三"),
        (10, "十"),
        (12, "十二"),
        (20, "二十"),
        (21, "二十一"),
        (100, "一百"),
        (101, "一百零一"),
        (110, "一百一十"),
        (115, "一百一十五"),
        (1005, "一千零五"),
        (1010, "一千零一十"),
        (2300, "二千三百"),
        (9999, "九千九百九十九"),
    ],
)
def test_number_hanzi(n, hanzi):
    assert vt.number_hanzi(n) == hanzi


def test_mandarin_hanzi_reads_ticket_one_by_one_and_window_naturally():
    assert vt.mandarin_text("A001", 3) == "请 A 零 零 一 号 到 三 号窗口 办理"
    assert vt.mandarin_text("b120", "12") == "请 B 一 二 零 号 到 十二 号窗口 办理"


def test_mandarin_pinyin_form():
    assert vt.mandarin_text("A001", 3, "pinyin") == (
        "qing3 ei1 ling2 ling2 yi1 hao4 dao4 san1 hao4 chuang1 kou3 ban4 li3"
    )
    assert vt.mandarin_text("C090", 21, "pinyin") == (
        "qing3 xi1 ling2 jiu3 ling2 hao4 dao4 er4 shi2 yi1 hao4 chuang1 kou3 ban4 li3"
    )


def test_pinyin_syllables_all_carry_tones():
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        for n in (1, 10, 47, 105, 9999):
            words = vt.mandarin_text(f"{letter}0123456789", n, "pinyin").split()
            assert all(re.fullmatch(r"[a-z]+[1-5]", w) for w in words), words


def test_english_and_display_text():
    assert vt.english_text("A001", 3) == "Number A 0 0 1, please go to window 3"
    assert vt.display_text(" a001 ", 3) == "请A001号到3号窗口办理"


def test_voice_decides_form():
    assert vt.form_for_voice("sit/cmn-latn-pinyin") == "pinyin"
    assert vt.form_for_voice("sit/cmn") == "hanzi"
    segs = vt.announcement("A001", 3, voice="sit/cmn", english=True)
    assert segs == [
        vt.Segment("sit/cmn", "请 A 零 零 一 号 到 三 号窗口 办理"),
        vt.Segment("gmw/en", "Number A 0 0 1, please go to window 3"),
    ]
    [seg] = vt.announcement("A001", 3, voice="sit/cmn-latn-pinyin")
    assert seg.text.startswith("qing3 ei1 ")


@pytest.mark.parametrize(
    ("ticket", "window"),
    [("", 1), ("A-1", 1), ("A001", 0), ("A001", 10000), ("A001", "x"), ("号", 1)],
)
def test_bad_input_rejected(ticket, window):
    with pytest.raises(ValueError):
        vt.mandarin_text(ticket, window)


# -- real audio --------------------------------------------------------------------------------

HAVE_ESPEAK = ctypes.util.find_library("espeak-ng") is not None
needs_espeak = pytest.mark.skipif(
    not HAVE_ESPEAK, reason="libespeak-ng not installed (Debian: espeak-ng libespeak-ng1)"
)
needs_sox = pytest.mark.skipif(
    shutil.which("soxi") is None, reason="sox not installed (Debian: sox)"
)


def soxi_duration(path: Path) -> float:
    out = subprocess.run(
        ["soxi", "-D", str(path)], capture_output=True, text=True, check=True, timeout=10
    )
    return float(out.stdout)


def rms_amplitude(path: Path) -> float:
    out = subprocess.run(
        ["sox", str(path), "-n", "stat"], capture_output=True, text=True, check=True, timeout=10
    )
    m = re.search(r"RMS\s+amplitude:\s+([0-9.]+)", out.stderr)
    assert m, out.stderr
    return float(m.group(1))


@needs_espeak
def test_voice_choice_on_this_espeak():
    from devices.voice import synth

    voices = synth.available_voices()
    assert "sit/cmn-latn-pinyin" in voices
    assert synth.choose_voice(voices, "1.51") == "sit/cmn-latn-pinyin"
    assert synth.choose_voice(voices, "1.52.0") == "sit/cmn"
    assert synth.choose_voice(["sit/cmn"], "1.51") == "sit/cmn"
    with pytest.raises(RuntimeError):
        synth.choose_voice(["gmw/en"], "1.51")
    if synth.espeak_version().startswith("1.51"):
        assert synth.choose_voice() == "sit/cmn-latn-pinyin"


@needs_espeak
@needs_sox
@pytest.mark.parametrize(
    ("voice", "ticket", "window"),
    [
        (None, "A001", 3),
        (None, "B120", 12),
        ("sit/cmn", "C007", 5),
        ("sit/cmn-latn-pinyin", "Z999", 101),
    ],
)
def test_render_real_audio_not_silent(tmp_path, capfd, voice, ticket, window):
    from devices.voice.synth import Synthesizer

    s = Synthesizer(voice=voice, chime=False)
    r = s.render(ticket, window, tmp_path / "call.wav")
    assert "Audio saved" not in capfd.readouterr().out  # pyttsx3's stdout noise is silenced
    dur = soxi_duration(r.path)
    assert 1.5 <= dur <= 15, dur
    assert abs(dur - r.duration_s) < 0.05
    assert rms_amplitude(r.path) > 0.02
    assert not list(tmp_path.glob("*.part"))


@needs_espeak
@needs_sox
def test_chime_repeats_and_english_make_it_longer(tmp_path):
    from devices.voice.synth import Synthesizer

    plain = Synthesizer(chime=False).render("A001", 3, tmp_path / "plain.wav")
    full = Synthesizer(chime=True, repeat=2, english=True).render("A001", 3, tmp_path / "full.wav")
    chimed = Synthesizer(chime=True).render("A001", 3, tmp_path / "chimed.wav")
    d_plain, d_full, d_chimed = (soxi_duration(p) for p in (plain.path, full.path, chimed.path))
    assert d_plain + 0.5 < d_chimed < d_plain + 1.5  # the chime is ~0.95 s with its pause
    assert d_full > 2 * d_plain + 1.5  # 2 x (Mandarin + English) + chime
    assert d_full <= 40
    assert rms_amplitude(full.path) > 0.02
    # The chime alone at the file's rate: two tones, loud, at the start of the file.
    with wave.open(str(chimed.path)) as w:
        rate = w.getframerate()
        head = w.readframes(int(rate * 0.6))
    assert (
        max(
            abs(int.from_bytes(head[i : i + 2], "little", signed=True))
            for i in range(0, len(head), 2)
        )
        > 8000
    )


@needs_espeak
def test_rate_is_applied_every_render(tmp_path):
    from devices.voice.synth import Synthesizer

    slow = Synthesizer(rate=110, chime=False).render("A001", 3, tmp_path / "slow.wav")
    fast = Synthesizer(rate=260, chime=False).render("A001", 3, tmp_path / "fast.wav")
    slow2 = Synthesizer(rate=110, chime=False).render("A001", 3, tmp_path / "slow2.wav")
    assert fast.duration_s < slow.duration_s * 0.75
    assert abs(slow2.duration_s - slow.duration_s) < 0.05  # not stuck at the last rate
    with pytest.raises(ValueError):
        Synthesizer(rate=20)


@needs_espeak
@needs_sox
def test_an_utterance_espeak_ng_lost_is_synthesised_again(tmp_path, monkeypatch, caplog):
    """On a starved machine espeak-ng now and then ends an utterance with no samples (seen with
    eight prompt renderers at once). The lowest layer loses the first one here: the engine's
    file goes elsewhere; the render still gives whole speech, and says it tried again."""
    from devices.voice import synth
    from devices.voice.synth import Synthesizer

    engine = synth._get_engine()
    real_save = engine.save_to_file
    lost = []

    def save_once_astray(text, filename):
        if not lost:
            lost.append(filename)
            return real_save(text, str(tmp_path / "astray.wav"))
        return real_save(text, filename)

    monkeypatch.setattr(engine, "save_to_file", save_once_astray)
    with caplog.at_level(logging.WARNING, logger="devices.voice.synth"):
        r = Synthesizer(chime=False).render("A001", 3, tmp_path / "call.wav")
    assert lost  # the fault happened
    assert "try 1 of 3" in caplog.text
    assert 1.5 <= soxi_duration(r.path) <= 15
    assert rms_amplitude(r.path) > 0.02


FRESH_PROCESS_RENDERS = """
import sys, threading
from pathlib import Path
from devices.voice import synth

out = Path(sys.argv[1])
texts = sys.argv[2:]
errors = []

def render(i):
    try:
        synth.render_text(texts[i], "gmw/en", out / f"{i}.wav")
    except Exception as err:
        errors.append(f"{i}: {type(err).__name__}: {err}")

render(0)  # the process's first render on its own, then the rest from threads at once
threads = [threading.Thread(target=render, args=(i,)) for i in range(1, len(texts))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("\\n".join(errors))
sys.exit(1 if errors else 0)
"""


@needs_espeak
@needs_sox
def test_every_render_of_a_fresh_process_is_whole_and_its_own(tmp_path):
    """pyttsx3's first runAndWait in a process returns before espeak-ng has synthesised (its
    retrieval mode is asynchronous): a long sentence first lost its file ("espeak-ng wrote no
    audio") and the late audio landed in whatever came next. Each file must hold its own text,
    whole, whichever thread asked and whatever came before."""
    long = " ".join(["Please take your ticket and wait until your number is called."] * 4)
    short = "Window three."
    texts = [long, short] * 4
    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS_RENDERS, str(tmp_path), *texts],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2], check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr  # no late callback failing in espeak-ng
    durations = [soxi_duration(tmp_path / f"{i}.wav") for i in range(len(texts))]
    long_s, short_s = durations[0::2], durations[1::2]
    assert min(long_s) > 8 and max(short_s) < 2.5, durations
    assert max(long_s) - min(long_s) < 0.05 and max(short_s) - min(short_s) < 0.05, durations
    for i in range(len(texts)):
        assert rms_amplitude(tmp_path / f"{i}.wav") > 0.01, f"{i}.wav is silent"
    assert not list(tmp_path.glob(".*.part"))


@needs_espeak
def test_unknown_voice_rejected():
    from devices.voice.synth import Synthesizer

    with pytest.raises(ValueError, match="not installed"):
        Synthesizer(voice="sit/xx-nope")


def test_chime_wav_standalone(tmp_path):
    from devices.voice.synth import write_chime_wav

    p = write_chime_wav(tmp_path / "chime.wav", 16000)
    with wave.open(str(p)) as w:
        assert w.getframerate() == 16000
        assert 0.8 < w.getnframes() / 16000 < 1.2


# -- queue -------------------------------------------------------------------------------------


class RecordingPlayer:
    """Records (start, end, text) of each clip, sleeping `play_s` to simulate playing."""

    def __init__(self, play_s: float = 0.03) -> None:
        self.play_s = play_s
        self.log: list[tuple[float, float, str]] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, clip: Clip) -> None:
        self.gate.wait(10)
        start = time.monotonic()
        time.sleep(self.play_s)
        self.log.append((start, time.monotonic(), clip.text))

    def texts(self) -> list[str]:
        return [t for _, _, t in self.log]


def fake_render(call: Call) -> Clip:
    return Clip(call, None, f"{call.ticket}->{call.window}{' R' if call.recall else ''}")


@pytest.fixture
def rig():
    made: list[Announcer] = []

    def make(**kw):
        player = RecordingPlayer()
        ann = Announcer(fake_render, player, **kw).start()
        made.append(ann)
        return ann, player

    yield make
    for a in made:
        a.stop(5)


def test_order_and_no_overlap_across_threads(rig):
    ann, player = rig(max_pending=100)
    lock = threading.Lock()
    sent: list[str] = []

    def producer(prefix: str):
        for i in range(10):
            with lock:  # call order = the order enqueue() is entered
                ann.call(f"{prefix}{i:03d}", 1)
                sent.append(f"{prefix}{i:03d}->1")

    threads = [threading.Thread(target=producer, args=(p,)) for p in "ABC"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ann.wait_idle(10)
    assert player.texts() == sent
    spans = sorted((s, e) for s, e, _ in player.log)
    assert all(prev_end <= start for (_, prev_end), (start, _) in itertools.pairwise(spans))


def test_recall_is_announced_again(rig):
    ann, player = rig()
    ann.call("A001", 3)
    assert ann.wait_idle(5)
    ann.call("A001", 3, recall=True)
    assert ann.wait_idle(5)
    assert player.texts() == ["A001->3", "A001->3 R"]


def test_recall_of_a_waiting_call_merges_and_is_protected(rig):
    ann, player = rig(max_pending=2)
    player.gate.clear()  # hold the player: the first call is "being said"
    ann.call("A000", 1)
    time.sleep(0.1)
    ann.call("A001", 1)
    ann.call("A001", 1, recall=True)  # still waiting: merged, now a recall
    ann.call("A002", 1)
    ann.call("A003", 1)  # over the limit: A002 (oldest non-recall) drops, not A001
    assert [c.ticket for c in ann.pending()] == ["A001", "A003"]
    player.gate.set()
    assert ann.wait_idle(5)
    assert player.texts() == ["A000->1", "A001->1 R", "A003->1"]


def test_stale_calls_dropped_oldest_first_and_logged(rig, caplog):
    dropped: list[Call] = []
    ann, player = rig(max_pending=3, on_dropped=dropped.append)
    player.gate.clear()
    ann.call("A000", 1)
    time.sleep(0.1)  # A000 is being said
    with caplog.at_level(logging.WARNING, logger="devices.voice.queue"):
        ann.call("A001", 1, recall=True)
        for i in range(2, 7):
            ann.call(f"A{i:03d}", 2)
    assert [c.ticket for c in dropped] == ["A002", "A003", "A004"]
    assert "A002->2" in caplog.text and "dropped stale" in caplog.text
    player.gate.set()
    assert ann.wait_idle(5)
    assert player.texts() == ["A000->1", "A001->1 R", "A005->2", "A006->2"]
    assert [c.ticket for c in ann.dropped] == ["A002", "A003", "A004"]


def test_zones(rig):
    zone_map = {"1F": [1, 2, 3], "2F": [10, 11], "VIP": [20]}
    assert windows_of(zone_map, ["1F", "VIP"]) == {1, 2, 3, 20}
    with pytest.raises(KeyError):
        windows_of(zone_map, ["3F"])
    first, p1 = rig(zone_map=zone_map, zones=["1F", "VIP"])
    second, p2 = rig(zone_map=zone_map, zones=["2F"])
    for ticket, window in [("A001", 1), ("A002", 10), ("A003", 20), ("A004", 11), ("A005", 99)]:
        first.call(ticket, window)
        second.call(ticket, window)
    assert first.wait_idle(5) and second.wait_idle(5)
    assert p1.texts() == ["A001->1", "A003->20"]
    assert p2.texts() == ["A002->10", "A004->11"]


def test_render_or_play_failure_does_not_stop_the_queue(caplog):
    def render(call: Call) -> Clip:
        if call.ticket == "BAD":
            raise RuntimeError("boom")
        return fake_render(call)

    player = RecordingPlayer()
    ann = Announcer(render, player).start()
    try:
        with caplog.at_level(logging.ERROR):
            ann.call("BAD", 1)
            ann.call("A001", 1)
            assert ann.wait_idle(5)
        assert player.texts() == ["A001->1"]
        assert "cannot render BAD->1" in caplog.text
    finally:
        ann.stop(5)


@needs_espeak
def test_real_synth_through_queue_cleans_up_files(tmp_path):
    from devices.voice.synth import Synthesizer

    seen: list[tuple[float, float, str]] = []

    def player(clip: Clip) -> None:
        assert clip.path is not None and clip.path.exists()
        with wave.open(str(clip.path)) as w:
            assert w.getnframes() > w.getframerate()  # > 1 s of audio
        seen.append((clip.duration_s, time.monotonic(), clip.text))

    ann = Announcer(SynthRenderer(Synthesizer(chime=True), tmp_path), player).start()
    try:
        ann.call("A001", 3)
        ann.call("A002", 12)
        assert ann.wait_idle(20)
    finally:
        ann.stop(5)
    assert [t.split()[:2] for _, _, t in seen] == [["qing3", "ei1"]] * 2
    assert "shi2 er4 hao4" in seen[1][2]
    assert not list(tmp_path.iterdir())  # temporary WAVs deleted after playing


def test_aplay_player_runs_aplay_with_timeout(tmp_path, monkeypatch, caplog):
    calls = []

    def fake_run(cmd, **kw):
        calls.append((cmd, kw))
        return subprocess.CompletedProcess(cmd, 1, b"", b"no soundcards found")

    monkeypatch.setattr(subprocess, "run", fake_run)
    clip = Clip(Call("A001", 3), tmp_path / "a.wav", "x", duration_s=4.0)
    with caplog.at_level(logging.ERROR):
        AplayPlayer(device="plughw:1,0")(clip)
    [(cmd, kw)] = calls
    assert cmd == ["aplay", "-q", "-D", "plughw:1,0", str(tmp_path / "a.wav")]
    assert kw["timeout"] == 13.0
    assert "no soundcards found" in caplog.text
