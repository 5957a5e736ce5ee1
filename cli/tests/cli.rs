//! End-to-end tests of the `corroborate` binary on the shipped example data: what a user types,
//! what they get back, including the exit code and the message for bad input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn corroborate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corroborate"))
        .current_dir(repo())
        .args(args)
        .output()
        .expect("run corroborate")
}

fn stdout_json(output: &Output) -> Value {
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

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const AT: &str = "2025-03-01T00:00:00Z";
const LISTS: &str = "schemas/examples/signed/status-lists";
const POLICY: &str = "schemas/policies/residence-municipality.json";
const REGISTRY: &str = "schemas/registries/demo.json";

fn signed(name: &str) -> String {
    format!("schemas/examples/signed/{name}.json")
}

fn decide(extra: &[&str]) -> Value {
    let mut args = vec![
        "decide",
        "--json",
        "--policy",
        POLICY,
        "--registry",
        REGISTRY,
        "--at",
        AT,
        "--status-list",
        LISTS,
    ];
    args.extend_from_slice(extra);
    stdout_json(&corroborate(&args))
}

/// A scratch folder of this test's own, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("corroborate-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_owned()
    }

    fn write(&self, name: &str, contents: &[u8]) -> String {
        let path = self.path(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn every_signed_example_verifies() {
    let mut names: Vec<String> = std::fs::read_dir(repo().join("schemas/examples/signed"))
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            (path.extension()? == "json")
                .then(|| path.file_stem().unwrap().to_str().unwrap().to_owned())
        })
        .collect();
    names.sort();
    assert!(names.len() >= 7, "{names:?}");
    for name in names {
        let report = stdout_json(&corroborate(&[
            "verify",
            "--json",
            "--at",
            AT,
            "--status-list",
            LISTS,
            &signed(&name),
        ]));
        assert_eq!(report["verdict"], "valid", "{name}: {report:#}");
        let checks: Vec<&str> = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["result"].as_str().unwrap())
            .collect();
        assert_eq!(checks, ["passed"; 5], "{name}: every check ran and passed");
    }
}

#[test]
fn without_its_status_list_a_credential_is_indeterminate() {
    let report = stdout_json(&corroborate(&[
        "verify",
        "--json",
        "--at",
        AT,
        &signed("residence-bank"),
    ]));
    assert_eq!(report["verdict"], "indeterminate");
}

#[test]
fn demo_decisions() {
    let established = decide(&[
        &signed("residence-utility"),
        &signed("residence-bank"),
        &signed("residence-neighbour"),
    ]);
    assert_eq!(established["outcome"], "established", "{established:#}");
    assert_eq!(established["totals"]["weight"], "3.500");
    assert!(
        established["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["counted"] == true)
    );

    let disputed = decide(&[
        &signed("residence-bank"),
        &signed("residence-neighbour"),
        &signed("residence-carrier"),
    ]);
    assert_eq!(disputed["outcome"], "disputed", "{disputed:#}");

    // The same inputs in another order decide the same.
    let reordered = decide(&[
        &signed("residence-neighbour"),
        &signed("residence-bank"),
        &signed("residence-utility"),
    ]);
    assert_eq!(reordered["outcome"], "established");
    assert_eq!(reordered["totals"], established["totals"]);

    let birth = stdout_json(&corroborate(&[
        "decide",
        "--json",
        "--policy",
        "schemas/policies/birth-registration.json",
        "--registry",
        REGISTRY,
        "--at",
        "2024-09-01T00:00:00Z",
        "--status-list",
        LISTS,
        &signed("birth-physician"),
        &signed("birth-mother"),
    ]));
    assert_eq!(birth["outcome"], "established", "{birth:#}");
}

#[test]
fn text_explanation_says_why() {
    let output = corroborate(&[
        "decide",
        "--policy",
        POLICY,
        "--registry",
        REGISTRY,
        "--at",
        AT,
        "--status-list",
        LISTS,
        &signed("residence-bank"),
        &signed("residence-bank"),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("INSUFFICIENT"), "{text}");
    assert!(
        text.contains("the same credential as input #0"),
        "a duplicate says so: {text}"
    );
}

#[test]
fn tampering_is_caught_and_named() {
    let scratch = Scratch::new("tamper");
    let mut credential: Value =
        serde_json::from_slice(&std::fs::read(repo().join(signed("residence-bank"))).unwrap())
            .unwrap();
    credential["credentialSubject"]["residence"]["since"] = Value::from("2001-01-01");
    let path = scratch.write("tampered.json", &serde_json::to_vec(&credential).unwrap());
    let report = stdout_json(&corroborate(&[
        "verify",
        "--json",
        "--at",
        AT,
        "--status-list",
        LISTS,
        &path,
    ]));
    assert_eq!(report["verdict"], "invalid");
    let proof = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "proof")
        .unwrap();
    assert_eq!(proof["failure"]["code"], "bad_signature", "{report:#}");

    // Exit status 3 on request, for scripts.
    let output = corroborate(&[
        "verify",
        "--fail-on-invalid",
        "--at",
        AT,
        "--status-list",
        LISTS,
        &path,
    ]);
    assert_eq!(output.status.code(), Some(3));
}

#[test]
fn sign_then_verify_with_each_suite() {
    let scratch = Scratch::new("sign");
    let key = scratch.path("utility.key.json");
    let output = corroborate(&["key", "generate", "--out", &key]);
    assert!(output.status.success(), "{}", stderr(&output));
    let did = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(did.starts_with("did:key:z6Mk"), "{did}");
    // An existing key file is never overwritten.
    let again = corroborate(&["key", "generate", "--out", &key]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("never overwritten"),
        "{}",
        stderr(&again)
    );

    let claims = serde_json::json!({
        "type": "ResidenceAttestation",
        "credentialSubject": {
            "id": "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
            "attesterRelation": { "role": "utility-supplier", "since": "2021-09-01" },
            "residence": { "since": "2021-09-01", "address": {
                "street": "Brouwerijstraat", "houseNumber": "27", "postalCode": "1050",
                "municipality": "Elsene", "country": "BE" } }
        }
    });
    let claims = scratch.write("claims.json", &serde_json::to_vec(&claims).unwrap());
    for suite in ["eddsa-jcs-2022", "eddsa-rdfc-2022"] {
        let output = corroborate(&["sign", "--key", &key, "--suite", suite, &claims]);
        let credential = stdout_json(&output);
        assert_eq!(credential["issuer"], did.as_str());
        assert_eq!(credential["proof"]["cryptosuite"], suite);
        let path = scratch.write(&format!("{suite}.json"), &output.stdout);
        let report = stdout_json(&corroborate(&["verify", "--json", &path]));
        assert_eq!(report["verdict"], "valid", "{suite}: {report:#}");
    }

    // A claim that breaks the schema is refused before signing.
    let bad = scratch.write("bad.json", br#"{"type":"ResidenceAttestation","credentialSubject":{"id":"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"}}"#);
    let output = corroborate(&["sign", "--key", &key, &bad]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("schema"), "{}", stderr(&output));
}

#[test]
fn presentation_bound_to_challenge_and_domain() {
    let scratch = Scratch::new("present");
    let citizen = "schemas/examples/test-keys/citizen.json";
    let creds = [
        signed("residence-utility"),
        signed("residence-bank"),
        signed("residence-neighbour"),
    ];
    let mut args = vec![
        "present",
        "--key",
        citizen,
        "--challenge",
        "c-123",
        "--domain",
        "https://verifier.example",
        "--suite",
        "eddsa-jcs-2022",
        "--created",
        "2025-02-28T12:00:00Z",
    ];
    args.extend(creds.iter().map(String::as_str));
    let output = corroborate(&args);
    let vp = scratch.write("vp.json", &output.stdout);
    assert!(output.status.success(), "{}", stderr(&output));

    let verify = |challenge: &str, domain: &str| {
        stdout_json(&corroborate(&[
            "verify-presentation",
            "--json",
            "--at",
            AT,
            "--status-list",
            LISTS,
            "--challenge",
            challenge,
            "--domain",
            domain,
            &vp,
        ]))
    };
    let good = verify("c-123", "https://verifier.example");
    assert_eq!(good["failures"], serde_json::json!([]), "{good:#}");
    assert!(
        good["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["verdict"] == "valid")
    );
    let replayed = verify("c-other", "https://verifier.example");
    assert_eq!(replayed["failures"][0]["code"], "challenge_mismatch");
    let retargeted = verify("c-123", "https://elsewhere.example");
    assert_eq!(retargeted["failures"][0]["code"], "domain_mismatch");

    let decision = decide(&[
        "--presentation",
        &vp,
        "--challenge",
        "c-123",
        "--domain",
        "https://verifier.example",
    ]);
    assert_eq!(decision["outcome"], "established", "{decision:#}");
    let replay = decide(&[
        "--presentation",
        &vp,
        "--challenge",
        "c-999",
        "--domain",
        "https://verifier.example",
    ]);
    assert_eq!(replay["outcome"], "rejected", "{replay:#}");

    // Someone else's credential cannot be presented.
    let output = corroborate(&[
        "present",
        "--key",
        "schemas/examples/test-keys/bank.json",
        "--challenge",
        "c",
        "--domain",
        "d",
        &creds[0],
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("not about the holder"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn bad_input_gets_a_specific_message_not_a_panic() {
    let scratch = Scratch::new("bad");
    let cases: Vec<(String, &str)> = vec![
        (scratch.write("syntax.json", b"{\"a\":\n tru}"), "line 2"),
        (
            scratch.write("dup.json", br#"{"a":1,"a":2}"#),
            "duplicate key \"a\"",
        ),
        (
            scratch.write("deep.json", "[".repeat(5000).as_bytes()),
            "nests deeper",
        ),
    ];
    for (path, expected) in cases {
        // Verifying it: an invalid report that says what is wrong.
        let report = stdout_json(&corroborate(&["verify", "--json", &path]));
        assert_eq!(report["verdict"], "invalid", "{path}");
        let detail = report["checks"][0]["failure"]["detail"].as_str().unwrap();
        assert!(
            detail.contains(expected),
            "expected {expected:?} in {detail}"
        );
        // In a bundle: that input does not count, and the explanation says why.
        let output = corroborate(&[
            "decide",
            "--policy",
            POLICY,
            "--registry",
            REGISTRY,
            "--at",
            AT,
            "--status-list",
            LISTS,
            &path,
            &signed("residence-bank"),
        ]);
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(text.contains(expected), "expected {expected:?} in {text}");
        assert!(
            text.contains("counted with weight 1"),
            "the good input still counts: {text}"
        );
    }
    // A file that cannot be read is an error of the command, exit 1, with the path.
    let missing = scratch.path("missing.json");
    for command in [
        vec!["verify", missing.as_str()],
        vec![
            "decide",
            "--policy",
            POLICY,
            "--registry",
            REGISTRY,
            missing.as_str(),
        ],
    ] {
        let output = corroborate(&command);
        assert_eq!(output.status.code(), Some(1), "{command:?}");
        assert!(
            stderr(&output).contains("missing.json"),
            "{}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains("panicked"));
    }
    // Not a credential at all: a report, not a crash.
    let path = scratch.write("array.json", b"[1,2,3]");
    let report = stdout_json(&corroborate(&["verify", "--json", &path]));
    assert_eq!(report["verdict"], "invalid");
    assert_eq!(report["checks"][0]["failure"]["code"], "malformed");
    // A policy file that is not a policy names what is wrong.
    let policy = scratch.write(
        "policy.json",
        br#"{"id":"x","version":"1","fact_type":"ResidenceAttestation","colour":"red"}"#,
    );
    let output = corroborate(&[
        "decide",
        "--policy",
        &policy,
        "--registry",
        REGISTRY,
        &signed("residence-bank"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("colour"), "{}", stderr(&output));
}

// Anchoring receipts. The fixtures were made by the backend's test
// `anchoring::a_checkpoint_is_final_only_with_a_quorum_of_witnesses`: a status credential's
// receipt from the transparency log, cosigned by 3 witnesses, and the service's trust file.

const RECEIPTS: &str = "cli/tests/fixtures/anchoring";

fn receipt_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "receipt",
        "verify",
        "cli/tests/fixtures/anchoring/receipt.json",
        "--trust",
        "cli/tests/fixtures/anchoring/trust.json",
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn a_receipt_verifies_offline_with_its_record() {
    let output = corroborate(&receipt_args(&[
        "--record",
        "cli/tests/fixtures/anchoring/status-credential.json",
        "--json",
    ]));
    let report = stdout_json(&output);
    assert_eq!(report["report"]["record"], "matched");
    let ledger = &report["report"]["anchors"][0]["ledger"];
    assert_eq!(ledger["result"], "log_verified");
    assert_eq!(ledger["cosigners"].as_array().unwrap().len(), 3);

    let text = corroborate(&receipt_args(&[]));
    assert!(text.status.success(), "{}", stderr(&text));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("VERIFIED"), "{text}");
    assert!(text.contains("not checked (pass --record FILE"), "{text}");
}

#[test]
fn a_receipt_for_another_record_or_without_enough_witnesses_fails() {
    let dir = std::env::temp_dir().join(format!("corroborate-receipt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut credential: Value = serde_json::from_slice(
        &std::fs::read(repo().join(RECEIPTS).join("status-credential.json")).unwrap(),
    )
    .unwrap();
    credential["credentialSubject"]["derivedStatus"]["outcome"] = Value::from("insufficient");
    let other = dir.join("other.json");
    std::fs::write(&other, credential.to_string()).unwrap();
    let output = corroborate(&receipt_args(&["--record", other.to_str().unwrap()]));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("does not match the receipt's fingerprint"),
        "{}",
        stderr(&output)
    );

    let output = corroborate(&receipt_args(&["--quorum", "4"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("checkpoint"),
        "{}",
        stderr(&output)
    );

    // A trust file without the log's key: the log is not trusted.
    let mut trust: Value =
        serde_json::from_slice(&std::fs::read(repo().join(RECEIPTS).join("trust.json")).unwrap())
            .unwrap();
    trust["logs"] = Value::Array(Vec::new());
    let untrusting = dir.join("trust.json");
    std::fs::write(&untrusting, trust.to_string()).unwrap();
    let output = corroborate(&[
        "receipt",
        "verify",
        "cli/tests/fixtures/anchoring/receipt.json",
        "--trust",
        untrusting.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("no trusted key for the log"),
        "{}",
        stderr(&output)
    );

    let output = corroborate(&[
        "receipt",
        "verify",
        "schemas/policies/residence-municipality.json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("is not an anchoring receipt"),
        "{}",
        stderr(&output)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// `--rpc`: the receipt's transaction is read from a real Anvil node; it confirms only when it
/// carries the root and comes from a trusted anchoring account.
#[test]
fn a_receipt_anchored_on_ethereum_is_confirmed_on_the_ledger() {
    use corroborate_verifier::{anchor, merkle};
    let anvil_bin = std::env::var("ANVIL_BIN").unwrap_or_else(|_| {
        let out = Command::new(repo().join("scripts/anvil"))
            .arg("path")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "run scripts/anvil path: {}",
            stderr(&out)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    });
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut anvil = Command::new(anvil_bin)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let rpc = format!("http://127.0.0.1:{port}");
    let call = |method: &str, params: Value| -> Value {
        let body =
            serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        ureq::post(&rpc)
            .send_json(&body)
            .ok()
            .and_then(|mut reply| reply.body_mut().read_json::<Value>().ok())
            .map_or(Value::Null, |v| v["result"].clone())
    };
    let started = std::time::Instant::now();
    while call("eth_chainId", serde_json::json!([])).is_null() {
        assert!(started.elapsed().as_secs() < 20, "anvil did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // A one-record batch: its root is the fingerprint's leaf hash; the dev account anchors it.
    let record = serde_json::json!({"status": "established", "n": 1});
    let salt = [9u8; 32];
    let fingerprint = anchor::fingerprint_json(&salt, &record).unwrap();
    let root = merkle::leaf_hash(&fingerprint);
    let sender = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
    let data = format!("0x{}{}", hex::encode(b"CRB1"), hex::encode(root));
    let tx = call(
        "eth_sendTransaction",
        serde_json::json!([{"from": sender, "to": sender, "data": data}]),
    );
    // Automine seals the block just after answering: wait for the receipt.
    let mut mined = Value::Null;
    while mined.is_null() || mined["blockHash"].is_null() {
        assert!(
            started.elapsed().as_secs() < 30,
            "the transaction was not mined"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
        mined = call("eth_getTransactionReceipt", serde_json::json!([tx]));
    }
    let receipt = serde_json::json!({
        "type": "AnchorReceipt", "version": 1,
        "record": {"kind": "status_credential", "id": "urn:uuid:test"},
        "salt": hex::encode(salt),
        "fingerprint": hex::encode(fingerprint),
        "batch": {"id": "b", "leafIndex": 0, "size": 1, "proof": [], "root": hex::encode(root)},
        "anchor": {"connector": "ethereum", "state": "final", "reference": {
            "chainId": 31337, "tx": tx, "blockNumber": mined["blockNumber"],
            "blockHash": mined["blockHash"], "from": sender, "to": sender.to_lowercase()
        }}
    });
    let dir = std::env::temp_dir().join(format!("corroborate-eth-receipt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("receipt.json"), receipt.to_string()).unwrap();
    std::fs::write(dir.join("record.json"), record.to_string()).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "receipt".to_owned(),
            "verify".to_owned(),
            dir.join("receipt.json").display().to_string(),
            "--record".to_owned(),
            dir.join("record.json").display().to_string(),
            "--rpc".to_owned(),
            rpc.clone(),
            "--confirmations".to_owned(),
            "1".to_owned(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        corroborate(&args)
    };
    let confirmed = run(&["--ethereum-sender", sender]);
    let text = String::from_utf8_lossy(&confirmed.stdout).into_owned();
    assert!(confirmed.status.success(), "{text}{}", stderr(&confirmed));
    assert!(
        text.contains("VERIFIED") && text.contains("confirmed: transaction"),
        "{text}"
    );
    // From an account nobody trusts, or with no trusted account named: not confirmed.
    let stranger = run(&[
        "--ethereum-sender",
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    ]);
    assert_eq!(stranger.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&stranger.stdout).contains("not a trusted anchoring account"));
    let unnamed = run(&[]);
    assert_eq!(unnamed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unnamed.stdout).contains("NOT CHECKED"));
    anvil.kill().unwrap();
    anvil.wait().unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}
