"""Ratings counted per channel (keypad, phone) in the reports and their summed-up tables.

The day of tests/test_reports.py, with T6's 满意 given on the citizen's phone instead of the
keypad (every other figure of that day stays as its oracle says): 2 keypad ratings (T3 at
window 3, T1 at window 1) and 1 phone rating (T6, served at window 2).
"""

from __future__ import annotations

import csv
import io

import pytest

from hub import reports
from hub.runtime import DB_FILE
from hub.store.database import Database, available_migrations, split_statements
from tests.test_reports import DAY, Day, rows_by_key

PHONE_RATED = "T6"


class PhoneDay(Day):
    def rate(self, no: int, name: str, level: int) -> None:
        if name != PHONE_RATED:
            return super().rate(no, name, level)
        answer = self.hall.rate_by_phone(self.tickets[name]["id"], level, None, "192.0.2.9")
        assert answer["channel"] == "phone"
        return None


@pytest.fixture
def day(tmp_path):
    found = PhoneDay(tmp_path)
    yield found
    found.close()


def test_the_total_and_each_window_count_ratings_by_channel(day):
    found = day.report("window")
    assert found["live_days"] == []  # read from the summed-up day
    total = found["total"]
    assert total["ratings"] == {"1": 1, "2": 1, "3": 0, "4": 1, "5": 0}  # as on the keypad day
    assert total["rated_by_channel"] == {"keypad": 2, "phone": 1}
    by_window = rows_by_key(found)
    assert by_window["1"]["rated_by_channel"] == {"keypad": 1, "phone": 0}  # T1
    assert by_window["2"]["rated_by_channel"] == {"keypad": 0, "phone": 1}  # T6
    assert by_window["3"]["rated_by_channel"] == {"keypad": 1, "phone": 0}  # T3
    by_clerk = rows_by_key(day.report("clerk"))
    assert by_clerk["clerk2"]["rated_by_channel"] == {"keypad": 0, "phone": 1}


def test_summed_up_and_live_agree_on_the_channels(day):
    summed = day.report("service")
    live = day.report("service", open_day=DAY)  # the day as if still open: read from tickets
    assert live["live_days"] == [DAY.isoformat()]
    assert live["total"]["rated_by_channel"] == summed["total"]["rated_by_channel"] == {
        "keypad": 2, "phone": 1}
    assert day.db.query("SELECT COUNT(*) FROM report_days")[0][0] == 0  # the live read forgot
    day.report("service")  # ... and the next report sums the day up again, channels included
    assert [tuple(r) for r in day.db.query(
        "SELECT SUM(rated_keypad), SUM(rated_phone) FROM report_counts WHERE day = ?",
        (DAY.isoformat(),))] == [(2, 1)]


def test_the_csv_export_has_a_column_per_channel(day):
    found = day.report("window")
    names, _, rows = reports.export.table(found)
    total = dict(zip(names, rows[-1], strict=True))
    assert (total["rated_keypad"], total["rated_phone"]) == (2, 1)
    lines = list(csv.reader(io.StringIO(reports.export.to_csv(found).lstrip("\ufeff"))))
    assert "手机评价 Rated by phone" in lines[1]


def test_days_summed_up_before_the_channels_keep_their_sums(tmp_path):
    """A store summed up before migration 0018 had only keypad ratings (no other channel
    existed): the migration counts them there, so its cached days stay right, unsummed."""
    db = Database(tmp_path / DB_FILE)
    db.schema_version()
    with db.transaction() as tx:
        for version, name, sql in available_migrations():
            if version >= 18:
                break
            for statement in split_statements(sql, db.dialect):
                tx.execute(statement)
            tx.execute("INSERT INTO schema_migrations (version, name, applied_at) "
                       "VALUES (?, ?, CURRENT_TIMESTAMP)", (version, name))
        old = ("issued", "called", "served", "no_shows", "transferred", "returned", "expired",
               "wait_n", "wait_s", "serve_n", "serve_s", "within_target",
               "r1", "r2", "r3", "r4", "r5", "not_rated",
               "slips_on_time", "slips_late", "slips_pending")
        values = dict.fromkeys(old, 0) | {"r1": 3, "r2": 2, "r4": 1, "not_rated": 4}
        tx.execute(
            f"INSERT INTO report_counts (day, window_no, clerk, service, {', '.join(old)}) "
            f"VALUES ('2026-11-20', 1, 'clerk1', 'S1', {', '.join('?' * len(old))})",
            tuple(values.values()))
    assert "0018_rating_channels.sql" in db.migrate()
    assert [tuple(r) for r in db.query(
        "SELECT rated_keypad, rated_phone FROM report_counts")] == [(6, 0)]
    db.close()
