"""The words an agent's devices show and say, from the hub's catalogs, sent with the agent's
snapshot (`texts`): its windows' LED screens and rating keypads (agent/windows.py
`BoardWording`) and its speaker's call sentences (devices/voice/text.py `CallPhrases`). Sent
unfilled: the agent fills in the number, the window, the clerk."""

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


def agent_texts() -> dict[str, Any]:
    say = catalogs().t_in
    return {
        "board": {name: say("zh_CN", key) for name, key in _BOARD.items()},
        "voice": {name: say(lang, key) for name, (key, lang) in _VOICE.items()},
    }
