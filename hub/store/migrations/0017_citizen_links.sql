-- The citizen's phone links (hub/service/citizen.py): a capability printed as the QR of a
-- ticket or a 承诺单 opens that one ticket's or slip's page. Only SHA-256 of the capability is
-- kept: the store (a backup, a stolen disk) never holds a link that opens a page. Written in
-- the transaction of the ticket's issue or the slip's making; deleted once expired
-- (housekeeping). Portable SQL, the same on SQLite and PostgreSQL.

CREATE TABLE citizen_links (
    hash TEXT PRIMARY KEY,  -- hex SHA-256 of the capability
    kind TEXT NOT NULL,  -- ticket | slip
    ref TEXT NOT NULL,  -- the ticket id, or the slip number
    day TEXT NOT NULL,  -- the hall's business day it was made on
    expires_at TEXT NOT NULL,  -- UTC ISO: a ticket's at its day's end, a slip's later
    created_at TEXT NOT NULL
);

CREATE INDEX citizen_links_expiry ON citizen_links (expires_at);
CREATE INDEX citizen_links_ref ON citizen_links (kind, ref);
