"""The queue engine: pure rules of the hall (no I/O), the state they act on and its events."""

from .engine import QueueEngine, new_state
from .errors import DomainError, Invalid, NotFound
from .evolve import apply
from .model import AnyEvent, Channel, Clerk, Event, HallState, OutcomeKind, Ticket, TicketStatus

__all__ = [
    "AnyEvent",
    "Channel",
    "Clerk",
    "DomainError",
    "Event",
    "HallState",
    "Invalid",
    "NotFound",
    "OutcomeKind",
    "QueueEngine",
    "Ticket",
    "TicketStatus",
    "apply",
    "new_state",
]
