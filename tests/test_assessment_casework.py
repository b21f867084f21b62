"""The assessment's casework figures (hub/reports/casework.py) on a month played through the
service in process, with a clock the test moves: every expected figure is written out by hand
from the timeline below (the comments are the oracle), on SQLite and on PostgreSQL.

The month is November 2026 in Asia/Shanghai; working days Monday to Friday (the test hall has
no holidays), so a case opened on Monday 11-02 has callback_due 11-03 (1 working day) and
rectify_due 11-16 (10 working days: 3 4 5 6 9 10 11 12 13 16). Items S2 and S3 are immediate
(no 承诺件), every stay is 4 minutes (within the 15-minute target).

    10-30 (Fri)  a 通报批评 (notice) against clerk3: October, outside the month
    11-02 (Mon)  clerk1..3 at windows 1..3 (SCJG, SCJG, GA)
          w1: T1 rated 5 → case A; T4 rated 4 → case C; T8 rated 1
          w2: T2 rated 4 → case B; T5 rated 2;          T7 rated 5 → case F
          w3: T3 rated 1;          T6 rated 4 → case E
          a complaint about window 3, staff no. JZ003 (clerk3) → case D
          clerk1 appeals C
          (midnight: the 2nd is summed up into the report tables)
    11-03        callback A, B, D, E; rectify A; the supervisor upholds C's appeal
                 (after the 2nd was summed up); clerk2 appeals F
    11-04        rectify B; close E as unfounded (from 已回访); F's appeal rejected
    11-09 (Mon)  the office draws week 11-02 (every window had ≤ 3 tickets: all drawn) and
                 reviews T1 with a fail (a finding: clerk1, w1) and T5 all pass (clerk2, w2)
    11-13        A rectified (on time: ≤ 11-16)
    11-16        A closed, founded
    11-18        B rectified (late: > 11-16)
    11-20        a 批评教育 (criticism) against clerk1, a 效能告诫 (warning) against clerk2
    12-01        the report of November is read
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hub import reports
from hub.auth import Principal, Role
from hub.runtime import DB_FILE, open_database
from hub.service import HallService
from hub.store.accounts import Accounts
from hub.store.database import Database
from tests.hubproc import PASSWORD
from tests.test_reports import hall_config
from tests.test_store import KIOSK, Clock, act, sign_in

ZONE = ZoneInfo("Asia/Shanghai")
MONTH = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
READ_ON = dt.date(2026, 12, 1)
SUPER = Principal(role=Role.SUPERVISOR, name="super")


def local(month: int, day: int, h: int = 10, m: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, h, m, tzinfo=ZONE).astimezone(dt.UTC)


def clerk(no: int) -> Principal:
    return Principal(role=Role.CLERK, name=f"clerk{no}", window=no)


class Month:
    """The hall after the month in the module docstring."""

    def __init__(self, data_dir, db_url: str | None = None) -> None:
        self.cfg = hall_config()
        if db_url:
            self.db = open_database(data_dir, url=db_url)
        else:
            self.db = Database(data_dir / DB_FILE)
            self.db.migrate()
        accounts = Accounts(self.db)
        for no in (1, 2, 3):
            accounts.add_user(f"clerk{no}", PASSWORD, Role.CLERK, f"职员{no}", f"JZ{no:03d}",
                              local(10, 1, 9))
        accounts.add_user("super", PASSWORD, Role.SUPERVISOR, "督查员", "JZ900", local(10, 1, 9))
        self.clock = Clock(local(10, 30))
        self.hall = HallService(self.cfg, self.db, clock=self.clock)
        self.tickets: dict[str, dict] = {}
        self.cases: dict[str, str] = {}  # letter -> case_id
        self.summed_before_the_appeal: list[str] = []
        self.play()

    # --- moving the hall ------------------------------------------------------------------

    def at(self, month: int, day: int, h: int = 10, m: int = 0) -> None:
        self.clock.now = local(month, day, h, m)
        self.hall.tick()  # a new day rolls over (and the closed one is summed up)

    def serve(self, no: int, name: str, code: str, level: int, h: int, m: int) -> None:
        """Issue, call, serve 4 minutes and rate at window `no`, from h:m on 11-02."""
        self.at(11, 2, h, m)
        self.tickets[name] = self.hall.issue_ticket(KIOSK, code)
        act(self.hall, no, "call", number=self.tickets[name]["number"])
        self.at(11, 2, h, m + 4)
        act(self.hall, no, "finish")
        hall = self.hall
        rid = hall.state.tickets[self.tickets[name]["id"]].rating.request_id
        hall.execute(None, lambda s, now: hall.engine.rate(s, now, no, rid, level))

    def case_of(self, name: str) -> str:
        return self.db.query("SELECT case_id FROM cases WHERE ticket_id = ?",
                             (self.tickets[name]["id"],))[0][0]

    def step(self, letter: str, who: Principal, action: str, **fields) -> None:
        self.hall.casework.step(who, self.cases[letter], {"action": action, **fields})

    def play(self) -> None:
        hall = self.hall
        hall.staff_records.add(SUPER, "clerk3", "notice", "第十八条", "十月的通报")
        self.at(11, 2, 9, 0)
        for no in (1, 2, 3):
            sign_in(hall, no)
        self.serve(1, "T1", "S2", 5, 10, 0)
        self.serve(2, "T2", "S2", 4, 10, 0)
        self.serve(3, "T3", "S3", 1, 10, 0)
        self.serve(1, "T4", "S2", 4, 10, 10)
        self.serve(2, "T5", "S2", 2, 10, 10)
        self.serve(3, "T6", "S3", 4, 10, 10)
        self.serve(2, "T7", "S2", 5, 10, 20)
        self.serve(1, "T8", "S2", 1, 10, 20)
        self.at(11, 2, 11, 0)
        hall.file_complaint(KIOSK, {"category": "attitude", "text": "态度生硬", "window": 3,
                                    "staff_no": "JZ003"})
        for letter, name in (("A", "T1"), ("B", "T2"), ("C", "T4"), ("E", "T6"), ("F", "T7")):
            self.cases[letter] = self.case_of(name)
        self.cases["D"] = self.db.query(
            "SELECT case_id FROM cases WHERE kind = 'complaint'")[0][0]
        self.step("C", clerk(1), "appeal", grounds="评价人误按")
        self.at(11, 3)
        self.summed_before_the_appeal = [r[0] for r in self.db.query(
            "SELECT day FROM report_days ORDER BY day")]
        for letter in "ABDE":
            self.step(letter, SUPER, "callback", result="已联系办事人", reached=True)
        self.step("A", SUPER, "rectify", cause="材料告知不清", plan="重新培训")
        self.step("C", SUPER, "decide_appeal", upheld=True, note="录像显示误按")
        self.step("F", clerk(2), "appeal", grounds="与事实不符")
        self.at(11, 4)
        self.step("B", SUPER, "rectify", cause="等候过长", plan="增开窗口")
        self.step("E", SUPER, "close", reply="经核实不属实", verdict="unfounded")
        self.step("F", SUPER, "decide_appeal", upheld=False, note="申诉理由不成立")
        self.at(11, 9)
        draw = hall.spot_checks.draw(SUPER, dt.date(2026, 11, 2))
        fail = {"informed": "fail", "time_limit": "pass", "outcome": "pass",
                "return_justified": "na"}
        ok = {**fail, "informed": "pass"}
        for name, answers in (("T1", fail), ("T5", ok)):
            hall.spot_checks.review(SUPER, draw["draw_id"], self.tickets[name]["id"], answers)
        self.at(11, 13)
        self.step("A", SUPER, "rectified", fix="已培训")
        self.at(11, 16)
        self.step("A", SUPER, "close", reply="已整改并答复", verdict="founded")
        self.at(11, 18)
        self.step("B", SUPER, "rectified", fix="已增开")
        self.at(11, 20)
        hall.staff_records.add(SUPER, "clerk1", "criticism", "第十六条", "未一次告知")
        hall.staff_records.add(SUPER, "clerk2", "warning", "第十八条", "差评整改超期")
        self.at(12, 1, 9, 0)

    # --- reading ----------------------------------------------------------------------------

    def report(self, by: str) -> dict:
        return reports.report(self.db, self.cfg, *MONTH, by, self.hall.state.day, self.clock())

    def assessment(self, by: str) -> dict:
        return reports.assessment(self.db, self.cfg, *MONTH, by, self.hall.state.day,
                                  self.clock())

    def close(self) -> None:
        self.db.close()


def keyed(found: dict) -> dict[str, dict]:
    return {r["key"]: r for r in found["rows"]}


CASEWORK = ("cases", "called_back", "callback_share", "rectify_needed", "rectified",
            "rectified_share", "rectified_on_time", "rectified_on_time_share", "appeals",
            "appeals_upheld", "complaints_verified", "complaints_excluded", "ratings_excluded",
            "spot_reviewed", "spot_findings", "records")


def casework(row: dict) -> dict:
    return {k: row[k] for k in CASEWORK}


def figures(*values) -> dict:
    """The casework figures in CASEWORK's order (the columns of the tables below)."""
    return dict(zip(CASEWORK, values, strict=True))


# The figures by window, by hand from the timeline:
#   cases (rating and complaint): w1 A C; w2 B F; w3 E D. Called back: A; B; E D.
#   to rectify (founded 差评, appeal not upheld): w1 A (C upheld); w2 B (F never verified);
#   w3 none (E unfounded). Rectified: A (11-13 ≤ 11-16: on time), B (11-18: late).
#   appeals: w1 C upheld; w2 F rejected. Complaints verified: w3 D (called back).
#   ratings excluded: w1 T4 (C's appeal upheld). Spot checks: w1 T1 a finding; w2 T5 passed.
#   Efficiency records are a person's: no window row has them.
#       cases  back  share   to-rect rect share on-time share  appeals upheld
#       complaints verified/excluded  ratings excluded  reviewed findings  records
BY_WINDOW = {
    "1": figures(2, 1, 0.5, 1, 1, 1.0, 1, 1.0, 1, 1, 0, 0, 1, 1, 1, None),
    "2": figures(2, 1, 0.5, 1, 1, 1.0, 0, 0.0, 1, 0, 0, 0, 0, 1, 0, None),
    "3": figures(2, 2, 1.0, 0, 0, None, 0, None, 0, 0, 1, 0, 0, 0, 0, None),
}
# The hall: 6 cases, 4 called back (4/6 = 0.6667); 2 to rectify, both rectified, 1 on time;
# 2 appeals, 1 upheld; 1 complaint verified; 1 rating excluded; 2 reviews, 1 finding;
# November's records: clerk1's criticism and clerk2's warning (clerk3's notice is October's).
TOTAL = figures(6, 4, 0.6667, 2, 2, 1.0, 1, 0.5, 2, 1, 1, 0, 1, 2, 1,
                {"criticism": 1, "notice": 0, "warning": 1})
# Departments: SCJG = windows 1 + 2 (GA = window 3 alone): 4 cases, 2 called back; A and B
# to rectify and rectified, A on time; C upheld, F rejected; T4 excluded; T1 and T5 reviewed.
SCJG = figures(4, 2, 0.5, 2, 2, 1.0, 1, 0.5, 2, 1, 0, 0, 1, 2, 1, None)
CLERK_RECORDS = {"clerk1": {"criticism": 1, "notice": 0, "warning": 0},
                 "clerk2": {"criticism": 0, "notice": 0, "warning": 1},
                 "clerk3": {"criticism": 0, "notice": 0, "warning": 0}}


def check_the_month(m: Month) -> None:
    """Every figure of the oracle (shared by the SQLite and PostgreSQL runs)."""
    by_window = keyed(m.report("window"))
    assert {k: casework(r) for k, r in by_window.items()} == BY_WINDOW
    assert casework(m.report("window")["total"]) == TOTAL
    # Ratings after the upheld appeal: w1 keeps T1 (5) and T8 (1), T4 (4) is out: 1 of 2;
    # w2 T2 (4) T5 (2) T7 (5): 1 of 3; w3 T3 (1) T6 (4): 1 of 2; the hall 3 of 7.
    assert by_window["1"]["ratings"] == {"1": 1, "2": 0, "3": 0, "4": 0, "5": 1}
    assert (by_window["1"]["rated"], by_window["1"]["satisfaction"]) == (2, 0.5)
    assert (by_window["2"]["rated"], by_window["2"]["satisfaction"]) == (3, 0.3333)
    assert (by_window["3"]["rated"], by_window["3"]["satisfaction"]) == (2, 0.5)
    total = m.report("window")["total"]
    assert (total["rated"], total["satisfaction"]) == (7, 0.4286)
    # Each clerk worked one window: the same figures, and each one's own records.
    by_clerk = keyed(m.report("clerk"))
    for no in (1, 2, 3):
        assert casework(by_clerk[f"clerk{no}"]) == {
            **BY_WINDOW[str(no)], "records": CLERK_RECORDS[f"clerk{no}"]}
    # Departments: SCJG = windows 1 + 2, GA = window 3.
    by_department = keyed(m.report("department"))
    assert casework(by_department["SCJG"]) == SCJG
    assert casework(by_department["GA"]) == BY_WINDOW["3"]
    assert by_department["SCJG"]["satisfaction"] == 0.4  # T8, T5 of T1 T8 T2 T5 T7: 2 of 5
    # Items do not hold casework, but an excluded rating leaves its item's figures too.
    by_item = keyed(m.report("service"))
    assert by_item["S2"]["cases"] is None and by_item["S2"]["ratings_excluded"] == 1
    check_the_assessment(m)


def check_the_assessment(m: Month) -> None:
    """Default weights: served 0.2, satisfaction 0.4, within_target 0.2, on_time 0.2 (no 承诺件:
    left out), rectification 0.1, rectify_on_time 0.1, callback 0 → the sum is 1.0.
    Penalties: complaint 2, finding 2, criticism 1, notice 3, warning 5."""
    found = m.assessment("clerk")
    c = keyed(found)
    # clerk1: served 3 of most 3 → 20; satisfaction 0.5 → 20; within target 1.0 → 20;
    #   rectified 1.0 → 10; on time 1.0 → 10; callback × 0 → 0 = 80; a finding −2 and a
    #   criticism −1 → 77.0
    assert c["clerk1"]["score"] == 77.0
    assert c["clerk1"]["parts"]["findings"] == -2.0 and c["clerk1"]["parts"]["records"] == -1.0
    # clerk2: 20 + 100 × 0.4 × 0.3333 = 13.332 + 20 + 10 + on time 0.0 → 0 = 63.332;
    #   a warning −5 → 58.332
    assert c["clerk2"]["score"] == 58.33
    # clerk3: served 2 of 3 → 13.3333; 20; 20; nothing to rectify: the hall's 1.0 → 10 and
    #   0.5 → 5 = 68.3333; one complaint −2 → 66.3333 (October's notice is not November's)
    assert c["clerk3"]["score"] == 66.33
    assert [(r["key"], r["rank"]) for r in found["rows"]] == [
        ("clerk1", 1), ("clerk3", 2), ("clerk2", 3)]
    # 评先评优: clerk2 has a 效能告诫 in 2026: shown, ranked by score, not ranked for awards.
    assert [(r["key"], r["award_excluded"], r["award_rank"]) for r in found["rows"]] == [
        ("clerk1", False, 1), ("clerk3", False, 2), ("clerk2", True, None)]
    # A department ranking exists too (SCJG served 6, GA 2).
    d = keyed(m.assessment("department"))
    assert set(d) == {"SCJG", "GA"} and "award_rank" not in d["GA"]


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    found = Month(tmp_path_factory.mktemp("month"))
    yield found
    found.close()


def test_the_month_on_sqlite(month):
    assert month.hall.state.day == READ_ON
    check_the_month(month)


def test_the_upheld_appeal_changed_a_day_already_summed_up(month):
    """C's appeal was upheld on the 3rd, after the 2nd was summed up at midnight: the
    figures read the exclusion, the day's sums stay as they were (never re-summed)."""
    assert "2026-11-02" in month.summed_before_the_appeal
    rolled = month.db.query("SELECT rolled_at FROM report_days WHERE day = '2026-11-02'")
    w1 = keyed(month.report("window"))["1"]
    assert (w1["ratings"]["4"], w1["ratings_excluded"], w1["satisfaction"]) == (0, 1, 0.5)
    # the summed-up day still holds the rating (kept: it is the ticket's), read out
    stored = month.db.query(
        "SELECT SUM(r4) FROM report_counts WHERE day = '2026-11-02' AND window_no = 1")
    assert stored[0][0] == 1
    assert month.db.query(
        "SELECT rolled_at FROM report_days WHERE day = '2026-11-02'") == rolled


@pytest.mark.slow
def test_the_month_on_postgresql(tmp_path, month):
    from tests.pgredis import postgres_or_skip

    with postgres_or_skip() as server:
        on_pg = Month(tmp_path, db_url=server.url)
        try:
            check_the_month(on_pg)
            for by in ("window", "clerk", "department"):
                ours, theirs = month.report(by), on_pg.report(by)
                for found in (ours, theirs):
                    found.pop("generated_at", None)
                assert theirs == ours, by
        finally:
            on_pg.close()


@pytest.mark.parametrize(("section", "key"), [
    ({"rectification": 11.0}, "assessment.rectification"),
    ({"callback": -0.1}, "assessment.callback"),
    ({"warning_penalty": -5.0}, "assessment.warning_penalty"),
    ({"finding_penalty": 101.0}, "assessment.finding_penalty"),
    # the casework weights alone do not make a formula: a hall without casework would score 0
    ({"served": 0.0, "satisfaction": 0.0, "within_target": 0.0, "on_time": 0.0,
      "rectification": 1.0}, "assessment"),
])
def test_the_new_assessment_keys_are_checked(section, key):
    from hub.config import ConfigError

    with pytest.raises(ConfigError) as err:
        hall_config(**section)
    assert err.value.key == key


def test_no_casework_scores_as_before(tmp_path):
    """The new weights and penalties change nothing where there is no casework: a ranking
    of a month without 差评, complaints, reviews or records, scored by hand with the old
    formula."""
    cfg = hall_config()
    db = Database(tmp_path / DB_FILE)
    db.migrate()
    clock = Clock(local(11, 2, 9, 0))
    hall = HallService(cfg, db, clock=clock)
    for no in (1, 2):
        sign_in(hall, no)
    for no, level in ((1, 1), (2, 3)):
        ticket = hall.issue_ticket(KIOSK, "S2")
        act(hall, no, "call", number=ticket["number"])
        clock.now += dt.timedelta(minutes=4)
        act(hall, no, "finish")
        rid = hall.state.tickets[ticket["id"]].rating.request_id
        hall.execute(None, lambda s, now, no=no, rid=rid, level=level:
                     hall.engine.rate(s, now, no, rid, level))
    found = reports.assessment(db, cfg, dt.date(2026, 11, 2), dt.date(2026, 11, 2), "window",
                               hall.state.day, clock())
    # served 1 of 1 → 100 × 0.2 / 0.8 = 25; satisfaction 1.0 → 50; within 1.0 → 25 = 100
    assert [r["score"] for r in found["rows"]] == [100.0, 100.0]
    assert set(found["rows"][0]["parts"]) >= {"rectification", "findings", "records"}
    assert found["rows"][0]["parts"]["rectification"] == 0.0
    db.close()


# --- over HTTP, against a real hub -----------------------------------------------------------

# The hub's clock: the morning the month is read (its day is then December's first).
READ_MORNING = dt.datetime(2026, 12, 1, 9, 0, tzinfo=ZONE).isoformat()


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    from tests.hubproc import HubProcess

    data = tmp_path_factory.mktemp("hub")
    Month(data).close()
    found = HubProcess(data, clock=READ_MORNING)
    found.start()
    yield found
    found.stop()


def test_the_api_answers_the_month(hub):
    import csv
    import io
    import zipfile

    import requests

    auth = hub.auth(hub.login("super"))
    q = "from=2026-11-01&to=2026-11-30"

    def get(path: str) -> requests.Response:
        r = requests.get(f"{hub.url}/api/v1/{path}", headers=auth, timeout=30)
        assert r.status_code == 200, (path, r.text)
        return r

    w = keyed(get(f"reports?{q}&by=window").json())
    assert {k: casework(r) for k, r in w.items()} == BY_WINDOW
    d = keyed(get(f"reports?{q}&by=department").json())
    assert (d["SCJG"]["rectified_on_time_share"], d["GA"]["complaints_verified"]) == (0.5, 1)
    found = get(f"assessment?{q}&by=clerk").json()
    assert [(r["key"], r["score"], r["award_excluded"], r["award_rank"])
            for r in found["rows"]] == [("clerk1", 77.0, False, 1), ("clerk3", 66.33, False, 2),
                                        ("clerk2", 58.33, True, None)]
    assert found["formula"]["warning_penalty"] == 5.0
    assert [r["key"] for r in get(f"assessment?{q}&by=department").json()["rows"]] == [
        "SCJG", "GA"]  # SCJG: served 6 of most 6

    lines = list(csv.reader(io.StringIO(
        get(f"assessment?{q}&by=clerk&format=csv").content.decode("utf-8-sig"))))
    header = lines[1]
    body = {row[header.index("编码 Key")]: row for row in lines[2:]}
    for title, clerk2, total in (("差评整改率 Rectification share", "1.0", "1.0"),
                                 ("按期整改率 On-time rectification", "0.0", "0.5"),
                                 ("回访率 Callback share", "0.5", "0.6667"),
                                 ("申诉成立剔除评价 Ratings excluded by upheld appeal", "0", "1"),
                                 ("抽查发现问题 Spot-check findings", "0", "1"),
                                 ("效能告诫 Efficiency warning", "1", "1"),
                                 ("不参加评先评优 Out of awards", "是 yes", "")):
        assert (body["clerk2"][header.index(title)], body[""][header.index(title)]) == (
            clerk2, total), title
    book = get(f"reports?{q}&by=department&format=xlsx").content
    with zipfile.ZipFile(io.BytesIO(book)) as z:
        strings = z.read("xl/sharedStrings.xml").decode()
    assert "差评整改率 Rectification share" in strings and "市市场监督管理局" in strings


@pytest.mark.slow
def test_the_reports_page_shows_the_casework(hub):  # noqa: PLR0915 - one walk, in order
    """The office's reports page in Chromium: the casework table by window and by department,
    the KPIs, and the clerks' ranking with clerk2 out of 评先评优; axe finds nothing serious.
    Screenshot: tests/artifacts/office-reports-casework-1920x1080.png."""
    import shutil

    if not shutil.which("chromium"):
        pytest.skip("no Debian chromium (scripts/system-deps.sh)")
    pytest.importorskip("playwright.sync_api")
    from playwright.sync_api import sync_playwright

    from tests.test_display_pages import (
        CHROMIUM,
        CHROMIUM_ARGS,
        TIMEOUT_MS,
        no_serious_axe_violations,
        only_local,
        open_page,
        shot,
    )

    def cells(selector: str) -> list[str]:
        return page.eval_on_selector_all(selector, "cells => cells.map(c => c.textContent)")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = open_page(browser, f"{hub.url}/office/reports", 1920, 1080)
            page.fill("#username", "super")
            page.fill("#password", PASSWORD)
            page.click("#signin-form button[type=submit]")
            page.wait_for_selector("#reports:not([hidden])", timeout=TIMEOUT_MS)
            page.select_option("#period", "month")
            page.fill("#anchor", "2026-11-15")
            page.select_option("#by", "window")
            page.click("#run")
            page.wait_for_function(
                "() => document.querySelectorAll('#casework-table tbody tr').length === 3",
                timeout=TIMEOUT_MS)
            head = " ".join(cells("#casework-table thead th"))
            for title in ("差评整改率", "Rectification share", "按期整改率", "回访率",
                          "申诉成立", "投诉已核实", "抽查发现问题", "效能告诫"):
                assert title in head, title
            # name, cases, called back, callback share, to rectify, rectified, share, on time,
            # on-time share, appeals, upheld, excluded, complaints, verified, reviewed,
            # findings, then the records ("—" on a window's row: they are a person's)
            assert cells("#casework-table tbody tr:nth-child(2) > *") == [
                "2号窗口（2）", "2", "1", "50.0%", "1", "1", "100.0%", "0", "0.0%", "1", "0",
                "0", "0", "0", "1", "0", "—", "—", "—"]
            assert cells("#casework-table tfoot td")[:8] == [
                "6", "4", "66.7%", "2", "2", "100.0%", "1", "50.0%"]
            kpis = page.text_content("#kpis")
            assert "差评整改率" in kpis and "50.0%" in kpis
            page.select_option("#assess-by", "clerk")
            page.wait_for_function(
                "() => [...document.querySelectorAll('#assess-table tbody tr')]"
                ".some(tr => tr.textContent.includes('效能告诫'))", timeout=TIMEOUT_MS)
            rows = [cells(f"#assess-table tbody tr:nth-child({i}) > *")[:4] for i in (1, 2, 3)]
            assert [r[1] for r in rows] == ["职员1（clerk1）", "职员3（clerk3）", "职员2（clerk2）"]
            assert [r[3] for r in rows][:2] == ["1", "2"]
            assert rows[2][3].startswith("不参加")
            # The year's ranking (评先评优 is yearly): the same standing, the warning is 2026's.
            page.select_option("#period", "year")
            page.click("#run")
            page.wait_for_function(
                "() => document.querySelector('#range-line').textContent.includes('2026-12-31')"
                " && [...document.querySelectorAll('#assess-table tbody tr')]"
                ".some(tr => tr.textContent.includes('效能告诫'))", timeout=TIMEOUT_MS)
            rows = [cells(f"#assess-table tbody tr:nth-child({i}) > *")[:4] for i in (1, 2, 3)]
            assert [(r[1], r[3]) for r in rows][:2] == [("职员1（clerk1）", "1"),
                                                         ("职员3（clerk3）", "2")]
            assert rows[2][1] == "职员2（clerk2）" and rows[2][3].startswith("不参加")
            page.select_option("#by", "department")
            page.wait_for_function(
                "() => [...document.querySelectorAll('#casework-table tbody th')]"
                ".some(th => th.textContent.includes('市市场监督管理局'))", timeout=TIMEOUT_MS)
            page.select_option("#assess-by", "department")
            page.wait_for_function(
                "() => [...document.querySelectorAll('#assess-table tbody th')]"
                ".some(th => th.textContent.includes('市公安局'))", timeout=TIMEOUT_MS)
            page.wait_for_timeout(300)
            shot(page, "office-reports-casework-1920x1080.png")
            no_serious_axe_violations(page)
            only_local(page, hub.url)
            assert not page.errors, page.errors
        finally:
            browser.close()


def test_a_complaint_upheld_on_appeal_is_not_deducted():
    """score_rows on two hand-made rows: the same but for one complaint of two taken back by
    an upheld appeal, and records (a window row has none: None, not deducted)."""
    cfg = hall_config()
    base = {"served": 10, "satisfaction": 1.0, "within_target_share": 1.0,
            "slips_on_time_share": None, "rectified_share": None,
            "rectified_on_time_share": None, "callback_share": None, "no_show_share": 0.0,
            "pause_by_reason": {}, "complaints": 2, "complaints_excluded": 0,
            "spot_findings": 0, "records": None}
    rows = [{**base, "key": "1"}, {**base, "key": "2", "complaints_excluded": 1},
            {**base, "key": "clerk9", "records": {"criticism": 1, "notice": 1, "warning": 1}}]
    total = {**base, "slips_on_time_share": None}
    scored = {r["key"]: r for r in reports.score_rows(cfg, rows, total)}
    # served 10 of 10 → 100 × 0.2 / 0.8 = 25; satisfaction 50; within target 25 = 100
    assert scored["1"]["score"] == 96.0  # two complaints × 2
    assert scored["2"]["score"] == 98.0  # one, the other's appeal upheld
    assert scored["clerk9"]["score"] == 87.0  # 96 − (1 + 3 + 5)
