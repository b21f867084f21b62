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
    elderly: str = "适老优先"  # an elderly citizen's priority ticket (刷身份证取号)
    elderly_en: str = "Priority (senior)"


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


@dataclass(frozen=True)
class PrinterWording:
    """What a printer's state and failures are called: in the office's device list, and in the
    answer a kiosk or a clerk gets when a print fails. Most say Chinese and then, in brackets,
    English with the technical detail; the `en_` fields make the English answer."""

    paper_out: str = "缺纸 (paper out)"
    cover_open: str = "纸仓盖未合上 (cover open)"
    cutter_error: str = "切刀故障 (autocutter error)"
    unrecoverable_error: str = "不可恢复故障 (unrecoverable error)"
    auto_recoverable_error: str = "打印头过热等可自动恢复故障 (auto-recoverable error)"
    recoverable_error: str = "可恢复故障 (recoverable error)"
    error: str = "打印机故障 (error)"
    offline: str = "脱机 (offline)"
    ready: str = "正常 (ready)"
    paper_near_end: str = "纸将用完 (paper near end)"
    separator: str = "; "
    bad_status: str = "打印机状态应答无效 (invalid status byte {byte} for DLE EOT {n})"
    plain_file: str = ("打印目标是普通文件，无法查询状态 ({name} is a plain file, which cannot "
                       "answer the status request: do not set require_status)")
    no_answer: str = ("打印机无应答，请检查电源和连线 (printer {name} did not answer the status "
                      "request within {timeout_s} s)")
    not_ready: str = "打印机不能打印：{problems}"
    write_failed: str = "打印数据发送失败 (write to {name} failed: {err})"
    status_no_answer: str = "打印机无应答 (no answer to the status request)"
    malformed: str = "打印内容有误"
    not_connected: str = "打印机未连接：{err}"
    en_malformed: str = "Malformed print job: {err}"
    en_not_connected: str = "The printer is not connected"
    en_no_answer: str = "The printer does not answer"
    en_not_ready: str = "The printer cannot print: {problems}"
    en_paper_out: str = "out of paper"
    en_cover_open: str = "cover open"
    en_offline: str = "offline"
    en_error: str = "printer error"
    en_unknown: str = "not ready"
    en_separator: str = ", "
