"""Run a simulated window-device bus by hand: `python -m devices.sim --windows 3`.

Prints the path to open (a stable symlink to the pty) and the devices, then reads commands
from standard input (`help` lists them). Without a terminal on standard input it just serves
until SIGINT/SIGTERM, which is how benchmarks and `onestop demo` run it.
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import sys
import threading
from collections.abc import Callable

from devices import regmap as rm
from devices.sim.faults import Faults
from devices.sim.models import SimCallerKeypad, SimDevice, SimLed, SimRatingKeypad
from devices.sim.slave import SimBus

HELP = """commands:
  press ADDR KEY            caller key: number 1-7 or name (call-next, recall, skip, pause,
                            transfer, finish, request-rating)
  rate ADDR LEVEL [REASON]  rating keypad: level 1-5, reason 1-6 (after 4 or 5)
  show                      what every device shows
  fault ADDR|bus NAME VALUE e.g. "fault 3 no_reply on", "fault bus delay_s 0.3",
                            "fault 2 garbage before"; "fault 3 clear"
  devfault ADDR CODE        the device reports fault CODE in STATUS (0 clears)
  reboot ADDR               power-cycle one device
  unplug | plug             pull the adapter out / put it back
  stats                     simulator counters
  quit"""


STATS = ("requests", "replies", "gap_violations", "garbage_in", "dropped", "faulty")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m devices.sim", description=__doc__.splitlines()[0])
    p.add_argument("--baud", type=int, default=9600)
    p.add_argument("--pace", action="store_true", help="send replies at the baud rate")
    p.add_argument("--link", help="path of the symlink to create (default: a temp dir)")
    p.add_argument("--windows", type=int, default=0,
                   help="N windows: rating at 3w-2, caller at 3w-1, LED at 3w (w = 1..N)")
    for kind in ("rating", "caller", "led"):
        p.add_argument(f"--{kind}", default="", metavar="ADDR,...",
                       help=f"addresses of simulated {kind} devices")
    p.add_argument("--no-display", action="store_true", help="keypads without display")
    p.add_argument("--no-reason-keys", action="store_true", help="rating without reason keys")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def build(args: argparse.Namespace) -> list[SimDevice]:
    display, reasons = not args.no_display, not args.no_reason_keys
    factories: dict[str, Callable[[int], SimDevice]] = {
        "rating": lambda a: SimRatingKeypad(a, reason_keys=reasons, display=display),
        "caller": lambda a: SimCallerKeypad(a, display=display),
        "led": SimLed,
    }
    devices = []
    for w in range(1, args.windows + 1):
        devices += [factories["rating"](3 * w - 2), factories["caller"](3 * w - 1),
                    factories["led"](3 * w)]
    for kind, make in factories.items():
        devices += [make(int(a)) for a in getattr(args, kind).split(",") if a.strip()]
    return devices


def describe(device: SimDevice) -> str:
    if isinstance(device, SimLed):
        return f"{device.address:3d} LED     「{device.text}」 brightness {device.brightness}%"
    if isinstance(device, SimCallerKeypad):
        return (f"{device.address:3d} caller  number {device.number or '-'} waiting "
                f"{device.waiting if device.waiting is not None else '-'}"
                f"{' paused' if device.paused else ''} (key seq {device.seq})")
    if isinstance(device, SimRatingKeypad):
        return f"{device.address:3d} rating  {device.screen} (key seq {device.seq})"
    return f"{device.address:3d} {device.kind.name}"


def _value(text: str) -> object:
    if text.lower() in ("on", "true", "yes"):
        return True
    if text.lower() in ("off", "false", "no", "none"):
        return None if text.lower() == "none" else False
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _caller_key(text: str) -> rm.CallerKey:
    if text.isdigit():
        return rm.CallerKey(int(text))
    return rm.CallerKey[text.upper().replace("-", "_")]


def command(sim: SimBus, line: str) -> str:
    """Run one command line; returns what to print."""
    words = line.split()
    if not words:
        return ""
    verb, rest = words[0].lower(), words[1:]
    if verb == "help":
        return HELP
    if verb == "show":
        return "\n".join(describe(d) for d in sorted(sim.devices.values(),
                                                     key=lambda d: d.address))
    if verb == "stats":
        stats = dict.fromkeys(STATS, 0) | dict(sim.stats)
        return " ".join(f"{k}={v}" for k, v in sorted(stats.items()))
    if verb in ("unplug", "plug"):
        getattr(sim, verb)()
        return f"{verb}ged: {sim.path}"
    device = sim.devices[int(rest[0])] if rest and rest[0].isdigit() else None
    if verb == "press" and isinstance(device, SimCallerKeypad):
        return f"seq {device.press(_caller_key(rest[1]))}"
    if verb == "rate" and isinstance(device, SimRatingKeypad):
        taken = device.press_rating(int(rest[1]), int(rest[2]) if len(rest) > 2 else 0)
        return "taken" if taken else "ignored: no rating window open"
    if verb == "reboot" and device is not None:
        device.reboot()
        return f"rebooted, boot id {device.boot_id:#06x}"
    if verb == "devfault" and device is not None:
        device.fault_code = int(rest[1])
        return "ok"
    if verb == "fault" and rest:
        faults: Faults = sim.faults if rest[0] == "bus" else sim.devices[int(rest[0])].faults
        if rest[1:] == ["clear"]:
            faults.clear()
        else:
            faults.set(**{rest[1]: _value(rest[2]) if len(rest) > 2 else True})
        return str(faults)
    raise ValueError(f"cannot {line!r} (try help)")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    devices = build(args)
    if not devices:
        print("no devices: give --windows N or --rating/--caller/--led", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with SimBus(devices, baud=args.baud, pace=args.pace, link=args.link, seed=args.seed) as sim:
        print(f"simulated bus at {sim.path} ({args.baud} baud{', paced' if args.pace else ''})")
        print(command(sim, "show"), flush=True)
        tty = sys.stdin.isatty()
        reader = threading.Thread(target=_commands, args=(sim, stop, tty), daemon=True)
        reader.start()
        while not stop.wait(0.5):
            pass
    return 0


def _commands(sim: SimBus, stop: threading.Event, tty: bool) -> None:
    """Commands from standard input: a prompt on a terminal, plain lines from a pipe. At the
    end of a pipe the bus keeps serving until a signal; `quit` (or ^D on a terminal) stops.
    Reads fd 0 with select and os.read, not input(): a thread blocked inside sys.stdin would
    hold its lock while the interpreter shuts down after a signal, and abort."""
    if tty:
        print("type help for commands\nsim> ", end="", flush=True)
    pending = b""
    while not stop.is_set():
        ready, _, _ = select.select([0], [], [], 0.2)
        if not ready:
            continue
        data = os.read(0, 4096)
        if not data:  # end of input
            if tty:
                stop.set()
            return
        pending += data
        while b"\n" in pending:
            raw, pending = pending.split(b"\n", 1)
            line = raw.decode("utf-8", errors="replace").strip()
            if line in ("quit", "exit"):
                stop.set()
                return
            _run_line(sim, line, tty)


def _run_line(sim: SimBus, line: str, tty: bool) -> None:
    try:
        out = command(sim, line)
    except (ValueError, KeyError, IndexError, AttributeError, OSError) as err:
        out = f"error: {err}"
    print(out + ("\nsim> " if tty else ""), end="" if tty else "\n", flush=True)

if __name__ == "__main__":
    sys.exit(main())
