"""Drivers against simulated devices over a pty: rating presses tied to request ids, the key FIFO,
restarts, the LED's GB2312 text and its CRC check, the caller display, wrong device kinds."""

from __future__ import annotations

import pytest

from devices import regmap as rm
from devices.errors import DeviceError, ModbusException
from devices.events import KeyEvent, RatingExpired, RatingPress
from devices.keypad import CallerKeypad, RatingKeypad
from devices.led import MAX_RESENDS, LedDisplay
from devices.master import Health
from devices.sim import SimCallerKeypad, SimLed, SimRatingKeypad
from tests.devices.helpers import rig


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- rating keypad ---------------------------------------------------------------------------


def test_rating_press_is_tied_to_request_id() -> None:
    with rig(SimRatingKeypad(1)) as (sim, master):
        keypad = RatingKeypad(master, 1, name="w3/rating")
        assert keypad.poll() == []
        keypad.request_rating(4321, 30, "李明 工号JZ1001")
        assert sim[1].window == 4321 and sim[1].clerk_text == "李明 工号JZ1001"
        assert master.read_input_registers(1, rm.IR_ACTIVE_REQUEST, 1) == (4321,)
        assert sim[1].press_rating(2)
        (press,) = keypad.poll()
        assert press == RatingPress("w3/rating", 1, 1, 4321, rm.RatingLevel.SATISFIED, 0,
                                    at=press.at)
        assert keypad.open_request is None
        assert not sim[1].press_rating(1)  # window closed: the device ignores the press
        assert keypad.poll() == []


def test_bad_rating_waits_for_reason() -> None:
    clock = FakeClock()
    with rig(SimRatingKeypad(1, clock=clock)) as (sim, master):
        keypad = RatingKeypad(master, 1)
        keypad.poll()
        keypad.request_rating(7, 60, reason_timeout_s=10)
        sim[1].press_level(5)
        assert keypad.poll() == []  # nothing latched yet: waiting for the reason
        assert keypad.status & rm.ST_AWAIT_REASON and keypad.open_request == 7
        sim[1].press_reason(rm.Reason.EFFICIENCY)
        (press,) = keypad.poll()
        assert (press.request_id, press.level, press.reason) == (7, 5, 2)

        keypad.request_rating(8, 60, reason_timeout_s=10)
        sim[1].press_level(4)
        clock.now += 11  # no reason key in time: the level is latched on its own
        (press,) = keypad.poll()
        assert (press.request_id, press.level, press.reason) == (8, 4, 0)


def test_keypad_without_reason_keys_latches_at_once() -> None:
    with rig(SimRatingKeypad(1, reason_keys=False)) as (sim, master):
        keypad = RatingKeypad(master, 1)
        keypad.poll()
        assert not keypad.has(rm.CAP_REASON_KEYS)
        keypad.request_rating(9)
        sim[1].press_level(4)
        (press,) = keypad.poll()
        assert (press.level, press.reason) == (4, 0)


def test_rating_window_timeout_is_reported() -> None:
    clock = FakeClock()
    with rig(SimRatingKeypad(1, clock=clock)) as (_sim, master):
        keypad = RatingKeypad(master, 1)
        keypad.poll()
        keypad.request_rating(11, 30)
        assert keypad.poll() == []
        clock.now += 31
        (expired,) = keypad.poll()
        assert isinstance(expired, RatingExpired)
        assert (expired.request_id, expired.why) == (11, "timeout")
        assert keypad.poll() == []


def test_cancel_and_thanks() -> None:
    with rig(SimRatingKeypad(1)) as (sim, master):
        keypad = RatingKeypad(master, 1)
        keypad.poll()
        keypad.request_rating(12)
        keypad.cancel()
        assert sim[1].window == 0
        assert [(e.request_id, e.why) for e in keypad.poll()] == [(12, "cancelled")]
        keypad.request_rating(13)
        keypad.thanks()
        assert sim[1].screen == "谢谢评价"
        assert [(e.request_id, e.why) for e in keypad.poll()] == [(13, "cancelled")]
        assert keypad.poll() == []


def test_cancel_keeps_a_level_waiting_for_reason() -> None:
    with rig(SimRatingKeypad(1)) as (sim, master):
        keypad = RatingKeypad(master, 1)
        keypad.poll()
        keypad.request_rating(14)
        sim[1].press_level(5)
        keypad.cancel()
        (press,) = keypad.poll()
        assert (press.request_id, press.level, press.reason) == (14, 5, 0)


def test_restart_loses_window_and_is_reported() -> None:
    with rig(SimRatingKeypad(1)) as (sim, master):
        keypad = RatingKeypad(master, 1)
        keypad.poll()
        keypad.request_rating(15)
        sim[1].reboot()
        (expired,) = keypad.poll()
        assert (expired.request_id, expired.why) == (15, "device restarted")


def test_request_id_and_text_limits() -> None:
    with rig(SimRatingKeypad(1)) as (sim, master):
        keypad = RatingKeypad(master, 1)
        with pytest.raises(ValueError):
            keypad.request_rating(0)
        keypad.request_rating(65535, 9999, "张" * 40)
        assert sim[1].clerk_text == "张" * 16
        assert master.read_holding_registers(1, rm.HR_TIMEOUT_S, 1) == (600,)


# --- caller keypad and the key FIFO ----------------------------------------------------------


def test_several_presses_between_polls_all_arrive_in_order() -> None:
    with rig(SimCallerKeypad(2)) as (sim, master):
        keypad = CallerKeypad(master, 2, name="w3/caller")
        keypad.poll()
        keys = [rm.CallerKey.CALL_NEXT, rm.CallerKey.RECALL, rm.CallerKey.SKIP,
                rm.CallerKey.CALL_NEXT, rm.CallerKey.FINISH]
        for key in keys:
            sim[2].press(key)
        events = keypad.poll()
        assert [e.key for e in events] == keys
        assert [e.seq for e in events] == [1, 2, 3, 4, 5]
        assert all(isinstance(e, KeyEvent) and e.device == "w3/caller" for e in events)
        assert keypad.poll() == []  # dedupe by sequence number


def test_more_than_eight_presses_loses_only_the_oldest() -> None:
    with rig(SimCallerKeypad(2)) as (sim, master):
        keypad = CallerKeypad(master, 2)
        keypad.poll()
        for i in range(11):
            sim[2].press(1 + i % 7)
        events = keypad.poll()
        assert [e.seq for e in events] == list(range(4, 12))
        assert keypad.lost == 3


def test_sequence_wraps_at_65536() -> None:
    with rig(SimCallerKeypad(2)) as (sim, master):
        sim[2].seq = 0xFFFE
        keypad = CallerKeypad(master, 2)
        keypad.poll()
        for _ in range(3):
            sim[2].press(rm.CallerKey.RECALL)
        assert [e.seq for e in keypad.poll()] == [0xFFFF, 0, 1]


def test_presses_before_first_contact_are_not_replayed_but_after_restart_are() -> None:
    with rig(SimCallerKeypad(2)) as (sim, master):
        sim[2].press(rm.CallerKey.CALL_NEXT)  # before the agent started: stale
        keypad = CallerKeypad(master, 2)
        assert keypad.poll() == []
        sim[2].press(rm.CallerKey.SKIP)
        sim[2].reboot()  # the device restarts, and the clerk presses twice before we poll
        sim[2].press(rm.CallerKey.CALL_NEXT)
        sim[2].press(rm.CallerKey.FINISH)
        events = keypad.poll()
        assert [e.key for e in events] == [rm.CallerKey.CALL_NEXT, rm.CallerKey.FINISH]
        # SKIP was lost with the device's memory: only events it still has can be read


def test_caller_display_and_resend_after_restart() -> None:
    with rig(SimCallerKeypad(2), SimCallerKeypad(5, display=False)) as (sim, master):
        keypad, plain = CallerKeypad(master, 2), CallerKeypad(master, 5)
        keypad.poll()
        plain.poll()
        keypad.show("A012", 7, paused=True)
        plain.show("A012", 7)  # no display: nothing sent, no error
        assert (sim[2].number, sim[2].waiting, sim[2].paused) == ("A012", 7, True)
        keypad.show("B3")
        assert (sim[2].number, sim[2].waiting, sim[2].paused) == ("B3", None, False)
        sim[2].reboot()
        assert sim[2].number == ""
        keypad.poll()
        assert sim[2].number == "B3"


# --- LED -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "shown"), [
    ("请A001号到3号窗口办理", "请A001号到3号窗口办理"),
    ("请王堃到5号窗口", "请王□到5号窗口"),  # 堃 is not in GB2312
    ("暂停服务", "暂停服务"),
    ("", ""),
    ("窗" * 40, "窗" * 32),
])
def test_led_gb2312_round_trip(text: str, shown: str) -> None:
    with rig(SimLed(3)) as (sim, master):
        led = LedDisplay(master, 3)
        led.poll()
        led.show(text)
        assert sim[3].text == shown
        crc = master.read_input_registers(3, rm.IR_CHANGE, 1)[0]
        assert crc == led.expected_crc == rm.text_crc(shown.encode("gb2312"))
        assert led.poll() == [] and sim[3].requests == 5  # poll+identity, show, check, poll


def test_led_resends_after_restart_and_brightness_too() -> None:
    with rig(SimLed(3)) as (sim, master):
        led = LedDisplay(master, 3)
        led.poll()
        led.show("请A001号到3号窗口")
        led.set_brightness(40)
        sim[3].reboot()
        assert sim[3].text == "" and sim[3].brightness == 100
        led.poll()
        assert sim[3].text == "请A001号到3号窗口" and sim[3].brightness == 40


def test_led_that_never_takes_the_text_is_reported() -> None:
    with rig(SimLed(3)) as (sim, master):
        led = LedDisplay(master, 3)
        led.poll()
        sim[3].drop_text_writes = True
        led.show("请A001号")
        for _ in range(MAX_RESENDS + 1):
            led.poll()
        assert led.state is Health.ERROR and "CRC" in led.health.detail
        sim[3].drop_text_writes = False
        led.show("请A002号")
        led.poll()
        assert led.state is Health.ONLINE and sim[3].text == "请A002号"


# --- faults and kinds ------------------------------------------------------------------------


def test_wrong_kind_at_address_is_an_error() -> None:
    with rig(SimLed(3)) as (_sim, master):
        keypad = RatingKeypad(master, 3)
        assert keypad.poll() == []
        assert keypad.state is Health.ERROR and "kind 3" in keypad.health.detail


def test_device_fault_bit_is_an_error_with_its_code() -> None:
    with rig(SimCallerKeypad(2)) as (sim, master):
        keypad = CallerKeypad(master, 2)
        keypad.poll()
        sim[2].fault_code = 7
        keypad.poll()
        assert keypad.state is Health.ERROR and "fault code 7" in keypad.health.detail
        sim[2].fault_code = 0
        keypad.poll()
        assert keypad.state is Health.ONLINE


def test_window_opened_after_an_unnoticed_restart_is_not_reported_lost() -> None:
    with rig(SimRatingKeypad(1)) as (sim, master):
        keypad = RatingKeypad(master, 1)
        keypad.poll()
        keypad.request_rating(20)
        sim[1].reboot()  # window 20 lost...
        keypad.request_rating(21)  # ...but the master opens 21 before its next poll
        (ended,) = keypad.poll()  # 20 ends (replaced), 21 stays open
        assert (ended.request_id, ended.why) == (20, "replaced")
        sim[1].press_rating(3)
        (press,) = keypad.poll()
        assert (press.request_id, press.level) == (21, 3)


def test_events_found_before_a_failed_step_come_with_the_next_poll() -> None:
    """A restart is seen (window lost), then the ring read fails: nothing is dropped."""
    with rig(SimCallerKeypad(2), reply_timeout_s=0.03) as (sim, master):
        keypad = CallerKeypad(master, 2)
        keypad.poll()
        sim[2].reboot()
        sim[2].press(rm.CallerKey.CALL_NEXT)
        original = sim[2].input_registers

        def no_ring() -> dict[int, int]:  # the ring read fails, the poll block works
            return {a: v for a, v in original().items() if a < rm.IR_RING}

        sim[2].input_registers = no_ring
        with pytest.raises(ModbusException):
            keypad.poll()
        sim[2].input_registers = original
        (event,) = keypad.poll()
        assert event.key is rm.CallerKey.CALL_NEXT


def test_lost_window_is_reported_even_if_the_first_poll_after_restart_fails() -> None:
    with rig(SimRatingKeypad(1), reply_timeout_s=0.03) as (sim, master):
        keypad = RatingKeypad(master, 1)
        keypad.poll()
        keypad.request_rating(30)
        sim[1].reboot()
        sim[1].latch(2, 0, 0)  # a key event, so the poll must read the ring
        original = sim[1].input_registers
        sim[1].input_registers = lambda: {a: v for a, v in original().items() if a < rm.IR_RING}
        with pytest.raises(ModbusException):
            keypad.poll()
        sim[1].input_registers = original
        events = keypad.poll()
        assert [type(e) for e in events] == [RatingPress, RatingExpired]
        assert events[1].request_id == 30 and events[1].why == "device restarted"


# --- every rating request gets one outcome, and a press its real time --------------------------


def _keypad(master, clock: FakeClock) -> RatingKeypad:
    keypad = RatingKeypad(master, 1, clock=clock)
    keypad.poll()
    return keypad


def test_an_unhappy_press_is_dated_when_pressed_not_when_its_reason_wait_ends() -> None:
    """30 s window; 不满意 at +20 s and no reason key: the keypad latches it when its reason
    wait runs out, after the window's end; the press still carries +20 s."""
    clock = FakeClock()
    with rig(SimRatingKeypad(1, clock=clock)) as (sim, master):
        keypad = _keypad(master, clock)
        keypad.request_rating(40, 30)
        assert master.read_holding_registers(1, rm.HR_TIMEOUT_S, 2) == (30, 30)  # never 0
        clock.now += 20
        sim[1].press_level(4)
        clock.now += 0.1  # the next poll
        assert keypad.poll() == []
        pressed_at = clock.now
        clock.now += 30  # the reason wait (REASON_TIMEOUT_S) ends, well after the window
        (press,) = keypad.poll()
        assert (press.request_id, press.level, press.reason) == (40, 4, 0)
        assert press.at == pressed_at
        assert keypad.poll() == []


def test_a_press_is_never_dated_after_its_windows_end() -> None:
    clock = FakeClock()
    with rig(SimRatingKeypad(1, clock=clock)) as (sim, master):
        keypad = _keypad(master, clock)
        keypad.request_rating(41, 30)
        end = clock.now + 30
        clock.now += 29.9
        assert sim[1].press_rating(2)  # in time, on the keypad's clock
        clock.now += 0.5  # seen by a poll after the window's end
        (press,) = keypad.poll()
        assert press.at == end


def test_the_next_request_latches_a_waiting_level_for_the_previous_one() -> None:
    clock = FakeClock()
    with rig(SimRatingKeypad(1, clock=clock)) as (sim, master):
        keypad = _keypad(master, clock)
        keypad.request_rating(42, 30)
        sim[1].press_level(5)
        keypad.poll()
        pressed_at = clock.now
        clock.now += 3
        keypad.request_rating(43, 30)  # the clerk finished the next ticket meanwhile
        (press,) = keypad.poll()  # a press for 42, so no "ended" for it
        assert (press.request_id, press.level, press.at) == (42, 5, pressed_at)
        assert sim[1].window == 43 and keypad.open_request == 43
        keypad.request_rating(44, 30)  # replaced without a press: 43 ended
        assert [(e.request_id, e.why) for e in keypad.poll()] == [(43, "replaced")]


def test_a_keypad_that_keeps_its_window_past_its_time_is_told_to_close() -> None:
    clock = FakeClock()
    with rig(SimRatingKeypad(1, clock=clock)) as (sim, master):
        keypad = _keypad(master, clock)
        keypad.request_rating(45, 30)
        sim[1].window_deadline = float("inf")  # a keypad that ignores TIMEOUT_S
        clock.now += 30.5
        assert keypad.poll() == []
        clock.now += 1
        assert keypad.poll() == []  # COMMAND 2 sent; the outcome comes with the next poll
        assert sim[1].window == 0
        assert [(e.request_id, e.why) for e in keypad.poll()] == [(45, "timeout")]


def test_presses_made_while_the_agent_was_away_are_delivered_at_first_contact() -> None:
    clock = FakeClock()
    with rig(SimRatingKeypad(1, clock=clock)) as (sim, master):
        RatingKeypad(master, 1).request_rating(46, 30)  # the agent before its restart
        assert sim[1].press_rating(1)
        keypad = RatingKeypad(master, 1, clock=clock)  # the agent after it
        (press,) = keypad.poll()
        assert (press.request_id, press.level) == (46, 1)


def test_a_request_the_hub_still_waits_for_after_an_agent_restart_is_closed_and_reported() -> None:
    clock = FakeClock()
    with rig(SimRatingKeypad(1, clock=clock)) as (sim, master):
        RatingKeypad(master, 1).request_rating(47, 30)  # before the agent restarted
        clock.now += 25
        sim[1].press_level(4)  # waiting for its reason while the agent restarts
        clock.now += 10
        keypad = _keypad(master, clock)
        keypad.close_request(47, ends_at=clock.now - 5)  # the hub's deadline has passed
        (press,) = keypad.poll()  # COMMAND 2 latched the level: in time, at the latest at its end
        assert (press.request_id, press.level, press.at) == (47, 4, clock.now - 5)
        keypad.close_request(48, ends_at=clock.now - 1)  # nothing for this one
        assert [(e.request_id, e.why) for e in keypad.poll()] == [(48, "timeout")]


def test_a_level_waiting_at_first_contact_is_a_press_found_late_when_it_latches() -> None:
    """The agent restarts while 不满意 waits for its reason in a window it opened before; the
    agent started again sees AWAIT_REASON at first contact and is asked for the next request
    (the clerk served on), whose COMMAND 1 latches the level after the first window's end. The
    press is sent as found late, dated by that first contact, and the hub dates it by the
    window's end: not "pressed now", which the hub would refuse as too late."""
    clock = FakeClock()
    with rig(SimRatingKeypad(1, clock=clock)) as (sim, master):
        RatingKeypad(master, 1, clock=clock).request_rating(50, 30)  # before the restart
        clock.now += 25
        assert sim[1].press_level(4)  # waiting for its reason while the agent restarts
        clock.now += 3
        keypad = _keypad(master, clock)  # the agent after it
        assert keypad.poll() == []  # first contact: the level still waits
        first_contact = clock.now
        clock.now += 10  # the first window's end has passed; the next request comes
        keypad.request_rating(51, 30)
        (press,) = keypad.poll()
        assert (press.request_id, press.level, press.reason) == (50, 4, 0)
        assert press.late_found and press.at == first_contact
        assert sim[1].window == 51 and keypad.open_request == 51


def test_a_press_in_a_window_opened_before_the_agent_started_is_found_late() -> None:
    """A window the agent before this one opened is still open at first contact; the press
    comes after it, and this agent cannot know when that window ends: the hub does."""
    clock = FakeClock()
    with rig(SimRatingKeypad(1, clock=clock)) as (sim, master):
        RatingKeypad(master, 1, clock=clock).request_rating(52, 30)
        keypad = _keypad(master, clock)
        assert keypad.poll() == []
        clock.now += 29.9
        assert sim[1].press_rating(2)  # in time on the keypad
        clock.now += 0.5  # taken after the window's end
        (press,) = keypad.poll()
        assert (press.request_id, press.level, press.late_found) == (52, 2, True)


def test_an_open_that_did_not_get_through_is_retried_while_time_is_left() -> None:
    clock = FakeClock()
    with rig(SimRatingKeypad(1, clock=clock), reply_timeout_s=0.03) as (sim, master):
        keypad = _keypad(master, clock)
        sim[1].faults.set(no_reply=True)
        with pytest.raises(DeviceError):
            keypad.request_rating(49, 30)
        sim[1].reboot()  # so the write did not get through either
        sim[1].faults.clear()
        clock.now += 10
        keypad.poll()
        assert sim[1].window == 49
        assert master.read_holding_registers(1, rm.HR_TIMEOUT_S, 1) == (20,)


def test_a_window_that_closes_before_the_hubs_deadline_is_reported_at_the_deadline() -> None:
    """TIMEOUT_S is whole seconds, rounded down: the keypad closes up to a second early, and
    the hub hears of it only at its deadline (no 未评价 before the deadline it announced)."""
    clock = FakeClock()
    with rig(SimRatingKeypad(1, clock=clock)) as (sim, master):
        keypad = _keypad(master, clock)
        keypad.request_rating(50, 29, deadline=clock.now + 29.7)
        clock.now += 29.2
        assert keypad.poll() == [] and sim[1].window == 0  # closed on the keypad
        clock.now += 0.5
        assert [(e.request_id, e.why) for e in keypad.poll()] == [(50, "timeout")]
