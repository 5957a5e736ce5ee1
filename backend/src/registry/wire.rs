//! The registry's API types (apart from its rows in `store`) and the checks of what clients
//! send: every refusal names the field and says what would be accepted.

use super::store::{NEIGHBOUR_CATEGORY, NewAccreditationChecked};
use crate::error::{ApiError, ApiResult, Code};
use chrono::{DateTime, Utc};
use corroborate_verifier::credential::parse_date_time;
use corroborate_verifier::did::parse_did;
use corroborate_verifier::schema::FACT_TYPES;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Longest free text accepted (reasons, bases).
pub const MAX_TEXT: usize = 1000;
/// Longest identifier accepted (categories, controllers, person and household ids).
pub const MAX_ID: usize = 256;
/// Most fact types one accreditation may list.
pub const MAX_FACT_TYPES: usize = 32;

/// A hand-granted accreditation.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccreditation {
    /// The attesting DID.
    pub did: String,
    /// Lower-case letters, digits and `-` (`utility`, `bank`, `physician`, `government`…);
    /// `neighbour` is granted only automatically, from an established residence.
    pub category: String,
    /// Fact types the DID may attest, e.g. `ResidenceAttestation`.
    pub fact_types: Vec<String>,
    /// The legal entity in control (company number), or the person id for a person.
    pub controller: String,
    /// Pseudonymous person id (persons only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// Pseudonymous household id (persons only; needs `person`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<String>,
    /// Where it holds, e.g. `BE`.
    pub jurisdiction: String,
    /// RFC 3339; default now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    /// RFC 3339, exclusive; absent = open-ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// Why it is granted, for people reading the registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
}

/// An accreditation with its whole history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccreditationRecord {
    /// `acc-` and a UUID.
    pub id: String,
    pub did: String,
    pub category: String,
    pub fact_types: Vec<String>,
    pub controller: String,
    pub person: Option<String>,
    pub household: Option<String>,
    pub jurisdiction: String,
    /// The postcode an automatic `neighbour` accreditation is limited to.
    pub area: Option<String>,
    pub valid_from: String,
    /// Exclusive end; null = open-ended.
    pub valid_until: Option<String>,
    pub basis: Option<String>,
    /// `admin:<name>`, or `system` for an automatic grant.
    pub granted_by: String,
    pub granted_at: String,
    /// The residence decision an automatic `neighbour` accreditation comes from.
    pub source_decision: Option<String>,
    pub revocation: Option<RevocationRecord>,
    /// Oldest first, ended ones included.
    pub suspensions: Vec<SuspensionRecord>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevocationRecord {
    /// When it takes effect.
    pub at: String,
    pub reason: String,
    /// `true`: nothing the attester ever signed counts from `at` on; `false`: only later
    /// attestations stop counting.
    pub for_cause: bool,
    pub revoked_by: String,
    /// When it was recorded (may differ from `at`).
    pub recorded_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SuspensionRecord {
    /// `sus-` and a UUID.
    pub id: String,
    pub from: String,
    /// Exclusive end; null = until further notice.
    pub until: Option<String>,
    pub reason: String,
    pub suspended_by: String,
    pub recorded_at: String,
    /// Who ended it, when it was ended after being recorded open.
    pub ended_by: Option<String>,
    pub end_recorded_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSuspension {
    /// RFC 3339; default now.
    #[serde(default)]
    pub from: Option<String>,
    /// RFC 3339, exclusive; absent = until ended (`…/suspensions/{sid}/end`).
    #[serde(default)]
    pub until: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndSuspension {
    /// RFC 3339; default now. Must be after the suspension's start.
    #[serde(default)]
    pub at: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRevocation {
    pub reason: String,
    /// `true` when the attester is not to be trusted (fraud, negligence): everything it ever
    /// attested stops counting. `false` (end of contract, retirement): only later attestations.
    pub for_cause: bool,
    /// RFC 3339; default now.
    #[serde(default)]
    pub at: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    /// A DID, or a `urn:uuid:` identifier (e.g. a newborn's, before it has a DID).
    pub did: String,
    /// Pseudonymous person id (e.g. a keyed hash of the national register number).
    pub person: String,
    /// Pseudonymous household id.
    #[serde(default)]
    pub household: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonRecord {
    pub did: String,
    pub person: String,
    pub household: Option<String>,
    pub bound_by: String,
    pub bound_at: String,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this DID's accreditations.
    pub did: Option<String>,
    pub category: Option<String>,
    /// RFC 3339: only accreditations in force then (in term, not revoked, not suspended).
    pub active_at: Option<String>,
    /// The `next` of the previous page.
    pub after: Option<String>,
    /// Page size, 1 to 500 (default 100).
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccreditationPage {
    /// Newest first.
    pub accreditations: Vec<AccreditationRecord>,
    /// Pass as `after` for the next page; null on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// RFC 3339, not in the future; default now. The registry as it was recorded then.
    pub at: Option<String>,
    /// Comma-separated DIDs: only their accreditations and persons (at most 100).
    pub did: Option<String>,
    /// A postcode: leave out `neighbour` accreditations of other areas, as a decision about
    /// an address there does.
    pub area: Option<String>,
}

/// Most DIDs one export may be limited to.
pub const MAX_EXPORT_DIDS: usize = 100;

fn invalid(field: &str, detail: impl std::fmt::Display) -> ApiError {
    ApiError::bad_body(format!("`{field}`: {detail}"))
}

/// A required text: trimmed, not blank, at most `max` characters, no control characters.
pub fn text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(invalid(field, format!("at most {max} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

fn optional_text(field: &str, value: Option<&str>, max: usize) -> ApiResult<Option<String>> {
    value.map(|v| text(field, v, max)).transpose()
}

/// An RFC 3339 date-time with a time zone.
pub fn date_time(field: &str, value: &str) -> Result<DateTime<Utc>, String> {
    parse_date_time(value).ok_or_else(|| {
        format!(
            "`{field}`: {value:?} is not an RFC 3339 date-time with a time zone \
             (e.g. 2025-01-31T00:00:00Z)"
        )
    })
}

/// A body's optional time, `default` when absent.
pub fn body_time(
    field: &str,
    value: Option<&str>,
    default: DateTime<Utc>,
) -> ApiResult<DateTime<Utc>> {
    match value {
        Some(value) => date_time(field, value).map_err(ApiError::bad_body),
        None => Ok(default),
    }
}

/// A query parameter's time.
pub fn query_time(field: &str, value: &str) -> ApiResult<DateTime<Utc>> {
    date_time(field, value).map_err(|e| ApiError::new(Code::InvalidParameter, e))
}

/// A category name: lower-case letters, digits and `-`.
pub fn is_category(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl NewAccreditation {
    /// Checks everything that does not need the database.
    pub fn check(&self, now: DateTime<Utc>) -> ApiResult<NewAccreditationChecked> {
        parse_did(&self.did).map_err(|e| invalid("did", e))?;
        if !is_category(&self.category) {
            return Err(invalid(
                "category",
                "1 to 64 lower-case letters, digits and `-` (e.g. `utility`)",
            ));
        }
        if self.category == NEIGHBOUR_CATEGORY {
            return Err(invalid(
                "category",
                "`neighbour` is granted automatically to a person whose own residence is \
                 established near the address, never by hand",
            ));
        }
        if self.fact_types.is_empty() {
            return Err(invalid("fact_types", "list at least one fact type"));
        }
        if self.fact_types.len() > MAX_FACT_TYPES {
            return Err(invalid(
                "fact_types",
                format!("at most {MAX_FACT_TYPES} fact types"),
            ));
        }
        let mut fact_types = Vec::with_capacity(self.fact_types.len());
        for fact_type in &self.fact_types {
            if !FACT_TYPES.contains(&fact_type.as_str()) {
                return Err(invalid(
                    "fact_types",
                    format!(
                        "unknown fact type {fact_type:?}; known: {}",
                        FACT_TYPES.join(", ")
                    ),
                ));
            }
            if fact_types.contains(fact_type) {
                return Err(invalid(
                    "fact_types",
                    format!("{fact_type:?} is listed twice"),
                ));
            }
            fact_types.push(fact_type.clone());
        }
        let person = optional_text("person", self.person.as_deref(), MAX_ID)?;
        let household = optional_text("household", self.household.as_deref(), MAX_ID)?;
        if household.is_some() && person.is_none() {
            return Err(invalid(
                "household",
                "a household belongs to a person: give `person` too",
            ));
        }
        let valid_from = body_time("valid_from", self.valid_from.as_deref(), now)?;
        let valid_until = self
            .valid_until
            .as_deref()
            .map(|v| date_time("valid_until", v).map_err(ApiError::bad_body))
            .transpose()?;
        if valid_until.is_some_and(|until| until <= valid_from) {
            return Err(invalid("valid_until", "must be after `valid_from`"));
        }
        Ok(NewAccreditationChecked {
            did: self.did.clone(),
            category: self.category.clone(),
            fact_types,
            controller: text("controller", &self.controller, MAX_ID)?,
            person,
            household,
            jurisdiction: text("jurisdiction", &self.jurisdiction, 64)?,
            valid_from,
            valid_until,
            basis: optional_text("basis", self.basis.as_deref(), MAX_TEXT)?,
        })
    }
}

impl NewPerson {
    /// Trimmed and checked.
    pub fn check(&self) -> ApiResult<NewPerson> {
        check_subject_id(&self.did).map_err(|e| invalid("did", e))?;
        let person = text("person", &self.person, MAX_ID)?;
        let household = optional_text("household", self.household.as_deref(), MAX_ID)?;
        Ok(NewPerson {
            did: self.did.clone(),
            person,
            household,
        })
    }
}

/// A DID, or a `urn:uuid:` identifier (subjects such as a newborn may have no DID yet).
pub fn check_subject_id(id: &str) -> Result<(), String> {
    if let Some(uuid) = id.strip_prefix("urn:uuid:") {
        return uuid::Uuid::try_parse(uuid)
            .map(drop)
            .map_err(|e| format!("{id:?} is not a valid urn:uuid: {e}"));
    }
    parse_did(id).map(drop).map_err(|e| e.to_string())
}
