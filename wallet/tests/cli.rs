//! The `corroborate-wallet` command without a service: what a person types and gets back for the
//! store, backups, recovery and offline verification, including the message and exit code for
//! bad input, and that a failed command changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PASSPHRASE: &str = "correct horse battery staple";

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        Dir(tempfile::tempdir().unwrap())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

/// Runs the wallet command on `wallet` with `passphrase` in the environment.
fn run(wallet: &Path, passphrase: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corroborate-wallet"))
        .arg("--wallet")
        .arg(wallet)
        .args(args)
        .env("CORROBORATE_WALLET_PASSPHRASE", passphrase)
        .env("CORROBORATE_WALLET_NEW_PASSPHRASE", passphrase)
        .env_remove("CORROBORATE_WALLET")
        .env_remove("CORROBORATE_SERVICE")
        .output()
        .expect("run corroborate-wallet")
}

fn ok_json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// Asserts a failure whose message contains `expected`.
#[track_caller]
fn fails_with(output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "should have failed: {stderr}");
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

fn init(wallet: &Path) -> String {
    let created = ok_json(&run(
        wallet,
        PASSPHRASE,
        &["init", "--insecure-fast-kdf", "--json"],
    ));
    created["did"].as_str().unwrap().to_owned()
}

fn identities(wallet: &Path) -> Vec<String> {
    let list = ok_json(&run(wallet, PASSPHRASE, &["identity", "list", "--json"]));
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| i["did"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_wallet_keeps_its_identities_encrypted() {
    let dir = Dir::new();
    let wallet = dir.path("w.sqlite");
    let me = init(&wallet);
    assert!(me.starts_with("did:key:z6Mk"), "{me}");
    let child = ok_json(&run(
        &wallet,
        PASSPHRASE,
        &["identity", "new", "--label", "Léa", "--json"],
    ));
    assert_eq!(identities(&wallet).len(), 2);
    // The label and the private key are nowhere in the file in clear.
    let bytes = std::fs::read(&wallet).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("Léa"));
    assert!(!text.contains(child["did"].as_str().unwrap()));
    // A label is one identity's.
    fails_with(
        &run(&wallet, PASSPHRASE, &["identity", "new", "--label", "Léa"]),
        "is taken",
    );
    // With several identities, a command that acts needs to be told which.
    fails_with(&run(&wallet, PASSPHRASE, &["token"]), "several identities");
}

#[test]
fn a_wrong_passphrase_is_named_and_changes_nothing() {
    let dir = Dir::new();
    let wallet = dir.path("w.sqlite");
    init(&wallet);
    let before = std::fs::read(&wallet).unwrap();
    fails_with(
        &run(&wallet, "not the passphrase", &["identity", "list"]),
        "wrong passphrase",
    );
    fails_with(
        &run(
            &wallet,
            "not the passphrase",
            &["identity", "new", "--label", "x"],
        ),
        "wrong passphrase",
    );
    assert_eq!(std::fs::read(&wallet).unwrap(), before);
    assert_eq!(identities(&wallet).len(), 1);
}

#[test]
fn init_never_overwrites_and_a_missing_wallet_is_explained() {
    let dir = Dir::new();
    let wallet = dir.path("w.sqlite");
    let me = init(&wallet);
    fails_with(
        &run(&wallet, PASSPHRASE, &["init", "--insecure-fast-kdf"]),
        "exists already",
    );
    assert_eq!(identities(&wallet), vec![me]);
    fails_with(
        &run(&dir.path("none.sqlite"), PASSPHRASE, &["identity", "list"]),
        "there is no wallet at",
    );
}

#[test]
fn a_file_that_is_not_a_wallet_is_refused_untouched() {
    let dir = Dir::new();
    let other = dir.path("notes.sqlite");
    std::fs::write(&other, b"these are my notes, not a database").unwrap();
    fails_with(&run(&other, PASSPHRASE, &["identity", "list"]), "storage");
    assert_eq!(
        std::fs::read(&other).unwrap(),
        b"these are my notes, not a database"
    );
}

#[test]
fn a_damaged_record_is_reported_as_damage() {
    let dir = Dir::new();
    let wallet = dir.path("w.sqlite");
    init(&wallet);
    // Flip one byte inside the identity's sealed record, with SQLite itself.
    let connection = rusqlite::Connection::open(&wallet).unwrap();
    let (key, value): (String, Vec<u8>) = connection
        .query_row(
            "SELECT key, value FROM records WHERE tbl = 'identities'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    let mut damaged = value.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x01;
    connection
        .execute(
            "UPDATE records SET value = ?1 WHERE tbl = 'identities' AND key = ?2",
            rusqlite::params![damaged, key],
        )
        .unwrap();
    drop(connection);
    fails_with(&run(&wallet, PASSPHRASE, &["identity", "list"]), "corrupt");
    // And a backup of a damaged wallet is refused rather than written.
    let backup = dir.path("backup.cwb");
    fails_with(
        &run(&wallet, PASSPHRASE, &["backup", backup.to_str().unwrap()]),
        "identities",
    );
    assert!(!backup.exists());
}

#[test]
fn backup_and_restore_and_a_damaged_backup() {
    let dir = Dir::new();
    let wallet = dir.path("w.sqlite");
    let me = init(&wallet);
    let backup = dir.path("backup.cwb");
    ok_json(&run(
        &wallet,
        PASSPHRASE,
        &["backup", backup.to_str().unwrap(), "--json"],
    ));
    // A backup is never written over an existing file.
    fails_with(
        &run(&wallet, PASSPHRASE, &["backup", backup.to_str().unwrap()]),
        "must not exist",
    );

    let restored = dir.path("restored.sqlite");
    let summary = ok_json(&run(
        &restored,
        PASSPHRASE,
        &["restore", backup.to_str().unwrap(), "--json"],
    ));
    assert_eq!(summary["identities"], 1);
    assert_eq!(identities(&restored), vec![me.clone()]);

    // Restoring over a wallet is refused.
    fails_with(
        &run(
            &restored,
            PASSPHRASE,
            &["restore", backup.to_str().unwrap()],
        ),
        "exists already",
    );
    // A wrong passphrase, and a damaged copy: named, and no wallet file is left behind.
    let target = dir.path("again.sqlite");
    fails_with(
        &run(&target, "wrong", &["restore", backup.to_str().unwrap()]),
        "wrong passphrase",
    );
    assert!(!target.exists());
    let mut bytes = std::fs::read(&backup).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x20;
    let damaged = dir.path("damaged.cwb");
    std::fs::write(&damaged, &bytes).unwrap();
    fails_with(
        &run(&target, PASSPHRASE, &["restore", damaged.to_str().unwrap()]),
        "backup",
    );
    assert!(!target.exists());
    let truncated = dir.path("truncated.cwb");
    std::fs::write(&truncated, &std::fs::read(&backup).unwrap()[..100]).unwrap();
    fails_with(
        &run(
            &target,
            PASSPHRASE,
            &["restore", truncated.to_str().unwrap()],
        ),
        "backup",
    );
    assert!(!target.exists());
}

#[test]
fn social_recovery_with_any_three_of_five_shares() {
    let dir = Dir::new();
    let wallet = dir.path("w.sqlite");
    let me = init(&wallet);
    let split = ok_json(&run(
        &wallet,
        PASSPHRASE,
        &[
            "recovery",
            "split",
            "--threshold",
            "3",
            "--shares",
            "5",
            "--json",
        ],
    ));
    let shares: Vec<String> = split["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(shares.len(), 5);
    let backup = dir.path("backup.cwb");
    ok_json(&run(
        &wallet,
        PASSPHRASE,
        &["backup", backup.to_str().unwrap(), "--json"],
    ));

    let recover = |target: &Path, new_passphrase: &str, picked: &[&String]| {
        let mut args = vec![
            "recovery".to_owned(),
            "restore".to_owned(),
            "--insecure-fast-kdf".to_owned(),
            "--backup".to_owned(),
            backup.to_str().unwrap().to_owned(),
        ];
        for share in picked {
            args.push("--share".into());
            args.push((*share).clone());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(target, new_passphrase, &args)
    };

    // Two shares are not enough, and nothing is written.
    let target = dir.path("two.sqlite");
    fails_with(
        &recover(&target, "new passphrase", &[&shares[0], &shares[3]]),
        "3 different shares are needed, 2 given",
    );
    assert!(!target.exists());
    // A mistyped share is named as such.
    let mut typo = shares[1].clone();
    let last = typo.pop().unwrap();
    typo.push(if last == 'a' { 'b' } else { 'a' });
    fails_with(
        &recover(&target, "new passphrase", &[&shares[0], &typo, &shares[2]]),
        "share 2",
    );
    assert!(!target.exists());
    // Any three restore the wallet, which then opens with the new passphrase only.
    for (n, picked) in [[0, 1, 2], [4, 2, 0], [1, 3, 4]].iter().enumerate() {
        let target = dir.path(&format!("recovered-{n}.sqlite"));
        let chosen: Vec<&String> = picked.iter().map(|&i| &shares[i]).collect();
        let output = recover(&target, "a new passphrase", &chosen);
        assert!(
            output.status.success(),
            "{picked:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let list = ok_json(&run(
            &target,
            "a new passphrase",
            &["identity", "list", "--json"],
        ));
        assert_eq!(list[0]["did"], me.as_str());
        fails_with(
            &run(&target, PASSPHRASE, &["identity", "list"]),
            "wrong passphrase",
        );
    }
    // Forgotten passphrase, in place: the shares reset it.
    let mut args = vec!["recovery", "restore", "--insecure-fast-kdf"];
    for share in &shares[1..4] {
        args.push("--share");
        args.push(share);
    }
    let output = run(&wallet, "reset passphrase", &args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let list = ok_json(&run(
        &wallet,
        "reset passphrase",
        &["identity", "list", "--json"],
    ));
    assert_eq!(list[0]["did"], me.as_str());
}

#[test]
fn offline_verification_of_a_file() {
    let dir = Dir::new();
    let wallet = dir.path("w.sqlite");
    init(&wallet);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let signed = repo.join("schemas/examples/signed/residence-neighbour.json");
    // The example's issuer is a did:key: its proof checks offline. Its status list is not in
    // this wallet, so the verdict cannot be `valid`: the status was not checked.
    let output = run(
        &wallet,
        PASSPHRASE,
        &["verify", signed.to_str().unwrap(), "--json"],
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let check = |name: &str| {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == name)
            .unwrap()["result"]
            .clone()
    };
    assert_eq!(check("proof"), "passed", "{report:#}");
    assert_eq!(check("status"), "not_checked", "{report:#}");
    assert!(!output.status.success());

    // Tampered: the proof fails.
    let mut credential: Value =
        serde_json::from_str(&std::fs::read_to_string(&signed).unwrap()).unwrap();
    credential["credentialSubject"]["residence"]["since"] = "2001-01-01".into();
    let tampered = dir.path("tampered.json");
    std::fs::write(&tampered, credential.to_string()).unwrap();
    let output = run(
        &wallet,
        PASSPHRASE,
        &["verify", tampered.to_str().unwrap(), "--json"],
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["verdict"], "invalid", "{report:#}");
    fails_with(&output, "does not verify");

    // Not a credential at all.
    let junk = dir.path("junk.json");
    std::fs::write(&junk, "{\"type\": 3}").unwrap();
    let output = run(&wallet, PASSPHRASE, &["verify", junk.to_str().unwrap()]);
    fails_with(&output, "does not verify");
}
