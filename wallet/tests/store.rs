//! The encrypted store, backups and social recovery, through the public API, on the in-memory
//! storage and on SQLite files: what is written, what is refused, and that a refused or failed
//! operation leaves the storage as it was.

#![allow(clippy::unwrap_used, clippy::panic)]

use chrono::{DateTime, TimeZone, Utc};
use corroborate_wallet::memory::MemoryStorage;
use corroborate_wallet::native::SqliteStorage;
use corroborate_wallet::passkey::{MAX_PASSKEYS, passkeys_of};
use corroborate_wallet::platform::{Storage, StorageError, Write};
use corroborate_wallet::records::{
    CredentialKind, CredentialRecord, IdentityRecord, SettingsRecord, TABLES,
};
use corroborate_wallet::store::{Batch, HEADER_KEY, KdfParams, META_TABLE, Wallet, WalletError};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::cell::Cell;
use std::path::Path;
use std::rc::Rc;

const PASSPHRASE: &str = "correct horse battery staple";
const FAST: KdfParams = KdfParams::INSECURE_FAST;
/// The seed of the test identities: it must never be found in what the storage holds.
const SECRET: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

/// From the system: two wallets made by one test must differ (ids, keys) as they would.
fn rng() -> StdRng {
    StdRng::from_entropy()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
}

fn identity(did: &str) -> IdentityRecord {
    IdentityRecord {
        did: did.to_owned(),
        verification_method: format!("{did}#key-1"),
        label: "a label only the holder sees".to_owned(),
        created: now(),
        secret: SECRET.to_owned(),
    }
}

fn credential(id: &str) -> CredentialRecord {
    CredentialRecord {
        id: id.to_owned(),
        kind: CredentialKind::Attestation,
        holder: "did:example:1".to_owned(),
        issuer: "did:example:issuer".to_owned(),
        fact_type: "ResidenceAttestation".to_owned(),
        received: now(),
        source: "import".to_owned(),
        credential: serde_json::json!({"id": id}),
    }
}

/// Every row the wallet may have written, to compare before and after.
async fn dump(storage: &impl Storage) -> Vec<(String, String, Vec<u8>)> {
    let mut rows = Vec::new();
    for table in std::iter::once(META_TABLE).chain(TABLES.iter().copied()) {
        for (key, value) in storage.list(table).await.unwrap() {
            rows.push((table.to_owned(), key, value));
        }
    }
    rows
}

/// A wallet holding two identities, a credential and its settings.
async fn filled<S: Storage>(storage: S) -> Wallet<S> {
    let mut rng = rng();
    let wallet = Wallet::create(storage, PASSPHRASE, FAST, &mut rng, now())
        .await
        .unwrap();
    let mut batch = Batch::new();
    batch
        .put(&wallet, &identity("did:example:2"), &mut rng)
        .unwrap();
    batch
        .put(&wallet, &identity("did:example:1"), &mut rng)
        .unwrap();
    batch
        .put(&wallet, &credential("urn:uuid:1"), &mut rng)
        .unwrap();
    let settings = SettingsRecord {
        service: Some("https://corroborate.example".to_owned()),
    };
    batch.put(&wallet, &settings, &mut rng).unwrap();
    wallet.commit(batch).await.unwrap();
    wallet
}

/// What `filled` put, as read back.
async fn assert_filled<S: Storage>(wallet: &Wallet<S>) {
    let dids: Vec<String> = wallet
        .all::<IdentityRecord>()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.did)
        .collect();
    assert_eq!(dids, ["did:example:1", "did:example:2"]);
    let one: IdentityRecord = wallet.get("did:example:1").await.unwrap().unwrap();
    assert_eq!((one.secret.as_str(), one.created), (SECRET, now()));
    let held: CredentialRecord = wallet.get("urn:uuid:1").await.unwrap().unwrap();
    assert_eq!(held.credential, serde_json::json!({"id": "urn:uuid:1"}));
    let settings: SettingsRecord = wallet.get("settings").await.unwrap().unwrap();
    assert_eq!(
        settings.service.as_deref(),
        Some("https://corroborate.example")
    );
    assert!(
        wallet
            .get::<IdentityRecord>("did:example:3")
            .await
            .unwrap()
            .is_none()
    );
}

/// In-memory storage whose clones share their rows, so a test keeps a handle on what a wallet
/// it gave the storage to wrote (a `MemoryStorage` clone is a copy).
#[derive(Clone, Default)]
struct Shared(Rc<MemoryStorage>);

impl Storage for Shared {
    async fn get(&self, table: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.0.get(table, key).await
    }
    async fn list(&self, table: &str) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        self.0.list(table).await
    }
    async fn commit(&self, writes: Vec<Write>) -> Result<(), StorageError> {
        self.0.commit(writes).await
    }
}

fn memory() -> Shared {
    Shared::default()
}

fn sqlite(dir: &tempfile::TempDir, name: &str) -> SqliteStorage {
    SqliteStorage::open(dir.path().join(name)).unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every byte of every file in `dir` (the database and its WAL).
fn files(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        all.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    all
}

// The store: round trips, and what is on disk.

#[tokio::test]
async fn records_round_trip_in_memory() {
    let wallet = filled(memory()).await;
    assert_filled(&wallet).await;
    let reopened = Wallet::open(wallet.into_storage(), PASSPHRASE)
        .await
        .unwrap();
    assert_filled(&reopened).await;
}

#[tokio::test]
async fn records_round_trip_through_a_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let wallet = filled(sqlite(&dir, "wallet.db")).await;
        assert_filled(&wallet).await;
        wallet.id().to_owned()
    };
    let reopened = Wallet::open(sqlite(&dir, "wallet.db"), PASSPHRASE)
        .await
        .unwrap();
    assert_eq!(reopened.id(), id);
    assert_eq!(reopened.created(), now());
    assert_filled(&reopened).await;
}

#[tokio::test]
async fn puts_replace_and_deletes_remove() {
    let mut rng = rng();
    let wallet = filled(memory()).await;
    let mut renamed = identity("did:example:1");
    renamed.label = "renamed".to_owned();
    wallet.put(&renamed, &mut rng).await.unwrap();
    let mut batch = Batch::new();
    batch.delete::<_, IdentityRecord>(&wallet, "did:example:2");
    batch.delete::<_, CredentialRecord>(&wallet, "urn:uuid:1");
    wallet.commit(batch).await.unwrap();
    let left = wallet.all::<IdentityRecord>().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].label, "renamed");
    assert!(wallet.all::<CredentialRecord>().await.unwrap().is_empty());
}

#[tokio::test]
async fn nothing_secret_reaches_the_disk_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = filled(sqlite(&dir, "wallet.db")).await;
    let on_disk = files(dir.path());
    let row = wallet.row_key("identities", "did:example:1");
    assert!(
        contains(&on_disk, row.as_bytes()),
        "the row keys are in clear, so the test reads the right bytes"
    );
    for secret in [
        SECRET.as_bytes(),
        // Not even which DIDs or credentials the wallet holds: rows are keyed by keyed hashes.
        b"did:example:1",
        b"urn:uuid:1",
        b"a label only the holder sees",
        b"ResidenceAttestation",
    ] {
        assert!(
            !contains(&on_disk, secret),
            "{}",
            String::from_utf8_lossy(secret)
        );
    }
    for (_, _, value) in dump(wallet.storage()).await {
        assert!(!contains(&value, SECRET.as_bytes()));
    }
}

#[cfg(unix)]
#[test]
fn the_sqlite_file_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let _storage = sqlite(&dir, "wallet.db");
    let mode = std::fs::metadata(dir.path().join("wallet.db"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[tokio::test]
async fn each_write_draws_a_fresh_nonce() {
    let mut rng = rng();
    let wallet = filled(memory()).await;
    let row = wallet.row_key("identities", "did:example:1");
    let before = wallet
        .storage()
        .get("identities", &row)
        .await
        .unwrap()
        .unwrap();
    wallet
        .put(&identity("did:example:1"), &mut rng)
        .await
        .unwrap();
    let after = wallet
        .storage()
        .get("identities", &row)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(
        before, after,
        "the same record sealed twice must not look the same"
    );
}

// Opening and creating: wrong passphrase, no wallet, already one.

#[tokio::test]
async fn a_wrong_passphrase_is_told_apart_and_changes_nothing() {
    let storage = filled(memory()).await.into_storage();
    let before = dump(&storage).await;
    let error = Wallet::open(storage.clone(), "correct horse battery stapler")
        .await
        .err()
        .unwrap();
    assert!(matches!(error, WalletError::WrongPassphrase), "{error}");
    assert_eq!(dump(&storage).await, before);
}

#[tokio::test]
async fn opening_empty_storage_finds_no_wallet() {
    let error = Wallet::open(memory(), PASSPHRASE).await.err().unwrap();
    assert!(matches!(error, WalletError::NoWallet), "{error}");
}

#[tokio::test]
async fn creating_over_a_wallet_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let before = dump(filled(sqlite(&dir, "wallet.db")).await.storage()).await;
    let error = Wallet::create(sqlite(&dir, "wallet.db"), "other", FAST, &mut rng(), now())
        .await
        .err()
        .unwrap();
    assert!(matches!(error, WalletError::AlreadyExists), "{error}");
    assert_eq!(dump(&sqlite(&dir, "wallet.db")).await, before);
    // A storage with records but no header is not empty either.
    let storage = memory();
    let stray = Write::Put {
        table: "credentials".to_owned(),
        key: "x".to_owned(),
        value: vec![1],
    };
    storage.commit(vec![stray]).await.unwrap();
    let error = Wallet::create(storage, PASSPHRASE, FAST, &mut rng(), now())
        .await
        .err()
        .unwrap();
    assert!(matches!(error, WalletError::AlreadyExists), "{error}");
}

#[tokio::test]
async fn empty_passphrases_and_unsafe_costs_are_refused() {
    let error = Wallet::create(memory(), "", FAST, &mut rng(), now())
        .await
        .err();
    assert!(matches!(error, Some(WalletError::EmptyPassphrase)));
    let huge = KdfParams {
        memory_kib: u32::MAX,
        ..FAST
    };
    let error = Wallet::create(memory(), PASSPHRASE, huge, &mut rng(), now())
        .await
        .err();
    assert!(
        matches!(error, Some(WalletError::InvalidKdfParams(_))),
        "{error:?}"
    );
}

#[tokio::test]
async fn changing_the_passphrase_keeps_the_records() {
    let mut rng = rng();
    let mut wallet = filled(memory()).await;
    let strong = KdfParams {
        memory_kib: 512,
        iterations: 2,
        parallelism: 1,
    };
    wallet
        .change_passphrase("a new passphrase", strong, &mut rng)
        .await
        .unwrap();
    assert_eq!(wallet.kdf_params(), strong);
    let storage = wallet.into_storage();
    let error = Wallet::open(storage.clone(), PASSPHRASE)
        .await
        .err()
        .unwrap();
    assert!(matches!(error, WalletError::WrongPassphrase), "{error}");
    let reopened = Wallet::open(storage, "a new passphrase").await.unwrap();
    assert_eq!(reopened.kdf_params(), strong);
    assert_filled(&reopened).await;
}

// Corruption: named, not mistaken for a wrong passphrase.

/// Replaces one stored row's bytes.
async fn overwrite(storage: &impl Storage, table: &str, key: &str, value: Vec<u8>) {
    let write = Write::Put {
        table: table.to_owned(),
        key: key.to_owned(),
        value,
    };
    storage.commit(vec![write]).await.unwrap();
}

#[tokio::test]
async fn a_flipped_byte_in_a_row_is_reported_naming_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = filled(sqlite(&dir, "wallet.db")).await;
    let storage = wallet.storage();
    let key = wallet.row_key("identities", "did:example:2");
    let mut row = storage.get("identities", &key).await.unwrap().unwrap();
    for i in [0, 1, 30, row.len() - 1] {
        row[i] ^= 0x20;
        overwrite(storage, "identities", &key, row.clone()).await;
        let error = wallet
            .get::<IdentityRecord>("did:example:2")
            .await
            .err()
            .unwrap();
        let WalletError::Corrupt(message) = &error else {
            panic!("{error}")
        };
        assert!(message.contains("identities/did:example:2"), "{message}");
        // Listing cannot know the key of a row it cannot open: it names the row.
        let error = wallet.all::<IdentityRecord>().await.err().unwrap();
        assert!(
            error.to_string().contains(&format!("identities/{key}")),
            "{error}"
        );
        row[i] ^= 0x20;
    }
    // The untouched rows still read.
    assert!(
        wallet
            .get::<IdentityRecord>("did:example:1")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_row_moved_to_another_key_or_table_does_not_open() {
    let wallet = filled(memory()).await;
    let storage = wallet.storage();
    let row = storage
        .get("identities", &wallet.row_key("identities", "did:example:2"))
        .await
        .unwrap()
        .unwrap();
    overwrite(
        storage,
        "identities",
        &wallet.row_key("identities", "did:example:1"),
        row.clone(),
    )
    .await;
    let error = wallet
        .get::<IdentityRecord>("did:example:1")
        .await
        .err()
        .unwrap();
    assert!(
        error.to_string().contains("identities/did:example:1"),
        "{error}"
    );
    overwrite(
        storage,
        "credentials",
        &wallet.row_key("credentials", "did:example:2"),
        row,
    )
    .await;
    let error = wallet
        .get::<CredentialRecord>("did:example:2")
        .await
        .err()
        .unwrap();
    assert!(
        error.to_string().contains("credentials/did:example:2"),
        "{error}"
    );
}

#[tokio::test]
async fn a_row_from_another_wallet_does_not_open() {
    let mine = filled(memory()).await;
    let theirs = filled(memory()).await;
    let row = theirs
        .storage()
        .get("identities", &theirs.row_key("identities", "did:example:1"))
        .await
        .unwrap()
        .unwrap();
    overwrite(
        mine.storage(),
        "identities",
        &mine.row_key("identities", "did:example:1"),
        row,
    )
    .await;
    let error = mine
        .get::<IdentityRecord>("did:example:1")
        .await
        .err()
        .unwrap();
    assert!(matches!(error, WalletError::Corrupt(_)), "{error}");
}

#[tokio::test]
async fn a_damaged_header_is_corrupt_not_a_wrong_passphrase() {
    let storage = filled(memory()).await.into_storage();
    let header = storage.get(META_TABLE, HEADER_KEY).await.unwrap().unwrap();
    let text = String::from_utf8(header.clone()).unwrap();
    let salt_at = text.find("\"salt\":\"").unwrap() + 8;
    let mut flipped_salt = header.clone();
    flipped_salt[salt_at] = if flipped_salt[salt_at] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"garbage".to_vec(), "is not JSON"),
        (
            br#"{"format":"something else","version":1}"#.to_vec(),
            "not a Corroborate wallet header",
        ),
        (header[..header.len() / 2].to_vec(), "is not JSON"),
        (flipped_salt, "does not match its checksum"),
        (
            text.replace("\"version\":1", "\"version\":0").into_bytes(),
            "no valid format version",
        ),
        (
            text.replace("\"header\":{", "\"header\":{\"extra\":1,")
                .into_bytes(),
            "is malformed",
        ),
    ];
    for (bytes, expected) in cases {
        overwrite(&storage, META_TABLE, HEADER_KEY, bytes).await;
        let error = Wallet::open(storage.clone(), PASSPHRASE)
            .await
            .err()
            .unwrap();
        let WalletError::Corrupt(message) = &error else {
            panic!("{expected}: {error}")
        };
        assert!(message.contains(expected), "{expected}: {message}");
        assert!(message.contains("meta/wallet"), "{message}");
    }
    let newer = text.replace("\"version\":1", "\"version\":2").into_bytes();
    overwrite(&storage, META_TABLE, HEADER_KEY, newer).await;
    let error = Wallet::open(storage.clone(), PASSPHRASE)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(
            error,
            WalletError::UnsupportedVersion {
                what: "wallet",
                version: 2
            }
        ),
        "{error}"
    );
    storage
        .commit(vec![Write::Delete {
            table: META_TABLE.to_owned(),
            key: HEADER_KEY.to_owned(),
        }])
        .await
        .unwrap();
    let error = Wallet::open(storage, PASSPHRASE).await.err().unwrap();
    assert!(error.to_string().contains("no header"), "{error}");
}

// Batches: all or nothing.

#[tokio::test]
async fn a_sqlite_commit_failing_midway_writes_nothing() {
    let mut rng = rng();
    let dir = tempfile::tempdir().unwrap();
    let wallet = filled(sqlite(&dir, "wallet.db")).await;
    // A trigger makes the third write of the batch fail inside the transaction.
    rusqlite::Connection::open(dir.path().join("wallet.db"))
        .unwrap()
        .execute_batch(&format!(
            "CREATE TRIGGER poison BEFORE INSERT ON records WHEN NEW.key = '{}' \
             BEGIN SELECT RAISE(ABORT, 'poisoned'); END;",
            wallet.row_key("identities", "did:example:poison")
        ))
        .unwrap();
    let before = dump(wallet.storage()).await;
    let mut batch = Batch::new();
    batch
        .put(&wallet, &identity("did:example:3"), &mut rng)
        .unwrap();
    batch.delete::<_, IdentityRecord>(&wallet, "did:example:1");
    batch
        .put(&wallet, &identity("did:example:poison"), &mut rng)
        .unwrap();
    let error = wallet.commit(batch).await.err().unwrap();
    assert!(error.to_string().contains("poisoned"), "{error}");
    assert_eq!(dump(wallet.storage()).await, before);
    drop(wallet);
    let reopened = Wallet::open(sqlite(&dir, "wallet.db"), PASSPHRASE)
        .await
        .unwrap();
    assert_filled(&reopened).await;
    assert!(
        reopened
            .get::<IdentityRecord>("did:example:3")
            .await
            .unwrap()
            .is_none()
    );
}

/// A storage whose commits fail on demand, as a full disk would.
#[derive(Default)]
struct Flaky {
    inner: Shared,
    failing: Cell<bool>,
}

impl Storage for Flaky {
    async fn get(&self, table: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.get(table, key).await
    }
    async fn list(&self, table: &str) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        self.inner.list(table).await
    }
    async fn commit(&self, writes: Vec<Write>) -> Result<(), StorageError> {
        if self.failing.get() {
            return Err(StorageError("disk full".to_owned()));
        }
        self.inner.commit(writes).await
    }
}

#[tokio::test]
async fn failed_commits_leave_the_wallet_as_it_was() {
    let mut rng = rng();
    let mut wallet = filled(Flaky::default()).await;
    let before = dump(wallet.storage()).await;
    wallet.storage().failing.set(true);
    let error = wallet
        .put(&identity("did:example:3"), &mut rng)
        .await
        .err()
        .unwrap();
    assert!(matches!(error, WalletError::Storage(_)), "{error}");
    let error = wallet
        .change_passphrase("new", FAST, &mut rng)
        .await
        .err()
        .unwrap();
    assert!(matches!(error, WalletError::Storage(_)), "{error}");
    let error = wallet.split_recovery(2, 3, &mut rng).await.err().unwrap();
    assert!(matches!(error, WalletError::Storage(_)), "{error}");
    assert_eq!(wallet.recovery_set(), None);
    assert_eq!(dump(wallet.storage()).await, before);
    // The wallet in memory still matches the store: a backup opens with the old passphrase.
    wallet.storage().failing.set(false);
    let backup = wallet.backup(&mut rng).await.unwrap();
    let restored = Wallet::restore(memory(), &backup, PASSPHRASE)
        .await
        .unwrap();
    assert_filled(&restored).await;
}

#[tokio::test]
async fn a_batch_cannot_be_committed_to_another_wallet() {
    let mut rng = rng();
    let mine = filled(memory()).await;
    let theirs = filled(memory()).await;
    let mut batch = Batch::new();
    batch
        .put(&mine, &identity("did:example:3"), &mut rng)
        .unwrap();
    let error = batch
        .put(&theirs, &identity("did:example:4"), &mut rng)
        .err()
        .unwrap();
    assert!(matches!(error, WalletError::ForeignBatch));
    let error = theirs.commit(batch).await.err().unwrap();
    assert!(matches!(error, WalletError::ForeignBatch));
}

// SQLite files that are not a wallet's.

#[test]
fn a_file_that_is_not_sqlite_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    let content =
        b"these are not the bytes of a database, but they are long enough to look".repeat(20);
    std::fs::write(&path, &content).unwrap();
    let error = SqliteStorage::open(&path).err().unwrap();
    assert!(error.0.contains("not a wallet database"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), content);
}

#[test]
fn a_sqlite_database_of_another_program_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    let other = rusqlite::Connection::open(&path).unwrap();
    other
        .execute_batch("CREATE TABLE contacts (name TEXT);")
        .unwrap();
    drop(other);
    let before = std::fs::read(&path).unwrap();
    let error = SqliteStorage::open(&path).err().unwrap();
    assert!(error.0.contains("another program"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "application_id", 7)
        .unwrap();
    let error = SqliteStorage::open(&path).err().unwrap();
    assert!(error.0.contains("application id 0x7"), "{error}");
}

// Backups.

#[tokio::test]
async fn a_backup_restores_into_another_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = filled(sqlite(&dir, "phone.db")).await;
    let backup = wallet.backup(&mut rng()).await.unwrap();
    assert!(backup.starts_with(b"corroborate-wallet-backup 1\n"));
    assert!(!contains(&backup, SECRET.as_bytes()));
    assert!(
        !contains(&backup, b"did:example:1"),
        "the body hides even the keys"
    );
    let restored = Wallet::restore(sqlite(&dir, "laptop.db"), &backup, PASSPHRASE)
        .await
        .unwrap();
    assert_eq!(restored.id(), wallet.id());
    assert_filled(&restored).await;
    assert_eq!(dump(restored.storage()).await, dump(wallet.storage()).await);
    drop(restored);
    assert_filled(
        &Wallet::open(sqlite(&dir, "laptop.db"), PASSPHRASE)
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test]
async fn a_backup_opens_with_its_own_passphrase_only() {
    let backup = filled(memory()).await.backup(&mut rng()).await.unwrap();
    let storage = memory();
    let error = Wallet::restore(storage.clone(), &backup, "guess")
        .await
        .err()
        .unwrap();
    assert!(matches!(error, WalletError::WrongPassphrase), "{error}");
    assert!(dump(&storage).await.is_empty());
}

#[tokio::test]
async fn restoring_over_a_wallet_is_refused_and_changes_nothing() {
    let backup = filled(memory()).await.backup(&mut rng()).await.unwrap();
    let other = filled(memory()).await.into_storage();
    let before = dump(&other).await;
    let error = Wallet::restore(other.clone(), &backup, PASSPHRASE)
        .await
        .err()
        .unwrap();
    assert!(matches!(error, WalletError::AlreadyExists), "{error}");
    assert_eq!(dump(&other).await, before);
}

/// The lines of a backup with a recomputed checksum, as someone altering it on purpose would.
fn resealed(lines: [&[u8]; 3]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut file = Vec::new();
    for line in lines {
        file.extend_from_slice(line);
        file.push(b'\n');
    }
    let sum = hex::encode(Sha256::digest(&file));
    file.extend_from_slice(format!("sha256 {sum}\n").as_bytes());
    file
}

fn lines(backup: &[u8]) -> Vec<&[u8]> {
    backup.split(|b| *b == b'\n').collect()
}

#[tokio::test]
async fn damaged_or_foreign_backups_are_refused_with_a_reason() {
    let backup = filled(memory()).await.backup(&mut rng()).await.unwrap();
    let other = filled(memory()).await.backup(&mut rng()).await.unwrap();
    let ours = lines(&backup);
    let theirs = lines(&other);
    // 40 base64 characters (30 bytes) taken out of the middle: as if a row were removed.
    let body_cut = [&ours[2][..100], &ours[2][140..]].concat();
    let flipped = |i: usize| {
        let mut bytes = backup.clone();
        bytes[i] ^= 0x01;
        bytes
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "not a Corroborate wallet backup"),
        (
            "another file",
            b"PK\x03\x04 a zip".to_vec(),
            "not a Corroborate wallet backup",
        ),
        ("cut in the header", backup[..60].to_vec(), "has 2 lines"),
        (
            "cut in the body",
            backup[..backup.len() - 200].to_vec(),
            "has 3 lines",
        ),
        (
            "cut in the checksum",
            backup[..backup.len() - 5].to_vec(),
            "truncated",
        ),
        (
            "flipped in the header",
            flipped(40),
            "checksum does not match",
        ),
        (
            "flipped in the body",
            flipped(backup.len() - 120),
            "checksum does not match",
        ),
        (
            "flipped in the checksum",
            flipped(backup.len() - 3),
            "checksum does not match",
        ),
        (
            "body cut, checksum redone",
            resealed([ours[0], ours[1], &body_cut]),
            "do not match its header",
        ),
        (
            "another wallet's body",
            resealed([ours[0], ours[1], theirs[2]]),
            "do not match its header",
        ),
        (
            "newer format",
            [b"corroborate-wallet-backup 9\n".as_slice(), &backup[28..]].concat(),
            "backup is in format 9",
        ),
    ];
    for (what, bytes, expected) in cases {
        let storage = memory();
        let error = Wallet::restore(storage.clone(), &bytes, PASSPHRASE)
            .await
            .err()
            .unwrap();
        assert!(error.to_string().contains(expected), "{what}: {error}");
        assert!(dump(&storage).await.is_empty(), "{what}");
    }
}

#[tokio::test]
async fn no_backup_is_made_of_a_damaged_store() {
    let wallet = filled(memory()).await;
    overwrite(wallet.storage(), "credentials", "urn:uuid:1", vec![1; 60]).await;
    let error = wallet.backup(&mut rng()).await.err().unwrap();
    assert!(
        error.to_string().contains("credentials/urn:uuid:1"),
        "{error}"
    );
}

// Social recovery.

/// Every way to pick `k` of `0..n`.
fn combinations(n: usize, k: usize) -> Vec<Vec<usize>> {
    if k == 0 {
        return vec![Vec::new()];
    }
    (k - 1..n)
        .flat_map(|last| {
            combinations(last, k - 1).into_iter().map(move |mut c| {
                c.push(last);
                c
            })
        })
        .collect()
}

fn pick(shares: &[String], which: &[usize]) -> Vec<String> {
    which.iter().map(|i| shares[*i].clone()).collect()
}

#[tokio::test]
async fn any_k_shares_restore_a_backup_and_fewer_do_not() {
    let mut rng = rng();
    let mut wallet = filled(memory()).await;
    let shares = wallet.split_recovery(3, 5, &mut rng).await.unwrap();
    assert_eq!(shares.len(), 5);
    let (_, k, n) = wallet.recovery_set().unwrap();
    assert_eq!((k, n), (3, 5));
    let backup = wallet.backup(&mut rng).await.unwrap();
    let picks = combinations(5, 3);
    assert_eq!(picks.len(), 10);
    for which in picks {
        let restored = Wallet::recover(
            memory(),
            Some(&backup),
            &pick(&shares, &which),
            "new passphrase",
            FAST,
            &mut rng,
        )
        .await
        .unwrap_or_else(|e| panic!("{which:?}: {e}"));
        assert_eq!(restored.id(), wallet.id());
        assert_filled(&restored).await;
        let storage = restored.into_storage();
        assert_filled(
            &Wallet::open(storage.clone(), "new passphrase")
                .await
                .unwrap(),
        )
        .await;
        let old = Wallet::open(storage, PASSPHRASE).await.err().unwrap();
        assert!(matches!(old, WalletError::WrongPassphrase), "{old}");
    }
    for which in combinations(5, 2) {
        let storage = memory();
        let error = Wallet::recover(
            storage.clone(),
            Some(&backup),
            &pick(&shares, &which),
            "new",
            FAST,
            &mut rng,
        )
        .await
        .err()
        .unwrap();
        assert!(
            matches!(
                error,
                WalletError::NotEnoughShares {
                    needed: 3,
                    given: 2
                }
            ),
            "{which:?}: {error}"
        );
        assert!(dump(&storage).await.is_empty());
    }
    // The same share twice counts once.
    let twice = pick(&shares, &[0, 0, 1]);
    let error = Wallet::recover(memory(), Some(&backup), &twice, "new", FAST, &mut rng)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(
            error,
            WalletError::NotEnoughShares {
                needed: 3,
                given: 2
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn shares_reset_a_forgotten_passphrase_in_place() {
    let mut rng = rng();
    let dir = tempfile::tempdir().unwrap();
    let mut wallet = filled(sqlite(&dir, "wallet.db")).await;
    let shares = wallet.split_recovery(2, 3, &mut rng).await.unwrap();
    drop(wallet);
    let recovered = Wallet::recover(
        sqlite(&dir, "wallet.db"),
        None,
        &pick(&shares, &[2, 0]),
        "remembered this time",
        FAST,
        &mut rng,
    )
    .await
    .unwrap();
    assert_filled(&recovered).await;
    drop(recovered);
    let storage = sqlite(&dir, "wallet.db");
    let old = Wallet::open(storage, PASSPHRASE).await.err().unwrap();
    assert!(matches!(old, WalletError::WrongPassphrase), "{old}");
    let reopened = Wallet::open(sqlite(&dir, "wallet.db"), "remembered this time")
        .await
        .unwrap();
    assert_filled(&reopened).await;
    // The set stays valid after the reset.
    assert_eq!(
        reopened.recovery_set().map(|(_, k, n)| (k, n)),
        Some((2, 3))
    );
}

#[tokio::test]
async fn shares_that_do_not_belong_together_are_refused() {
    let mut rng = rng();
    let mut wallet = filled(memory()).await;
    let old_set = wallet.split_recovery(2, 3, &mut rng).await.unwrap();
    let new_set = wallet.split_recovery(2, 3, &mut rng).await.unwrap();
    let mut other = filled(memory()).await;
    let other_set = other.split_recovery(2, 3, &mut rng).await.unwrap();
    let storage = wallet.into_storage();
    let before = dump(&storage).await;
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![new_set[0].clone(), old_set[1].clone()],
            "share 2 is for recovery set",
        ),
        (
            vec![new_set[0].clone(), other_set[1].clone()],
            "share 2 is for wallet",
        ),
        (other_set[..2].to_vec(), "they are for wallet"),
        (old_set[..2].to_vec(), "a newer set replaced theirs"),
    ];
    for (shares, expected) in cases {
        let error = Wallet::recover(storage.clone(), None, &shares, "new", FAST, &mut rng)
            .await
            .err()
            .unwrap();
        assert!(
            matches!(error, WalletError::MismatchedShares(_)),
            "{expected}: {error}"
        );
        assert!(error.to_string().contains(expected), "{expected}: {error}");
    }
    assert_eq!(dump(&storage).await, before);
    // The new set works.
    Wallet::recover(storage, None, &new_set[1..], "new", FAST, &mut rng)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_mistyped_share_is_named_with_the_reason() {
    let mut rng = rng();
    let mut wallet = filled(memory()).await;
    let shares = wallet.split_recovery(2, 3, &mut rng).await.unwrap();
    let mut typo = shares[1].clone();
    let at = typo.len() - 20;
    let replacement = if &typo[at..at + 1] == "a" { "b" } else { "a" };
    typo.replace_range(at..at + 1, replacement);
    let given = vec![shares[0].clone(), typo];
    let error = Wallet::recover(wallet.into_storage(), None, &given, "new", FAST, &mut rng)
        .await
        .err()
        .unwrap();
    let WalletError::InvalidShare { position, reason } = &error else {
        panic!("{error}")
    };
    assert_eq!(*position, 2);
    assert!(reason.contains("mistyped"), "{reason}");
}

#[tokio::test]
async fn recovery_needs_a_set_and_sensible_parameters() {
    let mut rng = rng();
    let mut wallet = filled(memory()).await;
    for (k, n) in [(1, 3), (4, 3), (2, 17), (0, 0)] {
        let error = wallet.split_recovery(k, n, &mut rng).await.err().unwrap();
        assert!(
            matches!(error, WalletError::InvalidRecoveryParameters(_)),
            "{k} of {n}: {error}"
        );
    }
    assert_eq!(wallet.recovery_set(), None);
    // Shares of another wallet's set, offered to a wallet that has none.
    let mut other = filled(memory()).await;
    let shares = other.split_recovery(2, 2, &mut rng).await.unwrap();
    let storage = wallet.into_storage();
    let error = Wallet::recover(storage, None, &shares, "new", FAST, &mut rng)
        .await
        .err()
        .unwrap();
    assert!(matches!(error, WalletError::MismatchedShares(_)), "{error}");
    // No share at all.
    let wallet = filled(memory()).await;
    let backup = wallet.backup(&mut rng).await.unwrap();
    let error = Wallet::recover(memory(), Some(&backup), &[], "new", FAST, &mut rng)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(error, WalletError::NotEnoughShares { given: 0, .. }),
        "{error}"
    );
}

#[tokio::test]
async fn recovering_a_backup_over_a_wallet_is_refused() {
    let mut rng = rng();
    let mut wallet = filled(memory()).await;
    let shares = wallet.split_recovery(2, 3, &mut rng).await.unwrap();
    let backup = wallet.backup(&mut rng).await.unwrap();
    let occupied = filled(memory()).await.into_storage();
    let before = dump(&occupied).await;
    let error = Wallet::recover(
        occupied.clone(),
        Some(&backup),
        &shares,
        "new",
        FAST,
        &mut rng,
    )
    .await
    .err()
    .unwrap();
    assert!(matches!(error, WalletError::AlreadyExists), "{error}");
    assert_eq!(dump(&occupied).await, before);
}

#[tokio::test]
async fn a_backup_made_before_the_set_cannot_be_recovered_with_it() {
    let mut rng = rng();
    let mut wallet = filled(memory()).await;
    let early = wallet.backup(&mut rng).await.unwrap();
    let shares = wallet.split_recovery(2, 3, &mut rng).await.unwrap();
    let error = Wallet::recover(memory(), Some(&early), &shares, "new", FAST, &mut rng)
        .await
        .err()
        .unwrap();
    assert!(matches!(error, WalletError::NoRecoverySet), "{error}");
}

// Passkeys: a second way in, beside the passphrase.

const PASSKEY_ID: &str = "cGFzc2tleS0x";
const PASSKEY_SALT: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

#[tokio::test]
async fn a_passkey_opens_the_wallet_beside_the_passphrase() {
    let mut rng = rng();
    let mut wallet = filled(memory()).await;
    let secret = [7u8; 32];
    enrol(&mut wallet, PASSKEY_ID, &secret, &mut rng).await;
    let storage = wallet.into_storage();
    // The unlock screen reads what to ask the authenticator without any key.
    let listed = passkeys_of(&storage).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (
            listed[0].id.as_str(),
            listed[0].salt.as_str(),
            listed[0].added
        ),
        (PASSKEY_ID, PASSKEY_SALT, now())
    );
    let opened = Wallet::open_with_passkey(storage.clone(), PASSKEY_ID, &secret)
        .await
        .unwrap();
    assert_filled(&opened).await;
    // The passphrase still opens it, and changing it keeps the passkey.
    let mut wallet = Wallet::open(storage.clone(), PASSPHRASE).await.unwrap();
    wallet
        .change_passphrase("a new passphrase", FAST, &mut rng)
        .await
        .unwrap();
    let reopened = Wallet::open_with_passkey(wallet.into_storage(), PASSKEY_ID, &secret)
        .await
        .unwrap();
    assert_filled(&reopened).await;
}

#[tokio::test]
async fn a_wrong_or_unknown_passkey_is_told_apart_and_changes_nothing() {
    let mut wallet = filled(memory()).await;
    enrol(&mut wallet, PASSKEY_ID, &[7; 32], &mut rng()).await;
    let storage = wallet.into_storage();
    let before = dump(&storage).await;
    let wrong = Wallet::open_with_passkey(storage.clone(), PASSKEY_ID, &[8; 32])
        .await
        .err()
        .unwrap();
    assert!(matches!(wrong, WalletError::WrongPasskey), "{wrong}");
    assert_eq!(wrong.code(), "wrong_passkey");
    let unknown = Wallet::open_with_passkey(storage.clone(), "b3RoZXI", &[7; 32])
        .await
        .err()
        .unwrap();
    assert!(
        matches!(&unknown, WalletError::NoSuchPasskey(id) if id == "b3RoZXI"),
        "{unknown}"
    );
    assert_eq!(unknown.code(), "not_found");
    for short in [&[7u8; 16][..], &[0; 32][..]] {
        let refused = Wallet::open_with_passkey(storage.clone(), PASSKEY_ID, short)
            .await
            .err()
            .unwrap();
        assert!(
            matches!(refused, WalletError::InvalidPasskey(_)),
            "{refused}"
        );
    }
    assert_eq!(dump(&storage).await, before);
}

#[tokio::test]
async fn a_passkey_wrap_moved_to_another_passkey_does_not_open() {
    use sha2::Digest;
    let mut rng = rng();
    let mut wallet = filled(memory()).await;
    enrol(&mut wallet, PASSKEY_ID, &[7; 32], &mut rng).await;
    enrol(&mut wallet, "b3RoZXI", &[9; 32], &mut rng).await;
    let storage = wallet.into_storage();
    // Swap the two wrapped keys in the header, fixing its checksum as an attacker could (over
    // the header's bytes as stored: fields in declaration order).
    let stored = storage.get(META_TABLE, HEADER_KEY).await.unwrap().unwrap();
    let text = String::from_utf8(stored).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let wrap = |i: usize| {
        value["header"]["passkeys"][i]["wrapped_key"]
            .as_str()
            .unwrap()
    };
    let (first, second) = (wrap(0), wrap(1));
    let swapped = text
        .replace(first, "\u{0}")
        .replace(second, first)
        .replace('\u{0}', second);
    let start = swapped.find("\"header\":").unwrap() + "\"header\":".len();
    let end = swapped.rfind(",\"checksum\":").unwrap();
    let checksum = hex::encode(sha2::Sha256::digest(&swapped.as_bytes()[start..end]));
    let forged = swapped.replace(value["checksum"].as_str().unwrap(), &checksum);
    overwrite(&storage, META_TABLE, HEADER_KEY, forged.into_bytes()).await;
    // Each secret now meets the other passkey's wrap: bound to its id, it does not open.
    for (id, secret) in [(PASSKEY_ID, [9u8; 32]), ("b3RoZXI", [7; 32])] {
        let error = Wallet::open_with_passkey(storage.clone(), id, &secret)
            .await
            .err()
            .unwrap();
        assert!(matches!(error, WalletError::WrongPasskey), "{error}");
    }
}

#[tokio::test]
async fn forgetting_a_passkey_closes_that_way_in_only() {
    let mut rng = rng();
    let mut wallet = filled(memory()).await;
    for (id, secret) in [(PASSKEY_ID, [7u8; 32]), ("b3RoZXI", [9; 32])] {
        enrol(&mut wallet, id, &secret, &mut rng).await;
    }
    // Enrolling the same credential again replaces it.
    enrol(&mut wallet, PASSKEY_ID, &[5; 32], &mut rng).await;
    assert_eq!(wallet.passkeys().len(), 2);
    wallet.remove_passkey(PASSKEY_ID).await.unwrap();
    let missing = wallet.remove_passkey(PASSKEY_ID).await.err().unwrap();
    assert!(
        matches!(missing, WalletError::NoSuchPasskey(_)),
        "{missing}"
    );
    let storage = wallet.into_storage();
    let gone = Wallet::open_with_passkey(storage.clone(), PASSKEY_ID, &[5; 32])
        .await
        .err()
        .unwrap();
    assert!(matches!(gone, WalletError::NoSuchPasskey(_)), "{gone}");
    assert_filled(
        &Wallet::open_with_passkey(storage.clone(), "b3RoZXI", &[9; 32])
            .await
            .unwrap(),
    )
    .await;
    assert_filled(&Wallet::open(storage, PASSPHRASE).await.unwrap()).await;
}

#[tokio::test]
async fn malformed_passkeys_are_refused_before_anything_is_written() {
    let mut rng = rng();
    let mut wallet = filled(memory()).await;
    let before = dump(wallet.storage()).await;
    let cases = [
        ("not base64!", PASSKEY_SALT, [7u8; 32]),
        ("", PASSKEY_SALT, [7; 32]),
        (PASSKEY_ID, "AAEC", [7; 32]),
    ];
    for (id, salt, secret) in cases {
        let error = wallet
            .add_passkey(PASSPHRASE, id, salt, &secret, &mut rng, now())
            .await
            .err()
            .unwrap();
        assert!(
            matches!(error, WalletError::InvalidPasskey(_)),
            "{id} {salt}: {error}"
        );
        assert_eq!(error.code(), "invalid");
    }
    assert_eq!(dump(wallet.storage()).await, before);
    // At most MAX_PASSKEYS.
    for i in 0..MAX_PASSKEYS {
        let id = base64_url(format!("passkey-{i}").as_bytes());
        enrol(&mut wallet, &id, &[7; 32], &mut rng).await;
    }
    let full = wallet
        .add_passkey(
            PASSPHRASE,
            "b25lLW1vcmU",
            PASSKEY_SALT,
            &[7; 32],
            &mut rng,
            now(),
        )
        .await
        .err()
        .unwrap();
    assert!(full.to_string().contains("at most 8 passkeys"), "{full}");
}

#[tokio::test]
async fn a_header_without_passkeys_keeps_its_checksum_and_backups_carry_them() {
    let mut rng = rng();
    let mut wallet = filled(memory()).await;
    // Headers written before passkeys existed have no such member.
    let header = wallet
        .storage()
        .get(META_TABLE, HEADER_KEY)
        .await
        .unwrap()
        .unwrap();
    assert!(!contains(&header, b"passkeys"));
    enrol(&mut wallet, PASSKEY_ID, &[7; 32], &mut rng).await;
    let backup = wallet.backup(&mut rng).await.unwrap();
    let restored = Wallet::restore(memory(), &backup, PASSPHRASE)
        .await
        .unwrap();
    assert_eq!(restored.passkeys(), wallet.passkeys());
    let reopened = Wallet::open_with_passkey(restored.into_storage(), PASSKEY_ID, &[7; 32])
        .await
        .unwrap();
    assert_filled(&reopened).await;
}

/// Enrols a passkey with the test salt, under the wallet's passphrase, now.
async fn enrol(wallet: &mut Wallet<Shared>, id: &str, secret: &[u8], rng: &mut StdRng) {
    wallet
        .add_passkey(PASSPHRASE, id, PASSKEY_SALT, secret, rng, now())
        .await
        .unwrap();
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test]
async fn adding_a_passkey_asks_for_the_passphrase_again() {
    let mut wallet = filled(memory()).await;
    let before = dump(wallet.storage()).await;
    let error = wallet
        .add_passkey(
            "not the passphrase",
            PASSKEY_ID,
            PASSKEY_SALT,
            &[7; 32],
            &mut rng(),
            now(),
        )
        .await
        .err()
        .unwrap();
    assert!(matches!(error, WalletError::WrongPassphrase), "{error}");
    assert_eq!(dump(wallet.storage()).await, before);
    assert!(wallet.passkeys().is_empty());
}

#[tokio::test]
async fn a_header_changed_elsewhere_is_not_written_over() {
    let mut rng = rng();
    let storage = filled(memory()).await.into_storage();
    // Two tabs on one store: the first changes the passphrase, the second still holds the
    // header it read and would bring the old passphrase back.
    let mut first = Wallet::open(storage.clone(), PASSPHRASE).await.unwrap();
    let mut second = Wallet::open(storage.clone(), PASSPHRASE).await.unwrap();
    first
        .change_passphrase("a new passphrase", FAST, &mut rng)
        .await
        .unwrap();
    let before = dump(&storage).await;
    let stale = second
        .add_passkey(
            PASSPHRASE,
            PASSKEY_ID,
            PASSKEY_SALT,
            &[7; 32],
            &mut rng,
            now(),
        )
        .await
        .err()
        .unwrap();
    assert!(matches!(stale, WalletError::ChangedElsewhere), "{stale}");
    assert_eq!(stale.code(), "reload");
    let stale = second
        .change_passphrase("yet another", FAST, &mut rng)
        .await
        .err()
        .unwrap();
    assert!(matches!(stale, WalletError::ChangedElsewhere), "{stale}");
    assert!(matches!(
        second.split_recovery(2, 3, &mut rng).await.err(),
        Some(WalletError::ChangedElsewhere)
    ));
    assert_eq!(dump(&storage).await, before);
    // The first tab's change holds; the first tab itself may go on.
    assert!(Wallet::open(storage.clone(), PASSPHRASE).await.is_err());
    first
        .add_passkey(
            "a new passphrase",
            PASSKEY_ID,
            PASSKEY_SALT,
            &[7; 32],
            &mut rng,
            now(),
        )
        .await
        .unwrap();
    first.remove_passkey(PASSKEY_ID).await.unwrap();
}
