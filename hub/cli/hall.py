"""`check-config` and `reload`: the hall file, checked, and applied to the running hub."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .common import data_arg


def add_commands(sub: argparse._SubParsersAction) -> None:
    check = sub.add_parser("check-config", help="validate a hall TOML file")
    check.add_argument("file")
    check.set_defaults(func=cmd_check_config)

    reload = sub.add_parser("reload", help="apply the changed hall file to the running hub "
                            "(validated, checked against today's tickets, no restart)")
    data_arg(reload)
    reload.add_argument("--config", default=None,
                        help="the hub's hall file, to validate first (default: the one the "
                        "hub runs on, as it reports)")
    reload.add_argument("--timeout", type=float, default=5.0, help="seconds to wait (5)")
    reload.add_argument("--ca", metavar="FILE", default=None,
                        help="the hall's CA, to check an https:// hub by (default: env "
                        "ONESTOP_CA_FILE)")
    reload.set_defaults(func=cmd_reload)


def cmd_reload(args: argparse.Namespace) -> int:
    """Validate the hall file here (exit 2), signal the hub (SIGHUP; exit 1 if none runs), and
    wait for its answer: /healthz reporting the new file's hash (applied), or the reason in
    DATA/reload-result.json (refused, exit 1). See hub/hall_file/."""
    import json
    import signal
    import time
    import urllib.request

    from hub.config import load_config
    from hub.hall_file import HUB_FILE, PID_FILE, RESULT_FILE, config_hash

    data = Path(args.data)
    try:
        hub = json.loads((data / HUB_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        hub = {}
    path = args.config or hub.get("config")
    if not path:
        raise ValueError(f"no hub has run on {data}: name the hall file with --config")
    load_config(path)  # an invalid file goes nowhere near the hub (exit 2)
    new_hash = config_hash(Path(path).read_bytes())
    try:
        pid = int((data / PID_FILE).read_text(encoding="ascii").split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        print(f"onestop: no hub runs on {data} (no live process in {data / PID_FILE})",
              file=sys.stderr)
        return 1
    result_file = data / RESULT_FILE
    before = result_file.stat().st_mtime_ns if result_file.exists() else 0
    os.kill(pid, signal.SIGHUP)
    context = _hub_tls(hub.get("url", ""), args.ca)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if hub.get("url"):
            try:
                with urllib.request.urlopen(f"{hub['url']}/healthz", timeout=1,
                                            context=context) as r:
                    if json.load(r).get("config") == new_hash:
                        print(f"applied: {path} ({new_hash}) runs now")
                        return 0
            except (OSError, ValueError):
                pass
        if result_file.exists() and result_file.stat().st_mtime_ns != before:
            try:
                result = json.loads(result_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # being replaced: read it again
            if result.get("hash") != new_hash:
                continue
            if not result.get("ok"):
                print(f"refused: {result.get('error')}", file=sys.stderr)
                return 1
            print(f"applied: {result.get('text') or 'no change'} ({new_hash})")
            return 0
    print(f"onestop: the hub (pid {pid}) did not answer within {args.timeout:g} s: see its log",
          file=sys.stderr)
    return 1


def _hub_tls(url: str, ca: str | None):
    """How /healthz of an https:// hub is checked: against the hall's CA, and only it. Without
    one (neither --ca nor ONESTOP_CA_FILE) the hub is not asked; its result file still says."""
    if not url.startswith("https://"):
        return None
    from hub.tls.client import pinned_ca, ssl_context

    ca_file = pinned_ca(ca or "")
    return ssl_context(ca_file) if ca_file else None


def cmd_check_config(args: argparse.Namespace) -> int:
    from hub.config import load_config

    cfg = load_config(args.file)
    print(
        f"{args.file}: OK — {len(cfg.departments)} departments, {len(cfg.services)} service "
        f"items, {len(cfg.windows)} windows"
    )
    return 0
