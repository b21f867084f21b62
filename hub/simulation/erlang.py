"""Erlang C: the M/M/c queue in steady state, the closed form beside the simulated day.

c windows serve one queue; citizens arrive as a Poisson stream at λ per hour, service times
are exponential with mean 1/μ. With offered load a = λ/μ (in erlangs) and c > a:

    P(wait)     C(c, a) = (a^c/c! · c/(c−a)) / (Σ_{k<c} a^k/k! + a^c/c! · c/(c−a))
    mean wait   W_q = C / (cμ − λ)
    tail        P(W > t) = C · e^{−(cμ−λ)t}
    quantile    t_q = ln(C / (1−q)) / (cμ − λ), or 0 when C ≤ 1−q

C is computed through the Erlang B recursion (B₀ = 1, B_k = a·B_{k−1} / (k + a·B_{k−1}),
C = c·B / (c − a(1 − B))), which stays finite for any c where the factorials overflow.

Pure; times in minutes, rates per hour (as the office reads them). What it assumes and a hall
does not quite do — one queue per item, exponential service, no no-shows, a queue already in
steady state at opening — is why the advice also simulates days (engine_day.py) and shows both.
"""

from __future__ import annotations

import math

MAX_SERVERS = 500  # beyond any hall: bounds the search for a load that never fits


def offered_load(arrivals_per_hour: float, service_minutes: float) -> float:
    """a = λ/μ, in erlangs: the number of windows the work would keep busy all the time."""
    return arrivals_per_hour * service_minutes / 60.0


def p_wait(servers: int, load: float) -> float:
    """C(c, a): the probability that an arriving citizen has to wait (1 if c ≤ a)."""
    if load <= 0:
        return 0.0
    if servers <= load:
        return 1.0
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return servers * b / (servers - load * (1 - b))


def _drain_per_minute(servers: int, arrivals_per_hour: float, service_minutes: float) -> float:
    """cμ − λ per minute: how fast a queue shrinks; ≤ 0 means it never does."""
    return servers / service_minutes - arrivals_per_hour / 60.0


def mean_wait_minutes(servers: int, arrivals_per_hour: float, service_minutes: float) -> float:
    drain = _drain_per_minute(servers, arrivals_per_hour, service_minutes)
    if arrivals_per_hour <= 0:
        return 0.0
    if drain <= 0:
        return math.inf
    return p_wait(servers, offered_load(arrivals_per_hour, service_minutes)) / drain


def p_wait_longer(
    servers: int, arrivals_per_hour: float, service_minutes: float, minutes: float
) -> float:
    """P(W > t) = C·e^{−(cμ−λ)t}."""
    drain = _drain_per_minute(servers, arrivals_per_hour, service_minutes)
    if arrivals_per_hour <= 0:
        return 0.0
    if drain <= 0:
        return 1.0
    c = p_wait(servers, offered_load(arrivals_per_hour, service_minutes))
    return c * math.exp(-drain * minutes)


def wait_quantile_minutes(
    servers: int, arrivals_per_hour: float, service_minutes: float, q: float = 0.9
) -> float:
    """The wait that a share q of citizens do not exceed (inf if the queue grows forever)."""
    if not 0 < q < 1:
        raise ValueError("q must be in (0, 1)")
    drain = _drain_per_minute(servers, arrivals_per_hour, service_minutes)
    if arrivals_per_hour <= 0:
        return 0.0
    if drain <= 0:
        return math.inf
    c = p_wait(servers, offered_load(arrivals_per_hour, service_minutes))
    if c <= 1 - q:
        return 0.0
    return math.log(c / (1 - q)) / drain


def servers_needed(
    arrivals_per_hour: float, service_minutes: float, target_minutes: float, q: float = 0.9
) -> int:
    """The fewest windows whose q-quantile wait is at most `target_minutes` (0 with no one
    arriving)."""
    if arrivals_per_hour <= 0:
        return 0
    load = offered_load(arrivals_per_hour, service_minutes)
    for servers in range(max(1, math.floor(load) + 1), MAX_SERVERS + 1):
        if wait_quantile_minutes(servers, arrivals_per_hour, service_minutes, q) <= target_minutes:
            return servers
    raise ValueError(f"no number of windows up to {MAX_SERVERS} carries {load:.0f} erlangs")
