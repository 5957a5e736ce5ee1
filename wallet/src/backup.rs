//! Encrypted backups: the whole wallet in one self-contained file, and restoring it into an
//! empty storage.
//!
//! The file is four lines of text, each ending in `\n`:
//!
//! ```text
//! corroborate-wallet-backup 1
//! {"format":"corroborate-wallet","version":1,"header":{…},"checksum":"…"}
//! <base64url: the body, sealed under the data key>
//! sha256 <hex SHA-256 of the three lines above, newlines included>
//! ```
//!
//! - Line 1 names the format and its version.
//! - Line 2 is the wallet's header as the store keeps it ([`crate::store`]): the passphrase (or,
//!   with [`crate::recovery`], the shares) unwraps the data key from it.
//! - Line 3 is the body, `{"rows":[{"table","key","value"}…]}` with every row of every table of
//!   [`crate::records::TABLES`] exactly as stored (each still sealed on its own, value in
//!   base64url), sealed as a whole under the data key with lines 1 and 2 as associated data: a
//!   removed, added or altered row, or a body put under another wallet's header, fails to open.
//! - Line 4 catches accidental damage (a truncated copy, a flipped byte) before any passphrase
//!   is tried, so it is reported as such and not as a wrong passphrase.
//!
//! A restore writes the header and every row in one commit, or nothing.

use crate::platform::{Storage, Write};
use crate::records::TABLES;
use crate::store::{
    FORMAT_VERSION, Header, HeaderError, Wallet, WalletError, decode_b64, is_empty, open_row,
};
use crate::vault::{self, KdfParams, Key, VaultError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use zeroize::Zeroizing;

/// The start of the first line.
pub const MAGIC: &str = "corroborate-wallet-backup";

/// The body: every row, as stored.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    rows: Vec<Row>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    table: String,
    key: String,
    /// The sealed record, base64url.
    value: String,
}

/// A backup file read and checked for damage, not yet opened.
pub(crate) struct BackupFile {
    pub header: Header,
    /// Lines 1 and 2 as in the file: the associated data of the body.
    bound: Vec<u8>,
    sealed_body: Vec<u8>,
}

impl<S: Storage> Wallet<S> {
    /// The whole wallet as a backup file (format above). Fails, naming the row, if a stored row
    /// does not open: a backup is not made of a damaged store.
    pub async fn backup(&self, rng: &mut impl CryptoRngCore) -> Result<Vec<u8>, WalletError> {
        let mut rows = Vec::new();
        for table in TABLES {
            for (key, value) in self.storage().list(table).await? {
                open_row(self.id(), &self.data_key, table, &key, &value)
                    .map_err(WalletError::Corrupt)?;
                rows.push(Row {
                    table: (*table).to_owned(),
                    key,
                    value: URL_SAFE_NO_PAD.encode(value),
                });
            }
        }
        let body = Zeroizing::new(
            serde_json::to_vec(&Body { rows })
                .map_err(|e| WalletError::Corrupt(format!("the backup body: {e}")))?,
        );
        let mut file = format!("{MAGIC} {FORMAT_VERSION}\n").into_bytes();
        file.extend_from_slice(&self.header.encode());
        file.push(b'\n');
        let sealed = vault::seal(&self.data_key, &body, &body_aad(&file), rng)
            .map_err(|e| WalletError::Corrupt(format!("the backup body: {e}")))?;
        file.extend_from_slice(URL_SAFE_NO_PAD.encode(sealed).as_bytes());
        file.push(b'\n');
        let checksum = hex::encode(Sha256::digest(&file));
        file.extend_from_slice(format!("sha256 {checksum}\n").as_bytes());
        Ok(file)
    }

    /// Restores a backup into an empty storage, opening it with the passphrase it was made
    /// under. Writes nothing unless everything checks out.
    pub async fn restore(
        storage: S,
        backup: &[u8],
        passphrase: &str,
    ) -> Result<Wallet<S>, WalletError> {
        if !is_empty(&storage).await? {
            return Err(WalletError::AlreadyExists);
        }
        let file = BackupFile::parse(backup)?;
        let data_key = file.header.unwrap_with_passphrase(passphrase)?;
        let mut writes = vec![file.header.write()];
        writes.extend(file.open(&data_key)?);
        // Another writer may have filled the storage while the key was derived.
        if !is_empty(&storage).await? {
            return Err(WalletError::AlreadyExists);
        }
        storage.commit(writes).await?;
        Ok(Wallet {
            storage,
            header: file.header,
            data_key,
        })
    }
}

/// The Argon2id cost a backup's header asks for, read (and its checksum checked) without
/// deriving anything: a front end with less memory than a native program can refuse a costly
/// one before starting.
pub fn kdf_params(backup: &[u8]) -> Result<KdfParams, WalletError> {
    Ok(BackupFile::parse(backup)?.header.kdf_params)
}

impl BackupFile {
    /// Splits the file and checks its checksum and header; nothing needs a key yet.
    pub(crate) fn parse(bytes: &[u8]) -> Result<BackupFile, WalletError> {
        let corrupt = |reason: &str| WalletError::CorruptBackup(reason.to_owned());
        let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
        let Some(version) = first
            .strip_prefix(MAGIC.as_bytes())
            .and_then(|rest| rest.strip_prefix(b" "))
        else {
            return Err(corrupt(&format!(
                "it is not a Corroborate wallet backup (it does not start with {MAGIC:?})"
            )));
        };
        match std::str::from_utf8(version).ok().map(str::parse::<u64>) {
            Some(Ok(FORMAT_VERSION)) => {}
            Some(Ok(version)) if version > FORMAT_VERSION => {
                return Err(WalletError::UnsupportedVersion {
                    what: "backup",
                    version,
                });
            }
            _ => return Err(corrupt("its first line has no valid format version")),
        }
        let lines: Vec<&[u8]> = bytes.split_inclusive(|b| *b == b'\n').collect();
        let [magic, header, body, checksum] = lines[..] else {
            return Err(corrupt(&format!(
                "it has {} lines, a backup has 4: it was truncated or altered",
                lines.len()
            )));
        };
        let expected = format!(
            "sha256 {}\n",
            hex::encode(Sha256::digest(&bytes[..bytes.len() - checksum.len()]))
        );
        if checksum != expected.as_bytes() {
            return Err(corrupt(if checksum.ends_with(b"\n") {
                "its checksum does not match: the file was damaged"
            } else {
                "it was truncated (its last line is incomplete)"
            }));
        }
        let header_json = header.strip_suffix(b"\n").unwrap_or(header);
        let header = Header::decode(header_json).map_err(|e| match e {
            HeaderError::Corrupt(reason) => {
                WalletError::CorruptBackup(format!("the wallet header it holds {reason}"))
            }
            HeaderError::Newer(version) => WalletError::UnsupportedVersion {
                what: "wallet",
                version,
            },
        })?;
        let body = body.strip_suffix(b"\n").unwrap_or(body);
        let sealed_body = std::str::from_utf8(body)
            .map_err(|_| ())
            .and_then(|text| decode_b64(text, "body").map_err(|_| ()))
            .map_err(|()| corrupt("its body is not base64url"))?;
        Ok(BackupFile {
            header,
            bound: [magic, header_json, b"\n"].concat(),
            sealed_body,
        })
    }

    /// The writes that restore every row, once the body opened and every row in it did too.
    pub(crate) fn open(&self, data_key: &Key) -> Result<Vec<Write>, WalletError> {
        let corrupt = |reason: String| WalletError::CorruptBackup(reason);
        let body = vault::open(data_key, &self.sealed_body, &body_aad(&self.bound)).map_err(
            |e| match e {
                VaultError::Authentication => corrupt(
                    "its contents do not match its header: they were altered, or come from \
                     another wallet or backup"
                        .to_owned(),
                ),
                other => corrupt(format!("its body: {other}")),
            },
        )?;
        let body: Body = serde_json::from_slice(&body)
            .map_err(|e| corrupt(format!("its body is malformed: {e}")))?;
        let wallet_id = &self.header.wallet_id;
        let mut seen = BTreeSet::new();
        let mut writes = Vec::with_capacity(body.rows.len());
        for Row { table, key, value } in body.rows {
            if !TABLES.contains(&table.as_str()) {
                return Err(corrupt(format!(
                    "it holds a row of an unknown table, {table:?}"
                )));
            }
            if !seen.insert((table.clone(), key.clone())) {
                return Err(corrupt(format!("it holds the record {table}/{key} twice")));
            }
            let value = decode_b64(&value, "row")
                .map_err(|_| corrupt(format!("the record {table}/{key} is not base64url")))?;
            open_row(wallet_id, data_key, &table, &key, &value).map_err(corrupt)?;
            writes.push(Write::Put { table, key, value });
        }
        Ok(writes)
    }
}

fn body_aad(bound: &[u8]) -> Vec<u8> {
    vault::aad("backup-body", &[bound])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::memory::MemoryStorage;
    use crate::store::kdf_params_of;
    use chrono::Utc;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[tokio::test]
    async fn the_cost_of_a_wallet_or_backup_is_read_without_deriving() {
        let mut rng = StdRng::seed_from_u64(3);
        let params = KdfParams::INSECURE_FAST;
        let wallet = Wallet::create(MemoryStorage::new(), "pass", params, &mut rng, Utc::now())
            .await
            .unwrap();
        assert_eq!(kdf_params_of(wallet.storage()).await.unwrap(), params);
        let file = wallet.backup(&mut rng).await.unwrap();
        assert_eq!(kdf_params(&file).unwrap(), params);
        assert_eq!(kdf_params(b"not a backup").unwrap_err().code(), "invalid");
        assert_eq!(
            kdf_params_of(&MemoryStorage::new())
                .await
                .unwrap_err()
                .code(),
            "no_wallet"
        );
    }
}
