//! The wallet: an encrypted record store over any [`Storage`]. Opening it with the passphrase
//! unwraps the data key ([`crate::vault`]); every record is then read and written encrypted.
//! Several writes go in one [`Batch`], committed all or nothing.
//!
//! Layout in the storage:
//! - table `meta`, key `wallet`: the header, in clear, as versioned JSON with a checksum —
//!   the format version, the wallet's id, the Argon2id parameters and salt, the data key wrapped
//!   under the passphrase's key, and, once a recovery set was made ([`crate::recovery`]), the
//!   data key wrapped under the recovery secret, and under each enrolled passkey's PRF secret
//!   ([`crate::passkey`]);
//! - one table per record type ([`crate::records::TABLES`]): each row is the record's JSON sealed
//!   under the data key, with the wallet's id, the table and the key as associated data, so a
//!   row moved to another key, table or wallet no longer opens.
//!
//! Invariants: no record payload reaches the storage in clear; keys are wiped when dropped; a
//! failed operation writes nothing (each one is a single [`Storage::commit`]).
//!
//! A wrong passphrase and a wrapped key altered so that its checksum still matches cannot be
//! told apart (authenticated encryption fails the same way); anything else wrong in the header
//! is reported as [`WalletError::Corrupt`].

use crate::platform::{Storage, StorageError, Write};
use crate::records::{Record, TABLES};
use crate::vault::{self, Key, VaultError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub use crate::vault::KdfParams;

/// The table holding the header.
pub const META_TABLE: &str = "meta";
/// The header's key in [`META_TABLE`].
pub const HEADER_KEY: &str = "wallet";
/// The header format this version writes and reads.
pub const FORMAT_VERSION: u64 = 1;
const FORMAT_NAME: &str = "corroborate-wallet";
const KDF_NAME: &str = "argon2id";

#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    #[error("there is no wallet here yet")]
    NoWallet,
    #[error("there is a wallet here already; nothing was changed")]
    AlreadyExists,
    #[error("wrong passphrase")]
    WrongPassphrase,
    #[error("the wallet is corrupt: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("the passphrase is empty")]
    EmptyPassphrase,
    #[error("invalid key derivation parameters: {0}")]
    InvalidKdfParams(String),
    #[error("the {what} is in format {version}, newer than this program reads ({FORMAT_VERSION})")]
    UnsupportedVersion { what: &'static str, version: u64 },
    #[error("the backup is unusable: {0}; nothing was written")]
    CorruptBackup(String),
    #[error("the batch holds records encrypted for another wallet")]
    ForeignBatch,
    #[error("a recovery set needs 2 ≤ k ≤ n ≤ 16: {0}")]
    InvalidRecoveryParameters(String),
    #[error("this wallet has no recovery set")]
    NoRecoverySet,
    #[error("share {position}: {reason}")]
    InvalidShare { position: usize, reason: String },
    #[error("{needed} different shares are needed, {given} given")]
    NotEnoughShares { needed: u8, given: usize },
    #[error("the shares do not belong together: {0}")]
    MismatchedShares(String),
    #[error("the shares do not open the wallet: {0}")]
    RecoveryFailed(String),
    #[error("this passkey does not open the wallet")]
    WrongPasskey,
    #[error("this wallet has no passkey {0}")]
    NoSuchPasskey(String),
    #[error("unusable passkey: {0}")]
    InvalidPasskey(String),
    #[error(
        "the wallet was changed elsewhere (in another tab or program) since it was opened: \
         open it again; nothing was changed here"
    )]
    ChangedElsewhere,
}

impl WalletError {
    /// A stable code for front ends to translate (the English text is for logs and the CLI).
    pub fn code(&self) -> &'static str {
        match self {
            WalletError::NoWallet => "no_wallet",
            WalletError::AlreadyExists => "exists",
            WalletError::WrongPassphrase => "wrong_passphrase",
            WalletError::WrongPasskey => "wrong_passkey",
            WalletError::NoSuchPasskey(_) => "not_found",
            WalletError::ChangedElsewhere => "reload",
            WalletError::Corrupt(_) | WalletError::Storage(_) => "storage",
            WalletError::EmptyPassphrase
            | WalletError::InvalidKdfParams(_)
            | WalletError::UnsupportedVersion { .. }
            | WalletError::CorruptBackup(_)
            | WalletError::ForeignBatch
            | WalletError::InvalidRecoveryParameters(_)
            | WalletError::NoRecoverySet
            | WalletError::InvalidShare { .. }
            | WalletError::NotEnoughShares { .. }
            | WalletError::MismatchedShares(_)
            | WalletError::RecoveryFailed(_)
            | WalletError::InvalidPasskey(_) => "invalid",
        }
    }
}

/// An open wallet.
pub struct Wallet<S: Storage> {
    pub(crate) storage: S,
    pub(crate) header: Header,
    pub(crate) data_key: Key,
}

/// Writes to commit together.
#[derive(Default)]
pub struct Batch {
    writes: Vec<Write>,
    /// The wallet whose key sealed the records put so far.
    wallet_id: Option<String>,
}

impl<S: Storage> Wallet<S> {
    /// Creates a wallet in an empty storage, protected by `passphrase`.
    pub async fn create(
        storage: S,
        passphrase: &str,
        params: KdfParams,
        rng: &mut impl CryptoRngCore,
        now: DateTime<Utc>,
    ) -> Result<Wallet<S>, WalletError> {
        check_new_passphrase(passphrase, params)?;
        if !is_empty(&storage).await? {
            return Err(WalletError::AlreadyExists);
        }
        let mut id = [0; 16];
        rng.fill_bytes(&mut id);
        let data_key = Key::generate(rng);
        let header = Header {
            wallet_id: hex::encode(id),
            created: now,
            kdf: KDF_NAME.to_owned(),
            kdf_params: params,
            salt: String::new(),
            wrapped_key: String::new(),
            recovery: None,
            passkeys: Vec::new(),
        }
        .with_passphrase(&data_key, passphrase, params, rng)?;
        // The derivation takes a while: another writer (a second tab) may have created a
        // wallet meanwhile, and two headers would leave rows no key opens.
        if !is_empty(&storage).await? {
            return Err(WalletError::AlreadyExists);
        }
        storage.commit(vec![header.write()]).await?;
        Ok(Wallet {
            storage,
            header,
            data_key,
        })
    }

    /// Opens the wallet in `storage`.
    pub async fn open(storage: S, passphrase: &str) -> Result<Wallet<S>, WalletError> {
        let header = Header::load(&storage).await?;
        let data_key = header.unwrap_with_passphrase(passphrase)?;
        Ok(Wallet {
            storage,
            header,
            data_key,
        })
    }

    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// Gives the storage back, closing the wallet (its key is wiped).
    pub fn into_storage(self) -> S {
        self.storage
    }

    /// The wallet's random id (32 hex digits), in clear in the header.
    pub fn id(&self) -> &str {
        &self.header.wallet_id
    }

    pub fn created(&self) -> DateTime<Utc> {
        self.header.created
    }

    /// The cost of deriving the key from the passphrase, as it is now.
    pub fn kdf_params(&self) -> KdfParams {
        self.header.kdf_params
    }

    /// The current recovery set, `(id, k, n)`, if one was made.
    pub fn recovery_set(&self) -> Option<(&str, u8, u8)> {
        self.header
            .recovery
            .as_ref()
            .map(|r| (r.set_id.as_str(), r.threshold, r.shares))
    }

    pub async fn get<R: Record>(&self, key: &str) -> Result<Option<R>, WalletError> {
        let row = self.row_key(R::TABLE, key);
        match self.storage.get(R::TABLE, &row).await? {
            Some(sealed) => self
                .decrypt(R::TABLE, &row, &sealed)
                .map_err(|e| match e {
                    WalletError::Corrupt(message) => {
                        WalletError::Corrupt(format!("{message} (the record {}/{key})", R::TABLE))
                    }
                    other => other,
                })
                .map(Some),
            None => Ok(None),
        }
    }

    /// Every record of a kind, ordered by key.
    pub async fn all<R: Record>(&self) -> Result<Vec<R>, WalletError> {
        let mut all = self
            .storage
            .list(R::TABLE)
            .await?
            .iter()
            .map(|(row, sealed)| self.decrypt::<R>(R::TABLE, row, sealed))
            .collect::<Result<Vec<R>, WalletError>>()?;
        all.sort_by_cached_key(Record::key);
        Ok(all)
    }

    /// The key a record is stored under: a keyed hash of its table and key, so that the file
    /// does not show which DIDs, credentials, issuers or services the wallet knows.
    pub fn row_key(&self, table: &str, key: &str) -> String {
        row_key(&self.data_key, table, key)
    }

    /// Stores one record (a batch of one).
    pub async fn put<R: Record>(
        &self,
        record: &R,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(), WalletError> {
        let mut batch = Batch::default();
        batch.put(self, record, rng)?;
        self.commit(batch).await
    }

    pub async fn commit(&self, batch: Batch) -> Result<(), WalletError> {
        if batch
            .wallet_id
            .as_ref()
            .is_some_and(|id| *id != self.header.wallet_id)
        {
            return Err(WalletError::ForeignBatch);
        }
        Ok(self.storage.commit(batch.writes).await?)
    }

    /// Protects the wallet with a new passphrase (and cost). The data key stays: records are not
    /// rewritten, a recovery set stays valid, and backups made before still open with the
    /// passphrase they were made under.
    pub async fn change_passphrase(
        &mut self,
        new: &str,
        params: KdfParams,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(), WalletError> {
        check_new_passphrase(new, params)?;
        let header = self
            .header
            .with_passphrase(&self.data_key, new, params, rng)?;
        self.replace_header(header).await
    }

    /// Whether `passphrase` is this wallet's (asked again before adding a way in).
    pub fn check_passphrase(&self, passphrase: &str) -> Result<(), WalletError> {
        self.header.unwrap_with_passphrase(passphrase).map(drop)
    }

    /// Writes `header` in place of the one this wallet read, unless the stored one changed since
    /// (another tab or program changed the passphrase, a passkey or the recovery set): writing
    /// over it would silently undo that change.
    pub(crate) async fn replace_header(&mut self, header: Header) -> Result<(), WalletError> {
        let stored = Header::load(&self.storage).await?;
        if stored.encode() != self.header.encode() {
            return Err(WalletError::ChangedElsewhere);
        }
        self.storage.commit(vec![header.write()]).await?;
        self.header = header;
        Ok(())
    }

    /// The record sealed in a row, checked against its place.
    fn decrypt<R: Record>(&self, table: &str, key: &str, sealed: &[u8]) -> Result<R, WalletError> {
        let plain = open_row(&self.header.wallet_id, &self.data_key, table, key, sealed)
            .map_err(WalletError::Corrupt)?;
        // serde_json's messages may quote the payload, which can hold a private key.
        serde_json::from_slice(&plain).map_err(|e| {
            WalletError::Corrupt(format!(
                "the record {table}/{key} does not read as a record of that table \
                 ({:?} error at line {}, column {})",
                e.classify(),
                e.line(),
                e.column()
            ))
        })
    }
}

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }

    /// Adds the record, encrypted under `wallet`'s key.
    pub fn put<S: Storage, R: Record>(
        &mut self,
        wallet: &Wallet<S>,
        record: &R,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(), WalletError> {
        let wallet_id = &wallet.header.wallet_id;
        if self.wallet_id.get_or_insert_with(|| wallet_id.clone()) != wallet_id {
            return Err(WalletError::ForeignBatch);
        }
        let key = row_key(&wallet.data_key, R::TABLE, &record.key());
        let plain = Zeroizing::new(serde_json::to_vec(record).map_err(|e| {
            WalletError::Corrupt(format!(
                "the record {}/{key} cannot be written as JSON: {e}",
                R::TABLE
            ))
        })?);
        let aad = record_aad(wallet_id, R::TABLE, &key);
        let sealed = vault::seal(&wallet.data_key, &plain, &aad, rng)
            .map_err(|e| WalletError::Corrupt(format!("the record {}/{key}: {e}", R::TABLE)))?;
        self.writes.push(Write::Put {
            table: R::TABLE.to_owned(),
            key,
            value: sealed,
        });
        Ok(())
    }

    pub fn delete<S: Storage, R: Record>(&mut self, wallet: &Wallet<S>, key: &str) {
        self.writes.push(Write::Delete {
            table: R::TABLE.to_owned(),
            key: wallet.row_key(R::TABLE, key),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

/// The Argon2id cost the wallet in `storage` asks for, read from its header without deriving
/// anything (see [`crate::backup::kdf_params`]).
pub async fn kdf_params_of(storage: &impl Storage) -> Result<KdfParams, WalletError> {
    Ok(Header::load(storage).await?.kdf_params)
}

/// Whether the storage holds nothing a wallet would write: no header, no record.
pub(crate) async fn is_empty(storage: &impl Storage) -> Result<bool, StorageError> {
    for table in std::iter::once(META_TABLE).chain(TABLES.iter().copied()) {
        if !storage.list(table).await?.is_empty() {
            return Ok(false);
        }
    }
    Ok(true)
}

pub(crate) fn check_new_passphrase(passphrase: &str, params: KdfParams) -> Result<(), WalletError> {
    if passphrase.is_empty() {
        return Err(WalletError::EmptyPassphrase);
    }
    params
        .check()
        .map_err(|e| WalletError::InvalidKdfParams(e.to_string()))?;
    Ok(())
}

/// What binds a row to its place: the wallet, the table and the key.
/// See [`Wallet::row_key`].
pub(crate) fn row_key(data_key: &Key, table: &str, key: &str) -> String {
    hex::encode(vault::keyed_hash(
        data_key,
        "row-key",
        &[table.as_bytes(), key.as_bytes()],
    ))
}

pub(crate) fn record_aad(wallet_id: &str, table: &str, key: &str) -> Vec<u8> {
    vault::aad(
        "record",
        &[wallet_id.as_bytes(), table.as_bytes(), key.as_bytes()],
    )
}

/// Opens a stored row, or says which row failed and how.
pub(crate) fn open_row(
    wallet_id: &str,
    data_key: &Key,
    table: &str,
    key: &str,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, String> {
    vault::open(data_key, sealed, &record_aad(wallet_id, table, key)).map_err(|e| match e {
        VaultError::Authentication => format!(
            "the record {table}/{key} does not decrypt: it was altered, moved from another \
             place, or belongs to another wallet"
        ),
        other => format!("the record {table}/{key} is unreadable: {other}"),
    })
}

/// The wallet's header, as kept in clear in [`META_TABLE`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Header {
    /// 16 random bytes, hex.
    pub wallet_id: String,
    pub created: DateTime<Utc>,
    /// Always `argon2id`.
    pub kdf: String,
    pub kdf_params: KdfParams,
    /// base64url, at least 16 bytes.
    pub salt: String,
    /// The data key sealed under the passphrase's key, base64url.
    pub wrapped_key: String,
    pub recovery: Option<RecoveryHeader>,
    /// The passkeys that also open the wallet. Absent when there are none, so a header written
    /// before passkeys existed keeps its checksum.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passkeys: Vec<PasskeyHeader>,
}

/// An enrolled passkey: the data key sealed under a key derived from the passkey's WebAuthn PRF
/// output for `salt`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasskeyHeader {
    /// The WebAuthn credential id, base64url.
    pub id: String,
    /// The PRF input (32 bytes), base64url: the page asks the passkey to evaluate it.
    pub salt: String,
    pub added: DateTime<Utc>,
    /// base64url.
    pub wrapped_key: String,
}

/// The current recovery set: the data key sealed under a key derived from a secret that only
/// the set's shares, together, give back.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecoveryHeader {
    /// 4 random bytes, hex; every share of the set carries it.
    pub set_id: String,
    pub threshold: u8,
    pub shares: u8,
    /// base64url.
    pub wrapped_key: String,
}

/// The stored form: a format name and version any later reader can check first, and a checksum
/// that tells a damaged header from a wrong passphrase.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredHeader {
    format: String,
    version: u64,
    header: Header,
    /// SHA-256 of the header's JSON, hex.
    checksum: String,
}

/// Why a header could not be read.
pub(crate) enum HeaderError {
    Corrupt(String),
    Newer(u64),
}

impl Header {
    /// The header in `storage`: [`WalletError::NoWallet`] if there is none (and no record).
    pub(crate) async fn load(storage: &impl Storage) -> Result<Header, WalletError> {
        let Some(bytes) = storage.get(META_TABLE, HEADER_KEY).await? else {
            return Err(if is_empty(storage).await? {
                WalletError::NoWallet
            } else {
                WalletError::Corrupt(format!(
                    "the storage holds wallet rows but no header ({META_TABLE}/{HEADER_KEY})"
                ))
            });
        };
        Header::decode(&bytes).map_err(|e| match e {
            HeaderError::Corrupt(reason) => {
                WalletError::Corrupt(format!("the header ({META_TABLE}/{HEADER_KEY}) {reason}"))
            }
            HeaderError::Newer(version) => WalletError::UnsupportedVersion {
                what: "wallet",
                version,
            },
        })
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let stored = StoredHeader {
            format: FORMAT_NAME.to_owned(),
            version: FORMAT_VERSION,
            header: self.clone(),
            checksum: self.checksum(),
        };
        // A struct of strings and numbers always serializes.
        serde_json::to_vec(&stored).unwrap_or_default()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Header, HeaderError> {
        let corrupt = |reason: &str| HeaderError::Corrupt(reason.to_owned());
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|_| corrupt("is not JSON"))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT_NAME) {
            return Err(corrupt("is not a Corroborate wallet header"));
        }
        match value.get("version").and_then(|v| v.as_u64()) {
            Some(FORMAT_VERSION) => {}
            Some(version) if version > FORMAT_VERSION => return Err(HeaderError::Newer(version)),
            _ => return Err(corrupt("has no valid format version")),
        }
        let stored: StoredHeader = serde_json::from_value(value)
            .map_err(|e| HeaderError::Corrupt(format!("is malformed: {e}")))?;
        if stored.checksum != stored.header.checksum() {
            return Err(corrupt("does not match its checksum: it was damaged"));
        }
        stored.header.check().map_err(HeaderError::Corrupt)?;
        Ok(stored.header)
    }

    /// What the checksum does not catch: values that are well-formed JSON but not usable.
    fn check(&self) -> Result<(), String> {
        if self.wallet_id.len() != 32 || hex::decode(&self.wallet_id).is_err() {
            return Err("has a malformed wallet id".to_owned());
        }
        if self.kdf != KDF_NAME {
            return Err(format!("names an unknown key derivation, {:?}", self.kdf));
        }
        self.kdf_params.check().map_err(|e| format!("has {e}"))?;
        if decode_b64(&self.salt, "salt")?.len() < vault::SALT_LEN {
            return Err("has a salt shorter than 16 bytes".to_owned());
        }
        decode_b64(&self.wrapped_key, "wrapped key")?;
        if let Some(recovery) = &self.recovery {
            if recovery.set_id.len() != 8 || hex::decode(&recovery.set_id).is_err() {
                return Err("has a malformed recovery set id".to_owned());
            }
            if !(2..=recovery.shares).contains(&recovery.threshold) || recovery.shares > 16 {
                return Err("has an impossible recovery threshold".to_owned());
            }
            decode_b64(&recovery.wrapped_key, "recovery wrapped key")?;
        }
        if self.passkeys.len() > crate::passkey::MAX_PASSKEYS {
            return Err("has more passkeys than a wallet may have".to_owned());
        }
        for passkey in &self.passkeys {
            crate::passkey::check_id(&passkey.id).map_err(|e| format!("has a passkey {e}"))?;
            crate::passkey::check_salt(&passkey.salt).map_err(|e| format!("has a passkey {e}"))?;
            decode_b64(&passkey.wrapped_key, "passkey wrapped key")?;
        }
        Ok(())
    }

    fn checksum(&self) -> String {
        // Serializing a struct is deterministic: fields in declaration order.
        hex::encode(Sha256::digest(serde_json::to_vec(self).unwrap_or_default()))
    }

    pub(crate) fn write(&self) -> Write {
        Write::Put {
            table: META_TABLE.to_owned(),
            key: HEADER_KEY.to_owned(),
            value: self.encode(),
        }
    }

    fn passphrase_aad(&self) -> Vec<u8> {
        vault::aad("data-key/passphrase", &[self.wallet_id.as_bytes()])
    }

    pub(crate) fn unwrap_with_passphrase(&self, passphrase: &str) -> Result<Key, WalletError> {
        let corrupt = |e: String| WalletError::Corrupt(format!("the header {e}"));
        let salt = decode_b64(&self.salt, "salt").map_err(corrupt)?;
        let wrapped = decode_b64(&self.wrapped_key, "wrapped key").map_err(corrupt)?;
        let kek = vault::derive_key(passphrase, &salt, self.kdf_params)
            .map_err(|e| WalletError::Corrupt(format!("the header has {e}")))?;
        vault::unwrap(&kek, &wrapped, &self.passphrase_aad()).map_err(|e| match e {
            VaultError::Authentication => WalletError::WrongPassphrase,
            other => WalletError::Corrupt(format!("the header's wrapped key: {other}")),
        })
    }

    /// This header with the data key wrapped under a new passphrase, salt and cost.
    pub(crate) fn with_passphrase(
        &self,
        data_key: &Key,
        passphrase: &str,
        params: KdfParams,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Header, WalletError> {
        let mut salt = [0; vault::SALT_LEN];
        rng.fill_bytes(&mut salt);
        let kek = vault::derive_key(passphrase, &salt, params)
            .map_err(|e| WalletError::InvalidKdfParams(e.to_string()))?;
        let mut header = Header {
            kdf: KDF_NAME.to_owned(),
            kdf_params: params,
            salt: URL_SAFE_NO_PAD.encode(salt),
            ..self.clone()
        };
        let wrapped = vault::wrap(&kek, data_key, &header.passphrase_aad(), rng)
            .map_err(|e| WalletError::Corrupt(e.to_string()))?;
        header.wrapped_key = URL_SAFE_NO_PAD.encode(wrapped);
        Ok(header)
    }
}

pub(crate) fn decode_b64(text: &str, what: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| format!("has a {what} that is not base64url"))
}
