"""`onestop install --role hub|kiosk|screen|window|audio`: set up one Pi of the hall.

One command per machine, so that every Pi of a hall is set up the same way: the `onestop`
system user in the groups its devices need, `/etc/onestop/` with a commented example config
for the role (never overwriting an operator's edits), `/var/lib/onestop`, the systemd units
from `systemd/`, and the Debian packages the role needs. It then prints what only a person
can do: create the tokens on the hub, fill them in, and enable the services.

`--root DIR` writes everything under DIR and only prints the commands it would run (useradd,
apt-get, systemctl): that is how the tests run it, and how an image can be prepared.
`--dry-run` writes nothing and runs nothing. Without either it must run as root.
"""

from __future__ import annotations

import os
import pwd
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

REPO_ROOT = Path(__file__).resolve().parents[1]
UNITS_DIR = REPO_ROOT / "systemd"
EXAMPLE_HALL = REPO_ROOT / "config" / "hall.example.toml"

# /etc/onestop/hub.env: one hub on SQLite needs nothing here; a pair (README "Scale-out") does.
HUB_ENV = """\
# Several hubs on one PostgreSQL store and Redis, behind nginx (README "Scale-out"). The URL
# holds the database password: this file is for root and the hub only (mode 0600).
# ONESTOP_DB=postgresql://onestop:PASSWORD@db-host/onestop
# Redis on the hubs' private network, with a password (README "Scale-out"):
# ONESTOP_MESSAGE_QUEUE=redis://:PASSWORD@redis-host:6379/0
# ONESTOP_PROXY_HOPS=1
# TLS on the hall's LAN (README "TLS"): the hub's certificate from `onestop ca issue`, and a
# plain-HTTP port that only redirects to HTTPS.
# ONESTOP_TLS_CERT=/etc/onestop/hub.pem
# ONESTOP_TLS_KEY=/etc/onestop/hub.key
# ONESTOP_HTTP_REDIRECT_PORT=8079
"""

ROLES = ("hub", "kiosk", "screen", "window", "audio")
USER = "onestop"
# dialout: serial adapters (RS-485, byte keypads); input: the evdev scanner; lp: USB printers;
# audio: ALSA for the voice. One user for every role keeps a Pi re-purposable.
GROUPS = ("dialout", "input", "lp", "audio")
ETC = Path("/etc/onestop")
DATA = Path("/var/lib/onestop")
UNIT_DIR = Path("/etc/systemd/system")

# What each role needs from Raspberry Pi OS (Debian 12) beyond the base image.
PACKAGES: dict[str, tuple[str, ...]] = {
    "hub": ("python3-venv", "sqlite3"),
    "window": ("python3-venv",),
    "audio": ("python3-venv", "espeak-ng", "libespeak-ng1", "alsa-utils"),
    "kiosk": ("python3-venv", "chromium", "cage", "fonts-noto-cjk", "libnss3-tools"),
    "screen": ("python3-venv", "chromium", "cage", "fonts-noto-cjk", "libnss3-tools"),
}
# Each agent role's token binding (least privilege), matching what its agent.toml template
# below declares: window 3's devices, the kiosk kiosk-1F-1's printer and scanner, the voice
# only. A hall edits the two together (or rebinds with `onestop token bind`).
AGENT_BINDING = {"window": "--windows 3", "kiosk": "--kiosk kiosk-1F-1",
                 "audio": "--windows none"}
CA_FILE = ETC / "ca.pem"  # the hall's CA (`onestop ca init`), pinned by every client here
CA_NICKNAME = "onestop-hall-ca"
UNITS: dict[str, tuple[str, ...]] = {
    "hub": ("onestop-hub.service", "onestop-forward.service"),
    "window": ("onestop-agent@.service",),
    "audio": ("onestop-agent@.service",),
    "kiosk": ("onestop-agent@.service", "onestop-browser@.service"),
    "screen": ("onestop-browser@.service",),
}


@dataclass
class Plan:
    """What an install does: files to write and commands to run, decided before any is done,
    so `--dry-run` and `--root` show exactly what a real install would do."""

    files: list[tuple[Path, str, int]] = field(default_factory=list)  # path, text, mode
    dirs: list[tuple[Path, int]] = field(default_factory=list)
    commands: list[list[str]] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)


def _hub_url(hub: str) -> str:
    return hub.rstrip("/")


def browser_home(role: str) -> Path:
    """Chromium's HOME in onestop-browser@ROLE.service: its NSS db is HOME/.pki/nssdb."""
    return DATA / f"browser-{role}"


def trust_ca_commands(role: str) -> list[list[str]]:
    """certutil commands that make the browser of `role` trust the hall's CA, and only for
    server certificates ("C,,"): kiosk pages then load over HTTPS without a warning, and no
    --ignore-certificate-errors is ever needed."""
    nssdb = f"sql:{browser_home(role) / '.pki' / 'nssdb'}"
    return [["certutil", "-d", nssdb, "-N", "--empty-password"],
            ["certutil", "-d", nssdb, "-A", "-t", "C,,", "-n", CA_NICKNAME, "-i", str(CA_FILE)],
            ["chown", "-R", f"{USER}:{USER}", str(browser_home(role))]]


def agent_toml(role: str, name: str, hub: str, ca: bool = False) -> str:
    """An agent config for the role: the role's sections active with placeholders to edit,
    the others commented, so `onestop agent` starts at once and reports devices offline
    until the placeholders are real."""
    head = f'''# Onestop device agent "{name}" ({role}). Edit, then:
#   systemctl enable --now onestop-agent@{name}.service
# The token is ONESTOP_AGENT_TOKEN in /etc/onestop/agent-{name}.env (0600), not here. It is
# bound to the kiosk and windows this file declares: the hub refuses the agent (agent_not_bound)
# if this file names others; change both (on the hub: onestop token bind {name} ...).
name = "{name}"
hub = "{_hub_url(hub)}"
state_dir = "/var/lib/onestop/agent-{name}"   # the durable outbox of key and rating presses
''' + (f'ca_file = "{CA_FILE}"   # the hall\'s CA: the only one the hub\'s certificate may '
       'come from\n' if ca else "")
    bus = '''
# RS-485 (Modbus RTU) keypads and LED screens. Find the adapter: ls -l /dev/serial/by-id/
{c}[[buses]]
{c}port = "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_REPLACE-if00-port0"
{c}baud = 115200
{c}poll_interval_ms = 100
{c}reply_timeout_ms = 50
{c}devices = [
{c}  {{ kind = "rating", address = 1, window = 3 }},
{c}  {{ kind = "caller", address = 2, window = 3 }},
{c}  {{ kind = "led",    address = 3, window = 3 }},
{c}]

# A one-byte-per-key USB keypad:
# [[keypads]]
# port = "/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0"
# window = 4
# kind = "rating"
# keymap = {{ "1" = "1", "2" = "2", "3" = "3", "4" = "4", "5" = "5" }}
'''
    kiosk = '''
# The kiosk: the kiosk token's name its touchscreen uses, its printer and scanner.
{c}kiosk = "kiosk-1F-1"

# A window's own slip printer: [printer] with windows = [3] and no `kiosk`.
{c}[printer]
{c}target = "/dev/usb/lp0"   # or /dev/serial/by-id/..., or socket://10.0.0.50:9100
{c}paper = "80mm"            # or "58mm"
{c}windows = []              # also print the 承诺单 finished at these windows
# require_status = true     # default: true on a serial port or network printer, false otherwise
# status_interval_s = 15    # ask the printer's state this often between jobs (1-600)

# Find the scanner: ls -l /dev/input/by-id/ (the one ending in -event-kbd)
{c}[scanner]
{c}device = "/dev/input/by-id/usb-REPLACE-event-kbd"

# A desktop ID card reader (刷身份证取号, GA 467-2013 SAM over USB-serial; docs/devices.md).
# [id_reader]
# device = "/dev/serial/by-id/usb-REPLACE-if00-port0"
# kind = "sam"              # or "keyboard": a reader that types the number (an -event-kbd device)
# poll_ms = 300
'''
    voice = '''
# Voice calling. Find the sound card: aplay -l (a USB card is usually card 1).
{c}[voice]
{c}zones = ["1F"]        # or windows = [1, 2, 3]; neither: every window
{c}english = true
{c}chime = true
{c}repeat = 2
{c}player = "aplay"
{c}device = ""          # "" = ALSA default; "plughw:1,0" for a USB sound card
'''
    on = {"window": "bus", "kiosk": "kiosk", "audio": "voice"}[role]
    # `kiosk = ...` is a top-level key: it must come before any [table].
    order = ["kiosk", "bus", "voice"]
    parts = {"bus": bus, "kiosk": kiosk, "voice": voice}
    body = "".join(parts[p].format(c="" if p == on else "# ") for p in order)
    return head + body


def browser_env(role: str, hub: str) -> str:
    """The page the kiosk or screen Pi shows. No token in it: at its first start the page shows
    a pairing code, a supervisor approves it on the office's live monitor, and the page keeps
    its token in the browser's storage (a `?token=` here still works, deprecated)."""
    page = "/kiosk/" if role == "kiosk" else "/display/hall?zone=1F"
    url = f"{_hub_url(hub)}{page}"
    return (f"# The page onestop-browser@{role}.service shows. At its first start it shows a\n"
            f"# pairing code: approve it on the office's live monitor (配对) as a {role}.\n"
            + ("# A window screen: /display/window/3\n" if role == "screen" else "")
            + f'ONESTOP_URL="{url}"\n')


def plan(role: str, name: str = "", hub: str = "http://hub.local:8080", ca: str = "") -> Plan:
    """Everything `onestop install` does for a role, as data. `ca`: the hall's CA file to
    install and trust (needed for an https:// hub)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    if hub.startswith("https://") and not ca and role != "hub":
        raise ValueError("--hub is https://: give --ca with the hall's CA (ca.pem from "
                         "onestop ca init)")
    name = name or role
    p = Plan()
    p.commands.append(["apt-get", "update"])
    p.commands.append(["apt-get", "install", "-y", "--no-install-recommends",
                       *PACKAGES[role]])
    p.commands.append(["useradd", "--system", "--user-group", "--home-dir", str(DATA),
                       "--no-create-home", "--shell", "/usr/sbin/nologin",
                       "--groups", ",".join(GROUPS), USER])
    p.dirs += [(ETC, 0o755), (DATA, 0o750), (UNIT_DIR, 0o755)]
    p.commands.append(["chown", f"{USER}:{USER}", str(DATA)])
    for unit in UNITS[role]:
        p.files.append((UNIT_DIR / unit, (UNITS_DIR / unit).read_text(encoding="utf-8"),
                        0o644))
    p.commands.append(["systemctl", "daemon-reload"])
    if ca:
        p.files.append((CA_FILE, Path(ca).read_text(encoding="ascii"), 0o644))
        if role in ("kiosk", "screen"):
            p.dirs.append((browser_home(role) / ".pki" / "nssdb", 0o700))
            p.commands += trust_ca_commands(role)
    steps = p.next_steps
    if role == "hub":
        p.files.append((ETC / "hall.toml", EXAMPLE_HALL.read_text(encoding="utf-8"), 0o644))
        p.files.append((ETC / "forward.env",
                        "# The supervision backend's bearer token ([backend] in hall.toml)\n"
                        "# ONESTOP_BACKEND_TOKEN=\n"
                        "# With several hubs: the same PostgreSQL store as the hubs\n"
                        "# ONESTOP_DB=postgresql://onestop:PASSWORD@db-host/onestop\n", 0o600))
        p.files.append((ETC / "hub.env", HUB_ENV, 0o600))
        data = f"--data {DATA}"
        steps += [
            f"edit {ETC}/hall.toml, then: sudo -u {USER} onestop check-config {ETC}/hall.toml",
            f"sudo -u {USER} /opt/onestop/venv/bin/onestop db migrate {data}",
            f"sudo -u {USER} /opt/onestop/venv/bin/onestop user add USERNAME --role admin "
            f"--name NAME {data}",
            "a token per agent, printed once (put each in that Pi's /etc/onestop/*.env), "
            "bound to what it serves (a kiosk's agent: --kiosk NAME; voice only: --windows "
            "none):",
            f"  onestop token add --role agent --name window3 --windows 3 {data}",
            "kiosks and screens pair themselves: approve the code each shows on the office's "
            "live monitor",
            f"TLS: onestop ca init --dir {ETC}/ca; onestop ca issue --dir {ETC}/ca --host "
            f"hub.local --host HUB_IP --out {ETC}/hub; chown {USER}: {ETC}/hub.key; set "
            f"ONESTOP_TLS_CERT/KEY in {ETC}/hub.env; copy {ETC}/ca/ca.pem to each Pi (install "
            f"--ca) and move {ETC}/ca/ca.key offline",
            "systemctl enable --now onestop-hub.service onestop-forward.service",
            f"backups: onestop backup --data {DATA} --to /root/onestop-$(date +%F).tar.gz",
        ]
    if role in ("window", "audio", "kiosk"):
        p.files.append((ETC / f"agent-{name}.toml", agent_toml(role, name, hub, bool(ca)),
                        0o644))
        add = f"onestop token add --role agent --name {name} {AGENT_BINDING[role]}"
        p.files.append((ETC / f"agent-{name}.env",
                        f"# {add} (on the hub: bound to what this agent serves, as in\n"
                        f"# agent-{name}.toml; `onestop token bind {name} ...` changes it)\n"
                        "ONESTOP_AGENT_TOKEN=\n", 0o600))
        steps += [
            f"on the hub: {add} --data {DATA}",
            f"  and put it in {ETC}/agent-{name}.env (ONESTOP_AGENT_TOKEN=...)",
            "  (the token is bound to what agent.toml declares: edit both together, or "
            f"`onestop token bind {name} --kiosk ... --windows ...`)",
            f"edit {ETC}/agent-{name}.toml (devices: ls -l /dev/serial/by-id/ "
            "/dev/input/by-id/ /dev/usb/; aplay -l)",
            f"systemctl enable --now onestop-agent@{name}.service",
        ]
    if role in ("kiosk", "screen"):
        p.files.append((ETC / f"browser-{role}.env", browser_env(role, hub), 0o600))
        steps += [
            f"the page shows a pairing code at its first start: approve it as a {role} on "
            "the office's live monitor (the token stays in the browser, not in any file)",
            "systemctl set-default graphical.target   (and disable a desktop's display "
            "manager, e.g. systemctl disable lightdm)",
            f"systemctl enable --now onestop-browser@{role}.service",
        ]
    steps.append("logs: journalctl -u 'onestop-*' -f")
    return p


Runner = Callable[[list[str]], None]


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True)


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def install(role: str, root: str | Path | None = None, dry_run: bool = False, name: str = "",
            hub: str = "http://hub.local:8080", out: TextIO | None = None,
            run: Runner = _run, ca: str = "") -> Plan:
    """Carry out `plan(role)`. With `root`, files go under it and commands are only printed;
    with `dry_run`, nothing is written or run. An existing config or env file is kept."""
    p = plan(role, name, hub, ca)
    real = root is None and not dry_run
    if real and os.geteuid() != 0:
        raise PermissionError("onestop install must run as root (or use --root DIR / --dry-run)")
    base = Path(root) if root is not None else Path("/")

    def at(path: Path) -> Path:
        return base / path.relative_to("/")

    def say(text: str) -> None:
        print(text, file=out or sys.stdout)  # looked up now: the caller may have replaced it

    for d, mode in p.dirs:
        say(f"mkdir -m {mode:o} -p {at(d)}")
        if not dry_run:
            at(d).mkdir(parents=True, exist_ok=True)
            at(d).chmod(mode)
    for path, text, mode in p.files:
        target = at(path)
        keep = target.exists() and path.parent == ETC
        if keep:
            say(f"kept {target} (exists)")
            continue
        say(f"write {target} ({mode:o})")
        if dry_run:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        # Created with its final mode: a token file is never readable by others, not even
        # for a moment.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        target.chmod(mode)
    for planned in p.commands:
        cmd = planned
        if cmd[0] == "useradd" and real and user_exists(USER):
            cmd = ["usermod", "--append", "--groups", ",".join(GROUPS), USER]
        if cmd[:1] == ["certutil"] and "-N" in cmd and real and \
                Path(cmd[2].removeprefix("sql:"), "cert9.db").exists():
            continue  # the browser's NSS db exists: only (re-)add the CA to it
        say(("" if real else "would run: ") + shlex.join(cmd))
        if real:
            run(cmd)
    say("\nNext steps:")
    for step in p.next_steps:
        say(f"  {step}")
    return p
