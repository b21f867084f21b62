"""The hall's terms: ticket channels and statuses, how a case ends (art. 4), where a commitment
slip stands, and the 好差评 rating scale. Plain enums, stored by value."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Channel(StrEnum):
    NORMAL = "normal"
    GREEN = "green"  # 绿色通道, art. 10
    APPOINTMENT = "appointment"  # 预约签到


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"  # at a window, being served
    DONE = "done"
    NO_SHOW = "no_show"  # dropped after its second no-show
    RETURN_PENDING = "return_pending"  # 退件 waiting for a supervisor (art. 4(5))
    RETURN_REFUSED = "return_refused"  # 退件 refused after its day ended: handled off-queue
    EXPIRED = "expired"  # still open when the day ended


OPEN_STATUSES = frozenset({TicketStatus.WAITING, TicketStatus.CALLED})


class OutcomeKind(StrEnum):
    """How a case ends at the window (art. 4)."""

    IMMEDIATE = "immediate"  # 即办件
    COMMITMENT = "commitment"  # 承诺件
    JOINT = "joint"  # 联办件
    REPORT = "report"  # 上报件
    RETURNED = "returned"  # 退件


OUTCOME_LABELS = {
    OutcomeKind.IMMEDIATE: "即办件",
    OutcomeKind.COMMITMENT: "承诺件",
    OutcomeKind.JOINT: "联办件",
    OutcomeKind.REPORT: "上报件",
    OutcomeKind.RETURNED: "退件",
}



class SlipStatus(StrEnum):
    """Where a commitment slip's case is (承诺单), in the only order it may move: forward."""

    ACCEPTED = "accepted"  # 受理
    IN_PROGRESS = "in_progress"  # 办理中
    DONE = "done"  # 已办结
    READY = "ready"  # 可取件
    COLLECTED = "collected"  # 已取件


SLIP_STATUS_LABELS = {
    SlipStatus.ACCEPTED: ("受理", "accepted"),
    SlipStatus.IN_PROGRESS: ("办理中", "in progress"),
    SlipStatus.DONE: ("已办结", "done"),
    SlipStatus.READY: ("可取件", "ready for collection"),
    SlipStatus.COLLECTED: ("已取件", "collected"),
}


class RatingLevel(IntEnum):
    """The national 政务服务"好差评" scale, one vocabulary for the hub and the devices: the
    rating keypad's level keys are these values, in this order (devices/regmap.py)."""

    VERY_SATISFIED = 1  # 非常满意
    SATISFIED = 2  # 满意
    BASIC = 3  # 基本满意
    UNSATISFIED = 4  # 不满意
    VERY_UNSATISFIED = 5  # 非常不满意

    @property
    def needs_reason(self) -> bool:
        """A 差评 (不满意, 非常不满意) says why: the keypad waits for a reason key."""
        return self >= RatingLevel.UNSATISFIED


class RatingStatus(StrEnum):
    PENDING = "pending"
    RATED = "rated"
    NOT_RATED = "not_rated"
