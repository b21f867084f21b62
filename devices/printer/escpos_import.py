"""Import python-escpos without the temporary directory it leaves behind.

python-escpos 3.1 (`escpos/capabilities.py`, run at import) evaluates
`environ.get("ESCPOS_CAPABILITIES_PICKLE_DIR", mkdtemp())`: `mkdtemp()` runs even when the
variable is set, and without it the ~70 KB capabilities pickle is written into that new
directory, which nothing removes, so every process that prints left a /tmp/tmpXXXX behind.
The pickle is only a cache for that one import (the capabilities stay in memory), so the
import runs with Python's temporary directory pointed at a scratch directory of ours, removed
right after. A pickle directory set by the operator is still used as before.
"""

from __future__ import annotations

import shutil
import sys
import tempfile


def import_escpos() -> None:
    """Import escpos.capabilities once, leaving nothing in the temporary directory."""
    if "escpos.capabilities" in sys.modules:
        return
    scratch = tempfile.mkdtemp(prefix="onestop-escpos-")
    saved = tempfile.tempdir
    tempfile.tempdir = scratch  # where escpos's own mkdtemp() puts its directory
    try:
        import escpos.capabilities  # noqa: F401, PLC0415
    finally:
        tempfile.tempdir = saved
        shutil.rmtree(scratch, ignore_errors=True)


import_escpos()
