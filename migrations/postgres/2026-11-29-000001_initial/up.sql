-- The initial schema (PostgreSQL). Times are Unix milliseconds (BIGINT) in both dialects, so the
-- same diesel schema serves SQLite and PostgreSQL; JSON documents are TEXT for the same reason.

-- Administrative acts: append-only, hash-chained (each row's hash covers the previous one).
CREATE TABLE audit_log (
    seq BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Authentication: one-time challenges and the bearer sessions they buy (token stored hashed).
CREATE TABLE auth_challenges (
    id TEXT PRIMARY KEY,
    did TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    did TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_did ON sessions (did);

-- The trust registry. Rows are never deleted or rewritten: revocations and suspensions are
-- recorded beside them, so a past decision can be re-explained with the registry as it was.
CREATE TABLE accreditations (
    id TEXT PRIMARY KEY,
    did TEXT NOT NULL,
    category TEXT NOT NULL,
    fact_types TEXT NOT NULL,
    controller TEXT NOT NULL,
    person TEXT,
    household TEXT,
    jurisdiction TEXT NOT NULL,
    area TEXT,
    valid_from BIGINT NOT NULL,
    valid_until BIGINT,
    basis TEXT,
    granted_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoked_reason TEXT,
    revoked_for_cause BOOLEAN,
    revoked_by TEXT,
    source_decision TEXT
);
CREATE INDEX accreditations_did ON accreditations (did);
CREATE INDEX accreditations_source_decision ON accreditations (source_decision);
CREATE TABLE accreditation_suspensions (
    id TEXT PRIMARY KEY,
    accreditation_id TEXT NOT NULL REFERENCES accreditations (id),
    from_at BIGINT NOT NULL,
    until_at BIGINT,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX accreditation_suspensions_accreditation ON accreditation_suspensions (accreditation_id);
CREATE TABLE persons (
    did TEXT PRIMARY KEY,
    person TEXT NOT NULL,
    household TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Hosted issuers (organisations, government verifiers), who may operate them, and their keys
-- (secret halves sealed with the service's master key).
CREATE TABLE issuers (
    id TEXT PRIMARY KEY,
    did TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    entity TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE issuer_operators (
    issuer_id TEXT NOT NULL REFERENCES issuers (id),
    did TEXT NOT NULL,
    PRIMARY KEY (issuer_id, did)
);
CREATE TABLE service_keys (
    id TEXT PRIMARY KEY,
    issuer_id TEXT NOT NULL REFERENCES issuers (id),
    public_key TEXT NOT NULL,
    sealed_secret BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
CREATE INDEX service_keys_issuer ON service_keys (issuer_id);

-- Bitstring status lists: hosted ones (bits kept here, signed with a service key) and
-- published ones (signed by a person's wallet, stored as received).
CREATE TABLE status_lists (
    id TEXT PRIMARY KEY,
    owner_did TEXT NOT NULL,
    purpose TEXT NOT NULL,
    hosted BOOLEAN NOT NULL,
    size_bits BIGINT NOT NULL,
    bits BYTEA,
    credential TEXT,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX status_lists_owner ON status_lists (owner_did);
CREATE TABLE status_entries (
    list_id TEXT NOT NULL REFERENCES status_lists (id),
    idx BIGINT NOT NULL,
    credential_id TEXT,
    allocated_at BIGINT NOT NULL,
    PRIMARY KEY (list_id, idx)
);
CREATE INDEX status_entries_credential ON status_entries (credential_id);

-- Credentials issued through hosted issuance: metadata only, never the body.
CREATE TABLE issued_credentials (
    id TEXT PRIMARY KEY,
    issuer_id TEXT NOT NULL REFERENCES issuers (id),
    subject TEXT,
    fact_type TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    key_id TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    valid_until BIGINT,
    revoked_at BIGINT,
    suspended BOOLEAN NOT NULL
);
CREATE INDEX issued_credentials_issuer ON issued_credentials (issuer_id);
CREATE INDEX issued_credentials_subject ON issued_credentials (subject);

-- Exactly-once effects: the response to a request, keyed by caller and idempotency key,
-- written in the same transaction as the effect.
CREATE TABLE idempotency_keys (
    caller TEXT NOT NULL,
    key TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (caller, key)
);

-- Attestation exchange between wallets.
CREATE TABLE attestation_requests (
    id TEXT PRIMARY KEY,
    citizen_did TEXT NOT NULL,
    fact_type TEXT NOT NULL,
    claims TEXT,
    addressed_to TEXT NOT NULL,
    open_token_hash TEXT UNIQUE,
    note TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    state TEXT NOT NULL,
    closed_at BIGINT,
    keep BOOLEAN NOT NULL
);
CREATE INDEX attestation_requests_citizen ON attestation_requests (citizen_did);
CREATE TABLE attestation_responses (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES attestation_requests (id),
    attester_did TEXT NOT NULL,
    credential TEXT,
    declined BOOLEAN NOT NULL,
    reason TEXT,
    created_at BIGINT NOT NULL,
    collected_at BIGINT,
    UNIQUE (request_id, attester_did)
);

-- Status derivation: one-time challenges, decisions and what each kept per input.
CREATE TABLE verifier_challenges (
    challenge TEXT PRIMARY KEY,
    verifier_did TEXT NOT NULL,
    domain TEXT NOT NULL,
    policy_id TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    decision_id TEXT
);
CREATE TABLE decisions (
    id TEXT PRIMARY KEY,
    verifier_did TEXT NOT NULL,
    subject TEXT,
    policy_id TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    fact_type TEXT NOT NULL,
    outcome TEXT NOT NULL,
    decided_at BIGINT NOT NULL,
    explanation TEXT NOT NULL,
    evidence TEXT NOT NULL,
    agreed_claims TEXT,
    status_credential_id TEXT,
    status_list_id TEXT,
    status_index BIGINT,
    holds BOOLEAN NOT NULL,
    reevaluated_at BIGINT,
    reevaluation TEXT,
    erased_at BIGINT
);
CREATE INDEX decisions_subject ON decisions (subject);
CREATE INDEX decisions_verifier ON decisions (verifier_did, decided_at);
CREATE TABLE decision_inputs (
    decision_id TEXT NOT NULL REFERENCES decisions (id),
    position INTEGER NOT NULL,
    fingerprint TEXT,
    credential_id TEXT,
    issuer TEXT,
    category TEXT,
    entity TEXT,
    counted BOOLEAN NOT NULL,
    weight TEXT NOT NULL,
    valid_until BIGINT,
    withdrawn_at BIGINT,
    withdrawn_because TEXT,
    PRIMARY KEY (decision_id, position)
);
CREATE INDEX decision_inputs_valid_until ON decision_inputs (valid_until);
-- Each input's status-list entries (revocation, suspension), to find the decisions that counted
-- a credential when its status changes.
CREATE TABLE decision_input_entries (
    decision_id TEXT NOT NULL REFERENCES decisions (id),
    position INTEGER NOT NULL,
    status_list TEXT NOT NULL,
    status_index BIGINT NOT NULL,
    status_purpose TEXT NOT NULL,
    PRIMARY KEY (decision_id, position, status_list, status_index)
);
CREATE INDEX decision_input_entries_entry ON decision_input_entries (status_list, status_index);

-- That an erasure happened (a keyed digest of the DID, never the DID itself).
CREATE TABLE erasures (
    id TEXT PRIMARY KEY,
    subject_digest TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    summary TEXT NOT NULL
);
