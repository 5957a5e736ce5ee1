//! The wallet's identities: Ed25519 `did:key` DIDs whose keys live only in the encrypted store.

use crate::platform::Storage;
use crate::records::IdentityRecord;
use crate::store::{Wallet, WalletError};
use chrono::{DateTime, Utc};
use corroborate_verifier::did::did_key_from_public_key;
use corroborate_verifier::key::SecretKey;
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

/// A key that signs for a DID, taken out of the store for one operation.
pub struct Signer {
    pub did: String,
    pub verification_method: String,
    pub key: SecretKey,
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error(transparent)]
    Wallet(#[from] WalletError),
    #[error("this wallet has no identity {0}")]
    Unknown(String),
    #[error("this wallet has no identity yet: create one with `identity new`")]
    None,
    #[error("this wallet has several identities ({0}): say which one")]
    Ambiguous(String),
    #[error("the label {0:?} is taken by {1}")]
    LabelTaken(String, String),
    #[error("the stored key of {0} is damaged")]
    DamagedKey(String),
}

impl IdentityError {
    /// A stable code for front ends to translate.
    pub fn code(&self) -> &'static str {
        match self {
            IdentityError::Wallet(e) => e.code(),
            IdentityError::Unknown(_) | IdentityError::None => "not_found",
            IdentityError::Ambiguous(_) => "invalid",
            IdentityError::LabelTaken(..) => "exists",
            IdentityError::DamagedKey(_) => "storage",
        }
    }
}

/// Creates a new identity and stores it.
pub async fn create<S: Storage>(
    wallet: &Wallet<S>,
    label: &str,
    rng: &mut impl CryptoRngCore,
    now: DateTime<Utc>,
) -> Result<IdentityRecord, IdentityError> {
    let label = label.trim();
    if let Some(taken) = wallet
        .all::<IdentityRecord>()
        .await?
        .into_iter()
        .find(|identity| identity.label == label)
    {
        return Err(IdentityError::LabelTaken(label.to_owned(), taken.did));
    }
    let key = SecretKey::generate(rng);
    let did = did_key_from_public_key(&key.public_key());
    let fragment = did.trim_start_matches("did:key:");
    let secret = Zeroizing::new(key.to_multibase());
    let record = IdentityRecord {
        verification_method: format!("{did}#{fragment}"),
        did,
        label: label.to_owned(),
        created: now,
        secret: secret.to_string(),
    };
    wallet.put(&record, rng).await?;
    Ok(record)
}

/// The identity named by `which` (its DID or label), or the only one when `which` is `None`.
pub async fn find<S: Storage>(
    wallet: &Wallet<S>,
    which: Option<&str>,
) -> Result<IdentityRecord, IdentityError> {
    let all = wallet.all::<IdentityRecord>().await?;
    match which {
        Some(which) => all
            .into_iter()
            .find(|identity| identity.did == which || identity.label == which)
            .ok_or_else(|| IdentityError::Unknown(which.to_owned())),
        None => match all.len() {
            0 => Err(IdentityError::None),
            1 => all.into_iter().next().ok_or(IdentityError::None),
            _ => Err(IdentityError::Ambiguous(
                all.iter()
                    .map(|identity| identity.label.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            )),
        },
    }
}

/// The signing key of an identity.
pub fn signer(identity: &IdentityRecord) -> Result<Signer, IdentityError> {
    let key = SecretKey::from_multibase(&identity.secret)
        .map_err(|_| IdentityError::DamagedKey(identity.did.clone()))?;
    if did_key_from_public_key(&key.public_key()) != identity.did {
        return Err(IdentityError::DamagedKey(identity.did.clone()));
    }
    Ok(Signer {
        did: identity.did.clone(),
        verification_method: identity.verification_method.clone(),
        key,
    })
}
