"""Run `onestop hub` (same arguments) as a production install would import it.

The benchmarks' load generators need aiohttp (the `test` extra). python-engineio's client module,
which Flask-SocketIO imports, also imports aiohttp whenever it is installed, which would add
~8 MB and ~80 modules to the hub under test that a production install (no test extra) never
loads. Likewise redis (the `pg` extra, for scale-out only): python-socketio imports it whenever
it is installed, ~12 MB a single SQLite hub never needs (kept for a hub given --message-queue).
This launcher hides both from the hub process only; everything else is `onestop hub`.
It also puts this checkout first on sys.path, so a scratch copy of the repository benchmarks
its own hub/.
"""

import runpy
import sys
from pathlib import Path

sys.modules["aiohttp"] = None  # type: ignore[assignment]  # import aiohttp -> ImportError
if "--message-queue" not in sys.argv:  # a hub of a pair does need redis
    sys.modules["redis"] = None  # type: ignore[assignment]
    sys.modules["valkey"] = None  # type: ignore[assignment]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.argv[0] = "onestop"
runpy.run_module("hub.cli", run_name="__main__", alter_sys=True)
