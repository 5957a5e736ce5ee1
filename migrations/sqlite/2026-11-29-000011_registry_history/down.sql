DROP INDEX accreditations_one_per_decision;
ALTER TABLE accreditation_suspensions DROP COLUMN ended_by;
ALTER TABLE accreditation_suspensions DROP COLUMN ended_at;
ALTER TABLE accreditations DROP COLUMN revocation_recorded_at;
