"""The announcer role's pure parts: the [voice] section, which hub events are said, DirPlayer."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from agent.config import Voice, load_agent_config
from agent.voice import DirPlayer, VoiceCaller
from devices.voice.queue import Call, Clip
from hub.config import ConfigError

BASE = 'name = "hall-audio"\n'


def load(tmp_path: Path, voice: str):
    path = tmp_path / "agent.toml"
    path.write_text(BASE + "[voice]\n" + voice, encoding="utf-8")
    return load_agent_config(path)


def test_a_voice_only_agent_declares_no_windows(tmp_path):
    cfg = load(tmp_path, "")
    assert cfg.windows() == [] and cfg.buses == [] and cfg.keypads == []
    v = cfg.voice
    assert (v.windows, v.zones, v.voice, v.rate, v.english, v.chime, v.repeat, v.max_pending,
            v.player, v.device) == ([], [], "", 150, True, True, 1, 5, "aplay", "")


def test_a_full_voice_section(tmp_path):
    cfg = load(tmp_path, 'zones = ["1F", "2F"]\nvoice = "sit/cmn-latn-pinyin"\nrate = 170\n'
                         'english = false\nchime = false\nrepeat = 3\nmax_pending = 8\n'
                         'player = "aplay"\ndevice = "hw:0"\n')
    assert cfg.voice == Voice(zones=["1F", "2F"], voice="sit/cmn-latn-pinyin", rate=170,
                              english=False, chime=False, repeat=3, max_pending=8,
                              player="aplay", device="hw:0")


def test_no_voice_section_means_no_announcer(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text(BASE, encoding="utf-8")
    assert load_agent_config(path).voice is None


@pytest.mark.parametrize(("voice", "key", "reason"), [
    ("volume = 3\n", "", "unknown field"),
    ('windows = [1]\nzones = ["1F"]\n', "voice.zones", "not both"),
    ("windows = [0]\n", "voice.windows", "1 or more"),
    ('zones = [""]\n', "voice.zones", "non-empty"),
    ('windows = ["3"]\n', "voice.windows[0]", "Expected `int`"),
    ("repeat = 0\n", "voice.repeat", "1-3"),
    ("repeat = 4\n", "voice.repeat", "1-3"),
    ("rate = 20\n", "voice.rate", "words per minute"),
    ("max_pending = 0\n", "voice.max_pending", "1-50"),
    ('player = "dir"\n', "voice.dir", "needs dir"),
    ('dir = "/tmp/x"\n', "voice.dir", 'only for player = "dir"'),
    ('player = "dir"\ndir = "/tmp/x"\ndevice = "hw:0"\n', "voice.device", "only for"),
    ('player = "pulse"\n', "voice.player", "Invalid enum value"),
    ('voice = "zz/klingon"\n', "voice.voice", "not installed"),
    ("english = 1\n", "voice.english", "Expected `bool`"),
])
def test_a_bad_voice_section_is_refused_at_load(tmp_path, voice, key, reason):
    with pytest.raises(ConfigError) as err:
        load(tmp_path, voice)
    assert err.value.key == key or (not key and "voice" in str(err.value))
    assert reason in err.value.reason


class FakeAnnouncer:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, bool]] = []

    def call(self, ticket: str, window: int, *, recall: bool = False) -> bool:
        self.calls.append((ticket, window, recall))
        return True


def snapshot(seq: int = 10) -> dict:
    zones = {1: "1F", 2: "1F", 3: "2F"}
    return {"seq": seq, "windows": [{"no": n, "zone": z, "status": "open"}
                                    for n, z in zones.items()]}


def ev(seq: int, type_: str, number: str = "A001", window: int = 1, **data) -> dict:
    return {"seq": seq, "type": type_, "data": {"number": number, "window_no": window, **data}}


def caller(**voice) -> tuple[VoiceCaller, FakeAnnouncer]:
    fake = FakeAnnouncer()
    return VoiceCaller(Voice(**voice), fake), fake  # type: ignore[arg-type]


def test_calls_and_recalls_are_announced_and_nothing_else():
    vc, fake = caller()
    vc.load(snapshot())
    assert vc.apply(ev(11, "ticket.called", "A001", 1))
    assert vc.apply(ev(12, "ticket.recalled", "A001", 1, recalls=1))
    assert not vc.apply(ev(13, "ticket.finished", "A001", 1))
    assert not vc.apply(ev(14, "ticket.issued", "A002", 0))
    assert not vc.apply({"seq": 15, "type": "day.rolled", "data": {"day": "2026-11-25"}})
    assert vc.apply(ev(16, "ticket.called", "B002", 3))
    assert fake.calls == [("A001", 1, False), ("A001", 1, True), ("B002", 3, False)]


def test_the_snapshot_says_nothing_and_older_events_are_not_said_again():
    vc, fake = caller()
    vc.load(snapshot(seq=20))
    assert not vc.apply(ev(19, "ticket.called", "A001", 1))  # in the snapshot already
    assert not vc.apply(ev(20, "ticket.called", "A001", 1))
    assert vc.apply(ev(21, "ticket.called", "A002", 1))
    assert not vc.apply(ev(21, "ticket.called", "A002", 1))  # a repeat
    vc.load(snapshot(seq=21))  # a reconnect
    assert not vc.apply(ev(21, "ticket.called", "A002", 1))
    assert fake.calls == [("A002", 1, False)]


def test_zones_come_from_the_snapshot():
    vc, fake = caller(zones=["1F"])
    vc.load(snapshot())
    assert vc.apply(ev(11, "ticket.called", "A001", 2))
    assert not vc.apply(ev(12, "ticket.called", "C001", 3))
    assert not vc.apply(ev(13, "ticket.called", "C002", 99))  # not in the hall
    assert fake.calls == [("A001", 2, False)]


def test_windows_limit_the_scope():
    vc, fake = caller(windows=[3])
    vc.load(snapshot())
    assert not vc.apply(ev(11, "ticket.called", "A001", 1))
    assert vc.apply(ev(12, "ticket.recalled", "C001", 3))
    assert fake.calls == [("C001", 3, True)]


def test_an_unknown_zone_is_logged_once(caplog):
    vc, _ = caller(zones=["3F"])
    vc.load(snapshot())
    vc.load(snapshot(seq=11))
    assert [r.getMessage() for r in caplog.records].count(
        "[voice]: the hall has no zone '3F': nothing there will be announced") == 1


def test_dir_player_writes_whole_files_named_in_order(tmp_path):
    src = tmp_path / "clip.wav"
    with wave.open(str(src), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x01\x00" * 800)
    out = tmp_path / "out" / "nested"
    player = DirPlayer(out)
    for call in (Call("A001", 3), Call("B010", 12), Call("A001", 3, recall=True)):
        player(Clip(call, src, "text", 0.1, temporary=False))
    player(Clip(Call("X", 1), None, "", 0.0))  # nothing to write
    names = sorted(p.name for p in out.iterdir())
    assert [n.split("-", 1)[1] for n in names] == [
        "00001-A001-w3.wav", "00002-B010-w12.wav", "00003-A001-w3-recall.wav"]
    assert all(n.endswith("Z", 0, 23) for n in names)
    assert (out / names[0]).read_bytes() == src.read_bytes()
    assert src.exists()  # the announcer, not the player, deletes temporary clips


def test_a_hub_whose_seq_went_back_is_followed():
    vc, fake = caller()
    vc.load(snapshot(seq=500))
    vc.load(snapshot(seq=40))  # restored from a backup
    assert vc.apply(ev(41, "ticket.called", "A001", 1))
    assert fake.calls == [("A001", 1, False)]
