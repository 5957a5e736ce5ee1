//! The right to erasure (GDPR art. 17): `POST /erasure-requests` lets an authenticated citizen
//! erase the personal data the service holds about their own DID; `GET /admin/erasures` lets
//! administrators see that erasures happened.
//!
//! [`erase`] runs in one transaction: everything below happens, with its record, or nothing does.
//! - Deleted: the citizen's attestation requests and every response to them (attestations about
//!   the citizen, declines), their sessions (the token that asked stops working) and
//!   authentication challenges, their stored idempotent responses, and their `persons` row.
//! - Anonymised: the decisions about them keep no subject, no agreed claims, and an explanation
//!   redacted to outcome, policy, fact type, time, totals, requirements and, per input, only its
//!   category, weights and reason codes ([`redact_explanation`]; a re-evaluation is redacted the
//!   same way); credentials issued about them (their status credentials) keep no subject.
//! - Revoked, not for cause: `neighbour` accreditations granted from those decisions, since they
//!   rested on the citizen's own residence. (Directly, not through the registry's
//!   `withdraw_neighbour_in`, whose audit entry would write the DID into the append-only log next
//!   to the erasure; this erasure's own audit entry counts them instead.)
//! - Recorded: an `erasures` row naming the citizen only by `Sealer::keyed_digest("erasure",
//!   DID)` (never the DID), with the count per table; and an audit entry with the same counts.
//!
//! What is kept, and why (accountability, art. 17(3)(b) and (e)): a decision's outcome, policy
//! and `evidence` (per input: fingerprint, status entry, attester, category, counted weight; no
//! claim and no subject), so that it can still be re-evaluated when an input is revoked and its
//! status credential revoked if it no longer holds; its `decision_inputs` likewise. Accreditation
//! rows stay, revoked, because the trust registry is history: decisions about other people that
//! counted this person's attestations must stay explainable. The audit log is append-only and
//! keeps administrative acts as they were recorded. Attestations this person signed about others
//! belong to those others' records and are not touched.
//!
//! An erasure takes no `Idempotency-Key`: a stored response would be keyed by the DID it erases.
//! Repeating one is harmless; it records an erasure of nothing (all counts zero).

use crate::auth::{Caller, Role};
use crate::db::schema::{
    accreditations, attestation_requests, attestation_responses, auth_challenges, decisions,
    erasures, idempotency_keys, issued_credentials, persons, sessions,
};
use crate::db::{self, AnyConnection, StoreError};
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::StrictJson;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};

/// The category of accreditations granted from a person's own established residence.
pub const NEIGHBOUR_CATEGORY: &str = "neighbour";

/// Why accreditations granted from an erased person's decisions are revoked.
pub const REVOCATION_REASON: &str = "erasure requested by the subject";

/// Who the audit log and revocations name as acting: the data subject, deliberately unnamed.
pub const ACTOR: &str = "data-subject";

/// The body of `POST /erasure-requests`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    /// The DID whose data to erase: the caller's own (anything else is refused).
    pub did: String,
}

/// What an erasure did, per table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureSummary {
    /// Attestation requests of the citizen, deleted.
    pub attestation_requests: u64,
    /// Responses to those requests (attestations, declines), deleted.
    pub attestation_responses: u64,
    /// Sessions (bearer tokens) of the DID, deleted.
    pub sessions: u64,
    /// Authentication challenges of the DID, deleted.
    pub auth_challenges: u64,
    /// Stored idempotent responses of the DID, deleted.
    pub idempotency_keys: u64,
    /// Decisions about the DID, anonymised.
    pub decisions: u64,
    /// Neighbour accreditations granted from those decisions, revoked.
    pub accreditations: u64,
    /// Credentials issued about the DID, anonymised.
    pub issued_credentials: u64,
    /// The registry's person record of the DID, deleted.
    pub persons: u64,
    /// Salts of anchored fingerprints about the DID, deleted.
    pub anchor_salts: u64,
}

/// That an erasure happened.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErasureRecord {
    /// `erasure-<uuid>`.
    pub id: String,
    /// When it was requested (and done), RFC 3339.
    pub requested_at: String,
    pub summary: ErasureSummary,
}

/// An erasure as administrators see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErasureEntry {
    pub id: String,
    /// HMAC-SHA256 of the DID under a key derived from the service's master key: whoever holds
    /// the service can tell whether a given DID was erased; nobody can read the DID from it.
    pub subject_digest: String,
    pub requested_at: String,
    pub summary: ErasureSummary,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureList {
    /// Newest first.
    pub erasures: Vec<ErasureEntry>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ErasureQuery {
    /// At most this many records (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// Erases the caller's personal data (see the module documentation for what is deleted,
/// anonymised, revoked and kept). The token used stops working.
#[utoipa::path(post, path = "/erasure-requests", tag = "erasure",
    request_body = ErasureRequest,
    responses(
        (status = 201, body = ErasureRecord),
        (status = 400, body = crate::error::Problem),
        (status = 401, body = crate::error::Problem),
        (status = 403, description = "The DID is not the caller's", body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn create(
    caller: Caller,
    state: web::Data<AppState>,
    StrictJson(body): StrictJson<ErasureRequest>,
) -> ApiResult<HttpResponse> {
    if body.did != caller.did {
        return Err(ApiError::forbidden(
            "an erasure can only be requested for the DID you authenticated with",
        ));
    }
    let at = state.now();
    let id = format!("erasure-{}", uuid::Uuid::new_v4());
    let digest = state.sealer.keyed_digest("erasure", caller.did.as_bytes());
    let did = caller.did;
    let record = state
        .db
        .write::<_, ApiError, _>(move |conn| Ok(erase(conn, &did, &id, &digest, at)?))
        .await?;
    Ok(HttpResponse::Created().json(record))
}

/// Erasures done (admins only), newest first.
#[utoipa::path(get, path = "/admin/erasures", tag = "erasure", params(ErasureQuery),
    responses((status = 200, body = ErasureList), (status = 403, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn list(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<ErasureQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin)?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::new(
            Code::InvalidParameter,
            "`limit` must be between 1 and 1000",
        ));
    }
    let rows: Vec<(String, String, i64, String)> = state
        .db
        .read(move |conn| {
            Ok(erasures::table
                .order((erasures::requested_at.desc(), erasures::id.asc()))
                .limit(limit)
                .select((
                    erasures::id,
                    erasures::subject_digest,
                    erasures::requested_at,
                    erasures::summary,
                ))
                .load(conn)?)
        })
        .await?;
    let erasures = rows
        .into_iter()
        .map(|(id, subject_digest, requested_at, summary)| {
            let summary = serde_json::from_str(&summary).map_err(|e| {
                ApiError::internal(format!("erasure {id}: unreadable summary: {e}"))
            })?;
            Ok(ErasureEntry {
                id,
                subject_digest,
                requested_at: time(db::from_millis(requested_at)),
                summary,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(ErasureList { erasures }))
}

fn time(at: DateTime<Utc>) -> String {
    corroborate_verifier::credential::rfc3339(at)
}

/// Erases `did`'s personal data and records it as erasure `id`; call it inside a write
/// transaction, so that all of it commits together.
pub fn erase(
    conn: &mut AnyConnection,
    did: &str,
    id: &str,
    subject_digest: &str,
    at: DateTime<Utc>,
) -> Result<ErasureRecord, StoreError> {
    let now = db::millis(at);
    let count = |n: usize| n as u64;
    let mut summary = ErasureSummary::default();

    let requests: Vec<String> = attestation_requests::table
        .filter(attestation_requests::citizen_did.eq(did))
        .select(attestation_requests::id)
        .load(conn)?;
    summary.attestation_responses = count(
        diesel::delete(
            attestation_responses::table
                .filter(attestation_responses::request_id.eq_any(requests.clone())),
        )
        .execute(conn)?,
    );
    summary.attestation_requests = count(
        diesel::delete(
            attestation_requests::table.filter(attestation_requests::id.eq_any(requests)),
        )
        .execute(conn)?,
    );
    summary.sessions =
        count(diesel::delete(sessions::table.filter(sessions::did.eq(did))).execute(conn)?);
    summary.auth_challenges = count(
        diesel::delete(auth_challenges::table.filter(auth_challenges::did.eq(did)))
            .execute(conn)?,
    );
    summary.idempotency_keys = count(
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::caller.eq(did)))
            .execute(conn)?,
    );

    let about: Vec<(String, String, Option<String>)> = decisions::table
        .filter(decisions::subject.eq(did))
        .select((
            decisions::id,
            decisions::explanation,
            decisions::reevaluation,
        ))
        .load(conn)?;
    for (decision, explanation, reevaluation) in &about {
        let redacted = redact_text(explanation);
        let reevaluation = reevaluation.as_deref().map(redact_text);
        diesel::update(decisions::table.filter(decisions::id.eq(decision)))
            .set((
                decisions::subject.eq(None::<String>),
                decisions::agreed_claims.eq(None::<String>),
                decisions::explanation.eq(redacted),
                decisions::reevaluation.eq(reevaluation),
                decisions::erased_at.eq(Some(now)),
            ))
            .execute(conn)?;
    }
    summary.decisions = count(about.len());
    let decision_ids: Vec<String> = about.into_iter().map(|(id, _, _)| id).collect();
    // The anchored fingerprints stay on the ledger; without the salt we held they can no longer
    // be linked to the citizen's data (the citizen's own receipt still holds it).
    summary.anchor_salts = count(crate::anchoring::outbox::forget_salts_in(
        conn,
        &decision_ids,
    )?);
    summary.accreditations = count(
        diesel::update(
            accreditations::table
                .filter(accreditations::source_decision.eq_any(decision_ids))
                .filter(accreditations::category.eq(NEIGHBOUR_CATEGORY))
                .filter(accreditations::revoked_at.is_null()),
        )
        .set((
            accreditations::revoked_at.eq(Some(now)),
            accreditations::revoked_reason.eq(Some(REVOCATION_REASON)),
            accreditations::revoked_for_cause.eq(Some(false)),
            accreditations::revoked_by.eq(Some(ACTOR)),
            accreditations::revocation_recorded_at.eq(Some(now)),
        ))
        .execute(conn)?,
    );
    summary.issued_credentials = count(
        diesel::update(issued_credentials::table.filter(issued_credentials::subject.eq(did)))
            .set(issued_credentials::subject.eq(None::<String>))
            .execute(conn)?,
    );
    summary.persons =
        count(diesel::delete(persons::table.filter(persons::did.eq(did))).execute(conn)?);

    let summary_json = serde_json::to_value(&summary)
        .map_err(|e| StoreError::Query(diesel::result::Error::SerializationError(Box::new(e))))?;
    diesel::insert_into(erasures::table)
        .values((
            erasures::id.eq(id),
            erasures::subject_digest.eq(subject_digest),
            erasures::requested_at.eq(now),
            erasures::summary.eq(summary_json.to_string()),
        ))
        .execute(conn)?;
    crate::audit::record(conn, at, ACTOR, "erasure", id, summary_json)?;
    Ok(ErasureRecord {
        id: id.to_owned(),
        requested_at: time(db::from_millis(now)),
        summary,
    })
}

fn redact_text(stored: &str) -> String {
    let value = serde_json::from_str(stored).unwrap_or(Value::Null);
    redact_explanation(&value).to_string()
}

/// A decision explanation (the decision's JSON form, `docs/policies.md`) without anything about
/// its subject: outcome, policy, fact type, time, totals and requirements; per input only its
/// index, category, whether it counted, its weights and its reason codes; rejection codes.
/// Everything else — subject, agreed claims, per-input claims, ids, fingerprints, issuers,
/// status entries, reason details (which may name subjects), the summary sentence — is left out.
/// Unknown members are left out too: the redaction keeps only what it knows to be safe.
pub fn redact_explanation(explanation: &Value) -> Value {
    let keep = |from: &Value, members: &[&str]| -> Map<String, Value> {
        members
            .iter()
            .filter_map(|m| from.get(*m).map(|v| ((*m).to_owned(), v.clone())))
            .collect()
    };
    let codes = |list: Option<&Value>| -> Value {
        Value::Array(
            list.and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|item| item.get("code").cloned())
                        .map(|code| json!({ "code": code }))
                        .collect()
                })
                .unwrap_or_default(),
        )
    };
    let mut redacted = keep(
        explanation,
        &[
            "outcome",
            "policy",
            "fact_type",
            "decided_at",
            "totals",
            "requirements",
        ],
    );
    redacted.insert(
        "rejected_because".to_owned(),
        codes(explanation.get("rejected_because")),
    );
    let inputs = explanation
        .get("inputs")
        .and_then(Value::as_array)
        .map(|inputs| {
            inputs
                .iter()
                .map(|input| {
                    let mut kept = keep(
                        input,
                        &[
                            "index",
                            "category",
                            "counted",
                            "base_weight",
                            "effective_weight",
                        ],
                    );
                    kept.insert("reasons".to_owned(), codes(input.get("reasons")));
                    Value::Object(kept)
                })
                .collect()
        })
        .unwrap_or_default();
    redacted.insert("inputs".to_owned(), Value::Array(inputs));
    redacted.insert("redacted".to_owned(), Value::from(REVOCATION_REASON));
    Value::Object(redacted)
}

pub fn routes(cfg: &mut web::ServiceConfig, _limiter: &crate::app::Limiter) {
    cfg.route("/erasure-requests", web::post().to(create))
        .route("/admin/erasures", web::get().to(list));
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(create, list),
    components(schemas(
        ErasureRequest,
        ErasureRecord,
        ErasureSummary,
        ErasureEntry,
        ErasureList
    ))
)]
pub struct Api;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_redacted_explanation_keeps_the_accounting_and_drops_the_person() {
        let subject = "did:key:z6MkSubject";
        let explanation = json!({
            "outcome": "established",
            "policy": {"id": "be.example.municipality/residence", "version": "1.0.0"},
            "fact_type": "ResidenceAttestation",
            "subject": subject,
            "decided_at": "2025-03-01T00:00:00Z",
            "agreed_claims": {"residence.address": {"street": "Rue de la Brasserie"}},
            "totals": {"weight": "3.500", "categories": ["bank", "utility"], "entities": 2},
            "requirements": [{"rule": "min_weight", "required": "3.000", "actual": "3.500", "met": true}],
            "rejected_because": [{"code": "mixed_subjects", "subjects": [subject, "did:key:other"]}],
            "inputs": [{
                "index": 0,
                "id": "urn:uuid:1",
                "fingerprint": "abc",
                "issuer": "did:key:z6MkAttester",
                "category": "utility",
                "entity": "BE0999.000.101",
                "claims": {"residence.since": "2021-09-01"},
                "counted": false,
                "base_weight": "1.500",
                "effective_weight": "0.000",
                "reasons": [{"code": "about_another_subject", "subject": subject, "expected": "x"}]
            }],
            "summary": "About did:key:z6MkSubject.",
            "something_new": subject
        });
        let redacted = redact_explanation(&explanation);
        let text = redacted.to_string();
        for gone in [
            subject,
            "Brasserie",
            "2021-09-01",
            "z6MkAttester",
            "urn:uuid:1",
            "abc\"",
        ] {
            assert!(!text.contains(gone), "{gone} left in {text}");
        }
        assert_eq!(redacted["outcome"], "established");
        assert_eq!(redacted["policy"], explanation["policy"]);
        assert_eq!(redacted["totals"], explanation["totals"]);
        assert_eq!(redacted["requirements"], explanation["requirements"]);
        assert_eq!(
            redacted["rejected_because"],
            json!([{"code": "mixed_subjects"}])
        );
        assert_eq!(
            redacted["inputs"],
            json!([{
                "index": 0, "category": "utility", "counted": false,
                "base_weight": "1.500", "effective_weight": "0.000",
                "reasons": [{"code": "about_another_subject"}]
            }])
        );
        // Not JSON, or not an object: still a redacted object, with nothing of the input.
        let broken = redact_explanation(&Value::Null);
        assert_eq!(broken["inputs"], json!([]));
        assert!(broken.get("outcome").is_none());
    }
}
