"""`onestop agent --config agent.toml`: run the device agent until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path

from hub import sdnotify
from hub.clock import Clock, system_clock

from .bridge import Agent
from .config import load_agent_config

log = logging.getLogger("agent")


def run(config_path: str | Path, clock: Clock = system_clock) -> int:
    cfg = load_agent_config(config_path)
    agent = Agent(cfg, clock)

    def stop(signum: int, frame: object) -> None:
        log.info("agent %s stopping (signal %d)", cfg.name, signum)
        sdnotify.stopping()
        agent.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    before = set(threading.enumerate())
    agent.start()
    start_sd_notify(agent, [t for t in threading.enumerate() if t not in before])
    agent.wait()
    return 0


# The agent's own threads that run until it stops: one of them dead means a bus, keypad,
# printer, scanner, announcer or the hub link is no longer served. (The Socket.IO client's
# threads come and go with reconnects and are not watched.)
_ESSENTIAL = {"hub-messages", "health", "printer", "scanner", "outbox"}


def start_sd_notify(agent: Agent, started: list[threading.Thread]) -> None:
    """READY=1 to systemd, then WATCHDOG=1 from a thread of its own only while every essential
    thread is alive: a thread killed by a bug stops the pings, and systemd restarts the agent.
    A no-op outside systemd."""
    names = _ESSENTIAL | {bus.name for bus in agent.buses} | set(agent.devices)
    watched = [t for t in started if t.name in names or t.name.endswith("-announcer")]
    log.debug("watchdog watches threads %s", [t.name for t in watched])
    threading.Thread(target=sdnotify.run_pinger, name="sd-notify", daemon=True,
                     args=(time.sleep,),
                     kwargs={"alive": sdnotify.threads_alive(watched),
                             "status": f"agent {agent.cfg.name}"}).start()
