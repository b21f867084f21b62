-- 办件抽查 (spot checks) and 效能告诫 (efficiency records): projections of their events
-- (spot_check.drawn, spot_check.reviewed, staff.record_added), written in the event's
-- transaction (hub/service/commit.py). They outlive the day, so the state keeps none of them.
-- Portable SQL, the same on SQLite and PostgreSQL.

-- One draw a week: `week` is its Monday, `data` the event's sample, population and checklist
-- (JSON); `seed` is what anyone needs to recompute the sample (docs/spot-checks.md).
CREATE TABLE spot_draws (
    draw_id TEXT PRIMARY KEY,
    week TEXT NOT NULL UNIQUE,
    seed TEXT NOT NULL,
    per_window INTEGER NOT NULL,
    drawn_at TEXT NOT NULL,
    by TEXT NOT NULL,
    data TEXT NOT NULL
);

-- Each sampled ticket, and its review once made (answers: JSON {item code: pass|fail|na};
-- finding: 1 when any answer is a fail; case_id: the case opened from it).
CREATE TABLE spot_items (
    draw_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    window_no INTEGER NOT NULL,
    position INTEGER NOT NULL,
    clerk TEXT,
    number TEXT,
    service TEXT,
    reviewed_at TEXT,
    by TEXT,
    answers TEXT,
    note TEXT,
    finding INTEGER,
    case_id TEXT,
    PRIMARY KEY (draw_id, ticket_id)
);
CREATE INDEX spot_items_clerk ON spot_items (clerk, finding);

-- Efficiency records against a staff member; `year` is the hall's calendar year of the
-- record (a `warning` keeps them out of that year's 评先评优).
CREATE TABLE staff_records (
    record_id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    staff_no TEXT NOT NULL,
    kind TEXT NOT NULL,
    grounds TEXT NOT NULL,
    detail TEXT NOT NULL,
    year INTEGER NOT NULL,
    at TEXT NOT NULL,
    by TEXT NOT NULL
);
CREATE INDEX staff_records_user ON staff_records (username, at);
CREATE INDEX staff_records_year ON staff_records (year, kind);

-- A week's finished tickets, by when they finished: what a draw reads.
CREATE INDEX tickets_finished ON tickets (finished_at);
