-- 刷身份证取号: a ticket issued against a swiped ID card, and who it was for, as little as
-- serves: `person` is HMAC-SHA256(the hall's id key, the ID number) in hex (never the number),
-- the birth year, and the masked name (张*) that silent calling shows, set to NULL once the
-- ticket's day is over. Written in the transaction of the ticket's issue; the hub's
-- housekeeping deletes rows older than `[identity] link_days` (docs/privacy.md).
-- Portable SQL, the same on SQLite and PostgreSQL.
CREATE TABLE identity_links (
    ticket_id TEXT PRIMARY KEY,
    day TEXT NOT NULL,
    person TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    masked_name TEXT,
    created_at TEXT NOT NULL
);

CREATE INDEX identity_links_person ON identity_links (person);
CREATE INDEX identity_links_day ON identity_links (day);
