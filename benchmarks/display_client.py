"""One process holding many /display Socket.IO clients in a single asyncio loop (a worker of
benchmarks/displays.py; run by it, not by hand).

Why asyncio and not threads: python-socketio's threaded Client runs a reader, a writer and a
ping thread per connection (~600 threads for 200 screens) whose switching cost on two cores
would be measured as hub latency. `socketio.AsyncClient` (over aiohttp) keeps one loop per
process; displays.py starts several such processes so the clients' CPU is spread over both cores
and one event reaches the first and the last screen of a process no more than (its clients ×
per-message cost) apart.

Two client kinds:
- `socketio`: python-socketio's AsyncClient, the real client library (what a Python device
  agent would use);
- `raw`: the Engine.IO v4 / Socket.IO v5 text protocol spoken directly over an aiohttp websocket
  (open, `40/display,{auth}`, `42/display,[...]`, ping `2` → pong `3`): a few microseconds per
  message, so the measurement is closer to what the hub alone costs.

Protocol with the parent, one line each on stdout: `ready <n>` once every client is connected and
has its snapshot, then (after the parent writes `stop` on stdin) one JSON line with, per client,
the deliveries it saw: [type, seq, receive_time - at] (seconds; `at` is the event's time stamp,
same machine clock), and the CPU time this process used while measuring. With `--times` each
delivery is [type, seq, receive_time, window] instead (time.time(); window of a ticket.called, else
null), for a parent that times from its own send (benchmarks/scaleout.py).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import resource
import ssl
import sys
import time

import aiohttp
import socketio

CONNECT_CONCURRENCY = 10


def cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


class Sink:
    """What one client received: (type, seq, receive wall time, `at` string), parsed later."""

    def __init__(self) -> None:
        self.got: list[tuple[str, int, float, str]] = []
        self.windows: list[int | None] = []  # window of each delivery (None but for calls)
        self.snapshot = asyncio.Event()

    def latencies(self) -> list[tuple[str, int, float]]:
        parse = dt.datetime.fromisoformat
        return [(kind, seq, round(t - parse(at).timestamp(), 6)) for kind, seq, t, at in self.got]

    def times(self) -> list[tuple[str, int, float, int | None]]:
        return [(kind, seq, t, w) for (kind, seq, t, _), w in zip(self.got, self.windows,
                                                                   strict=True)]

    def add(self, payload: dict, t: float) -> None:
        self.got.append((payload["type"], payload["seq"], t, payload["at"]))
        data = payload.get("data") or {}
        self.windows.append(data.get("window_no", data.get("window"))
                            if payload["type"] == "ticket.called" else None)


async def socketio_client(url: str, token: str, sink: Sink,
                          session: aiohttp.ClientSession | None = None) -> socketio.AsyncClient:
    sio = socketio.AsyncClient(reconnection=False, http_session=session)

    @sio.on("snapshot", namespace="/display")
    async def on_snapshot(data):
        sink.snapshot.set()

    @sio.on("event", namespace="/display")
    async def on_event(data):
        sink.add(data, time.time())

    await sio.connect(url, namespaces=["/display"], auth={"token": token, "room": "hall"},
                      transports=["websocket"], wait_timeout=30)
    return sio


async def raw_client(session: aiohttp.ClientSession, url: str, token: str, sink: Sink,
                     stop: asyncio.Event) -> None:
    prefix = "42/display,"
    async with session.ws_connect(f"{url}/socket.io/?EIO=4&transport=websocket",
                                  autoping=True, max_msg_size=0) as ws:  # the session's TLS
        opened = await ws.receive_str()
        if not opened.startswith("0"):
            raise RuntimeError(f"no Engine.IO open packet: {opened[:80]}")
        await ws.send_str("40/display," + json.dumps({"token": token, "room": "hall"}))
        while not stop.is_set():
            msg = await ws.receive()
            t = time.time()
            if msg.type != aiohttp.WSMsgType.TEXT:
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                aiohttp.WSMsgType.ERROR):
                    break
                continue
            data = msg.data
            if data == "2":  # Engine.IO ping
                await ws.send_str("3")
            elif data.startswith(prefix):
                name, payload = json.loads(data[len(prefix):])[:2]
                if name == "event":
                    sink.add(payload, t)
                elif name == "snapshot":
                    sink.snapshot.set()
            elif data.startswith("44/display"):
                raise RuntimeError(f"connection refused: {data}")


async def main(args: argparse.Namespace) -> None:
    sinks = [Sink() for _ in range(args.count)]
    stop = asyncio.Event()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    clients: list[socketio.AsyncClient] = []
    tasks: list[asyncio.Task] = []
    # limit=0: aiohttp's default pool of 100 connections would stall the 101st screen.
    # --ca: the hub is https://, trusted through the hall CA only (as the agents do).
    tls: ssl.SSLContext | bool = ssl.create_default_context(cafile=args.ca) if args.ca else True
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, ssl=tls)) as session:
        async def open_one(sink: Sink) -> None:
            async with gate:
                if args.kind == "socketio":
                    clients.append(await socketio_client(args.url, args.token, sink,
                                                         session if args.ca else None))
                    await asyncio.wait_for(sink.snapshot.wait(), 30)
                    return
                task = asyncio.create_task(raw_client(session, args.url, args.token, sink, stop))
                tasks.append(task)
                got = asyncio.create_task(sink.snapshot.wait())
                await asyncio.wait([task, got], timeout=30, return_when=asyncio.FIRST_COMPLETED)
                if not got.done():
                    got.cancel()
                    raise RuntimeError(f"no snapshot: {task.exception() if task.done() else ''}")

        await asyncio.gather(*(open_one(s) for s in sinks))
        print(f"ready {len(sinks)}", flush=True)
        cpu0 = cpu_s()
        # Wait for the parent's "stop" without blocking the loop.
        line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        cpu = cpu_s() - cpu0
        stop.set()
        if line.strip() != "stop":
            print(f"unexpected command {line!r}", file=sys.stderr)
        result = {"cpu_s": round(cpu, 3),
                  "clients": [s.times() if args.times else s.latencies() for s in sinks]}
        print(json.dumps(result, separators=(",", ":")), flush=True)
        for sio in clients:
            await sio.disconnect()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--ca", default="", help="the hall CA of an https:// hub")
    parser.add_argument("--kind", choices=["socketio", "raw"], default="socketio")
    parser.add_argument("--times", action="store_true",
                        help="report receive times and windows, not latencies from `at`")
    asyncio.run(main(parser.parse_args()))
