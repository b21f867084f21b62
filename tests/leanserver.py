"""A small Socket.IO app served the way the hub serves (hub/main.py: its eventlet patching and
`run_server`), for tests of what each connected socket costs and that it still works.

    python tests/leanserver.py PORT

Short Engine.IO pings (1 s) so that a test sees several in a few seconds; `/stats` tells
how many green threads and open buffered socket files the process holds.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.main import patch

patch("eventlet")

import gc  # noqa: E402
import io  # noqa: E402

import greenlet  # noqa: E402
from flask import Flask, request  # noqa: E402
from flask_socketio import SocketIO, disconnect, emit  # noqa: E402

from hub.main import run_server  # noqa: E402

app = Flask(__name__)
sio = SocketIO(app, async_mode="eventlet", ping_interval=1, ping_timeout=1)


@app.get("/stats")
def stats() -> dict:
    gc.collect()
    objects = gc.get_objects()
    buffered = [o for o in objects if isinstance(o, io.BufferedReader | io.BufferedWriter)
                and not o.closed and hasattr(o.raw, "_sock")]  # a socket's, not stdio's
    # A started, unfinished green thread: one that holds a stack
    return {"greenlets": sum(1 for o in objects if isinstance(o, greenlet.greenlet) and o),
            "open_buffered_socket_files": len(buffered)}


@sio.on("echo")
def echo(data: str) -> str:
    return data


@sio.on("later")
def later(data: dict) -> None:
    """Push `data["text"]` to the asking socket after `data["after_s"]`, unasked."""
    sid = request.sid

    def push() -> None:
        sio.sleep(data["after_s"])
        sio.emit("pushed", data["text"], to=sid)

    sio.start_background_task(push)


@sio.on("bye")
def bye(text: str) -> None:
    """A last message, then the server ends the connection."""
    emit("last", text)
    disconnect()


if __name__ == "__main__":
    run_server(app, sio, "127.0.0.1", int(sys.argv[1]), "eventlet")
