//! The diesel schema: one `table!` per table of `migrations/`, whose two dialects have the same
//! columns and types. Keep it in step with the migrations; the migration tests check that every
//! table here exists and can be read after migrating, on both dialects.

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        at -> BigInt,
        actor -> Text,
        action -> Text,
        target -> Text,
        details -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    auth_challenges (id) {
        id -> Text,
        did -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        did -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    accreditations (id) {
        id -> Text,
        did -> Text,
        category -> Text,
        fact_types -> Text,
        controller -> Text,
        person -> Nullable<Text>,
        household -> Nullable<Text>,
        jurisdiction -> Text,
        area -> Nullable<Text>,
        valid_from -> BigInt,
        valid_until -> Nullable<BigInt>,
        basis -> Nullable<Text>,
        granted_by -> Text,
        created_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        revoked_reason -> Nullable<Text>,
        revoked_for_cause -> Nullable<Bool>,
        revoked_by -> Nullable<Text>,
        source_decision -> Nullable<Text>,
        revocation_recorded_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    accreditation_suspensions (id) {
        id -> Text,
        accreditation_id -> Text,
        from_at -> BigInt,
        until_at -> Nullable<BigInt>,
        reason -> Text,
        created_by -> Text,
        created_at -> BigInt,
        ended_at -> Nullable<BigInt>,
        ended_by -> Nullable<Text>,
    }
}

diesel::table! {
    persons (did) {
        did -> Text,
        person -> Text,
        household -> Nullable<Text>,
        created_by -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    issuers (id) {
        id -> Text,
        did -> Text,
        name -> Text,
        entity -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    issuer_operators (issuer_id, did) {
        issuer_id -> Text,
        did -> Text,
    }
}

diesel::table! {
    service_keys (id) {
        id -> Text,
        issuer_id -> Text,
        public_key -> Text,
        sealed_secret -> Binary,
        created_at -> BigInt,
        retired_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    status_lists (id) {
        id -> Text,
        owner_did -> Text,
        purpose -> Text,
        hosted -> Bool,
        size_bits -> BigInt,
        bits -> Nullable<Binary>,
        credential -> Nullable<Text>,
        version -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    status_entries (list_id, idx) {
        list_id -> Text,
        idx -> BigInt,
        credential_id -> Nullable<Text>,
        allocated_at -> BigInt,
    }
}

diesel::table! {
    issued_credentials (id) {
        id -> Text,
        issuer_id -> Text,
        subject -> Nullable<Text>,
        fact_type -> Text,
        fingerprint -> Text,
        key_id -> Text,
        issued_at -> BigInt,
        valid_until -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
        suspended -> Bool,
    }
}

diesel::table! {
    idempotency_keys (caller, key) {
        caller -> Text,
        key -> Text,
        endpoint -> Text,
        request_hash -> Text,
        status -> Integer,
        response -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    attestation_requests (id) {
        id -> Text,
        citizen_did -> Text,
        fact_type -> Text,
        claims -> Nullable<Text>,
        addressed_to -> Text,
        open_token_hash -> Nullable<Text>,
        note -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
        state -> Text,
        closed_at -> Nullable<BigInt>,
        keep -> Bool,
    }
}

diesel::table! {
    attestation_responses (id) {
        id -> Text,
        request_id -> Text,
        attester_did -> Text,
        credential -> Nullable<Text>,
        declined -> Bool,
        reason -> Nullable<Text>,
        created_at -> BigInt,
        collected_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    verifier_challenges (challenge) {
        challenge -> Text,
        verifier_did -> Text,
        domain -> Text,
        policy_id -> Text,
        policy_version -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        decision_id -> Nullable<Text>,
    }
}

diesel::table! {
    decisions (id) {
        id -> Text,
        verifier_did -> Text,
        subject -> Nullable<Text>,
        policy_id -> Text,
        policy_version -> Text,
        fact_type -> Text,
        outcome -> Text,
        decided_at -> BigInt,
        explanation -> Text,
        evidence -> Text,
        agreed_claims -> Nullable<Text>,
        status_credential_id -> Nullable<Text>,
        status_list_id -> Nullable<Text>,
        status_index -> Nullable<BigInt>,
        holds -> Bool,
        reevaluated_at -> Nullable<BigInt>,
        reevaluation -> Nullable<Text>,
        erased_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    decision_inputs (decision_id, position) {
        decision_id -> Text,
        position -> Integer,
        fingerprint -> Nullable<Text>,
        credential_id -> Nullable<Text>,
        issuer -> Nullable<Text>,
        category -> Nullable<Text>,
        entity -> Nullable<Text>,
        counted -> Bool,
        weight -> Text,
        valid_until -> Nullable<BigInt>,
        withdrawn_at -> Nullable<BigInt>,
        withdrawn_because -> Nullable<Text>,
    }
}

diesel::table! {
    decision_input_entries (decision_id, position, status_list, status_index) {
        decision_id -> Text,
        position -> Integer,
        status_list -> Text,
        status_index -> BigInt,
        status_purpose -> Text,
    }
}

diesel::table! {
    erasures (id) {
        id -> Text,
        subject_digest -> Text,
        requested_at -> BigInt,
        summary -> Text,
    }
}

diesel::table! {
    anchor_records (id) {
        id -> Text,
        kind -> Text,
        record_id -> Text,
        decision_id -> Text,
        salt -> Nullable<Text>,
        fingerprint -> Text,
        created_at -> BigInt,
        batch_id -> Nullable<Text>,
        leaf_index -> Nullable<BigInt>,
        proof -> Nullable<Text>,
    }
}

diesel::table! {
    anchor_batches (id) {
        id -> Text,
        purpose -> Text,
        connector -> Text,
        root -> Text,
        size -> BigInt,
        state -> Text,
        prepared -> Nullable<Text>,
        reference -> Nullable<Text>,
        created_at -> BigInt,
        submitted_at -> Nullable<BigInt>,
        included_at -> Nullable<BigInt>,
        final_at -> Nullable<BigInt>,
        attempts -> Integer,
        next_attempt_at -> BigInt,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    anchor_links (old_batch_id, new_batch_id) {
        old_batch_id -> Text,
        new_batch_id -> Text,
        leaf_index -> BigInt,
        proof -> Text,
    }
}

diesel::table! {
    log_identity (origin) {
        origin -> Text,
        public_key -> Text,
        sealed_secret -> Binary,
        created_at -> BigInt,
    }
}

diesel::table! {
    log_leaves (leaf_index) {
        leaf_index -> BigInt,
        batch_id -> Text,
        data -> Text,
        appended_at -> BigInt,
    }
}

diesel::table! {
    log_checkpoints (size) {
        size -> BigInt,
        root -> Text,
        note -> Text,
        signed_at -> BigInt,
        cosigners -> Integer,
        final_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    log_witness_state (witness) {
        witness -> Text,
        size -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    audit_log,
    auth_challenges,
    sessions,
    accreditations,
    accreditation_suspensions,
    persons,
    issuers,
    issuer_operators,
    service_keys,
    status_lists,
    status_entries,
    issued_credentials,
    idempotency_keys,
    attestation_requests,
    attestation_responses,
    verifier_challenges,
    decisions,
    decision_inputs,
    decision_input_entries,
    erasures,
    anchor_records,
    anchor_batches,
    anchor_links,
    log_identity,
    log_leaves,
    log_checkpoints,
    log_witness_state,
);
