-- (PostgreSQL) The trust registry's history, exact to the moment: when a revocation and the end of a
-- suspension were recorded (their `at`/`until` may be dated earlier or later than that), so the
-- registry "as it was at T" leaves out what nobody knew at T. And at most one automatic
-- accreditation per source decision (NULLs, for hand-granted ones, are distinct).
ALTER TABLE accreditations ADD COLUMN revocation_recorded_at BIGINT;
ALTER TABLE accreditation_suspensions ADD COLUMN ended_at BIGINT;
ALTER TABLE accreditation_suspensions ADD COLUMN ended_by TEXT;
CREATE UNIQUE INDEX accreditations_one_per_decision ON accreditations (source_decision);
