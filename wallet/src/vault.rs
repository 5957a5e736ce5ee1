//! The wallet's cryptography, as small functions over bytes: deriving a key from the passphrase
//! (Argon2id), sealing and opening bytes under a key (XChaCha20-Poly1305 with a fresh random
//! nonce and associated data), and the associated data that binds each sealed thing to its
//! place. It knows nothing of storage or records; [`crate::store`] puts the pieces together.
//!
//! Every sealed blob is `version (1 byte) ‖ nonce (24 bytes) ‖ ciphertext ‖ tag (16 bytes)`.
//! Keys live in [`Key`], which is wiped from memory when dropped.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A keyed hash (HMAC-SHA-256) of `fields` for one `purpose`, under a key derived from `key`
/// for that purpose alone.
pub fn keyed_hash(key: &Key, purpose: &str, fields: &[&[u8]]) -> [u8; 32] {
    use hmac::Mac;
    let subkey = Key::derive_from_secret(key.as_bytes(), purpose);
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = match <hmac::Hmac<Sha256> as Mac>::new_from_slice(subkey.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(&aad(purpose, fields));
    mac.finalize().into_bytes().into()
}

/// The length of every key, in bytes (256 bits).
pub const KEY_LEN: usize = 32;
/// The length of a passphrase salt, in bytes.
pub const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// The first byte of every sealed blob: the algorithm and layout above.
const SEALED_V1: u8 = 1;

/// A 256-bit symmetric key, wiped from memory on drop. Neither printed nor compared.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Key([u8; KEY_LEN]);

impl Key {
    /// A fresh random key.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Key {
        let mut key = Key([0; KEY_LEN]);
        rng.fill_bytes(&mut key.0);
        key
    }

    /// A key made of exactly [`KEY_LEN`] bytes (an unwrapped data key).
    pub fn from_bytes(bytes: &[u8]) -> Result<Key, VaultError> {
        let bytes: [u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|_| VaultError::Malformed("a key is not 32 bytes long"))?;
        Ok(Key(bytes))
    }

    /// A key derived from a high-entropy secret (a recovery secret) for one purpose.
    pub fn derive_from_secret(secret: &[u8], purpose: &str) -> Key {
        let mut hasher = Sha256::new();
        hasher.update(b"corroborate-wallet/key/v1\0");
        hasher.update(purpose.as_bytes());
        hasher.update([0]);
        hasher.update(secret);
        Key(hasher.finalize().into())
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

/// The Argon2id cost of deriving the key from the passphrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KdfParams {
    /// Memory, in KiB.
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl KdfParams {
    /// For people's wallets: 64 MiB, 3 passes (above OWASP's Argon2id minimum).
    pub const STRONG: KdfParams = KdfParams {
        memory_kib: 64 * 1024,
        iterations: 3,
        parallelism: 1,
    };
    /// For tests and throw-away demo wallets only: cheap to derive.
    pub const INSECURE_FAST: KdfParams = KdfParams {
        memory_kib: 256,
        iterations: 1,
        parallelism: 1,
    };

    /// At most 4 GiB of memory, 64 passes and 16 lanes. The bounds keep a forged header from
    /// making `open` allocate or compute without end.
    pub fn check(&self) -> Result<(), VaultError> {
        self.argon2().map(drop)
    }

    fn argon2(&self) -> Result<argon2::Params, VaultError> {
        let fail = |what: String| Err(VaultError::KdfParams(what));
        if self.memory_kib > 4 * 1024 * 1024 {
            return fail(format!("{} KiB of memory is over 4 GiB", self.memory_kib));
        }
        if !(1..=64).contains(&self.iterations) {
            return fail(format!("{} passes is not within 1..=64", self.iterations));
        }
        if !(1..=16).contains(&self.parallelism) {
            return fail(format!("{} lanes is not within 1..=16", self.parallelism));
        }
        argon2::Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(KEY_LEN),
        )
        .map_err(|e| VaultError::KdfParams(e.to_string()))
    }
}

/// A cryptographic step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("invalid key derivation parameters: {0}")]
    KdfParams(String),
    /// Wrong key, wrong associated data, or altered bytes: AEAD cannot tell which.
    #[error("the data does not authenticate under this key")]
    Authentication,
    #[error("malformed sealed data: {0}")]
    Malformed(&'static str),
    #[error("too large to encrypt")]
    TooLarge,
}

/// Derives the key that wraps the data key from the passphrase. The passphrase is taken in
/// Unicode NFC, so it opens the wallet however the keyboard composed its accents.
pub fn derive_key(passphrase: &str, salt: &[u8], params: KdfParams) -> Result<Key, VaultError> {
    let argon_params = params.argon2()?;
    // Reserved fallibly: where memory is scarce (a browser's WebAssembly), a cost too high
    // for this device is an error, never an abort that takes the wallet down with it.
    let mut memory = Vec::new();
    memory
        .try_reserve_exact(argon_params.block_count())
        .map_err(|_| {
            VaultError::KdfParams(format!(
                "{} KiB of memory is more than this device can give",
                params.memory_kib
            ))
        })?;
    memory.resize(argon_params.block_count(), argon2::Block::default());
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon_params,
    );
    let normalized = Zeroizing::new(passphrase.nfc().collect::<String>());
    let mut key = Key([0; KEY_LEN]);
    argon
        .hash_password_into_with_memory(normalized.as_bytes(), salt, &mut key.0, &mut memory)
        .map_err(|e| VaultError::KdfParams(e.to_string()))?;
    Ok(key)
}

/// Encrypts `plaintext` under `key`, bound to `aad`, with a fresh random nonce.
pub fn seal(
    key: &Key,
    plaintext: &[u8],
    aad: &[u8],
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, VaultError> {
    let mut nonce = [0; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let cipher = XChaCha20Poly1305::new(key.0.as_ref().into());
    let ciphertext = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        // Only inputs of more than 256 GiB fail to encrypt.
        .map_err(|_| VaultError::TooLarge)?;
    let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
    sealed.push(SEALED_V1);
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&ciphertext);
    Ok(sealed)
}

/// Decrypts what [`seal`] made with the same key and associated data.
pub fn open(key: &Key, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let Some((&version, rest)) = sealed.split_first() else {
        return Err(VaultError::Malformed("empty"));
    };
    if version != SEALED_V1 {
        return Err(VaultError::Malformed("unknown format version"));
    }
    if rest.len() < NONCE_LEN + TAG_LEN {
        return Err(VaultError::Malformed("too short"));
    }
    let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
    let cipher = XChaCha20Poly1305::new(key.0.as_ref().into());
    cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| VaultError::Authentication)
}

/// Seals the data key under a key-encrypting key.
pub fn wrap(
    kek: &Key,
    key: &Key,
    aad: &[u8],
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, VaultError> {
    seal(kek, &key.0, aad, rng)
}

/// Opens a data key sealed by [`wrap`].
pub fn unwrap(kek: &Key, wrapped: &[u8], aad: &[u8]) -> Result<Key, VaultError> {
    Key::from_bytes(&open(kek, wrapped, aad)?)
}

/// Associated data: a purpose and fields, each length-prefixed so no two different lists
/// encode alike (`("ab", "c")` is not `("a", "bc")`).
pub fn aad(purpose: &str, fields: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for field in std::iter::once(purpose.as_bytes()).chain(fields.iter().copied()) {
        out.extend_from_slice(&(field.len() as u64).to_be_bytes());
        out.extend_from_slice(field);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn rng() -> StdRng {
        StdRng::seed_from_u64(7)
    }

    #[test]
    fn seal_then_open_gives_the_plaintext_back() {
        let mut rng = rng();
        let key = Key::generate(&mut rng);
        let sealed = seal(&key, b"secret seed", b"here", &mut rng).unwrap();
        assert_eq!(
            open(&key, &sealed, b"here").unwrap().as_slice(),
            b"secret seed"
        );
        assert!(!sealed.windows(11).any(|w| w == b"secret seed"));
    }

    #[test]
    fn each_seal_draws_a_fresh_nonce() {
        let mut rng = rng();
        let key = Key::generate(&mut rng);
        let a = seal(&key, b"same", b"aad", &mut rng).unwrap();
        let b = seal(&key, b"same", b"aad", &mut rng).unwrap();
        assert_ne!(a[1..25], b[1..25]);
        assert_ne!(a, b);
    }

    #[test]
    fn any_flipped_bit_fails_to_open() {
        let mut rng = rng();
        let key = Key::generate(&mut rng);
        let sealed = seal(&key, b"payload", b"aad", &mut rng).unwrap();
        for i in 1..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 0x01;
            assert_eq!(
                open(&key, &tampered, b"aad"),
                Err(VaultError::Authentication),
                "byte {i}"
            );
        }
        let mut tampered = sealed.clone();
        tampered[0] = 2;
        assert_eq!(
            open(&key, &tampered, b"aad"),
            Err(VaultError::Malformed("unknown format version"))
        );
    }

    #[test]
    fn wrong_aad_or_key_or_length_fails() {
        let mut rng = rng();
        let key = Key::generate(&mut rng);
        let other = Key::generate(&mut rng);
        let sealed = seal(&key, b"payload", b"table/key", &mut rng).unwrap();
        assert_eq!(
            open(&key, &sealed, b"table/other"),
            Err(VaultError::Authentication)
        );
        assert_eq!(
            open(&other, &sealed, b"table/key"),
            Err(VaultError::Authentication)
        );
        assert_eq!(
            open(&key, &sealed[..sealed.len() - 1], b"table/key"),
            Err(VaultError::Authentication)
        );
        assert_eq!(
            open(&key, &sealed[..20], b"table/key"),
            Err(VaultError::Malformed("too short"))
        );
        assert_eq!(
            open(&key, &[], b"table/key"),
            Err(VaultError::Malformed("empty"))
        );
    }

    #[test]
    fn a_wrapped_key_unwraps_only_with_its_kek_and_aad() {
        let mut rng = rng();
        let data = Key::generate(&mut rng);
        let kek = Key::generate(&mut rng);
        let wrapped = wrap(&kek, &data, b"wallet 1", &mut rng).unwrap();
        assert_eq!(
            unwrap(&kek, &wrapped, b"wallet 1").unwrap().as_bytes(),
            data.as_bytes()
        );
        assert!(unwrap(&kek, &wrapped, b"wallet 2").is_err());
        assert!(unwrap(&Key::generate(&mut rng), &wrapped, b"wallet 1").is_err());
    }

    #[test]
    fn derivation_depends_on_passphrase_salt_and_params_only() {
        let fast = KdfParams::INSECURE_FAST;
        let a = derive_key("correct horse", b"0123456789abcdef", fast).unwrap();
        let again = derive_key("correct horse", b"0123456789abcdef", fast).unwrap();
        let other_salt = derive_key("correct horse", b"0123456789abcdeF", fast).unwrap();
        let other_pass = derive_key("correct horsf", b"0123456789abcdef", fast).unwrap();
        let other_cost = derive_key(
            "correct horse",
            b"0123456789abcdef",
            KdfParams {
                iterations: 2,
                ..fast
            },
        )
        .unwrap();
        assert_eq!(a.as_bytes(), again.as_bytes());
        for other in [other_salt, other_pass, other_cost] {
            assert_ne!(a.as_bytes(), other.as_bytes());
        }
    }

    #[test]
    fn a_passphrase_is_the_same_however_its_accents_are_composed() {
        let salt = b"0123456789abcdef";
        let composed = derive_key("caf\u{e9}", salt, KdfParams::INSECURE_FAST).unwrap();
        let decomposed = derive_key("cafe\u{301}", salt, KdfParams::INSECURE_FAST).unwrap();
        assert_eq!(composed.as_bytes(), decomposed.as_bytes());
    }

    #[test]
    fn kdf_params_out_of_bounds_are_refused() {
        let check = |params: KdfParams| params.check().map_err(|e| e.to_string());
        assert_eq!(check(KdfParams::STRONG), Ok(()));
        assert_eq!(check(KdfParams::INSECURE_FAST), Ok(()));
        let cases = [
            (
                KdfParams {
                    memory_kib: u32::MAX,
                    ..KdfParams::STRONG
                },
                "over 4 GiB",
            ),
            (
                KdfParams {
                    iterations: 0,
                    ..KdfParams::STRONG
                },
                "0 passes",
            ),
            (
                KdfParams {
                    iterations: 1000,
                    ..KdfParams::STRONG
                },
                "1000 passes",
            ),
            (
                KdfParams {
                    parallelism: 0,
                    ..KdfParams::STRONG
                },
                "0 lanes",
            ),
            (
                KdfParams {
                    memory_kib: 1,
                    ..KdfParams::STRONG
                },
                "memory",
            ),
        ];
        for (params, expected) in cases {
            let message = check(params).unwrap_err();
            assert!(message.contains(expected), "{params:?}: {message}");
        }
    }

    #[test]
    fn strong_parameters_derive_a_key_of_their_own() {
        // 64 MiB and 3 passes: the cost a person's wallet pays on every open.
        let salt = [9; SALT_LEN];
        let strong = derive_key("a passphrase", &salt, KdfParams::STRONG).unwrap();
        let fast = derive_key("a passphrase", &salt, KdfParams::INSECURE_FAST).unwrap();
        assert_ne!(strong.as_bytes(), &[0; KEY_LEN]);
        assert_ne!(strong.as_bytes(), fast.as_bytes());
    }

    #[test]
    fn aad_fields_cannot_run_into_each_other() {
        assert_ne!(aad("p", &[b"ab", b"c"]), aad("p", &[b"a", b"bc"]));
        assert_ne!(aad("p", &[b"a"]), aad("pa", &[]));
    }
}
