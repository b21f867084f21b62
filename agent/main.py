"""`onestop agent --config agent.toml`: run the device agent until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import signal
from pathlib import Path

from .bridge import Agent
from .config import load_agent_config

log = logging.getLogger("agent")


def run(config_path: str | Path) -> int:
    cfg = load_agent_config(config_path)
    agent = Agent(cfg)

    def stop(signum: int, frame: object) -> None:
        log.info("agent %s stopping (signal %d)", cfg.name, signum)
        agent.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    agent.start()
    agent.wait()
    return 0
