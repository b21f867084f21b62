"""A history made up from a known Demand: tickets as the store keeps them, for the staffing
advice's tests and benchmark (an oracle needs a history whose rates are known).

Each arrival becomes a served ticket: called straight away (the advice does not read the
history's waits), a no-show stay first with the item's no-show share, then a finished stay
of a drawn service time. Pure and seeded.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from hub.engine.model import Channel, Ticket, TicketStatus, Visit

from .demand import Demand, arrivals

NO_SHOW_STAY = dt.timedelta(minutes=2)


def tickets_for(demand: Demand, day: dt.date, seed: int, zone: ZoneInfo) -> list[Ticket]:
    rng = random.Random(f"history:{seed}:{day.isoformat()}")
    tickets = []
    for a in arrivals(demand, day, seed, tz=zone):
        item = demand.items[a.service]
        at = a.at
        visits = []
        if rng.random() < item.no_show:
            visits.append(Visit(window=1, clerk="c1", service=a.service, called_at=at,
                                ended_at=at + NO_SHOW_STAY, end="no_show"))
            at += NO_SHOW_STAY
        took = dt.timedelta(minutes=item.service_minutes.sample(rng))
        visits.append(Visit(window=1, clerk="c1", service=a.service, called_at=at,
                            ended_at=at + took, end="finished"))
        tickets.append(Ticket(
            id=f"{day:%Y%m%d}-{a.id:05d}", number=f"{a.id % 1000:03d}", service=a.service,
            day=day, channel=Channel.NORMAL, priority=False, rank=(a.id, 0), issued_at=a.at,
            status=TicketStatus.DONE, window=1, clerk="c1", called_at=visits[0].called_at,
            finished_at=visits[-1].ended_at, visits=visits,
        ))
    return tickets
