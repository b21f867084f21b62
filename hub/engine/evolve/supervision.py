"""Spot checks and efficiency records: nothing in the day's state. They outlive the day, so
the store's rows are their projection (hub/service/commit.py) and the events their history;
the rules are here only so that replaying the log applies every event."""

from __future__ import annotations

from ..model import HallState, SpotCheckDrawn, SpotCheckReviewed, StaffRecordAdded
from .dispatch import rule


@rule.register
def _(e: SpotCheckDrawn, state: HallState) -> None:
    """A week's sample: the store's `spot_draws` and `spot_items`."""


@rule.register
def _(e: SpotCheckReviewed, state: HallState) -> None:
    """A review: its `spot_items` row."""


@rule.register
def _(e: StaffRecordAdded, state: HallState) -> None:
    """An efficiency record: the store's `staff_records`."""
