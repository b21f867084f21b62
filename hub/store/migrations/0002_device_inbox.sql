-- Device events (keypad presses) already handled, by the agent's event id: an agent re-sends
-- what it buffered while the hub was unreachable, and a repeat must not count twice.
CREATE TABLE device_inbox (
    id TEXT PRIMARY KEY,
    agent TEXT NOT NULL,
    received_at TEXT NOT NULL,
    result TEXT NOT NULL
);
