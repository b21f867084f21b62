-- Forwarding to the city's supervision backend: where `onestop forward` is in the
-- events outbox, and the events the backend permanently refused. Portable SQL.

-- One row: the seq of the last event the backend acknowledged (2xx) or that was dead-lettered.
-- Written only by the forwarder, in a transaction of its own, after the acknowledgement.
CREATE TABLE forward_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    updated_at TEXT
);
INSERT INTO forward_cursor (id, seq, updated_at) VALUES (1, 0, NULL);

-- Events the backend refused with a 4xx (not 408/429) on their own. The cursor moves past
-- them so the feed goes on; `onestop events replay` sends them again (replayed_at once a 2xx).
CREATE TABLE dead_letters (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    response TEXT NOT NULL,
    failed_at TEXT NOT NULL,
    replayed_at TEXT
);
CREATE INDEX dead_letters_replayed ON dead_letters (replayed_at);
