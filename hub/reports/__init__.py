"""Statistics and assessment (统计与考核): figures of a range of days per department,
window, clerk or service item, and a configurable score with a ranking per window or clerk.

Everything here reads the store and returns plain dicts (the API shapes them into JSON, CSV or
XLSX). What is counted, and why so:

- `issued`: tickets, by the item they were first called for (or issued for, if never called);
  a ticket is not issued *to* a window, so window and clerk rows leave it out (None).
- `called`, `served`, `no_shows`, `transferred`, `returned`: stays at a window (a ticket's
  `visits`), by how each ended; a ticket transferred once counts at both windows, and a ticket
  that did not come twice is two no-shows (two calls nobody answered).
- `expired`: tickets that ended their day unserved, waiting or at a window.
- wait: from issue to the first call, at the first window; service time: a finished stay.
  Means are exact; p90 is to the whole minute, rounded up (nearest rank on minute histograms,
  which is what makes a year's p90 a sum instead of a sort of 1.5 M times).
- `within_target`: finished stays no longer than the item's `target_minutes`.
- 承诺件 (slips with a promised date) *due* in the range: done (done/ready/collected) on or before
  the promised date, late, or still pending; by the ticket's last window and clerk.
- ratings 1-5 (1 = 非常满意), `satisfaction` = levels 1-3 over rated, by the rated window/clerk.
- complaints (complaint.filed, by the window and staff number named) and paused seconds by
  reason (window.resumed carries them; the clerk is whoever paused).
- the casework (督办): 差评整改率, 按期整改率, 回访率, appeals, complaints verified, spot-check
  findings and efficiency records, by the case's window, clerk and department in the period the
  case was opened; `casework.py` defines each. A rating whose appeal was upheld is taken out of
  the ratings when a report is read (never deleted; counted as `ratings_excluded`).

Speed: a closed day (rolled over, no ticket of it still open) is summed up once from its
`tickets` rows into `report_counts` and `report_hist` (migration 0008), in one transaction with
its `report_days` marker; open days are read live. The summary is a pure function of committed
rows, so a hub restart loses nothing: a day without a marker is summed up again when asked.

All SQL is portable (SQLite and PostgreSQL); the only JSON look-up is a LIKE on the events'
text in summary.py's `_SLIPS_SQL` (the slip status an event moved to), kept in that one
place.

The modules: `summary` (what is counted), `rollup` (summing up closed days), `reading` (a range,
one row per group), `figures` and `names` (a row's figures and name), `casework` (the 督办
figures), `assessment` (the score and 评先评优),
`export` (CSV, XLSX) and `periods`; the package re-exports what the hub and the CLI use.
`staffing` (the staffing advice: the history read, the advice computed beside the hub) is
imported by its route alone: it needs hub/simulation, which the other reports do not.
"""

from .assessment import ASSESSED, assessment, score_rows
from .export import COLUMNS, SCORE_COLUMNS, table, to_csv, to_xlsx
from .periods import PERIODS, period
from .reading import GROUPINGS, MAX_DAYS, report
from .rollup import month_key, roll_up_day, settle, sum_up_month
from .summary import FIELDS, Summary, minutes_up

__all__ = [
    "ASSESSED", "COLUMNS", "FIELDS", "GROUPINGS", "MAX_DAYS", "PERIODS", "SCORE_COLUMNS",
    "Summary", "assessment", "minutes_up", "month_key", "period", "report", "roll_up_day",
    "score_rows", "settle", "sum_up_month", "table", "to_csv", "to_xlsx",
]
