"""A ticket's day: issued, waiting in its queue, called, recalled, skipped, transferred,
finished or returned, and expired when the day ends.
"""

from __future__ import annotations

import bisect

from ..model import (
    PACE_SAMPLE,
    RECENT_CALLS,
    CallRecord,
    Channel,
    DayRolled,
    Event,
    HallState,
    Outcome,
    OutcomeKind,
    ReturnDecided,
    ReturnRequested,
    Ticket,
    TicketCalled,
    TicketFinished,
    TicketIssued,
    TicketNoShow,
    TicketRecalled,
    TicketStatus,
    TicketTransferred,
    Visit,
    queue_key,
    queue_order,
)
from ..model.vocabulary import QUOTA_CHANNELS
from .dispatch import rule, window_at


def _end_visit(ticket: Ticket, event: Event, end: str, note: str | None = None) -> None:
    if ticket.visits and ticket.visits[-1].ended_at is None:
        ticket.visits[-1].ended_at = event.at
        ticket.visits[-1].end = end
        ticket.visits[-1].note = note


def _wait(state: HallState, ticket: Ticket) -> None:
    """The ticket (its service, target and rank already set) waits, in its queue's order."""
    ticket.status = TicketStatus.WAITING
    tickets = state.tickets
    bisect.insort(state.queues.setdefault(queue_key(ticket), []), ticket.id,
                  key=lambda i: queue_order(tickets[i]))


def _unwait(state: HallState, ticket: Ticket) -> None:
    key = queue_key(ticket)
    queue = state.queues.get(key, [])
    if ticket.id in queue:
        queue.remove(ticket.id)
        if not queue:
            del state.queues[key]


def _release(state: HallState, ticket: Ticket) -> None:
    if ticket.window is not None:
        win = window_at(state, ticket.window)
        if win.current == ticket.id:
            win.current = None
    ticket.window = None
    ticket.clerk = None


@rule.register
def _(e: TicketIssued, state: HallState) -> None:
    state.tickets[e.ticket_id] = Ticket(
        id=e.ticket_id,
        number=e.number,
        service=e.service,
        day=state.day,
        channel=e.channel,
        priority=e.priority,
        rank=e.rank,
        issued_at=e.at,
        reference=e.reference,
        identified=e.identified,
    )
    if e.person is not None:
        state.persons.setdefault(e.person, []).append(e.ticket_id)
    _wait(state, state.tickets[e.ticket_id])
    prefix = e.number.rstrip("0123456789")
    state.counters[prefix] = int(e.number[len(prefix) :])
    state.next_rank = max(state.next_rank, e.rank[0] + 1)
    if e.channel in QUOTA_CHANNELS:
        state.issued[e.service] = state.issued.get(e.service, 0) + 1
    elif e.channel is Channel.GREEN and e.reference in state.passes:
        state.passes[e.reference].used_by = e.ticket_id
    elif e.channel is Channel.APPOINTMENT and e.reference in state.appointments:
        state.appointments[e.reference].used_by = e.ticket_id


@rule.register
def _(e: TicketCalled, state: HallState) -> None:
    ticket = state.tickets[e.ticket_id]
    _unwait(state, ticket)
    ticket.status = TicketStatus.CALLED
    ticket.window, ticket.clerk, ticket.called_at = e.window_no, e.clerk, e.at
    ticket.recalls = 0
    ticket.visits.append(
        Visit(window=e.window_no, clerk=e.clerk, service=ticket.service, called_at=e.at)
    )
    win = window_at(state, e.window_no)
    win.current = ticket.id
    win.priority_streak = win.priority_streak + 1 if ticket.priority else 0
    _remember_call(
        state,
        CallRecord(
            ticket_id=ticket.id,
            number=ticket.number,
            service=ticket.service,
            window=e.window_no,
            at=e.at,
        ),
    )


def _remember_call(state: HallState, call: CallRecord) -> None:
    state.recent_calls.insert(0, call)
    del state.recent_calls[RECENT_CALLS:]


@rule.register
def _(e: TicketRecalled, state: HallState) -> None:
    ticket = state.tickets[e.ticket_id]
    ticket.recalls = e.recalls
    _remember_call(
        state,
        CallRecord(
            ticket_id=ticket.id,
            number=ticket.number,
            service=ticket.service,
            window=e.window_no,
            at=e.at,
            recall=e.recalls,
        ),
    )


@rule.register
def _(e: TicketNoShow, state: HallState) -> None:
    ticket = state.tickets[e.ticket_id]
    _end_visit(ticket, e, "no_show")
    _release(state, ticket)
    if e.requeued and e.rank is not None:
        ticket.requeued = True
        ticket.rank = e.rank
        _wait(state, ticket)
        state.next_rank = max(state.next_rank, e.rank[0] + 1)
        state.next_sub = max(state.next_sub, e.rank[1] + 1)
    else:
        ticket.status = TicketStatus.NO_SHOW
        ticket.finished_at = e.at


@rule.register
def _(e: TicketTransferred, state: HallState) -> None:
    ticket = state.tickets[e.ticket_id]
    _end_visit(ticket, e, "transferred", e.reason or None)
    _release(state, ticket)
    ticket.service = e.to_service
    ticket.target_window = e.to_window
    ticket.requeued = False
    _wait(state, ticket)


@rule.register
def _(e: TicketFinished, state: HallState) -> None:
    ticket = state.tickets[e.ticket_id]
    visit = ticket.visits[-1] if ticket.visits and ticket.visits[-1].ended_at is None else None
    _end_visit(ticket, e, "finished")
    if visit is not None:
        pace = state.pace.setdefault(visit.service, [])
        pace.append((e.at - visit.called_at).total_seconds() / 60)
        del pace[:-PACE_SAMPLE]
    _release(state, ticket)
    ticket.status = TicketStatus.DONE
    ticket.finished_at = e.at
    ticket.outcome = e.outcome
    window_at(state, e.window_no).last_served = ticket.id
    if e.outcome.slip:
        state.slip_seq += 1


@rule.register
def _(e: ReturnRequested, state: HallState) -> None:
    ticket = state.tickets[e.ticket_id]
    _end_visit(ticket, e, "return_requested", e.reason)
    _release(state, ticket)
    ticket.status = TicketStatus.RETURN_PENDING
    ticket.outcome = Outcome(kind=OutcomeKind.RETURNED, reason=e.reason)
    window_at(state, e.window_no).last_served = ticket.id


@rule.register
def _(e: ReturnDecided, state: HallState) -> None:
    ticket = state.tickets[e.ticket_id]
    if e.approved:
        ticket.status = TicketStatus.DONE
        ticket.finished_at = e.at
        if ticket.outcome is not None:
            ticket.outcome.approved_by = e.supervisor
    elif e.requeued_to is not None:
        ticket.target_window = e.requeued_to
        ticket.outcome = None
        _wait(state, ticket)
    else:
        ticket.status = TicketStatus.RETURN_REFUSED
        ticket.finished_at = e.at


@rule.register
def _(e: DayRolled, state: HallState) -> None:
    for ticket_id in e.expired:
        ticket = state.tickets[ticket_id]
        _end_visit(ticket, e, "expired")
        _release(state, ticket)
        ticket.status = TicketStatus.EXPIRED
        ticket.finished_at = e.at
    # Keep only what is still open across days: 退件 awaiting a supervisor.
    state.tickets = {
        k: t for k, t in state.tickets.items() if t.status is TicketStatus.RETURN_PENDING
    }
    state.queues = {}
    state.persons = {}
    state.pace = {}
    state.day = e.day
    state.counters = {}
    state.issued = {}
    state.slip_seq = 0
    state.complaint_seq = 0
    state.case_seq = 0
    state.recent_calls = []
    state.passes = {k: p for k, p in state.passes.items() if p.day >= e.day}
    state.appointments = {k: a for k, a in state.appointments.items() if a.day >= e.day}
    for win in state.windows.values():
        win.current = None
        win.priority_streak = 0
        win.last_served = None
        win.rating_ticket = None
