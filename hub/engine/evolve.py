"""How each committed event changes the hall's state.

`apply` is the only code that mutates HallState. It trusts its input: events were validated by
the engine before they were committed, and replaying them after a restart must reproduce the
state exactly, so nothing here may consult the clock or the configuration.
"""

from __future__ import annotations

import bisect
from functools import singledispatch

from .model import (
    PACE_SAMPLE,
    RECENT_CALLS,
    Alert,
    AlertCleared,
    AlertRaised,
    Appointment,
    AppointmentBooked,
    CallRecord,
    Channel,
    ClerkSignedIn,
    ClerkSignedOut,
    ComplaintFiled,
    ConfigReloaded,
    DayRolled,
    DeviceHealth,
    DeviceRemoved,
    DeviceStateChanged,
    Event,
    GreenPass,
    GreenPassGranted,
    HallState,
    JointPartDone,
    Notice,
    NoticeSet,
    Outcome,
    OutcomeKind,
    Pause,
    Rating,
    RatingExpired,
    RatingReasonAdded,
    RatingRequested,
    RatingStatus,
    ReturnDecided,
    ReturnRequested,
    ServiceClosed,
    ServiceReopened,
    SlipStatusChanged,
    Ticket,
    TicketCalled,
    TicketFinished,
    TicketIssued,
    TicketNoShow,
    TicketRated,
    TicketRecalled,
    TicketStatus,
    TicketTransferred,
    Visit,
    WindowPaused,
    WindowResumed,
    WindowState,
    queue_key,
    queue_order,
)


def apply(state: HallState, event: Event, seq: int | None = None) -> None:
    _apply(event, state)
    if seq is not None:
        state.seq = seq


@singledispatch
def _apply(event: Event, state: HallState) -> None:
    raise TypeError(f"no rule to apply {type(event).__name__}")


def _win(state: HallState, no: int) -> WindowState:
    return state.windows.setdefault(no, WindowState(no=no))


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
        win = _win(state, ticket.window)
        if win.current == ticket.id:
            win.current = None
    ticket.window = None
    ticket.clerk = None


@_apply.register
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
    )
    _wait(state, state.tickets[e.ticket_id])
    prefix = e.number.rstrip("0123456789")
    state.counters[prefix] = int(e.number[len(prefix) :])
    state.next_rank = max(state.next_rank, e.rank[0] + 1)
    if e.channel is Channel.NORMAL:
        state.issued[e.service] = state.issued.get(e.service, 0) + 1
    elif e.channel is Channel.GREEN and e.reference in state.passes:
        state.passes[e.reference].used_by = e.ticket_id
    elif e.channel is Channel.APPOINTMENT and e.reference in state.appointments:
        state.appointments[e.reference].used_by = e.ticket_id


@_apply.register
def _(e: TicketCalled, state: HallState) -> None:
    ticket = state.tickets[e.ticket_id]
    _unwait(state, ticket)
    ticket.status = TicketStatus.CALLED
    ticket.window, ticket.clerk, ticket.called_at = e.window_no, e.clerk, e.at
    ticket.recalls = 0
    ticket.visits.append(
        Visit(window=e.window_no, clerk=e.clerk, service=ticket.service, called_at=e.at)
    )
    win = _win(state, e.window_no)
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


@_apply.register
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


@_apply.register
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


@_apply.register
def _(e: TicketTransferred, state: HallState) -> None:
    ticket = state.tickets[e.ticket_id]
    _end_visit(ticket, e, "transferred", e.reason or None)
    _release(state, ticket)
    ticket.service = e.to_service
    ticket.target_window = e.to_window
    ticket.requeued = False
    _wait(state, ticket)


@_apply.register
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
    _win(state, e.window_no).last_served = ticket.id
    if e.outcome.slip:
        state.slip_seq += 1


@_apply.register
def _(e: ReturnRequested, state: HallState) -> None:
    ticket = state.tickets[e.ticket_id]
    _end_visit(ticket, e, "return_requested", e.reason)
    _release(state, ticket)
    ticket.status = TicketStatus.RETURN_PENDING
    ticket.outcome = Outcome(kind=OutcomeKind.RETURNED, reason=e.reason)
    _win(state, e.window_no).last_served = ticket.id


@_apply.register
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


@_apply.register
def _(e: ClerkSignedIn, state: HallState) -> None:
    _win(state, e.window_no).clerk = e.clerk


@_apply.register
def _(e: ClerkSignedOut, state: HallState) -> None:
    win = _win(state, e.window_no)
    win.clerk = None
    win.pause = None
    # priority_streak stays: fairness is owed to the people waiting, whoever is at the window


@_apply.register
def _(e: WindowPaused, state: HallState) -> None:
    _win(state, e.window_no).pause = Pause(reason=e.reason, since=e.at)


@_apply.register
def _(e: WindowResumed, state: HallState) -> None:
    _win(state, e.window_no).pause = None


@_apply.register
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
    state.pace = {}
    state.day = e.day
    state.counters = {}
    state.issued = {}
    state.slip_seq = 0
    state.complaint_seq = 0
    state.recent_calls = []
    state.passes = {k: p for k, p in state.passes.items() if p.day >= e.day}
    state.appointments = {k: a for k, a in state.appointments.items() if a.day >= e.day}
    for win in state.windows.values():
        win.current = None
        win.priority_streak = 0
        win.last_served = None
        win.rating_ticket = None


@_apply.register
def _(e: GreenPassGranted, state: HallState) -> None:
    state.passes[e.code] = GreenPass(
        code=e.code, project=e.project, day=e.day, service=e.service, granted_by=e.granted_by
    )


@_apply.register
def _(e: AppointmentBooked, state: HallState) -> None:
    state.appointments[e.code] = Appointment(code=e.code, service=e.service, day=e.day)


@_apply.register
def _(e: ServiceClosed, state: HallState) -> None:
    state.closed_services[e.service] = e.reason


@_apply.register
def _(e: ServiceReopened, state: HallState) -> None:
    state.closed_services.pop(e.service, None)


@_apply.register
def _(e: RatingRequested, state: HallState) -> None:
    ticket = state.tickets[e.ticket_id]
    old = ticket.rating
    # The same request asked again (the clerk's key, a keypad that lost it): one request, open
    # since it was first asked; the request counter has moved on meanwhile and stays.
    again = (old is not None and old.request_id == e.request_id and old.window == e.window_no
             and old.status is RatingStatus.PENDING)
    ticket.rating = Rating(
        request_id=e.request_id,
        window=e.window_no,
        clerk=e.clerk,
        requested_at=old.requested_at if again and old else e.at,
        deadline=e.deadline,
    )
    for win in state.windows.values():  # served again elsewhere: this request supersedes
        if win.rating_ticket == ticket.id:
            win.rating_ticket = None
    _win(state, e.window_no).rating_ticket = ticket.id
    if not again:
        state.rating_seq = e.request_id


def _close_rating(state: HallState, window: int, ticket_id: str) -> None:
    win = _win(state, window)
    if win.rating_ticket == ticket_id:
        win.rating_ticket = None


@_apply.register
def _(e: TicketRated, state: HallState) -> None:
    rating = state.tickets[e.ticket_id].rating
    assert rating is not None
    rating.status = RatingStatus.RATED
    rating.level, rating.reason = e.level, e.reason
    rating.rated_at, rating.source = e.pressed_at, e.source
    _close_rating(state, e.window_no, e.ticket_id)


@_apply.register
def _(e: RatingExpired, state: HallState) -> None:
    rating = state.tickets[e.ticket_id].rating
    assert rating is not None
    rating.status = RatingStatus.NOT_RATED
    _close_rating(state, e.window_no, e.ticket_id)


@_apply.register
def _(e: RatingReasonAdded, state: HallState) -> None:
    rating = state.tickets[e.ticket_id].rating
    assert rating is not None
    rating.reason = e.reason


@_apply.register
def _(e: DeviceRemoved, state: HallState) -> None:
    state.devices.pop(e.device, None)


@_apply.register
def _(e: DeviceStateChanged, state: HallState) -> None:
    state.devices[e.device] = DeviceHealth(
        device=e.device,
        kind=e.kind,
        window=e.window_at,
        windows=list(e.windows_at),
        agent=e.agent,
        status=e.status,
        detail=e.detail,
        since=e.at,
    )


@_apply.register
def _(e: NoticeSet, state: HallState) -> None:
    state.notice = None if e.reset else Notice(text=e.text, text_en=e.text_en, by=e.by)


@_apply.register
def _(e: SlipStatusChanged, state: HallState) -> None:
    """Nothing in the state: slips live in the store's projection (see QueueEngine.slip_status)."""


@_apply.register
def _(e: ComplaintFiled, state: HallState) -> None:
    state.complaint_seq += 1


@_apply.register
def _(e: JointPartDone, state: HallState) -> None:
    """Nothing in the state: a joint case's parts live in the store (see QueueEngine.part_done)."""


@_apply.register
def _(e: AlertRaised, state: HallState) -> None:
    state.alerts[e.key] = Alert(key=e.key, kind=e.kind, since=e.at, message=e.message,
                                message_en=e.message_en, window=e.window_at, service=e.service)


@_apply.register
def _(e: AlertCleared, state: HallState) -> None:
    state.alerts.pop(e.key, None)


@_apply.register
def _(e: ConfigReloaded, state: HallState) -> None:
    """Nothing in the state: the hall file is config, swapped by HallService.reload; the event
    is the record (and the screens' cue) that it changed."""
