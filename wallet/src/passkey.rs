//! Passkey unlock: the data key is also wrapped under a key derived from a passkey's WebAuthn PRF
//! output (the `prf` extension: the authenticator computes HMAC over a 32-byte input with a
//! secret that never leaves it, after user verification). The browser asks the passkey to
//! evaluate the input kept here as `salt`; the 32 bytes it gives back open the wallet.
//!
//! A passkey is a second way in, beside the passphrase, never instead of it: the passphrase and
//! the recovery shares still open the wallet, and changing the passphrase keeps the passkeys
//! (they wrap the same data key): after a suspected compromise, forget the passkeys too.
//! Enrolling one needs the open wallet and the passphrase again; forgetting one removes its
//! wrapped key from the header, so that passkey no longer opens this store (a backup made while
//! it was enrolled still holds it).
//!
//! What is kept per passkey, in clear in the header: its credential id, the PRF input, when it
//! was added, and the wrapped key bound (as associated data) to the wallet's id, the credential
//! id and the input. Neither id nor input is secret: without the authenticator they give nothing.

use crate::platform::Storage;
use crate::store::{Header, PasskeyHeader, Wallet, WalletError, decode_b64};
use crate::vault::{self, Key, VaultError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand_core::CryptoRngCore;

/// The most passkeys one wallet may have.
pub const MAX_PASSKEYS: usize = 8;
/// The PRF input's and output's length, in bytes (WebAuthn's `prf` extension: HMAC-SHA-256).
pub const PRF_LEN: usize = 32;
/// The longest credential id WebAuthn allows, in bytes.
const MAX_ID_LEN: usize = 1023;

/// An enrolled passkey, as the unlock screen needs it (nothing here is secret).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Passkey {
    /// The WebAuthn credential id, base64url.
    pub id: String,
    /// The PRF input to evaluate, base64url.
    pub salt: String,
    pub added: DateTime<Utc>,
}

impl<S: Storage> Wallet<S> {
    /// Opens the wallet in `storage` with the PRF output (`secret`) of the passkey `id`.
    pub async fn open_with_passkey(
        storage: S,
        id: &str,
        secret: &[u8],
    ) -> Result<Wallet<S>, WalletError> {
        let header = Header::load(&storage).await?;
        let data_key = header.unwrap_with_passkey(id, secret)?;
        Ok(Wallet {
            storage,
            header,
            data_key,
        })
    }

    /// The enrolled passkeys, oldest first.
    pub fn passkeys(&self) -> Vec<Passkey> {
        listed(&self.header)
    }

    /// Enrols a passkey: the data key is wrapped under its PRF output `secret` for the input
    /// `salt`. Enrolling the same credential id again replaces its entry. Adding a way in asks
    /// for the passphrase again, so someone with a moment at an unlocked wallet cannot.
    pub async fn add_passkey(
        &mut self,
        passphrase: &str,
        id: &str,
        salt: &str,
        secret: &[u8],
        rng: &mut impl CryptoRngCore,
        now: DateTime<Utc>,
    ) -> Result<(), WalletError> {
        check_id(id).map_err(|e| WalletError::InvalidPasskey(format!("it {e}")))?;
        check_salt(salt).map_err(|e| WalletError::InvalidPasskey(format!("it {e}")))?;
        check_secret(secret)?;
        self.check_passphrase(passphrase)?;
        let mut header = self.header.clone();
        header.passkeys.retain(|p| p.id != id);
        if header.passkeys.len() >= MAX_PASSKEYS {
            return Err(WalletError::InvalidPasskey(format!(
                "a wallet may have at most {MAX_PASSKEYS} passkeys: forget one first"
            )));
        }
        let aad = passkey_aad(&header.wallet_id, id, salt);
        let wrapped = vault::wrap(&passkey_key(secret), &self.data_key, &aad, rng)
            .map_err(|e| WalletError::Corrupt(e.to_string()))?;
        header.passkeys.push(PasskeyHeader {
            id: id.to_owned(),
            salt: salt.to_owned(),
            added: now,
            wrapped_key: URL_SAFE_NO_PAD.encode(wrapped),
        });
        self.replace_header(header).await
    }

    /// Forgets the passkey `id`: it no longer opens this store.
    pub async fn remove_passkey(&mut self, id: &str) -> Result<(), WalletError> {
        let mut header = self.header.clone();
        let before = header.passkeys.len();
        header.passkeys.retain(|p| p.id != id);
        if header.passkeys.len() == before {
            return Err(WalletError::NoSuchPasskey(id.to_owned()));
        }
        self.replace_header(header).await
    }
}

/// The passkeys enrolled in the wallet in `storage`, read from its header without opening it.
pub async fn passkeys_of(storage: &impl Storage) -> Result<Vec<Passkey>, WalletError> {
    Ok(listed(&Header::load(storage).await?))
}

fn listed(header: &Header) -> Vec<Passkey> {
    header
        .passkeys
        .iter()
        .map(|p| Passkey {
            id: p.id.clone(),
            salt: p.salt.clone(),
            added: p.added,
        })
        .collect()
}

impl Header {
    pub(crate) fn unwrap_with_passkey(&self, id: &str, secret: &[u8]) -> Result<Key, WalletError> {
        check_secret(secret)?;
        let passkey = self
            .passkeys
            .iter()
            .find(|p| p.id == id)
            .ok_or_else(|| WalletError::NoSuchPasskey(id.to_owned()))?;
        let wrapped = decode_b64(&passkey.wrapped_key, "passkey wrapped key")
            .map_err(|e| WalletError::Corrupt(format!("the header {e}")))?;
        let aad = passkey_aad(&self.wallet_id, &passkey.id, &passkey.salt);
        vault::unwrap(&passkey_key(secret), &wrapped, &aad).map_err(|e| match e {
            VaultError::Authentication => WalletError::WrongPasskey,
            other => WalletError::Corrupt(format!("the header's passkey wrapped key: {other}")),
        })
    }
}

/// A credential id: base64url of 1 to 1023 bytes.
pub(crate) fn check_id(id: &str) -> Result<(), String> {
    let bytes = decode_b64(id, "credential id")?;
    if bytes.is_empty() || bytes.len() > MAX_ID_LEN {
        return Err(format!(
            "has a credential id of {} bytes (1 to {MAX_ID_LEN})",
            bytes.len()
        ));
    }
    Ok(())
}

/// A PRF input: base64url of exactly 32 bytes.
pub(crate) fn check_salt(salt: &str) -> Result<(), String> {
    let bytes = decode_b64(salt, "PRF input")?;
    if bytes.len() != PRF_LEN {
        return Err(format!(
            "has a PRF input of {} bytes, not {PRF_LEN}",
            bytes.len()
        ));
    }
    Ok(())
}

fn check_secret(secret: &[u8]) -> Result<(), WalletError> {
    if secret.len() != PRF_LEN {
        return Err(WalletError::InvalidPasskey(format!(
            "its PRF output is {} bytes, not {PRF_LEN}",
            secret.len()
        )));
    }
    if secret.iter().all(|&b| b == 0) {
        return Err(WalletError::InvalidPasskey(
            "its PRF output is all zeros".to_owned(),
        ));
    }
    Ok(())
}

fn passkey_key(secret: &[u8]) -> Key {
    Key::derive_from_secret(secret, "passkey")
}

fn passkey_aad(wallet_id: &str, id: &str, salt: &str) -> Vec<u8> {
    vault::aad(
        "data-key/passkey",
        &[wallet_id.as_bytes(), id.as_bytes(), salt.as_bytes()],
    )
}
