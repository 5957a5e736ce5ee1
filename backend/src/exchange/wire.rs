//! The exchange's wire types, apart from its rows (`store`), and the views built from rows: what
//! the citizen sees of a request (every attester's progress, the open link) and what an attester
//! sees (the request and their own progress only).

use super::check::StatusFinding;
use super::store::{RequestRow, RequestState, ResponseRow, open_link_answer_id};
use crate::db;
use crate::error::ApiResult;
use corroborate_verifier::credential::rfc3339;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// A citizen's request for attestations.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// The fact type to attest, one the verifier has a schema for (`ResidenceAttestation`,
    /// `BirthAttestation`, `ParentageAttestation`).
    pub fact_type: String,
    /// What the attester is asked to state: members of the credential subject, of the shape the
    /// fact schema requires, e.g. `{"residence": {"address": {…}, "since": "2021-09-01"}}`.
    /// Not `id` (always the citizen) nor `attesterRelation` (the attester's own statement).
    #[schema(value_type = Object)]
    pub claims: Value,
    /// DIDs of the attesters asked (at most 20, not the citizen's own).
    #[serde(default)]
    pub addressed_to: Vec<String>,
    /// Also create a one-time open link, for an attester whose DID the citizen does not know.
    #[serde(default)]
    pub open: bool,
    /// Days until the request expires: 1 to the configured maximum (default 14).
    pub expires_in_days: Option<i64>,
    /// A note for the attesters (at most 500 characters).
    pub note: Option<String>,
    /// Keep the claims, note, decline reasons and uncollected credentials past closing and
    /// expiry (default: deleted).
    #[serde(default)]
    pub keep: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedRequest {
    pub id: String,
    pub state: RequestState,
    pub expires: String,
    /// The open link's token, when one was asked for: answered here only, stored as its SHA-256.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_token: Option<String>,
    /// `{public_url}/attestation-requests/open/{open_token}`, for a wallet to show as a QR code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// Where an attester stands on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    /// Not answered yet.
    Pending,
    /// Signed and sent; not collected yet.
    Answered,
    Declined,
    /// Signed, sent, and collected by the citizen.
    Collected,
}

/// How an attester came to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    Addressed,
    OpenLink,
}

/// The state of a request's open link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenLink {
    /// The request has none.
    None,
    Unused,
    /// Answered (accepted or declined): it takes no other answer.
    Used,
    /// Unused when the request expired.
    Expired,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttesterProgress {
    pub attester: String,
    pub via: Via,
    pub progress: Progress,
    /// When the answer came.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answered: Option<String>,
}

/// A request as its reader may see it. The citizen sees every attester's progress, the open
/// link and `keep`; an attester sees the request and their own progress only.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestView {
    pub id: String,
    pub fact_type: String,
    /// The citizen: the subject the credential must be about.
    pub subject: String,
    pub state: RequestState,
    pub created: String,
    pub expires: String,
    /// When it stopped taking answers (closed, or expired as written by the sweep).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed: Option<String>,
    /// The claims asked for; `null` once deleted.
    #[schema(value_type = Option<Object>)]
    pub claims: Option<Value>,
    pub note: Option<String>,
    pub progress: Vec<AttesterProgress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_link: Option<OpenLink>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep: Option<bool>,
}

/// An attester's answer: exactly one of `credential` and `decline`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// The signed credential: issued by the caller's DID, about the citizen, stating the claims
    /// asked for.
    #[schema(value_type = Option<Object>)]
    pub credential: Option<Value>,
    pub decline: Option<Decline>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decline {
    /// Why, for the citizen (at most 500 characters).
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Receipt {
    /// The answer's id.
    pub id: String,
    pub request_id: String,
    pub progress: Progress,
    pub request_state: RequestState,
    /// For a credential: what its status check found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusFinding>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollectedCredential {
    pub attester: String,
    pub answered: String,
    #[schema(value_type = Object)]
    pub credential: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollectedDecline {
    pub attester: String,
    pub answered: String,
    pub reason: Option<String>,
}

/// What a collection handed over; the service no longer holds it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Collected {
    pub state: RequestState,
    pub credentials: Vec<CollectedCredential>,
    pub declined: Vec<CollectedDecline>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// At most this many requests, newest first (default 100, at most `limits.bulk_items`).
    pub limit: Option<i64>,
}

/// The answers to one request, among those of several.
pub(super) fn answers_of<'a>(answers: &'a [ResponseRow], request_id: &str) -> Vec<&'a ResponseRow> {
    answers
        .iter()
        .filter(|a| a.request_id == request_id)
        .collect()
}

fn progress_of(answer: &ResponseRow, via: Via) -> AttesterProgress {
    AttesterProgress {
        attester: answer.attester_did.clone(),
        via,
        progress: if answer.declined {
            Progress::Declined
        } else if answer.collected_at.is_some() {
            Progress::Collected
        } else {
            Progress::Answered
        },
        answered: Some(time(answer.created_at)),
    }
}

pub(super) fn owner_view(
    row: &RequestRow,
    answers: &[&ResponseRow],
    now: i64,
) -> ApiResult<RequestView> {
    let open_id = open_link_answer_id(&row.id);
    let state = row.state_at(now)?;
    let mut progress: Vec<AttesterProgress> = row
        .addressees()?
        .into_iter()
        .map(|did| {
            match answers
                .iter()
                .find(|a| a.attester_did == did && a.id != open_id)
            {
                Some(answer) => progress_of(answer, Via::Addressed),
                None => AttesterProgress {
                    attester: did,
                    via: Via::Addressed,
                    progress: Progress::Pending,
                    answered: None,
                },
            }
        })
        .collect();
    let link_answer = answers.iter().find(|a| a.id == open_id);
    if let Some(answer) = link_answer {
        progress.push(progress_of(answer, Via::OpenLink));
    }
    let open_link = match (row.has_open_link(), link_answer, state) {
        (false, _, _) => OpenLink::None,
        (true, Some(_), _) => OpenLink::Used,
        (true, None, RequestState::Expired) => OpenLink::Expired,
        (true, None, _) => OpenLink::Unused,
    };
    let mut view = base_view(row, state, progress)?;
    view.open_link = Some(open_link);
    view.keep = Some(row.keep);
    Ok(view)
}

pub(super) fn attester_view(
    row: &RequestRow,
    answers: &[ResponseRow],
    attester: &str,
    now: i64,
) -> ApiResult<RequestView> {
    let addressed = row.addressees()?.iter().any(|d| d == attester);
    let open_id = open_link_answer_id(&row.id);
    let entry = match answers.iter().find(|a| a.attester_did == attester) {
        Some(answer) if answer.id == open_id => progress_of(answer, Via::OpenLink),
        Some(answer) => progress_of(answer, Via::Addressed),
        None => AttesterProgress {
            attester: attester.to_owned(),
            via: if addressed {
                Via::Addressed
            } else {
                Via::OpenLink
            },
            progress: Progress::Pending,
            answered: None,
        },
    };
    base_view(row, row.state_at(now)?, vec![entry])
}

fn base_view(
    row: &RequestRow,
    state: RequestState,
    progress: Vec<AttesterProgress>,
) -> ApiResult<RequestView> {
    Ok(RequestView {
        id: row.id.clone(),
        fact_type: row.fact_type.clone(),
        subject: row.citizen_did.clone(),
        state,
        created: time(row.created_at),
        expires: time(row.expires_at),
        closed: row.closed_at.map(time),
        claims: row.claims()?,
        note: row.note.clone(),
        progress,
        open_link: None,
        keep: None,
    })
}

pub(super) fn time(ms: i64) -> String {
    rfc3339(db::from_millis(ms))
}
