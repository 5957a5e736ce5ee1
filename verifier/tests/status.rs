//! Revocation and suspension through W3C Bitstring Status Lists, end to end: signed credentials
//! with `credentialStatus` entries, signed status list credentials served by an injected source,
//! and the verdict `verify_credential` reaches. Also the shipped example list
//! (`schemas/examples/signed/status-lists/`). Entry parsing and the bitstring codec are unit-tested in
//! `src/status.rs`.
//!
//! The world: the verification time is 2025-06-01; issuers are did:key keys from fixed seeds; the
//! lists were fetched on 2025-05-31.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Utc};
use corroborate_verifier::credential::parse_date_time;
use corroborate_verifier::did::{LocalResolver, did_key_from_public_key};
use corroborate_verifier::failure::Failure;
use corroborate_verifier::key::SecretKey;
use corroborate_verifier::presentation::{self, Binding};
use corroborate_verifier::proof::{self, Cryptosuite, ProofOptions};
use corroborate_verifier::status::{
    self, BitstringBuilder, MIN_LIST_BITS, StaticStatusLists, StatusError, StatusListSource,
    StatusPurpose,
};
use corroborate_verifier::verification::{
    Check, CheckOutcome, CheckResult, CredentialReport, Verdict, VerifyOptions, verify_credential,
};
use serde_json::{Value, json};
use std::cell::Cell;
use std::path::{Path, PathBuf};

const NOW: &str = "2025-06-01T00:00:00Z";
const FETCHED: &str = "2025-05-31T08:00:00Z";
const LIST: &str = "https://status.example/lists/1";
const SUBJECT: &str = "did:example:alice";

fn at(text: &str) -> DateTime<Utc> {
    parse_date_time(text).unwrap()
}

struct Issuer {
    key: SecretKey,
    did: String,
}

impl Issuer {
    fn new(seed: u8) -> Self {
        Self::from_key(SecretKey::from_bytes(&[seed; 32]))
    }

    fn from_key(key: SecretKey) -> Self {
        let did = did_key_from_public_key(&key.public_key());
        Issuer { key, did }
    }

    fn method(&self) -> String {
        format!("{}#{}", self.did, self.key.public_key().to_multibase())
    }

    fn sign_with(&self, document: &Value, suite: Cryptosuite) -> Value {
        let options = ProofOptions::assertion(suite, self.method(), at("2025-01-10T00:00:00Z"));
        pollster::block_on(proof::add_proof(document, &self.key, &options)).unwrap()
    }

    fn sign(&self, document: &Value) -> Value {
        self.sign_with(document, Cryptosuite::EddsaJcs2022)
    }

    /// A signed credential about `SUBJECT` with `status` as its `credentialStatus`.
    fn credential(&self, status: Value) -> Value {
        self.sign(&json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": "urn:uuid:5a1f1d2e-0000-4000-8000-000000000001",
            "type": ["VerifiableCredential"],
            "issuer": self.did,
            "validFrom": "2025-01-10T00:00:00Z",
            "credentialSubject": {"id": SUBJECT, "name": "Alice"},
            "credentialStatus": status,
        }))
    }

    /// An unsigned list at `url` for `purpose` with the bits `set`.
    fn unsigned_list(&self, url: &str, purpose: StatusPurpose, set: &[u64]) -> Value {
        let mut bits = BitstringBuilder::minimum();
        for &index in set {
            bits.set(index).unwrap();
        }
        status::status_list_credential(&self.did, url, purpose, &bits, at("2024-01-01T00:00:00Z"))
    }

    fn list(&self, purpose: StatusPurpose, set: &[u64]) -> Value {
        self.sign(&self.unsigned_list(LIST, purpose, set))
    }
}

fn entry(purpose: &str, index: &str) -> Value {
    json!({
        "id": format!("{LIST}#{index}"),
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": index,
        "statusListCredential": LIST,
    })
}

fn lists(items: impl IntoIterator<Item = Value>) -> StaticStatusLists {
    let mut lists = StaticStatusLists::new();
    for item in items {
        lists.insert_credential(item, at(FETCHED)).unwrap();
    }
    lists
}

fn verify(credential: Value, source: impl StatusListSource) -> CredentialReport {
    let options = VerifyOptions::at(at(NOW)).with_status(source);
    pollster::block_on(verify_credential(credential, &options, &LocalResolver))
}

fn status_check(report: &CredentialReport) -> &CheckResult {
    report
        .checks
        .iter()
        .find(|c| c.check == Check::Status)
        .unwrap()
}

/// The status outcome must be `expected`, and the report's verdict follow from it; when the check
/// could not run, its reason must contain `text`.
fn check(report: &CredentialReport, expected: Verdict, text: &str) {
    let status = status_check(report);
    let ok = match (&status.outcome, expected) {
        (CheckOutcome::Passed, Verdict::Valid) => true,
        (CheckOutcome::Failed { failure }, Verdict::Invalid) => failure.to_string().contains(text),
        (CheckOutcome::NotChecked { reason }, Verdict::Indeterminate) => {
            reason.to_string().contains(text)
        }
        _ => false,
    };
    assert!(
        ok && report.verdict == expected,
        "expected {expected:?} ({text:?}), got {:?}: {:#?}",
        report.verdict,
        report.checks
    );
}

fn revoked(purpose: &str) -> Failure {
    Failure::Revoked {
        purpose: purpose.to_owned(),
    }
}

#[test]
fn a_clear_bit_is_valid_as_of_the_fetch_time() {
    let utility = Issuer::new(1);
    let credential = utility.credential(entry("revocation", "42"));
    let report = verify(
        credential,
        lists([utility.list(StatusPurpose::Revocation, &[3, 41, 43, 500])]),
    );
    check(&report, Verdict::Valid, "");
    assert_eq!(status_check(&report).as_of, Some(at(FETCHED)));
    // The JSON form says "as of" too.
    let json = serde_json::to_value(status_check(&report)).unwrap();
    assert_eq!(json["as_of"], "2025-05-31T08:00:00Z");
}

#[test]
fn a_set_bit_revokes() {
    let utility = Issuer::new(1);
    let credential = utility.credential(entry("revocation", "500"));
    let report = verify(
        credential,
        lists([utility.list(StatusPurpose::Revocation, &[3, 500])]),
    );
    check(&report, Verdict::Invalid, "revoked");
    assert_eq!(
        status_check(&report).outcome,
        CheckOutcome::Failed {
            failure: revoked("revocation")
        }
    );
    assert_eq!(status_check(&report).as_of, Some(at(FETCHED)));
    assert_eq!(report.failures(), [revoked("revocation")]);
}

#[test]
fn a_set_suspension_bit_suspends_until_cleared() {
    let bank = Issuer::new(2);
    let credential = bank.credential(entry("suspension", "7"));
    let suspended = verify(
        credential.clone(),
        lists([bank.list(StatusPurpose::Suspension, &[7])]),
    );
    assert_eq!(
        status_check(&suspended).outcome,
        CheckOutcome::Failed {
            failure: revoked("suspension")
        }
    );
    assert_eq!(suspended.verdict, Verdict::Invalid);
    let lifted = verify(
        credential,
        lists([bank.list(StatusPurpose::Suspension, &[])]),
    );
    check(&lifted, Verdict::Valid, "");
}

#[test]
fn an_unknown_list_is_indeterminate() {
    let utility = Issuer::new(1);
    let credential = utility.credential(entry("revocation", "42"));
    check(
        &verify(credential.clone(), StaticStatusLists::new()),
        Verdict::Indeterminate,
        "not available",
    );
    check(
        &verify(credential.clone(), status::NoStatusLists),
        Verdict::Indeterminate,
        "not available",
    );
    // The default options have no lists: fail closed.
    let report = pollster::block_on(verify_credential(
        credential,
        &VerifyOptions::at(at(NOW)),
        &LocalResolver,
    ));
    check(&report, Verdict::Indeterminate, LIST);
    assert_eq!(status_check(&report).as_of, None);
}

#[test]
fn a_list_of_another_issuer_is_not_accepted() {
    let utility = Issuer::new(1);
    let mallory = Issuer::new(9);
    let credential = utility.credential(entry("revocation", "42"));
    // Mallory's own, well-signed list at the URL the entry names.
    let report = verify(
        credential.clone(),
        lists([mallory.list(StatusPurpose::Revocation, &[])]),
    );
    check(
        &report,
        Verdict::Indeterminate,
        &format!("not by the credential's issuer {}", utility.did),
    );
    // A list that names the utility as its issuer but is signed by Mallory.
    let forged = mallory.sign(&utility.unsigned_list(LIST, StatusPurpose::Revocation, &[]));
    check(
        &verify(credential.clone(), lists([forged])),
        Verdict::Indeterminate,
        "is not controlled by",
    );
    // A list the utility signed, then edited to clear a bit.
    let mut edited = utility.list(StatusPurpose::Revocation, &[42]);
    edited["credentialSubject"]["encodedList"] = Value::from(BitstringBuilder::minimum().encode());
    check(
        &verify(credential.clone(), lists([edited])),
        Verdict::Indeterminate,
        "signature does not verify",
    );
    // An unsigned list.
    let unsigned = utility.unsigned_list(LIST, StatusPurpose::Revocation, &[]);
    check(
        &verify(credential, lists([unsigned])),
        Verdict::Indeterminate,
        "no proof",
    );
}

#[test]
fn a_list_must_be_the_one_named_and_for_the_purpose() {
    let utility = Issuer::new(1);
    let credential = utility.credential(entry("revocation", "42"));
    // Another list of the same issuer, served at this URL (a stale or substituted copy).
    let other = utility.sign(&utility.unsigned_list(
        "https://status.example/lists/2",
        StatusPurpose::Revocation,
        &[],
    ));
    let mut source = StaticStatusLists::new();
    source.insert(LIST, other, at(FETCHED));
    check(
        &verify(credential.clone(), source),
        Verdict::Indeterminate,
        "not the URL the status entry names",
    );
    // A suspension list for a revocation entry.
    let report = verify(
        credential.clone(),
        lists([utility.list(StatusPurpose::Suspension, &[])]),
    );
    check(&report, Verdict::Indeterminate, "not revocation");
    // A list for both purposes serves both.
    let mut both = utility.unsigned_list(LIST, StatusPurpose::Revocation, &[]);
    both["credentialSubject"]["statusPurpose"] = json!(["revocation", "suspension"]);
    check(
        &verify(credential.clone(), lists([utility.sign(&both)])),
        Verdict::Valid,
        "",
    );
    // Not a status list credential at all.
    let mut plain = utility.unsigned_list(LIST, StatusPurpose::Revocation, &[]);
    plain["type"] = json!(["VerifiableCredential"]);
    check(
        &verify(credential, lists([utility.sign(&plain)])),
        Verdict::Indeterminate,
        "BitstringStatusListCredential",
    );
}

#[test]
fn an_expired_or_future_list_is_not_used() {
    let utility = Issuer::new(1);
    let credential = utility.credential(entry("revocation", "42"));
    let mut expired = utility.unsigned_list(LIST, StatusPurpose::Revocation, &[]);
    expired["validUntil"] = Value::from("2025-05-01T00:00:00Z");
    check(
        &verify(credential.clone(), lists([utility.sign(&expired)])),
        Verdict::Indeterminate,
        "expired at 2025-05-01",
    );
    let mut future = utility.unsigned_list(LIST, StatusPurpose::Revocation, &[]);
    future["validFrom"] = Value::from("2025-07-01T00:00:00Z");
    check(
        &verify(credential, lists([utility.sign(&future)])),
        Verdict::Indeterminate,
        "not valid before",
    );
}

#[test]
fn a_list_with_its_own_status_is_not_followed() {
    let utility = Issuer::new(1);
    let credential = utility.credential(entry("revocation", "42"));
    let mut list = utility.unsigned_list(LIST, StatusPurpose::Revocation, &[]);
    list["credentialStatus"] = entry("revocation", "1");
    check(
        &verify(credential, lists([utility.sign(&list)])),
        Verdict::Indeterminate,
        "of its own",
    );
}

/// A list whose `encodedList` is replaced by `encoded`, signed by `issuer`.
fn list_encoding(issuer: &Issuer, encoded: String) -> Value {
    let mut list = issuer.unsigned_list(LIST, StatusPurpose::Revocation, &[]);
    list["credentialSubject"]["encodedList"] = Value::from(encoded);
    issuer.sign(&list)
}

#[test]
fn bad_bitstrings_are_refused_even_when_signed() {
    let utility = Issuer::new(1);
    let credential = utility.credential(entry("revocation", "42"));
    let cases = [
        // Too short for herd privacy (1 KiB), with the index inside it.
        (status::encode_list(&[0u8; 1024]), "fewer than the 131072"),
        ("uH4sInotgzipx".to_owned(), "not a GZIP stream"),
        (
            "H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA".to_owned(),
            "multibase",
        ),
        // A GZIP bomb: 64 MiB of zeros in about 64 KiB.
        (
            status::encode_list(&vec![0u8; 64 * 1024 * 1024]),
            "decompresses to more than",
        ),
    ];
    for (encoded, text) in cases {
        check(
            &verify(
                credential.clone(),
                lists([list_encoding(&utility, encoded)]),
            ),
            Verdict::Indeterminate,
            text,
        );
    }
    // An index past the end of a valid list.
    let beyond = utility.credential(entry("revocation", &MIN_LIST_BITS.to_string()));
    check(
        &verify(
            beyond,
            lists([utility.list(StatusPurpose::Revocation, &[])]),
        ),
        Verdict::Indeterminate,
        "outside its bitstring",
    );
}

#[test]
fn malformed_and_unsupported_entries() {
    let utility = Issuer::new(1);
    let source = || lists([utility.list(StatusPurpose::Revocation, &[])]);
    // The index must be a string: a number is malformed, so the credential is invalid.
    let mut number = entry("revocation", "42");
    number["statusListIndex"] = json!(42);
    check(
        &verify(utility.credential(number), source()),
        Verdict::Invalid,
        "the JSON number 42",
    );
    // Purposes that say nothing about validity are not checked.
    check(
        &verify(utility.credential(entry("message", "42")), source()),
        Verdict::Indeterminate,
        "\"message\" is not supported",
    );
    let mut wide = entry("revocation", "42");
    wide["statusSize"] = json!(2);
    check(
        &verify(utility.credential(wide), source()),
        Verdict::Indeterminate,
        "`statusSize` 2",
    );
    let other = json!({"type": "StatusList2021Entry", "statusListIndex": "1", "statusListCredential": LIST});
    check(
        &verify(utility.credential(other), source()),
        Verdict::Indeterminate,
        "only BitstringStatusListEntry",
    );
    let many: Vec<Value> = (0..9)
        .map(|i| entry("revocation", &i.to_string()))
        .collect();
    check(
        &verify(utility.credential(Value::Array(many)), source()),
        Verdict::Invalid,
        "more than the limit of 8",
    );
}

#[test]
fn every_entry_must_pass() {
    let utility = Issuer::new(1);
    let revocations = utility.list(StatusPurpose::Revocation, &[1]);
    let suspension_url = "https://status.example/lists/s";
    let suspensions =
        utility.sign(&utility.unsigned_list(suspension_url, StatusPurpose::Suspension, &[2]));
    let mut source = lists([revocations]);
    source.insert(suspension_url, suspensions, at("2025-05-30T00:00:00Z"));
    let suspension = |index: &str| {
        let mut entry = entry("suspension", index);
        entry["statusListCredential"] = Value::from(suspension_url);
        entry["id"] = Value::from(format!("{suspension_url}#{index}"));
        entry
    };
    let both_clear = utility.credential(json!([entry("revocation", "2"), suspension("1")]));
    let report = verify(both_clear, &source);
    check(&report, Verdict::Valid, "");
    // "As of" the older of the two lists.
    assert_eq!(
        status_check(&report).as_of,
        Some(at("2025-05-30T00:00:00Z"))
    );
    let suspended = utility.credential(json!([entry("revocation", "2"), suspension("2")]));
    assert_eq!(
        status_check(&verify(suspended, &source)).outcome,
        CheckOutcome::Failed {
            failure: revoked("suspension")
        }
    );
    // One entry that cannot be checked makes the whole status unchecked.
    let half = utility.credential(json!([entry("revocation", "2"), entry("refresh", "3")]));
    check(
        &verify(half, &source),
        Verdict::Indeterminate,
        "\"refresh\"",
    );
    // ...unless another entry shows a set bit.
    let revoked_too = utility.credential(json!([entry("refresh", "3"), entry("revocation", "1")]));
    check(
        &verify(revoked_too, &source),
        Verdict::Invalid,
        "revocation",
    );
}

/// Counts the lists asked for, and does not say when it fetched them.
struct Counting<'a> {
    lists: &'a StaticStatusLists,
    asked: Cell<usize>,
}

impl StatusListSource for Counting<'_> {
    async fn status_list(&self, url: &str) -> Result<Value, StatusError> {
        self.asked.set(self.asked.get() + 1);
        self.lists.status_list(url).await
    }
}

#[test]
fn sources_are_asked_only_for_authentic_credentials() {
    let utility = Issuer::new(1);
    let source = lists([utility.list(StatusPurpose::Revocation, &[])]);
    let counting = Counting {
        lists: &source,
        asked: Cell::new(0),
    };
    let credential = utility.credential(entry("revocation", "42"));
    let report = verify(credential.clone(), &counting);
    check(&report, Verdict::Valid, "");
    assert_eq!(counting.asked.get(), 1);
    // A source that does not say when it fetched: no "as of".
    assert_eq!(status_check(&report).as_of, None);
    let mut forged = credential;
    forged["credentialSubject"]["name"] = Value::from("Mallory");
    let report = verify(forged, &counting);
    assert_eq!(report.verdict, Verdict::Invalid);
    check_not_checked_without_asking(&report);
    assert_eq!(
        counting.asked.get(),
        1,
        "a forged credential's lists are not fetched"
    );
}

fn check_not_checked_without_asking(report: &CredentialReport) {
    assert!(
        matches!(&status_check(report).outcome, CheckOutcome::NotChecked { reason } if reason.to_string().contains("whose proof verifies")),
        "{:#?}",
        report.checks
    );
}

#[test]
fn lists_signed_with_rdfc_verify_too() {
    // The VC 2.0 context defines every status list term: JSON-LD safe mode accepts the list.
    let utility = Issuer::new(1);
    let list = utility.sign_with(
        &utility.unsigned_list(LIST, StatusPurpose::Revocation, &[42]),
        Cryptosuite::EddsaRdfc2022,
    );
    let report = verify(utility.credential(entry("revocation", "42")), lists([list]));
    assert_eq!(
        status_check(&report).outcome,
        CheckOutcome::Failed {
            failure: revoked("revocation")
        }
    );
}

#[test]
fn presentations_check_status_too() {
    let holder = Issuer::new(5);
    let utility = Issuer::new(1);
    let mut unsigned = utility.credential(entry("revocation", "42"));
    unsigned.as_object_mut().unwrap().remove("proof");
    unsigned["credentialSubject"]["id"] = Value::from(holder.did.clone());
    let credential = utility.sign(&unsigned);
    let binding = Binding::for_decision("c-1", "https://verifier.example");
    let presented = pollster::block_on(presentation::sign_presentation(
        &holder.did,
        vec![credential],
        &holder.key,
        &holder.method(),
        Cryptosuite::EddsaJcs2022,
        &binding,
        at("2025-05-31T12:00:00Z"),
    ))
    .unwrap();
    let source = lists([utility.list(StatusPurpose::Revocation, &[42])]);
    let options = VerifyOptions::at(at(NOW)).with_status(&source);
    let report = pollster::block_on(presentation::verify_presentation(
        presented,
        &binding,
        &options,
        &LocalResolver,
    ));
    assert!(report.is_valid(), "{report:#?}");
    assert_eq!(report.credentials[0].failures(), [revoked("revocation")]);
}

// ---------------------------------------------------------------------------------------------
// The shipped example
// ---------------------------------------------------------------------------------------------

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn load(path: &str) -> Value {
    let text = std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The bits set in the example list; the utility's residence attestation holds index 48213.
const EXAMPLE_SET: [u64; 2] = [1742, 90_017];

#[test]
fn the_example_list_checks_the_example_credential() {
    let mut seed = [0u8; 32];
    seed[31] = 1;
    let utility = Issuer::from_key(SecretKey::from_bytes(&seed));
    // The examples may be stored signed or not: compare their unsigned content, sign if needed.
    let (credential, credential_proof) =
        without_proof(load("schemas/examples/residence-utility.json"));
    let (list, list_proof) = without_proof(load(
        "schemas/examples/signed/status-lists/utility-2025-01.json",
    ));
    assert_eq!(
        credential["issuer"],
        utility.did.as_str(),
        "the example's issuer is the seed-1 key"
    );
    let entry = &credential["credentialStatus"];
    assert_eq!(entry["statusListIndex"], "48213");
    let url = entry["statusListCredential"].as_str().unwrap();
    // The example is exactly what the issuer-side helper makes.
    let expected = utility.unsigned_list(url, StatusPurpose::Revocation, &EXAMPLE_SET);
    assert_eq!(list, expected);
    let bits =
        status::decode_list(list["credentialSubject"]["encodedList"].as_str().unwrap()).unwrap();
    assert_eq!(bits.get(48_213), Some(false));
    assert_eq!(bits.count_set(), EXAMPLE_SET.len() as u64);

    // Signed, it verifies with the schema required, as of the fetch time.
    let signed = |document: &Value, proof: Option<Value>| match proof {
        Some(proof) => {
            let mut document = document.clone();
            document["proof"] = proof;
            document
        }
        None => utility.sign_with(document, Cryptosuite::EddsaRdfc2022),
    };
    let credential = signed(&credential, credential_proof);
    let options = VerifyOptions {
        require_schema: true,
        ..VerifyOptions::at(at(NOW))
    }
    .with_status(lists([signed(&list, list_proof)]));
    let report = pollster::block_on(verify_credential(
        credential.clone(),
        &options,
        &LocalResolver,
    ));
    assert_eq!(report.verdict, Verdict::Valid, "{:#?}", report.checks);
    assert_eq!(status_check(&report).as_of, Some(at(FETCHED)));

    // Revoking index 48213 in a re-signed list revokes the example.
    let mut builder = BitstringBuilder::from_bitstring(bits).unwrap();
    builder.set(48_213).unwrap();
    let mut revoked_list = list;
    revoked_list["credentialSubject"]["encodedList"] = Value::from(builder.encode());
    let options = options.with_status(lists([utility.sign(&revoked_list)]));
    let report = pollster::block_on(verify_credential(credential, &options, &LocalResolver));
    assert_eq!(report.failures(), [revoked("revocation")]);
}

fn without_proof(mut document: Value) -> (Value, Option<Value>) {
    let proof = document.as_object_mut().unwrap().remove("proof");
    (document, proof)
}
