"""Statistics and assessment (hub/reports/) on a small day built through the service
in process, with a clock the test moves. Every expected figure is written out with the
arithmetic that gives it: the comments are the oracle, computed by hand from the timeline.

The day (local time, Asia/Shanghai, Tuesday 2026-11-24; every item's target is 15 min):

    10:00 clerk1..3 sign in at windows 1..3; issue T1 (S1), T2 (S2), T3 (S3)
    10:05 w1 calls T1, w3 calls T3              waits T1 5 min, T3 5 min
    10:07 w2 calls T2                           wait T2 7 min
    10:10 w3 finishes T3 (5 min); rated 1       非常满意
    10:12 w1 finishes T1 (7 min, 承诺件 → slip due 11-27); rated 4   不满意
          w2 transfers T2 to S3
    10:15 w3 calls T2
    10:20 issue T4 (S1), T6 (S1)
    10:25 w2 calls T6                           wait 5 min
    10:27 w1 calls T4, 10:28 no-show            wait 7 min
    10:30 w2 finishes T6 (5 min, slip due 11-27); rated 2   满意
    10:31 w1 calls T4 again, 10:32 no-show (dropped)
    10:35 w3 finishes T2 (20 min: over target); 10:36 its rating times out (not rated)
    10:40-10:50 w2 paused 暂离 (600 s);  11:00-11:30 w1 paused 会议 (1800 s)
    11:35 a complaint about window 3, staff no. JZ003 (clerk3)
    11:40 issue T5 (S2), never called: expires when the day rolls over
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tomllib
import zipfile
from zoneinfo import ZoneInfo

import pytest

from hub import reports
from hub.auth import Role
from hub.config import ConfigError, parse_config
from hub.runtime import DB_FILE
from hub.service import HallService
from hub.store.accounts import Accounts
from hub.store.database import Database
from tests.hubproc import HALL_24H, PASSWORD
from tests.test_store import KIOSK, SUPER, Clock, act, sign_in

ZONE = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 11, 24)
NEXT = dt.date(2026, 11, 25)
# The clock of a hub or `onestop reports settle` started the morning after the played day: the
# closed days to sum up are DAY alone, whatever the date the suite runs on.
ON_THE_NEXT_MORNING = dt.datetime(2026, 11, 25, 9, 0, tzinfo=ZONE).isoformat()


def local(h: int, m: int, day: int = 24) -> dt.datetime:
    return dt.datetime(2026, 11, day, h, m, tzinfo=ZONE).astimezone(dt.UTC)


def hall_config(**assessment):
    raw = tomllib.loads(HALL_24H.read_text(encoding="utf-8"))
    if assessment:
        raw["assessment"] = assessment
    return parse_config(raw, str(HALL_24H))


class Day:
    """The hall after the day in the module docstring (rolled over to the 25th)."""

    def __init__(self, data_dir, cfg=None, users: bool = True, db_url: str | None = None) -> None:
        self.cfg = cfg or hall_config(pause_exempt=["会议"])
        if db_url:
            from hub.runtime import open_database

            self.db = open_database(data_dir, url=db_url)
        else:
            self.db = Database(data_dir / DB_FILE)
            self.db.migrate()
        accounts = Accounts(self.db)
        for no in (1, 2, 3) if users else ():
            accounts.add_user(f"clerk{no}", PASSWORD, Role.CLERK, f"职员{no}", f"JZ{no:03d}",
                              local(9, 0))
        if users:
            accounts.add_user("super", PASSWORD, Role.SUPERVISOR, "督查员", "JZ900", local(9, 0))
        self.clock = Clock(local(10, 0))
        self.hall = HallService(self.cfg, self.db, clock=self.clock)
        self.tickets: dict[str, dict] = {}
        self.play()

    def at(self, h: int, m: int, day: int = 24) -> None:
        self.clock.now = local(h, m, day)

    def issue(self, name: str, code: str) -> None:
        self.tickets[name] = self.hall.issue_ticket(KIOSK, code)

    def call(self, no: int, name: str) -> None:
        act(self.hall, no, "call", number=self.tickets[name]["number"])

    def rate(self, no: int, name: str, level: int) -> None:
        hall = self.hall
        rid = hall.state.tickets[self.tickets[name]["id"]].rating.request_id
        hall.execute(None, lambda s, now: hall.engine.rate(s, now, no, rid, level))

    def play(self) -> None:  # noqa: PLR0915 - the timeline, in order
        hall, at = self.hall, self.at
        for no in (1, 2, 3):
            sign_in(hall, no)
        for name, code in (("T1", "S1"), ("T2", "S2"), ("T3", "S3")):
            self.issue(name, code)
        at(10, 5)
        self.call(1, "T1")
        self.call(3, "T3")
        at(10, 7)
        self.call(2, "T2")
        at(10, 10)
        act(hall, 3, "finish")
        self.rate(3, "T3", 1)
        at(10, 12)
        act(hall, 1, "finish")
        self.rate(1, "T1", 4)
        act(hall, 2, "transfer", service="S3", reason="转办")
        at(10, 15)
        self.call(3, "T2")
        at(10, 20)
        self.issue("T4", "S1")
        self.issue("T6", "S1")
        at(10, 25)
        self.call(2, "T6")
        at(10, 27)
        self.call(1, "T4")
        at(10, 28)
        act(hall, 1, "skip")
        at(10, 30)
        act(hall, 2, "finish")
        self.rate(2, "T6", 2)
        at(10, 31)
        self.call(1, "T4")
        at(10, 32)
        act(hall, 1, "skip")
        at(10, 35)
        act(hall, 3, "finish")
        at(10, 36)
        hall.tick()  # the 30 s rating window of T2 has passed: not rated
        at(10, 40)
        act(hall, 2, "pause", reason="暂离")
        at(10, 50)
        act(hall, 2, "resume")
        at(11, 0)
        act(hall, 1, "pause", reason="会议")
        at(11, 30)
        act(hall, 1, "resume")
        at(11, 35)
        hall.file_complaint(KIOSK, {"category": "attitude", "text": "态度生硬", "window": 3,
                                    "staff_no": "JZ003"})
        at(11, 40)
        self.issue("T5", "S2")
        at(0, 1, 25)
        hall.tick()  # midnight: the day rolls over, T5 expires

    def report(self, by: str, start: dt.date = DAY, end: dt.date = DAY,
               open_day: dt.date | None = None) -> dict:
        return reports.report(self.db, self.cfg, start, end, by, open_day or self.hall.state.day,
                              self.clock())

    def close(self) -> None:
        self.db.close()


@pytest.fixture
def day(tmp_path):
    found = Day(tmp_path)
    yield found
    found.close()


def rows_by_key(found: dict) -> dict[str, dict]:
    return {r["key"]: r for r in found["rows"]}


def test_the_hall_rolled_over(day):
    assert day.hall.state.day == NEXT


def test_the_day_end_sums_the_closed_day_up(day):
    """Housekeeping sums the day just closed at midnight, so no report has to."""
    assert [tuple(r) for r in day.db.query("SELECT day, tickets FROM report_days")] == [
        (DAY.isoformat(), 6)]


@pytest.mark.slow
def test_the_same_figures_on_postgresql(day, tmp_path):
    """The report SQL is portable: the same day played on PostgreSQL gives the same report."""
    from tests.pgredis import Postgres, unavailable

    if why := unavailable():
        pytest.skip(why)
    pg = Postgres().start()
    try:
        on_pg = Day(tmp_path / "pg", db_url=pg.url)
        try:
            for by in reports.GROUPINGS:
                ours, theirs = day.report(by), on_pg.report(by)
                for found in (ours, theirs):
                    found.pop("generated_at", None)
                assert theirs == ours, by
            assert on_pg.db.query("SELECT COUNT(*) FROM report_days")[0][0] == 1
        finally:
            on_pg.close()
    finally:
        pg.stop()


def test_totals_of_the_day(day):
    t = day.report("service")["total"]
    assert day.report("service")["live_days"] == []  # the 24th is closed: summed up
    assert t["issued"] == 6  # T1 T2 T3 T4 T5 T6
    # calls: T1@1, T3@3, T2@2, T2@3, T6@2, T4@1 twice = 7
    assert t["called"] == 7
    assert t["served"] == 4  # T3, T1, T6, T2
    assert t["no_shows"] == 2  # T4 twice
    assert t["transferred"] == 1  # T2 at window 2
    assert t["returned"] == 0
    assert t["expired"] == 1  # T5
    assert t["no_show_share"] == round(2 / 7, 4)
    # waits (to the first call): T1 300, T3 300, T2 420, T6 300, T4 420 → 1740 / 5 = 348 s
    assert t["wait_mean_s"] == 348.0
    # minute buckets 5 5 7 5 7; nearest rank ceil(0.9 × 5) = 5th of 5,5,5,7,7 → 7
    assert t["wait_p90_min"] == 7
    # service times: T3 300, T1 420, T6 300, T2 1200 → 2220 / 4 = 555 s
    assert t["serve_mean_s"] == 555.0
    assert t["serve_p90_min"] == 20  # ceil(0.9 × 4) = 4th of 5,5,7,20
    assert t["within_target"] == 3  # T2's 20 min is over the 15 min target
    assert t["within_target_share"] == 0.75  # 3 / 4
    assert t["ratings"] == {"1": 1, "2": 1, "3": 0, "4": 1, "5": 0}
    assert (t["rated"], t["not_rated"]) == (3, 1)
    assert t["satisfaction"] == round(2 / 3, 4)  # levels 1-3: T3 (1), T6 (2) of 3 rated
    assert t["complaints"] == 1
    assert t["pause_s"] == 2400.0  # 600 + 1800
    assert t["pause_by_reason"] == {"会议": 1800.0, "暂离": 600.0}
    hours = {h["hour"]: h for h in day.report("service")["by_hour"]}
    assert (hours[10]["issued"], hours[10]["served"]) == (5, 4)  # T1-T4, T6; all served 10:xx
    assert (hours[11]["issued"], hours[11]["served"]) == (1, 0)  # T5
    assert sum(h["issued"] for h in hours.values()) == 6


def test_by_window(day):
    w = rows_by_key(day.report("window"))
    assert list(w) == ["1", "2", "3"]
    one, two, three = w["1"], w["2"], w["3"]
    assert one["issued"] is None  # a ticket is not issued to a window
    assert (one["called"], one["served"], one["no_shows"]) == (3, 1, 2)  # T1; T4 twice
    assert one["no_show_share"] == round(2 / 3, 4)
    assert one["wait_mean_s"] == 360.0  # first calls here: T1 300, T4 420 → 720 / 2
    assert one["serve_mean_s"] == 420.0  # T1
    assert one["ratings"]["4"] == 1 and one["satisfaction"] == 0.0  # 0 of 1 rated
    assert one["pause_by_reason"] == {"会议": 1800.0}
    assert (two["called"], two["served"], two["transferred"]) == (2, 1, 1)  # T2 out, T6 done
    assert two["wait_mean_s"] == 360.0  # T2 420, T6 300 → 720 / 2
    assert two["serve_mean_s"] == 300.0  # T6
    assert two["satisfaction"] == 1.0 and two["pause_s"] == 600.0
    assert (three["called"], three["served"]) == (2, 2)  # T3, T2 (after its transfer)
    assert three["wait_mean_s"] == 300.0  # only T3 was first called here
    assert three["serve_mean_s"] == 750.0  # T3 300, T2 1200 → 1500 / 2
    assert three["serve_p90_min"] == 20 and three["within_target_share"] == 0.5
    assert (three["rated"], three["not_rated"], three["complaints"]) == (1, 1, 1)


def test_by_clerk_names_the_clerk_and_gets_the_complaint_by_staff_number(day):
    c = rows_by_key(day.report("clerk"))
    assert list(c) == ["clerk1", "clerk2", "clerk3"]
    assert c["clerk3"]["name"] == "职员3" and c["clerk3"]["staff_no"] == "JZ003"
    assert c["clerk3"]["complaints"] == 1
    assert c["clerk1"]["pause_s"] == 1800.0 and c["clerk2"]["pause_s"] == 600.0
    assert c["clerk1"]["called"] == 3 and c["clerk2"]["transferred"] == 1


def test_by_service_and_department(day):
    s = rows_by_key(day.report("service"))
    assert list(s) == ["S1", "S2", "S3"]  # the hall file's order; S4 had nothing
    # S1: issued T1 T4 T6; calls T1, T6, T4 ×2; served T1 T6; waits 300 420 300 → 340
    assert (s["S1"]["issued"], s["S1"]["called"], s["S1"]["served"]) == (3, 4, 2)
    assert s["S1"]["wait_mean_s"] == 340.0
    assert s["S1"]["satisfaction"] == 0.5  # T6 (2) yes, T1 (4) no
    # S2: issued T2 T5; T2 called once then transferred; T5 expired
    assert (s["S2"]["issued"], s["S2"]["called"], s["S2"]["transferred"],
            s["S2"]["expired"]) == (2, 1, 1, 1)
    assert s["S2"]["serve_mean_s"] is None and s["S2"]["satisfaction"] is None
    # S3: issued T3; calls T3 and T2 (as S3); served both
    assert (s["S3"]["issued"], s["S3"]["called"], s["S3"]["served"]) == (1, 2, 2)
    assert s["S3"]["complaints"] == 0  # complaints are about windows, not items
    d = rows_by_key(day.report("department"))
    assert list(d) == ["SCJG", "GA"]
    # SCJG = S1 + S2: issued 3 + 2, called 4 + 1; windows 1 and 2 paused 1800 + 600
    assert (d["SCJG"]["issued"], d["SCJG"]["called"], d["SCJG"]["pause_s"]) == (5, 5, 2400.0)
    assert d["GA"]["complaints"] == 1  # window 3 is GA's


def test_summed_up_equals_live_and_survives_a_restart(day):
    def strip(found: dict) -> dict:
        return {k: v for k, v in found.items() if k not in ("live_days", "generated_at")}

    for by in reports.GROUPINGS:
        summed = day.report(by)
        live = day.report(by, open_day=DAY)  # the 24th as if still open: read live
        assert live["live_days"] == [DAY.isoformat()]
        assert strip(live) == strip(summed), by
    # The open-day read forgot the sum; the next report makes it again, in one transaction.
    assert day.db.query("SELECT COUNT(*) FROM report_days")[0][0] == 0
    first = day.report("window")
    assert day.db.query("SELECT tickets FROM report_days")[0][0] == 6
    again = HallService(day.cfg, day.db, clock=day.clock)  # a restarted hub
    assert strip(reports.report(day.db, day.cfg, DAY, DAY, "window", again.state.day)) == strip(
        first)


def test_a_whole_month_reads_its_month_sum(day):
    def strip(found: dict) -> dict:
        return {k: v for k, v in found.items() if k not in ("live_days", "generated_at")}

    november = reports.period("month", DAY)
    december = dt.date(2026, 12, 1)
    by_days = day.report("clerk", DAY, DAY)
    whole = day.report("clerk", *november, open_day=december)
    assert day.db.query("SELECT tickets FROM report_days WHERE day = 'M2026-11'")[0][0] == 6
    assert strip(day.report("clerk", *november, open_day=december)) == strip(whole)
    def no_slips(rows: list[dict]) -> list[dict]:  # the month also has the slips due 11-27
        return [{k: v for k, v in r.items() if not k.startswith("slips_")} for r in rows]

    assert no_slips([*whole["rows"], whole["total"]]) == no_slips(
        [*by_days["rows"], by_days["total"]])
    assert whole["total"]["slips_late"] == 2  # neither was done; December: both late
    # A range across the month reads the month sum and the days around it, each once.
    across = day.report("clerk", dt.date(2026, 10, 20), dt.date(2026, 12, 10),
                        open_day=dt.date(2026, 12, 20))
    assert no_slips([*across["rows"], across["total"]]) == no_slips(
        [*by_days["rows"], by_days["total"]])
    # A month with a day read live has no month sum; reopening a day forgets its month's.
    day.report("clerk", *november, open_day=DAY)
    assert day.db.query("SELECT COUNT(*) FROM report_days WHERE day = 'M2026-11'")[0][0] == 0


def test_slips_due_in_the_range(day):
    # Both slips are due 11-27 (3 working days after the 24th). T1's is done on the 26th;
    # T6's never is: late once the 27th is over.
    t1_slip = day.hall.store.ticket(day.tickets["T1"]["id"]).outcome.slip
    day.at(10, 0, 26)
    day.hall.set_slip_status(SUPER, t1_slip, "in_progress")
    day.hall.set_slip_status(SUPER, t1_slip, "done")
    end = dt.date(2026, 11, 30)
    before = day.report("window", DAY, end, open_day=dt.date(2026, 11, 27))["total"]
    assert (before["slips_on_time"], before["slips_late"], before["slips_pending"]) == (1, 0, 1)
    after = rows_by_key(day.report("window", DAY, end, open_day=end))
    assert (after["1"]["slips_on_time"], after["1"]["slips_late"]) == (1, 0)  # T1 at window 1
    assert (after["2"]["slips_on_time"], after["2"]["slips_late"]) == (0, 1)  # T6 at window 2
    assert after["1"]["slips_on_time_share"] == 1.0 and after["2"]["slips_on_time_share"] == 0.0


def test_assessment_score_and_rank(day):
    found = reports.assessment(day.db, day.cfg, DAY, DAY, "window", day.hall.state.day)
    w = rows_by_key(found)
    # Defaults: served 0.2, satisfaction 0.4, within_target 0.2, on_time 0.2; no 承诺件 is due
    # on the 24th (hall-wide either), so on_time's weight is left out: the sum is 0.8.
    # Most served: window 3 (2).  no_show_penalty 0.1, complaint 2, pause 1 per hour, 会议 exempt.
    # w1: 100×0.2×(1/2)/0.8 = 12.5; satisfaction 0; 100×0.2×1.0/0.8 = 25;
    #     no-shows −100×0.1×(2/3) = −6.6667; 会议 exempt → 30.8333
    assert w["1"]["score"] == 30.83
    # w2: 12.5 + 100×0.4×1.0/0.8 = 50 + 25; pause 600 s = 1/6 h → −0.1667 → 87.3333
    assert w["2"]["score"] == 87.33
    # w3: 100×0.2×(2/2)/0.8 = 25 + 50 + 100×0.2×0.5/0.8 = 12.5; one complaint −2 → 85.5
    assert w["3"]["score"] == 85.5
    assert [(r["key"], r["rank"]) for r in found["rows"]] == [("2", 1), ("3", 2), ("1", 3)]
    assert w["3"]["parts"]["complaints"] == -2.0
    assert found["formula"]["pause_exempt"] == ["会议"]


def test_assessment_weights_come_from_the_hall_file(tmp_path):
    d = Day(tmp_path, hall_config(served=1.0, satisfaction=0.0, within_target=0.0, on_time=0.0,
                                  no_show_penalty=0.0, complaint_penalty=10.0,
                                  pause_penalty_per_hour=0.0))
    try:
        found = reports.assessment(d.db, d.cfg, DAY, DAY, "clerk", d.hall.state.day)
        c = rows_by_key(found)
        # served only: 100 × served / 2; clerk3 served 2 but has a complaint (−10)
        assert (c["clerk1"]["score"], c["clerk2"]["score"], c["clerk3"]["score"]) == (
            50.0, 50.0, 90.0)
        assert [r["rank"] for r in found["rows"]] == [1, 2, 2]  # equal scores share a rank
    finally:
        d.close()


@pytest.mark.parametrize(("section", "key"), [
    ({"served": -1.0}, "assessment.served"),
    ({"complaint_penalty": 1000.0}, "assessment.complaint_penalty"),
    ({"pause_exempt": ["打牌"]}, "assessment.pause_exempt"),
    ({"served": 0.0, "satisfaction": 0.0, "within_target": 0.0, "on_time": 0.0}, "assessment"),
    ({"weight": 1.0}, "assessment"),  # unknown key: "Object contains unknown field weight"
])
def test_assessment_section_is_checked(section, key):
    with pytest.raises(ConfigError) as err:
        hall_config(**section)
    assert err.value.key == key


def test_periods():
    d = dt.date(2026, 2, 18)  # a Wednesday
    assert reports.period("day", d) == (d, d)
    assert reports.period("week", d) == (dt.date(2026, 2, 16), dt.date(2026, 2, 22))
    assert reports.period("month", d) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert reports.period("year", d) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert reports.minutes_up(0) == 0 and reports.minutes_up(60) == 1
    assert reports.minutes_up(60.5) == 2


# --- the API -----------------------------------------------------------------------------


@pytest.fixture
def client(day):
    from hub.web.app import create_app

    app, _ = create_app(day.hall, async_mode="threading")
    return app.test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_api_roles(day, client):
    kiosk = Accounts(day.db).add_token(Role.KIOSK, "k1", day.clock())
    clerk = day.hall.login("clerk1", PASSWORD, 1)["token"]
    assert client.get("/api/v1/reports").status_code == 401
    for token in (kiosk, clerk):
        for path in ("/api/v1/reports", "/api/v1/assessment"):
            assert client.get(path, headers=bearer(token)).status_code == 403


def test_api_refuses_dates_outside_the_calendar(day, client):
    token = day.hall.login("super", PASSWORD, None)["token"]
    for query in ("from=9999-12-31", "to=0001-01-01", "from=1999-12-31&to=2000-01-01"):
        for path in ("/api/v1/reports", "/api/v1/assessment"):
            r = client.get(f"{path}?{query}", headers=bearer(token))
            assert r.status_code == 422, (path, query, r.status_code)


def test_api_json_csv_xlsx(day, client):
    token = day.hall.login("super", PASSWORD, None)["token"]
    q = "from=2026-11-24&to=2026-11-24"
    r = client.get(f"/api/v1/reports?{q}&by=window", headers=bearer(token))
    assert r.status_code == 200, r.json
    assert r.json["total"]["served"] == 4 and len(r.json["rows"]) == 3

    r = client.get(f"/api/v1/reports?{q}&by=service&format=csv", headers=bearer(token))
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    header, body = lines[1], lines[2:]
    assert header[:3] == ["编码 Key", "名称 Name", "取号 Issued"]
    assert [row[0] for row in body] == ["S1", "S2", "S3", ""]  # the total last
    assert body[-1][header.index("办结 Served")] == "4"

    r = client.get(f"/api/v1/assessment?{q}&by=clerk&format=xlsx", headers=bearer(token))
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    with zipfile.ZipFile(io.BytesIO(r.data)) as book:
        assert "xl/worksheets/sheet1.xml" in book.namelist()
        strings = book.read("xl/sharedStrings.xml").decode()
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        workbook = book.read("xl/workbook.xml").decode()
    assert "名次 Rank" in strings and "满意率 Satisfaction" in strings and "职员3" in strings
    assert "考核 Assessment" in workbook
    assert "<f>" not in sheet  # values, not formulas

    for bad in ("by=nobody", "from=24/11/2026", "from=2026-11-25&to=2026-11-24",
                "format=pdf", "from=2020-01-01&to=2026-01-01"):
        assert client.get(f"/api/v1/reports?{bad}", headers=bearer(token)).status_code == 422
    assert client.get(f"/api/v1/assessment?{q}&by=service",
                      headers=bearer(token)).status_code == 422


def test_reports_page_is_served_with_its_csp(client):
    r = client.get("/office/reports")
    assert r.status_code == 200
    html = r.data.decode()
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert "style=" not in html and "<script>" not in html
    assert "reports.js" in html and "reports.css" in html


# --- the page in Chromium (slow) -----------------------------------------------------------


@pytest.mark.slow
def test_reports_page_in_chromium(tmp_path):
    """Sign in, pick the day, see the table and the charts; axe finds nothing serious; nothing
    is loaded from outside. Screenshot: tests/artifacts/office-reports-1920x1080.png."""
    import shutil

    if not shutil.which("chromium"):
        pytest.skip("no Debian chromium (scripts/system-deps.sh)")
    pytest.importorskip("playwright.sync_api")
    from playwright.sync_api import sync_playwright

    from tests.hubproc import HubProcess
    from tests.test_display_pages import (
        CHROMIUM,
        CHROMIUM_ARGS,
        TIMEOUT_MS,
        no_serious_axe_violations,
        only_local,
        open_page,
        shot,
    )

    hub = HubProcess(tmp_path / "data")
    hub.provision()  # clerk1..4 (JZ001..), super
    Day(hub.data_dir, users=False).close()  # the module's day, on 2026-11-24, then rolled over
    hub.start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = open_page(browser, f"{hub.url}/office/reports", 1920, 1080)
                page.fill("#username", "super")
                page.fill("#password", PASSWORD)
                page.click("#signin-form button[type=submit]")
                page.wait_for_selector("#reports:not([hidden])", timeout=TIMEOUT_MS)
                page.select_option("#period", "day")
                page.fill("#anchor", DAY.isoformat())
                page.click("#run")
                page.wait_for_function(
                    "() => document.querySelectorAll('#report-table tbody tr').length >= 2",
                    timeout=TIMEOUT_MS)
                for chart in ("#chart-hours", "#chart-wait", "#chart-satisfaction"):
                    page.wait_for_function(  # a bar drawn, not only the frame
                        "(c) => [...document.querySelectorAll(`${c} svg rect`)]"
                        ".some(r => Number(r.getAttribute('height')) > 0 "
                        "&& Number(r.getAttribute('width')) > 1)", arg=chart, timeout=TIMEOUT_MS)
                page.wait_for_selector("#assess-table tbody tr", timeout=TIMEOUT_MS)
                total = page.text_content("#report-table tfoot tr")
                assert "合计" in total
                served = page.eval_on_selector_all(
                    "#report-table tfoot td", "cells => cells.map(c => c.textContent)")
                assert served[:3] == ["6", "7", "4"], served  # as test_totals_of_the_day
                heads = page.eval_on_selector_all(
                    "#report-table thead th", "cells => cells.map(c => c.textContent)")
                channels = [i for i, h in enumerate(heads) if h.startswith(("评价器", "手机"))]
                # the footer's first cell (合计) is a th, the others td: one place to the left
                assert [served[i - 1] for i in channels] == ["3", "0"], heads  # keypad, phone
                page.select_option("#by", "clerk")
                page.wait_for_function(
                    "() => [...document.querySelectorAll('#report-table tbody th')]"
                    ".some(th => th.textContent.includes('职员1'))", timeout=TIMEOUT_MS)
                with page.expect_download() as dl:
                    page.click("#csv")
                assert dl.value.suggested_filename.endswith(".csv")
                page.wait_for_timeout(300)
                shot(page, "office-reports-1920x1080.png")
                no_serious_axe_violations(page)
                only_local(page, hub.url)
                assert not page.errors, page.errors
            finally:
                browser.close()
    finally:
        hub.stop()


def test_onestop_reports_settle_sums_up_history_ahead_of_time(day, tmp_path):
    """After an upgrade with history, `onestop reports settle` pays for the summing up once,
    outside the hub (the CLI on the same data directory)."""
    import subprocess
    import sys

    with day.db.transaction() as tx:
        for table in ("report_counts", "report_hist", "report_days"):
            tx.execute(f"DELETE FROM {table}")
    config = tmp_path / "hall.toml"
    exempt = '\n[assessment]\npause_exempt = ["会议"]\n'  # as hall_config(pause_exempt=…)
    config.write_text(HALL_24H.read_text(encoding="utf-8") + exempt, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "hub.cli", "--clock", ON_THE_NEXT_MORNING,
                           "reports", "settle", "--config", str(config), "--data", str(tmp_path)],
                          check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"summed up {DAY}" in done.stdout
    assert [tuple(r) for r in day.db.query("SELECT day, tickets FROM report_days")] == [
        (DAY.isoformat(), 6)]


def test_settle_on_the_first_day_says_there_is_nothing_to_sum_up(day, tmp_path):
    """A hall whose only day is today has no closed day: nothing summed, and no range that
    ends before it starts in the log."""
    import subprocess
    import sys

    with day.db.transaction() as tx:
        for table in ("report_counts", "report_hist", "report_days"):
            tx.execute(f"DELETE FROM {table}")
    same_day = dt.datetime(2026, 11, 24, 23, 0, tzinfo=ZONE).isoformat()
    done = subprocess.run([sys.executable, "-m", "hub.cli", "--clock", same_day, "reports",
                           "settle", "--config", str(HALL_24H), "--data", str(tmp_path)],
                          check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "summed up" not in done.stdout + done.stderr
    assert f"no closed day to sum up (the first is {DAY}, today {DAY})" in done.stderr
    assert day.db.query("SELECT day FROM report_days") == []


@pytest.mark.slow
def test_a_starting_hub_sums_up_closed_days_beside_itself(day, tmp_path):
    """A hub that was down over midnight (or upgraded with history) sums the missing days up in
    a child process at start: the office's first report does not pay for them on the hub."""
    import time

    from tests.hubproc import HubProcess

    with day.db.transaction() as tx:
        for table in ("report_counts", "report_hist", "report_days"):
            tx.execute(f"DELETE FROM {table}")
    hub = HubProcess(tmp_path, clock=ON_THE_NEXT_MORNING)  # the played day's data directory
    hub.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            rows = [tuple(r) for r in day.db.query("SELECT day, tickets FROM report_days")]
            if rows:
                break
            time.sleep(0.2)
        assert rows == [(DAY.isoformat(), 6)]
    finally:
        hub.stop()
