-- Failed delivery attempts (backend down, 5xx, timeouts), for /metrics and the office: the
-- forwarder keeps retrying, so without this a backend that has been down all day looks the
-- same as a quiet one.
ALTER TABLE forward_cursor ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE forward_cursor ADD COLUMN last_error TEXT;
