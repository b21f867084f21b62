"""The string catalogs: every key the code uses is in every catalog, each text uses only the
placeholders its callers pass, the template is current, and a hall adds a language with one
.po file (hub/i18n, hub/locale, docs/i18n.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hub.engine import DomainError, NotFound
from hub.i18n import LOCALE_DIR, Catalogs, Msg
from hub.i18n.check import problems, template

ROOT = Path(__file__).resolve().parent.parent
PYBABEL = Path(sys.executable).parent / "pybabel"


def _po(path: Path, entries: dict[str, str], lang: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f'\nmsgid "{k}"\nmsgstr "{v}"\n' for k, v in entries.items())
    path.write_text(f'msgid ""\nmsgstr ""\n"Language: {lang}\\n"\n'
                    f'"Content-Type: text/plain; charset=utf-8\\n"\n{body}', encoding="utf-8")


@pytest.fixture
def locale(tmp_path: Path) -> Path:
    """A copy of the project's catalogs to add to or break."""
    shutil.copytree(LOCALE_DIR, tmp_path / "locale")
    return tmp_path / "locale"


def test_every_catalog_has_every_key_with_only_the_placeholders_its_callers_pass():
    assert problems() == []


def test_the_template_lists_every_key_the_code_uses_with_its_parameters(tmp_path: Path):
    fresh = tmp_path / "onestop.pot"
    subprocess.run([str(PYBABEL), "-q", "extract", "-F", "babel.cfg", "--omit-header",
                    "--no-location", "--sort-output", "-o", str(fresh), "."],
                   cwd=ROOT, check=True)
    assert template(fresh) == template(LOCALE_DIR / "onestop.pot"), (
        "hub/locale/onestop.pot is out of date: docs/i18n.md says how to make it")


def test_a_key_missing_from_a_catalog_is_found(locale: Path):
    keys = sorted(template(locale / "onestop.pot"))
    texts = {k: "x" for k in keys if k != "error.window_taken"}
    _po(locale / "ko/LC_MESSAGES/onestop.po", texts, "ko")
    assert problems(locale) == ["ko: error.window_taken: missing"]


def test_a_placeholder_its_callers_do_not_pass_is_found(locale: Path):
    keys = sorted(template(locale / "onestop.pot"))
    texts = dict.fromkeys(keys, "x")
    texts["error.window_taken"] = "{to_window}번 창구 {clerk}"  # callers pass to_window only
    texts["error.no_clerk"] = "{window.no}"  # and never an attribute of one
    _po(locale / "ko/LC_MESSAGES/onestop.po", texts, "ko")
    assert problems(locale) == [
        "ko: error.no_clerk: a placeholder is a plain name: window.no",
        "ko: error.window_taken: placeholders its callers do not pass: clerk",
    ]


def test_a_stale_key_in_a_catalog_is_found(locale: Path):
    keys = sorted(template(locale / "onestop.pot"))
    _po(locale / "ko/LC_MESSAGES/onestop.po", {**dict.fromkeys(keys, "x"), "error.gone": "x"}, "ko")
    assert problems(locale) == ["ko: error.gone: not used by the code"]


def test_a_hall_adds_korean_with_one_po_file_made_by_pybabel(locale: Path):
    subprocess.run([str(PYBABEL), "-q", "init", "-D", "onestop", "-i",
                    str(locale / "onestop.pot"), "-d", str(locale), "-l", "ko"], check=True)
    po = locale / "ko/LC_MESSAGES/onestop.po"
    assert "ko: error.window_taken: missing" in problems(locale)  # not translated yet
    text = po.read_text(encoding="utf-8").replace(
        'msgid "error.window_taken"\nmsgstr ""',
        'msgid "error.window_taken"\nmsgstr "{to_window}번 창구에 직원이 있습니다"')
    po.write_text(text, encoding="utf-8")
    texts = Catalogs.load(locale).bind(["zh_CN", "ko"])
    refused = DomainError("window_taken", "error.window_taken", to_window=3)
    assert texts.joined(refused.key, **refused.params) == (
        "3号窗口已有工作人员 / 3번 창구에 직원이 있습니다")
    # A key the new file does not have yet is said in the source language.
    assert texts.each("error.no_clerk") == ("窗口无人登录", "窗口无人登录")


def test_a_refusal_says_chinese_then_english_and_keeps_its_code():
    refused = NotFound("unknown_window", "error.unknown_window", no=40)
    assert (refused.code, refused.message) == ("unknown_window", "无40号窗口 / no window 40")
    assert str(refused) == refused.message


def test_a_message_inside_another_is_said_in_the_same_language():
    catalogs = Catalogs({"zh_CN": {"common.window": "{no}号窗口", "alert.x": "{where}离线"},
                         "en": {"common.window": "window {no}", "alert.x": "{where} offline"}})
    where = Msg("common.window", no=3)
    assert catalogs.bind().each("alert.x", where=where) == ("3号窗口离线", "window 3 offline")


def test_a_placeholder_nobody_passed_is_shown_as_written_not_a_crash():
    catalogs = Catalogs({"zh_CN": {"k.x": "{a}与{b}"}})
    assert catalogs.t_in("zh_CN", "k.x", a=1) == "1与{b}"


def test_the_words_devices_have_without_a_hub_are_the_catalogs_words():
    from dataclasses import asdict

    from agent.windows import BoardWording
    from devices.printer.wording import PrinterWording, SlipWording, TicketWording
    from devices.voice.text import CallPhrases
    from devices.words import from_sent
    from hub.web.device_words import agent_texts
    from hub.web.print_docs import SLIP_WORDING, TICKET_WORDING, wording

    sent = agent_texts()
    assert from_sent(BoardWording, sent["board"]) == BoardWording()
    assert from_sent(CallPhrases, sent["voice"]) == CallPhrases()
    assert from_sent(PrinterWording, sent["printer"]) == PrinterWording()
    assert wording(TICKET_WORDING) == asdict(TicketWording())
    assert wording(SLIP_WORDING) == asdict(SlipWording())


def test_an_agent_shows_says_and_prints_the_words_its_hub_sends():
    import datetime as dt

    from agent.config import Voice
    from agent.printing import ticket_from
    from agent.voice import VoiceCaller
    from agent.windows import Command, WindowBoard
    from devices.printer import layout
    from devices.voice.text import announcement

    snapshot = {"seq": 1, "waiting": {}, "windows": [
        {"no": 3, "services": ["S1"], "status": "open", "current": {"number": "A007"}}],
        "texts": {"board": {"calling": "Now {number}"},
                  "voice": {"english": "Ticket {ticket} to counter {window}"}}}
    board = WindowBoard([3])
    assert Command("led", 3, text="Now A007") in board.load(snapshot, dt.datetime.now(dt.UTC))

    class Silent:  # the voice's announcer: only the sentences matter here
        def call(self, ticket: str, window: int, *, recall: bool = False) -> bool:
            return True

    voice = VoiceCaller(Voice(), Silent())  # type: ignore[arg-type]
    voice.load(snapshot)
    [_, english] = announcement("A7", 3, voice="sit/cmn", english=True, phrases=voice.phrases)
    assert english.text == "Ticket A 7 to counter 3"

    doc = {"ticket_id": "T1", "number": "A001", "center_name": "c", "item": "i", "ahead": 0,
           "issued_at": "2026-11-24T09:30:00", "wording": {"your_number": "号码 / No."}}
    printed = layout.ticket_bytes(ticket_from(doc), "80mm")
    assert "号码 / No.".encode("gbk") in printed and "办理事项".encode("gbk") in printed


def test_the_kiosk_prompts_are_the_catalogs_sentences():
    from hub.i18n import catalogs
    from kiosk import prompts

    home = prompts.PROMPTS["home"]
    assert home.hanzi == catalogs().t_in("zh_CN", "prompt.home") == "请选择您要办理的事项"
    assert home.english == catalogs().t_in("en", "prompt.home")


def test_a_malformed_text_in_a_catalog_is_said_as_written_not_a_crash():
    catalogs = Catalogs({"zh_CN": {"k.x": "{a 与"}})
    assert catalogs.t_in("zh_CN", "k.x", a=1) == "{a 与"
