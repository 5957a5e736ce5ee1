//! What the wallet keeps, one type per table. Each is stored as JSON, encrypted under the
//! wallet's data key with its table and key as associated data ([`crate::vault`]), so a row can
//! be neither read nor moved to another place without the key.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A kind of record: its table, and its key within it.
pub trait Record: Serialize + DeserializeOwned {
    const TABLE: &'static str;
    fn key(&self) -> String;
}

/// One of the wallet's own DIDs, with its private key. A wallet may hold several: one per
/// relationship, so relying parties cannot link them (and one per child whose birth the parent
/// registers). Its `Debug` form leaves the key out.
#[derive(Clone, Serialize, Deserialize)]
pub struct IdentityRecord {
    pub did: String,
    /// The verification method that signs (`did#fragment`).
    pub verification_method: String,
    /// The holder's own name for it ("me", "for the bank", "Léa").
    pub label: String,
    pub created: DateTime<Utc>,
    /// The Ed25519 private key, multibase (`z…`). Only ever stored encrypted.
    pub secret: String,
}

impl std::fmt::Debug for IdentityRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityRecord")
            .field("did", &self.did)
            .field("label", &self.label)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

impl Record for IdentityRecord {
    const TABLE: &'static str = "identities";
    fn key(&self) -> String {
        self.did.clone()
    }
}

/// Why the wallet holds a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// An attestation about one of my identities, from an attester.
    Attestation,
    /// A status a verifier derived and issued to me.
    Status,
}

/// A credential the wallet holds, checked before it was stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CredentialRecord {
    /// The wallet's own id for it (the credential's `id` when it has one).
    pub id: String,
    pub kind: CredentialKind,
    /// Which of my identities it is about.
    pub holder: String,
    pub issuer: String,
    /// The fact type (`ResidenceAttestation`…) or `DerivedStatusCredential`.
    pub fact_type: String,
    pub received: DateTime<Utc>,
    /// Where it came from: an attestation request's id, a decision's id, or `import`.
    pub source: String,
    pub credential: Value,
}

impl Record for CredentialRecord {
    const TABLE: &'static str = "credentials";
    fn key(&self) -> String {
        self.id.clone()
    }
}

/// An attestation request I made, so I can follow and collect it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestRecord {
    /// The service's id for it.
    pub id: String,
    /// The service it lives on.
    pub service: String,
    /// The identity asking (the subject of the attestations).
    pub holder: String,
    pub fact_type: String,
    pub claims: Value,
    pub addressed_to: Vec<String>,
    /// The one-time open link, when one was made.
    pub link: Option<String>,
    pub created: DateTime<Utc>,
    pub expires: String,
    /// Set once collected for good, or withdrawn.
    pub closed: Option<DateTime<Utc>>,
}

impl Record for RequestRecord {
    const TABLE: &'static str = "requests";
    fn key(&self) -> String {
        self.id.clone()
    }
}

/// What I disclosed in a presentation: the citizen's log of who saw what, when, under which
/// policy, and what came of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PresentationRecord {
    /// The challenge it answered.
    pub challenge: String,
    pub service: String,
    pub holder: String,
    /// The verifier (the presentation's audience).
    pub verifier: String,
    pub policy: String,
    pub policy_version: String,
    pub presented: DateTime<Utc>,
    /// What was disclosed: one line per credential.
    pub disclosed: Vec<Disclosed>,
    /// The decision's id and outcome, when one came back.
    pub decision: Option<String>,
    pub outcome: Option<String>,
}

/// One credential as it was disclosed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Disclosed {
    pub credential: String,
    pub issuer: String,
    pub fact_type: String,
}

impl Record for PresentationRecord {
    const TABLE: &'static str = "presentations";
    fn key(&self) -> String {
        format!(
            "{}|{}",
            self.presented.format("%Y%m%dT%H%M%S%.6f"),
            self.challenge
        )
    }
}

/// A person attester's own revocation list: the wallet signs it, the service publishes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusListRecord {
    /// The service's id for the list.
    pub id: String,
    pub service: String,
    /// Its URL, as credentials name it.
    pub url: String,
    /// The identity that signs it.
    pub owner: String,
    /// The indexes set (revoked).
    pub revoked: Vec<u64>,
    /// Whether the service has published a version signed by this wallet.
    #[serde(default)]
    pub published: bool,
}

impl Record for StatusListRecord {
    const TABLE: &'static str = "status_lists";
    fn key(&self) -> String {
        self.id.clone()
    }
}

/// An attestation I signed for someone else, so I can revoke it later.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GivenRecord {
    /// The credential's id.
    pub id: String,
    pub attester: String,
    pub subject: String,
    pub fact_type: String,
    pub request: String,
    pub signed: DateTime<Utc>,
    /// Its entry on my list: the list's id and the index.
    pub list: String,
    pub index: u64,
    pub revoked: Option<DateTime<Utc>>,
}

impl Record for GivenRecord {
    const TABLE: &'static str = "given";
    fn key(&self) -> String {
        self.id.clone()
    }
}

/// The wallet's settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SettingsRecord {
    /// The service it talks to by default.
    pub service: Option<String>,
}

impl Record for SettingsRecord {
    const TABLE: &'static str = "settings";
    fn key(&self) -> String {
        "settings".to_owned()
    }
}

/// What the wallet fetched to check a credential — an issuer's DID document, a status list —
/// kept so it can check the credential again offline, saying "as of" when.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedRecord {
    /// The DID or the status list's URL.
    pub id: String,
    pub value: Value,
    pub fetched: DateTime<Utc>,
}

impl Record for CachedRecord {
    const TABLE: &'static str = "cache";
    fn key(&self) -> String {
        self.id.clone()
    }
}

/// The anchoring receipt of one of my status credentials, checked when fetched. It holds the
/// salt linking the anchored fingerprint to my credential: after I ask the service to erase my
/// data, only this copy can make that link.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReceiptRecord {
    /// The status credential's id.
    pub credential: String,
    pub decision: String,
    pub service: String,
    /// The receipt as the service served it (`corroborate_verifier::anchor::Receipt`).
    pub receipt: Value,
    /// The keys it was checked with (`GET /anchoring/trust`).
    pub trust: Value,
    pub fetched: DateTime<Utc>,
}

impl Record for ReceiptRecord {
    const TABLE: &'static str = "receipts";
    fn key(&self) -> String {
        self.credential.clone()
    }
}

/// Every record table, for backups.
pub const TABLES: &[&str] = &[
    IdentityRecord::TABLE,
    CredentialRecord::TABLE,
    RequestRecord::TABLE,
    PresentationRecord::TABLE,
    StatusListRecord::TABLE,
    GivenRecord::TABLE,
    SettingsRecord::TABLE,
    CachedRecord::TABLE,
    ReceiptRecord::TABLE,
];
