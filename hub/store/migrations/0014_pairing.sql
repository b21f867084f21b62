-- Screens and kiosks paired with the hub (hub/service/pairing.py): a page without a token asks
-- for a pairing request and shows its short `code`; a supervisor approves the code with a role
-- and a name; the page, polling with its own secret (only its hash is kept), then receives a
-- device token made at that moment (the tokens table), and the request is deleted. No token is
-- ever stored here. In the store, not in a hub's memory: the page may ask one hub of a pair
-- and the office approve on the other.
CREATE TABLE pairing_requests (
    code TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    page TEXT NOT NULL,
    addr TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    role TEXT,
    name TEXT,
    approved_by TEXT,
    approved_at TEXT
);
CREATE INDEX pairing_requests_addr ON pairing_requests (addr, expires_at);
