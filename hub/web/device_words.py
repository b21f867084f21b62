"""The words an agent's devices show and say, from the hub's catalogs, sent with the agent's
snapshot (`texts`): its windows' LED screens and rating keypads (agent/windows.py
`BoardWording`), its speaker's call sentences (devices/voice/text.py `CallPhrases`) and its
printer's state and failures (devices/printer/wording.py `PrinterWording`). Sent unfilled: the
agent fills in the number, the window, the clerk."""

from __future__ import annotations

from typing import Any

from hub.i18n import N_, catalogs

# The LED and the keypad show Chinese (GB2312 screens); the speaker says Mandarin, then English.
_BOARD = {
    "closed": N_("led.closed"),
    "paused": N_("led.paused"),
    "calling": N_("led.calling", "number"),
    "idle": N_("led.idle", "no"),
    "badge": N_("led.badge", "name", "staff_no"),
}
_VOICE = {
    "hanzi": (N_("voice.call", "ticket", "window"), "zh_CN"),
    "pinyin": (N_("voice.call_pinyin", "ticket", "window"), "zh_CN"),
    "english": (N_("voice.call", "ticket", "window"), "en"),
    "display": (N_("voice.call_shown", "ticket", "window"), "zh_CN"),
}


# A printer's state and failures: Chinese with the English detail in brackets ("pair"), or one
# language, as devices/printer/wording.py PrinterWording says them.
_PRINTER = {
    "paper_out": (N_("printer.status.paper_out"), "pair"),
    "cover_open": (N_("printer.status.cover_open"), "pair"),
    "cutter_error": (N_("printer.status.cutter_error"), "pair"),
    "unrecoverable_error": (N_("printer.status.unrecoverable_error"), "pair"),
    "auto_recoverable_error": (N_("printer.status.auto_recoverable_error"), "pair"),
    "recoverable_error": (N_("printer.status.recoverable_error"), "pair"),
    "error": (N_("printer.status.error"), "pair"),
    "offline": (N_("printer.status.offline"), "pair"),
    "ready": (N_("printer.status.ready"), "pair"),
    "paper_near_end": (N_("printer.status.paper_near_end"), "pair"),
    "bad_status": (N_("printer.bad_status", "byte", "n"), "pair"),
    "plain_file": (N_("printer.plain_file", "name"), "pair"),
    "no_answer": (N_("printer.no_status_answer", "name", "timeout_s"), "pair"),
    "not_ready": (N_("printer.not_ready", "problems"), "zh"),
    "write_failed": (N_("printer.write_failed", "name", "err"), "pair"),
    "status_no_answer": (N_("printer.status_no_answer"), "pair"),
    "malformed": (N_("printer.malformed", "err"), "zh"),
    "not_connected": (N_("printer.not_connected", "err"), "zh"),
    "en_malformed": (N_("printer.malformed", "err"), "en"),
    "en_not_connected": (N_("printer.not_connected", "err"), "en"),
    "en_no_answer": (N_("printer.does_not_answer"), "en"),
    "en_not_ready": (N_("printer.not_ready", "problems"), "en"),
    "en_paper_out": (N_("printer.problem.paper_out"), "en"),
    "en_cover_open": (N_("printer.problem.cover_open"), "en"),
    "en_offline": (N_("printer.problem.offline"), "en"),
    "en_error": (N_("printer.problem.error"), "en"),
    "en_unknown": (N_("printer.problem.unknown"), "en"),
    "en_separator": (N_("common.list_sep"), "en"),
}


def _printer_word(key: str, how: str) -> str:
    zh, en = (catalogs().t_in(lang, key) for lang in ("zh_CN", "en"))
    return {"pair": f"{zh} ({en})", "zh": zh, "en": en}[how]


def agent_texts() -> dict[str, Any]:
    say = catalogs().t_in
    return {
        "board": {name: say("zh_CN", key) for name, key in _BOARD.items()},
        "voice": {name: say(lang, key) for name, (key, lang) in _VOICE.items()},
        "printer": {name: _printer_word(key, how) for name, (key, how) in _PRINTER.items()},
    }
