-- The supervision check looks for 承诺件 past their promised date every few seconds: an index
-- keeps that a look-up however many years of slips the table holds.
CREATE INDEX slips_open ON slips (status, promised_date);
