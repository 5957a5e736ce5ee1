DROP TABLE log_witness_state;
DROP TABLE log_checkpoints;
DROP TABLE log_leaves;
DROP TABLE log_identity;
DROP TABLE anchor_links;
DROP TABLE anchor_batches;
DROP TABLE anchor_records;
DROP FUNCTION log_refuse_rewrite();
