"""How each committed event changes the hall's state.

`apply` is the only code that mutates HallState. It trusts its input: events were validated by
the engine before they were committed, and replaying them after a restart must reproduce the
state exactly, so nothing here may consult the clock or the configuration.
"""

from __future__ import annotations

# Each module registers its events' rules with `rule` when imported.
from . import hall, ratings, supervision, tickets  # noqa: F401
from .dispatch import apply

__all__ = ["apply"]
