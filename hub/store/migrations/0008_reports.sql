-- Statistics and assessment (hub/reports.py). Portable SQL: the same file runs on SQLite and
-- PostgreSQL (partial indexes exist on both).
--
-- A year is ~1.5 M tickets whose visits and ratings sit in `tickets.data` (JSON): reading them
-- for every report is far too slow, so each business day, once it is over (rolled and no 退件
-- of it still awaiting a supervisor), is summed up once into the two tables below, from the
-- `tickets` rows alone. They are a cache of a pure function of committed rows: a day is
-- written in one transaction (its marker row last), so a hub that stops half-way leaves no
-- half day, and a day missing here is simply summed up again by the next report.

-- Which days are summed up, and when (a day without a row here is read from `tickets`); a
-- month (`day` MYYYY-MM) when its days' histograms are summed up into one (see report_hist).
CREATE TABLE report_days (
    day TEXT PRIMARY KEY,
    tickets INTEGER NOT NULL,
    rolled_at TEXT NOT NULL
);

-- Counts and sums of one day per (window, clerk, item). window_no/clerk are 0 / '' for what
-- has no window: tickets never called. The slips_* columns count the 承诺件 *due* that day
-- (promised_date), by the window and clerk that finished them: once the day is over whether
-- each was done in time can no longer change.
CREATE TABLE report_counts (
    day TEXT NOT NULL,
    window_no INTEGER NOT NULL,
    clerk TEXT NOT NULL,
    service TEXT NOT NULL,
    issued INTEGER NOT NULL,
    called INTEGER NOT NULL,
    served INTEGER NOT NULL,
    no_shows INTEGER NOT NULL,
    transferred INTEGER NOT NULL,
    returned INTEGER NOT NULL,
    expired INTEGER NOT NULL,
    wait_n INTEGER NOT NULL,
    wait_s REAL NOT NULL,
    serve_n INTEGER NOT NULL,
    serve_s REAL NOT NULL,
    within_target INTEGER NOT NULL,
    r1 INTEGER NOT NULL,
    r2 INTEGER NOT NULL,
    r3 INTEGER NOT NULL,
    r4 INTEGER NOT NULL,
    r5 INTEGER NOT NULL,
    not_rated INTEGER NOT NULL,
    slips_on_time INTEGER NOT NULL,
    slips_late INTEGER NOT NULL,
    slips_pending INTEGER NOT NULL,
    PRIMARY KEY (day, window_no, clerk, service)
);

-- Wait and service times of one day as histograms of whole minutes (rounded up), per grouping
-- (`dim`: service, window, clerk, all) and key `k`: the p90 of any range is a sum of these,
-- done by the database, instead of a sort of a year of single times. The same table holds the
-- tickets issued and served per hour of the day (metric issued_hour / served_hour, dim all,
-- `bucket` the local hour). `day` is a day, or a month (M2025-06: after every date, so never
-- inside a range of days) holding the sum of its days
-- once all of them are summed up: a year's p90 then reads twelve months, not 250 days.
CREATE TABLE report_hist (
    day TEXT NOT NULL,
    dim TEXT NOT NULL,
    k TEXT NOT NULL,
    metric TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    n INTEGER NOT NULL
);
-- Covering (n included): a year's sum reads the index alone.
CREATE INDEX report_hist_range ON report_hist (dim, day, k, metric, bucket, n);

-- A day with a ticket still open (a 退件 awaiting a supervisor, or one sent back to a queue
-- after its day) is not summed up yet: it is read live.
CREATE INDEX tickets_unsettled ON tickets (day) WHERE status IN ('waiting', 'called', 'return_pending');

-- Pauses (window.paused/resumed) and complaints (complaint.filed) of a range, by type first:
-- events_day_type would walk every event of the range.
CREATE INDEX events_type_day ON events (type, day);

-- 承诺件 due in a range, and when each was first done (its slip.status_changed events).
CREATE INDEX slips_promised ON slips (promised_date);
CREATE INDEX events_slip_status ON events (ticket_id, at) WHERE type = 'slip.status_changed';
-- ... and who finished it (its ticket row names no window once the ticket has left it).
CREATE INDEX events_finished ON events (ticket_id) WHERE type = 'ticket.finished';
