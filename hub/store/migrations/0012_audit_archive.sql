-- Audit records past the hall's retention (`[audit] retention_days`, at least 180) are moved to
-- signed archive files (hub/store/audit_archive.py) and only then deleted from `audit`, in the
-- transaction that adds their row here. The newest row is the live chain's anchor: the first
-- live record's prev_hash is its `last_hash`, and `verify` starts from it.
CREATE TABLE audit_archives (
    last_seq INTEGER PRIMARY KEY, -- the last record the file holds
    first_seq INTEGER NOT NULL,
    prev_hash TEXT NOT NULL, -- the hash before first_seq (64 zeros for the chain's start)
    last_hash TEXT NOT NULL,
    records INTEGER NOT NULL,
    file TEXT NOT NULL, -- the archive's file name in the archive directory
    digest TEXT NOT NULL, -- SHA-256 of the whole file
    archived_at TEXT NOT NULL
);
