"""The words a ticket and a 承诺单 print: labels and sentences with `{name}` placeholders.

The hub sends its own with every document (its catalogs, hub/locale: `ticket.*`, `slip.*`), and
agent/printing.py passes them on; the defaults below are the same texts, for a printer driven
without a hub (tests/test_i18n.py keeps them equal to the catalogs); devices/words.py reads what
a hub sent. The `_en` fields are the hall's second language, printed small under the first.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TicketWording:
    your_number: str = "您的号码"
    item: str = "办理事项"
    windows: str = "办理窗口"
    windows_sep: str = "、"
    no_windows: str = "请留意叫号屏"
    ahead: str = "前面等候"
    ahead_count: str = "{ahead}人"
    issued_at: str = "取号时间"
    hint: str = "请您留意叫号，过号请重新取号"
    materials: str = "一次性告知：请备齐以下材料"
    number_en: str = "Your number {number}: {item}"
    go_en: str = "Go to {windows}; {ahead} ahead of you."
    no_windows_en: str = "the window called"
    hint_en: str = "Please watch the call screen; if you miss your call, take a new ticket."


@dataclass(frozen=True)
class SlipWording:
    title: str = "承诺单"
    slip_no: str = "单号：{slip_no}"
    item: str = "办理事项"
    accepted_at: str = "受理时间"
    promised: str = "承诺办结"
    promised_date: str = "{year}年{month}月{day}日"
    promised_items: str = "承诺事项："
    query_hint: str = "凭本单号可在自助终端、窗口或拨打12345查询办理进度"
    slip_en: str = "Commitment slip {slip_no}: {item}"
    promised_en: str = "Promised by {date}."
    query_hint_en: str = "Track your case with this number at a kiosk, a window or on 12345."
