-- When the forwarder's last failed attempt happened: `last_error` alone (cleared once the
-- backend acknowledges again) cannot tell a supervisor whether the feed is failing now.
ALTER TABLE forward_cursor ADD COLUMN last_error_at TEXT;
