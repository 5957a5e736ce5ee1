//! DIDs, DID documents, and resolving a verification method for a proof.
//!
//! The verifier never fetches anything: DID resolution is the [`DidResolver`] trait, passed in.
//! This module gives the parts that need no network: [`LocalResolver`] derives `did:key` and
//! `did:jwk` documents from the DID itself, and [`StaticResolver`] serves documents fetched
//! beforehand (how tests and offline verification use `did:web`), falling back to another
//! resolver. The backend implements `DidResolver` over HTTP for `did:web`, with
//! [`did_web_document_url`] and [`DidDocument::from_json_for`] from here.
//!
//! [`resolve_verification_method`] is the one way the rest of the crate obtains a key for a proof.
//! It follows *Controlled Identifiers* §3.3 (Retrieve Verification Method): the document must be
//! the one asked for, the method's controller must be that DID, and the method must be listed
//! under the proof's purpose (`assertionMethod` or `authentication`). Every refusal has its own
//! [`DidError`] variant. Only Ed25519 keys are usable; methods of other key types are kept in the
//! document as unsupported, so asking for one says why it cannot be used.
//!
//! Bounds: DIDs longer than [`MAX_DID_LEN`] bytes and `did:jwk` payloads longer than
//! [`MAX_DID_JWK_PAYLOAD_LEN`] bytes are refused before any decoding.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::key::{KeyError, PublicKey, excerpt};

/// Longest DID accepted, in bytes.
pub const MAX_DID_LEN: usize = 2048;
/// Longest verification method URL (DID plus `#fragment`) accepted, in bytes.
pub const MAX_DID_URL_LEN: usize = 2 * MAX_DID_LEN;
/// Longest `did:jwk` payload (the base64url JWK) accepted, in bytes.
pub const MAX_DID_JWK_PAYLOAD_LEN: usize = 1024;

/// DID methods whose documents are derived from the DID alone: a supplied document for one of
/// them could only disagree with the DID, so [`StaticResolver`] refuses to hold one.
const SELF_CERTIFYING_METHODS: [&str; 2] = ["key", "jwk"];

/// Verification relationships a document may list methods under; the first two are the proof
/// purposes the verifier checks.
const RELATIONSHIPS: [&str; 4] = [
    "assertionMethod",
    "authentication",
    "capabilityInvocation",
    "capabilityDelegation",
];

/// What a proof is for, and so which verification relationship must list its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProofPurpose {
    /// Asserting claims, as an issuer signing a credential (`assertionMethod`).
    AssertionMethod,
    /// Proving control of a DID, as a holder signing a presentation (`authentication`).
    Authentication,
}

impl ProofPurpose {
    /// The name used for `proofPurpose` and for the verification relationship.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AssertionMethod => "assertionMethod",
            Self::Authentication => "authentication",
        }
    }
}

impl fmt::Display for ProofPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProofPurpose {
    type Err = UnknownProofPurpose;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "assertionMethod" => Ok(Self::AssertionMethod),
            "authentication" => Ok(Self::Authentication),
            other => Err(UnknownProofPurpose(excerpt(other))),
        }
    }
}

/// A proof purpose other than `assertionMethod` or `authentication`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown proof purpose `{0}`: expected `assertionMethod` or `authentication`")]
pub struct UnknownProofPurpose(pub String);

/// How a verification method's key was written in its document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MethodType {
    /// `Multikey` with `publicKeyMultibase`.
    Multikey,
    /// `Ed25519VerificationKey2020` with `publicKeyMultibase`.
    Ed25519VerificationKey2020,
    /// `JsonWebKey` with `publicKeyJwk`.
    JsonWebKey,
    /// `JsonWebKey2020` with `publicKeyJwk`.
    JsonWebKey2020,
}

impl MethodType {
    /// The `type` value in a DID document.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Multikey => "Multikey",
            Self::Ed25519VerificationKey2020 => "Ed25519VerificationKey2020",
            Self::JsonWebKey => "JsonWebKey",
            Self::JsonWebKey2020 => "JsonWebKey2020",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        [
            Self::Multikey,
            Self::Ed25519VerificationKey2020,
            Self::JsonWebKey,
            Self::JsonWebKey2020,
        ]
        .into_iter()
        .find(|t| t.as_str() == name)
    }

    const fn uses_jwk(self) -> bool {
        matches!(self, Self::JsonWebKey | Self::JsonWebKey2020)
    }
}

impl fmt::Display for MethodType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A usable verification method: an Ed25519 key, its absolute id (`did:…#fragment`) and the DID
/// that controls it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationMethod {
    /// Absolute DID URL of the method.
    pub id: String,
    /// How the document wrote the key.
    pub method_type: MethodType,
    /// The DID controlling the key.
    pub controller: String,
    /// The key.
    pub key: PublicKey,
}

/// A DID document, reduced to what verification needs.
///
/// Built only by parsing ([`Self::from_json`]) or by [`LocalResolver`], so its invariants hold:
/// every id is absolute (relative references such as `#key-1` are resolved against the document's
/// DID) and well formed, and method ids are unique. Methods embedded in a relationship are among
/// [`Self::verification_methods`] too, and listed (only) under that relationship.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DidDocument {
    id: String,
    verification_methods: Vec<VerificationMethod>,
    unsupported_methods: BTreeMap<String, String>,
    authentication: Vec<String>,
    assertion_method: Vec<String>,
    capability_invocation: Vec<String>,
    capability_delegation: Vec<String>,
}

impl DidDocument {
    /// Parses a DID document from its JSON form (as served for `did:web`).
    ///
    /// Checks that `id` is a DID; that every method id is `<did>#<fragment>` (or `#<fragment>`,
    /// made absolute) and appears once; that every controller is a DID; that methods of the types
    /// this module reads carry a valid Ed25519 key; and that the verification relationships are
    /// arrays of references and embedded methods. Methods of other types or key types are kept in
    /// [`Self::unsupported_methods`] rather than refused, since documents often hold keys for other
    /// uses (an X25519 `keyAgreement` key, for example).
    pub fn from_json(json: &Value) -> Result<Self, DidError> {
        let document = json
            .as_object()
            .ok_or_else(|| invalid_document("the document is not a JSON object"))?;
        let id = match document.get("id") {
            Some(Value::String(id)) => id,
            _ => return Err(invalid_document("`id` is missing or not a string")),
        };
        parse_did(id).map_err(|e| invalid_document(format!("`id` is not a DID: {e}")))?;
        let mut parser = DocumentParser::new(id);
        if let Some(methods) = document.get("verificationMethod") {
            let methods = methods
                .as_array()
                .ok_or_else(|| invalid_document("`verificationMethod` must be an array"))?;
            for method in methods {
                parser.method(method)?;
            }
        }
        let [
            assertion_method,
            authentication,
            capability_invocation,
            capability_delegation,
        ] = RELATIONSHIPS.map(|name| parser.relationship(document, name));
        Ok(Self {
            id: id.clone(),
            verification_methods: parser.methods,
            unsupported_methods: parser.unsupported,
            authentication: authentication?,
            assertion_method: assertion_method?,
            capability_invocation: capability_invocation?,
            capability_delegation: capability_delegation?,
        })
    }

    /// Parses the document fetched for `did`, refusing it unless its `id` is exactly `did`.
    pub fn from_json_for(did: &str, json: &Value) -> Result<Self, DidError> {
        parse_did(did)?;
        let document = Self::from_json(json)?;
        if document.id != did {
            return Err(DidError::DocumentIdMismatch {
                did: did.to_owned(),
                document_id: document.id,
            });
        }
        Ok(document)
    }

    /// The DID the document describes.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The usable (Ed25519) methods, declared or embedded.
    pub fn verification_methods(&self) -> &[VerificationMethod] {
        &self.verification_methods
    }

    /// Methods present but unusable here (another key type, say), by id, with the reason.
    pub fn unsupported_methods(&self) -> &BTreeMap<String, String> {
        &self.unsupported_methods
    }

    /// Method ids listed under `authentication`.
    pub fn authentication(&self) -> &[String] {
        &self.authentication
    }

    /// Method ids listed under `assertionMethod`.
    pub fn assertion_method(&self) -> &[String] {
        &self.assertion_method
    }

    /// Method ids listed under `capabilityInvocation`.
    pub fn capability_invocation(&self) -> &[String] {
        &self.capability_invocation
    }

    /// Method ids listed under `capabilityDelegation`.
    pub fn capability_delegation(&self) -> &[String] {
        &self.capability_delegation
    }

    /// The usable method with this absolute id.
    pub fn verification_method(&self, id: &str) -> Option<&VerificationMethod> {
        self.verification_methods.iter().find(|m| m.id == id)
    }

    /// The method ids listed under the relationship a proof purpose requires.
    pub fn relationship(&self, purpose: ProofPurpose) -> &[String] {
        match purpose {
            ProofPurpose::AssertionMethod => &self.assertion_method,
            ProofPurpose::Authentication => &self.authentication,
        }
    }

    /// Whether the method with this absolute id is listed for `purpose`.
    pub fn is_authorized(&self, id: &str, purpose: ProofPurpose) -> bool {
        self.relationship(purpose).iter().any(|m| m == id)
    }
}

/// Why a DID or verification method could not be resolved, or was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DidError {
    /// The string is not a DID (or not a DID URL where one is needed).
    #[error("malformed DID `{did}`: {reason}")]
    MalformedDid {
        /// The offending text (shortened if long).
        did: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The resolver does not handle this DID method.
    #[error("DID method `{method}` is not supported by this resolver")]
    UnknownMethod {
        /// The method name.
        method: String,
    },
    /// The resolver handles the method but has no document for this DID.
    #[error("DID `{did}` not found")]
    NotFound {
        /// The DID.
        did: String,
    },
    /// The resolver could not reach or read the document (network, HTTP status, size...).
    #[error("could not resolve DID `{did}`: {reason}")]
    ResolutionFailed {
        /// The DID.
        did: String,
        /// What went wrong.
        reason: String,
    },
    /// The document returned describes another DID than the one asked for.
    #[error("the document resolved for `{did}` has id `{document_id}`")]
    DocumentIdMismatch {
        /// The DID asked for.
        did: String,
        /// The document's `id`.
        document_id: String,
    },
    /// The document is not a well-formed DID document.
    #[error("invalid DID document: {reason}")]
    InvalidDocument {
        /// What is wrong with it.
        reason: String,
    },
    /// The document has no method with this id.
    #[error("verification method `{id}` not found in the DID document")]
    VerificationMethodNotFound {
        /// The method URL asked for.
        id: String,
    },
    /// The document has the method, but not in a form this verifier can use.
    #[error("verification method `{id}` cannot be used: {reason}")]
    UnsupportedVerificationMethod {
        /// The method id.
        id: String,
        /// Why (its type, or its key type).
        reason: String,
    },
    /// The method's `controller` is not the DID whose document lists it.
    #[error("verification method `{id}` names controller `{controller}`, not `{did}`")]
    ControllerMismatch {
        /// The method id.
        id: String,
        /// The controller it names.
        controller: String,
        /// The DID whose document it is in.
        did: String,
    },
    /// The method is not listed under the relationship the proof's purpose requires.
    #[error(
        "verification method `{id}` is not authorized for {purpose}: the DID document does not list it under `{purpose}`"
    )]
    NotAuthorizedForPurpose {
        /// The method id.
        id: String,
        /// The purpose asked for.
        purpose: ProofPurpose,
    },
    /// The key in the DID (`did:key`, `did:jwk`) is not a valid Ed25519 public key.
    #[error("invalid key: {0}")]
    Key(#[from] KeyError),
}

/// Resolves a DID to its document. Implementations do the I/O (the backend's, over HTTP for
/// `did:web`); the verifier only calls them.
#[allow(async_fn_in_trait)]
pub trait DidResolver {
    /// The document of `did`, whose `id` must be `did`.
    async fn resolve(&self, did: &str) -> Result<DidDocument, DidError>;
}

impl<R: DidResolver + ?Sized> DidResolver for &R {
    async fn resolve(&self, did: &str) -> Result<DidDocument, DidError> {
        (**self).resolve(did).await
    }
}

/// Resolves `did:key` (Ed25519) and `did:jwk` (OKP Ed25519) from the DID alone; every other method
/// is [`DidError::UnknownMethod`].
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalResolver;

impl LocalResolver {
    /// Resolves without `async`: local resolution never waits.
    pub fn resolve_now(&self, did: &str) -> Result<DidDocument, DidError> {
        // A did:key or did:jwk document is a pure function of the DID; decoding and checking the
        // key (decompression, small-order and canonical checks) is most of the work, and the same
        // attesters recur, so successful resolutions are remembered (a bounded map, emptied when
        // full).
        static MEMO: std::sync::OnceLock<std::sync::Mutex<HashMap<String, DidDocument>>> =
            std::sync::OnceLock::new();
        const MEMO_CAPACITY: usize = 4096;
        let memo = MEMO.get_or_init(Default::default);
        if let Some(document) = memo.lock().ok().and_then(|m| m.get(did).cloned()) {
            return Ok(document);
        }
        let parts = parse_did(did)?;
        let document = match parts.method {
            "key" => did_key_document(did, parts.method_specific_id),
            "jwk" => did_jwk_document(did, parts.method_specific_id),
            method => Err(DidError::UnknownMethod {
                method: method.to_owned(),
            }),
        }?;
        if let Ok(mut memo) = memo.lock() {
            if memo.len() >= MEMO_CAPACITY {
                memo.clear();
            }
            memo.insert(did.to_owned(), document.clone());
        }
        Ok(document)
    }
}

impl DidResolver for LocalResolver {
    async fn resolve(&self, did: &str) -> Result<DidDocument, DidError> {
        self.resolve_now(did)
    }
}

/// Serves DID documents supplied beforehand (parsed from JSON), and asks `fallback` for any other
/// DID. A DID neither held nor known to the fallback's methods is [`DidError::NotFound`].
#[derive(Debug, Clone, Default)]
pub struct StaticResolver<R = LocalResolver> {
    fallback: R,
    documents: HashMap<String, DidDocument>,
}

impl<R> StaticResolver<R> {
    /// An empty resolver over `fallback` (usually [`LocalResolver`]).
    pub fn new(fallback: R) -> Self {
        Self {
            fallback,
            documents: HashMap::new(),
        }
    }

    /// Parses and holds a DID document, served for the DID in its `id` (replacing any document
    /// held for it). Refuses what [`DidDocument::from_json`] refuses, and documents for `did:key`
    /// and `did:jwk`, which are derived from the DID and never supplied.
    pub fn insert_document(&mut self, json: &Value) -> Result<(), DidError> {
        let document = DidDocument::from_json(json)?;
        let method = parse_did(&document.id)?.method;
        if SELF_CERTIFYING_METHODS.contains(&method) {
            return Err(invalid_document(format!(
                "did:{method} documents are derived from the DID itself and cannot be supplied"
            )));
        }
        self.documents.insert(document.id.clone(), document);
        Ok(())
    }

    /// [`Self::insert_document`], by value, for building a resolver in one expression.
    pub fn with_document(mut self, json: &Value) -> Result<Self, DidError> {
        self.insert_document(json)?;
        Ok(self)
    }
}

impl<R: DidResolver> DidResolver for StaticResolver<R> {
    async fn resolve(&self, did: &str) -> Result<DidDocument, DidError> {
        parse_did(did)?;
        if let Some(document) = self.documents.get(did) {
            return Ok(document.clone());
        }
        match self.fallback.resolve(did).await {
            // A resolver of supplied documents can hold any method: an unknown one is just absent.
            Err(DidError::UnknownMethod { .. }) => Err(DidError::NotFound {
                did: did.to_owned(),
            }),
            other => other,
        }
    }
}

/// Finds the key a proof names and checks the DID's document authorizes it for `purpose`.
///
/// `vm_url` must be `<did>#<fragment>`. The DID is resolved; the document must have that exact
/// `id`; it must hold a usable method with id `vm_url`, whose `controller` is the DID; and the
/// method must be listed under the relationship named by `purpose`.
pub async fn resolve_verification_method<R: DidResolver + ?Sized>(
    resolver: &R,
    vm_url: &str,
    purpose: ProofPurpose,
) -> Result<VerificationMethod, DidError> {
    if vm_url.len() > MAX_DID_URL_LEN {
        return Err(malformed(
            vm_url,
            format!(
                "the verification method URL is {} bytes long; at most {MAX_DID_URL_LEN} are accepted",
                vm_url.len()
            ),
        ));
    }
    let did = did_of(vm_url);
    parse_did(did)?;
    match vm_url
        .strip_prefix(did)
        .and_then(|rest| rest.strip_prefix('#'))
    {
        Some(fragment) if is_fragment(fragment) => {}
        _ => {
            return Err(malformed(
                vm_url,
                "a verification method URL must be `<did>#<fragment>`",
            ));
        }
    }
    let document = resolver.resolve(did).await?;
    if document.id != did {
        return Err(DidError::DocumentIdMismatch {
            did: did.to_owned(),
            document_id: document.id,
        });
    }
    let Some(method) = document.verification_method(vm_url) else {
        return Err(match document.unsupported_methods.get(vm_url) {
            Some(reason) => DidError::UnsupportedVerificationMethod {
                id: vm_url.to_owned(),
                reason: reason.clone(),
            },
            None => DidError::VerificationMethodNotFound {
                id: vm_url.to_owned(),
            },
        });
    };
    if method.controller != did {
        return Err(DidError::ControllerMismatch {
            id: method.id.clone(),
            controller: method.controller.clone(),
            did: did.to_owned(),
        });
    }
    if !document.is_authorized(vm_url, purpose) {
        return Err(DidError::NotAuthorizedForPurpose {
            id: vm_url.to_owned(),
            purpose,
        });
    }
    Ok(method.clone())
}

/// The DID a DID URL starts with: everything before the first `/`, `?` or `#`. Does not check
/// that it is a DID.
pub fn did_of(vm_url: &str) -> &str {
    vm_url.split(['/', '?', '#']).next().unwrap_or(vm_url)
}

/// A DID split at its method name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DidParts<'a> {
    /// The method name (`key`, `web`…).
    pub method: &'a str,
    /// Everything after `did:<method>:`.
    pub method_specific_id: &'a str,
}

/// Checks `did` against the DID syntax (DID Core §3.1) and splits it. DID URLs (with a path,
/// query or fragment) are refused, as are DIDs longer than [`MAX_DID_LEN`] bytes.
pub fn parse_did(did: &str) -> Result<DidParts<'_>, DidError> {
    if did.len() > MAX_DID_LEN {
        return Err(malformed(
            did,
            format!(
                "it is {} bytes long; at most {MAX_DID_LEN} are accepted",
                did.len()
            ),
        ));
    }
    let rest = did
        .strip_prefix("did:")
        .ok_or_else(|| malformed(did, "it does not start with `did:`"))?;
    let (method, method_specific_id) = rest.split_once(':').ok_or_else(|| {
        malformed(
            did,
            "it has no method-specific identifier (`did:<method>:<id>`)",
        )
    })?;
    if method.is_empty() {
        return Err(malformed(did, "the method name is empty"));
    }
    if !method
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return Err(malformed(
            did,
            "the method name may hold only lowercase letters and digits",
        ));
    }
    if method_specific_id.is_empty() {
        return Err(malformed(did, "the method-specific identifier is empty"));
    }
    if method_specific_id.ends_with(':') {
        return Err(malformed(
            did,
            "the method-specific identifier must not end with `:`",
        ));
    }
    if let Some(offset) = invalid_char(method_specific_id, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':')
    }) {
        let character = method_specific_id
            .get(offset..)
            .and_then(|s| s.chars().next())
            .unwrap_or('%');
        let position = did.len() - method_specific_id.len() + offset;
        return Err(malformed(
            did,
            if character == '%' {
                format!("`%` at byte offset {position} does not start a `%XX` escape")
            } else {
                format!(
                    "character `{}` at byte offset {position} is not allowed in a DID \
                     (a path, query or fragment makes a DID URL, not a DID)",
                    character.escape_debug()
                )
            },
        ));
    }
    Ok(DidParts {
        method,
        method_specific_id,
    })
}

/// The `did:key` of an Ed25519 public key: `did:key:z6Mk…`.
pub fn did_key_from_public_key(key: &PublicKey) -> String {
    format!("did:key:{}", key.to_multibase())
}

/// The `did:jwk` of an Ed25519 public key: the base64url of its JWK
/// `{"crv":"Ed25519","kty":"OKP","x":…}`.
pub fn did_jwk_from_public_key(key: &PublicKey) -> String {
    format!(
        "did:jwk:{}",
        URL_SAFE_NO_PAD.encode(key.to_jwk().to_string())
    )
}

/// The HTTPS URL of a `did:web` DID's document (did:web method specification §3.2):
/// `did:web:example.com` → `https://example.com/.well-known/did.json`,
/// `did:web:example.com%3A8443:users:alice` → `https://example.com:8443/users/alice/did.json`.
pub fn did_web_document_url(did: &str) -> Result<String, DidError> {
    let parts = parse_did(did)?;
    if parts.method != "web" {
        return Err(malformed(did, "it is not a did:web DID"));
    }
    let mut segments = parts.method_specific_id.split(':');
    let authority = segments.next().unwrap_or_default();
    let (host, port) = match authority.find("%3A").or_else(|| authority.find("%3a")) {
        Some(at) => (
            authority.get(..at).unwrap_or_default(),
            Some(authority.get(at + 3..).unwrap_or_default()),
        ),
        None => (authority, None),
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if !host_ok {
        return Err(malformed(
            did,
            "the did:web host must be a domain name (letters, digits, `-`, dot-separated)",
        ));
    }
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(malformed(
            did,
            "did:web must name a domain, not an IP address",
        ));
    }
    if let Some(port) = port {
        if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed(did, "the did:web port must be 1 to 5 digits"));
        }
        if port.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(malformed(
                did,
                "the did:web port must be between 1 and 65535",
            ));
        }
    }
    let path: Vec<&str> = segments.collect();
    if path.iter().any(|segment| segment.is_empty()) {
        return Err(malformed(did, "a did:web path segment is empty"));
    }
    let mut url = format!("https://{}", host.to_ascii_lowercase());
    if let Some(port) = port {
        url.push(':');
        url.push_str(port);
    }
    if path.is_empty() {
        url.push_str("/.well-known");
    }
    for segment in path {
        url.push('/');
        url.push_str(segment);
    }
    url.push_str("/did.json");
    Ok(url)
}

/// The document of a `did:key` (Ed25519): one `Multikey` method, `did:key:X#X`, listed under every
/// signing relationship.
fn did_key_document(did: &str, multibase: &str) -> Result<DidDocument, DidError> {
    let key = PublicKey::from_multibase(multibase)?;
    Ok(single_key_document(
        did,
        format!("{did}#{multibase}"),
        MethodType::Multikey,
        key,
    ))
}

/// The document of a `did:jwk` (OKP Ed25519): one `JsonWebKey2020` method, `did:jwk:X#0`.
fn did_jwk_document(did: &str, payload: &str) -> Result<DidDocument, DidError> {
    if payload.len() > MAX_DID_JWK_PAYLOAD_LEN {
        return Err(malformed(
            did,
            format!(
                "the did:jwk payload is {} bytes long; at most {MAX_DID_JWK_PAYLOAD_LEN} are accepted",
                payload.len()
            ),
        ));
    }
    let json = URL_SAFE_NO_PAD.decode(payload).map_err(|e| {
        malformed(
            did,
            format!("the did:jwk payload is not base64url without padding: {e}"),
        )
    })?;
    let jwk: Value = serde_json::from_slice(&json)
        .map_err(|e| malformed(did, format!("the did:jwk payload is not JSON: {e}")))?;
    let key = PublicKey::from_jwk(&jwk)?;
    Ok(single_key_document(
        did,
        format!("{did}#0"),
        MethodType::JsonWebKey2020,
        key,
    ))
}

fn single_key_document(
    did: &str,
    method_id: String,
    method_type: MethodType,
    key: PublicKey,
) -> DidDocument {
    let listed = vec![method_id.clone()];
    DidDocument {
        id: did.to_owned(),
        verification_methods: vec![VerificationMethod {
            id: method_id,
            method_type,
            controller: did.to_owned(),
            key,
        }],
        unsupported_methods: BTreeMap::new(),
        authentication: listed.clone(),
        assertion_method: listed.clone(),
        capability_invocation: listed.clone(),
        capability_delegation: listed,
    }
}

/// Collects the methods of a document being parsed, keeping ids unique.
struct DocumentParser<'a> {
    did: &'a str,
    methods: Vec<VerificationMethod>,
    unsupported: BTreeMap<String, String>,
    seen: HashSet<String>,
}

impl<'a> DocumentParser<'a> {
    fn new(did: &'a str) -> Self {
        Self {
            did,
            methods: Vec::new(),
            unsupported: BTreeMap::new(),
            seen: HashSet::new(),
        }
    }

    /// Reads one verification method object and returns its absolute id.
    fn method(&mut self, value: &Value) -> Result<String, DidError> {
        let method = value
            .as_object()
            .ok_or_else(|| invalid_document("a verification method is not a JSON object"))?;
        let raw_id = string_member(method, "id", "a verification method")?;
        let id = self.absolute_method_id(raw_id)?;
        let whose = format!("verification method `{id}`");
        if !self.seen.insert(id.clone()) {
            return Err(invalid_document(format!("{whose} appears twice")));
        }
        let controller = string_member(method, "controller", &whose)?;
        parse_did(controller)
            .map_err(|e| invalid_document(format!("{whose}: `controller` is not a DID: {e}")))?;
        let type_name = string_member(method, "type", &whose)?;
        let Some(method_type) = MethodType::parse(type_name) else {
            self.unsupported.insert(
                id.clone(),
                format!("its type `{}` is not supported", excerpt(type_name)),
            );
            return Ok(id);
        };
        let has_multibase = method.contains_key("publicKeyMultibase");
        let has_jwk = method.contains_key("publicKeyJwk");
        if has_multibase && has_jwk {
            return Err(invalid_document(format!(
                "{whose} has both `publicKeyMultibase` and `publicKeyJwk`"
            )));
        }
        let parsed = if method_type.uses_jwk() {
            let jwk = method.get("publicKeyJwk").ok_or_else(|| {
                invalid_document(format!(
                    "{whose} of type {method_type} has no `publicKeyJwk`"
                ))
            })?;
            PublicKey::from_jwk(jwk)
        } else {
            let multibase = string_member(method, "publicKeyMultibase", &whose)?;
            PublicKey::from_multibase(multibase)
        };
        match parsed {
            Ok(key) => self.methods.push(VerificationMethod {
                id: id.clone(),
                method_type,
                controller: controller.to_owned(),
                key,
            }),
            Err(error) if is_other_key_type(&error) => {
                self.unsupported
                    .insert(id.clone(), format!("it is not an Ed25519 key ({error})"));
            }
            Err(error) => {
                return Err(invalid_document(format!("{whose}: {error}")));
            }
        }
        Ok(id)
    }

    /// Reads a verification relationship: an array of method references and embedded methods.
    fn relationship(
        &mut self,
        document: &Map<String, Value>,
        name: &str,
    ) -> Result<Vec<String>, DidError> {
        let Some(entries) = document.get(name) else {
            return Ok(Vec::new());
        };
        let entries = entries
            .as_array()
            .ok_or_else(|| invalid_document(format!("`{name}` must be an array")))?;
        entries
            .iter()
            .map(|entry| match entry {
                Value::String(reference) => self.absolute_method_id(reference),
                Value::Object(_) => self.method(entry),
                _ => Err(invalid_document(format!(
                    "`{name}` entries must be method ids or embedded methods"
                ))),
            })
            .collect()
    }

    /// `#fragment` made absolute against the document's DID; `did…#fragment` checked.
    fn absolute_method_id(&self, raw: &str) -> Result<String, DidError> {
        let id = if raw.starts_with('#') {
            format!("{}{raw}", self.did)
        } else {
            raw.to_owned()
        };
        let well_formed = id
            .split_once('#')
            .is_some_and(|(did, fragment)| parse_did(did).is_ok() && is_fragment(fragment));
        if well_formed {
            Ok(id)
        } else {
            Err(invalid_document(format!(
                "verification method id `{}` is not `<did>#<fragment>` or `#<fragment>`",
                excerpt(raw)
            )))
        }
    }
}

/// Whether a key was refused only for being of another algorithm, which a document may hold for
/// other uses; malformed Ed25519 keys are errors instead.
fn is_other_key_type(error: &KeyError) -> bool {
    match error {
        // A secret key where a public one belongs is a broken document, not another key type.
        KeyError::WrongMulticodec { found, .. } => {
            found.is_some_and(|code| code != crate::key::ED25519_PRIV_CODEC)
        }
        KeyError::InvalidJwk { field, .. } => matches!(*field, "kty" | "crv"),
        _ => false,
    }
}

fn string_member<'v>(
    object: &'v Map<String, Value>,
    name: &str,
    whose: &str,
) -> Result<&'v str, DidError> {
    match object.get(name) {
        Some(Value::String(value)) => Ok(value),
        Some(_) => Err(invalid_document(format!(
            "{whose}: `{name}` is not a string"
        ))),
        None => Err(invalid_document(format!("{whose} has no `{name}`"))),
    }
}

/// A non-empty URI fragment (RFC 3986 §3.5).
fn is_fragment(fragment: &str) -> bool {
    !fragment.is_empty()
        && invalid_char(fragment, |b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'.'
                        | b'_'
                        | b'~'
                        | b'!'
                        | b'$'
                        | b'&'
                        | b'\''
                        | b'('
                        | b')'
                        | b'*'
                        | b'+'
                        | b','
                        | b';'
                        | b'='
                        | b':'
                        | b'@'
                        | b'/'
                        | b'?'
                )
        })
        .is_none()
}

/// Byte offset of the first byte that is neither `allowed` nor part of a `%XX` escape.
fn invalid_char(text: &str, allowed: impl Fn(u8) -> bool) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            match bytes.get(i + 1..i + 3) {
                Some(escape) if escape.iter().all(u8::is_ascii_hexdigit) => {}
                _ => return Some(i),
            }
            i += 3;
        } else if allowed(b) {
            i += 1;
        } else {
            return Some(i);
        }
    }
    None
}

fn malformed(did: &str, reason: impl Into<String>) -> DidError {
    DidError::MalformedDid {
        did: excerpt(did),
        reason: reason.into(),
    }
}

fn invalid_document(reason: impl Into<String>) -> DidError {
    DidError::InvalidDocument {
        reason: reason.into(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::key::SecretKey;
    use pollster::block_on;
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct DidKeyVector {
        seed: String,
        did: String,
        public_key_base58: String,
        x25519: String,
    }

    fn did_key_vectors() -> Vec<DidKeyVector> {
        let file: Value =
            serde_json::from_str(include_str!("../tests/vectors/did-key-ed25519.json")).unwrap();
        assert!(file["_source"].as_str().unwrap().contains("did-method-key"));
        serde_json::from_value(file["vectors"].clone()).unwrap()
    }

    /// The public key of the `n`th did:key vector (seed `00…0n`).
    fn key(n: usize) -> PublicKey {
        let seed = hex::decode(&did_key_vectors()[n].seed).unwrap();
        SecretKey::from_bytes(&seed.try_into().unwrap()).public_key()
    }

    /// The variant of a `DidError`, so tables can name the reason they expect.
    fn kind(error: &DidError) -> &'static str {
        match error {
            DidError::MalformedDid { .. } => "MalformedDid",
            DidError::UnknownMethod { .. } => "UnknownMethod",
            DidError::NotFound { .. } => "NotFound",
            DidError::ResolutionFailed { .. } => "ResolutionFailed",
            DidError::DocumentIdMismatch { .. } => "DocumentIdMismatch",
            DidError::InvalidDocument { .. } => "InvalidDocument",
            DidError::VerificationMethodNotFound { .. } => "VerificationMethodNotFound",
            DidError::UnsupportedVerificationMethod { .. } => "UnsupportedVerificationMethod",
            DidError::ControllerMismatch { .. } => "ControllerMismatch",
            DidError::NotAuthorizedForPurpose { .. } => "NotAuthorizedForPurpose",
            DidError::Key(_) => "Key",
        }
    }

    const ISSUER: &str = "did:web:issuer.example";

    /// A did:web document using every supported method form, plus methods it cannot use.
    fn issuer_document() -> Value {
        json!({
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": ISSUER,
            "verificationMethod": [
                {"id": format!("{ISSUER}#multikey"), "type": "Multikey", "controller": ISSUER,
                 "publicKeyMultibase": key(0).to_multibase()},
                {"id": "#ed2020", "type": "Ed25519VerificationKey2020", "controller": ISSUER,
                 "publicKeyMultibase": key(1).to_multibase()},
                {"id": "#jwk", "type": "JsonWebKey2020", "controller": ISSUER,
                 "publicKeyJwk": key(2).to_jwk()},
                {"id": "#x25519", "type": "Multikey", "controller": ISSUER,
                 "publicKeyMultibase": did_key_vectors()[0].x25519},
                {"id": "#p256", "type": "JsonWebKey", "controller": ISSUER,
                 "publicKeyJwk": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}},
                {"id": "#legacy", "type": "EcdsaSecp256k1VerificationKey2019", "controller": ISSUER,
                 "publicKeyHex": "02"},
                {"id": "#foreign", "type": "Multikey", "controller": "did:web:other.example",
                 "publicKeyMultibase": key(3).to_multibase()}
            ],
            "assertionMethod": ["#multikey", format!("{ISSUER}#ed2020"), "#jwk", "#x25519",
                                "#p256", "#legacy", "#foreign", "did:web:other.example#key"],
            "authentication": [
                {"id": "#auth", "type": "Multikey", "controller": ISSUER,
                 "publicKeyMultibase": key(4).to_multibase()},
                "#multikey"
            ],
            "keyAgreement": ["#x25519"],
            "service": [{"id": "#linked", "type": "LinkedDomains", "serviceEndpoint": "https://issuer.example"}]
        })
    }

    fn issuer_resolver() -> StaticResolver {
        StaticResolver::new(LocalResolver)
            .with_document(&issuer_document())
            .unwrap()
    }

    #[test]
    fn did_key_vectors_derive_and_resolve() {
        for v in did_key_vectors() {
            let seed = hex::decode(&v.seed).unwrap();
            let public = SecretKey::from_bytes(&seed.try_into().unwrap()).public_key();
            assert_eq!(did_key_from_public_key(&public), v.did, "seed {}", v.seed);

            let document = block_on(LocalResolver.resolve(&v.did)).unwrap();
            let multibase = v.did.strip_prefix("did:key:").unwrap();
            let method_id = format!("{}#{multibase}", v.did);
            assert_eq!(document.id(), v.did);
            assert_eq!(document.verification_methods().len(), 1);
            let method = &document.verification_methods()[0];
            assert_eq!(method.id, method_id);
            assert_eq!(method.controller, v.did);
            assert_eq!(method.method_type, MethodType::Multikey);
            assert_eq!(
                bs58::encode(method.key.as_bytes()).into_string(),
                v.public_key_base58
            );
            for listed in [
                document.authentication(),
                document.assertion_method(),
                document.capability_invocation(),
                document.capability_delegation(),
            ] {
                assert_eq!(listed, std::slice::from_ref(&method_id));
            }
            for purpose in [ProofPurpose::AssertionMethod, ProofPurpose::Authentication] {
                let resolved = block_on(resolve_verification_method(
                    &LocalResolver,
                    &method_id,
                    purpose,
                ))
                .unwrap();
                assert_eq!(resolved.key, public);
            }
        }
    }

    #[test]
    fn did_key_refuses_other_keys() {
        let x25519 = format!("did:key:{}", did_key_vectors()[0].x25519);
        let weak = format!(
            "did:key:z{}",
            bs58::encode([[0xed, 0x01].as_slice(), &[0; 32]].concat()).into_string()
        );
        // (DID, expected key error)
        let cases = [
            (
                x25519,
                KeyError::WrongMulticodec {
                    expected: 0xed,
                    found: Some(0xec),
                },
            ),
            (weak, KeyError::WeakKey),
            (
                "did:key:u7QE".to_owned(),
                KeyError::UnsupportedMultibase {
                    prefix: 'u',
                    name: "base64url",
                },
            ),
        ];
        for (did, expected) in cases {
            assert_eq!(
                LocalResolver.resolve_now(&did),
                Err(DidError::Key(expected)),
                "{did}"
            );
        }
    }

    #[test]
    fn did_jwk_round_trips() {
        for n in 0..5 {
            let public = key(n);
            let did = did_jwk_from_public_key(&public);
            let document = block_on(LocalResolver.resolve(&did)).unwrap();
            assert_eq!(document.id(), did);
            let method = &document.verification_methods()[0];
            assert_eq!(method.id, format!("{did}#0"));
            assert_eq!(method.method_type, MethodType::JsonWebKey2020);
            assert_eq!(method.key, public);
            let resolved = block_on(resolve_verification_method(
                &LocalResolver,
                &format!("{did}#0"),
                ProofPurpose::AssertionMethod,
            ))
            .unwrap();
            assert_eq!(resolved.key, public);
        }
        // The JWK is serialised with its members sorted, as its thumbprint would be.
        let did = did_jwk_from_public_key(&key(0));
        let payload = URL_SAFE_NO_PAD
            .decode(did.strip_prefix("did:jwk:").unwrap())
            .unwrap();
        assert!(
            String::from_utf8(payload)
                .unwrap()
                .starts_with(r#"{"crv":"Ed25519","kty":"OKP","x":""#)
        );
    }

    #[test]
    fn did_jwk_errors() {
        let jwk_did = |jwk: Value| format!("did:jwk:{}", URL_SAFE_NO_PAD.encode(jwk.to_string()));
        let x = URL_SAFE_NO_PAD.encode(key(0).as_bytes());
        let long = format!("did:jwk:{}", "A".repeat(MAX_DID_JWK_PAYLOAD_LEN + 4));
        // (DID, expected variant, fragment of the message)
        let cases = [
            (
                jwk_did(json!({"kty": "EC", "crv": "P-256", "x": x, "y": x})),
                "Key",
                "`kty` must be \"OKP\"",
            ),
            (
                jwk_did(json!({"kty": "OKP", "crv": "X25519", "x": x})),
                "Key",
                "`crv` must be \"Ed25519\"",
            ),
            (
                jwk_did(json!({"kty": "OKP", "crv": "Ed25519", "x": x, "use": "enc"})),
                "Key",
                "`use`",
            ),
            (
                jwk_did(json!({"kty": "OKP", "crv": "Ed25519", "x": x, "d": x})),
                "Key",
                "private key",
            ),
            (jwk_did(json!(["OKP"])), "Key", "not a JSON object"),
            ("did:jwk:abc".to_owned(), "MalformedDid", "not JSON"),
            ("did:jwk:eyJ".to_owned(), "MalformedDid", "not base64url"),
            (long, "MalformedDid", "at most 1024"),
        ];
        for (did, expected, fragment) in cases {
            let error = LocalResolver.resolve_now(&did).unwrap_err();
            assert_eq!(kind(&error), expected, "{did}: {error}");
            assert!(error.to_string().contains(fragment), "{did}: {error}");
        }
    }

    #[test]
    fn local_resolver_knows_only_key_and_jwk() {
        for (did, method) in [
            (ISSUER, "web"),
            ("did:example:123", "example"),
            ("did:ion:abc", "ion"),
        ] {
            assert_eq!(
                block_on(LocalResolver.resolve(did)),
                Err(DidError::UnknownMethod {
                    method: method.to_owned()
                })
            );
        }
        assert_eq!(
            block_on(resolve_verification_method(
                &LocalResolver,
                &format!("{ISSUER}#multikey"),
                ProofPurpose::AssertionMethod
            )),
            Err(DidError::UnknownMethod {
                method: "web".to_owned()
            })
        );
    }

    #[test]
    fn malformed_dids() {
        // (input, fragment of the reason)
        let cases = [
            ("", "does not start with `did:`"),
            ("DID:key:z6Mk", "does not start with `did:`"),
            ("did:", "no method-specific identifier"),
            ("did:key", "no method-specific identifier"),
            ("did::abc", "method name is empty"),
            ("did:Key:abc", "lowercase"),
            ("did:key:", "identifier is empty"),
            ("did:web:example.com:", "must not end with `:`"),
            ("did:web:example.com#key", "`#` at byte offset 19"),
            ("did:web:example.com/path", "`/` at byte offset 19"),
            ("did:web:exa mple.com", "` ` at byte offset 11"),
            ("did:web:examplé.com", "`é`"),
            ("did:web:example.com%3", "`%` at byte offset 19"),
            ("did:web:example.com%zz", "`%` at byte offset 19"),
        ];
        for (did, fragment) in cases {
            match parse_did(did) {
                Err(DidError::MalformedDid { reason, .. }) => {
                    assert!(reason.contains(fragment), "{did}: {reason}");
                }
                other => panic!("{did}: expected MalformedDid, got {other:?}"),
            }
        }
        let too_long = format!("did:web:{}", "a".repeat(MAX_DID_LEN));
        match parse_did(&too_long) {
            Err(DidError::MalformedDid { did, reason }) => {
                assert!(reason.contains("at most 2048"), "{reason}");
                assert!(did.len() < 200, "the message quotes only the start");
            }
            other => panic!("expected MalformedDid, got {other:?}"),
        }
        for did in [
            "did:web:example.com%3A8443:a::b",
            "did:example:123",
            "did:key:z6Mk-._:x",
        ] {
            assert!(parse_did(did).is_ok(), "{did}");
        }
    }

    #[test]
    fn did_web_documents_resolve_through_the_static_resolver() {
        let resolver = issuer_resolver();
        let url = |fragment: &str| format!("{ISSUER}#{fragment}");
        use ProofPurpose::{AssertionMethod as Assert, Authentication as Auth};
        // (method URL, purpose, expected: Ok(key index) or Err(variant))
        let cases: Vec<(String, ProofPurpose, Result<usize, &str>)> = vec![
            (url("multikey"), Assert, Ok(0)),
            (url("multikey"), Auth, Ok(0)),
            (url("ed2020"), Assert, Ok(1)),
            (url("jwk"), Assert, Ok(2)),
            (url("auth"), Auth, Ok(4)),
            (url("auth"), Assert, Err("NotAuthorizedForPurpose")),
            (url("jwk"), Auth, Err("NotAuthorizedForPurpose")),
            (url("x25519"), Assert, Err("UnsupportedVerificationMethod")),
            (url("p256"), Assert, Err("UnsupportedVerificationMethod")),
            (url("legacy"), Assert, Err("UnsupportedVerificationMethod")),
            (url("foreign"), Assert, Err("ControllerMismatch")),
            (url("missing"), Assert, Err("VerificationMethodNotFound")),
            (url("linked"), Assert, Err("VerificationMethodNotFound")),
            (
                "did:web:other.example#key".to_owned(),
                Assert,
                Err("NotFound"),
            ),
            ("did:example:123#key".to_owned(), Assert, Err("NotFound")),
            (ISSUER.to_owned(), Assert, Err("MalformedDid")),
            (format!("{ISSUER}#"), Assert, Err("MalformedDid")),
            (
                format!("{ISSUER}/path#multikey"),
                Assert,
                Err("MalformedDid"),
            ),
            (
                format!("{ISSUER}?q=1#multikey"),
                Assert,
                Err("MalformedDid"),
            ),
            ("#multikey".to_owned(), Assert, Err("MalformedDid")),
        ];
        for (vm_url, purpose, expected) in cases {
            let result = block_on(resolve_verification_method(&resolver, &vm_url, purpose));
            match (result, expected) {
                (Ok(method), Ok(n)) => {
                    assert_eq!(method.key, key(n), "{vm_url}");
                    assert_eq!(method.id, vm_url);
                    assert_eq!(method.controller, ISSUER);
                }
                (Err(error), Err(variant)) => {
                    assert_eq!(kind(&error), variant, "{vm_url} for {purpose}: {error}");
                }
                (result, expected) => {
                    panic!("{vm_url} for {purpose}: expected {expected:?}, got {result:?}")
                }
            }
        }
        let document = block_on(resolver.resolve(ISSUER)).unwrap();
        assert_eq!(
            document
                .verification_method(&format!("{ISSUER}#ed2020"))
                .unwrap()
                .method_type,
            MethodType::Ed25519VerificationKey2020
        );
        // did:key still resolves through the fallback.
        let did_key = &did_key_vectors()[0].did;
        let vm = format!("{did_key}#{}", did_key.strip_prefix("did:key:").unwrap());
        assert!(block_on(resolve_verification_method(&resolver, &vm, Assert)).is_ok());
        assert_eq!(
            kind(
                &block_on(resolve_verification_method(
                    &resolver,
                    &format!("{did_key}#other"),
                    Assert
                ))
                .unwrap_err()
            ),
            "VerificationMethodNotFound"
        );
    }

    #[test]
    fn not_authorized_names_the_purpose() {
        let error = block_on(resolve_verification_method(
            &issuer_resolver(),
            &format!("{ISSUER}#auth"),
            ProofPurpose::AssertionMethod,
        ))
        .unwrap_err();
        assert_eq!(
            error,
            DidError::NotAuthorizedForPurpose {
                id: format!("{ISSUER}#auth"),
                purpose: ProofPurpose::AssertionMethod
            }
        );
        assert!(error.to_string().contains("assertionMethod"), "{error}");
    }

    #[test]
    fn resolvers_returning_another_document_are_refused() {
        struct Wrong;
        impl DidResolver for Wrong {
            async fn resolve(&self, _did: &str) -> Result<DidDocument, DidError> {
                DidDocument::from_json(&issuer_document())
            }
        }
        let error = block_on(resolve_verification_method(
            &Wrong,
            "did:web:evil.example#multikey",
            ProofPurpose::AssertionMethod,
        ))
        .unwrap_err();
        assert_eq!(
            error,
            DidError::DocumentIdMismatch {
                did: "did:web:evil.example".to_owned(),
                document_id: ISSUER.to_owned()
            }
        );
        assert_eq!(
            DidDocument::from_json_for("did:web:evil.example", &issuer_document()).unwrap_err(),
            error
        );
        assert!(DidDocument::from_json_for(ISSUER, &issuer_document()).is_ok());
    }

    #[test]
    fn invalid_documents_are_refused() {
        let good = key(0).to_multibase();
        let method = |id: &str| json!({"id": id, "type": "Multikey", "controller": ISSUER, "publicKeyMultibase": good});
        let with_methods = |methods: Value| json!({"id": ISSUER, "verificationMethod": methods});
        let did_key = &did_key_vectors()[0].did;
        // (document, fragment of the reason)
        let cases = [
            (json!([]), "not a JSON object"),
            (json!({"verificationMethod": []}), "`id` is missing"),
            (json!({"id": "https://issuer.example"}), "`id` is not a DID"),
            (json!({"id": format!("{ISSUER}#frag")}), "`id` is not a DID"),
            (
                json!({"id": ISSUER, "verificationMethod": {}}),
                "must be an array",
            ),
            (with_methods(json!(["#key"])), "not a JSON object"),
            (
                with_methods(json!([method("key-1")])),
                "`key-1` is not `<did>#<fragment>`",
            ),
            (
                with_methods(json!([method("#")])),
                "is not `<did>#<fragment>`",
            ),
            (
                with_methods(json!([method("#a b")])),
                "is not `<did>#<fragment>`",
            ),
            (
                with_methods(json!([method("https://issuer.example#k")])),
                "is not `<did>#<fragment>`",
            ),
            (
                with_methods(json!([method("#k"), method(&format!("{ISSUER}#k"))])),
                "appears twice",
            ),
            (
                with_methods(json!([{"id": "#k", "type": "Multikey", "publicKeyMultibase": good}])),
                "has no `controller`",
            ),
            (
                with_methods(
                    json!([{"id": "#k", "type": "Multikey", "controller": "issuer", "publicKeyMultibase": good}]),
                ),
                "`controller` is not a DID",
            ),
            (
                with_methods(
                    json!([{"id": "#k", "controller": ISSUER, "publicKeyMultibase": good}]),
                ),
                "has no `type`",
            ),
            (
                with_methods(
                    json!([{"id": "#k", "type": "Multikey", "controller": ISSUER, "publicKeyJwk": key(0).to_jwk()}]),
                ),
                "has no `publicKeyMultibase`",
            ),
            (
                with_methods(
                    json!([{"id": "#k", "type": "JsonWebKey", "controller": ISSUER, "publicKeyMultibase": good}]),
                ),
                "has no `publicKeyJwk`",
            ),
            (
                with_methods(
                    json!([{"id": "#k", "type": "Multikey", "controller": ISSUER, "publicKeyMultibase": good, "publicKeyJwk": key(0).to_jwk()}]),
                ),
                "has both",
            ),
            (
                with_methods(
                    json!([{"id": "#k", "type": "Multikey", "controller": ISSUER, "publicKeyMultibase": format!("z{}", bs58::encode([[0xed, 0x01].as_slice(), &[0; 32]].concat()).into_string())}]),
                ),
                "weak public key",
            ),
            (
                with_methods(
                    json!([{"id": "#k", "type": "Multikey", "controller": ISSUER, "publicKeyMultibase": "z6Mk0"}]),
                ),
                "invalid base58btc",
            ),
            (
                with_methods(
                    json!([{"id": "#k", "type": "Multikey", "controller": ISSUER,
                    "publicKeyMultibase": SecretKey::from_bytes(&[1; 32]).to_multibase()}]),
                ),
                "found 0x1300 (ed25519-priv)",
            ),
            (
                json!({"id": ISSUER, "authentication": "#k"}),
                "`authentication` must be an array",
            ),
            (
                json!({"id": ISSUER, "assertionMethod": [1]}),
                "`assertionMethod` entries must be",
            ),
            (
                json!({"id": ISSUER, "assertionMethod": ["k"]}),
                "is not `<did>#<fragment>`",
            ),
            (
                json!({"id": ISSUER, "verificationMethod": [method("#k")], "authentication": [method("#k")]}),
                "appears twice",
            ),
            (
                json!({"id": did_key, "verificationMethod": []}),
                "derived from the DID",
            ),
        ];
        for (document, fragment) in cases {
            let mut resolver = StaticResolver::new(LocalResolver);
            match resolver.insert_document(&document) {
                Err(DidError::InvalidDocument { reason }) => {
                    assert!(reason.contains(fragment), "{document}: {reason}");
                }
                other => panic!("{document}: expected InvalidDocument, got {other:?}"),
            }
        }
    }

    #[test]
    fn did_web_urls() {
        let cases = [
            (
                "did:web:w3c-ccg.github.io",
                Ok("https://w3c-ccg.github.io/.well-known/did.json"),
            ),
            (
                "did:web:w3c-ccg.github.io:user:alice",
                Ok("https://w3c-ccg.github.io/user/alice/did.json"),
            ),
            (
                "did:web:example.com%3A3000:user:alice",
                Ok("https://example.com:3000/user/alice/did.json"),
            ),
            (
                "did:web:Example.COM",
                Ok("https://example.com/.well-known/did.json"),
            ),
            ("did:key:z6Mk", Err("not a did:web")),
            ("did:web:127.0.0.1", Err("not an IP address")),
            ("did:web:example..com", Err("domain name")),
            ("did:web:-example.com", Err("domain name")),
            ("did:web:exa_mple.com", Err("domain name")),
            ("did:web:example.com%3A", Err("1 to 5 digits")),
            ("did:web:example.com%3A99999", Err("between 1 and 65535")),
            ("did:web:example.com%3A0", Err("between 1 and 65535")),
            ("did:web:example.com%2F..", Err("domain name")),
            ("did:web:example.com::a", Err("path segment is empty")),
            ("did:web:example.com#x", Err("not allowed")),
        ];
        for (did, expected) in cases {
            match (did_web_document_url(did), expected) {
                (Ok(url), Ok(expected)) => assert_eq!(url, expected, "{did}"),
                (Err(DidError::MalformedDid { reason, .. }), Err(fragment)) => {
                    assert!(reason.contains(fragment), "{did}: {reason}");
                }
                (result, expected) => panic!("{did}: expected {expected:?}, got {result:?}"),
            }
        }
    }

    #[test]
    fn proof_purposes_round_trip() {
        for purpose in [ProofPurpose::AssertionMethod, ProofPurpose::Authentication] {
            assert_eq!(purpose.as_str().parse(), Ok(purpose));
            assert_eq!(purpose.to_string(), purpose.as_str());
        }
        assert_eq!(
            "capabilityInvocation".parse::<ProofPurpose>(),
            Err(UnknownProofPurpose("capabilityInvocation".to_owned()))
        );
    }

    #[test]
    fn did_of_strips_path_query_and_fragment() {
        for (url, did) in [
            ("did:key:z6Mk#z6Mk", "did:key:z6Mk"),
            ("did:web:a.example/path?x#y", "did:web:a.example"),
            ("did:web:a.example?x", "did:web:a.example"),
            ("did:web:a.example", "did:web:a.example"),
            ("#frag", ""),
            ("", ""),
        ] {
            assert_eq!(did_of(url), did, "{url}");
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            prop_oneof![
                Just(ISSUER.to_owned()),
                Just("#k".to_owned()),
                Just("Multikey".to_owned()),
                Just("JsonWebKey".to_owned()),
                Just(key(0).to_multibase()),
                ".{0,12}",
            ]
            .prop_map(Value::from),
        ];
        let names = prop_oneof![
            Just("id".to_owned()),
            Just("type".to_owned()),
            Just("controller".to_owned()),
            Just("publicKeyMultibase".to_owned()),
            Just("publicKeyJwk".to_owned()),
            Just("verificationMethod".to_owned()),
            Just("assertionMethod".to_owned()),
            Just("authentication".to_owned()),
            Just("kty".to_owned()),
            Just("crv".to_owned()),
            Just("x".to_owned()),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map(names.clone(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn local_resolver_never_panics(did in any::<String>()) {
            let _ = block_on(LocalResolver.resolve(&did));
            let _ = did_web_document_url(&did);
        }

        #[test]
        fn local_resolver_never_panics_on_near_dids(
            method in prop_oneof![Just("key"), Just("jwk"), Just("web")],
            rest in "[A-Za-z0-9._%:#/-]{0,80}",
        ) {
            let did = format!("did:{method}:{rest}");
            let _ = block_on(LocalResolver.resolve(&did));
            let _ = did_web_document_url(&did);
            let _ = block_on(resolve_verification_method(&LocalResolver, &did, ProofPurpose::Authentication));
        }

        #[test]
        fn did_jwk_never_panics(payload in proptest::collection::vec(any::<u8>(), 0..200)) {
            let did = format!("did:jwk:{}", URL_SAFE_NO_PAD.encode(payload));
            let _ = block_on(LocalResolver.resolve(&did));
        }

        #[test]
        fn resolve_verification_method_never_panics(vm_url in any::<String>()) {
            let _ = block_on(resolve_verification_method(&issuer_resolver(), &vm_url, ProofPurpose::AssertionMethod));
        }

        #[test]
        fn document_parsing_never_panics(document in json_value()) {
            let _ = DidDocument::from_json(&document);
            let _ = DidDocument::from_json(&json!({"id": ISSUER, "verificationMethod": [document.clone()], "authentication": [document]}));
        }
    }
}
