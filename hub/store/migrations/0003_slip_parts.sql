-- 联办件: each joint department's part of a case, done or not. A joint case's slip is done
-- once every department listed has done its part ("一窗受理、内部流转").
CREATE TABLE slip_parts (
    slip TEXT NOT NULL,
    department TEXT NOT NULL,
    position INTEGER NOT NULL, -- the order the departments were listed in
    done_at TEXT,
    done_by TEXT,
    PRIMARY KEY (slip, department)
);
CREATE INDEX slip_parts_pending ON slip_parts (department) WHERE done_at IS NULL;
