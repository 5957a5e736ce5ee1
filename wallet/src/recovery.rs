//! Social recovery: the data key is also wrapped under a random recovery secret, and the secret
//! is split k-of-n with Shamir's secret sharing (the `blahaj` crate, over GF(256), one polynomial
//! per byte) into shares the holder hands to people they trust. Any k shares give the secret back
//! and open the wallet with a new passphrase; fewer give nothing about it.
//!
//! Making a set replaces the one before: the header keeps one recovery-wrapped key, so the old
//! shares no longer open the store (a backup made earlier still holds the old set).
//!
//! A share is one line of lowercase letters, digits and dashes, to print or type:
//!
//! ```text
//! corroborate-share-v1-<wallet>-<set>-<k>-<index>-<data>-<check>
//! ```
//!
//! - `wallet`: the first 8 hex digits of the wallet's id; `set`: the set's id, 8 hex digits;
//! - `k`: how many shares open the wallet; `index`: this share's number, 1 to n;
//! - `data`: the share's 32 bytes, base32 (RFC 4648, lowercase, unpadded: 52 characters);
//! - `check`: the first 40 bits of SHA-256 of everything before it, base32 (8 characters), so a
//!   mistyped or missing character is reported as such.
//!
//! Spaces and line breaks inside a share are ignored, and so is letter case.

use crate::platform::Storage;
use crate::store::{
    Header, KdfParams, RecoveryHeader, Wallet, WalletError, check_new_passphrase, decode_b64,
    is_empty,
};
use crate::vault::{self, Key, VaultError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use data_encoding::BASE32_NOPAD;
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// What every share starts with, up to its version.
pub const SHARE_PREFIX: &str = "corroborate-share-";
const SHARE_VERSION: &str = "v1";
/// The recovery secret's length, in bytes.
const SECRET_LEN: usize = 32;
/// The most shares a set may have.
pub const MAX_SHARES: u8 = 16;

impl<S: Storage> Wallet<S> {
    /// Makes a new recovery set: `n` shares, any `k` of which open the wallet. Replaces any
    /// earlier set. The shares are returned once and never stored.
    pub async fn split_recovery(
        &mut self,
        k: u8,
        n: u8,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Vec<String>, WalletError> {
        if !(2 <= k && k <= n && n <= MAX_SHARES) {
            return Err(WalletError::InvalidRecoveryParameters(format!(
                "k = {k}, n = {n}"
            )));
        }
        let mut secret = Zeroizing::new([0; SECRET_LEN]);
        rng.fill_bytes(secret.as_mut());
        let mut set_id = [0; 4];
        rng.fill_bytes(&mut set_id);
        let set_id = hex::encode(set_id);
        let wrapped = vault::wrap(
            &recovery_key(secret.as_ref()),
            &self.data_key,
            &recovery_aad(&self.header.wallet_id, &set_id, k, n),
            rng,
        )
        .map_err(|e| WalletError::Corrupt(e.to_string()))?;
        let header = Header {
            recovery: Some(RecoveryHeader {
                set_id: set_id.clone(),
                threshold: k,
                shares: n,
                wrapped_key: URL_SAFE_NO_PAD.encode(wrapped),
            }),
            ..self.header.clone()
        };
        let shares = blahaj::Sharks(k)
            .dealer_rng(secret.as_ref(), rng)
            .take(n.into())
            .map(|share| {
                let bytes = Zeroizing::new(Vec::from(&share));
                format_share(
                    &self.header.wallet_id[..8],
                    &set_id,
                    k,
                    bytes[0],
                    &bytes[1..],
                )
            })
            .collect();
        self.replace_header(header).await?;
        Ok(shares)
    }

    /// Opens a wallet whose passphrase is lost with `k` shares of its recovery set, and protects
    /// it with `new_passphrase`. With a `backup`, restores it into `storage`, which must be empty;
    /// without one, `storage` holds the wallet. Writes nothing unless everything checks out.
    pub async fn recover(
        storage: S,
        backup: Option<&[u8]>,
        shares: &[String],
        new_passphrase: &str,
        params: KdfParams,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Wallet<S>, WalletError> {
        check_new_passphrase(new_passphrase, params)?;
        let set = ShareSet::parse(shares)?;
        let (header, rows) = match backup {
            Some(bytes) => {
                if !is_empty(&storage).await? {
                    return Err(WalletError::AlreadyExists);
                }
                let file = crate::backup::BackupFile::parse(bytes)?;
                let data_key = set.open(&file.header, "backup")?;
                let rows = file.open(&data_key)?;
                (file.header, Some((data_key, rows)))
            }
            None => (Header::load(&storage).await?, None),
        };
        let (data_key, mut writes) = match rows {
            Some((data_key, rows)) => (data_key, rows),
            None => (set.open(&header, "wallet")?, Vec::new()),
        };
        let header = header.with_passphrase(&data_key, new_passphrase, params, rng)?;
        writes.insert(0, header.write());
        // Restoring a backup: another writer may have filled the storage while the key was
        // derived.
        if backup.is_some() && !is_empty(&storage).await? {
            return Err(WalletError::AlreadyExists);
        }
        storage.commit(writes).await?;
        Ok(Wallet {
            storage,
            header,
            data_key,
        })
    }
}

/// One share, read and checked on its own.
struct Share {
    wallet: String,
    set: String,
    threshold: u8,
    index: u8,
    data: Zeroizing<Vec<u8>>,
}

/// Shares that belong together: one wallet, one set, distinct indexes, at least k of them.
struct ShareSet {
    wallet: String,
    set: String,
    threshold: u8,
    shares: Vec<Share>,
}

impl ShareSet {
    fn parse(texts: &[String]) -> Result<ShareSet, WalletError> {
        let mut shares: Vec<Share> = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            let position = i + 1;
            let share = parse_share(text)
                .map_err(|reason| WalletError::InvalidShare { position, reason })?;
            let mismatch =
                |what: &str, this: &dyn std::fmt::Display, first: &dyn std::fmt::Display| {
                    Err(WalletError::MismatchedShares(format!(
                        "share {position} is for {what} {this}, share 1 for {what} {first}"
                    )))
                };
            if let Some(first) = shares.first() {
                if share.wallet != first.wallet {
                    return mismatch("wallet", &share.wallet, &first.wallet);
                }
                if share.set != first.set {
                    return mismatch("recovery set", &share.set, &first.set);
                }
                if share.threshold != first.threshold {
                    return mismatch("a threshold of", &share.threshold, &first.threshold);
                }
            }
            match shares.iter().position(|s| s.index == share.index) {
                Some(same) if shares[same].data == share.data => {} // given twice: once counts
                Some(same) => {
                    return Err(WalletError::MismatchedShares(format!(
                        "shares {} and {position} both say they are share number {} but differ",
                        same + 1,
                        share.index
                    )));
                }
                None => shares.push(share),
            }
        }
        let Some(first) = shares.first() else {
            return Err(WalletError::NotEnoughShares {
                needed: 2,
                given: 0,
            });
        };
        if shares.len() < usize::from(first.threshold) {
            return Err(WalletError::NotEnoughShares {
                needed: first.threshold,
                given: shares.len(),
            });
        }
        Ok(ShareSet {
            wallet: first.wallet.clone(),
            set: first.set.clone(),
            threshold: first.threshold,
            shares,
        })
    }

    /// The data key of `header`'s wallet (`place` says where it came from, for messages).
    fn open(&self, header: &Header, place: &str) -> Result<Key, WalletError> {
        let id = &header.wallet_id;
        if !id.starts_with(&self.wallet) {
            return Err(WalletError::MismatchedShares(format!(
                "they are for wallet {}…, the {place} holds wallet {}…",
                self.wallet,
                &id[..8]
            )));
        }
        let Some(recovery) = &header.recovery else {
            return Err(WalletError::NoRecoverySet);
        };
        if recovery.set_id != self.set {
            return Err(WalletError::MismatchedShares(format!(
                "they are from recovery set {}, the {place} has set {}: \
                 a newer set replaced theirs",
                self.set, recovery.set_id
            )));
        }
        if recovery.threshold != self.threshold {
            return Err(WalletError::MismatchedShares(format!(
                "they say {} shares are needed, the {place} says {}",
                self.threshold, recovery.threshold
            )));
        }
        let shares: Vec<blahaj::Share> = self
            .shares
            .iter()
            .filter_map(|share| {
                let bytes = Zeroizing::new([&[share.index], share.data.as_slice()].concat());
                blahaj::Share::try_from(bytes.as_slice()).ok()
            })
            .collect();
        let secret = Zeroizing::new(
            blahaj::Sharks(self.threshold)
                .recover(&shares)
                .map_err(|e| WalletError::RecoveryFailed(e.to_owned()))?,
        );
        let wrapped = decode_b64(&recovery.wrapped_key, "recovery wrapped key")
            .map_err(|e| WalletError::Corrupt(format!("the header {e}")))?;
        let aad = recovery_aad(id, &recovery.set_id, recovery.threshold, recovery.shares);
        vault::unwrap(&recovery_key(&secret), &wrapped, &aad).map_err(|e| match e {
            VaultError::Authentication => WalletError::RecoveryFailed(
                "one of them was altered (its checksum matches, so not by a typo)".to_owned(),
            ),
            other => WalletError::Corrupt(format!("the header's recovery wrapped key: {other}")),
        })
    }
}

fn recovery_key(secret: &[u8]) -> Key {
    Key::derive_from_secret(secret, "recovery")
}

fn recovery_aad(wallet_id: &str, set_id: &str, k: u8, n: u8) -> Vec<u8> {
    vault::aad(
        "data-key/recovery",
        &[wallet_id.as_bytes(), set_id.as_bytes(), &[k], &[n]],
    )
}

fn format_share(wallet: &str, set: &str, k: u8, index: u8, data: &[u8]) -> String {
    let body = format!(
        "{SHARE_PREFIX}{SHARE_VERSION}-{wallet}-{set}-{k}-{index}-{}",
        BASE32_NOPAD.encode(data).to_ascii_lowercase()
    );
    let check = checksum(&body);
    format!("{body}-{check}")
}

fn checksum(body: &str) -> String {
    BASE32_NOPAD
        .encode(&Sha256::digest(body.as_bytes())[..5])
        .to_ascii_lowercase()
}

/// Reads one share, or says what is wrong with it.
fn parse_share(text: &str) -> Result<Share, String> {
    let text: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let Some(rest) = text.strip_prefix(SHARE_PREFIX) else {
        return Err(format!("it does not start with {SHARE_PREFIX:?}"));
    };
    let Some(rest) = rest
        .strip_prefix(SHARE_VERSION)
        .and_then(|r| r.strip_prefix('-'))
    else {
        return Err(format!(
            "it is not a share of format {SHARE_VERSION}, the only one this program reads"
        ));
    };
    let parts: Vec<&str> = rest.split('-').collect();
    let [wallet, set, k, index, data, check] = parts[..] else {
        return Err(format!(
            "it has {} parts after {SHARE_PREFIX}{SHARE_VERSION}- where a share has 6: \
             a dash is missing or extra",
            parts.len()
        ));
    };
    let body = &text[..text.len() - check.len() - 1];
    if check != checksum(body) {
        return Err(
            "its checksum does not match: a character was mistyped, swapped or left out".to_owned(),
        );
    }
    // Past the checksum, what is wrong was written so, not mistyped.
    let hex8 = |field: &str, what: &str| {
        if field.len() == 8 && field.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(field.to_owned())
        } else {
            Err(format!("its {what} is not 8 hex digits"))
        }
    };
    let threshold = k
        .parse::<u8>()
        .ok()
        .filter(|k| (2..=MAX_SHARES).contains(k))
        .ok_or_else(|| format!("its threshold {k:?} is not a number from 2 to {MAX_SHARES}"))?;
    let index = index
        .parse::<u8>()
        .ok()
        .filter(|i| (1..=MAX_SHARES).contains(i))
        .ok_or_else(|| format!("its index {index:?} is not a number from 1 to {MAX_SHARES}"))?;
    let data = Zeroizing::new(
        BASE32_NOPAD
            .decode(data.to_ascii_uppercase().as_bytes())
            .map_err(|_| "its data is not base32".to_owned())?,
    );
    if data.len() != SECRET_LEN {
        return Err(format!(
            "its data is {} bytes, not {SECRET_LEN}",
            data.len()
        ));
    }
    Ok(Share {
        wallet: hex8(wallet, "wallet id")?,
        set: hex8(set, "set id")?,
        threshold,
        index,
        data,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn sample(index: u8) -> String {
        format_share("0123abcd", "89ef4567", 3, index, &[index; SECRET_LEN])
    }

    #[test]
    fn a_share_reads_back_as_written() {
        let text = sample(2);
        assert_eq!(text.len(), 104, "{text}");
        assert!(
            text.starts_with("corroborate-share-v1-0123abcd-89ef4567-3-2-"),
            "{text}"
        );
        let share = parse_share(&text).unwrap();
        assert_eq!(
            (
                share.wallet.as_str(),
                share.set.as_str(),
                share.threshold,
                share.index
            ),
            ("0123abcd", "89ef4567", 3, 2)
        );
        assert_eq!(share.data.as_slice(), &[2; SECRET_LEN]);
    }

    #[test]
    fn case_spaces_and_line_breaks_do_not_matter() {
        let text = sample(1);
        let (a, b) = text.split_at(50);
        let retyped = format!("  {}\n  {} ", a.to_uppercase(), b);
        assert_eq!(
            parse_share(&retyped).unwrap().data.as_slice(),
            &[1; SECRET_LEN]
        );
    }

    #[test]
    fn every_single_typo_is_caught() {
        let text = sample(3);
        let alphabet = "abcdefghijklmnopqrstuvwxyz234567-0189";
        for (i, original) in text.char_indices() {
            for replacement in alphabet.chars().filter(|c| *c != original) {
                let mut typo = text.clone();
                typo.replace_range(i..i + 1, &replacement.to_string());
                assert!(parse_share(&typo).is_err(), "{typo}");
            }
            let mut dropped = text.clone();
            dropped.remove(i);
            assert!(parse_share(&dropped).is_err(), "{dropped}");
        }
    }

    #[test]
    fn malformed_shares_say_why() {
        let valid = sample(1);
        let cases: &[(&str, &str)] = &[
            ("hello", "does not start with"),
            ("corroborate-share-v2-0123abcd", "not a share of format v1"),
            ("corroborate-share-v1-0123abcd-89ef4567-3-1", "has 4 parts"),
            (&valid[..valid.len() - 1], "checksum does not match"),
        ];
        for (text, expected) in cases {
            let reason = parse_share(text).err().unwrap();
            assert!(reason.contains(expected), "{text}: {reason}");
        }
        // Well checksummed but impossible values.
        let forged = |wallet: &str, k: u8, index: u8, data: &[u8]| {
            parse_share(&format_share(wallet, "89ef4567", k, index, data))
                .err()
                .unwrap()
        };
        assert!(forged("0123abcd", 1, 1, &[0; 32]).contains("threshold \"1\""));
        assert!(forged("0123abcd", 3, 17, &[0; 32]).contains("index \"17\""));
        assert!(forged("0123abcd", 3, 1, &[0; 31]).contains("31 bytes"));
        assert!(forged("0123abcx", 3, 1, &[0; 32]).contains("wallet id"));
    }

    /// The sharing's secrecy, made concrete: whatever k-1 shares someone holds, every value of
    /// a byte of the secret is consistent with them — for each candidate there is exactly one
    /// k-th share completing them to it. As the dealer's coefficients are uniform, each
    /// candidate is equally likely: the k-1 shares say nothing about the secret.
    #[test]
    fn fewer_than_k_shares_leave_every_secret_possible() {
        let mut rng = StdRng::seed_from_u64(11);
        for k in [2u8, 3, 5] {
            let secret = [0x5a; 4];
            let shares: Vec<blahaj::Share> = blahaj::Sharks(k)
                .dealer_rng(&secret, &mut rng)
                .take(usize::from(k))
                .collect();
            let known = &shares[..usize::from(k - 1)];
            let missing_x = k; // the x of the share the holder does not have
            let mut completions = std::collections::BTreeSet::new();
            for candidate in 0..=255u8 {
                // The k-th share that, with the known ones, makes `candidate` the first byte:
                // the value at x = missing_x of the polynomial through (0, candidate) and the
                // known points. In GF(256) x - t is x XOR t, so shifting every x by missing_x
                // moves the point wanted to 0, where the crate's recovery interpolates.
                let shifted: Vec<blahaj::Share> = std::iter::once((0, candidate))
                    .chain(known.iter().map(|s| (s.x.0, s.y[0].0)))
                    .map(|(x, y)| blahaj::Share::try_from(&[x ^ missing_x, y][..]).unwrap())
                    .collect();
                let y = blahaj::Sharks(k).recover(&shifted).unwrap()[0];
                // Check it with the crate, unshifted: the known shares and this one give back
                // the candidate.
                let mut completed: Vec<blahaj::Share> = known
                    .iter()
                    .map(|s| blahaj::Share::try_from(&[s.x.0, s.y[0].0][..]).unwrap())
                    .collect();
                completed.push(blahaj::Share::try_from(&[missing_x, y][..]).unwrap());
                assert_eq!(
                    blahaj::Sharks(k).recover(&completed).unwrap(),
                    vec![candidate]
                );
                completions.insert(y);
            }
            // One distinct k-th share per candidate: a bijection.
            assert_eq!(completions.len(), 256, "k = {k}");
            // And k-1 shares alone are refused by the crate.
            assert!(blahaj::Sharks(k).recover(known).is_err());
        }
    }
}
