"""`onestop demo`: demo accounts and device tokens for a hall on one machine, and the welcome text.

Passwords and tokens are made fresh on every start and printed once; nothing secret is stored in
the repository.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from hub.auth import AgentBinding, Role
from hub.config import HallConfig, Hours
from hub.identity import totp_uri
from hub.runtime import open_database
from hub.store.accounts import Accounts

DEMO_KIOSK = "demo-kiosk"  # the kiosk token its simulated devices' agent serves

_NAMES = [
    "李明",
    "王芳",
    "张伟",
    "刘洋",
    "陈静",
    "杨帆",
    "赵磊",
    "黄丽",
    "周强",
    "吴敏",
    "徐涛",
    "孙悦",
    "马超",
    "朱琳",
    "胡斌",
    "郭婷",
    "何军",
    "高洁",
    "林峰",
    "罗兰",
]


@dataclass
class DemoAccounts:
    password: str
    clerks: list[tuple[str, str, int]] = field(default_factory=list)  # username, name, window
    supervisor: str = "supervisor"
    admin: str = "admin"
    tokens: dict[str, str] = field(default_factory=dict)  # "role:name" -> token
    totp: dict[str, str] = field(default_factory=dict)  # username -> authenticator secret


def around_the_clock(cfg: HallConfig) -> HallConfig:
    """The same hall open 00:00-24:00 every day, so the demo can be tried at any hour."""
    always = Hours(weekdays=[1, 2, 3, 4, 5, 6, 7], periods=[("00:00", "24:00")])
    return msgspec.structs.replace(
        cfg,
        hours=dict.fromkeys(cfg.hours, always),
        calendar=msgspec.structs.replace(cfg.calendar, holidays=[]),
    )


def prepare_demo(cfg: HallConfig, data_dir: str, now: dt.datetime) -> DemoAccounts:
    accounts = Accounts(open_database(data_dir))
    # Upper, lower and other characters whatever the random part holds: the hall's policy
    # (hub/identity.py) asks for 3 of 4 classes.
    demo = DemoAccounts(password=f"Demo-{secrets.token_urlsafe(6)}")
    staff = [
        (f"clerk{w.no:02d}", _NAMES[i % len(_NAMES)], Role.CLERK, w.no)
        for i, w in enumerate(cfg.windows)
    ]
    staff += [
        (demo.supervisor, "审批办督查员", Role.SUPERVISOR, 901),
        (demo.admin, "系统管理员", Role.ADMIN, 902),
    ]
    for username, name, role, window in staff:
        if accounts.user(username):
            accounts.set_password(username, demo.password, now, cfg.identity)
        else:
            accounts.add_user(
                username,
                demo.password,
                role,
                name,
                f"JZ{1000 + window}",
                now,
                policy=cfg.identity,
            )
        if role is Role.CLERK:
            demo.clerks.append((username, name, window))
        else:
            # The demo keeps the hall's rule (a second factor for the office), with a fresh
            # authenticator each run, printed like the password: the demo shows what a hall
            # gets, rather than a sign-in that a hall never has.
            demo.totp[username] = accounts.enrol_totp(username)
    # The demo's agent runs every window's devices and the kiosk's printer, scanner and ID
    # card reader: its token is bound to those (least privilege, as a hall's agents are).
    bound = AgentBinding(kiosks=(DEMO_KIOSK,), windows=tuple(w.no for w in cfg.windows))
    for role, name, binding in (
        (Role.KIOSK, DEMO_KIOSK, None),
        (Role.SCREEN, "demo-screen", None),
        (Role.AGENT, "demo-agent", bound),
    ):
        accounts.revoke_tokens(role, name, now)
        demo.tokens[f"{role.value}:{name}"] = accounts.add_token(role, name, now, binding)
    accounts.db.close()
    return demo


def print_welcome(cfg: HallConfig, demo: DemoAccounts, host: str, port: int,
                  devices_port: int, data_dir: str) -> None:
    base = f"http://{host}:{port}"
    clerk = demo.clerks[0][0]
    service = cfg.window(demo.clerks[0][2]).services[0]
    lines = [
        "",
        f"  {cfg.center.name} — Onestop demo",
        f"  {cfg.center.name_en}",
        "",
        f"  Simulated devices (LED screens, caller and rating keypads, the kiosk's printer): "
        f"http://{host}:{devices_port}/",
        "    and the kiosk's ID card reader (刷身份证取号): place a made-up card there (王五 is "
        "elderly)",
        f"  Hub:            {base}/healthz",
        f"  API document:   {base}/api/v1/openapi.json",
        f"  Queue snapshot: {base}/api/v1/queue   (Authorization: Bearer <any token below>)",
        f"  Hall screen:    {base}/display/hall",
        f"  Window 1:       {base}/display/window/1",
        f"  Ticket kiosk:   {base}/kiosk/",
        "    (each shows a pairing code: approve it on the live monitor below, a screen under "
        "any name,",
        "     the kiosk as demo-kiosk: the name its simulated printer's agent knows)",
        f"  Clerk panel:    {base}/caller/   (sign in as a clerk below, at the clerk's window)",
        f"  退件 approvals: {base}/caller/returns   (sign in as the supervisor)",
        f"  Live monitor:   {base}/office/   (sign in as the supervisor)",
        f"  Casework:       {base}/office/cases   (差评 and complaints; also spot checks, staff "
        "records)",
        f"  Reports:        {base}/office/reports",
        f"  扫码取号 poster: {base}/office/poster   (the phones' QR of the day)",
        "  A ticket's own phone page: the QR on each printed ticket (`link` in the kiosk's "
        "answer)",
        f"  Hall file:      {base}/office/admin   (sign in as admin; edits {data_dir}/hall.toml)",
        "",
        f"  Staff password (all demo accounts, this run only): {demo.password}",
        f"    supervisor: {demo.supervisor}    admin: {demo.admin}",
        "    they also give a one-time code (TOTP) at sign-in: scan the otpauth:// address into an",
        "    authenticator app, or print the code now with the command beside it:",
        *(f"    {user:<10} {totp_uri(secret, user, cfg.center.name)}\n"
          f"               {sys.executable} -c \"import pyotp; "
          f"print(pyotp.TOTP('{secret}').now())\""
          for user, secret in demo.totp.items()),
        "    clerks:     "
        + ", ".join(f"{u} ({n}, window {w})" for u, n, w in demo.clerks[:4])
        + f" … clerk{len(demo.clerks):02d}",
        "",
        "  Device tokens (this run only):",
        *(f"    {name:<18} {token}" for name, token in demo.tokens.items()),
        "",
        "  Try it — sign the clerk of window 1 in, take a ticket for an item window 1 serves,",
        "  then press 叫号, 办结 and a rating key for window 1 on the devices panel:",
        f"    curl -s -X POST {base}/api/v1/login -H 'Content-Type: application/json' "
        f'-d \'{{"username": "{clerk}", "password": "{demo.password}", "window": 1}}\'',
        f"    curl -s -X POST {base}/api/v1/tickets -H 'Authorization: Bearer "
        f"{demo.tokens['kiosk:demo-kiosk']}' -H 'Content-Type: application/json' "
        f'-d \'{{"service": "{service}"}}\'',
        "",
        f"  The hall's data stays in {data_dir} between runs (rm -rf it for an empty hall).",
        "",
    ]
    print("\n".join(lines), flush=True)


def demo_hall_file(source: str | Path, data_dir: str | Path) -> Path:
    """The demo's own hall file, `DATA/hall.toml`: a copy of `--config` made on the first start,
    so the admin page (and `onestop reload`) change the copy, never the repository's example.
    A copy changed by an earlier run is kept; delete it to start again from `--config`."""
    target = Path(data_dir) / "hall.toml"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        shutil.copyfile(source, target)
    elif target.read_bytes() != Path(source).read_bytes():
        print(f"  Using {target} as changed by an earlier run (delete it to start from "
              f"{source})", flush=True)
    return target
