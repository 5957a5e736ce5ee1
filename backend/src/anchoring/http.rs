//! Anchoring over HTTP: a decision's receipt (for the citizen it is about and the verifier that
//! made it), the transparency log's checkpoints, proofs and leaves (public: they hold only
//! hashes), the keys a verifier of receipts trusts, and the batches' progress (administrators).

use super::outbox;
use super::receipts::{self, ReceiptError};
use crate::auth::{Caller, Role};
use crate::db::schema::{anchor_batches, decisions, log_checkpoints, log_leaves};
use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The most leaves one `/log/leaves` page returns.
const LEAVES_PAGE: i64 = 1000;

impl From<ReceiptError> for ApiError {
    fn from(error: ReceiptError) -> ApiError {
        match error {
            ReceiptError::NotAnchored => ApiError::not_found("receipt"),
            ReceiptError::NotBatchedYet => ApiError::new(
                Code::Conflict,
                "this record waits for its anchoring batch; ask again in a minute",
            ),
            ReceiptError::Store(e) => e.into(),
            ReceiptError::Query(e) => e.into(),
            ReceiptError::Damaged(detail) => ApiError::internal(detail),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptQuery {
    /// `status` (the default: the status credential's receipt) or `decision` (the decision
    /// record's, when decision records are anchored).
    #[serde(default)]
    pub record: Option<String>,
}

/// The anchoring receipt of a decision's status credential (or, with `?record=decision`, of the
/// decision record itself, returned with the record so that it can be checked).
pub async fn decision_receipt(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ReceiptQuery>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let lookup = id.clone();
    let row: Option<(String, Option<String>, Option<String>)> = state
        .db
        .read(move |conn| {
            Ok(decisions::table
                .filter(decisions::id.eq(&lookup))
                .select((
                    decisions::verifier_did,
                    decisions::subject,
                    decisions::status_credential_id,
                ))
                .first(conn)
                .optional()?)
        })
        .await?;
    let Some((verifier, subject, credential)) = row else {
        return Err(ApiError::not_found("decision"));
    };
    if verifier != caller.did && subject.as_deref() != Some(caller.did.as_str()) {
        return Err(ApiError::not_found("decision"));
    }
    let anchoring = &state.anchoring;
    match query.record.as_deref() {
        None | Some("status") => {
            let credential = credential.ok_or_else(|| {
                ApiError::not_found("status credential (only an established decision has one)")
            })?;
            let receipt =
                receipts::receipt(&state.db, anchoring, outbox::STATUS_CREDENTIAL, &credential)
                    .await?;
            Ok(HttpResponse::Ok().json(receipt))
        }
        Some("decision") => {
            let receipt = receipts::receipt(&state.db, anchoring, outbox::DECISION, &id).await?;
            let record = state
                .db
                .read(move |conn| Ok(crate::derivation::decision_document(conn, &id)))
                .await??;
            Ok(HttpResponse::Ok().json(json!({ "receipt": receipt, "record": record })))
        }
        Some(other) => Err(ApiError::new(
            Code::InvalidParameter,
            format!("record must be `status` or `decision`, not {other:?}"),
        )),
    }
}

/// What a verifier of receipts trusts: the log's key, the witnesses' keys, the quorum.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrustView {
    /// Note verifier keys of the transparency log (its origin is the key's name).
    pub logs: Vec<String>,
    /// Cosigning keys of the configured witnesses.
    pub witnesses: Vec<String>,
    pub quorum: usize,
    /// The connector anchoring new batches.
    pub connector: String,
    /// The accounts whose transactions anchor roots on an Ethereum ledger: a receipt's
    /// transaction must come from one of them.
    pub ethereum_senders: Vec<String>,
}

pub async fn trust(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let log = &state.anchoring.log;
    Ok(HttpResponse::Ok().json(TrustView {
        logs: vec![log.verifier().to_vkey()],
        witnesses: log.witnesses().iter().map(|w| w.key.to_vkey()).collect(),
        quorum: log.quorum(),
        connector: state.anchoring.slot.name().to_owned(),
        ethereum_senders: super::ethereum::EthereumConnector::sender_of(
            &state.anchoring.settings.ethereum,
        )
        .into_iter()
        .collect(),
    }))
}

fn note_response(note: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(note)
}

/// The newest checkpoint (a signed note with the cosignatures it has so far).
pub async fn latest_checkpoint(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let note: Option<String> = state
        .db
        .read(|conn| {
            Ok(log_checkpoints::table
                .order(log_checkpoints::size.desc())
                .select(log_checkpoints::note)
                .first(conn)
                .optional()?)
        })
        .await?;
    note.map(note_response)
        .ok_or_else(|| ApiError::not_found("checkpoint (the log is empty)"))
}

/// The checkpoint of one tree size.
pub async fn checkpoint(
    state: web::Data<AppState>,
    path: web::Path<u64>,
) -> ApiResult<HttpResponse> {
    let size = i64::try_from(path.into_inner())
        .map_err(|_| ApiError::new(Code::InvalidParameter, "size is too large"))?;
    let note: Option<String> = state
        .db
        .read(move |conn| {
            Ok(log_checkpoints::table
                .filter(log_checkpoints::size.eq(size))
                .select(log_checkpoints::note)
                .first(conn)
                .optional()?)
        })
        .await?;
    note.map(note_response)
        .ok_or_else(|| ApiError::not_found("checkpoint of this size"))
}

async fn log_size(state: &AppState) -> ApiResult<u64> {
    let size: Option<i64> = state
        .db
        .read(|conn| {
            Ok(log_checkpoints::table
                .select(diesel::dsl::max(log_checkpoints::size))
                .first(conn)?)
        })
        .await?;
    Ok(size.unwrap_or(0) as u64)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    pub first: u64,
    pub second: u64,
}

/// The consistency proof between two tree sizes (RFC 9162 §2.1.4).
pub async fn consistency(
    state: web::Data<AppState>,
    query: web::Query<ConsistencyQuery>,
) -> ApiResult<HttpResponse> {
    let ConsistencyQuery { first, second } = query.into_inner();
    let size = log_size(&state).await?;
    if first > second || second > size {
        return Err(ApiError::new(
            Code::InvalidParameter,
            format!("need 0 ≤ first ≤ second ≤ {size} (the log's size); got {first} and {second}"),
        ));
    }
    let proof = state
        .anchoring
        .log
        .consistency(first, second)
        .await
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(json!({
        "first": first,
        "second": second,
        "proof": proof.iter().map(hex::encode).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    pub index: u64,
    pub size: u64,
}

/// The inclusion proof of a leaf in the tree of a given size (RFC 9162 §2.1.3).
pub async fn inclusion(
    state: web::Data<AppState>,
    query: web::Query<InclusionQuery>,
) -> ApiResult<HttpResponse> {
    let InclusionQuery { index, size } = query.into_inner();
    let current = log_size(&state).await?;
    if index >= size || size > current {
        return Err(ApiError::new(
            Code::InvalidParameter,
            format!("need index < size ≤ {current} (the log's size); got {index} and {size}"),
        ));
    }
    let tree = state
        .anchoring
        .log
        .tree(size)
        .await
        .map_err(ApiError::internal)?;
    let proof = tree
        .inclusion_proof(index)
        .ok_or_else(|| ApiError::internal("no inclusion proof for an index inside the tree"))?;
    Ok(HttpResponse::Ok().json(json!({
        "index": index,
        "size": size,
        "proof": proof.iter().map(hex::encode).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeavesQuery {
    #[serde(default)]
    pub start: u64,
    pub limit: Option<u64>,
}

/// The log's leaves (anchored batch roots), for monitors that rebuild and audit the log.
pub async fn leaves(
    state: web::Data<AppState>,
    query: web::Query<LeavesQuery>,
) -> ApiResult<HttpResponse> {
    let start = i64::try_from(query.start)
        .map_err(|_| ApiError::new(Code::InvalidParameter, "start is too large"))?;
    let limit = query
        .limit
        .map_or(LEAVES_PAGE, |l| (l as i64).clamp(1, LEAVES_PAGE));
    let rows: Vec<(i64, String)> = state
        .db
        .read(move |conn| {
            Ok(log_leaves::table
                .filter(log_leaves::leaf_index.ge(start))
                .order(log_leaves::leaf_index.asc())
                .limit(limit)
                .select((log_leaves::leaf_index, log_leaves::data))
                .load(conn)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "leaves": rows.into_iter().map(|(index, data)| json!({"index": index, "root": data})).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct BatchView {
    id: String,
    purpose: String,
    connector: String,
    root: String,
    size: i64,
    state: String,
    attempts: i32,
    last_error: Option<String>,
}

/// Batches not yet final, and how many are final (administrators: is anchoring keeping up?).
pub async fn batches(caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin)?;
    type Row = (
        String,
        String,
        String,
        String,
        i64,
        String,
        i32,
        Option<String>,
    );
    let (open, finals, waiting): (Vec<Row>, i64, i64) = state
        .db
        .read(|conn| {
            let open = anchor_batches::table
                .filter(anchor_batches::state.ne("final"))
                .order(anchor_batches::created_at.asc())
                .limit(LEAVES_PAGE)
                .select((
                    anchor_batches::id,
                    anchor_batches::purpose,
                    anchor_batches::connector,
                    anchor_batches::root,
                    anchor_batches::size,
                    anchor_batches::state,
                    anchor_batches::attempts,
                    anchor_batches::last_error,
                ))
                .load(conn)?;
            let finals = anchor_batches::table
                .filter(anchor_batches::state.eq("final"))
                .count()
                .get_result(conn)?;
            let waiting = crate::db::schema::anchor_records::table
                .filter(crate::db::schema::anchor_records::batch_id.is_null())
                .count()
                .get_result(conn)?;
            Ok((open, finals, waiting))
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "waitingRecords": waiting,
        "finalBatches": finals,
        "open": open.into_iter().map(|(id, purpose, connector, root, size, state, attempts, last_error)| BatchView {
            id, purpose, connector, root, size, state, attempts, last_error,
        }).collect::<Vec<_>>(),
    })))
}

pub fn routes(cfg: &mut web::ServiceConfig, limiter: &crate::app::Limiter) {
    cfg.route("/decisions/{id}/receipt", web::get().to(decision_receipt))
        .route("/anchoring/batches", web::get().to(batches));
    limiter.resource(cfg, "/anchoring/trust", vec![web::get().to(trust)]);
    limiter.resource(
        cfg,
        "/log/checkpoint",
        vec![web::get().to(latest_checkpoint)],
    );
    limiter.resource(
        cfg,
        "/log/checkpoints/{size}",
        vec![web::get().to(checkpoint)],
    );
    limiter.resource(cfg, "/log/consistency", vec![web::get().to(consistency)]);
    limiter.resource(cfg, "/log/inclusion", vec![web::get().to(inclusion)]);
    limiter.resource(cfg, "/log/leaves", vec![web::get().to(leaves)]);
}
