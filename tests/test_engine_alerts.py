"""电子监察 rules with a controllable clock: each alert is raised once when its condition starts
to hold, and cleared when it stops. The test hall is open Mon-Fri 09:00-12:00, 13:30-17:00."""

from __future__ import annotations

import datetime as dt

from hub.engine.alerts import OverdueSlip
from hub.engine.model import AlertCleared, AlertRaised
from tests.engine_helpers import NOW, Hall, encode, hall_config, replay

MIN = dt.timedelta(minutes=1)
QUIET = {"unstaffed_minutes": 0}  # most tests leave windows empty on purpose


def hall(**supervision) -> Hall:
    return Hall(hall_config(supervision={**QUIET, **supervision}))


def check(h: Hall, at: dt.datetime, overdue=()) -> tuple[set[str], set[str]]:
    """Run the rules at `at`; the keys raised and cleared."""
    events = h.do("check_alerts", at=at, overdue=overdue)
    raised = {e.key for e in events if isinstance(e, AlertRaised)}
    cleared = {e.key for e in events if isinstance(e, AlertCleared)}
    return raised, cleared


def test_a_long_wait_is_raised_once_per_item_and_cleared_when_called():
    h = hall(wait_minutes=30)
    first = h.issue("id_card")
    h.now += 5 * MIN
    h.issue("id_card")
    assert check(h, NOW + 29 * MIN) == (set(), set())
    raised, _ = check(h, NOW + 30 * MIN)
    assert raised == {"wait:id_card"}
    alert = h.state.alerts["wait:id_card"]
    assert first.number in alert.message and "30分钟" in alert.message
    assert alert.service == "id_card" and alert.since == NOW + 30 * MIN
    assert check(h, NOW + 40 * MIN) == (set(), set())  # still holding: not raised again
    h.staff(3)
    h.do("call_next", 3, at=NOW + 41 * MIN)
    # The second ticket has waited 36 minutes by then: the item still has a long wait.
    assert check(h, NOW + 41 * MIN) == (set(), set())
    h.do("finish", 3, at=NOW + 42 * MIN)
    h.do("call_next", 3, at=NOW + 42 * MIN)
    assert check(h, NOW + 42 * MIN) == (set(), {"wait:id_card"})
    assert h.state.alerts == {}


def test_a_case_past_its_target_time_at_the_window():
    h = hall()
    h.staff(3)
    h.issue("id_card")
    h.call(3)
    assert check(h, NOW + 14 * MIN) == (set(), set())
    assert check(h, NOW + 15 * MIN)[0] == {"serving:3"}  # target_minutes defaults to 15
    h.do("finish", 3, at=NOW + 16 * MIN)
    assert check(h, NOW + 16 * MIN)[1] == {"serving:3"}


def test_a_long_pause_counts_in_opening_hours_only():
    h = hall(pause_minutes=20)
    h.staff(1)
    h.do("pause", 1, "meeting")
    assert check(h, NOW + 19 * MIN) == (set(), set())
    assert check(h, NOW + 20 * MIN)[0] == {"pause:1"}
    assert "meeting" in h.state.alerts["pause:1"].message
    lunch = NOW.replace(hour=12, minute=30)
    assert check(h, lunch)[1] == {"pause:1"}  # closed for lunch: a pause is no gap
    assert check(h, NOW.replace(hour=13, minute=40))[0] == {"pause:1"}
    h.do("resume", 1, at=NOW.replace(hour=13, minute=41))
    assert check(h, NOW.replace(hour=13, minute=41))[1] == {"pause:1"}


def test_an_alert_is_cleared_about_the_same_window_and_item_it_was_raised_about():
    """The backend files a clearing under the raising's subject: both name the window (and the
    item), not only the key."""
    h = hall(pause_minutes=20)
    h.staff(3)
    h.issue("id_card")
    h.call(3)
    raised = h.do("check_alerts", at=NOW + 15 * MIN)
    assert [(e.key, e.window_at, e.service) for e in raised] == [("serving:3", 3, "id_card")]
    h.do("finish", 3, at=NOW + 16 * MIN)
    cleared = h.do("check_alerts", at=NOW + 16 * MIN)
    assert [(type(e), e.key, e.window_at, e.service, e.window) for e in cleared] == [
        (AlertCleared, "serving:3", 3, "id_card", 3)
    ]
    assert encode(replay(h.cfg, h.start, h.events)) == encode(h.state)


def test_a_window_without_clerk_or_ab_backup_in_opening_hours():
    h = Hall(hall_config(supervision={"unstaffed_minutes": 10}))
    opening = NOW.replace(hour=9, minute=5)
    assert check(h, opening) == (set(), set())  # just opened: clerks are arriving
    raised, _ = check(h, NOW)
    assert raised == {f"unstaffed:{no}" for no in (1, 2, 3, 4, 5)}
    h.staff(4)  # window 4 backs up window 3 (AB post), and 3 backs up 4
    assert check(h, NOW + MIN)[1] == {"unstaffed:3", "unstaffed:4"}
    h.do("pause", 4, "meeting", at=NOW + 2 * MIN)  # paused: it covers nobody, nobody covers it
    assert check(h, NOW + 2 * MIN)[0] == {"unstaffed:3"}
    evening = NOW.replace(hour=18)
    assert len(check(h, evening)[1]) == 4  # closed: no window is a gap


def test_a_device_offline_or_in_error_for_a_while():
    h = hall(device_offline_minutes=2)
    h.do("report_device", "bus1/led@3", "led", 3, "agent-1", "offline", "no reply")
    assert check(h, NOW + MIN) == (set(), set())
    assert check(h, NOW + 2 * MIN)[0] == {"device:bus1/led@3"}
    assert h.state.alerts["device:bus1/led@3"].window == 3
    h.do("report_device", "bus1/led@3", "led", 3, "agent-1", "online", at=NOW + 3 * MIN)
    assert check(h, NOW + 3 * MIN)[1] == {"device:bus1/led@3"}
    h.do("report_device", "printer@k1", "printer", None, "kiosk-pi", "error", "缺纸",
         at=NOW + 4 * MIN)
    assert check(h, NOW + 6 * MIN)[0] == {"device:printer@k1"}
    assert "缺纸" in h.state.alerts["device:printer@k1"].message


def test_an_unusual_share_of_dissatisfied_ratings_at_a_window():
    h = hall(rating_sample=3, unhappy_share=0.6)
    h.staff(1)
    for level in (5, 1, 4):
        h.issue("biz_change")
        h.call(1)
        asked = h.do("finish", 1)[-1]
        h.do("rate", 1, asked.request_id, level)
        h.now += MIN
    assert check(h, h.now)[0] == {"unhappy:1"}  # 2 of 3
    assert "3次评价中2次不满意" in h.state.alerts["unhappy:1"].message
    h.issue("biz_change")
    h.call(1)
    asked = h.do("finish", 1)[-1]
    h.do("rate", 1, asked.request_id, 2)
    assert check(h, h.now)[1] == {"unhappy:1"}  # the last 3: 1, 4, 2


def test_an_unusual_share_of_no_shows_for_an_item():
    h = hall(no_show_sample=2, no_show_share=0.5)
    h.staff(3)
    h.issue("id_card")
    h.call(3)
    h.do("skip", 3)
    assert check(h, h.now) == (set(), set())  # one call is not a sample
    h.call(3)
    h.do("finish", 3)
    assert check(h, h.now)[0] == {"no_show:id_card"}


def test_a_commitment_past_its_promised_date():
    h = hall()
    late = OverdueSlip("CN202611200001", "biz_reg", NOW.date() - dt.timedelta(days=1))
    due_today = OverdueSlip("CN202611200002", "biz_reg", NOW.date())
    raised, _ = check(h, NOW, [late, due_today])
    assert raised == {"slip_overdue:CN202611200001"}
    assert check(h, NOW, [])[1] == {"slip_overdue:CN202611200001"}  # done since


def test_a_rule_at_zero_is_off_and_alerts_replay():
    h = hall(wait_minutes=0, serving_over_target=False)
    h.staff(3)
    h.issue("id_card")
    h.issue("id_card")
    h.call(3)
    assert check(h, NOW + 300 * MIN) == (set(), set())
    h2 = hall(wait_minutes=30)
    h2.issue("id_card")
    check(h2, NOW + 31 * MIN)
    assert h2.state.alerts
    assert encode(replay(h2.cfg, h2.start, h2.events)) == encode(h2.state)


def test_the_hubs_certificate_is_flagged_days_before_it_expires():
    h = hall(cert_expiry_days=30)
    expires = NOW + dt.timedelta(days=45)
    assert h.do("check_alerts", at=NOW, cert_expires=expires) == []
    assert h.do("check_alerts", at=NOW, cert_expires=None) == []  # no TLS: nothing to watch
    events = h.do("check_alerts", at=expires - dt.timedelta(days=12), cert_expires=expires)
    assert [(e.key, e.kind) for e in events] == [("tls_cert", "tls_cert")]
    local_day = expires.astimezone(h.cfg.zone).date().isoformat()
    assert local_day in events[0].message and "12" in events[0].message_en
    # A new certificate (hub restarted with it) clears the alert.
    renewed = h.do("check_alerts", at=expires - dt.timedelta(days=11),
                   cert_expires=expires + dt.timedelta(days=397))
    assert [(type(e), e.key) for e in renewed] == [(AlertCleared, "tls_cert")]
    off = hall(cert_expiry_days=0)
    assert off.do("check_alerts", at=expires, cert_expires=expires) == []
