//! C2SP signed notes, transparency-log checkpoints and witness cosignatures.
//!
//! A [signed note] is a text followed by signature lines (`— <name> base64(key id ‖ signature)`);
//! a [checkpoint] is a note whose text is a log's origin, tree size and root hash; a [cosignature]
//! (`cosignature/v1`, type `0x04`) is a witness's timestamped Ed25519 signature over the
//! checkpoint, saying "as of this time, this is the largest tree of this log I have seen, and it
//! extends every earlier one". Keys travel as the Go `note` package writes them: verifier keys
//! `<name>+<hex key id>+base64(type ‖ public key)` and signer keys `PRIVATE+KEY+…` with the seed.
//!
//! Everything here is pure: time is a parameter, keys are passed in, and untrusted text is parsed
//! with bounds ([`MAX_NOTE_BYTES`], [`MAX_SIGNATURES`], [`MAX_SIGNATURE_BYTES`]) and never makes
//! this module panic. Signatures are checked strictly ([`crate::key::PublicKey::verify`]).
//!
//! Verification follows the note rules: signature lines whose (name, key id) match no configured
//! key are ignored, whatever else they share with one; a line that does match must verify, or the
//! whole note is refused (the choice the Go reference makes). A cosigner is counted once per
//! public key, since `cosignature/v1` does not commit to the cosigner's name.
//!
//! [signed note]: https://c2sp.org/signed-note
//! [checkpoint]: https://c2sp.org/tlog-checkpoint
//! [cosignature]: https://c2sp.org/tlog-cosignature

use crate::key::{KeyError, PublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;
use zeroize::Zeroizing;

/// The signed-note signature type of plain Ed25519 signatures over the note text.
pub const ED25519: u8 = 0x01;
/// The signed-note signature type of `cosignature/v1` timestamped Ed25519 cosignatures.
pub const COSIGNATURE_V1: u8 = 0x04;

/// The largest note (text and signatures) accepted, in bytes.
pub const MAX_NOTE_BYTES: usize = 1 << 20;
/// The most signature lines a note may carry (the signed-note floor is 16; Go's is 100).
pub const MAX_SIGNATURES: usize = 100;
/// The largest decoded signature (key id included) accepted on a line: room for post-quantum
/// signatures of other types, which are ignored, not refused.
pub const MAX_SIGNATURE_BYTES: usize = 5 * 1024;
/// How far in the future a cosignature's timestamp may be and still count, in seconds.
pub const MAX_CLOCK_SKEW_SECS: u64 = 10 * 60;

const SIGNATURE_PREFIX: &str = "\u{2014} ";
const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";
const ED25519_SIGNATURE_BYTES: usize = 64;
const TIMESTAMP_BYTES: usize = 8;

/// Every reason a key, note, checkpoint or cosignature is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("the note is {size} bytes long; at most {max} are accepted")]
    TooLarge { size: usize, max: usize },
    #[error(
        "the note has a control character (U+{code:04X}) at byte {offset}; only newlines are allowed"
    )]
    ControlCharacter { offset: usize, code: u32 },
    #[error("the text does not end with a newline")]
    MissingFinalNewline,
    #[error("the note text is empty")]
    EmptyText,
    #[error("the note has no signature lines after a blank line")]
    NoSignatures,
    #[error("signature line {line}: {reason}")]
    MalformedSignatureLine { line: usize, reason: &'static str },
    #[error("signature line {line} carries a signature larger than {max} bytes")]
    SignatureTooLarge { line: usize, max: usize },
    #[error("the note has more than {max} signature lines")]
    TooManySignatures { max: usize },
    #[error("invalid key name {name:?}: {reason}")]
    InvalidKeyName { name: String, reason: &'static str },
    #[error("malformed key: {0}")]
    MalformedKey(&'static str),
    #[error(
        "unsupported key type 0x{0:02x}: only Ed25519 (0x01) and cosignature/v1 (0x04) keys are known"
    )]
    UnsupportedKeyType(u8),
    #[error("the key id {found} does not match the key, whose id is {expected}")]
    KeyIdMismatch { expected: String, found: String },
    #[error("invalid Ed25519 key: {0}")]
    InvalidKey(KeyError),
    #[error("key {name} is of type 0x{found:02x} where type 0x{expected:02x} is needed")]
    WrongKeyKind {
        name: String,
        expected: u8,
        found: u8,
    },
    #[error("two different keys are both named {name} with id {key_id}")]
    AmbiguousKey { name: String, key_id: String },
    #[error("the checkpoint has {found} lines; origin, tree size and root hash are required")]
    TooFewLines { found: usize },
    #[error("line {line} of the checkpoint is empty")]
    EmptyLine { line: usize },
    #[error("invalid tree size {0:?}: a decimal number without leading zeros is required")]
    InvalidTreeSize(String),
    #[error("invalid root hash: {0}")]
    InvalidRootHash(&'static str),
    #[error("the checkpoint's origin {origin:?} is not the log key's name {key_name:?}")]
    OriginMismatch { origin: String, key_name: String },
    #[error("a checkpoint field has a newline in it, so the text would say something else")]
    NewlineInField,
    #[error("the cosignature timestamp {0} is larger than 2^63 - 1")]
    TimestampTooLarge(u64),
    #[error("the signature of key {name}+{key_id} does not verify")]
    InvalidSignature { name: String, key_id: String },
    #[error("the note has no signature from the log key {name}+{key_id}")]
    NoLogSignature { name: String, key_id: String },
    #[error("{found} of the witnesses cosigned the checkpoint where {needed} are required")]
    QuorumNotMet { needed: usize, found: usize },
}

/// A public key of a note signer: its name, signature type and Ed25519 key.
#[derive(Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    kind: u8,
    key: PublicKey,
    key_id: [u8; 4],
}

impl NoteVerifier {
    /// Parses a verifier key `<name>+<hex key id>+<base64(type ‖ key)>`, checking the name, the
    /// type, the key (a canonical, large-order Ed25519 point) and that the id is the key's.
    pub fn parse(vkey: &str) -> Result<NoteVerifier, NoteError> {
        let (name, rest) = vkey
            .split_once('+')
            .ok_or(NoteError::MalformedKey("expected <name>+<key id>+<key>"))?;
        let (id, encoded) = rest
            .split_once('+')
            .ok_or(NoteError::MalformedKey("expected <name>+<key id>+<key>"))?;
        check_name(name)?;
        let id = parse_key_id(id)?;
        let raw = STANDARD
            .decode(encoded)
            .map_err(|_| NoteError::MalformedKey("the key is not standard base64"))?;
        let (&kind, key) = raw
            .split_first()
            .ok_or(NoteError::MalformedKey("the key is empty"))?;
        check_kind(kind)?;
        let verifier = NoteVerifier::build(name, kind, public_key(key)?);
        check_key_id(id, verifier.key_id)?;
        Ok(verifier)
    }

    /// A verifier for `key` under `name`, with signatures of type `kind`.
    pub fn new(name: &str, kind: u8, key: VerifyingKey) -> Result<NoteVerifier, NoteError> {
        check_name(name)?;
        check_kind(kind)?;
        Ok(NoteVerifier::build(name, kind, public_key(key.as_bytes())?))
    }

    fn build(name: &str, kind: u8, key: PublicKey) -> NoteVerifier {
        NoteVerifier {
            name: name.to_owned(),
            kind,
            key_id: key_id(name, kind, key.as_bytes()),
            key,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `SHA-256(name ‖ 0x0A ‖ type ‖ key)[:4]`.
    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    pub fn kind(&self) -> u8 {
        self.kind
    }

    /// The 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    pub fn to_vkey(&self) -> String {
        let mut raw = Vec::with_capacity(33);
        raw.push(self.kind);
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_id),
            STANDARD.encode(raw)
        )
    }

    /// Whether `line` claims to be from this key: same name and same key id.
    pub fn matches(&self, line: &SignatureLine) -> bool {
        line.name == self.name && line.key_id == self.key_id
    }

    /// Checks `line`'s signature over the note text `body`: for an Ed25519 key, over the text;
    /// for a cosignature key, over the `cosignature/v1` message of the timestamp the line
    /// carries, which is returned. A line of another key is refused as not verifying.
    pub fn verify(&self, body: &str, line: &SignatureLine) -> Result<Option<u64>, NoteError> {
        if !self.matches(line) {
            return Err(self.invalid_signature());
        }
        match self.kind {
            COSIGNATURE_V1 => {
                let timestamp = line
                    .cosignature_timestamp()
                    .ok_or_else(|| self.invalid_signature())?;
                if timestamp > i64::MAX as u64 {
                    return Err(NoteError::TimestampTooLarge(timestamp));
                }
                let message = cosignature_message(body, timestamp);
                self.key
                    .verify(message.as_bytes(), &line.signature[TIMESTAMP_BYTES..])
                    .map_err(|_| self.invalid_signature())?;
                Ok(Some(timestamp))
            }
            _ => {
                self.key
                    .verify(body.as_bytes(), &line.signature)
                    .map_err(|_| self.invalid_signature())?;
                Ok(None)
            }
        }
    }

    fn invalid_signature(&self) -> NoteError {
        NoteError::InvalidSignature {
            name: self.name.clone(),
            key_id: hex::encode(self.key_id),
        }
    }

    fn require_kind(&self, expected: u8) -> Result<(), NoteError> {
        if self.kind == expected {
            Ok(())
        } else {
            Err(NoteError::WrongKeyKind {
                name: self.name.clone(),
                expected,
                found: self.kind,
            })
        }
    }
}

impl fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_vkey())
    }
}

impl fmt::Debug for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteVerifier({})", self.to_vkey())
    }
}

impl std::str::FromStr for NoteVerifier {
    type Err = NoteError;

    fn from_str(vkey: &str) -> Result<Self, Self::Err> {
        NoteVerifier::parse(vkey)
    }
}

/// A private key that signs notes: its name, signature type and Ed25519 key. Its `Debug` shows
/// only the public half.
pub struct NoteSigner {
    key: SigningKey,
    verifier: NoteVerifier,
}

impl NoteSigner {
    /// A signer of type `kind` for `key` under `name`.
    pub fn new(name: &str, kind: u8, key: SigningKey) -> Result<NoteSigner, NoteError> {
        let verifier = NoteVerifier::new(name, kind, key.verifying_key())?;
        Ok(NoteSigner { key, verifier })
    }

    /// A signer from a 32-byte Ed25519 seed (the private key of RFC 8032), for callers that hold
    /// the seed without depending on ed25519-dalek themselves (key generation in the binaries).
    pub fn from_seed(name: &str, kind: u8, seed: &[u8; 32]) -> Result<NoteSigner, NoteError> {
        NoteSigner::new(name, kind, SigningKey::from_bytes(seed))
    }

    /// Parses a signer key `PRIVATE+KEY+<name>+<hex key id>+<base64(type ‖ seed)>`, whose id is
    /// that of the public key.
    pub fn parse(skey: &str) -> Result<NoteSigner, NoteError> {
        let rest = skey
            .strip_prefix(PRIVATE_KEY_PREFIX)
            .ok_or(NoteError::MalformedKey(
                "a signer key starts with PRIVATE+KEY+",
            ))?;
        let (name, rest) = rest.split_once('+').ok_or(NoteError::MalformedKey(
            "expected PRIVATE+KEY+<name>+<key id>+<key>",
        ))?;
        let (id, encoded) = rest.split_once('+').ok_or(NoteError::MalformedKey(
            "expected PRIVATE+KEY+<name>+<key id>+<key>",
        ))?;
        check_name(name)?;
        let id = parse_key_id(id)?;
        let raw = Zeroizing::new(
            STANDARD
                .decode(encoded)
                .map_err(|_| NoteError::MalformedKey("the key is not standard base64"))?,
        );
        let (&kind, seed) = raw
            .split_first()
            .ok_or(NoteError::MalformedKey("the key is empty"))?;
        check_kind(kind)?;
        let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
            seed.try_into()
                .map_err(|_| NoteError::MalformedKey("an Ed25519 seed is 32 bytes"))?,
        );
        let signer = NoteSigner::new(name, kind, SigningKey::from_bytes(&seed))?;
        check_key_id(id, signer.verifier.key_id)?;
        Ok(signer)
    }

    /// The same key and name with signatures of another type (a witness may keep its key as an
    /// Ed25519 signer key and cosign with it).
    pub fn with_kind(&self, kind: u8) -> Result<NoteSigner, NoteError> {
        NoteSigner::new(&self.verifier.name, kind, self.key.clone())
    }

    pub fn to_skey(&self) -> String {
        let mut raw = Zeroizing::new(Vec::with_capacity(33));
        raw.push(self.verifier.kind);
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "{PRIVATE_KEY_PREFIX}{}+{}+{}",
            self.verifier.name,
            hex::encode(self.verifier.key_id),
            STANDARD.encode(&*raw)
        )
    }

    pub fn verifier(&self) -> NoteVerifier {
        self.verifier.clone()
    }

    pub fn name(&self) -> &str {
        &self.verifier.name
    }

    pub fn kind(&self) -> u8 {
        self.verifier.kind
    }

    fn line(&self, signature: Vec<u8>) -> SignatureLine {
        SignatureLine {
            name: self.verifier.name.clone(),
            key_id: self.verifier.key_id,
            signature,
        }
    }
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteSigner({})", self.verifier.to_vkey())
    }
}

/// A log's tree head as a checkpoint's text says it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: [u8; 32],
    /// Lines after the root hash: opaque, non-empty, signed but not vouched for by witnesses.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// `origin\nsize\nbase64(root)\n` and each extension line.
    pub fn body(&self) -> String {
        let mut body = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        );
        for extension in &self.extensions {
            body.push_str(extension);
            body.push('\n');
        }
        body
    }

    /// Parses a checkpoint text strictly: at least three non-empty lines, each ending in a
    /// newline; the size in decimal without leading zeros; the root as canonical standard
    /// base64 of 32 bytes; no control characters.
    pub fn parse_body(body: &str) -> Result<Checkpoint, NoteError> {
        check_text(body)?;
        let content = body
            .strip_suffix('\n')
            .ok_or(NoteError::MissingFinalNewline)?;
        let lines: Vec<&str> = content.split('\n').collect();
        if lines.len() < 3 {
            return Err(NoteError::TooFewLines { found: lines.len() });
        }
        if let Some(empty) = lines.iter().position(|line| line.is_empty()) {
            return Err(NoteError::EmptyLine { line: empty + 1 });
        }
        let size = parse_decimal(lines[1])
            .ok_or_else(|| NoteError::InvalidTreeSize(lines[1].to_owned()))?;
        let root = STANDARD
            .decode(lines[2])
            .map_err(|_| NoteError::InvalidRootHash("not canonical standard base64"))?
            .try_into()
            .map_err(|_| NoteError::InvalidRootHash("not 32 bytes"))?;
        Ok(Checkpoint {
            origin: lines[0].to_owned(),
            size,
            root,
            extensions: lines[3..].iter().map(|line| (*line).to_owned()).collect(),
        })
    }

    /// Checks that the fields make a checkpoint text that reads back as these fields (no
    /// newline in the origin or an extension, no empty extension...).
    pub fn validate(&self) -> Result<(), NoteError> {
        let parsed = Checkpoint::parse_body(&self.body())?;
        if parsed == *self {
            Ok(())
        } else {
            Err(NoteError::NewlineInField)
        }
    }
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureLine {
    pub name: String,
    pub key_id: [u8; 4],
    /// The signature proper, after the key id.
    pub signature: Vec<u8>,
}

impl SignatureLine {
    /// `— name base64(key id ‖ signature)\n`.
    pub fn to_line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_id);
        raw.extend_from_slice(&self.signature);
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, STANDARD.encode(raw))
    }

    /// Parses one line, without its final newline.
    pub fn parse(line: &str) -> Result<SignatureLine, NoteError> {
        parse_signature_line(line, 1)
    }

    /// The timestamp of a `cosignature/v1` signature (the first 8 bytes, big-endian), when the
    /// signature has that type's length.
    pub fn cosignature_timestamp(&self) -> Option<u64> {
        if self.signature.len() != TIMESTAMP_BYTES + ED25519_SIGNATURE_BYTES {
            return None;
        }
        let bytes: [u8; TIMESTAMP_BYTES] = self.signature[..TIMESTAMP_BYTES].try_into().ok()?;
        Some(u64::from_be_bytes(bytes))
    }
}

/// A note: its text and its signature lines, none of them verified yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedNote {
    /// The text, with its final newline, without the blank line that follows it.
    pub body: String,
    pub signatures: Vec<SignatureLine>,
}

impl SignedNote {
    /// Parses a signed note: at most [`MAX_NOTE_BYTES`], no control character but newline, a
    /// text ending in a newline, a blank line (the last one), then one to [`MAX_SIGNATURES`]
    /// well-formed signature lines, each ending in a newline.
    pub fn parse(text: &str) -> Result<SignedNote, NoteError> {
        check_text(text)?;
        let split = text.rfind("\n\n").ok_or(NoteError::NoSignatures)?;
        let body = &text[..split + 1];
        let signatures = parse_signature_lines(&text[split + 2..])?;
        Ok(SignedNote {
            body: body.to_owned(),
            signatures,
        })
    }

    pub fn to_text(&self) -> String {
        let mut text = self.body.clone();
        text.push('\n');
        for line in &self.signatures {
            text.push_str(&line.to_line());
        }
        text
    }
}

/// Parses a sequence of signature lines, each ending in a newline (a witness's answer): one to
/// [`MAX_SIGNATURES`] of them.
pub fn parse_signature_lines(text: &str) -> Result<Vec<SignatureLine>, NoteError> {
    check_text(text)?;
    if text.is_empty() {
        return Err(NoteError::NoSignatures);
    }
    let lines = text
        .strip_suffix('\n')
        .ok_or(NoteError::MissingFinalNewline)?;
    let mut signatures = Vec::new();
    for (index, line) in lines.split('\n').enumerate() {
        if signatures.len() == MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                max: MAX_SIGNATURES,
            });
        }
        signatures.push(parse_signature_line(line, index + 1)?);
    }
    Ok(signatures)
}

/// The message a `cosignature/v1` signs: `cosignature/v1\ntime <timestamp>\n` then the
/// checkpoint text.
pub fn cosignature_message(body: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{body}")
}

/// The log signs a checkpoint body (type 0x01 signature over the body text).
pub fn sign_note(signer: &NoteSigner, body: &str) -> Result<SignatureLine, NoteError> {
    signer.verifier.require_kind(ED25519)?;
    check_text(body)?;
    if body.is_empty() {
        return Err(NoteError::EmptyText);
    }
    if !body.ends_with('\n') {
        return Err(NoteError::MissingFinalNewline);
    }
    let signature = signer.key.sign(body.as_bytes());
    Ok(signer.line(signature.to_bytes().to_vec()))
}

/// A witness cosigns (cosignature/v1, type 0x04): timestamp (POSIX seconds) as given.
pub fn cosign(
    signer: &NoteSigner,
    checkpoint: &Checkpoint,
    timestamp: u64,
) -> Result<SignatureLine, NoteError> {
    signer.verifier.require_kind(COSIGNATURE_V1)?;
    if timestamp > i64::MAX as u64 {
        return Err(NoteError::TimestampTooLarge(timestamp));
    }
    checkpoint.validate()?;
    let message = cosignature_message(&checkpoint.body(), timestamp);
    let mut signature = Vec::with_capacity(TIMESTAMP_BYTES + ED25519_SIGNATURE_BYTES);
    signature.extend_from_slice(&timestamp.to_be_bytes());
    signature.extend_from_slice(&signer.key.sign(message.as_bytes()).to_bytes());
    Ok(signer.line(signature))
}

/// What a verified checkpoint tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    pub checkpoint: Checkpoint,
    /// Each counted witness once: its name and the latest timestamp it cosigned at.
    pub cosigners: Vec<(String, u64)>,
}

/// Checks that `note` carries a valid signature of the log key `log` (type 0x01): lines of
/// other keys are ignored; a line of this key that does not verify refuses the note.
pub fn verify_log_signature(note: &SignedNote, log: &NoteVerifier) -> Result<(), NoteError> {
    log.require_kind(ED25519)?;
    let mut found = false;
    for line in note.signatures.iter().filter(|line| log.matches(line)) {
        log.verify(&note.body, line)?;
        found = true;
    }
    if found {
        Ok(())
    } else {
        Err(NoteError::NoLogSignature {
            name: log.name.clone(),
            key_id: hex::encode(log.key_id),
        })
    }
}

/// Verifies the log's signature (required) and counts valid cosignatures from `witnesses`
/// (each witness counted once; unknown signature lines ignored per spec); fails unless at least
/// `quorum` distinct witnesses cosigned. `now` (POSIX seconds) rejects cosignatures too far in the future (allow some minutes of skew).
///
/// The checkpoint's origin must be the log key's name. A cosignature dated more than
/// [`MAX_CLOCK_SKEW_SECS`] after `now` is not counted; one that does not verify refuses the
/// note. Witnesses are told apart by public key, so one key listed under two names counts once.
pub fn verify_checkpoint(
    text: &str,
    log: &NoteVerifier,
    witnesses: &[NoteVerifier],
    quorum: usize,
    now: u64,
) -> Result<VerifiedCheckpoint, NoteError> {
    let note = SignedNote::parse(text)?;
    let checkpoint = Checkpoint::parse_body(&note.body)?;
    if checkpoint.origin != log.name {
        return Err(NoteError::OriginMismatch {
            origin: checkpoint.origin,
            key_name: log.name.clone(),
        });
    }
    for (index, witness) in witnesses.iter().enumerate() {
        witness.require_kind(COSIGNATURE_V1)?;
        let clash = std::iter::once(log)
            .chain(&witnesses[..index])
            .any(|other| {
                other.name == witness.name && other.key_id == witness.key_id && other != witness
            });
        if clash {
            return Err(NoteError::AmbiguousKey {
                name: witness.name.clone(),
                key_id: hex::encode(witness.key_id),
            });
        }
    }
    verify_log_signature(&note, log)?;

    let latest_allowed = now.saturating_add(MAX_CLOCK_SKEW_SECS);
    let mut counted: Vec<(PublicKey, String, u64)> = Vec::new();
    for line in &note.signatures {
        let Some(witness) = witnesses.iter().find(|witness| witness.matches(line)) else {
            continue;
        };
        let Some(timestamp) = witness.verify(&note.body, line)? else {
            continue;
        };
        if timestamp > latest_allowed {
            continue;
        }
        match counted.iter_mut().find(|(key, _, _)| *key == witness.key) {
            Some(entry) => entry.2 = entry.2.max(timestamp),
            None => counted.push((witness.key, witness.name.clone(), timestamp)),
        }
    }
    if counted.len() < quorum {
        return Err(NoteError::QuorumNotMet {
            needed: quorum,
            found: counted.len(),
        });
    }
    Ok(VerifiedCheckpoint {
        checkpoint,
        cosigners: counted
            .into_iter()
            .map(|(_, name, timestamp)| (name, timestamp))
            .collect(),
    })
}

/// `SHA-256(name ‖ 0x0A ‖ kind ‖ key)[:4]`.
fn key_id(name: &str, kind: u8, key: &[u8]) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([b'\n', kind]);
    hasher.update(key);
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// Key names are non-empty, without Unicode white space, `+` or control characters.
fn check_name(name: &str) -> Result<(), NoteError> {
    let refuse = |reason| {
        Err(NoteError::InvalidKeyName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return refuse("a key name is not empty");
    }
    if name.contains('+') {
        return refuse("a key name has no '+'");
    }
    if name.chars().any(char::is_whitespace) {
        return refuse("a key name has no white space");
    }
    if name.chars().any(char::is_control) {
        return refuse("a key name has no control characters");
    }
    Ok(())
}

fn check_kind(kind: u8) -> Result<(), NoteError> {
    match kind {
        ED25519 | COSIGNATURE_V1 => Ok(()),
        other => Err(NoteError::UnsupportedKeyType(other)),
    }
}

fn public_key(bytes: &[u8]) -> Result<PublicKey, NoteError> {
    PublicKey::from_bytes(bytes).map_err(NoteError::InvalidKey)
}

/// Exactly eight hexadecimal digits.
fn parse_key_id(hex_id: &str) -> Result<[u8; 4], NoteError> {
    if hex_id.len() != 8 {
        return Err(NoteError::MalformedKey("a key id is 8 hexadecimal digits"));
    }
    let mut id = [0u8; 4];
    hex::decode_to_slice(hex_id, &mut id)
        .map_err(|_| NoteError::MalformedKey("a key id is 8 hexadecimal digits"))?;
    Ok(id)
}

fn check_key_id(found: [u8; 4], expected: [u8; 4]) -> Result<(), NoteError> {
    if found == expected {
        Ok(())
    } else {
        Err(NoteError::KeyIdMismatch {
            expected: hex::encode(expected),
            found: hex::encode(found),
        })
    }
}

/// The bounds every note text shares: size, and no control character but newline.
fn check_text(text: &str) -> Result<(), NoteError> {
    if text.len() > MAX_NOTE_BYTES {
        return Err(NoteError::TooLarge {
            size: text.len(),
            max: MAX_NOTE_BYTES,
        });
    }
    if let Some((offset, c)) = text.char_indices().find(|(_, c)| *c < ' ' && *c != '\n') {
        return Err(NoteError::ControlCharacter {
            offset,
            code: c as u32,
        });
    }
    Ok(())
}

/// ASCII decimal without leading zeros (`0` itself allowed), within `u64`.
pub(crate) fn parse_decimal(text: &str) -> Option<u64> {
    let digits_only = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if !digits_only || (text.len() > 1 && text.starts_with('0')) {
        return None;
    }
    text.parse().ok()
}

fn parse_signature_line(line: &str, number: usize) -> Result<SignatureLine, NoteError> {
    let malformed = |reason| NoteError::MalformedSignatureLine {
        line: number,
        reason,
    };
    let rest = line
        .strip_prefix(SIGNATURE_PREFIX)
        .ok_or_else(|| malformed("a signature line starts with an em dash and a space"))?;
    let (name, encoded) = rest
        .split_once(' ')
        .ok_or_else(|| malformed("expected a key name, a space and a signature"))?;
    check_name(name).map_err(|_| malformed("the key name is empty or has '+' or white space"))?;
    // Base64 makes 4 characters of 3 bytes: refuse before decoding what cannot fit.
    if encoded.len() > MAX_SIGNATURE_BYTES.div_ceil(3) * 4 {
        return Err(NoteError::SignatureTooLarge {
            line: number,
            max: MAX_SIGNATURE_BYTES,
        });
    }
    let raw = STANDARD
        .decode(encoded)
        .map_err(|_| malformed("the signature is not canonical standard base64"))?;
    if raw.len() > MAX_SIGNATURE_BYTES {
        return Err(NoteError::SignatureTooLarge {
            line: number,
            max: MAX_SIGNATURE_BYTES,
        });
    }
    if raw.len() < 5 {
        return Err(malformed(
            "a signature is a 4-byte key id and at least one byte",
        ));
    }
    Ok(SignatureLine {
        name: name.to_owned(),
        key_id: [raw[0], raw[1], raw[2], raw[3]],
        signature: raw[4..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_strict() {
        for (text, expected) in [
            ("0", Some(0)),
            ("7", Some(7)),
            ("18446744073709551615", Some(u64::MAX)),
            ("18446744073709551616", None),
            ("", None),
            ("00", None),
            ("01", None),
            ("+1", None),
            ("-1", None),
            (" 1", None),
            ("1e3", None),
            ("１", None),
        ] {
            assert_eq!(parse_decimal(text), expected, "{text:?}");
        }
    }

    #[test]
    fn names_follow_the_note_rules() {
        for (name, ok) in [
            ("example.com/log", true),
            ("oid/1.3.6.1", true),
            ("é—ü", true),
            ("", false),
            ("a+b", false),
            ("a b", false),
            ("a\u{a0}b", false),
            ("a\u{2003}b", false),
            ("a\tb", false),
            ("a\u{7f}b", false),
        ] {
            assert_eq!(check_name(name).is_ok(), ok, "{name:?}");
        }
    }
}
