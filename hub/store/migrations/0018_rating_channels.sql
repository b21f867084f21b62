-- Ratings counted by channel (TicketRated.source): the window's keypad or the citizen's phone.
-- The summed-up days keep their sums (hub/reports/rollup.py): until now a rating could come
-- only from a keypad, so a day summed up before this migration has all its ratings there.
ALTER TABLE report_counts ADD COLUMN rated_keypad INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_counts ADD COLUMN rated_phone INTEGER NOT NULL DEFAULT 0;
UPDATE report_counts SET rated_keypad = r1 + r2 + r3 + r4 + r5;
