//! Status derivation for government verifiers, and the decision records it leaves.
//!
//! 1. A government verifier asks for a presentation: `POST /presentation-requests` names a
//!    policy (id, version) and returns a one-time challenge; the audience (proof `domain`) is the
//!    verifier's own DID, so a presentation made for one verifier is refused by another.
//! 2. The citizen's wallet reads the request (`GET /presentation-requests/{challenge}`) and posts
//!    a presentation bound to that challenge and domain
//!    (`POST /presentation-requests/{challenge}/presentations`).
//! 3. The service verifies the presentation (holder proof, binding, every credential: proof,
//!    data model, fact schema, validity, status) and decides with the verifier library under the
//!    policy, with the registry as recorded now. A presentation whose own proof or binding fails
//!    is refused without consuming the challenge (it is not the citizen's presentation); anything
//!    else consumes the challenge and leaves a decision record, in one transaction with the
//!    status credential when the outcome is `established`. A replay finds the challenge used.
//! 4. The decision record keeps what DESIGN.md lists per input (id, fingerprint, status-list
//!    entries, attester, category, counted weight) and the verifier's claim-free evidence, never
//!    the credentials. When a counted input is revoked, suspended or expires,
//!    [`reevaluate_withdrawn`] (called by the status-list code) or the periodic [`sweep`] judges
//!    the decision again under the same policy version (`decision::retally`); if it no longer
//!    holds, the status credential's revocation bit is set and the neighbour accreditation it
//!    granted is withdrawn. A decision never comes back: a later presentation makes a new one.
//!
//! Neighbours: an established residence grants its subject the `neighbour` category for the
//! address's postcode (`registry::grant_neighbour_in`). When deciding, a neighbour's grant is
//! seen only if the attestation that neighbour signed is for an address in the grant's postcode.

use crate::auth::{Caller, Role};
use crate::db::schema::{decision_input_entries, decision_inputs, decisions, verifier_challenges};
use crate::db::{self, AnyConnection, StoreError};
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::StrictJson;
use crate::fetch::{Resolver, StatusLists};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use corroborate_verifier::credential::rfc3339;
use corroborate_verifier::decision::{self, Decision, Evidence, Input, Outcome};
use corroborate_verifier::policy::Policy;
use corroborate_verifier::presentation::{Binding, verify_presentation};
use corroborate_verifier::proof;
use corroborate_verifier::registry::{Accreditation, Person, Registry};
use corroborate_verifier::status::{self, StatusPurpose};
use corroborate_verifier::verification::VerifyOptions;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use utoipa::{IntoParams, ToSchema};

const RESIDENCE: &str = "ResidenceAttestation";

// ---------------------------------------------------------------------------------------------
// Presentation requests
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPresentationRequest {
    /// The policy id, e.g. `be.example.municipality/residence`.
    pub policy: String,
    /// Its version; the highest known when absent.
    pub version: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyInfo {
    pub id: String,
    pub version: String,
    pub title: String,
    pub owner: String,
    pub fact_type: String,
}

impl PolicyInfo {
    fn of(policy: &Policy) -> PolicyInfo {
        PolicyInfo {
            id: policy.id.clone(),
            version: policy.version.clone(),
            title: policy.title.clone(),
            owner: policy.owner.clone(),
            fact_type: policy.fact_type.clone(),
        }
    }
}

/// What a verifier asks of a wallet.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresentationRequest {
    /// The one-time challenge the presentation's proof must carry.
    pub challenge: String,
    /// The audience the proof must name as its `domain`: the verifier's DID.
    pub domain: String,
    /// The government verifier asking.
    pub verifier: String,
    pub policy: PolicyInfo,
    pub expires: String,
    /// Where the wallet posts the presentation.
    pub submit: String,
}

type ChallengeRow = (String, String, String, String, String, i64, Option<i64>);

fn request_view(state: &AppState, row: &ChallengeRow) -> ApiResult<PresentationRequest> {
    let (challenge, verifier, domain, policy_id, version, expires, _) = row;
    let policy = crate::policies::find(&state.policies, policy_id, Some(version))?;
    Ok(PresentationRequest {
        challenge: challenge.clone(),
        domain: domain.clone(),
        verifier: verifier.clone(),
        policy: PolicyInfo::of(policy),
        expires: rfc3339(db::from_millis(*expires)),
        submit: format!(
            "{}/presentation-requests/{challenge}/presentations",
            state.public_url
        ),
    })
}

/// A government verifier asks for a presentation under a policy.
#[utoipa::path(post, path = "/presentation-requests", tag = "derivation",
    request_body = NewPresentationRequest,
    responses((status = 201, body = PresentationRequest), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn create_request(
    caller: Caller,
    state: web::Data<AppState>,
    StrictJson(body): StrictJson<NewPresentationRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Government)?;
    let policy = crate::policies::find(&state.policies, &body.policy, body.version.as_deref())?;
    let now = state.now();
    let expires = now + chrono::Duration::seconds(state.settings.auth.challenge_ttl_secs);
    let row: ChallengeRow = (
        crate::auth::random_token(),
        caller.did.clone(),
        caller.did.clone(),
        policy.id.clone(),
        policy.version.clone(),
        db::millis(expires),
        None,
    );
    let insert = row.clone();
    let verifier = caller.did.clone();
    state
        .db
        .write::<_, ApiError, _>(move |conn| {
            // A status credential needs a signing identity: refuse now rather than after the
            // citizen has presented.
            if crate::issuance::operated_by_in(conn, &verifier)?.is_empty() {
                return Err(ApiError::conflict(
                    "this verifier operates no hosted issuer to sign status credentials; an admin must create one (POST /issuers) with this DID as operator",
                ));
            }
            diesel::insert_into(verifier_challenges::table)
                .values((
                    verifier_challenges::challenge.eq(&insert.0),
                    verifier_challenges::verifier_did.eq(&insert.1),
                    verifier_challenges::domain.eq(&insert.2),
                    verifier_challenges::policy_id.eq(&insert.3),
                    verifier_challenges::policy_version.eq(&insert.4),
                    verifier_challenges::created_at.eq(db::millis(now)),
                    verifier_challenges::expires_at.eq(insert.5),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Created().json(request_view(&state, &row)?))
}

async fn load_request(state: &AppState, challenge: String) -> ApiResult<ChallengeRow> {
    let row: Option<ChallengeRow> = state
        .db
        .read(move |conn| {
            Ok(verifier_challenges::table
                .filter(verifier_challenges::challenge.eq(challenge))
                .select((
                    verifier_challenges::challenge,
                    verifier_challenges::verifier_did,
                    verifier_challenges::domain,
                    verifier_challenges::policy_id,
                    verifier_challenges::policy_version,
                    verifier_challenges::expires_at,
                    verifier_challenges::used_at,
                ))
                .first(conn)
                .optional()?)
        })
        .await?;
    let row = row.ok_or_else(|| ApiError::not_found("presentation request"))?;
    if row.6.is_some() {
        return Err(ApiError::new(
            Code::ChallengeRefused,
            "this presentation request has been answered already; ask the verifier for a new one",
        ));
    }
    if row.5 <= db::millis(state.now()) {
        return Err(ApiError::new(
            Code::Expired,
            "this presentation request has expired; ask the verifier for a new one",
        ));
    }
    Ok(row)
}

/// What a presentation request asks (for the wallet, before it presents).
#[utoipa::path(get, path = "/presentation-requests/{challenge}", tag = "derivation",
    params(("challenge" = String, Path)),
    responses((status = 200, body = PresentationRequest), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 410, body = crate::error::Problem)))]
pub async fn get_request(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let row = load_request(&state, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(request_view(&state, &row)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// A Verifiable Presentation by the citizen (holder), its `authentication` proof bound to
    /// the request's challenge and domain, holding the credentials the policy needs.
    #[schema(value_type = Object)]
    pub presentation: Value,
}

/// The decision as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    pub id: String,
    pub url: String,
    pub verifier: String,
    pub subject: Option<String>,
    pub policy: String,
    pub policy_version: String,
    pub fact_type: String,
    pub outcome: String,
    pub decided_at: String,
    /// Whether the decision still holds (false once re-evaluation found it no longer does).
    pub holds: bool,
    /// The full explanation: requirements, totals and every input with its reasons (stable
    /// codes), without the inputs' claims.
    #[schema(value_type = Object)]
    pub explanation: Value,
    /// The claims established (only for `established`; removed by erasure).
    #[schema(value_type = Object)]
    pub established: Option<Value>,
    pub status_credential_id: Option<String>,
    /// The latest re-evaluation, when there was one.
    #[schema(value_type = Object)]
    pub reevaluation: Option<Value>,
    pub erased: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionResult {
    pub decision: DecisionView,
    /// The status credential, signed by the verifier's hosted issuer, when established.
    #[schema(value_type = Object)]
    pub status_credential: Option<Value>,
}

/// The citizen's wallet presents; the verifier decides.
#[utoipa::path(post, path = "/presentation-requests/{challenge}/presentations", tag = "derivation",
    params(("challenge" = String, Path)), request_body = Submission,
    responses((status = 201, body = SubmissionResult),
        (status = 409, description = "Answered already (a replay)", body = crate::error::Problem),
        (status = 410, body = crate::error::Problem),
        (status = 422, description = "The presentation's own proof or binding fails", body = crate::error::Problem)))]
pub async fn submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    StrictJson(body): StrictJson<Submission>,
) -> ApiResult<HttpResponse> {
    let row = load_request(&state, path.into_inner()).await?;
    let (challenge, verifier, domain, policy_id, version, _, _) = row;
    let policy = crate::policies::find(&state.policies, &policy_id, Some(&version))?.clone();
    let now = state.now();

    // Verify the presentation and every credential in it.
    let resolver = Resolver::new(&state);
    let lists = StatusLists::new(&state);
    let mut options = VerifyOptions::at(now).with_status(&lists);
    options.require_schema = true;
    let binding = Binding::for_decision(&challenge, &domain);
    let report = verify_presentation(body.presentation, &binding, &options, &resolver).await;
    let mut bundle_failures = report.failures.clone();
    if !proof::all_passed(&report.proofs) && bundle_failures.is_empty() {
        bundle_failures.push(
            report
                .proofs
                .iter()
                .find_map(|p| p.failure.clone())
                .unwrap_or(corroborate_verifier::failure::Failure::NoProof),
        );
    }
    if !bundle_failures.is_empty() {
        let failures: Vec<Value> = bundle_failures
            .iter()
            .map(|f| {
                let mut value = serde_json::to_value(f).unwrap_or(Value::Null);
                if let Value::Object(map) = &mut value {
                    map.insert("detail".into(), Value::from(f.to_string()));
                }
                value
            })
            .collect();
        return Err(ApiError::new(
            Code::VerificationFailed,
            format!(
                "the presentation is refused: {}",
                bundle_failures
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        )
        .with_extra(json!({"failures": failures})));
    }
    let holder = report.holder.clone();
    let inputs: Vec<Input> = report
        .credentials
        .into_iter()
        .map(|report| Input {
            failures: report.failures(),
            credential: report.credential,
        })
        .collect();

    // The registry as recorded now, for every DID the bundle names.
    let (dids, areas) = bundle_identities(&inputs, holder.as_deref());
    let registry = state
        .db
        .read(move |conn| BundleRegistry::load(conn, &dids, &areas, now))
        .await?;
    let context = decision::Context {
        at: now,
        subject: holder.clone(),
        bundle_failures: Vec::new(),
    };
    let (decision, evidence) =
        decision::decide_with_evidence(&policy, &registry, &inputs, &context);
    let record = DecisionRecord::new(&decision, &evidence, &inputs, &verifier);
    let counted_entries: Vec<(String, i64)> = record
        .inputs
        .iter()
        .filter(|input| input.counted)
        .flat_map(|input| {
            input
                .entries
                .iter()
                .map(|(list, index, _)| (list.clone(), *index))
        })
        .collect();
    let result = store_decision(&state, challenge, record, &decision).await?;
    if result.decision.holds {
        recheck_local_entries(&state, counted_entries).await;
    }
    Ok(HttpResponse::Created().json(result))
}

/// A revocation committed between the status check and the decision's commit found no
/// decision to re-evaluate: read the lists held here again now that the decision exists.
/// (Lists held elsewhere are read again by the sweep.)
async fn recheck_local_entries(state: &web::Data<AppState>, entries: Vec<(String, i64)>) {
    let mut withdrawn = Vec::new();
    for (list, index) in entries {
        let Ok(index) = u64::try_from(index) else {
            continue;
        };
        let Ok(Some(credential)) = crate::status_lists::local_list_credential(state, &list).await
        else {
            continue;
        };
        let set = credential
            .pointer("/credentialSubject/encodedList")
            .and_then(Value::as_str)
            .and_then(|encoded| status::decode_list(encoded).ok())
            .and_then(|bits| bits.get(index));
        if set == Some(true) {
            withdrawn.push((list, index));
        }
    }
    if let Err(error) = reevaluate_withdrawn(state, withdrawn).await {
        tracing::error!(%error, "re-evaluation after a decision failed; the sweep retries");
    }
}

/// The DIDs the registry must answer for (issuers, subjects, parties, the holder), and per
/// issuer of residence attestations the postcode it attests (`""` when several).
fn bundle_identities(
    inputs: &[Input],
    holder: Option<&str>,
) -> (Vec<String>, BTreeMap<String, String>) {
    fn collect(value: &Value, out: &mut BTreeSet<String>) {
        match value {
            Value::String(s) if s.starts_with("did:") && s.len() <= 2048 => {
                out.insert(corroborate_verifier::did::did_of(s).to_owned());
            }
            Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
            Value::Object(map) => map
                .iter()
                .filter(|(k, _)| k.as_str() != "proof")
                .for_each(|(_, v)| collect(v, out)),
            _ => {}
        }
    }
    let mut dids = BTreeSet::new();
    dids.extend(holder.map(str::to_owned));
    let mut areas: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for credential in inputs.iter().filter_map(|i| i.credential.as_ref()) {
        collect(credential.json(), &mut dids);
        if credential.fact_type() == Some(RESIDENCE) {
            let postcode = credential
                .subjects()
                .first()
                .and_then(|s| s.get("residence"))
                .and_then(|r| r.pointer("/address/postalCode"))
                .and_then(Value::as_str)
                .map(|p| p.trim().to_owned())
                .unwrap_or_default();
            areas
                .entry(credential.issuer().to_owned())
                .or_default()
                .insert(postcode);
        }
    }
    let areas = areas
        .into_iter()
        .map(|(did, codes)| {
            let area = if codes.len() == 1 {
                codes.into_iter().next().unwrap_or_default()
            } else {
                String::new()
            };
            (did, area)
        })
        .collect();
    (dids.into_iter().collect(), areas)
}

/// The registry for one decision: per DID, the snapshot that applies to it (a residence
/// attester's neighbour grant only for the postcode it attests).
struct BundleRegistry {
    accreditations: HashMap<String, Vec<Accreditation>>,
    persons: HashMap<String, Person>,
}

impl BundleRegistry {
    fn load(
        conn: &mut AnyConnection,
        dids: &[String],
        areas: &BTreeMap<String, String>,
        at: DateTime<Utc>,
    ) -> Result<BundleRegistry, StoreError> {
        let general = crate::registry::snapshot_in(conn, dids, None, at)?;
        let mut accreditations = HashMap::new();
        let mut persons = HashMap::new();
        for did in dids {
            let all = general.accreditations(did);
            // Only a DID with a neighbour accreditation needs the area-filtered view.
            let neighbour = all
                .iter()
                .any(|a| a.category == crate::registry::NEIGHBOUR_CATEGORY);
            let found = match areas.get(did) {
                Some(area) if neighbour => crate::registry::snapshot_in(
                    conn,
                    std::slice::from_ref(did),
                    Some(area.as_str()),
                    at,
                )?
                .accreditations(did),
                _ => all,
            };
            accreditations.insert(did.clone(), found);
            if let Some(person) = general.person(did) {
                persons.insert(did.clone(), person);
            }
        }
        Ok(BundleRegistry {
            accreditations,
            persons,
        })
    }
}

impl Registry for BundleRegistry {
    fn accreditations(&self, did: &str) -> Vec<Accreditation> {
        self.accreditations.get(did).cloned().unwrap_or_default()
    }

    fn person(&self, did: &str) -> Option<Person> {
        self.persons.get(did).cloned()
    }
}

// ---------------------------------------------------------------------------------------------
// Decision records
// ---------------------------------------------------------------------------------------------

/// One input as the record keeps it.
struct InputRow {
    position: i32,
    fingerprint: Option<String>,
    credential_id: Option<String>,
    issuer: Option<String>,
    category: Option<String>,
    entity: Option<String>,
    counted: bool,
    weight: String,
    valid_until: Option<i64>,
    entries: Vec<(String, i64, String)>,
}

struct DecisionRecord {
    id: String,
    verifier: String,
    subject: Option<String>,
    explanation: Value,
    evidence: Value,
    agreed: Option<Value>,
    inputs: Vec<InputRow>,
}

impl DecisionRecord {
    fn new(
        decision: &Decision,
        evidence: &[Evidence],
        inputs: &[Input],
        verifier: &str,
    ) -> DecisionRecord {
        let id = format!("dec-{}", uuid::Uuid::new_v4());
        let rows = decision
            .inputs
            .iter()
            .map(|e| {
                let credential = inputs.get(e.index).and_then(|i| i.credential.as_ref());
                InputRow {
                    position: i32::try_from(e.index).unwrap_or(i32::MAX),
                    fingerprint: e.fingerprint.clone(),
                    credential_id: e.id.clone(),
                    issuer: e.issuer.clone(),
                    category: e.category.clone(),
                    entity: e.entity.clone(),
                    counted: e.counted,
                    weight: e.effective_weight.to_fixed(),
                    valid_until: credential.and_then(|c| c.valid_until()).map(db::millis),
                    entries: e
                        .credential_status
                        .as_ref()
                        .map(status_entries)
                        .unwrap_or_default(),
                }
            })
            .collect();
        DecisionRecord {
            explanation: redacted_explanation(decision),
            evidence: serde_json::to_value(evidence).unwrap_or(Value::Null),
            agreed: decision.agreed_claims.as_ref().map(nest_claims),
            subject: decision.subject.clone(),
            verifier: verifier.to_owned(),
            inputs: rows,
            id,
        }
    }
}

/// The (list URL, index, purpose) of each well-formed status entry.
fn status_entries(value: &Value) -> Vec<(String, i64, String)> {
    let entries: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    entries
        .into_iter()
        .filter_map(|entry| status::parse_entry(entry).ok())
        .filter_map(|entry| {
            Some((
                entry.list.clone(),
                i64::try_from(entry.index).ok()?,
                entry.purpose.as_str().to_owned(),
            ))
        })
        .collect()
}

/// The decision's JSON without personal content: no subject, no agreed claims, no input claims.
fn redacted_explanation(decision: &Decision) -> Value {
    let mut value = serde_json::to_value(decision).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.remove("subject");
        map.remove("agreed_claims");
        if let Some(Value::Array(inputs)) = map.get_mut("inputs") {
            for input in inputs {
                if let Value::Object(input) = input {
                    input.remove("claims");
                }
            }
        }
    }
    value
}

/// `{"residence.address": A, "residence.since": S}` → `{"residence": {"address": A, "since": S}}`.
fn nest_claims(claims: &BTreeMap<String, Value>) -> Value {
    let mut root = Map::new();
    for (path, value) in claims {
        let parts: Vec<&str> = path.split('.').collect();
        let mut node = &mut root;
        for (i, part) in parts.iter().enumerate() {
            if i + 1 == parts.len() {
                node.insert((*part).to_owned(), value.clone());
            } else {
                let next = node
                    .entry((*part).to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !next.is_object() {
                    *next = Value::Object(Map::new());
                }
                match next {
                    Value::Object(map) => node = map,
                    _ => break,
                }
            }
        }
    }
    Value::Object(root)
}

async fn store_decision(
    state: &web::Data<AppState>,
    challenge: String,
    record: DecisionRecord,
    decision: &Decision,
) -> ApiResult<SubmissionResult> {
    let at = decision.decided_at;
    let outcome = decision.outcome;
    let policy = decision.policy.clone();
    let fact_type = decision.fact_type.clone();
    let url = format!("{}/decisions/{}", state.public_url, record.id);
    let state_for_tx = state.clone();
    let (status_credential, view) = state
        .db
        .write::<_, ApiError, _>(move |conn| {
            let now = db::millis(at);
            // Consume the challenge: a concurrent or repeated submission finds it used.
            let consumed = diesel::update(
                verifier_challenges::table
                    .filter(verifier_challenges::challenge.eq(&challenge))
                    .filter(verifier_challenges::used_at.is_null())
                    .filter(verifier_challenges::expires_at.gt(now)),
            )
            .set((
                verifier_challenges::used_at.eq(now),
                verifier_challenges::decision_id.eq(&record.id),
            ))
            .execute(conn)?;
            if consumed != 1 {
                return Err(ApiError::new(
                    Code::ChallengeRefused,
                    "this presentation request has been answered already or has expired; ask the verifier for a new one",
                ));
            }
            // The verifier must still be one now (an accreditation suspended meanwhile stops it).
            let roles = crate::auth::roles_of(conn, &record.verifier, now, &state_for_tx.settings.admins)?;
            if !roles.contains(&Role::Government) {
                return Err(ApiError::forbidden(
                    "the verifier that asked for this presentation is no longer an accredited government verifier",
                ));
            }
            diesel::insert_into(decisions::table)
                .values((
                    decisions::id.eq(&record.id),
                    decisions::verifier_did.eq(&record.verifier),
                    decisions::subject.eq(&record.subject),
                    decisions::policy_id.eq(&policy.id),
                    decisions::policy_version.eq(&policy.version),
                    decisions::fact_type.eq(&fact_type),
                    decisions::outcome.eq(outcome.as_str()),
                    decisions::decided_at.eq(now),
                    decisions::explanation.eq(record.explanation.to_string()),
                    decisions::evidence.eq(record.evidence.to_string()),
                    decisions::agreed_claims.eq(record.agreed.as_ref().map(Value::to_string)),
                    decisions::holds.eq(outcome == Outcome::Established),
                ))
                .execute(conn)?;
            for input in &record.inputs {
                diesel::insert_into(decision_inputs::table)
                    .values((
                        decision_inputs::decision_id.eq(&record.id),
                        decision_inputs::position.eq(input.position),
                        decision_inputs::fingerprint.eq(&input.fingerprint),
                        decision_inputs::credential_id.eq(&input.credential_id),
                        decision_inputs::issuer.eq(&input.issuer),
                        decision_inputs::category.eq(&input.category),
                        decision_inputs::entity.eq(&input.entity),
                        decision_inputs::counted.eq(input.counted),
                        decision_inputs::weight.eq(&input.weight),
                        decision_inputs::valid_until.eq(input.valid_until),
                    ))
                    .execute(conn)?;
                let distinct: BTreeSet<&(String, i64, String)> = input.entries.iter().collect();
                for (list, index, purpose) in distinct {
                    diesel::insert_into(decision_input_entries::table)
                        .values((
                            decision_input_entries::decision_id.eq(&record.id),
                            decision_input_entries::position.eq(input.position),
                            decision_input_entries::status_list.eq(list),
                            decision_input_entries::status_index.eq(index),
                            decision_input_entries::status_purpose.eq(purpose),
                        ))
                        .execute(conn)?;
                }
            }
            if state_for_tx.settings.anchoring.decision_records {
                let document = decision_document(conn, &record.id)?;
                crate::anchoring::outbox::enqueue_in(
                    conn,
                    crate::anchoring::outbox::DECISION,
                    &record.id,
                    &record.id,
                    &document,
                    at,
                )?;
            }
            let mut status_credential = None;
            if outcome == Outcome::Established {
                let credential =
                    issue_status_credential(conn, &state_for_tx, &record, &policy, &fact_type, at)?;
                let credential_id = credential
                    .get("id")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                diesel::update(decisions::table.filter(decisions::id.eq(&record.id)))
                    .set(decisions::status_credential_id.eq(&credential_id))
                    .execute(conn)?;
                // Its anchor waits in the outbox, committed with it (no lost anchors).
                let anchored_id = credential_id
                    .clone()
                    .ok_or_else(|| ApiError::internal("a status credential without an id"))?;
                crate::anchoring::outbox::enqueue_in(
                    conn,
                    crate::anchoring::outbox::STATUS_CREDENTIAL,
                    &anchored_id,
                    &record.id,
                    &credential,
                    at,
                )?;
                if fact_type == RESIDENCE
                    && let (Some(subject), Some(agreed)) = (&record.subject, &record.agreed)
                    && let Some(address) = agreed.pointer("/residence/address")
                {
                    let postcode = address
                        .get("postalCode")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let country = address
                        .get("country")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    if !postcode.is_empty() && !country.is_empty() {
                        crate::registry::grant_neighbour_in(
                            conn, at, subject, &record.id, postcode, country,
                        )?;
                    }
                }
                status_credential = Some(credential);
            }
            let view = load_view(conn, &state_for_tx.public_url, &record.id)?;
            Ok((status_credential, view))
        })
        .await?;
    tracing::info!(decision = %url, outcome = outcome.as_str(), "decision recorded");
    Ok(SubmissionResult {
        decision: view,
        status_credential,
    })
}

/// The decision record as anchored (`anchoring.decision_records`): rebuilt from the stored row,
/// so the same document can be produced again for its receipt until the row is erased.
pub fn decision_document(conn: &mut AnyConnection, id: &str) -> ApiResult<Value> {
    type Row = (String, String, String, String, String, i64, String);
    let row: Option<Row> = decisions::table
        .filter(decisions::id.eq(id))
        .filter(decisions::erased_at.is_null())
        .select((
            decisions::verifier_did,
            decisions::policy_id,
            decisions::policy_version,
            decisions::fact_type,
            decisions::outcome,
            decisions::decided_at,
            decisions::explanation,
        ))
        .first(conn)
        .optional()?;
    let (verifier, policy, version, fact_type, outcome, decided_at, explanation) =
        row.ok_or_else(|| ApiError::not_found("decision record (erased or unknown)"))?;
    let explanation: Value = serde_json::from_str(&explanation).map_err(ApiError::internal)?;
    Ok(crate::anchoring::outbox::decision_document(
        id,
        &verifier,
        (&policy, &version),
        &fact_type,
        &outcome,
        &rfc3339(db::from_millis(decided_at)),
        &explanation,
    ))
}

/// Signs the status credential with the verifier's hosted issuer (inside the decision's
/// transaction: both commit or neither does).
fn issue_status_credential(
    conn: &mut AnyConnection,
    state: &AppState,
    record: &DecisionRecord,
    policy: &corroborate_verifier::policy::PolicyRef,
    fact_type: &str,
    at: DateTime<Utc>,
) -> ApiResult<Value> {
    let issuer_id = crate::issuance::operated_by_in(conn, &record.verifier)?
        .into_iter()
        .next()
        .ok_or_else(|| {
            ApiError::conflict("this verifier operates no hosted issuer to sign status credentials")
        })?;
    let subject = record
        .subject
        .clone()
        .ok_or_else(|| ApiError::internal("an established decision without a subject"))?;
    let unsigned = json!({
        "@context": [
            corroborate_verifier::credential::VC_V2_CONTEXT,
            corroborate_verifier::context::CORROBORATE_V1,
        ],
        "type": ["VerifiableCredential", "DerivedStatusCredential"],
        "credentialSubject": {
            "id": subject,
            "derivedStatus": {
                "factType": fact_type,
                "outcome": "established",
                "policy": policy.id,
                "policyVersion": policy.version,
                "decision": format!("{}/decisions/{}", state.public_url, record.id),
                "decidedAt": rfc3339(at),
            },
            "established": record.agreed.clone().unwrap_or_else(|| json!({})),
        },
    });
    // eddsa-jcs-2022: a status credential is checked often, offline too, and needs no JSON-LD
    // processing to verify.
    crate::issuance::issue_with(
        conn,
        state,
        &issuer_id,
        unsigned,
        at,
        corroborate_verifier::proof::Cryptosuite::EddsaJcs2022,
    )
}

type DecisionRow = (
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    bool,
    Option<String>,
    Option<i64>,
);

/// The columns a [`DecisionRow`] is read from.
type DecisionColumns = (
    decisions::id,
    decisions::verifier_did,
    decisions::subject,
    decisions::policy_id,
    decisions::policy_version,
    decisions::fact_type,
    decisions::outcome,
    decisions::decided_at,
    decisions::explanation,
    decisions::agreed_claims,
    decisions::status_credential_id,
    decisions::holds,
    decisions::reevaluation,
    decisions::erased_at,
);

const DECISION_COLUMNS: DecisionColumns = (
    decisions::id,
    decisions::verifier_did,
    decisions::subject,
    decisions::policy_id,
    decisions::policy_version,
    decisions::fact_type,
    decisions::outcome,
    decisions::decided_at,
    decisions::explanation,
    decisions::agreed_claims,
    decisions::status_credential_id,
    decisions::holds,
    decisions::reevaluation,
    decisions::erased_at,
);

fn load_view(conn: &mut AnyConnection, public_url: &str, id: &str) -> ApiResult<DecisionView> {
    let row: Option<DecisionRow> = decisions::table
        .filter(decisions::id.eq(id))
        .select(DECISION_COLUMNS)
        .first(conn)
        .optional()?;
    let row = row.ok_or_else(|| ApiError::not_found("decision"))?;
    Ok(view_of(public_url, row))
}

fn view_of(public_url: &str, row: DecisionRow) -> DecisionView {
    let parse = |text: &str| serde_json::from_str(text).unwrap_or(Value::Null);
    DecisionView {
        url: format!("{public_url}/decisions/{}", row.0),
        id: row.0,
        verifier: row.1,
        subject: row.2,
        policy: row.3,
        policy_version: row.4,
        fact_type: row.5,
        outcome: row.6,
        decided_at: rfc3339(db::from_millis(row.7)),
        explanation: parse(&row.8),
        established: row.9.as_deref().map(parse),
        status_credential_id: row.10,
        holds: row.11,
        reevaluation: row.12.as_deref().map(parse),
        erased: row.13.is_some(),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DecisionQuery {
    /// `established`, `insufficient`, `disputed` or `rejected`.
    pub outcome: Option<String>,
    pub policy: Option<String>,
    /// Only decisions that still hold (or no longer do).
    pub holds: Option<bool>,
    /// Decided at or after this time (RFC 3339).
    pub from: Option<String>,
    /// Decided before this time (RFC 3339).
    pub until: Option<String>,
    /// Only the decision on the presentation request with this challenge (so the verifier that
    /// made the request can follow it).
    pub challenge: Option<String>,
    /// At most this many (default 50, at most the bulk limit).
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionPage {
    pub decisions: Vec<DecisionView>,
    pub total: i64,
}

/// The calling government verifier's decisions, newest first, filtered.
#[utoipa::path(get, path = "/decisions", tag = "derivation", params(DecisionQuery),
    responses((status = 200, body = DecisionPage), (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn list_decisions(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<DecisionQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Government)?;
    list(&state, Owner::Verifier(caller.did), query.into_inner()).await
}

/// The decisions about the calling citizen.
#[utoipa::path(get, path = "/me/decisions", tag = "derivation", params(DecisionQuery),
    responses((status = 200, body = DecisionPage)),
    security(("bearer" = [])))]
pub async fn my_decisions(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<DecisionQuery>,
) -> ApiResult<HttpResponse> {
    list(&state, Owner::Subject(caller.did), query.into_inner()).await
}

enum Owner {
    Verifier(String),
    Subject(String),
}

async fn list(state: &AppState, owner: Owner, query: DecisionQuery) -> ApiResult<HttpResponse> {
    let bad = |detail: String| ApiError::new(Code::InvalidParameter, detail);
    if let Some(outcome) = &query.outcome
        && !["established", "insufficient", "disputed", "rejected"].contains(&outcome.as_str())
    {
        return Err(bad(format!(
            "`outcome` must be established, insufficient, disputed or rejected, not {outcome:?}"
        )));
    }
    let time = |field: &str, text: &Option<String>| -> ApiResult<Option<i64>> {
        text.as_deref()
            .map(|t| {
                corroborate_verifier::credential::parse_date_time(t)
                    .map(db::millis)
                    .ok_or_else(|| bad(format!("`{field}` must be an RFC 3339 date-time")))
            })
            .transpose()
    };
    let from = time("from", &query.from)?;
    let until = time("until", &query.until)?;
    let max = i64::try_from(state.settings.limits.bulk_items).unwrap_or(500);
    let limit = query.limit.unwrap_or(50);
    if !(1..=max).contains(&limit) {
        return Err(bad(format!("`limit` must be between 1 and {max}")));
    }
    let offset = query.offset.unwrap_or(0);
    if offset < 0 {
        return Err(bad("`offset` must not be negative".into()));
    }
    let public_url = state.public_url.clone();
    let (rows, total) = state
        .db
        .read(move |conn| {
            let filtered = || {
                let mut q = decisions::table.into_boxed();
                q = match &owner {
                    Owner::Verifier(did) => q.filter(decisions::verifier_did.eq(did.clone())),
                    Owner::Subject(did) => q.filter(decisions::subject.eq(did.clone())),
                };
                if let Some(outcome) = &query.outcome {
                    q = q.filter(decisions::outcome.eq(outcome.clone()));
                }
                if let Some(policy) = &query.policy {
                    q = q.filter(decisions::policy_id.eq(policy.clone()));
                }
                if let Some(holds) = query.holds {
                    q = q.filter(decisions::holds.eq(holds));
                }
                if let Some(from) = from {
                    q = q.filter(decisions::decided_at.ge(from));
                }
                if let Some(until) = until {
                    q = q.filter(decisions::decided_at.lt(until));
                }
                if let Some(challenge) = &query.challenge {
                    q = q.filter(
                        decisions::id.nullable().eq_any(
                            verifier_challenges::table
                                .filter(verifier_challenges::challenge.eq(challenge.clone()))
                                .select(verifier_challenges::decision_id),
                        ),
                    );
                }
                q
            };
            let total: i64 = filtered().count().get_result(conn)?;
            let rows: Vec<DecisionRow> = filtered()
                .order((decisions::decided_at.desc(), decisions::id.asc()))
                .limit(limit)
                .offset(offset)
                .select(DECISION_COLUMNS)
                .load(conn)?;
            Ok((rows, total))
        })
        .await?;
    Ok(HttpResponse::Ok().json(DecisionPage {
        decisions: rows.into_iter().map(|r| view_of(&public_url, r)).collect(),
        total,
    }))
}

/// One decision with its explanation: for the verifier that made it, or the citizen it is about.
#[utoipa::path(get, path = "/decisions/{id}", tag = "derivation", params(("id" = String, Path)),
    responses((status = 200, body = DecisionView), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get_decision(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let public_url = state.public_url.clone();
    let view = state
        .db
        .read(move |conn| Ok(load_view(conn, &public_url, &id)))
        .await??;
    let own = view.verifier == caller.did || view.subject.as_deref() == Some(caller.did.as_str());
    if !own {
        // Not found rather than forbidden: another party's decision's existence is not shared.
        return Err(ApiError::not_found("decision"));
    }
    Ok(HttpResponse::Ok().json(view))
}

// ---------------------------------------------------------------------------------------------
// Re-evaluation
// ---------------------------------------------------------------------------------------------

/// Called after a credential's status entries changed (a hosted credential revoked or
/// suspended, or a person attester published a list with newly set bits): re-evaluates every
/// decision that counted an input with one of these entries. `entries` are
/// (status list credential URL, index) pairs.
pub async fn reevaluate_withdrawn(
    state: &web::Data<AppState>,
    entries: Vec<(String, u64)>,
) -> ApiResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let at = state.now();
    let policies = state.policies.clone();
    let state_for_tx = state.clone();
    let changed = state
        .db
        .write::<_, ApiError, _>(move |conn| {
            let now = db::millis(at);
            let mut affected = BTreeSet::new();
            for (list, index) in &entries {
                let Ok(index) = i64::try_from(*index) else {
                    continue;
                };
                let hits: Vec<(String, i32, String)> = decision_input_entries::table
                    .filter(decision_input_entries::status_list.eq(list))
                    .filter(decision_input_entries::status_index.eq(index))
                    .select((
                        decision_input_entries::decision_id,
                        decision_input_entries::position,
                        decision_input_entries::status_purpose,
                    ))
                    .load(conn)?;
                for (decision_id, position, purpose) in hits {
                    let because = if purpose == StatusPurpose::Suspension.as_str() {
                        "suspended"
                    } else {
                        "revoked"
                    };
                    mark_withdrawn(conn, &decision_id, position, because, now)?;
                    affected.insert(decision_id);
                }
            }
            let mut changed = Vec::new();
            for decision_id in affected {
                if reevaluate_isolated(conn, &state_for_tx, &policies, &decision_id, at) {
                    changed.push(decision_id);
                }
            }
            Ok(changed)
        })
        .await?;
    for id in changed {
        tracing::info!(decision = %id, "decision no longer holds: its status credential is revoked");
    }
    Ok(())
}

/// Records that an input stopped counting (`because`: revoked, suspended, expired) at `at`
/// (Unix ms); the first reason stands.
fn mark_withdrawn(
    conn: &mut AnyConnection,
    decision_id: &str,
    position: i32,
    because: &str,
    at: i64,
) -> Result<(), StoreError> {
    diesel::update(
        decision_inputs::table
            .filter(decision_inputs::decision_id.eq(decision_id))
            .filter(decision_inputs::position.eq(position))
            .filter(decision_inputs::withdrawn_at.is_null()),
    )
    .set((
        decision_inputs::withdrawn_at.eq(at),
        decision_inputs::withdrawn_because.eq(because),
    ))
    .execute(conn)?;
    Ok(())
}

/// [`reevaluate_in`] in a savepoint of its own: one decision that cannot be judged again (logged)
/// neither rolls back nor blocks the others. The input's withdrawal is kept either way, so the
/// next sweep tries again.
fn reevaluate_isolated(
    conn: &mut AnyConnection,
    state: &AppState,
    policies: &crate::policies::Policies,
    decision_id: &str,
    at: DateTime<Utc>,
) -> bool {
    match conn.transaction(|conn| reevaluate_in(conn, state, policies, decision_id, at)) {
        Ok(changed) => changed,
        Err(error) => {
            tracing::error!(decision = decision_id, %error, "re-evaluation failed; retried at the next sweep");
            false
        }
    }
}

/// Judges a holding decision again without its withdrawn inputs; returns whether it stopped
/// holding (its status credential is then revoked and its neighbour grant withdrawn).
fn reevaluate_in(
    conn: &mut AnyConnection,
    state: &AppState,
    policies: &crate::policies::Policies,
    decision_id: &str,
    at: DateTime<Utc>,
) -> ApiResult<bool> {
    let row: Option<(String, String, String, bool, Option<String>)> = decisions::table
        .filter(decisions::id.eq(decision_id))
        .select((
            decisions::policy_id,
            decisions::policy_version,
            decisions::evidence,
            decisions::holds,
            decisions::status_credential_id,
        ))
        .first(conn)
        .optional()?;
    let Some((policy_id, version, evidence, holds, status_credential)) = row else {
        return Ok(false);
    };
    if !holds {
        return Ok(false);
    }
    let Some(policy) = policies.get(&(policy_id.clone(), version.clone())) else {
        // The policy version is no longer loaded: the decision cannot be judged again. Fail
        // closed: it no longer holds.
        tracing::warn!(decision = decision_id, policy = %policy_id, %version, "policy version missing at re-evaluation");
        return withdraw(
            conn,
            state,
            decision_id,
            status_credential,
            at,
            json!({
                "at": rfc3339(at), "outcome": "insufficient",
                "reason": "the policy version is no longer available",
            }),
        )
        .map(|()| true);
    };
    let evidence: Vec<Evidence> = serde_json::from_str(&evidence).map_err(ApiError::internal)?;
    let withdrawn: Vec<(i32, Option<String>)> = decision_inputs::table
        .filter(decision_inputs::decision_id.eq(decision_id))
        .filter(decision_inputs::withdrawn_at.is_not_null())
        .select((
            decision_inputs::position,
            decision_inputs::withdrawn_because,
        ))
        .load(conn)?;
    let positions: BTreeSet<usize> = withdrawn
        .iter()
        .filter_map(|(p, _)| usize::try_from(*p).ok())
        .collect();
    let again = decision::retally(policy, &evidence, &positions);
    let summary = json!({
        "at": rfc3339(at),
        "outcome": again.outcome,
        "totals": again.totals,
        "requirements": again.requirements,
        "counted": again.counted,
        "withdrawn": withdrawn.iter().map(|(p, why)| json!({"index": p, "because": why})).collect::<Vec<_>>(),
    });
    if again.outcome == Outcome::Established {
        diesel::update(decisions::table.filter(decisions::id.eq(decision_id)))
            .set((
                decisions::reevaluated_at.eq(db::millis(at)),
                decisions::reevaluation.eq(summary.to_string()),
            ))
            .execute(conn)?;
        return Ok(false);
    }
    withdraw(conn, state, decision_id, status_credential, at, summary).map(|()| true)
}

fn withdraw(
    conn: &mut AnyConnection,
    state: &AppState,
    decision_id: &str,
    status_credential: Option<String>,
    at: DateTime<Utc>,
    summary: Value,
) -> ApiResult<()> {
    diesel::update(decisions::table.filter(decisions::id.eq(decision_id)))
        .set((
            decisions::holds.eq(false),
            decisions::reevaluated_at.eq(db::millis(at)),
            decisions::reevaluation.eq(summary.to_string()),
        ))
        .execute(conn)?;
    if let Some(credential_id) = status_credential {
        // An operator may have revoked it already: revoking twice is refused, and must not
        // stop the decision from being withdrawn.
        let revoked: Option<Option<i64>> = crate::db::schema::issued_credentials::table
            .filter(crate::db::schema::issued_credentials::id.eq(&credential_id))
            .select(crate::db::schema::issued_credentials::revoked_at)
            .first(conn)
            .optional()?;
        if !matches!(revoked, Some(Some(_))) {
            crate::status_lists::set_status_in(
                conn,
                state,
                &credential_id,
                StatusPurpose::Revocation,
                true,
                at,
            )?;
        }
    }
    crate::registry::withdraw_neighbour_in(
        conn,
        at,
        decision_id,
        "the residence status it was granted from no longer holds",
    )?;
    Ok(())
}

/// Periodic checks that do not wait for a status change to be announced: counted inputs that
/// have expired, and the status lists of holding decisions' inputs read again (lists of other
/// issuers change without telling us; a missed announcement is caught here). Returns how many
/// entries were found withdrawn.
pub async fn sweep(state: &web::Data<AppState>) -> ApiResult<usize> {
    let now = state.now();
    let now_ms = db::millis(now);
    // 1. Expired inputs of holding decisions.
    let expired: Vec<(String, i32)> = state
        .db
        .read(move |conn| {
            Ok(decision_inputs::table
                .inner_join(decisions::table.on(decisions::id.eq(decision_inputs::decision_id)))
                .filter(decisions::holds.eq(true))
                .filter(decision_inputs::counted.eq(true))
                .filter(decision_inputs::withdrawn_at.is_null())
                .filter(decision_inputs::valid_until.le(now_ms))
                .select((decision_inputs::decision_id, decision_inputs::position))
                .limit(1000)
                .load(conn)?)
        })
        .await?;
    let mut found = expired.len();
    if !expired.is_empty() {
        let policies = state.policies.clone();
        let shared = state.clone();
        let written = state
            .db
            .write::<_, ApiError, _>(move |conn| {
                let mut affected = BTreeSet::new();
                for (decision_id, position) in expired {
                    mark_withdrawn(conn, &decision_id, position, "expired", now_ms)?;
                    affected.insert(decision_id);
                }
                for decision_id in affected {
                    reevaluate_isolated(conn, &shared, &policies, &decision_id, now);
                }
                Ok(())
            })
            .await;
        if let Err(error) = written {
            // Step 2 runs all the same.
            tracing::error!(%error, "expiry sweep failed");
        }
    }
    // 2. Status entries of counted inputs of holding decisions, checked against their lists, a
    // batch per sweep in (list, index) order from where the last sweep stopped.
    const BATCH: i64 = 5000;
    let cursor = state
        .sweep_cursor
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let entries: Vec<(String, i64, String, Option<String>)> = state
        .db
        .read(move |conn| {
            let mut query = decision_input_entries::table
                .inner_join(
                    decision_inputs::table.on(decision_inputs::decision_id
                        .eq(decision_input_entries::decision_id)
                        .and(decision_inputs::position.eq(decision_input_entries::position))),
                )
                .inner_join(decisions::table.on(decisions::id.eq(decision_inputs::decision_id)))
                .filter(decisions::holds.eq(true))
                .filter(decision_inputs::counted.eq(true))
                .filter(decision_inputs::withdrawn_at.is_null())
                .into_boxed();
            if let Some((list, index)) = cursor {
                query = query.filter(
                    decision_input_entries::status_list.gt(list.clone()).or(
                        decision_input_entries::status_list
                            .eq(list)
                            .and(decision_input_entries::status_index.gt(index)),
                    ),
                );
            }
            Ok(query
                .select((
                    decision_input_entries::status_list,
                    decision_input_entries::status_index,
                    decision_input_entries::status_purpose,
                    decision_inputs::issuer,
                ))
                .distinct()
                .order((
                    decision_input_entries::status_list.asc(),
                    decision_input_entries::status_index.asc(),
                ))
                .limit(BATCH)
                .load(conn)?)
        })
        .await?;
    *state.sweep_cursor.lock().unwrap_or_else(|e| e.into_inner()) =
        if entries.len() < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            None
        } else {
            entries
                .last()
                .map(|(list, index, _, _)| (list.clone(), *index))
        };
    let resolver = Resolver::new(state);
    let lists = StatusLists::new(state);
    let limits = corroborate_verifier::json::Limits::default();
    let mut withdrawn = Vec::new();
    for (list, index, purpose, issuer) in entries {
        let (Some(issuer), Ok(index)) = (issuer, u64::try_from(index)) else {
            continue;
        };
        let entry = json!({
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": index.to_string(),
            "statusListCredential": list,
        });
        let Ok(entry) = status::parse_entry(&entry) else {
            continue;
        };
        match status::check_entry(&entry, &issuer, now, &limits, &lists, &resolver).await {
            Ok(checked) if checked.set => withdrawn.push((list, index)),
            Ok(_) => {}
            // A list that cannot be read now is tried again at the next sweep.
            Err(error) => tracing::debug!(%list, %error, "status list not checked in sweep"),
        }
    }
    found += withdrawn.len();
    reevaluate_withdrawn(state, withdrawn).await?;
    Ok(found)
}

/// Deletes presentation requests that expired unanswered; returns how many (maintenance).
pub async fn purge_expired_requests(state: &AppState) -> Result<usize, StoreError> {
    let now = db::millis(state.now());
    state
        .db
        .write::<_, StoreError, _>(move |conn| {
            Ok(diesel::delete(
                verifier_challenges::table
                    .filter(verifier_challenges::expires_at.lt(now))
                    .filter(verifier_challenges::used_at.is_null()),
            )
            .execute(conn)?)
        })
        .await
}

pub fn routes(cfg: &mut web::ServiceConfig, limiter: &crate::app::Limiter) {
    cfg.route("/presentation-requests", web::post().to(create_request));
    limiter.resource(
        cfg,
        "/presentation-requests/{challenge}",
        vec![web::get().to(get_request)],
    );
    limiter.resource(
        cfg,
        "/presentation-requests/{challenge}/presentations",
        vec![web::post().to(submit)],
    );
    cfg.route("/decisions", web::get().to(list_decisions))
        .route("/decisions/{id}", web::get().to(get_decision))
        .route("/me/decisions", web::get().to(my_decisions));
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        create_request,
        get_request,
        submit,
        list_decisions,
        my_decisions,
        get_decision
    ),
    components(schemas(
        NewPresentationRequest,
        PresentationRequest,
        PolicyInfo,
        Submission,
        SubmissionResult,
        DecisionView,
        DecisionPage
    ))
)]
pub struct Api;
