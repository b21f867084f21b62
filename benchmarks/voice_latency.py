"""Call-next (HTTP) → the announcement's audio is ready to start, through the real chain.

A hub process (as deployed) and a device agent process with only a [voice] section and
`player = "dir"`: the agent renders each call with espeak-ng and writes the WAV into a
directory, at the moment a real player would start playing it. Each round a clerk finishes the
current ticket and calls the next (`POST /api/v1/windows/1/call-next`); latency = the WAV's
mtime (the last write: the file is complete) − the moment the request was sent, same machine
clock. Also split: request → the hub's commit (the `ticket.called` event's `at`) and commit →
WAV complete (push to the agent, seq ordering hold, synthesis, write).

On a real sound card add aplay's start: process spawn, opening the ALSA device and filling
its first period (typically 10-50 ms with dmix/plughw; not measured here, the benchmark machine
has no sound card).

    .venv/bin/python benchmarks/voice_latency.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from benchmarks.common import OUT_DIR, summarize_ms  # noqa: E402
from tests.hubproc import HubProcess  # noqa: E402

VARIANTS = {
    "default (chime, Mandarin + English, repeat 1)": "",
    "Mandarin only, chime, repeat 2": "english = false\nrepeat = 2",
}


def wait_for(check, timeout_s: float = 15.0):
    deadline = time.monotonic() + timeout_s
    while not (value := check()):
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.002)
    return value


def wavs(out: Path) -> list[Path]:
    return sorted(out.glob("*.wav")) if out.exists() else []


def bench(rounds: int, voice: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-voice-") as tmp:
        tmp_path = Path(tmp)
        hub = HubProcess(tmp_path / "hub")
        hub.provision()
        hub.start()
        out = tmp_path / "announcements"
        config = tmp_path / "agent.toml"
        config.write_text(f'name = "bench-audio"\nhub = "{hub.url}"\n'
                          f'state_dir = "{tmp_path / "agent"}"\n\n[voice]\nplayer = "dir"\n'
                          f'dir = "{out}"\n{voice}\n', encoding="utf-8")
        log_path = tmp_path / "agent.log"
        with open(log_path, "wb") as log:
            agent = subprocess.Popen(
                [sys.executable, "-m", "hub.cli", "--log-level", "info", "agent", "--config",
                 str(config)], stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, "ONESTOP_AGENT_TOKEN": hub.tokens["agent"],
                     "PYTHONUNBUFFERED": "1"})
        try:
            wait_for(lambda: "connected to hub" in log_path.read_text(errors="replace"), 20)
            clerk = hub.login("clerk1", 1)
            rng = random.Random(7)
            total, to_commit, to_wav, durations = [], [], [], []
            warmup = 3
            for i in range(rounds + warmup):
                hub.issue("S1")
                hub.act(clerk, 1, "finish")
                time.sleep(rng.uniform(0.2, 0.5))
                sent = time.time()
                answer = hub.act(clerk, 1, "call-next").json()
                called = next(e for e in answer["events"] if e["type"] == "ticket.called")
                committed = dt.datetime.fromisoformat(called["at"]).timestamp()
                files = wait_for(lambda n=i + 1: len(wavs(out)) >= n and wavs(out))
                wav = files[i]
                assert f"-{called['data']['number']}-w1" in wav.name, wav.name
                done = wav.stat().st_mtime_ns / 1e9
                if i >= warmup:
                    total.append(done - sent)
                    to_commit.append(committed - sent)
                    to_wav.append(done - committed)
                    out_s = subprocess.run(["soxi", "-D", str(wav)], capture_output=True,
                                           text=True, check=False).stdout.strip()
                    durations.append(float(out_s or "nan"))
        finally:
            agent.terminate()
            agent.wait(10)
            hub.stop()
    t = summarize_ms(total)
    return {
        "calls": t["count"],
        "p50_ms": t["p50_ms"], "p95_ms": t["p95_ms"], "max_ms": t["max_ms"],
        "request_to_commit": summarize_ms(to_commit),
        "commit_to_wav": summarize_ms(to_wav),
        "audio_s": round(sum(durations) / len(durations), 2) if durations else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    results = []
    for name, voice in VARIANTS.items():
        result = {"variant": name, **bench(args.rounds, voice)}
        results.append(result)
        print(json.dumps(result), flush=True)
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "voice_latency.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
