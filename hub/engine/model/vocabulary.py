"""The hall's terms: ticket channels and statuses, how a case ends (art. 4), where a commitment
slip stands, and the 好差评 rating scale. Plain enums, stored by value."""

from __future__ import annotations

from enum import IntEnum, StrEnum

from hub.i18n import N_


class Channel(StrEnum):
    NORMAL = "normal"
    GREEN = "green"  # 绿色通道, art. 10
    APPOINTMENT = "appointment"  # 预约签到
    SCAN = "scan"  # 扫码取号: taken on a phone from the hall's poster; counts against the quota
    # 适老: a citizen at or above the hall's elderly age who swiped their ID card; priority under
    # the fairness ratio like green and appointment tickets, counted against the quota like normal.
    ELDERLY = "elderly"


# Tickets taken without a pass or an appointment: what an item's daily quota counts.
QUOTA_CHANNELS = frozenset({Channel.NORMAL, Channel.SCAN, Channel.ELDERLY})


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


# What each is called (hub/locale: "case.immediate" is 即办件, Done on the spot).
OUTCOME_LABELS = {
    OutcomeKind.IMMEDIATE: N_("case.immediate"),
    OutcomeKind.COMMITMENT: N_("case.commitment"),
    OutcomeKind.JOINT: N_("case.joint"),
    OutcomeKind.REPORT: N_("case.report"),
    OutcomeKind.RETURNED: N_("case.returned"),
}


class SlipStatus(StrEnum):
    """Where a commitment slip's case is (承诺单), in the only order it may move: forward."""

    ACCEPTED = "accepted"  # 受理
    IN_PROGRESS = "in_progress"  # 办理中
    DONE = "done"  # 已办结
    READY = "ready"  # 可取件
    COLLECTED = "collected"  # 已取件


# What each is called (hub/locale: "slip_status.accepted" is 受理, accepted).
SLIP_STATUS_KEYS = {
    SlipStatus.ACCEPTED: N_("slip_status.accepted"),
    SlipStatus.IN_PROGRESS: N_("slip_status.in_progress"),
    SlipStatus.DONE: N_("slip_status.done"),
    SlipStatus.READY: N_("slip_status.ready"),
    SlipStatus.COLLECTED: N_("slip_status.collected"),
}


class CaseStatus(StrEnum):
    """Where a supervision case (督办工单: a 差评, a complaint, a spot-check finding) stands.

    pending → called_back → rectifying → rectified → closed, or called_back → closed when the
    verification finds it unfounded; appealing → appeal_upheld (final) | appeal_rejected, after
    which the case goes on from the status it had before the appeal (hub/engine/casework.py).
    """

    PENDING = "pending"  # 待核实
    CALLED_BACK = "called_back"  # 已回访
    RECTIFYING = "rectifying"  # 整改中
    RECTIFIED = "rectified"  # 已整改
    CLOSED = "closed"  # 已办结
    APPEALING = "appealing"  # 申诉中
    APPEAL_UPHELD = "appeal_upheld"  # 申诉成立
    APPEAL_REJECTED = "appeal_rejected"  # 申诉不成立


# What each is called (hub/locale: "case_status.pending" is 待核实, to be verified).
CASE_STATUS_KEYS = {
    CaseStatus.PENDING: N_("case_status.pending"),
    CaseStatus.CALLED_BACK: N_("case_status.called_back"),
    CaseStatus.RECTIFYING: N_("case_status.rectifying"),
    CaseStatus.RECTIFIED: N_("case_status.rectified"),
    CaseStatus.CLOSED: N_("case_status.closed"),
    CaseStatus.APPEALING: N_("case_status.appealing"),
    CaseStatus.APPEAL_UPHELD: N_("case_status.appeal_upheld"),
    CaseStatus.APPEAL_REJECTED: N_("case_status.appeal_rejected"),
}
FINAL_CASE_STATUSES = frozenset({CaseStatus.CLOSED, CaseStatus.APPEAL_UPHELD})


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


# The channels a rating comes through today (TicketRated.source), as the figures count them:
# the window's evaluation keypad, and the citizen's phone (the QR on the ticket).
RATING_CHANNELS = ("keypad", "phone")


class RatingStatus(StrEnum):
    PENDING = "pending"
    RATED = "rated"
    NOT_RATED = "not_rated"
