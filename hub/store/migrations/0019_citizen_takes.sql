-- 扫码取号: each ticket taken on a phone from the hall's poster, counted against the day's
-- limits per device and per network address (hub/service/take.py). Only keyed hashes of the
-- device id and the address are kept, never the values. A row is written before its ticket is
-- issued (a reservation: `ticket_id` NULL) and removed if the hall refuses the ticket, so a hub
-- that stops in between counts one take too many, never one too few.
-- Portable SQL, the same on SQLite and PostgreSQL.
CREATE TABLE citizen_takes (
    id TEXT PRIMARY KEY,
    day TEXT NOT NULL,
    device_hash TEXT NOT NULL,
    address_hash TEXT NOT NULL,
    ticket_id TEXT,
    taken_at TEXT NOT NULL
);

CREATE INDEX citizen_takes_device ON citizen_takes (day, device_hash);
CREATE INDEX citizen_takes_address ON citizen_takes (day, address_hash);
