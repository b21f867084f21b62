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


def heads(cfg: HallConfig, state: HallState, no: int) -> tuple[Ticket | None, Ticket | None]:
    """The first priority and the first normal ticket window `no` may call, before the
    fairness rule.

    Order: tickets transferred to this window (or one it covers) first, then by the window's
    service order, then by queue rank. Read off the heads of the sorted queues (a service's
    queue holds its priority tickets first, each part by rank), not by sorting every waiting
    ticket: call-next stays flat however many wait.
    """
    services, targets = scope(cfg, state, no)
    order = {code: i for i, code in enumerate(services)}
    tickets = state.tickets
    best: dict[bool, Ticket | None] = {True: None, False: None}  # by `priority`

    def place(t: Ticket) -> tuple[int, tuple[int, int]]:
        return order.get(t.service, len(order)), t.rank

    for target in sorted(targets):  # transfers: short queues of any service, look at each
        for ticket_id in state.queues.get(f"@{target}", ()):
            t = tickets[ticket_id]
            current = best[t.priority]
            if current is None or place(t) < place(current):
                best[t.priority] = t
    for code in services:
        if best[True] is not None and best[False] is not None:
            break
        queue = state.queues.get(code)
        if not queue:
            continue
        if best[True] is None and tickets[queue[0]].priority:
            best[True] = tickets[queue[0]]
        if best[False] is None:
            first_normal = bisect.bisect_left(queue, True,
                                              key=lambda i: not tickets[i].priority)
            if first_normal < len(queue):
                best[False] = tickets[queue[first_normal]]
    return best[True], best[False]


def pick_next(cfg: HallConfig, state: HallState, no: int) -> tuple[Ticket | None, bool]:
    """The ticket call-next gives window `no`, and whether fairness chose it over a priority one.

    Priority tickets go first, but after `fairness_ratio` priority calls in a row a waiting
    normal ticket gets its turn, so the normal queue is never starved.
    """
    priority, normal = heads(cfg, state, no)
    if priority is None:
        return normal, False
    if normal is not None and window_state(state, no).priority_streak >= cfg.queue.fairness_ratio:
        return normal, True
    return priority, False


def waiting_counts(state: HallState) -> dict[str, int]:
    """Waiting tickets per service. A service's own queue is all of one service: its length
    counts it (pushed to the kiosks after every commit, so no walk over every waiting ticket);
    only tickets sent to a window ("@<window>", a few) are looked at one by one."""
    counts: dict[str, int] = {}
    for key, queue in state.queues.items():
        if not queue:
            continue
        if key.startswith("@"):
            for ticket_id in queue:
                service = state.tickets[ticket_id].service
                counts[service] = counts.get(service, 0) + 1
        else:
            counts[key] = counts.get(key, 0) + len(queue)
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


def minutes_per_case(cfg: HallConfig, state: HallState, service: str) -> float:
    """How long a case of `service` has taken at a window lately (today's last PACE_SAMPLE
    finished ones, kept by `apply`); the item's target time until there are any."""
    spans = state.pace.get(service)
    if not spans:
        return float(cfg.service(service).target_minutes)
    # At least a minute: a few cases closed in seconds (a mistake, a no-op) must not promise
    # the next citizen no wait at all.
    return max(sum(spans) / len(spans), 1.0)


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
