//! The right to erasure: what `POST /erasure-requests` deletes, anonymises, revokes and records,
//! for the caller only; and `GET /admin/erasures`.

use crate::on_both;
use crate::support::{Dialect, Identity, TestApp, spawn};
use corroborate_backend::db::StoreError;
use corroborate_backend::db::schema::{
    accreditations, attestation_requests, attestation_responses, auth_challenges, decisions,
    erasures, issued_credentials, issuers, persons, sessions,
};
use diesel::prelude::*;
use serde_json::{Value, json};

const NOW: i64 = 1_760_000_000_000;

/// A decision's explanation as the decision engine writes it (`docs/policies.md`).
fn explanation(subject: &str) -> String {
    json!({
        "outcome": "established",
        "policy": {"id": "be.example.municipality/residence", "version": "1.0.0"},
        "fact_type": "ResidenceAttestation",
        "subject": subject,
        "decided_at": "2025-10-09T00:00:00Z",
        "agreed_claims": {"residence.address": {"street": "Rue de la Brasserie", "houseNumber": "27"}},
        "totals": {"weight": "3.500", "categories": ["bank", "utility"], "entities": 2},
        "requirements": [{"rule": "min_weight", "required": "3.000", "actual": "3.500", "met": true}],
        "rejected_because": [],
        "inputs": [{
            "index": 0,
            "id": "urn:uuid:533b3bf4-f837-4f75-89e2-bd9f2df20a4c",
            "fingerprint": "c9758cbf",
            "issuer": "did:key:z6MkUtility",
            "category": "utility",
            "entity": "BE0999.000.101",
            "claims": {"residence.address": {"street": "Rue de la Brasserie"}},
            "counted": true,
            "base_weight": "1.500",
            "effective_weight": "1.500",
            "reasons": []
        }],
        "summary": format!("The fact is established for {subject}.")
    })
    .to_string()
}

/// Everything the backend may hold about `did`, each row id suffixed with `tag`.
async fn seed(app: &TestApp, did: &str, tag: &str) {
    let (did, tag) = (did.to_owned(), tag.to_owned());
    app.state
        .db
        .write::<_, StoreError, _>(move |conn| {
            let request = format!("request-{tag}");
            diesel::insert_into(attestation_requests::table)
                .values((
                    attestation_requests::id.eq(&request),
                    attestation_requests::citizen_did.eq(&did),
                    attestation_requests::fact_type.eq("ResidenceAttestation"),
                    attestation_requests::claims
                        .eq(Some(r#"{"residence":{"since":"2021-09-01"}}"#)),
                    attestation_requests::addressed_to.eq("did:key:z6MkNeighbour"),
                    attestation_requests::note.eq(Some("Please confirm I live at number 27")),
                    attestation_requests::created_at.eq(NOW),
                    attestation_requests::expires_at.eq(NOW + 86_400_000),
                    attestation_requests::state.eq("answered"),
                    attestation_requests::keep.eq(false),
                ))
                .execute(conn)?;
            for (n, attester) in ["did:key:z6MkNeighbour", "did:key:z6MkLandlord"]
                .iter()
                .enumerate()
            {
                diesel::insert_into(attestation_responses::table)
                    .values((
                        attestation_responses::id.eq(format!("response-{tag}-{n}")),
                        attestation_responses::request_id.eq(&request),
                        attestation_responses::attester_did.eq(*attester),
                        attestation_responses::credential
                            .eq(Some(format!(r#"{{"credentialSubject":{{"id":"{did}"}}}}"#))),
                        attestation_responses::declined.eq(false),
                        attestation_responses::created_at.eq(NOW),
                    ))
                    .execute(conn)?;
            }
            let decision = format!("decision-{tag}");
            diesel::insert_into(decisions::table)
                .values((
                    decisions::id.eq(&decision),
                    decisions::verifier_did.eq("did:web:gov.example"),
                    decisions::subject.eq(Some(&did)),
                    decisions::policy_id.eq("be.example.municipality/residence"),
                    decisions::policy_version.eq("1.0.0"),
                    decisions::fact_type.eq("ResidenceAttestation"),
                    decisions::outcome.eq("established"),
                    decisions::decided_at.eq(NOW),
                    decisions::explanation.eq(explanation(&did)),
                    decisions::evidence.eq(r#"[{"fingerprint":"c9758cbf","category":"utility"}]"#),
                    decisions::agreed_claims.eq(Some(
                        r#"{"residence.address":{"street":"Rue de la Brasserie"}}"#,
                    )),
                    decisions::status_credential_id.eq(Some(format!("urn:uuid:status-{tag}"))),
                    decisions::holds.eq(true),
                    decisions::reevaluation.eq(Some(explanation(&did))),
                ))
                .execute(conn)?;
            diesel::insert_into(accreditations::table)
                .values((
                    accreditations::id.eq(format!("accreditation-{tag}")),
                    accreditations::did.eq(&did),
                    accreditations::category.eq("neighbour"),
                    accreditations::fact_types.eq(r#"["ResidenceAttestation"]"#),
                    accreditations::controller.eq(format!("person-{tag}")),
                    accreditations::person.eq(Some(format!("person-{tag}"))),
                    accreditations::jurisdiction.eq("BE"),
                    accreditations::area.eq(Some("1050")),
                    accreditations::valid_from.eq(NOW),
                    accreditations::granted_by.eq("system"),
                    accreditations::created_at.eq(NOW),
                    accreditations::source_decision.eq(Some(&decision)),
                ))
                .execute(conn)?;
            diesel::insert_into(persons::table)
                .values((
                    persons::did.eq(&did),
                    persons::person.eq(format!("person-{tag}")),
                    persons::household.eq(Some(format!("household-{tag}"))),
                    persons::created_by.eq("admin:alice"),
                    persons::created_at.eq(NOW),
                ))
                .execute(conn)?;
            diesel::insert_into(issuers::table)
                .values((
                    issuers::id.eq(format!("gov-{tag}")),
                    issuers::did.eq(format!("did:web:gov.example:{tag}")),
                    issuers::name.eq("Municipality"),
                    issuers::entity.eq("BE0207.000.001"),
                    issuers::created_at.eq(NOW),
                ))
                .execute(conn)?;
            diesel::insert_into(issued_credentials::table)
                .values((
                    issued_credentials::id.eq(format!("urn:uuid:status-{tag}")),
                    issued_credentials::issuer_id.eq(format!("gov-{tag}")),
                    issued_credentials::subject.eq(Some(&did)),
                    issued_credentials::fact_type.eq("ResidenceStatus"),
                    issued_credentials::fingerprint.eq("f1"),
                    issued_credentials::key_id.eq("key-1"),
                    issued_credentials::issued_at.eq(NOW),
                    issued_credentials::suspended.eq(false),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
}

/// How many rows still name `did`, per table.
async fn rows_naming(app: &TestApp, did: &str) -> Value {
    let did = did.to_owned();
    app.state
        .db
        .read(move |conn| {
            let requests: i64 = attestation_requests::table
                .filter(attestation_requests::citizen_did.eq(&did))
                .count()
                .get_result(conn)?;
            // The seeded responses carry the citizen's DID in their credential.
            let responses: i64 = attestation_responses::table
                .filter(attestation_responses::credential.like(format!("%{did}%")))
                .count()
                .get_result(conn)?;
            let sessions: i64 = sessions::table
                .filter(sessions::did.eq(&did))
                .count()
                .get_result(conn)?;
            let challenges: i64 = auth_challenges::table
                .filter(auth_challenges::did.eq(&did))
                .count()
                .get_result(conn)?;
            let decisions: i64 = decisions::table
                .filter(decisions::subject.eq(&did))
                .count()
                .get_result(conn)?;
            let issued: i64 = issued_credentials::table
                .filter(issued_credentials::subject.eq(&did))
                .count()
                .get_result(conn)?;
            let persons: i64 = persons::table
                .filter(persons::did.eq(&did))
                .count()
                .get_result(conn)?;
            Ok(json!({
                "attestation_requests": requests, "attestation_responses": responses,
                "sessions": sessions, "auth_challenges": challenges, "decisions": decisions,
                "issued_credentials": issued, "persons": persons,
            }))
        })
        .await
        .unwrap()
}

type DecisionRow = (
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<i64>,
);

async fn decision(app: &TestApp, id: &str) -> DecisionRow {
    let id = id.to_owned();
    app.state
        .db
        .read(move |conn| {
            Ok(decisions::table
                .filter(decisions::id.eq(id))
                .select((
                    decisions::subject,
                    decisions::agreed_claims,
                    decisions::explanation,
                    decisions::evidence,
                    decisions::reevaluation,
                    decisions::erased_at,
                ))
                .first(conn)?)
        })
        .await
        .unwrap()
}

type RevocationRow = (Option<i64>, Option<String>, Option<bool>, Option<i64>);

async fn revocation(app: &TestApp, id: &str) -> RevocationRow {
    let id = id.to_owned();
    app.state
        .db
        .read(move |conn| {
            Ok(accreditations::table
                .filter(accreditations::id.eq(id))
                .select((
                    accreditations::revoked_at,
                    accreditations::revoked_reason,
                    accreditations::revoked_for_cause,
                    accreditations::revocation_recorded_at,
                ))
                .first(conn)?)
        })
        .await
        .unwrap()
}

async fn a_citizen_erases_their_own_data(dialect: Dialect) {
    let app = spawn(dialect).await;
    let citizen = Identity::random();
    let other = Identity::random();
    let token = app.login(&citizen).await;
    let other_token = app.login(&other).await;
    seed(&app, &citizen.did, "mine").await;
    seed(&app, &other.did, "theirs").await;
    let before_other = rows_naming(&app, &other.did).await;
    assert_eq!(
        rows_naming(&app, &citizen.did).await,
        json!({"attestation_requests": 1, "attestation_responses": 2, "sessions": 1,
               "auth_challenges": 1, "decisions": 1, "issued_credentials": 1, "persons": 1})
    );

    let erased = app
        .post(
            "/erasure-requests",
            Some(&token),
            &json!({"did": citizen.did}),
        )
        .await
        .expect(201);
    let id = erased["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("erasure-"), "{id}");
    assert!(erased["requested_at"].is_string());
    assert_eq!(
        erased["summary"],
        json!({"attestation_requests": 1, "attestation_responses": 2, "sessions": 1,
               "auth_challenges": 1, "idempotency_keys": 0, "decisions": 1,
               "accreditations": 1, "issued_credentials": 1, "persons": 1,
               // Seeded straight into the tables: nothing of it was anchored.
               "anchor_salts": 0})
    );

    // The citizen's rows are gone or anonymised; the other citizen's are untouched.
    assert_eq!(
        rows_naming(&app, &citizen.did).await,
        json!({"attestation_requests": 0, "attestation_responses": 0, "sessions": 0,
               "auth_challenges": 0, "decisions": 0, "issued_credentials": 0, "persons": 0})
    );
    assert_eq!(rows_naming(&app, &other.did).await, before_other);
    let (subject, claims, explanation, evidence, reevaluation, erased_at) =
        decision(&app, "decision-mine").await;
    assert_eq!((subject, claims), (None, None));
    assert!(erased_at.is_some());
    assert_eq!(
        evidence,
        r#"[{"fingerprint":"c9758cbf","category":"utility"}]"#
    );
    for text in [explanation.clone(), reevaluation.unwrap()] {
        assert!(!text.contains(&citizen.did), "{text}");
        assert!(!text.contains("Brasserie"), "{text}");
        assert!(!text.contains("z6MkUtility"), "{text}");
    }
    let explanation: Value = serde_json::from_str(&explanation).unwrap();
    assert_eq!(explanation["outcome"], "established");
    assert_eq!(explanation["totals"]["weight"], "3.500");
    assert_eq!(explanation["requirements"][0]["met"], true);
    assert_eq!(explanation["inputs"][0]["category"], "utility");
    assert_eq!(explanation["inputs"][0]["effective_weight"], "1.500");
    let (theirs, _, their_explanation, _, _, their_erasure) =
        decision(&app, "decision-theirs").await;
    assert_eq!(theirs.as_deref(), Some(other.did.as_str()));
    assert_eq!(their_explanation, self::explanation(&other.did));
    assert_eq!(their_erasure, None);
    // The neighbour accreditation granted from the citizen's decision is revoked, not for cause.
    let (revoked_at, reason, for_cause, recorded_at) = revocation(&app, "accreditation-mine").await;
    assert!(revoked_at.is_some());
    assert_eq!(recorded_at, revoked_at);
    assert_eq!(reason.as_deref(), Some("erasure requested by the subject"));
    assert_eq!(for_cause, Some(false));
    assert_eq!(
        revocation(&app, "accreditation-theirs").await,
        (None, None, None, None)
    );

    // The token that asked no longer works; the other citizen's still does.
    app.get("/auth/me", Some(&token))
        .await
        .expect_problem(401, "unauthenticated");
    app.get("/auth/me", Some(&other_token)).await.expect(200);

    // The record holds a digest, never the DID.
    let stored: (String, String) = {
        let id = id.clone();
        app.state
            .db
            .read(move |conn| {
                Ok(erasures::table
                    .filter(erasures::id.eq(id))
                    .select((erasures::subject_digest, erasures::summary))
                    .first(conn)?)
            })
            .await
            .unwrap()
    };
    let suffix = citizen.did.trim_start_matches("did:key:");
    assert_eq!(stored.0.len(), 64);
    assert_ne!(stored.0, citizen.did);
    assert!(!stored.0.contains(suffix) && !stored.1.contains(suffix));
    assert_eq!(
        stored.0,
        app.state
            .sealer
            .keyed_digest("erasure", citizen.did.as_bytes())
    );

    let admin = app.admin_token().await;
    let listed = app.get("/admin/erasures", Some(&admin)).await.expect(200);
    assert_eq!(listed["erasures"].as_array().unwrap().len(), 1);
    assert_eq!(listed["erasures"][0]["id"], id);
    assert_eq!(listed["erasures"][0]["subject_digest"], stored.0);
    assert_eq!(listed["erasures"][0]["summary"], erased["summary"]);
    assert!(!listed.to_string().contains(suffix));

    // The audit chain is intact and records the erasure without naming anyone.
    let audit = app.get("/admin/audit", Some(&admin)).await.expect(200);
    assert_eq!(audit["chain_intact"], true, "{audit:#}");
    let entry = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["target"] == id.as_str())
        .expect("no audit entry for the erasure");
    assert_eq!(entry["action"], "erasure");
    assert_eq!(entry["details"], erased["summary"]);
    assert!(!entry.to_string().contains(suffix));
}
on_both!(a_citizen_erases_their_own_data);

async fn erasure_is_only_for_ones_own_did(dialect: Dialect) {
    let app = spawn(dialect).await;
    let citizen = Identity::random();
    let other = Identity::random();
    seed(&app, &other.did, "theirs").await;
    let before = rows_naming(&app, &other.did).await;
    let token = app.login(&citizen).await;

    app.post(
        "/erasure-requests",
        Some(&token),
        &json!({"did": other.did}),
    )
    .await
    .expect_problem(403, "forbidden");
    app.post("/erasure-requests", None, &json!({"did": citizen.did}))
        .await
        .expect_problem(401, "unauthenticated");
    for body in [
        json!({}),
        json!({"did": citizen.did, "also": 1}),
        json!({"did": 7}),
    ] {
        app.post("/erasure-requests", Some(&token), &body)
            .await
            .expect_problem(400, "invalid_body");
    }
    assert_eq!(rows_naming(&app, &other.did).await, before);

    // Erasing twice is fine: the second erasure finds nothing (its own new session aside).
    app.post(
        "/erasure-requests",
        Some(&token),
        &json!({"did": citizen.did}),
    )
    .await
    .expect(201);
    let token = app.login(&citizen).await;
    let again = app
        .post(
            "/erasure-requests",
            Some(&token),
            &json!({"did": citizen.did}),
        )
        .await
        .expect(201);
    assert_eq!(
        again["summary"],
        json!({"attestation_requests": 0, "attestation_responses": 0, "sessions": 1,
               "auth_challenges": 1, "idempotency_keys": 0, "decisions": 0,
               "accreditations": 0, "issued_credentials": 0, "persons": 0,
               "anchor_salts": 0})
    );

    // Only administrators see the records.
    let other_token = app.login(&other).await;
    app.get("/admin/erasures", Some(&other_token))
        .await
        .expect_problem(403, "forbidden");
    let admin = app.admin_token().await;
    let listed = app.get("/admin/erasures", Some(&admin)).await.expect(200);
    let records = listed["erasures"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    // Both name the same person by the same digest; newest first.
    assert_eq!(records[0]["subject_digest"], records[1]["subject_digest"]);
    assert_eq!(records[0]["id"], again["id"]);
    app.get("/admin/erasures?limit=0", Some(&admin))
        .await
        .expect_problem(400, "invalid_parameter");
    let one = app
        .get("/admin/erasures?limit=1", Some(&admin))
        .await
        .expect(200);
    assert_eq!(one["erasures"].as_array().unwrap().len(), 1);
}
on_both!(erasure_is_only_for_ones_own_did);
