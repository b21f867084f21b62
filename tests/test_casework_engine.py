"""Supervision casework (督办工单) rules of the engine, with a controllable clock: a case opens
with every 差评 and complaint, its deadlines are working days of the hall's calendar (across
国庆 and its make-up workdays), it moves only along its statuses, only the office moves it,
only the clerk it names appeals it and only a supervisor decides the appeal, and each overdue
step raises one alert, cleared by the step that does it."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from hub.engine import DomainError
from hub.engine.casework import (
    Case,
    OverdueStep,
    actions_for,
    advance,
    opened_case,
    overdue_steps,
    queue_key,
    redact_phones,
)
from hub.engine.model import (
    AlertCleared,
    AlertRaised,
    CaseOpened,
    CaseStatus,
    CaseStepped,
    ComplaintFiled,
    RatingRequested,
)
from tests.engine_helpers import NOW, TZ, Hall, hall_config

S = CaseStatus
# 2026's National Day (国庆): closed Thu 1 to Wed 7 October (the weekend between included),
# with Sunday 20 September and Saturday 10 October worked instead (调休补班), as in the
# State Council's notice and config/hall.example.toml.
GUOQING = {
    "holidays": [dt.date(2026, 9, 25), *(dt.date(2026, 10, d) for d in (1, 2, 5, 6, 7))],
    "workdays": [dt.date(2026, 9, 20), dt.date(2026, 10, 10)],
}
EVE = dt.datetime(2026, 9, 30, 10, 0, tzinfo=TZ)  # the Wednesday before the holiday


def hall(at: dt.datetime = NOW, **supervision) -> Hall:
    return Hall(hall_config(calendar=GUOQING, supervision={"unstaffed_minutes": 0,
                                                             **supervision}), now=at)


def complain(h: Hall, **kw) -> CaseOpened:
    filed = h.do("file_complaint", kw.pop("category", "attitude"), kw.pop("text", "态度生硬"), **kw)
    assert len(filed) == 1 and isinstance(filed[0], ComplaintFiled)
    opened = h.do("open_cases", filed)
    assert len(opened) == 1 and isinstance(opened[0], CaseOpened)
    return opened[0]


def served_and_rated(h: Hall, level: int, reason: str | None = "办事效率") -> list:
    h.staff(1)
    h.issue("biz_change")
    h.call(1)
    asked = h.do("finish", 1)[-1]
    assert isinstance(asked, RatingRequested)
    rated = h.do("rate", 1, asked.request_id, level, reason)
    return h.do("open_cases", rated)


def step(h: Hall, case: Case, action: str, by: str = "zhao", role: str = "supervisor",
         **fields) -> tuple[Case, list]:
    events = h.do("case_step", case, action, fields, by, role)
    stepped = events[0]
    assert isinstance(stepped, CaseStepped)
    return advance(case, stepped), events


def refuse(h: Hall, code: str, case: Case | None, action: str, by: str = "zhao",
           role: str = "supervisor", **fields) -> None:
    with pytest.raises(DomainError) as err:
        h.do("case_step", case, action, fields, by, role)
    assert err.value.code == code, err.value.message


# --- opening ---------------------------------------------------------------------------------


def test_a_complaint_opens_a_case_due_in_working_days_across_guoqing():
    h = hall(EVE)
    opened = complain(h, window=1, staff_no="S-c1", phone="13800000000")
    assert opened.case_id == "GD202609300001"
    assert (opened.kind, opened.source, opened.window_no, opened.department) == (
        "complaint", "kiosk", 1, "SJ")
    # 1 working day after Wed 30 Sep: Thu 1 to Wed 7 Oct are the holiday (its weekend too).
    assert opened.callback_due == dt.date(2026, 10, 8)
    # 10 working days: 8, 9, Sat 10 (worked), 12-16, 19, 20 October.
    assert opened.rectify_due == dt.date(2026, 10, 20)
    assert "13800000000" not in opened.summary and opened.summary == "服务态度：态度生硬"


def test_without_the_make_up_workday_the_rectification_is_due_a_day_later():
    calendar = {**GUOQING, "workdays": [dt.date(2026, 9, 20)]}
    h = Hall(hall_config(calendar=calendar), now=EVE)
    assert complain(h).rectify_due == dt.date(2026, 10, 21)


def test_deadlines_are_configured_per_kind():
    h = hall(EVE, callback_days=2, rectify_days=5,
             case_days={"complaint": {"rectify": 3}})
    opened = complain(h)
    assert (opened.callback_due, opened.rectify_due) == (dt.date(2026, 10, 9),
                                                          dt.date(2026, 10, 10))


def test_a_bad_rating_opens_a_case_and_a_good_one_does_not():
    h = hall()
    assert served_and_rated(h, 3) == []
    h2 = hall()
    opened = served_and_rated(h2, 5)
    assert len(opened) == 1
    case = opened[0]
    assert (case.kind, case.source, case.level, case.reason, case.clerk, case.staff_no,
            case.window_no, case.service) == ("rating", "keypad", 5, "办事效率", "c1", "S-c1", 1,
                                              "biz_change")
    assert case.case_id == "GD202611240001" and "非常不满意" in case.summary


def test_case_numbers_count_on_through_the_day_and_start_again_the_next():
    h = hall(EVE)
    first = complain(h)
    assert h.do("open_cases", []) == []  # nothing to react to
    second = complain(h, text="窗口无人")
    assert (first.case_id, second.case_id) == ("GD202609300001", "GD202609300002")
    h.do("rollover", at=EVE + dt.timedelta(days=1))
    h.now = EVE + dt.timedelta(days=1)
    assert complain(h).case_id == "GD202610010001"


def test_numbers_follow_cases_the_events_open_themselves():
    h = hall(EVE)
    filed = h.do("file_complaint", "attitude", "态度生硬")
    own = h.engine.new_case(h.state, EVE, 1, "spot_check", "spot_check", "抽查发现")
    opened = h.engine.open_cases(h.state, EVE, [own, *filed])
    assert [e.case_id for e in opened] == ["GD202609300002"]


def test_a_summary_never_carries_a_phone_number():
    assert redact_phones("请回电 138-0000-0000 或 0416 1234567，谢谢") == "请回电 *** 或 ***，谢谢"
    assert redact_phones("等了20分钟") == "等了20分钟"
    assert redact_phones("等了 20 - 30 分钟，2026 年") == "等了 20 - 30 分钟，2026 年"


# --- steps -------------------------------------------------------------------------------------


def opened(h: Hall, **kw) -> Case:
    return opened_case(complain(h, **kw))


def test_a_case_goes_through_to_closed_and_each_step_is_recorded():
    h = hall(EVE)
    case = opened(h, staff_no="S-c1")
    assert case.status is S.PENDING and actions_for(case, "zhao", "supervisor") == [
        "callback"]
    case, events = step(h, case, "callback", result="已联系市民，情况属实", reached=True,
                        attachments=["通话记录 10:02"])
    assert (events[0].previous, events[0].status, events[0].attachments) == (
        S.PENDING, S.CALLED_BACK, ["通话记录 10:02"])
    assert set(actions_for(case, "zhao", "supervisor")) == {"rectify", "close"}
    case, _ = step(h, case, "rectify", cause="窗口人员解释不清", plan="培训一次性告知")
    case, _ = step(h, case, "rectified", by="admin1", role="admin", fix="已培训")
    case, events = step(h, case, "close", reply="已向市民反馈整改情况", verdict="founded")
    assert case.status is S.CLOSED and case.verdict == "founded" and case.final
    assert actions_for(case, "zhao", "supervisor") == []
    refuse(h, "case_final", case, "callback", result="x", reached=True)


def test_an_unfounded_case_closes_after_the_callback():
    h = hall(EVE)
    case, _ = step(h, opened(h), "callback", result="市民误解", reached=True)
    refuse(h, "case_verdict", case, "close", reply="说明情况", verdict="founded")
    case, _ = step(h, case, "close", reply="已向市民说明", verdict="unfounded")
    assert (case.status, case.verdict) == (S.CLOSED, "unfounded")


@pytest.mark.parametrize(("status", "action"), [
    (S.PENDING, "rectify"), (S.PENDING, "rectified"), (S.PENDING, "close"),
    (S.CALLED_BACK, "callback"), (S.CALLED_BACK, "rectified"), (S.RECTIFYING, "close"),
    (S.RECTIFYING, "rectify"), (S.RECTIFIED, "rectified"), (S.PENDING, "decide_appeal"),
])
def test_a_step_out_of_order_is_refused(status, action):
    h = hall(EVE)
    case = msgspec.structs.replace(opened(h), status=status)
    fields = {"result": "x", "reached": True, "cause": "x", "plan": "x", "fix": "x",
              "reply": "x", "verdict": "founded", "upheld": True, "note": "x"}
    refuse(h, "case_step_not_allowed", case, action, **fields)


def test_fields_are_required_and_bounded():
    h = hall(EVE)
    case = opened(h)
    refuse(h, "invalid", case, "callback", result="  ", reached=True)
    refuse(h, "invalid", case, "callback", result="x", reached="yes")
    refuse(h, "invalid", case, "callback", result="x" * 2001, reached=True)
    refuse(h, "invalid", case, "callback", result="x", reached=True, attachments=["a"] * 11)
    refuse(h, "invalid", case, "callback", result="x", reached=True, attachments=["a" * 2001])
    refuse(h, "invalid", case, "fly")
    refuse(h, "no_case", None, "callback", result="x", reached=True)
    called, _ = step(h, case, "callback", result="x" * 2000, reached=False)
    refuse(h, "invalid", called, "close", reply="x", verdict="maybe")


def test_who_may_do_what():
    h = hall(EVE)
    case = opened(h, staff_no="S-c1")
    case = msgspec.structs.replace(case, clerk="c1")
    refuse(h, "office_only", case, "callback", by="c1", role="clerk", result="x", reached=True)
    refuse(h, "not_your_case", case, "appeal", by="c2", role="clerk", grounds="不是我")
    refuse(h, "not_your_case", case, "appeal", by="zhao", role="supervisor", grounds="代申诉")
    assert actions_for(case, "c1", "clerk") == ["appeal"]
    assert actions_for(case, "c2", "clerk") == []
    appealing, _ = step(h, case, "appeal", by="c1", role="clerk", grounds="市民误按")
    assert appealing.status is S.APPEALING and appealing.resumed is S.PENDING
    refuse(h, "supervisor_only", appealing, "decide_appeal", by="admin1", role="admin",
           upheld=True, note="x")
    refuse(h, "case_in_appeal", appealing, "callback", result="x", reached=True)
    assert actions_for(appealing, "zhao", "supervisor") == ["decide_appeal"]
    assert actions_for(appealing, "admin1", "admin") == []


def test_an_upheld_appeal_ends_the_case():
    h = hall(EVE)
    case = msgspec.structs.replace(opened(h), clerk="c1")
    case, _ = step(h, case, "appeal", by="c1", role="clerk", grounds="误按")
    case, events = step(h, case, "decide_appeal", upheld=True, note="监控显示服务规范")
    assert (case.status, case.appeal, case.final) == (S.APPEAL_UPHELD, "upheld", True)
    assert events[0].upheld is True


def test_a_rejected_appeal_goes_on_from_where_the_case_stood_and_is_the_only_one():
    h = hall(EVE)
    case = msgspec.structs.replace(opened(h), clerk="c1")
    case, _ = step(h, case, "callback", result="属实", reached=True)
    case, _ = step(h, case, "appeal", by="c1", role="clerk", grounds="误按")
    assert case.resumed is S.CALLED_BACK
    case, _ = step(h, case, "decide_appeal", upheld=False, note="录音证实")
    assert (case.status, case.appeal) == (S.APPEAL_REJECTED, "rejected")
    refuse(h, "case_appealed", case, "appeal", by="c1", role="clerk", grounds="再申诉")
    assert set(actions_for(case, "zhao", "supervisor")) == {"rectify", "close"}
    case, _ = step(h, case, "rectify", cause="c", plan="p")
    assert case.status is S.RECTIFYING


def test_no_appeal_once_rectified_nor_of_a_case_naming_nobody():
    h = hall(EVE)
    case = msgspec.structs.replace(opened(h), clerk="c1", status=S.RECTIFIED)
    refuse(h, "case_step_not_allowed", case, "appeal", by="c1", role="clerk", grounds="x")
    nobody = opened(h)
    assert nobody.clerk is None
    refuse(h, "not_your_case", nobody, "appeal", by="c1", role="clerk", grounds="x")
    spot = msgspec.structs.replace(opened(h), kind="spot_check", clerk="c1")
    refuse(h, "case_not_appealable", spot, "appeal", by="c1", role="clerk", grounds="x")


# --- overdue ------------------------------------------------------------------------------------


def test_a_step_is_overdue_the_day_after_its_due_day_and_an_appeal_does_not_stop_the_clock():
    h = hall(EVE)
    case = opened(h)
    assert overdue_steps(case, dt.date(2026, 10, 8)) == []  # due that day: not yet late
    assert overdue_steps(case, dt.date(2026, 10, 9)) == ["callback"]
    assert overdue_steps(case, dt.date(2026, 10, 21)) == ["callback", "rectify"]
    appealing = msgspec.structs.replace(case, clerk="c1", status=S.APPEALING, appeal="appealing",
                                        resumed=S.PENDING)
    assert overdue_steps(appealing, dt.date(2026, 10, 9)) == ["callback"]
    upheld = msgspec.structs.replace(appealing, status=S.APPEAL_UPHELD)
    assert overdue_steps(upheld, dt.date(2026, 10, 21)) == []


def test_an_overdue_step_is_alerted_once_and_cleared_by_the_step_that_does_it():
    h = hall(EVE)
    case = opened(h)
    late = dt.datetime(2026, 10, 9, 9, 0, tzinfo=TZ)
    h.do("rollover", at=late)
    overdue = [OverdueStep(case.case_id, s, case.callback_due if s == "callback"
                           else case.rectify_due, case.window_no)
               for s in overdue_steps(case, late.date())]
    raised = h.do("check_alerts", at=late, cases=overdue)
    key = f"case_overdue:{case.case_id}:callback"
    assert [e.key for e in raised if isinstance(e, AlertRaised)] == [key]
    alert = h.state.alerts[key]
    assert case.case_id in alert.message and "回访" in alert.message and alert.message_en
    assert h.do("check_alerts", at=late + dt.timedelta(hours=1), cases=overdue) == []
    h.do("rollover", at=late + dt.timedelta(days=1))
    assert h.do("check_alerts", at=late + dt.timedelta(days=1), cases=overdue) == []
    _, events = step(h, case, "callback", result="已回访", reached=True)
    assert [(type(e), getattr(e, "key", None)) for e in events[1:]] == [(AlertCleared, key)]
    assert key not in h.state.alerts


def test_the_office_list_order():
    h = hall(EVE)
    a = opened(h)
    b = msgspec.structs.replace(opened(h), callback_due=dt.date(2026, 10, 1))
    called, _ = step(h, a, "callback", result="x", reached=True)
    done = msgspec.structs.replace(called, status=S.CLOSED,
                                   closed_at=EVE + dt.timedelta(days=2))
    older = msgspec.structs.replace(done, closed_at=EVE + dt.timedelta(days=1))
    assert queue_key(b) < queue_key(a) < queue_key(called) < queue_key(done) < queue_key(older)
