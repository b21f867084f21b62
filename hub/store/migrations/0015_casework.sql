-- Supervision casework (督办工单, hub/engine/casework.py): a case for every 差评 and complaint
-- (and spot-check finding), moved on by the office to 已办结. A case outlives the day, so the
-- hall's state keeps none: this row is its projection, written with its `case.opened` and each
-- `case.stepped` in their transaction; the events are its history, `case_steps` their rows.
-- Dates are ISO days of the hall, times UTC ISO text, as elsewhere in the store.
CREATE TABLE cases (
    case_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,               -- rating | complaint | spot_check
    source TEXT NOT NULL,             -- keypad | kiosk | phone | office | spot_check
    channel TEXT,                     -- an office-entered complaint's: phone | box | letter | visit
    status TEXT NOT NULL,
    resumed TEXT,                     -- the status before an appeal, to go on from
    day TEXT NOT NULL,                -- the opening day of the hall
    opened_at TEXT NOT NULL,
    ticket_id TEXT,
    number TEXT,
    window_no INTEGER,
    clerk TEXT,
    staff_no TEXT,
    department TEXT,
    service TEXT,
    level INTEGER,
    reason TEXT,
    complaint_id TEXT,
    category TEXT,
    summary TEXT NOT NULL,
    callback_due TEXT NOT NULL,
    rectify_due TEXT NOT NULL,
    called_back_at TEXT,
    rectified_at TEXT,
    closed_at TEXT,
    verdict TEXT,                     -- founded | unfounded
    appeal TEXT,                      -- NULL | appealing | upheld | rejected
    updated_at TEXT NOT NULL,
    is_open INTEGER NOT NULL,         -- 1 until closed or an appeal upheld
    next_due TEXT,                    -- the due day of the next step with a deadline
    queue_key TEXT NOT NULL           -- the office's order: open by next due day, then newest
);
-- The office's queue (open cases by deadline, paged by key), the overdue check every tick.
CREATE INDEX cases_queue ON cases (is_open, queue_key, case_id);
-- A clerk's own cases (their panel), newest first.
CREATE INDEX cases_clerk ON cases (clerk, opened_at);
-- A 差评's reason added later finds its case.
CREATE INDEX cases_ticket ON cases (ticket_id);

-- Each step of a case: who, when, what (the action's fields as JSON). `seq` is its event's.
CREATE TABLE case_steps (
    case_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    "by" TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);
