//! W3C Bitstring Status List v1.0: is a credential revoked or suspended, and the lists that say so.
//!
//! A credential's `credentialStatus` entries of type `BitstringStatusListEntry` each name a status
//! list credential and an index into its bitstring; a set bit means revoked (or suspended). The
//! verifier does no I/O: lists come from a [`StatusListSource`] the caller injects — the backend's
//! fetching cache, or [`StaticStatusLists`] loaded from files — with the time each was fetched, so a
//! result says "as of" then. A list counts only when it is the one the entry names (its `id`), is
//! issued by the credential's own issuer, verifies fully (proof by a key that issuer controls,
//! validity period), states the entry's purpose, and decodes within fixed bounds to at least
//! 131,072 bits (herd privacy). Anything else leaves the entry "not checked", and the credential
//! indeterminate, never valid. A status list credential is verified without a status check of its
//! own: one that carries a `credentialStatus` is refused rather than followed, so checking never
//! recurses. The issuer side ([`BitstringBuilder`], [`encode_list`], [`status_list_credential`])
//! builds the unsigned lists the backend signs and publishes.

use crate::credential::{Credential, VC_V2_CONTEXT, is_url, rfc3339};
use crate::did::DidResolver;
use crate::failure::Failure;
use crate::json::Limits;
use crate::verification::{self, CheckOutcome};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt;
use std::io::Read as _;

/// The specification's minimum length of a bitstring: 16 KiB, so that one credential's index hides
/// among at least 131,072 others.
pub const MIN_LIST_BITS: u64 = 131_072;

/// The most a bitstring may decompress to (16 MiB, 134,217,728 entries). Enforced while inflating,
/// so a small GZIP bomb cannot make us allocate more.
pub const MAX_LIST_BYTES: usize = 16 * 1024 * 1024;

/// The longest `encodedList` accepted: the base64url of an incompressible [`MAX_LIST_BYTES`]
/// bitstring with GZIP's overhead, plus the multibase prefix. Checked before decoding.
pub const MAX_ENCODED_LIST_CHARS: usize = 1 + (MAX_LIST_BYTES + 64 * 1024).div_ceil(3) * 4;

/// The most `credentialStatus` entries one credential may have (each may cost a fetch).
pub const MAX_STATUS_ENTRIES: usize = 8;

/// The `type` of a status entry this module checks.
pub const ENTRY_TYPE: &str = "BitstringStatusListEntry";
/// The `type` a status list credential must include.
pub const LIST_CREDENTIAL_TYPE: &str = "BitstringStatusListCredential";
/// The `type` of a status list credential's subject.
pub const LIST_TYPE: &str = "BitstringStatusList";

/// The purposes we check. The specification also defines `refresh` and `message`, which say
/// nothing about validity; entries with them (or any other purpose) are "not checked".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusPurpose {
    Revocation,
    Suspension,
}

impl StatusPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusPurpose::Revocation => "revocation",
            StatusPurpose::Suspension => "suspension",
        }
    }
}

impl fmt::Display for StatusPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `BitstringStatusListEntry` we can check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    pub id: Option<String>,
    pub purpose: StatusPurpose,
    /// `statusListIndex`: the bit, counted from the left-most bit of the first byte.
    pub index: u64,
    /// `statusListCredential`: the URL of the status list credential.
    pub list: String,
}

/// Why a `credentialStatus` entry cannot be checked. [`EntryError::is_malformed`] separates entries
/// that break the specification (the credential is invalid) from ones we do not support (its status
/// is "not checked").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("a status entry must be a JSON object")]
    NotAnObject,
    #[error("status entry of type {found}: only {ENTRY_TYPE} is supported")]
    UnsupportedType { found: String },
    #[error("`{field}` is required in a {ENTRY_TYPE}")]
    MissingField { field: &'static str },
    #[error("`statusPurpose` must be a string, found {found}")]
    PurposeNotString { found: String },
    #[error(
        "status purpose {purpose:?} is not supported: only \"revocation\" and \"suspension\" are checked"
    )]
    UnsupportedPurpose { purpose: String },
    #[error("`statusListIndex` must be a string of base-10 digits (e.g. \"94567\"), found {found}")]
    IndexNotString { found: String },
    #[error("`statusListIndex` {found:?} is not a non-negative base-10 integer")]
    IndexNotDecimal { found: String },
    #[error("`statusListIndex` {found:?} is larger than any status list we accept")]
    IndexTooLarge { found: String },
    #[error("`statusListCredential` must be a URL, found {found}")]
    ListNotUrl { found: String },
    #[error("the status entry's `id` must not be the status list's URL")]
    IdIsList,
    #[error("`statusSize` must be an integer greater than zero, found {found}")]
    StatusSizeInvalid { found: String },
    #[error("`statusSize` {size} is not supported: only 1-bit statuses are checked")]
    UnsupportedStatusSize { size: u64 },
}

impl EntryError {
    /// Whether the entry breaks the specification (rather than using what we do not support).
    pub fn is_malformed(&self) -> bool {
        !matches!(
            self,
            EntryError::UnsupportedType { .. }
                | EntryError::UnsupportedPurpose { .. }
                | EntryError::IndexTooLarge { .. }
                | EntryError::UnsupportedStatusSize { .. }
        )
    }
}

/// Why a status list could not be had from a [`StatusListSource`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    /// The source holds no list for the URL (offline, or never fetched).
    #[error("not available")]
    NotAvailable,
    /// Fetching failed: timeout, size limit, refused address, HTTP error...
    #[error("could not be retrieved: {detail}")]
    Retrieval { detail: String },
}

/// Why a status list credential was not used to check an entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    #[error("{0}")]
    Unavailable(#[from] StatusError),
    #[error("its `id` is {found}, not the URL the status entry names")]
    IdMismatch { found: String },
    #[error("its `type` does not include {LIST_CREDENTIAL_TYPE}")]
    NotAStatusListCredential,
    #[error("it is issued by {list_issuer}, not by the credential's issuer {credential_issuer}")]
    IssuerMismatch {
        list_issuer: String,
        credential_issuer: String,
    },
    #[error("it has a `credentialStatus` of its own, which is not followed")]
    HasOwnStatus,
    #[error("its `credentialSubject` must be one object of type {LIST_TYPE}")]
    NotABitstringStatusList,
    #[error("it is for the purpose {found}, not {purpose}")]
    PurposeMismatch {
        purpose: StatusPurpose,
        found: String,
    },
    #[error("its `encodedList` is missing or not a string")]
    MissingEncodedList,
    #[error("it does not verify: {detail}")]
    NotVerified { detail: String },
    #[error("its `encodedList` is refused: {0}")]
    EncodedList(#[from] DecodeError),
    #[error(
        "its bitstring has {len_bits} bits, fewer than the {MIN_LIST_BITS} (16 KiB) the specification requires for herd privacy"
    )]
    TooShort { len_bits: u64 },
    #[error("index {index} is outside its bitstring of {len_bits} bits")]
    IndexOutOfRange { index: u64, len_bits: u64 },
    #[error("a status list credential needs an `id`: the URL it is published at")]
    MissingId,
}

/// Why an `encodedList` does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("it must be multibase base64url without padding: the letter `u`, then the encoding")]
    NotBase64urlMultibase,
    #[error("it is {chars} characters long, more than the limit of {limit}")]
    TooLong { chars: usize, limit: usize },
    #[error("not base64url without padding: {detail}")]
    Base64 { detail: String },
    #[error("not a GZIP stream: {detail}")]
    Gzip { detail: String },
    #[error("it decompresses to more than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("{bytes} bytes follow the GZIP stream")]
    TrailingData { bytes: usize },
}

/// Why a bitstring could not be built or changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error(
        "a status list must be a whole number of bytes, from {MIN_LIST_BITS} bits (the specification's minimum) to {} bits; {len_bits} bits asked",
        MAX_LIST_BYTES * 8
    )]
    Length { len_bits: u64 },
    #[error("index {index} is outside the bitstring of {len_bits} bits")]
    IndexOutOfRange { index: u64, len_bits: u64 },
}

// ---------------------------------------------------------------------------------------------
// Sources of status lists
// ---------------------------------------------------------------------------------------------

/// A status list credential as a source holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedStatusList {
    pub credential: Value,
    /// When it was fetched; `None` when the source does not know.
    pub fetched_at: Option<DateTime<Utc>>,
}

/// Where status list credentials come from. Implementations do the I/O (the backend's, over HTTP
/// with time and size limits); the verifier only calls them. The credential returned is checked in
/// full by the verifier: a source need not (and should not be trusted to) verify it.
#[allow(async_fn_in_trait)]
pub trait StatusListSource {
    /// The status list credential published at `url`.
    async fn status_list(&self, url: &str) -> Result<Value, StatusError>;

    /// The status list credential at `url` with the time it was fetched, read together. Override
    /// it when the source knows that time (a cache refreshed concurrently must return both from
    /// one read, or a result would claim a fresher "as of" than its list).
    async fn status_list_as_of(&self, url: &str) -> Result<FetchedStatusList, StatusError> {
        Ok(FetchedStatusList {
            credential: self.status_list(url).await?,
            fetched_at: None,
        })
    }
}

impl<T: StatusListSource + ?Sized> StatusListSource for &T {
    async fn status_list(&self, url: &str) -> Result<Value, StatusError> {
        (**self).status_list(url).await
    }

    async fn status_list_as_of(&self, url: &str) -> Result<FetchedStatusList, StatusError> {
        (**self).status_list_as_of(url).await
    }
}

/// No status lists at all: every status entry is "not checked" (the fail-closed default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoStatusLists;

impl StatusListSource for NoStatusLists {
    async fn status_list(&self, _url: &str) -> Result<Value, StatusError> {
        Err(StatusError::NotAvailable)
    }
}

/// Status list credentials supplied beforehand (files, a test, an offline bundle), each with the
/// time it was fetched. A URL not held is [`StatusError::NotAvailable`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StaticStatusLists {
    lists: BTreeMap<String, FetchedStatusList>,
}

impl StaticStatusLists {
    pub fn new() -> Self {
        Self::default()
    }

    /// Holds `credential` as the list published at `url`, fetched at `fetched_at` (replacing any
    /// list held for `url`). Nothing is checked here: the verifier checks a list when it uses it.
    pub fn insert(&mut self, url: impl Into<String>, credential: Value, fetched_at: DateTime<Utc>) {
        self.lists.insert(
            url.into(),
            FetchedStatusList {
                credential,
                fetched_at: Some(fetched_at),
            },
        );
    }

    /// Holds `credential` under its own `id` (the URL a list is published at); returns that URL.
    pub fn insert_credential(
        &mut self,
        credential: Value,
        fetched_at: DateTime<Utc>,
    ) -> Result<String, ListError> {
        let url = credential
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| is_url(id))
            .ok_or(ListError::MissingId)?
            .to_owned();
        self.insert(url.clone(), credential, fetched_at);
        Ok(url)
    }

    /// [`Self::insert_credential`], by value, for building the lists in one expression.
    pub fn with_credential(
        mut self,
        credential: Value,
        fetched_at: DateTime<Utc>,
    ) -> Result<Self, ListError> {
        self.insert_credential(credential, fetched_at)?;
        Ok(self)
    }

    pub fn len(&self) -> usize {
        self.lists.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }
}

impl StatusListSource for StaticStatusLists {
    async fn status_list(&self, url: &str) -> Result<Value, StatusError> {
        Ok(self.status_list_as_of(url).await?.credential)
    }

    async fn status_list_as_of(&self, url: &str) -> Result<FetchedStatusList, StatusError> {
        self.lists
            .get(url)
            .cloned()
            .ok_or(StatusError::NotAvailable)
    }
}

// ---------------------------------------------------------------------------------------------
// Checking a credential
// ---------------------------------------------------------------------------------------------

/// What the status check of one credential found.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusCheck {
    pub outcome: CheckOutcome,
    /// The fetch time of the oldest list read; `None` when no list was read or a source did not
    /// say when it fetched one.
    pub as_of: Option<DateTime<Utc>>,
}

/// What checking one entry against its list found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryStatus {
    pub purpose: StatusPurpose,
    /// The entry's bit is set: the credential is revoked or suspended.
    pub set: bool,
    /// When the list was fetched, if the source said.
    pub as_of: Option<DateTime<Utc>>,
}

/// Checks every `credentialStatus` entry of `credential` at `at`.
///
/// - no `credentialStatus` (or an empty list of entries): not applicable;
/// - an entry that breaks the specification, or too many entries: failed;
/// - a set bit in a usable list: failed, [`Failure::Revoked`] with the entry's purpose;
/// - otherwise, any entry unsupported or without a usable list: not checked;
/// - otherwise (every entry checked, no bit set): passed.
pub async fn check_status(
    credential: &Credential,
    at: DateTime<Utc>,
    limits: &Limits,
    source: &impl StatusListSource,
    resolver: &impl DidResolver,
) -> StatusCheck {
    let entries = match credential.json().get("credentialStatus") {
        None => return StatusCheck::unsourced(CheckOutcome::NotApplicable),
        Some(Value::Array(items)) => items.as_slice(),
        Some(single) => std::slice::from_ref(single),
    };
    if entries.is_empty() {
        return StatusCheck::unsourced(CheckOutcome::NotApplicable);
    }
    if entries.len() > MAX_STATUS_ENTRIES {
        return StatusCheck::unsourced(CheckOutcome::Failed {
            failure: Failure::Limit {
                detail: format!(
                    "{} credentialStatus entries, more than the limit of {MAX_STATUS_ENTRIES}",
                    entries.len()
                ),
            },
        });
    }
    // Every entry is parsed before any list is asked for: a malformed one fails the credential
    // whatever the lists say.
    let mut parsed = Vec::with_capacity(entries.len());
    let mut unchecked = Vec::new();
    for (position, entry) in entries.iter().enumerate() {
        match parse_entry(entry) {
            Ok(entry) => parsed.push(entry),
            Err(error) if error.is_malformed() => {
                return StatusCheck::unsourced(CheckOutcome::Failed {
                    failure: Failure::Malformed {
                        detail: format!("credentialStatus entry {position}: {error}"),
                    },
                });
            }
            Err(error) => unchecked.push(format!("credentialStatus entry {position}: {error}")),
        }
    }
    let mut as_of = AsOf::default();
    for entry in &parsed {
        match check_entry(entry, credential.issuer(), at, limits, source, resolver).await {
            Ok(status) => {
                as_of.add(status.as_of);
                if status.set {
                    return StatusCheck {
                        outcome: CheckOutcome::Failed {
                            failure: Failure::Revoked {
                                purpose: status.purpose.as_str().to_owned(),
                            },
                        },
                        as_of: as_of.get(),
                    };
                }
            }
            Err(error) => unchecked.push(format!("status list {}: {error}", entry.list)),
        }
    }
    let outcome = if unchecked.is_empty() {
        CheckOutcome::Passed
    } else {
        CheckOutcome::NotChecked {
            reason: Failure::StatusNotChecked {
                detail: unchecked.join("; "),
            },
        }
    };
    StatusCheck {
        outcome,
        as_of: as_of.get(),
    }
}

impl StatusCheck {
    fn unsourced(outcome: CheckOutcome) -> Self {
        StatusCheck {
            outcome,
            as_of: None,
        }
    }
}

/// The oldest fetch time among the lists read; unknown as soon as one list's time is.
#[derive(Default)]
struct AsOf {
    oldest: Option<DateTime<Utc>>,
    unknown: bool,
}

impl AsOf {
    fn add(&mut self, fetched_at: Option<DateTime<Utc>>) {
        match fetched_at {
            None => self.unknown = true,
            Some(t) => self.oldest = Some(self.oldest.map_or(t, |oldest| oldest.min(t))),
        }
    }

    fn get(&self) -> Option<DateTime<Utc>> {
        if self.unknown { None } else { self.oldest }
    }
}

/// Parses one `credentialStatus` entry. Malformations are reported before unsupported features, so
/// an entry that is both is malformed.
pub fn parse_entry(entry: &Value) -> Result<StatusEntry, EntryError> {
    let Some(object) = entry.as_object() else {
        return Err(EntryError::NotAnObject);
    };
    let types: Vec<&str> = match object.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.contains(&ENTRY_TYPE) {
        // Another status mechanism: its fields are not ours to judge.
        return Err(EntryError::UnsupportedType {
            found: if types.is_empty() {
                "(none)".to_owned()
            } else {
                types.join(", ")
            },
        });
    }
    let purpose = match object.get("statusPurpose") {
        None => {
            return Err(EntryError::MissingField {
                field: "statusPurpose",
            });
        }
        Some(Value::String(purpose)) => purpose.as_str(),
        Some(other) => {
            return Err(EntryError::PurposeNotString {
                found: other.to_string(),
            });
        }
    };
    let index_text = match object.get("statusListIndex") {
        None => {
            return Err(EntryError::MissingField {
                field: "statusListIndex",
            });
        }
        Some(Value::String(text)) => text.as_str(),
        Some(Value::Number(n)) => {
            return Err(EntryError::IndexNotString {
                found: format!("the JSON number {n}"),
            });
        }
        Some(other) => {
            return Err(EntryError::IndexNotString {
                found: other.to_string(),
            });
        }
    };
    if index_text.is_empty() || !index_text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EntryError::IndexNotDecimal {
            found: index_text.to_owned(),
        });
    }
    let list = match object.get("statusListCredential") {
        None => {
            return Err(EntryError::MissingField {
                field: "statusListCredential",
            });
        }
        Some(Value::String(url)) if is_url(url) => url.clone(),
        Some(other) => {
            return Err(EntryError::ListNotUrl {
                found: other.to_string(),
            });
        }
    };
    let id = object.get("id").and_then(Value::as_str).map(str::to_owned);
    if id.as_deref() == Some(list.as_str()) {
        return Err(EntryError::IdIsList);
    }
    let size = match object.get("statusSize") {
        None => 1,
        Some(value) => match value.as_u64() {
            Some(size) if size > 0 => size,
            _ => {
                return Err(EntryError::StatusSizeInvalid {
                    found: value.to_string(),
                });
            }
        },
    };
    // Well formed; now what we support.
    let purpose = match purpose {
        "revocation" => StatusPurpose::Revocation,
        "suspension" => StatusPurpose::Suspension,
        other => {
            return Err(EntryError::UnsupportedPurpose {
                purpose: other.to_owned(),
            });
        }
    };
    if size != 1 {
        return Err(EntryError::UnsupportedStatusSize { size });
    }
    // Only digits remain, so the only parse error is overflow.
    let index = index_text
        .parse::<u64>()
        .map_err(|_| EntryError::IndexTooLarge {
            found: index_text.to_owned(),
        })?;
    Ok(StatusEntry {
        id,
        purpose,
        index,
        list,
    })
}

/// Checks one entry of a credential issued by `issuer` against its list, at `at`.
///
/// The list is used only when it is the list the entry names (`id`), is a
/// `BitstringStatusListCredential` issued by `issuer` with no status of its own, has one
/// `BitstringStatusList` subject for the entry's purpose, verifies (proof by a key `issuer`
/// controls, validity period at `at`), and its bitstring decodes within bounds to at least
/// [`MIN_LIST_BITS`] bits that cover the index. The cheap checks run before the proof, and the
/// proof before decoding.
pub async fn check_entry(
    entry: &StatusEntry,
    issuer: &str,
    at: DateTime<Utc>,
    limits: &Limits,
    source: &impl StatusListSource,
    resolver: &impl DidResolver,
) -> Result<EntryStatus, ListError> {
    let fetched = source.status_list_as_of(&entry.list).await?;
    let list =
        Credential::from_value(fetched.credential).map_err(|failure| ListError::NotVerified {
            detail: failure.to_string(),
        })?;
    if list.id() != Some(entry.list.as_str()) {
        return Err(ListError::IdMismatch {
            found: list.id().unwrap_or("(none)").to_owned(),
        });
    }
    if !list.types().iter().any(|t| t == LIST_CREDENTIAL_TYPE) {
        return Err(ListError::NotAStatusListCredential);
    }
    // DESIGN.md: a list's issuer always matches its credentials'. Another issuer's list says
    // nothing about this credential, however well it verifies.
    if list.issuer() != issuer {
        return Err(ListError::IssuerMismatch {
            list_issuer: list.issuer().to_owned(),
            credential_issuer: issuer.to_owned(),
        });
    }
    if list.json().get("credentialStatus").is_some() {
        return Err(ListError::HasOwnStatus);
    }
    let encoded_len = encoded_list(&list, entry.purpose)?.len();
    if encoded_len > MAX_ENCODED_LIST_CHARS {
        return Err(DecodeError::TooLong {
            chars: encoded_len,
            limit: MAX_ENCODED_LIST_CHARS,
        }
        .into());
    }
    let report = verification::verify_status_list_credential(list, at, limits, resolver).await;
    let list = match (&report.credential, report.is_valid()) {
        (Some(list), true) => list,
        _ => {
            let failures: Vec<String> = report.failures().iter().map(ToString::to_string).collect();
            return Err(ListError::NotVerified {
                detail: if failures.is_empty() {
                    "not valid".to_owned()
                } else {
                    failures.join("; ")
                },
            });
        }
    };
    let bits = decode_list(encoded_list(list, entry.purpose)?)?;
    let len_bits = bits.len_bits();
    if len_bits < MIN_LIST_BITS {
        return Err(ListError::TooShort { len_bits });
    }
    let set = bits.get(entry.index).ok_or(ListError::IndexOutOfRange {
        index: entry.index,
        len_bits,
    })?;
    Ok(EntryStatus {
        purpose: entry.purpose,
        set,
        as_of: fetched.fetched_at,
    })
}

/// The `encodedList` of a list's single `BitstringStatusList` subject, which must state `purpose`
/// (the specification allows a list several purposes).
fn encoded_list(list: &Credential, purpose: StatusPurpose) -> Result<&str, ListError> {
    let [subject] = list.subjects() else {
        return Err(ListError::NotABitstringStatusList);
    };
    if !includes(subject.get("type"), LIST_TYPE) {
        return Err(ListError::NotABitstringStatusList);
    }
    if !includes(subject.get("statusPurpose"), purpose.as_str()) {
        return Err(ListError::PurposeMismatch {
            purpose,
            found: subject
                .get("statusPurpose")
                .map_or_else(|| "(none)".to_owned(), ToString::to_string),
        });
    }
    subject
        .get("encodedList")
        .and_then(Value::as_str)
        .ok_or(ListError::MissingEncodedList)
}

/// Whether `value` is the string `wanted` or an array containing it.
fn includes(value: Option<&Value>, wanted: &str) -> bool {
    match value {
        Some(Value::String(s)) => s == wanted,
        Some(Value::Array(items)) => items.iter().any(|item| item.as_str() == Some(wanted)),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Bitstrings
// ---------------------------------------------------------------------------------------------

/// A decoded bitstring (read-only). Index 0 is the left-most (most significant) bit of the first
/// byte.
#[derive(Clone, PartialEq, Eq)]
pub struct Bitstring {
    bytes: Vec<u8>,
}

impl Bitstring {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Bitstring { bytes }
    }

    pub fn len_bits(&self) -> u64 {
        bits_of(&self.bytes)
    }

    /// The bit at `index`, `None` past the end.
    pub fn get(&self, index: u64) -> Option<bool> {
        bit(&self.bytes, index)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many bits are set.
    pub fn count_set(&self) -> u64 {
        self.bytes.iter().map(|b| u64::from(b.count_ones())).sum()
    }
}

impl fmt::Debug for Bitstring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Bitstring({} bits, {} set)",
            self.len_bits(),
            self.count_set()
        )
    }
}

fn bits_of(bytes: &[u8]) -> u64 {
    u64::try_from(bytes.len()).map_or(u64::MAX, |n| n.saturating_mul(8))
}

fn bit(bytes: &[u8], index: u64) -> Option<bool> {
    let byte = usize::try_from(index / 8).ok().and_then(|i| bytes.get(i))?;
    Some(byte & (0x80u8 >> (index % 8)) != 0)
}

/// Decodes an `encodedList`: multibase base64url without padding (`u…`) of a GZIP-compressed
/// bitstring. Output is capped at [`MAX_LIST_BYTES`] while inflating; bytes after the GZIP
/// stream are refused. The minimum length is the caller's to check (see [`MIN_LIST_BITS`]).
pub fn decode_list(encoded: &str) -> Result<Bitstring, DecodeError> {
    let Some(base64) = encoded.strip_prefix('u') else {
        return Err(DecodeError::NotBase64urlMultibase);
    };
    if encoded.len() > MAX_ENCODED_LIST_CHARS {
        return Err(DecodeError::TooLong {
            chars: encoded.len(),
            limit: MAX_ENCODED_LIST_CHARS,
        });
    }
    let compressed = URL_SAFE_NO_PAD
        .decode(base64)
        .map_err(|error| DecodeError::Base64 {
            detail: error.to_string(),
        })?;
    let mut decoder = flate2::bufread::GzDecoder::new(compressed.as_slice());
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let read = match decoder.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => read.min(chunk.len()),
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => {
                return Err(DecodeError::Gzip {
                    detail: error.to_string(),
                });
            }
        };
        if bytes.len().saturating_add(read) > MAX_LIST_BYTES {
            return Err(DecodeError::TooLarge {
                limit: MAX_LIST_BYTES,
            });
        }
        bytes.extend_from_slice(chunk.get(..read).unwrap_or_default());
    }
    let rest = decoder.into_inner();
    if !rest.is_empty() {
        return Err(DecodeError::TrailingData { bytes: rest.len() });
    }
    Ok(Bitstring { bytes })
}

/// Encodes a bitstring (its bytes, index 0 in the most significant bit of the first) as an
/// `encodedList`: GZIP, then multibase base64url without padding. Deterministic: the GZIP header
/// carries no time or name.
pub fn encode_list(bits: &[u8]) -> String {
    let deflated = miniz_oxide::deflate::compress_to_vec(bits, 6);
    let mut crc = flate2::Crc::new();
    crc.update(bits);
    let mut gzip = Vec::with_capacity(deflated.len() + 18);
    // RFC 1952: magic, CM = deflate, no flags, MTIME = 0, XFL = 0, OS = unknown.
    gzip.extend_from_slice(&[0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);
    gzip.extend_from_slice(&deflated);
    gzip.extend_from_slice(&crc.sum().to_le_bytes());
    // ISIZE is the input length modulo 2^32: the truncation is the format.
    gzip.extend_from_slice(&(bits.len() as u32).to_le_bytes());
    format!("u{}", URL_SAFE_NO_PAD.encode(gzip))
}

/// A bitstring being built or updated by an issuer: a whole number of bytes, at least
/// [`MIN_LIST_BITS`] long, all bits clear at first.
#[derive(Clone, PartialEq, Eq)]
pub struct BitstringBuilder {
    bytes: Vec<u8>,
}

impl BitstringBuilder {
    /// An all-clear bitstring of `len_bits` bits: a multiple of 8, from [`MIN_LIST_BITS`] to
    /// `8 × MAX_LIST_BYTES`.
    pub fn new(len_bits: u64) -> Result<Self, BuildError> {
        let bytes = usize::try_from(len_bits / 8).ok();
        match bytes {
            Some(bytes)
                if len_bits.is_multiple_of(8)
                    && len_bits >= MIN_LIST_BITS
                    && bytes <= MAX_LIST_BYTES =>
            {
                Ok(BitstringBuilder {
                    bytes: vec![0; bytes],
                })
            }
            _ => Err(BuildError::Length { len_bits }),
        }
    }

    /// An all-clear bitstring of the specification's minimum length, 131,072 bits.
    pub fn minimum() -> Self {
        BitstringBuilder {
            bytes: vec![0; MIN_LIST_BITS as usize / 8],
        }
    }

    /// Continues from a decoded list (to set a bit in a published list), if its length is one a
    /// builder could have made.
    pub fn from_bitstring(bitstring: Bitstring) -> Result<Self, BuildError> {
        let len_bits = bitstring.len_bits();
        if len_bits < MIN_LIST_BITS || bitstring.bytes.len() > MAX_LIST_BYTES {
            return Err(BuildError::Length { len_bits });
        }
        Ok(BitstringBuilder {
            bytes: bitstring.bytes,
        })
    }

    pub fn len_bits(&self) -> u64 {
        bits_of(&self.bytes)
    }

    /// Sets the bit at `index` (revokes or suspends the credential holding that index).
    pub fn set(&mut self, index: u64) -> Result<(), BuildError> {
        self.put(index, true)
    }

    /// Clears the bit at `index` (lifts a suspension).
    pub fn clear(&mut self, index: u64) -> Result<(), BuildError> {
        self.put(index, false)
    }

    pub fn get(&self, index: u64) -> Option<bool> {
        bit(&self.bytes, index)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The `encodedList` of this bitstring.
    pub fn encode(&self) -> String {
        encode_list(&self.bytes)
    }

    fn put(&mut self, index: u64, value: bool) -> Result<(), BuildError> {
        let len_bits = self.len_bits();
        let byte = usize::try_from(index / 8)
            .ok()
            .and_then(|i| self.bytes.get_mut(i))
            .ok_or(BuildError::IndexOutOfRange { index, len_bits })?;
        let mask = 0x80u8 >> (index % 8);
        if value {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
        Ok(())
    }
}

impl fmt::Debug for BitstringBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set: u64 = self.bytes.iter().map(|b| u64::from(b.count_ones())).sum();
        write!(f, "BitstringBuilder({} bits, {set} set)", self.len_bits())
    }
}

/// An unsigned `BitstringStatusListCredential` for `bitstring`, published at `id`, by `issuer`,
/// for `purpose`, valid from `valid_from`. Only the VC 2.0 context, which defines every status
/// list term; the subject's `id` is `<id>#list`, as in the specification's examples. Add
/// `validUntil` before signing for lists that verifiers should stop trusting after a while.
pub fn status_list_credential(
    issuer: &str,
    id: &str,
    purpose: StatusPurpose,
    bitstring: &BitstringBuilder,
    valid_from: DateTime<Utc>,
) -> Value {
    json!({
        "@context": [VC_V2_CONTEXT],
        "id": id,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": rfc3339(valid_from),
        "credentialSubject": {
            "id": format!("{id}#list"),
            "type": LIST_TYPE,
            "statusPurpose": purpose.as_str(),
            "encodedList": bitstring.encode(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(fields: Value) -> Value {
        let mut entry = json!({
            "id": "https://status.example/lists/1#42",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "42",
            "statusListCredential": "https://status.example/lists/1"
        });
        for (key, value) in fields.as_object().cloned().unwrap_or_default() {
            if value.is_null() {
                entry.as_object_mut().unwrap().remove(&key);
            } else {
                entry[key] = value;
            }
        }
        entry
    }

    /// `expected`: Ok((purpose, index)) or Err((is_malformed, text in the message)).
    fn check(fields: Value, expected: Result<(StatusPurpose, u64), (bool, &str)>) {
        let doc = entry(fields);
        match (parse_entry(&doc), expected) {
            (Ok(got), Ok((purpose, index))) if got.purpose == purpose && got.index == index => {}
            (Err(error), Err((malformed, text)))
                if error.is_malformed() == malformed && error.to_string().contains(text) => {}
            (got, want) => panic!("{doc}\nexpected {want:?}\ngot {got:?}"),
        }
    }

    #[test]
    fn entries_per_the_specification() {
        use StatusPurpose::*;
        check(json!({}), Ok((Revocation, 42)));
        check(json!({"statusPurpose": "suspension"}), Ok((Suspension, 42)));
        check(
            json!({"type": ["BitstringStatusListEntry"], "statusListIndex": "0"}),
            Ok((Revocation, 0)),
        );
        check(json!({"statusListIndex": "0042"}), Ok((Revocation, 42)));
        check(json!({"statusSize": 1}), Ok((Revocation, 42)));
        check(json!({"id": null}), Ok((Revocation, 42)));
        // The index is a string of digits: a JSON number is malformed, whatever its value.
        check(
            json!({"statusListIndex": 42}),
            Err((true, "the JSON number 42")),
        );
        check(
            json!({"statusListIndex": null}),
            Err((true, "`statusListIndex` is required")),
        );
        for bad in ["", "-1", "+1", "1.0", " 1", "1 ", "0x10", "1e3", "٣"] {
            check(
                json!({"statusListIndex": bad}),
                Err((true, "not a non-negative base-10 integer")),
            );
        }
        check(
            json!({"statusListIndex": "18446744073709551616"}),
            Err((false, "larger than any status list")),
        );
        // Purposes.
        check(
            json!({"statusPurpose": "refresh"}),
            Err((false, "\"refresh\" is not supported")),
        );
        check(
            json!({"statusPurpose": "message"}),
            Err((false, "\"message\" is not supported")),
        );
        check(
            json!({"statusPurpose": "Revocation"}),
            Err((false, "is not supported")),
        );
        check(
            json!({"statusPurpose": ["revocation"]}),
            Err((true, "`statusPurpose` must be a string")),
        );
        check(
            json!({"statusPurpose": null}),
            Err((true, "`statusPurpose` is required")),
        );
        // Malformed beats unsupported.
        check(
            json!({"statusPurpose": "message", "statusListIndex": 7}),
            Err((true, "JSON number")),
        );
        // The list.
        check(
            json!({"statusListCredential": "not a url"}),
            Err((true, "must be a URL")),
        );
        check(
            json!({"statusListCredential": null}),
            Err((true, "`statusListCredential` is required")),
        );
        check(
            json!({"id": "https://status.example/lists/1"}),
            Err((true, "must not be the status list's URL")),
        );
        // Sizes.
        check(
            json!({"statusSize": 2}),
            Err((false, "`statusSize` 2 is not supported")),
        );
        for bad in [json!(0), json!("1"), json!(1.5), json!(-1)] {
            check(
                json!({"statusSize": bad}),
                Err((true, "`statusSize` must be an integer greater than zero")),
            );
        }
        // Other mechanisms are not ours to judge.
        check(
            json!({"type": "StatusList2021Entry", "statusListIndex": 3}),
            Err((false, "only BitstringStatusListEntry")),
        );
        assert_eq!(parse_entry(&json!("x")), Err(EntryError::NotAnObject));
    }

    #[test]
    fn bit_order_is_most_significant_first() {
        let bits = Bitstring::from_bytes(vec![0b1000_0000, 0b0000_0001, 0b0010_0000]);
        let set: Vec<u64> = (0..bits.len_bits())
            .filter(|&i| bits.get(i) == Some(true))
            .collect();
        assert_eq!(set, [0, 15, 18]);
        assert_eq!(bits.get(24), None);
        assert_eq!(bits.get(u64::MAX), None);

        let mut builder = BitstringBuilder::minimum();
        for index in [0, 15, 18, MIN_LIST_BITS - 1] {
            builder.set(index).unwrap();
        }
        assert_eq!(&builder.as_bytes()[..3], &[0x80, 0x01, 0x20]);
        assert_eq!(builder.as_bytes().last(), Some(&0x01));
        builder.clear(15).unwrap();
        assert_eq!(builder.as_bytes()[1], 0);
        assert_eq!(
            builder.set(MIN_LIST_BITS),
            Err(BuildError::IndexOutOfRange {
                index: MIN_LIST_BITS,
                len_bits: MIN_LIST_BITS
            })
        );
    }

    #[test]
    fn builder_lengths() {
        assert_eq!(
            BitstringBuilder::new(MIN_LIST_BITS).unwrap(),
            BitstringBuilder::minimum()
        );
        assert_eq!(
            BitstringBuilder::new(MIN_LIST_BITS * 2).unwrap().len_bits(),
            MIN_LIST_BITS * 2
        );
        for bad in [
            0,
            8,
            MIN_LIST_BITS - 8,
            MIN_LIST_BITS + 1,
            (MAX_LIST_BYTES as u64 + 1) * 8,
            u64::MAX,
        ] {
            assert_eq!(
                BitstringBuilder::new(bad),
                Err(BuildError::Length { len_bits: bad }),
                "{bad}"
            );
        }
        assert!(BitstringBuilder::from_bitstring(Bitstring::from_bytes(vec![0; 100])).is_err());
    }

    #[test]
    fn round_trip() {
        let mut builder = BitstringBuilder::minimum();
        for index in [1, 48_213 + 1, 100_000] {
            builder.set(index).unwrap();
        }
        let encoded = builder.encode();
        assert!(encoded.starts_with("uH4sI"), "{encoded}");
        assert_eq!(encoded, encode_list(builder.as_bytes()), "deterministic");
        let decoded = decode_list(&encoded).unwrap();
        assert_eq!(decoded.as_bytes(), builder.as_bytes());
        assert_eq!(decoded.count_set(), 3);
        let again = BitstringBuilder::from_bitstring(decoded).unwrap();
        assert_eq!(again, builder);
    }

    /// The specification's example: an all-clear 16 KiB list, compressed by another implementation.
    #[test]
    fn decodes_the_specification_example() {
        let bits =
            decode_list("uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA")
                .unwrap();
        assert_eq!(bits.len_bits(), MIN_LIST_BITS);
        assert_eq!(bits.count_set(), 0);
    }

    #[test]
    fn malformed_encoded_lists() {
        let good = BitstringBuilder::minimum().encode();
        let gzip = |bytes: &[u8]| format!("u{}", URL_SAFE_NO_PAD.encode(bytes));
        let raw = URL_SAFE_NO_PAD.decode(&good[1..]).unwrap();
        let check = |encoded: &str, expected: &str| match decode_list(encoded) {
            Err(error) if error.to_string().contains(expected) => {}
            other => panic!("{encoded:.40}: expected {expected:?}, got {other:?}"),
        };
        check(&good[1..], "multibase base64url");
        check(&format!("z{}", &good[1..]), "multibase base64url");
        check(&format!("{good}="), "not base64url");
        check(&good.replace('-', "+"), "not base64url");
        check("u!!!!", "not base64url");
        check("u", "not a GZIP stream");
        check(&gzip(b"not gzip at all"), "not a GZIP stream");
        check(&gzip(&raw[..raw.len() - 4]), "not a GZIP stream");
        let mut bad_crc = raw.clone();
        let at = bad_crc.len() - 8;
        bad_crc[at] ^= 1;
        check(&gzip(&bad_crc), "not a GZIP stream");
        check(&gzip(&[raw.as_slice(), b"junk"].concat()), "4 bytes follow");
        // Two GZIP members: the second is trailing data, not more list.
        check(
            &gzip(&[raw.as_slice(), raw.as_slice()].concat()),
            "follow the GZIP stream",
        );
        let too_long = format!("u{}", "A".repeat(MAX_ENCODED_LIST_CHARS));
        check(&too_long, "more than the limit");
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_cap() {
        // 32 MiB of zeros compress to about 32 KiB: inflating stops at 16 MiB.
        let bomb = encode_list(&vec![0u8; 2 * MAX_LIST_BYTES]);
        assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
        assert_eq!(
            decode_list(&bomb),
            Err(DecodeError::TooLarge {
                limit: MAX_LIST_BYTES
            })
        );
        // Exactly at the cap is accepted.
        let full = decode_list(&encode_list(&vec![0u8; MAX_LIST_BYTES])).unwrap();
        assert_eq!(full.len_bits(), MAX_LIST_BYTES as u64 * 8);
    }

    #[test]
    fn static_lists_are_keyed_by_their_id() {
        let at = DateTime::<Utc>::MIN_UTC;
        let list = status_list_credential(
            "did:example:issuer",
            "https://status.example/lists/1",
            StatusPurpose::Revocation,
            &BitstringBuilder::minimum(),
            at,
        );
        let lists = StaticStatusLists::new()
            .with_credential(list.clone(), at)
            .unwrap();
        assert_eq!(lists.len(), 1);
        let got =
            pollster::block_on(lists.status_list_as_of("https://status.example/lists/1")).unwrap();
        assert_eq!(
            got,
            FetchedStatusList {
                credential: list,
                fetched_at: Some(at)
            }
        );
        assert_eq!(
            pollster::block_on(lists.status_list("https://status.example/lists/2")),
            Err(StatusError::NotAvailable)
        );
        assert_eq!(
            StaticStatusLists::new().insert_credential(json!({"type": "x"}), at),
            Err(ListError::MissingId)
        );
        assert_eq!(
            pollster::block_on(NoStatusLists.status_list_as_of("https://x.example")),
            Err(StatusError::NotAvailable)
        );
    }

    #[test]
    fn the_list_credential_is_a_credential() {
        let list = status_list_credential(
            "did:example:issuer",
            "https://status.example/lists/1",
            StatusPurpose::Suspension,
            &BitstringBuilder::minimum(),
            DateTime::<Utc>::UNIX_EPOCH,
        );
        let credential = Credential::from_value(list).unwrap();
        assert_eq!(
            credential.types(),
            ["VerifiableCredential", LIST_CREDENTIAL_TYPE]
        );
        assert_eq!(
            encoded_list(&credential, StatusPurpose::Suspension).map(str::len),
            Ok(BitstringBuilder::minimum().encode().len())
        );
        assert!(matches!(
            encoded_list(&credential, StatusPurpose::Revocation),
            Err(ListError::PurposeMismatch { .. })
        ));
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_text_never_panics(text in "u?[A-Za-z0-9_=+/-]{0,200}") {
            let _ = decode_list(&text);
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode_list(&format!("u{}", URL_SAFE_NO_PAD.encode(&bytes)));
        }

        #[test]
        fn corrupting_a_list_never_panics(position in 0usize..64, value in any::<u8>()) {
            let good = BitstringBuilder::minimum().encode();
            let mut raw = URL_SAFE_NO_PAD.decode(&good[1..]).unwrap();
            let at = position % raw.len();
            raw[at] = value;
            let _ = decode_list(&format!("u{}", URL_SAFE_NO_PAD.encode(&raw)));
        }

        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..2048), probe in any::<u64>()) {
            let decoded = decode_list(&encode_list(&bytes)).unwrap();
            prop_assert_eq!(decoded.as_bytes(), bytes.as_slice());
            let index = probe % (bytes.len() as u64 * 8 + 8);
            let expected = bytes.get((index / 8) as usize).map(|b| b & (0x80 >> (index % 8)) != 0);
            prop_assert_eq!(decoded.get(index), expected);
        }
    }
}
