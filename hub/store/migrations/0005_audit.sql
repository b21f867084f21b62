-- The audit log of staff actions (electronic supervision, art. 11/21/26): who did what,
-- at which window, from which address, when, and with what outcome. Append-only: nothing in
-- the hub updates or deletes a row, and each row carries the SHA-256 of the previous row's hash
-- and its own fields (hub/store/audit.py), so an edit, a deletion in the middle or a reordering
-- is found by `onestop audit verify`. `seq` is assigned by the writer (last seq + 1), so it is
-- contiguous and needs no identity column on PostgreSQL.
-- TODO(postgresql): REVOKE UPDATE, DELETE ON audit FROM the hub's role.
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    account TEXT NOT NULL,
    role TEXT NOT NULL,
    window_no INTEGER,
    addr TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL, -- JSON object
    event_seqs TEXT NOT NULL, -- the events the action committed ("12,13"), empty if none
    outcome TEXT NOT NULL, -- "ok" or the refusal's error code
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_account ON audit (account, seq);
CREATE INDEX audit_at ON audit (at);

-- One row that every audit append updates first: on PostgreSQL the row lock serialises the
-- writers of several hubs, so two of them never chain onto the same last record (SQLite's
-- BEGIN IMMEDIATE serialises them already).
CREATE TABLE audit_lock (
    id INTEGER PRIMARY KEY,
    appends INTEGER NOT NULL
);
INSERT INTO audit_lock (id, appends) VALUES (1, 0);
