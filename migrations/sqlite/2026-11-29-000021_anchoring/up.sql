-- Ledger anchoring (issue 5). Records to anchor wait in an outbox written in the transaction
-- that creates them; a batcher groups them under an RFC 9162 Merkle root that a connector
-- anchors. Only fingerprints and roots leave this database; salts stay here (until erasure)
-- and in the citizen's receipt.
CREATE TABLE anchor_records (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,                 -- status_credential | decision
    record_id TEXT NOT NULL,            -- the credential's or the decision's id
    decision_id TEXT NOT NULL,
    salt TEXT,                          -- hex; NULL once erased
    fingerprint TEXT NOT NULL,          -- hex SHA-256(salt || JCS(record))
    created_at BIGINT NOT NULL,
    batch_id TEXT,                      -- NULL while pending
    leaf_index BIGINT,
    proof TEXT,                         -- JSON array of hex hashes: inclusion in the batch root
    UNIQUE (kind, record_id)
);
CREATE INDEX anchor_records_pending ON anchor_records (batch_id, created_at);
CREATE INDEX anchor_records_decision ON anchor_records (decision_id);

CREATE TABLE anchor_batches (
    id TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL,              -- records | reanchor
    connector TEXT NOT NULL,
    root TEXT NOT NULL,
    size BIGINT NOT NULL,
    state TEXT NOT NULL,                -- pending | submitted | included | final
    prepared TEXT,                      -- JSON the connector prepared, stored before sending
    reference TEXT,                     -- JSON ledger reference once included
    created_at BIGINT NOT NULL,
    submitted_at BIGINT,
    included_at BIGINT,
    final_at BIGINT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT
);
CREATE INDEX anchor_batches_state ON anchor_batches (state, next_attempt_at);

-- Re-anchoring: an old batch's root became leaf `leaf_index` of a batch on another ledger.
CREATE TABLE anchor_links (
    old_batch_id TEXT NOT NULL,
    new_batch_id TEXT NOT NULL,
    leaf_index BIGINT NOT NULL,
    proof TEXT NOT NULL,
    PRIMARY KEY (old_batch_id, new_batch_id)
);

-- The embedded transparency log: one leaf per anchored root, signed checkpoints, and what each
-- witness last cosigned. Leaves and checkpoint heads are never rewritten (triggers below).
CREATE TABLE log_identity (
    origin TEXT PRIMARY KEY NOT NULL,
    public_key TEXT NOT NULL,           -- the note verifier key (vkey)
    sealed_secret BLOB NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE log_leaves (
    leaf_index BIGINT PRIMARY KEY NOT NULL,
    batch_id TEXT NOT NULL UNIQUE,
    data TEXT NOT NULL,                 -- hex of the 32-byte root
    appended_at BIGINT NOT NULL
);
CREATE TABLE log_checkpoints (
    size BIGINT PRIMARY KEY NOT NULL,
    root TEXT NOT NULL,
    note TEXT NOT NULL,                 -- the signed note, cosignatures appended as they come
    signed_at BIGINT NOT NULL,
    cosigners INTEGER NOT NULL DEFAULT 0,
    final_at BIGINT
);
CREATE TABLE log_witness_state (
    witness TEXT PRIMARY KEY NOT NULL,
    size BIGINT NOT NULL
);

CREATE TRIGGER log_leaves_no_update BEFORE UPDATE ON log_leaves
BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only: leaves are never rewritten'); END;
CREATE TRIGGER log_leaves_no_delete BEFORE DELETE ON log_leaves
BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only: leaves are never deleted'); END;
CREATE TRIGGER log_checkpoints_no_rewrite BEFORE UPDATE OF size, root ON log_checkpoints
BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only: a signed tree head is never rewritten'); END;
CREATE TRIGGER log_checkpoints_no_delete BEFORE DELETE ON log_checkpoints
BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only: a signed tree head is never deleted'); END;
CREATE TRIGGER log_checkpoints_note_only_grows BEFORE UPDATE OF note ON log_checkpoints
WHEN substr(NEW.note, 1, length(OLD.note)) <> OLD.note
BEGIN SELECT RAISE(ABORT, 'the transparency log is append-only: a signed tree head only gains cosignatures'); END;
