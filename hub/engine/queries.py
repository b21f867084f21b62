"""Read-only questions about the hall's state: who is next, how many wait, who covers whom.

Pure functions of (config, state); the engine uses them to decide, the edge to show.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable

from hub.config import HallConfig

from .model import HallState, Ticket, TicketStatus, WindowState, queue_key, queue_order


def window_state(state: HallState, no: int) -> WindowState:
    return state.windows.get(no) or WindowState(no=no)


def covered_windows(cfg: HallConfig, state: HallState, no: int) -> list[int]:
    """Away windows whose backup (AB post) is window `no`, in window order."""
    return [w.no for w in cfg.windows if w.backup == no and window_state(state, w.no).away]


def scope(cfg: HallConfig, state: HallState, no: int) -> tuple[list[str], set[int]]:
    """The services window `no` calls, in its order, and the windows whose targeted tickets it
    takes.

    Its own services come first, then those of the away windows it backs up.
    """
    services = list(cfg.window(no).services)
    targets = {no}
    for other in covered_windows(cfg, state, no):
        targets.add(other)
        services.extend(s for s in cfg.window(other).services if s not in services)
    return services, targets


def waiting(state: HallState, keys: Iterable[str] | None = None) -> Iterable[Ticket]:
    """Waiting tickets: all of them, or those of the given queues (services, "@<window>")."""
    for key in state.queues if keys is None else keys:
        for ticket_id in state.queues.get(key, ()):
            yield state.tickets[ticket_id]


def candidates(cfg: HallConfig, state: HallState, no: int) -> list[Ticket]:
    """Waiting tickets window `no` may call, best first, before the fairness rule.

    Order: tickets transferred to this window (or one it covers) first, then by the window's
    service order, then by queue rank.
    """
    services, targets = scope(cfg, state, no)
    order = {code: i for i, code in enumerate(services)}
    found = list(waiting(state, [*services, *(f"@{t}" for t in sorted(targets))]))
    found.sort(key=lambda t: (t.target_window is None, order.get(t.service, len(order)), t.rank))
    return found


def pick_next(cfg: HallConfig, state: HallState, no: int) -> tuple[Ticket | None, bool]:
    """The ticket call-next gives window `no`, and whether fairness chose it over a priority one.

    Priority tickets go first, but after `fairness_ratio` priority calls in a row a waiting
    normal ticket gets its turn, so the normal queue is never starved.
    """
    found = candidates(cfg, state, no)
    priority = next((t for t in found if t.priority), None)
    normal = next((t for t in found if not t.priority), None)
    if priority is None:
        return normal, False
    if normal is not None and window_state(state, no).priority_streak >= cfg.queue.fairness_ratio:
        return normal, True
    return priority, False


def waiting_counts(state: HallState) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in waiting(state):
        counts[t.service] = counts.get(t.service, 0) + 1
    return counts


def people_ahead(state: HallState, ticket: Ticket) -> int:
    """Waiting tickets of the same service that go before `ticket` (priority first, then rank)."""
    if ticket.status is not TicketStatus.WAITING:
        return 0
    tickets = state.tickets
    queue = state.queues.get(queue_key(ticket), [])
    ahead = bisect.bisect_left(queue, queue_order(ticket), key=lambda i: queue_order(tickets[i]))
    if ticket.target_window is None:
        return ahead  # a service's own queue holds that service only
    return sum(1 for i in queue[:ahead] if tickets[i].service == ticket.service)


def can_serve(cfg: HallConfig, state: HallState, no: int, ticket: Ticket) -> bool:
    services, targets = scope(cfg, state, no)
    if ticket.target_window is not None:
        return ticket.target_window in targets
    return ticket.service in services


def find_by_number(state: HallState, number: str) -> Ticket | None:
    number = number.strip().upper()
    return next(
        (t for t in state.tickets.values() if t.number == number and t.day == state.day), None
    )


PACE_SAMPLE = 20  # the last this many finished cases of an item set its pace


def minutes_per_case(cfg: HallConfig, state: HallState, service: str) -> float:
    """How long a case of `service` has taken at a window lately (today's last finished ones);
    the item's target time until there are any."""
    spans = sorted(
        (v.ended_at, (v.ended_at - v.called_at).total_seconds() / 60)
        for t in state.tickets.values()
        for v in t.visits
        if v.service == service and v.end == "finished" and v.ended_at is not None
    )[-PACE_SAMPLE:]
    if not spans:
        return float(cfg.service(service).target_minutes)
    # At least a minute: a few cases closed in seconds (a mistake, a no-op) must not promise
    # the next citizen no wait at all.
    return max(sum(m for _, m in spans) / len(spans), 1.0)


def open_windows(cfg: HallConfig, state: HallState) -> dict[str, int]:
    """Per item, the windows open now (clerk signed in, not paused) that call its tickets."""
    counts: dict[str, int] = {}
    for w in cfg.windows:
        win = state.windows.get(w.no)
        if win is None or win.clerk is None or win.pause is not None:
            continue
        for service in scope(cfg, state, w.no)[0]:
            counts[service] = counts.get(service, 0) + 1
    return counts


def estimated_wait_minutes(cfg: HallConfig, state: HallState, ticket: Ticket) -> int:
    """About how long until `ticket` is called: the people ahead, at the item's recent pace,
    shared among the windows open for it (one, if none is open yet)."""
    if ticket.status is not TicketStatus.WAITING:
        return 0
    ahead = people_ahead(state, ticket)
    windows = max(open_windows(cfg, state).get(ticket.service, 0), 1)
    return math.ceil(ahead * minutes_per_case(cfg, state, ticket.service) / windows)
