"""A rating still open when the day rolls over ends with the day (未评价), and the ticket as
stored says so: the day's report reads the stored tickets, the supervision feed the events,
and both must count it. (Found by `onestop simulate`: the hub was down when the last ratings'
windows ended and came back after midnight; the report missed them.)"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from hub import reports
from hub.service import HallService
from tests.test_store import KIOSK, Clock, act, rows, sign_in

ZONE = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 11, 24)


def test_a_rating_open_at_midnight_is_stored_and_counted_as_not_rated(cfg, db, db_path):
    clock = Clock(dt.datetime(2026, 11, 24, 23, 59, 50, tzinfo=ZONE))
    hall = HallService(cfg, db, clock=clock)
    sign_in(hall, 1)
    ticket = hall.issue_ticket(KIOSK, "S1")
    act(hall, 1, "call-next")
    act(hall, 1, "finish")  # the keypad is asked; its window runs past midnight
    clock.advance(seconds=15)
    hall.tick()  # 00:00:05: the day rolls over
    assert hall.state.day == DAY + dt.timedelta(days=1)
    (stored,) = rows(db_path, "SELECT data FROM tickets WHERE id = ?", (ticket["id"],))
    assert json.loads(stored[0])["rating"]["status"] == "not_rated"
    found = reports.report(db, cfg, DAY, DAY, "service", hall.state.day, clock())
    assert found["total"]["not_rated"] == 1
