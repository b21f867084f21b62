"""Supervision cases under random sequences of acts (hypothesis), on a real HallService and its
SQLite store with a controllable clock: complaints filed (each opens a case), every action by
every kind of staff on any case (legal or not), time passing (days rolled over, the supervision
tick run), and the hub restarted from its store.

Held throughout, against an oracle written from the casework contract (not from the engine):
no case is lost (every complaint has its case, every case is in the store as the oracle has it);
no illegal step is accepted and a refused one changes nothing; every case step past its due day
and not done has its 电子监察 alert after a tick, and no alert of a case step is ever raised twice
— across ticks, day rollovers and restarts.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from hub.auth import Principal, Role
from hub.config import load_config
from hub.engine import DomainError
from hub.engine.model import AlertRaised, CaseOpened, ComplaintFiled
from hub.service import HallService
from hub.store.accounts import Accounts
from hub.store.cases import CaseFilter, Cases
from hub.store.database import Database
from tests.hubproc import HALL_24H, PASSWORD
from tests.test_store import START, Clock

CFG = load_config(HALL_24H)
OFFICE = {"supervisor", "admin"}
FINAL = {"closed", "appeal_upheld"}
STAFF = {
    "zhao": Principal(role=Role.SUPERVISOR, name="zhao"),
    "root": Principal(role=Role.ADMIN, name="root"),
    "c1": Principal(role=Role.CLERK, name="c1", window=1),
    "c2": Principal(role=Role.CLERK, name="c2", window=2),
}
STAFF_NOS = {"JZ001": "c1", "JZ002": "c2"}
ACTIONS = ("callback", "rectify", "rectified", "close", "appeal", "decide_appeal")


@dataclass
class Expected:
    """A case as the contract says it stands."""

    clerk: str | None
    status: str = "pending"
    resumed: str | None = None
    appealed: bool = False
    called_back: bool = False
    rectified: bool = False


def permitted(case: Expected, action: str, who: Principal) -> bool:
    if action == "appeal":
        return who.role is Role.CLERK and who.name == case.clerk
    if action == "decide_appeal":
        return who.role is Role.SUPERVISOR
    return who.role.value in OFFICE


def oracle(case: Expected, action: str, verdict: str, upheld: bool) -> str | None:
    """The status `action` takes the case to, by the contract; None: refused."""
    if case.status in FINAL:
        return None
    if case.status == "appealing":
        return ("appeal_upheld" if upheld else "appeal_rejected") if action == \
            "decide_appeal" else None
    base = case.resumed if case.status == "appeal_rejected" else case.status
    if action == "appeal":
        ok = not case.appealed and case.clerk is not None and base != "rectified"
        return "appealing" if ok else None
    return {("callback", "pending"): "called_back", ("rectify", "called_back"): "rectifying",
            ("rectified", "rectifying"): "rectified",
            ("close", "rectified", "founded"): "closed",
            ("close", "called_back", "unfounded"): "closed"}.get(
        (action, base, verdict) if action == "close" else (action, base))  # type: ignore[arg-type]


def follow(case: Expected, action: str, status: str) -> None:
    if action == "appeal":
        case.resumed, case.appealed = case.status, True
    case.called_back |= action == "callback"
    case.rectified |= action == "rectified"
    case.status = status


class CaseMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="cases-"))
        self.db = Database(self.dir / "onestop.db")
        self.db.migrate()
        accounts = Accounts(self.db)
        for staff_no, username in STAFF_NOS.items():
            accounts.add_user(username, PASSWORD, Role.CLERK, username, staff_no, START)
        self.clock = Clock(START)
        self.hall = HallService(CFG, self.db, clock=self.clock)
        self.expected: dict[str, Expected] = {}
        self.complaints = 0

    def teardown(self) -> None:
        self.db.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def today(self) -> dt.date:
        return self.clock.now.astimezone(CFG.zone).date()

    # --- acts --------------------------------------------------------------------------------

    @rule(staff_no=st.sampled_from([None, "JZ001", "JZ002", "JZ404"]),
          channel=st.sampled_from([None, "phone", "box"]))
    def file_complaint(self, staff_no, channel):
        body = {"category": "attitude", "text": "态度生硬", "staff_no": staff_no}
        if channel is None:
            self.hall.file_complaint(Principal(role=Role.KIOSK, name="k"), body)
        else:
            self.hall.casework.file_complaint(STAFF["zhao"], {**body, "channel": channel})
        self.complaints += 1
        case_id = f"GD{self.hall.current_day():%Y%m%d}{self.hall.state.case_seq:04d}"
        assert case_id not in self.expected
        self.expected[case_id] = Expected(clerk=STAFF_NOS.get(staff_no or ""))

    @rule(pick=st.integers(0, 10**6), action=st.sampled_from(ACTIONS),
          who=st.sampled_from(sorted(STAFF)), verdict=st.sampled_from(["founded", "unfounded"]),
          upheld=st.booleans())
    def step(self, pick, action, who, verdict, upheld):
        if not self.expected:
            return
        case_id = sorted(self.expected)[pick % len(self.expected)]
        case = self.expected[case_id]
        principal = STAFF[who]
        wanted = oracle(case, action, verdict, upheld) if permitted(case, action, principal) \
            else None
        before = Cases(self.db).get(case_id)
        body = {"action": action, "result": "r", "reached": True, "cause": "c", "plan": "p",
                "fix": "f", "reply": "r", "verdict": verdict, "grounds": "g", "upheld": upheld,
                "note": "n"}
        try:
            got = self.hall.casework.step(principal, case_id, body)
        except DomainError:
            assert wanted is None, (case_id, action, who, case)
            assert Cases(self.db).get(case_id) == before  # a refusal changes nothing
            return
        assert wanted is not None, (case_id, action, who, case, "accepted an illegal step")
        assert got["case"]["status"] == wanted
        follow(case, action, wanted)

    @rule(hours=st.integers(1, 80))
    def time_passes(self, hours):
        self.clock.advance(hours=hours)
        self.hall.tick()
        self.alerted()

    @rule()
    def tick(self):
        self.hall.tick()
        self.alerted()

    @rule()
    def restart(self):
        self.hall = HallService(CFG, self.db, clock=self.clock)

    # --- what always holds -----------------------------------------------------------------

    def alerted(self) -> None:
        """Right after a tick: an alert for every case step past its day and not done by the
        oracle, and for no other."""
        today = self.today
        due = {c.case_id: c for c in Cases(self.db).page(CaseFilter(), limit=200)[0]}
        wanted = set()
        for case_id, case in self.expected.items():
            if case.status in FINAL:
                continue
            row = due[case_id]
            if not case.called_back and row.callback_due < today:
                wanted.add(f"case_overdue:{case_id}:callback")
            if not case.rectified and row.rectify_due < today:
                wanted.add(f"case_overdue:{case_id}:rectify")
        have = {k for k in self.hall.state.alerts if k.startswith("case_overdue:")}
        assert have == wanted

    @invariant()
    def no_case_lost_and_each_alert_raised_once(self):
        records = self.hall.store.records_after(0, limit=10**9)
        complaints = {r.event.complaint_id for r in records if isinstance(r.event, ComplaintFiled)}
        opened = [r.event for r in records if isinstance(r.event, CaseOpened)]
        assert len(complaints) == self.complaints
        assert {e.complaint_id for e in opened} == complaints
        stored = {c.case_id: c for c in Cases(self.db).page(CaseFilter(), limit=200)[0]}
        assert set(stored) == set(self.expected) == {e.case_id for e in opened}
        for case_id, case in self.expected.items():
            assert (stored[case_id].status.value, stored[case_id].clerk) == (case.status,
                                                                              case.clerk)
        raised = Counter(r.event.key for r in records if isinstance(r.event, AlertRaised)
                         and r.event.kind == "case_overdue")
        assert all(n == 1 for n in raised.values()), raised


CaseMachine.TestCase.settings = settings(
    max_examples=30, stateful_step_count=40, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow])
TestCases = CaseMachine.TestCase
