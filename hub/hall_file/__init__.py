"""Changing the hall file while the hall runs (art. 6, 动态管理).

A new hall file goes through three gates before it applies: it must load (the same strict
schema and cross-check as at start, `ConfigError`: text.py), it must be safe against the live
state (`blockers`: no ticket of today may lose its item or window: changes.py), and it must not
need a restart (the time zone decides what "today" is). Only then does `HallFileSync.reload`
(sync.py) swap it in and commit a `config.reloaded` event, which every screen, kiosk and panel
reloads its page on.

`HallFile` (disk.py) is the hub's hall file on disk: the admin page writes it (atomically,
keeping the previous version as a .bak beside it) and `onestop reload` (SIGHUP, watch.py)
re-reads it, so the file and the running hall never disagree for longer than one reload.
Quick edits (edits.py) make the common changes in the text without touching it by hand.

The service imports this package, never the other way round: the sync acts on the live hall
through a small port (`sync.LiveHall`).
"""

from .changes import blockers, describe, diff
from .disk import HUB_FILE, PID_FILE, RESULT_FILE, HallFile
from .edits import quick_edit
from .sync import ConfigRefused, HallFileSync, LiveHall
from .text import config_hash, parse_text, problem
from .watch import RELOAD_PRINCIPAL, reload_from_file, start_watching, watch_sighup, write_pid

__all__ = [
    "HUB_FILE",
    "PID_FILE",
    "RELOAD_PRINCIPAL",
    "RESULT_FILE",
    "ConfigRefused",
    "HallFile",
    "HallFileSync",
    "LiveHall",
    "blockers",
    "config_hash",
    "describe",
    "diff",
    "parse_text",
    "problem",
    "quick_edit",
    "reload_from_file",
    "start_watching",
    "watch_sighup",
    "write_pid",
]
