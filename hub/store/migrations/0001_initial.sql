-- Onestop store, version 1. Portable SQL: the same file runs on SQLite and PostgreSQL, but for
-- the `-- sqlite:` / `-- postgresql:` lines (hub/store/database.py). `events.seq` is assigned
-- by the writer (last + 1) under the hall's write lock, so it is gap-free and in commit order on
-- both: the rowid on SQLite, a BIGINT on PostgreSQL (no identity: see hub/store/postgres.py).

-- The outbox and journal: every change of the hall, in commit order. Append-only.
CREATE TABLE events (
-- sqlite:    seq INTEGER PRIMARY KEY,
-- postgresql:    seq BIGINT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    at TEXT NOT NULL,
    day TEXT NOT NULL,
    window_no INTEGER,
    ticket_id TEXT,
    actor TEXT NOT NULL,
    addr TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX events_ticket ON events (ticket_id);
CREATE INDEX events_day_type ON events (day, type);

-- The state as of one event, so a restart replays only what came after.
CREATE TABLE snapshots (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    state TEXT NOT NULL
);

-- Every ticket ever issued, as of its last event: for look-ups after its day and for reports.
CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    day TEXT NOT NULL,
    number TEXT NOT NULL,
    service TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    called_at TEXT,
    finished_at TEXT,
    window_no INTEGER,
    clerk TEXT,
    outcome TEXT,
    slip TEXT,
    data TEXT NOT NULL
);
CREATE INDEX tickets_day ON tickets (day, service);

-- Commitment slips (承诺单), looked up by number at the kiosk.
CREATE TABLE slips (
    number TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL,
    service TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    promised_date TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    data TEXT NOT NULL
);

-- Staff accounts (art. 21: each clerk works under their own). Passwords are scrypt hashes.
CREATE TABLE users (
    username TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    staff_no TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    photo TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

-- Per-device tokens of kiosks, screens and device agents; only a hash is kept.
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX tokens_name ON tokens (role, name);

-- Signed-in staff: bearer sessions, bound to one window for clerks.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    role TEXT NOT NULL,
    window_no INTEGER,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX sessions_user ON sessions (username);
