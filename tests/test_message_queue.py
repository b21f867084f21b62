"""hub.web.message_queue.Sequencer: a hub's clients get the events in seq order, whichever hub
committed them and in whatever order their batches arrive (the pair itself, with real Redis and
real screens, is in tests/test_scaleout.py)."""

from __future__ import annotations

from hub.web.message_queue import Sequencer


def sequencer(next_seq: int = 1, store: list[int] | None = None):
    """A Sequencer whose store's last seq is store[0] (0: empty)."""
    delivered: list[int] = []
    filled: list[tuple[int, int]] = []
    store = store if store is not None else [0]

    def fill(first: int, last: int) -> None:
        filled.append((first, last))
        delivered.extend(range(first, last + 1))

    seq = Sequencer(next_seq, fill, latest=lambda: store[0], sleep=lambda _s: None,
                    spawn=lambda _f: None)
    return seq, delivered, filled


def batch(delivered: list[int], first: int, last: int):
    return lambda: delivered.extend(range(first, last + 1))


def test_batches_are_delivered_in_seq_order_whatever_order_they_come_in():
    seq, delivered, _ = sequencer()
    seq.submit(3, 4, batch(delivered, 3, 4))  # another hub's, overtaking
    assert delivered == []
    seq.submit(1, 2, batch(delivered, 1, 2))
    assert delivered == [1, 2, 3, 4]
    seq.submit(5, 5, batch(delivered, 5, 5))
    assert delivered == [1, 2, 3, 4, 5] and seq.next_seq == 6


def test_a_batch_delivered_already_is_not_delivered_again():
    seq, delivered, _ = sequencer(next_seq=10)
    seq.submit(8, 9, batch(delivered, 8, 9))
    assert delivered == [] and seq.next_seq == 10


def test_a_gap_no_hub_fills_is_filled_from_the_store_after_a_while(monkeypatch):
    seq, delivered, filled = sequencer()
    seq.submit(4, 4, batch(delivered, 4, 4))
    seq.fill_old_gap()
    assert filled == [] and delivered == []  # not yet: the batch may be on its way
    monkeypatch.setattr(Sequencer, "GAP_S", 0.0)
    seq.fill_old_gap()
    assert filled == [(1, 3)] and delivered == [1, 2, 3, 4]
    seq.submit(2, 3, batch(delivered, 2, 3))  # the late batch itself: dropped
    assert delivered == [1, 2, 3, 4] and seq.next_seq == 5


def test_events_the_store_has_and_no_batch_brought_are_delivered_from_the_store(monkeypatch):
    """Redis down, or this hub's listening broken: the other hubs' events still reach its
    clients, from the store, once they have been there GAP_S without a batch."""
    store = [3]
    seq, delivered, filled = sequencer(store=store)
    seq.catch_up_with_store()
    assert delivered == []  # just committed, maybe on their way
    seq.submit(1, 3, batch(delivered, 1, 3))  # and so they were
    seq.catch_up_with_store()
    assert filled == [] and delivered == [1, 2, 3]
    store[0] = 5
    seq.catch_up_with_store()
    monkeypatch.setattr(Sequencer, "GAP_S", 0.0)
    seq.catch_up_with_store()
    assert filled == [(4, 5)] and delivered == [1, 2, 3, 4, 5] and seq.next_seq == 6
