-- An agent token's binding (least privilege): what it may serve, as JSON
-- {"kiosks": [kiosk token names], "windows": [window numbers]} (hub/auth.py AgentBinding).
-- NULL: unbound, as every token made before this migration is; such a token keeps working
-- (the hub logs a warning at each of its connects) until `onestop token bind` binds it.
-- Portable SQL, the same on SQLite and PostgreSQL.
ALTER TABLE tokens ADD COLUMN binding TEXT;
