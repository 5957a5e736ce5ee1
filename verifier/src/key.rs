//! Ed25519 keys, parsed strictly.
//!
//! This module owns the only key type the verifier accepts: Ed25519 ([RFC 8032]). A
//! [`PublicKey`] can only be built from a canonical encoding of a curve point that does not
//! have small order, so every `PublicKey` in the crate is one a signature under it can mean
//! something for. [`PublicKey::verify`] uses strict verification: it refuses signatures whose
//! scalar `S` is not reduced and whose `R` has small order, so a valid signature cannot be
//! altered into another valid one. [`SecretKey`] signs (for the wallet and for tests); its
//! `Debug` shows only the public half, and the key bytes are wiped on drop.
//!
//! Keys travel as multibase strings (base58btc, prefix `z`) over a multicodec header
//! (`ed25519-pub` 0xed, `ed25519-priv` 0x1300), as used by `Multikey` and `did:key`, or as
//! OKP JSON Web Keys ([RFC 8037]) for `did:jwk`. Every way a key or signature can be wrong has its
//! own [`KeyError`] variant, and no input makes this module panic.
//!
//! [RFC 8032]: https://www.rfc-editor.org/rfc/rfc8032
//! [RFC 8037]: https://www.rfc-editor.org/rfc/rfc8037

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use rand_core::CryptoRngCore;
use serde_json::{Value, json};
use zeroize::{Zeroize as _, Zeroizing};

/// Length of an Ed25519 public key, in bytes.
pub const PUBLIC_KEY_LENGTH: usize = 32;
/// Length of an Ed25519 secret key (the RFC 8032 seed), in bytes.
pub const SECRET_KEY_LENGTH: usize = 32;
/// Length of an Ed25519 signature, in bytes.
pub const SIGNATURE_LENGTH: usize = 64;
/// Multicodec code of an Ed25519 public key (`ed25519-pub`).
pub const ED25519_PUB_CODEC: u64 = 0xed;
/// Multicodec code of an Ed25519 secret key (`ed25519-priv`).
pub const ED25519_PRIV_CODEC: u64 = 0x1300;

/// Longest multibase key string accepted, in bytes. A 2-byte header and 32 key bytes take at most
/// 47 base58 characters; the bound keeps base58 decoding (quadratic) cheap on hostile input.
const MAX_MULTIBASE_LEN: usize = 64;

/// Why a key or signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The string is empty or does not start with a known multibase prefix.
    #[error("not a multibase string: {}", describe_prefix(*.prefix))]
    NotMultibase {
        /// The first character, if there was one.
        prefix: Option<char>,
    },
    /// The string is multibase, but in a base other than base58btc.
    #[error(
        "unsupported multibase base {name} (prefix '{prefix}'): keys must be base58btc (prefix 'z')"
    )]
    UnsupportedMultibase {
        /// The multibase prefix character.
        prefix: char,
        /// The name of the base it stands for.
        name: &'static str,
    },
    /// The multibase string is far longer than any Ed25519 key.
    #[error("multibase key is {found} bytes long; an Ed25519 key takes at most {max}")]
    MultibaseTooLong {
        /// The longest accepted string, in bytes.
        max: usize,
        /// The length of the string given.
        found: usize,
    },
    /// The text after the `z` prefix is not base58btc.
    #[error("invalid base58btc: {reason}")]
    InvalidBase58 {
        /// What is wrong with it.
        reason: String,
    },
    /// The decoded bytes do not start with the multicodec header of the expected key type.
    #[error(
        "wrong multicodec: expected {}, found {}",
        describe_codec(*.expected),
        describe_found_codec(*.found)
    )]
    WrongMulticodec {
        /// The multicodec code required here.
        expected: u64,
        /// The code found, or `None` if the bytes do not start with a valid varint.
        found: Option<u64>,
    },
    /// The key material has the wrong number of bytes.
    #[error("wrong key length: expected {expected} bytes, found {found}")]
    WrongKeyLength {
        /// The required length.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// The 32 bytes do not encode a point of the Ed25519 curve.
    #[error("invalid public key: the bytes do not encode a point on the Ed25519 curve")]
    NotOnCurve,
    /// The 32 bytes encode a curve point, but not in its one canonical form.
    #[error(
        "non-canonical public key encoding: the point has a different standard encoding \
         (coordinate not reduced, or sign bit set on a zero coordinate)"
    )]
    NonCanonicalKey,
    /// The public key is a point of small order: signatures under it prove nothing.
    #[error(
        "weak public key: the point has small order, so it cannot bind a signature to a signer"
    )]
    WeakKey,
    /// The signature is not exactly 64 bytes long.
    #[error("bad signature length: expected {SIGNATURE_LENGTH} bytes, found {found}")]
    BadSignatureLength {
        /// The length given.
        found: usize,
    },
    /// The signature's scalar `S` is not reduced modulo the group order (`S ≥ L`).
    #[error("non-canonical signature: its scalar S is not below the group order L")]
    NonCanonicalSignature,
    /// The signature is well formed but does not verify for this key and message.
    #[error("signature does not verify for this public key and message")]
    VerificationFailed,
    /// A JSON Web Key field is missing or has a value other than an Ed25519 public key needs.
    #[error("invalid JWK: field `{field}` {reason}")]
    InvalidJwk {
        /// The JWK member at fault (`jwk` when the value is not an object at all).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// An Ed25519 public key: a canonically encoded curve point of large order.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Builds a key from its 32-byte encoding, refusing other lengths, bytes that are not a curve
    /// point, non-canonical encodings and small-order (weak) points.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let bytes: [u8; PUBLIC_KEY_LENGTH] =
            bytes.try_into().map_err(|_| KeyError::WrongKeyLength {
                expected: PUBLIC_KEY_LENGTH,
                found: bytes.len(),
            })?;
        // dalek accepts a y coordinate ≥ p and a sign bit on x = 0; re-encoding the point is
        // the simplest complete test that these exact bytes are its one standard encoding.
        let point = CompressedEdwardsY(bytes)
            .decompress()
            .ok_or(KeyError::NotOnCurve)?;
        if point.compress().to_bytes() != bytes {
            return Err(KeyError::NonCanonicalKey);
        }
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::NotOnCurve)?;
        if key.is_weak() {
            return Err(KeyError::WeakKey);
        }
        Ok(Self(key))
    }

    /// The 32-byte encoding of the key.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LENGTH] {
        self.0.as_bytes()
    }

    /// The 32-byte encoding of the key, by value.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LENGTH] {
        self.0.to_bytes()
    }

    /// Parses a multibase `ed25519-pub` key (`z6Mk…`), as in `Multikey` and `did:key`.
    pub fn from_multibase(multibase: &str) -> Result<Self, KeyError> {
        let bytes = decode_multibase_key(multibase, ED25519_PUB_CODEC, PUBLIC_KEY_LENGTH)?;
        Self::from_bytes(&bytes)
    }

    /// The multibase `ed25519-pub` form of the key (`z6Mk…`).
    pub fn to_multibase(&self) -> String {
        let mut bytes = Vec::with_capacity(2 + PUBLIC_KEY_LENGTH);
        bytes.extend_from_slice(&ED25519_PUB_HEADER);
        bytes.extend_from_slice(self.as_bytes());
        format!("z{}", bs58::encode(bytes).into_string())
    }

    /// Reads an OKP Ed25519 public JSON Web Key (RFC 8037).
    ///
    /// `kty` must be `OKP`, `crv` `Ed25519`, and `x` the key in base64url without padding.
    /// A JWK holding private material (`d`) is refused, as are `alg` values other than `EdDSA`
    /// or `Ed25519` and `use` values other than `sig`.
    pub fn from_jwk(jwk: &Value) -> Result<Self, KeyError> {
        let Some(jwk) = jwk.as_object() else {
            return Err(invalid_jwk("jwk", "is not a JSON object".to_owned()));
        };
        let member = |name: &'static str| -> Result<Option<&str>, KeyError> {
            match jwk.get(name) {
                None => Ok(None),
                Some(Value::String(value)) => Ok(Some(value.as_str())),
                Some(other) => Err(invalid_jwk(
                    name,
                    format!("must be a string, found {}", excerpt(&other.to_string())),
                )),
            }
        };
        let required = |name: &'static str, expected: &str| -> Result<(), KeyError> {
            match member(name)? {
                Some(value) if value == expected => Ok(()),
                Some(value) => Err(invalid_jwk(
                    name,
                    format!("must be \"{expected}\", found \"{}\"", excerpt(value)),
                )),
                None => Err(invalid_jwk(
                    name,
                    format!("is missing (expected \"{expected}\")"),
                )),
            }
        };
        required("kty", "OKP")?;
        required("crv", "Ed25519")?;
        if jwk.contains_key("d") {
            return Err(invalid_jwk(
                "d",
                "holds private key material, which a public key must not contain".to_owned(),
            ));
        }
        if let Some(alg) = member("alg")?
            && alg != "EdDSA"
            && alg != "Ed25519"
        {
            return Err(invalid_jwk(
                "alg",
                format!(
                    "must be \"EdDSA\" or \"Ed25519\", found \"{}\"",
                    excerpt(alg)
                ),
            ));
        }
        if let Some(key_use) = member("use")?
            && key_use != "sig"
        {
            return Err(invalid_jwk(
                "use",
                format!(
                    "must be \"sig\" for a signing key, found \"{}\"",
                    excerpt(key_use)
                ),
            ));
        }
        let Some(x) = member("x")? else {
            return Err(invalid_jwk("x", "is missing".to_owned()));
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(x)
            .map_err(|e| invalid_jwk("x", format!("is not base64url without padding: {e}")))?;
        if bytes.len() != PUBLIC_KEY_LENGTH {
            return Err(invalid_jwk(
                "x",
                format!("must hold {PUBLIC_KEY_LENGTH} bytes, found {}", bytes.len()),
            ));
        }
        Self::from_bytes(&bytes)
    }

    /// The key as an OKP Ed25519 public JSON Web Key: `{"crv":"Ed25519","kty":"OKP","x":…}`.
    ///
    /// Members are written in lexicographic order, so the serialised form is the same whether
    /// or not `serde_json` preserves insertion order.
    pub fn to_jwk(&self) -> Value {
        json!({
            "crv": "Ed25519",
            "kty": "OKP",
            "x": URL_SAFE_NO_PAD.encode(self.as_bytes()),
        })
    }

    /// Checks `signature` over `message`, strictly.
    ///
    /// The signature must be exactly 64 bytes, its `S` must be reduced (`S < L`), and its `R`
    /// must not have small order; then the RFC 8032 equation must hold (cofactorless).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), KeyError> {
        let signature: [u8; SIGNATURE_LENGTH] =
            signature
                .try_into()
                .map_err(|_| KeyError::BadSignatureLength {
                    found: signature.len(),
                })?;
        // `verify_strict` refuses this too, but cannot say why; checking first names the reason.
        let mut s = [0u8; 32];
        s.copy_from_slice(&signature[32..]);
        if bool::from(Scalar::from_canonical_bytes(s).is_none()) {
            return Err(KeyError::NonCanonicalSignature);
        }
        self.0
            .verify_strict(message, &Signature::from_bytes(&signature))
            .map_err(|_| KeyError::VerificationFailed)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PublicKey")
            .field(&self.to_multibase())
            .finish()
    }
}

/// Displays the multibase form (`z6Mk…`).
impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_multibase())
    }
}

/// Parses the multibase form, as [`PublicKey::from_multibase`].
impl FromStr for PublicKey {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_multibase(s)
    }
}

/// An Ed25519 secret key (the RFC 8032 32-byte seed). Wiped from memory on drop; `Debug` shows
/// only the public key.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// Builds a key from its 32-byte seed (any 32 bytes are a valid seed).
    pub fn from_bytes(seed: &[u8; SECRET_KEY_LENGTH]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// Draws a new key from `rng`. The library never reaches for OS randomness itself: callers
    /// pass one in (for example `rand_core::OsRng`).
    pub fn generate<R: CryptoRngCore + ?Sized>(rng: &mut R) -> Self {
        Self(SigningKey::generate(rng))
    }

    /// Parses a multibase `ed25519-priv` key (`z3u2…`): header 0x80 0x26, then the 32-byte seed.
    pub fn from_multibase(multibase: &str) -> Result<Self, KeyError> {
        let seed = decode_multibase_key(multibase, ED25519_PRIV_CODEC, SECRET_KEY_LENGTH)?;
        let seed: &[u8; SECRET_KEY_LENGTH] =
            seed.as_slice()
                .try_into()
                .map_err(|_| KeyError::WrongKeyLength {
                    expected: SECRET_KEY_LENGTH,
                    found: seed.len(),
                })?;
        Ok(Self::from_bytes(seed))
    }

    /// The multibase `ed25519-priv` form of the key (`z3u2…`).
    ///
    /// The string is the secret key: keep it no longer than needed (wrap it in
    /// `zeroize::Zeroizing` to wipe it on drop). The intermediate buffers used here are wiped.
    pub fn to_multibase(&self) -> String {
        let mut bytes = Zeroizing::new([0u8; 2 + SECRET_KEY_LENGTH]);
        let (header, seed) = bytes.split_at_mut(2);
        header.copy_from_slice(&ED25519_PRIV_HEADER);
        seed.copy_from_slice(self.0.as_bytes());
        let mut encoded = bs58::encode(&bytes[..]).into_string();
        // Exact capacity, so no reallocation leaves an unwiped copy behind.
        let mut multibase = String::with_capacity(1 + encoded.len());
        multibase.push('z');
        multibase.push_str(&encoded);
        encoded.zeroize();
        multibase
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        // A clamped secret scalar times the base point is never of small order, and dalek
        // encodes it canonically: the invariants of `PublicKey` hold without re-checking.
        PublicKey(self.0.verifying_key())
    }

    /// Signs `message` (RFC 8032 Ed25519, deterministic).
    pub fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LENGTH] {
        self.0.sign(message).to_bytes()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

/// Varint encoding of [`ED25519_PUB_CODEC`].
const ED25519_PUB_HEADER: [u8; 2] = [0xed, 0x01];
/// Varint encoding of [`ED25519_PRIV_CODEC`].
const ED25519_PRIV_HEADER: [u8; 2] = [0x80, 0x26];

/// Decodes a base58btc multibase string, checks its multicodec header and returns the key bytes
/// after it (wiped on drop, as they may be secret).
fn decode_multibase_key(
    multibase: &str,
    codec: u64,
    key_length: usize,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let mut chars = multibase.chars();
    let prefix = chars
        .next()
        .ok_or(KeyError::NotMultibase { prefix: None })?;
    if prefix != 'z' {
        return Err(match multibase_name(prefix) {
            Some(name) => KeyError::UnsupportedMultibase { prefix, name },
            None => KeyError::NotMultibase {
                prefix: Some(prefix),
            },
        });
    }
    if multibase.len() > MAX_MULTIBASE_LEN {
        return Err(KeyError::MultibaseTooLong {
            max: MAX_MULTIBASE_LEN,
            found: multibase.len(),
        });
    }
    let decoded = Zeroizing::new(bs58::decode(chars.as_str()).into_vec().map_err(|e| {
        KeyError::InvalidBase58 {
            reason: describe_base58_error(&e),
        }
    })?);
    let key = match read_varint(&decoded) {
        Some((found, key)) if found == codec => key,
        other => {
            return Err(KeyError::WrongMulticodec {
                expected: codec,
                found: other.map(|(found, _)| found),
            });
        }
    };
    if key.len() != key_length {
        return Err(KeyError::WrongKeyLength {
            expected: key_length,
            found: key.len(),
        });
    }
    Ok(Zeroizing::new(key.to_vec()))
}

/// Reads a multiformats unsigned varint (at most 9 bytes, minimally encoded); returns the value
/// and the bytes after it.
fn read_varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value: u64 = 0;
    for (i, &byte) in bytes.iter().enumerate().take(9) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            if i > 0 && byte == 0 {
                return None; // a trailing zero group: not the minimal encoding
            }
            return Some((value, bytes.get(i + 1..)?));
        }
    }
    None
}

/// Names of the multibase prefixes, for telling "wrong base" apart from "not multibase".
fn multibase_name(prefix: char) -> Option<&'static str> {
    Some(match prefix {
        '0' => "base2",
        '7' => "base8",
        '9' => "base10",
        'f' => "base16",
        'F' => "base16upper",
        'b' => "base32",
        'B' => "base32upper",
        'c' => "base32pad",
        'C' => "base32padupper",
        'v' => "base32hex",
        'V' => "base32hexupper",
        't' => "base32hexpad",
        'T' => "base32hexpadupper",
        'h' => "base32z",
        'k' => "base36",
        'K' => "base36upper",
        'z' => "base58btc",
        'Z' => "base58flickr",
        'm' => "base64",
        'M' => "base64pad",
        'u' => "base64url",
        'U' => "base64urlpad",
        'p' => "proquint",
        '🚀' => "base256emoji",
        _ => return None,
    })
}

/// Names of the key multicodecs one is likely to meet instead of Ed25519.
fn multicodec_name(code: u64) -> Option<&'static str> {
    Some(match code {
        0xe7 => "secp256k1-pub",
        0xea => "bls12_381-g1-pub",
        0xeb => "bls12_381-g2-pub",
        0xec => "x25519-pub",
        0xed => "ed25519-pub",
        0x1200 => "p256-pub",
        0x1201 => "p384-pub",
        0x1202 => "p521-pub",
        0x1205 => "rsa-pub",
        0x1300 => "ed25519-priv",
        0x1301 => "secp256k1-priv",
        0x1302 => "x25519-priv",
        _ => return None,
    })
}

fn describe_prefix(prefix: Option<char>) -> String {
    match prefix {
        None => "the string is empty".to_owned(),
        Some(prefix) => format!("'{}' is not a multibase prefix", prefix.escape_debug()),
    }
}

fn describe_codec(code: u64) -> String {
    match multicodec_name(code) {
        Some(name) => format!("{code:#x} ({name})"),
        None => format!("{code:#x}"),
    }
}

fn describe_found_codec(found: Option<u64>) -> String {
    match found {
        Some(code) => describe_codec(code),
        None => "no valid multicodec varint header".to_owned(),
    }
}

fn describe_base58_error(error: &bs58::decode::Error) -> String {
    match error {
        bs58::decode::Error::InvalidCharacter { character, index } => format!(
            "character '{}' at byte offset {} is not in the base58btc alphabet",
            character.escape_debug(),
            index + 1 // counted in the whole string, prefix included
        ),
        bs58::decode::Error::NonAsciiCharacter { index } => {
            format!("non-ASCII character at byte offset {}", index + 1)
        }
        other => other.to_string(),
    }
}

fn invalid_jwk(field: &'static str, reason: String) -> KeyError {
    KeyError::InvalidJwk { field, reason }
}

/// At most 64 characters of `text`, for quoting untrusted input in messages.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 64;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", text.get(..end).unwrap_or_default()),
        None => text.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Rfc8032File {
        #[serde(rename = "_source")]
        source: String,
        vectors: Vec<Rfc8032Vector>,
    }

    #[derive(Deserialize)]
    struct Rfc8032Vector {
        name: String,
        secret: String,
        public: String,
        message: String,
        signature: String,
    }

    fn rfc8032_vectors() -> Vec<Rfc8032Vector> {
        let file: Rfc8032File =
            serde_json::from_str(include_str!("../tests/vectors/rfc8032-ed25519.json")).unwrap();
        assert!(file.source.contains("RFC 8032"));
        assert!(!file.vectors.is_empty());
        file.vectors
    }

    /// The variant of a `KeyError`, so tables can name the reason they expect.
    fn kind(error: &KeyError) -> &'static str {
        match error {
            KeyError::NotMultibase { .. } => "NotMultibase",
            KeyError::UnsupportedMultibase { .. } => "UnsupportedMultibase",
            KeyError::MultibaseTooLong { .. } => "MultibaseTooLong",
            KeyError::InvalidBase58 { .. } => "InvalidBase58",
            KeyError::WrongMulticodec { .. } => "WrongMulticodec",
            KeyError::WrongKeyLength { .. } => "WrongKeyLength",
            KeyError::NotOnCurve => "NotOnCurve",
            KeyError::NonCanonicalKey => "NonCanonicalKey",
            KeyError::WeakKey => "WeakKey",
            KeyError::BadSignatureLength { .. } => "BadSignatureLength",
            KeyError::NonCanonicalSignature => "NonCanonicalSignature",
            KeyError::VerificationFailed => "VerificationFailed",
            KeyError::InvalidJwk { .. } => "InvalidJwk",
        }
    }

    fn secret_from_hex(seed: &str) -> SecretKey {
        SecretKey::from_bytes(&hex::decode(seed).unwrap().try_into().unwrap())
    }

    fn multibase_of(bytes: &[u8]) -> String {
        format!("z{}", bs58::encode(bytes).into_string())
    }

    fn with_header(header: &[u8], key_length: usize) -> String {
        let mut bytes = header.to_vec();
        bytes.extend(std::iter::repeat_n(7u8, key_length));
        multibase_of(&bytes)
    }

    #[test]
    fn rfc8032_vectors_sign_and_verify() {
        for v in rfc8032_vectors() {
            let secret = secret_from_hex(&v.secret);
            let public = secret.public_key();
            assert_eq!(
                hex::encode(public.as_bytes()),
                v.public,
                "{}: public key",
                v.name
            );
            assert_eq!(
                PublicKey::from_bytes(&hex::decode(&v.public).unwrap()).unwrap(),
                public,
                "{}: parsed public key",
                v.name
            );
            let message = hex::decode(&v.message).unwrap();
            let signature = secret.sign(&message);
            assert_eq!(hex::encode(signature), v.signature, "{}: signature", v.name);
            assert_eq!(
                public.verify(&message, &signature),
                Ok(()),
                "{}: verify",
                v.name
            );
        }
    }

    #[test]
    fn rfc8032_vectors_any_bit_flip_fails() {
        for v in rfc8032_vectors() {
            let public = PublicKey::from_bytes(&hex::decode(&v.public).unwrap()).unwrap();
            let message = hex::decode(&v.message).unwrap();
            let signature = hex::decode(&v.signature).unwrap();
            for bit in 0..message.len() * 8 {
                let mut flipped = message.clone();
                flipped[bit / 8] ^= 1 << (bit % 8);
                assert_eq!(
                    public.verify(&flipped, &signature),
                    Err(KeyError::VerificationFailed),
                    "{}: message bit {bit}",
                    v.name
                );
            }
            for bit in 0..SIGNATURE_LENGTH * 8 {
                let mut flipped = signature.clone();
                flipped[bit / 8] ^= 1 << (bit % 8);
                let error = public.verify(&message, &flipped).unwrap_err();
                assert!(
                    matches!(
                        error,
                        KeyError::VerificationFailed | KeyError::NonCanonicalSignature
                    ),
                    "{}: signature bit {bit}: {error:?}",
                    v.name
                );
            }
        }
    }

    #[test]
    fn public_key_bytes_are_checked_strictly() {
        // (hex encoding, expected reason)
        let cases = [
            // the identity (0, 1): order 1
            (
                "0100000000000000000000000000000000000000000000000000000000000000",
                "WeakKey",
            ),
            // (0, -1): order 2
            (
                "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                "WeakKey",
            ),
            // (±√-1, 0): order 4
            (
                "0000000000000000000000000000000000000000000000000000000000000000",
                "WeakKey",
            ),
            (
                "0000000000000000000000000000000000000000000000000000000000000080",
                "WeakKey",
            ),
            // order 8
            (
                "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
                "WeakKey",
            ),
            (
                "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
                "WeakKey",
            ),
            // the identity with the sign bit set on x = 0
            (
                "0100000000000000000000000000000000000000000000000000000000000080",
                "NonCanonicalKey",
            ),
            // y = p + 1, another spelling of the identity
            (
                "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                "NonCanonicalKey",
            ),
            // y = p + 3: a point of large order, but y is not reduced
            (
                "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                "NonCanonicalKey",
            ),
            // y = 2: (y² - 1)/(d·y² + 1) has no square root
            (
                "0200000000000000000000000000000000000000000000000000000000000000",
                "NotOnCurve",
            ),
            (
                "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f70751",
                "WrongKeyLength",
            ),
            (
                "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a00",
                "WrongKeyLength",
            ),
            ("", "WrongKeyLength"),
        ];
        for (encoding, expected) in cases {
            let error = PublicKey::from_bytes(&hex::decode(encoding).unwrap()).unwrap_err();
            assert_eq!(kind(&error), expected, "{encoding}: {error}");
        }
    }

    #[test]
    fn every_torsion_point_is_weak() {
        for point in curve25519_dalek::constants::EIGHT_TORSION {
            let encoding = point.compress().to_bytes();
            assert_eq!(
                PublicKey::from_bytes(&encoding),
                Err(KeyError::WeakKey),
                "{}",
                hex::encode(encoding)
            );
        }
    }

    #[test]
    fn signatures_are_checked_strictly() {
        let v = &rfc8032_vectors()[0];
        let public = PublicKey::from_bytes(&hex::decode(&v.public).unwrap()).unwrap();
        let message = hex::decode(&v.message).unwrap();
        let signature = hex::decode(&v.signature).unwrap();

        // S + L: the same signature, malleated. L, little-endian:
        let order = hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
            .unwrap();
        let mut s = [0u8; 32];
        s.copy_from_slice(&signature[32..]);
        let mut s_plus_l = [0u8; 32];
        let mut carry = 0u16;
        for (i, out) in s_plus_l.iter_mut().enumerate() {
            let sum = u16::from(s[i]) + u16::from(order[i]) + carry;
            *out = sum as u8;
            carry = sum >> 8;
        }
        let mut malleated = signature.clone();
        malleated[32..].copy_from_slice(&s_plus_l);
        // S with the top bit set.
        let mut high_bit = signature.clone();
        high_bit[63] |= 0x80;
        // R = the identity, a small-order point; S = 0.
        let mut small_r = vec![0u8; 64];
        small_r[0] = 1;

        let cases: [(&str, &[u8], &str); 6] = [
            ("S + L", &malleated, "NonCanonicalSignature"),
            ("S with the top bit set", &high_bit, "NonCanonicalSignature"),
            ("small-order R", &small_r, "VerificationFailed"),
            ("63 bytes", &signature[..63], "BadSignatureLength"),
            (
                "65 bytes",
                &[signature.as_slice(), &[0]].concat(),
                "BadSignatureLength",
            ),
            ("empty", &[], "BadSignatureLength"),
        ];
        for (name, bytes, expected) in cases {
            let error = public.verify(&message, bytes).unwrap_err();
            assert_eq!(kind(&error), expected, "{name}: {error}");
        }
    }

    #[test]
    fn multibase_errors_each_name_their_reason() {
        let good = PublicKey::from_bytes(
            &hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
                .unwrap(),
        )
        .unwrap()
        .to_multibase();
        // (input, expected reason, fragment of the message)
        let cases = [
            (String::new(), "NotMultibase", "empty"),
            (
                "x6Mk".to_owned(),
                "NotMultibase",
                "'x' is not a multibase prefix",
            ),
            (
                format!("u{}", &good[1..]),
                "UnsupportedMultibase",
                "base64url",
            ),
            (
                format!("Z{}", &good[1..]),
                "UnsupportedMultibase",
                "base58flickr",
            ),
            (
                format!("f{}", "ed01".repeat(17)),
                "UnsupportedMultibase",
                "base16",
            ),
            (
                "z6Mk0OIl".to_owned(),
                "InvalidBase58",
                "'0' at byte offset 4",
            ),
            ("z6Mké".to_owned(), "InvalidBase58", "non-ASCII"),
            (format!("{good}{good}"), "MultibaseTooLong", "at most 64"),
            (
                with_header(&[0xec, 0x01], 32),
                "WrongMulticodec",
                "found 0xec (x25519-pub)",
            ),
            (
                with_header(&[0x80, 0x24], 33),
                "WrongMulticodec",
                "found 0x1200 (p256-pub)",
            ),
            (
                with_header(&[0x80, 0x26], 32),
                "WrongMulticodec",
                "found 0x1300 (ed25519-priv)",
            ),
            (
                with_header(&[0xed, 0x81, 0x00], 32),
                "WrongMulticodec",
                "no valid multicodec",
            ),
            ("z".to_owned(), "WrongMulticodec", "no valid multicodec"),
            (
                with_header(&[0xed, 0x01], 31),
                "WrongKeyLength",
                "expected 32 bytes, found 31",
            ),
            (
                with_header(&[0xed, 0x01], 33),
                "WrongKeyLength",
                "expected 32 bytes, found 33",
            ),
            (
                multibase_of(&[[0xed, 0x01].as_slice(), &[0u8; 32]].concat()),
                "WeakKey",
                "small order",
            ),
        ];
        for (input, expected, fragment) in cases {
            let error = PublicKey::from_multibase(&input).unwrap_err();
            assert_eq!(kind(&error), expected, "{input}: {error}");
            assert!(error.to_string().contains(fragment), "{input}: {error}");
        }
    }

    #[test]
    fn multibase_round_trips() {
        for v in rfc8032_vectors() {
            let public = PublicKey::from_bytes(&hex::decode(&v.public).unwrap()).unwrap();
            let multibase = public.to_multibase();
            assert!(multibase.starts_with("z6Mk"), "{multibase}");
            assert_eq!(PublicKey::from_multibase(&multibase), Ok(public));
            assert_eq!(multibase.parse::<PublicKey>(), Ok(public));
            assert_eq!(public.to_string(), multibase);

            let secret = secret_from_hex(&v.secret);
            let secret_multibase = secret.to_multibase();
            let parsed = SecretKey::from_multibase(&secret_multibase).unwrap();
            assert_eq!(parsed.public_key(), public);
        }
    }

    #[test]
    fn did_key_extra_key_pair_matches() {
        let file: Value =
            serde_json::from_str(include_str!("../tests/vectors/did-key-ed25519.json")).unwrap();
        let public = file["extra"]["publicKeyMultibase"].as_str().unwrap();
        let private = file["extra"]["privateKeyMultibase"].as_str().unwrap();
        let secret = SecretKey::from_multibase(private).unwrap();
        assert_eq!(secret.public_key().to_multibase(), public);
        assert_eq!(secret.to_multibase(), private);
        assert_eq!(
            SecretKey::from_multibase(public).unwrap_err(),
            KeyError::WrongMulticodec {
                expected: ED25519_PRIV_CODEC,
                found: Some(ED25519_PUB_CODEC),
            }
        );
        let short = format!(
            "z{}",
            bs58::encode([[0x80, 0x26].as_slice(), &[9; 31]].concat()).into_string()
        );
        assert_eq!(
            SecretKey::from_multibase(&short).unwrap_err(),
            KeyError::WrongKeyLength {
                expected: 32,
                found: 31
            }
        );
    }

    #[test]
    fn secret_key_debug_shows_no_secret() {
        let seed = [0x5au8; 32];
        let secret = SecretKey::from_bytes(&seed);
        let debug = format!("{secret:?}");
        assert!(
            debug.contains(&secret.public_key().to_multibase()),
            "{debug}"
        );
        assert!(!debug.contains(&hex::encode(seed)), "{debug}");
        assert!(
            !debug.contains("5a, 5a") && !debug.contains("90, 90"),
            "{debug}"
        );
        assert!(!debug.contains(&secret.to_multibase()), "{debug}");
    }

    #[test]
    fn generated_keys_sign_and_verify() {
        let a = SecretKey::generate(&mut rand_core::OsRng);
        let b = SecretKey::generate(&mut rand_core::OsRng);
        assert_ne!(a.public_key(), b.public_key());
        let signature = a.sign(b"corroborate");
        assert_eq!(a.public_key().verify(b"corroborate", &signature), Ok(()));
        assert_eq!(
            b.public_key().verify(b"corroborate", &signature),
            Err(KeyError::VerificationFailed)
        );
    }

    #[test]
    fn jwk_round_trips() {
        for v in rfc8032_vectors() {
            let public = PublicKey::from_bytes(&hex::decode(&v.public).unwrap()).unwrap();
            let jwk = public.to_jwk();
            assert_eq!(jwk["kty"], "OKP");
            assert_eq!(jwk["crv"], "Ed25519");
            assert_eq!(PublicKey::from_jwk(&jwk), Ok(public));
        }
        // RFC 8037 appendix A.2: the public JWK of the RFC 8032 TEST 1 key.
        let rfc8037 = json!({
            "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        });
        assert_eq!(
            hex::encode(PublicKey::from_jwk(&rfc8037).unwrap().as_bytes()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let with_alg_and_use = json!({
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        });
        assert!(PublicKey::from_jwk(&with_alg_and_use).is_ok());
    }

    #[test]
    fn jwk_errors_name_the_field() {
        let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let cases = [
            (json!("OKP"), "jwk"),
            (json!({"crv": "Ed25519", "x": x}), "kty"),
            (json!({"kty": "EC", "crv": "P-256", "x": x}), "kty"),
            (json!({"kty": 1, "crv": "Ed25519", "x": x}), "kty"),
            (json!({"kty": "OKP", "crv": "X25519", "x": x}), "crv"),
            (json!({"kty": "OKP", "crv": "Ed25519"}), "x"),
            (
                json!({"kty": "OKP", "crv": "Ed25519", "x": format!("{x}=")}),
                "x",
            ),
            (
                json!({"kty": "OKP", "crv": "Ed25519", "x": x.replace('_', "/")}),
                "x",
            ),
            (json!({"kty": "OKP", "crv": "Ed25519", "x": &x[..40]}), "x"),
            (json!({"kty": "OKP", "crv": "Ed25519", "x": x, "d": x}), "d"),
            (
                json!({"kty": "OKP", "crv": "Ed25519", "x": x, "alg": "ES256"}),
                "alg",
            ),
            (
                json!({"kty": "OKP", "crv": "Ed25519", "x": x, "use": "enc"}),
                "use",
            ),
        ];
        for (jwk, field) in cases {
            match PublicKey::from_jwk(&jwk) {
                Err(KeyError::InvalidJwk {
                    field: found,
                    reason,
                }) => {
                    assert_eq!(found, field, "{jwk}: {reason}");
                }
                other => panic!("{jwk}: expected InvalidJwk on `{field}`, got {other:?}"),
            }
        }
        let weak = json!({"kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode([0u8; 32])});
        assert_eq!(PublicKey::from_jwk(&weak), Err(KeyError::WeakKey));
    }

    #[test]
    fn error_messages_are_distinct() {
        let errors = [
            KeyError::NotMultibase { prefix: None },
            KeyError::UnsupportedMultibase {
                prefix: 'u',
                name: "base64url",
            },
            KeyError::MultibaseTooLong {
                max: 64,
                found: 100,
            },
            KeyError::InvalidBase58 {
                reason: "r".to_owned(),
            },
            KeyError::WrongMulticodec {
                expected: 0xed,
                found: None,
            },
            KeyError::WrongKeyLength {
                expected: 32,
                found: 1,
            },
            KeyError::NotOnCurve,
            KeyError::NonCanonicalKey,
            KeyError::WeakKey,
            KeyError::BadSignatureLength { found: 1 },
            KeyError::NonCanonicalSignature,
            KeyError::VerificationFailed,
            KeyError::InvalidJwk {
                field: "x",
                reason: "r".to_owned(),
            },
        ];
        let messages: std::collections::HashSet<String> =
            errors.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), errors.len());
    }

    proptest! {
        #[test]
        fn from_multibase_never_panics(input in any::<String>()) {
            let _ = PublicKey::from_multibase(&input);
            let _ = SecretKey::from_multibase(&input);
        }

        #[test]
        fn from_multibase_never_panics_on_base58(input in "z[1-9A-HJ-NP-Za-km-z]{0,70}") {
            let _ = PublicKey::from_multibase(&input);
        }

        #[test]
        fn accepted_keys_are_canonical(bytes in any::<[u8; 32]>()) {
            if let Ok(key) = PublicKey::from_bytes(&bytes) {
                prop_assert_eq!(key.as_bytes(), &bytes);
                prop_assert_eq!(PublicKey::from_multibase(&key.to_multibase()), Ok(key));
            }
        }

        #[test]
        fn verify_never_panics(signature in proptest::collection::vec(any::<u8>(), 0..80)) {
            let key = SecretKey::from_bytes(&[1; 32]).public_key();
            let _ = key.verify(b"message", &signature);
        }
    }
}
