//! Service keys at rest: [`Sealer`] seals a secret key with XChaCha20-Poly1305 under the
//! service's master key, binding it to its key id (the AEAD's associated data), so a sealed key
//! copied to another row does not open. The master key comes from the settings, or is generated
//! once into `data_dir/master.key` (mode 0600) for the zero-set-up start.
//!
//! The same master key also keys [`Sealer::keyed_digest`]: HMAC-SHA256 under a subkey derived
//! from it, so a record can name a person by a digest that nobody without the master key can
//! link back to them by hashing candidate identifiers.

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use std::path::Path;
use zeroize::Zeroizing;

/// Seals and opens service keys; computes keyed digests.
#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
    /// HMAC key of [`Sealer::keyed_digest`], derived from the master key and never the master
    /// key itself, so the digests and the sealing keys stay independent.
    digest_key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("the master key must be base64 of exactly 32 bytes")]
    BadMasterKey,
    #[error("cannot read or create the master key file {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("a sealed key does not open with this master key (wrong key, or the row was altered)")]
    DoesNotOpen,
}

const NONCE_LEN: usize = 24;

impl Sealer {
    pub fn from_key(key: &[u8; 32]) -> Sealer {
        let mut digest_key = Zeroizing::new([0u8; 32]);
        digest_key.copy_from_slice(&hmac_sha256(key, &[b"corroborate keyed digest v1"]));
        Sealer {
            cipher: XChaCha20Poly1305::new(key.into()),
            digest_key,
        }
    }

    /// A keyed digest of `data` (lowercase hex of HMAC-SHA256): the same input always gives the
    /// same digest under one master key, and without that key the digest cannot be computed or
    /// reversed. `label` separates uses (e.g. `"erasure"`), so digests made for one purpose
    /// never match those made for another.
    pub fn keyed_digest(&self, label: &str, data: &[u8]) -> String {
        // The label is length-prefixed so that no (label, data) pair collides with another.
        let length = (label.len() as u64).to_be_bytes();
        hex::encode(hmac_sha256(
            self.digest_key.as_ref(),
            &[&length, label.as_bytes(), data],
        ))
    }

    /// The configured master key, or the one in `data_dir/master.key`, created if missing.
    pub fn load(configured: Option<&SecretString>, data_dir: &Path) -> Result<Sealer, SealError> {
        let encoded: Zeroizing<String> = match configured {
            Some(secret) => Zeroizing::new(secret.expose_secret().trim().to_owned()),
            None => Zeroizing::new(read_or_create(&data_dir.join("master.key"))?),
        };
        let bytes = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(encoded.as_bytes())
                .map_err(|_| SealError::BadMasterKey)?,
        );
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| SealError::BadMasterKey)?;
        Ok(Sealer::from_key(&key))
    }

    /// `nonce ‖ ciphertext`, bound to `key_id`.
    pub fn seal(&self, key_id: &str, secret: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let payload = Payload {
            msg: secret,
            aad: key_id.as_bytes(),
        };
        // Encryption only fails for messages beyond 256 GiB; a 32-byte key never is.
        let ciphertext = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    pub fn open(&self, key_id: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        if sealed.len() <= NONCE_LEN {
            return Err(SealError::DoesNotOpen);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: key_id.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SealError::DoesNotOpen)
    }
}

/// HMAC-SHA256 of the concatenated `parts` under `key`.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0; 32],
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn read_or_create(path: &Path) -> Result<String, SealError> {
    let file_error = |source| SealError::File {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => return Ok(text.trim().to_owned()),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(file_error(e)),
        Err(_) => {}
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(file_error)?;
    }
    let mut key = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(key.as_mut());
    let encoded = base64::engine::general_purpose::STANDARD.encode(key.as_ref());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    let mut file = options.open(path).map_err(file_error)?;
    file.write_all(encoded.as_bytes()).map_err(file_error)?;
    file.sync_all().map_err(file_error)?;
    Ok(encoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_their_id_and_master_key() {
        let sealer = Sealer::from_key(&[7; 32]);
        let sealed = sealer.seal("key-1", b"secret");
        assert_eq!(sealer.open("key-1", &sealed).unwrap().as_slice(), b"secret");
        assert!(matches!(
            sealer.open("key-2", &sealed),
            Err(SealError::DoesNotOpen)
        ));
        assert!(matches!(
            Sealer::from_key(&[8; 32]).open("key-1", &sealed),
            Err(SealError::DoesNotOpen)
        ));
        let mut altered = sealed.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert!(sealer.open("key-1", &altered).is_err());
        assert!(sealer.open("key-1", &sealed[..10]).is_err());
        assert_ne!(sealer.seal("key-1", b"secret"), sealed, "nonces are random");
    }

    #[test]
    fn keyed_digests_depend_on_key_label_and_data() {
        let sealer = Sealer::from_key(&[7; 32]);
        let digest = sealer.keyed_digest("erasure", b"did:key:z6Mk");
        assert_eq!(digest.len(), 64);
        assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(digest, sealer.keyed_digest("erasure", b"did:key:z6Mk"));
        assert_ne!(digest, sealer.keyed_digest("erasure", b"did:key:z6Mj"));
        assert_ne!(digest, sealer.keyed_digest("other", b"did:key:z6Mk"));
        // The label's length prefix keeps the boundary between label and data.
        assert_ne!(
            sealer.keyed_digest("ab", b"c"),
            sealer.keyed_digest("a", b"bc")
        );
        assert_ne!(
            digest,
            Sealer::from_key(&[8; 32]).keyed_digest("erasure", b"did:key:z6Mk")
        );
        // Not a plain hash of the input.
        use sha2::Digest;
        assert_ne!(digest, hex::encode(Sha256::digest(b"did:key:z6Mk")));
    }

    #[test]
    fn the_generated_master_key_is_kept_and_reused() {
        let dir = std::env::temp_dir().join(format!("corroborate-master-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = Sealer::load(None, &dir).unwrap();
        let sealed = first.seal("k", b"x");
        let second = Sealer::load(None, &dir).unwrap();
        assert_eq!(second.open("k", &sealed).unwrap().as_slice(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("master.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            Sealer::load(Some(&SecretString::from("c2hvcnQ=")), &dir),
            Err(SealError::BadMasterKey)
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
