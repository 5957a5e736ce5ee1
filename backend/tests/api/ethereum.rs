//! The `ethereum` anchoring connector against a real Anvil node: each test starts its own on a
//! free port (the binary from `ANVIL_BIN` or `scripts/anvil path`) and stops it when done. No
//! database: these run once. Blocks are mined on demand (`--no-mining` and `anvil_mine`) where a
//! test needs to see a transaction before its block.

use corroborate_backend::anchoring::ethereum::{
    ANCHOR_CONTRACT, AnchorMode, EthereumConnector, EthereumSettings, TAG, anchor_data,
};
use corroborate_backend::anchoring::{
    Batch, Connector, ConnectorError, LedgerCheck, LedgerState, Prepared,
};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Anvil's first development account (its well-known test key, never a real one).
pub(crate) const ACCOUNT_KEY: &str =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const ACCOUNT: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const ANVIL_CHAIN_ID: u64 = 31337;

fn anvil_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("ANVIL_BIN") {
        return PathBuf::from(path);
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/anvil");
    let output = Command::new(&script)
        .arg("path")
        .stderr(Stdio::inherit())
        .output();
    match output {
        Ok(output) if output.status.success() => {
            PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
        }
        other => panic!(
            "Anvil was not found: run `scripts/anvil path` (it installs Anvil from npm into \
             ~/.cache/corroborate-tools) or set ANVIL_BIN to an anvil binary ({other:?})"
        ),
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One Anvil node, killed when dropped.
pub(crate) struct Anvil {
    child: Child,
    pub(crate) url: String,
    http: reqwest::Client,
}

impl Anvil {
    pub(crate) async fn start(args: &[&str]) -> Anvil {
        Anvil::start_on(free_port(), args).await
    }

    pub(crate) async fn start_on(port: u16, args: &[&str]) -> Anvil {
        let child = Command::new(anvil_bin())
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("anvil starts");
        let mut anvil = Anvil {
            child,
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        };
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = anvil.child.try_wait() {
                panic!("anvil exited at start ({status}): is port {port} taken?");
            }
            if anvil.try_rpc("eth_chainId", json!([])).await.is_some() {
                return anvil;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "anvil did not answer on {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn try_rpc(&self, method: &str, params: Value) -> Option<Value> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let answer: Value = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        answer.get("result").cloned()
    }

    async fn rpc(&self, method: &str, params: Value) -> Value {
        self.try_rpc(method, params.clone())
            .await
            .unwrap_or_else(|| panic!("anvil answered no result to {method} {params}"))
    }

    pub(crate) async fn mine(&self, blocks: u64) {
        self.rpc("anvil_mine", json!([format!("0x{blocks:x}")]))
            .await;
    }

    async fn block_number(&self) -> u64 {
        hex_u64(&self.rpc("eth_blockNumber", json!([])).await)
    }

    /// Every mined transaction whose input is exactly `data`, found by scanning all blocks.
    pub(crate) async fn transactions_carrying(&self, data: &[u8]) -> Vec<Value> {
        let wanted = format!("0x{}", hex::encode(data));
        let mut found = Vec::new();
        for number in 0..=self.block_number().await {
            let block = self
                .rpc(
                    "eth_getBlockByNumber",
                    json!([format!("0x{number:x}"), true]),
                )
                .await;
            for tx in block["transactions"].as_array().unwrap() {
                if tx["input"].as_str() == Some(wanted.as_str()) {
                    found.push(tx.clone());
                }
            }
        }
        found
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hex_u64(value: &Value) -> u64 {
    u64::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn settings(url: &str, confirmations: u64) -> EthereumSettings {
    EthereumSettings {
        rpc_url: url.to_owned(),
        signer_key: Some(SecretString::from(ACCOUNT_KEY)),
        confirmations,
        ..EthereumSettings::default()
    }
}

async fn connect(url: &str, confirmations: u64) -> EthereumConnector {
    EthereumConnector::connect(&settings(url, confirmations))
        .await
        .unwrap()
}

fn batch(seed: u8) -> Batch {
    Batch {
        id: format!("batch-{seed}"),
        root: [seed; 32],
        size: 1,
    }
}

fn included_reference(state: &LedgerState) -> &Value {
    match state {
        LedgerState::Included { reference, .. } | LedgerState::Final { reference, .. } => reference,
        LedgerState::Submitted => panic!("not included: {state:?}"),
    }
}

/// The state once the node has mined the transaction: Anvil's automine answers
/// `eth_sendRawTransaction` before the block is sealed.
async fn mined(connector: &EthereumConnector, batch: &Batch, prepared: &Prepared) -> LedgerState {
    let started = Instant::now();
    loop {
        let state = connector.state(batch, prepared).await.unwrap();
        if state != LedgerState::Submitted {
            return state;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "never mined");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn ethereum_anchors_a_root_submitted_then_included_then_final() {
    let anvil = Anvil::start(&["--no-mining"]).await;
    let connector = connect(&anvil.url, 3).await;
    assert_eq!(connector.name(), "ethereum");
    let batch = batch(1);

    let prepared = connector.prepare(&batch).await.unwrap();
    assert_eq!(prepared.reference["chainId"], ANVIL_CHAIN_ID);
    assert_eq!(prepared.reference["from"], ACCOUNT);
    assert_eq!(
        prepared.reference["to"], ACCOUNT,
        "by default the sender anchors to itself"
    );
    assert_eq!(prepared.reference["nonce"], 0);
    // Preparing has no effect on the ledger.
    let pending = anvil
        .rpc("eth_getTransactionCount", json!([ACCOUNT, "pending"]))
        .await;
    assert_eq!(hex_u64(&pending), 0);

    connector.send(&batch, &prepared).await.unwrap();
    assert_eq!(
        connector.state(&batch, &prepared).await.unwrap(),
        LedgerState::Submitted
    );

    anvil.mine(1).await;
    let state = connector.state(&batch, &prepared).await.unwrap();
    let LedgerState::Included { reference, at } = &state else {
        panic!("{state:?}")
    };
    let block = anvil
        .rpc("eth_getBlockByNumber", json!(["0x1", false]))
        .await;
    assert_eq!(reference["tx"], prepared.reference["tx"]);
    assert_eq!(reference["blockNumber"], 1);
    assert_eq!(reference["blockHash"], block["hash"]);
    assert_eq!(reference["chainId"], ANVIL_CHAIN_ID);
    assert_eq!(reference["from"], ACCOUNT);
    assert_eq!(reference["to"], ACCOUNT);
    assert_eq!(reference["nonce"], 0);
    assert_eq!(at.timestamp() as u64, hex_u64(&block["timestamp"]));

    anvil.mine(1).await;
    assert!(
        matches!(
            connector.state(&batch, &prepared).await.unwrap(),
            LedgerState::Included { .. }
        ),
        "2 of 3 blocks"
    );
    anvil.mine(1).await;
    let state = connector.state(&batch, &prepared).await.unwrap();
    let LedgerState::Final {
        reference: final_reference,
        at: final_at,
    } = &state
    else {
        panic!("{state:?}")
    };
    assert_eq!(final_reference, reference);
    assert_eq!(final_at, at);
}

#[tokio::test]
async fn ethereum_check_confirms_the_anchored_root_and_reports_a_mismatch_otherwise() {
    let anvil = Anvil::start(&[]).await; // mines each transaction at once
    let connector = connect(&anvil.url, 2).await;
    let batch = batch(2);
    let prepared = connector.prepare(&batch).await.unwrap();
    connector.send(&batch, &prepared).await.unwrap();
    let reference = included_reference(&mined(&connector, &batch, &prepared).await).clone();

    let check = connector.check(&batch.root, &reference).await.unwrap();
    assert!(
        matches!(&check, LedgerCheck::Pending { detail } if detail.contains("1 block(s) deep of the 2 required")),
        "{check:?}"
    );
    anvil.mine(1).await;
    let check = connector.check(&batch.root, &reference).await.unwrap();
    let LedgerCheck::Confirmed { detail } = &check else {
        panic!("{check:?}")
    };
    assert!(
        detail.contains(&hex::encode(batch.root)) && detail.contains(ACCOUNT),
        "{detail}"
    );

    // Another root at the same reference.
    let check = connector.check(&[3u8; 32], &reference).await.unwrap();
    assert!(
        matches!(&check, LedgerCheck::Mismatch { detail } if detail.contains("not the anchor of root")),
        "{check:?}"
    );
    // The block the reference names is not the transaction's.
    let mut moved = reference.clone();
    moved["blockHash"] = json!(format!("0x{}", "ab".repeat(32)));
    let check = connector.check(&batch.root, &moved).await.unwrap();
    assert!(
        matches!(&check, LedgerCheck::Mismatch { detail } if detail.contains("reorganized")),
        "{check:?}"
    );
    // Another recipient or sender than the reference says.
    let mut elsewhere = reference.clone();
    elsewhere["to"] = json!("0x000000000000000000000000000000000000dEaD");
    assert!(matches!(
        connector.check(&batch.root, &elsewhere).await.unwrap(),
        LedgerCheck::Mismatch { .. }
    ));
    let mut someone_else = reference.clone();
    someone_else["from"] = json!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    assert!(matches!(
        connector.check(&batch.root, &someone_else).await.unwrap(),
        LedgerCheck::Mismatch { .. }
    ));
    // A transaction the chain does not have.
    let mut unknown = reference.clone();
    unknown["tx"] = json!(format!("0x{}", "11".repeat(32)));
    let check = connector.check(&batch.root, &unknown).await.unwrap();
    assert!(
        matches!(&check, LedgerCheck::Mismatch { detail } if detail.contains("has no transaction")),
        "{check:?}"
    );
    // A reference on another chain cannot be checked here.
    let mut mainnet = reference.clone();
    mainnet["chainId"] = json!(1);
    let error = connector.check(&batch.root, &mainnet).await.unwrap_err();
    assert!(
        matches!(&error, ConnectorError::Refused(m) if m.contains("chain 1")),
        "{error}"
    );
    // A reference without a transaction hash.
    let error = connector
        .check(&batch.root, &json!({"chainId": ANVIL_CHAIN_ID}))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Refused(_)));
}

#[tokio::test]
async fn ethereum_sending_the_same_prepared_again_never_anchors_twice() {
    let anvil = Anvil::start(&["--no-mining"]).await;
    let connector = connect(&anvil.url, 1).await;
    let batch = batch(4);
    let prepared = connector.prepare(&batch).await.unwrap();
    // The batcher stores the Prepared (as JSON) before sending; after a crash it reads it back.
    let stored: Prepared =
        serde_json::from_str(&serde_json::to_string(&prepared).unwrap()).unwrap();
    assert_eq!(stored, prepared);

    connector.send(&batch, &prepared).await.unwrap();
    connector.send(&batch, &stored).await.unwrap(); // still in the pool: "already known"
    anvil.mine(1).await;
    connector.send(&batch, &stored).await.unwrap(); // mined: "nonce too low", but this very hash
    anvil.mine(2).await;
    connector.send(&batch, &stored).await.unwrap();
    anvil.mine(1).await;

    let carrying = anvil.transactions_carrying(&anchor_data(&batch.root)).await;
    assert_eq!(carrying.len(), 1, "{carrying:#?}");
    assert_eq!(carrying[0]["hash"], prepared.reference["tx"]);
    assert!(matches!(
        connector.state(&batch, &stored).await.unwrap(),
        LedgerState::Final { .. }
    ));

    // A damaged stored row is never broadcast.
    let mut damaged = stored.clone();
    if let Some(bytes) = damaged.payload.as_mut() {
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
    }
    let error = connector.send(&batch, &damaged).await.unwrap_err();
    assert!(
        matches!(&error, ConnectorError::Refused(m) if m.contains("does not hash to")),
        "{error}"
    );
    // Nor one sent for another batch's root.
    let error = connector.send(&self::batch(5), &stored).await.unwrap_err();
    assert!(matches!(&error, ConnectorError::Refused(_)), "{error}");
    let error = connector
        .send(
            &batch,
            &Prepared {
                payload: None,
                ..stored
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ConnectorError::Refused(m) if m.contains("prepare it again")),
        "{error}"
    );
}

#[tokio::test]
async fn ethereum_a_nonce_taken_by_another_transaction_is_refused_not_retried() {
    let anvil = Anvil::start(&[]).await;
    let connector = connect(&anvil.url, 1).await;
    let (first, second) = (batch(6), batch(7));
    // Two batches prepared before either was sent share the account's pending nonce.
    let first_prepared = connector.prepare(&first).await.unwrap();
    let second_prepared = connector.prepare(&second).await.unwrap();
    assert_eq!(
        first_prepared.reference["nonce"],
        second_prepared.reference["nonce"]
    );

    connector.send(&first, &first_prepared).await.unwrap();
    mined(&connector, &first, &first_prepared).await;
    let error = connector.send(&second, &second_prepared).await.unwrap_err();
    let ConnectorError::Refused(message) = &error else {
        panic!("{error}")
    };
    assert!(
        message.contains("nonce 0") && message.contains("prepare the batch again"),
        "{message}"
    );
    assert!(
        anvil
            .transactions_carrying(&anchor_data(&second.root))
            .await
            .is_empty()
    );

    // Prepared again, it takes the next nonce and is anchored.
    let again = connector.prepare(&second).await.unwrap();
    assert_eq!(again.reference["nonce"], 1);
    connector.send(&second, &again).await.unwrap();
    assert!(matches!(
        mined(&connector, &second, &again).await,
        LedgerState::Final { .. }
    ));
}

#[tokio::test]
async fn ethereum_a_node_that_is_down_is_unavailable_and_anchoring_works_once_it_is_up() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    // The service starts with the node down: the chain id is checked on first use.
    let connector = EthereumConnector::connect(&EthereumSettings {
        chain_id: Some(ANVIL_CHAIN_ID),
        ..settings(&url, 1)
    })
    .await
    .unwrap();
    let batch = batch(8);
    let error = connector.prepare(&batch).await.unwrap_err();
    let ConnectorError::Unavailable(message) = &error else {
        panic!("{error}")
    };
    assert!(message.contains(&url), "{message}");
    let stale = Prepared {
        reference: json!({"tx": format!("0x{}", "22".repeat(32))}),
        payload: None,
    };
    assert!(matches!(
        connector.state(&batch, &stale).await,
        Err(ConnectorError::Unavailable(_))
    ));
    assert!(matches!(
        connector.check(&batch.root, &stale.reference).await,
        Err(ConnectorError::Unavailable(_))
    ));

    let _anvil = Anvil::start_on(port, &[]).await;
    let prepared = connector.prepare(&batch).await.unwrap();
    connector.send(&batch, &prepared).await.unwrap();
    assert!(matches!(
        mined(&connector, &batch, &prepared).await,
        LedgerState::Final { .. }
    ));
}

#[tokio::test]
async fn ethereum_a_wrong_chain_id_is_refused_at_connect() {
    let anvil = Anvil::start(&[]).await;
    let error = EthereumConnector::connect(&EthereumSettings {
        chain_id: Some(1),
        ..settings(&anvil.url, 1)
    })
    .await
    .unwrap_err();
    let ConnectorError::Refused(message) = &error else {
        panic!("{error}")
    };
    assert!(
        message.contains("chain 31337") && message.contains("configured chain 1"),
        "{message}"
    );
    EthereumConnector::connect(&EthereumSettings {
        chain_id: Some(ANVIL_CHAIN_ID),
        ..settings(&anvil.url, 1)
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn ethereum_bad_settings_are_refused_at_connect_with_what_to_fix() {
    let url = "http://127.0.0.1:1";
    let cases: Vec<(EthereumSettings, &str)> = vec![
        (
            EthereumSettings {
                signer_key: None,
                ..settings(url, 1)
            },
            "signer_key is not set",
        ),
        (
            EthereumSettings {
                signer_key: Some(SecretString::from("0x1234")),
                ..settings(url, 1)
            },
            "not a secp256k1 private key",
        ),
        (
            EthereumSettings {
                anchor_address: Some("0xf39FD6e51aad88F6F4ce6aB8827279cffFb92266".into()),
                ..settings(url, 1)
            },
            "wrong EIP-55 checksum",
        ),
        (
            EthereumSettings {
                anchor_address: Some("0x1234".into()),
                ..settings(url, 1)
            },
            "not a 20-byte hex address",
        ),
        (
            EthereumSettings {
                rpc_url: "ftp://node".into(),
                ..settings(url, 1)
            },
            "http:// or https://",
        ),
        (
            EthereumSettings {
                rpc_url: "node:8545".into(),
                ..settings(url, 1)
            },
            "http:// or https://",
        ),
        (
            EthereumSettings {
                timeout_ms: 0,
                ..settings(url, 1)
            },
            "timeout_ms",
        ),
    ];
    for (settings, expected) in cases {
        let error = EthereumConnector::connect(&settings).await.unwrap_err();
        let ConnectorError::Refused(message) = &error else {
            panic!("{error}")
        };
        assert!(
            message.contains(expected),
            "{message} should say {expected}"
        );
        assert!(
            !message.contains("ac0974"),
            "the key never shows: {message}"
        );
    }
}

#[tokio::test]
async fn ethereum_the_transaction_holds_only_the_tag_and_the_root() {
    let anvil = Anvil::start(&[]).await;
    let connector = connect(&anvil.url, 1).await;
    let batch = Batch {
        id: "batch-data".into(),
        root: corroborate_verifier::merkle::root(&[[9u8; 32], [10u8; 32]]),
        size: 2,
    };
    let prepared = connector.prepare(&batch).await.unwrap();
    connector.send(&batch, &prepared).await.unwrap();

    let tx = anvil
        .rpc(
            "eth_getTransactionByHash",
            json!([prepared.reference["tx"]]),
        )
        .await;
    let input = hex::decode(tx["input"].as_str().unwrap().trim_start_matches("0x")).unwrap();
    assert_eq!(input.len(), 36, "4-byte tag and 32-byte root, nothing else");
    assert_eq!(&input[..4], &TAG);
    assert_eq!(&input[4..], &batch.root);
    assert_eq!(tx["value"], "0x0");
    assert_eq!(
        tx["type"], "0x2",
        "EIP-1559 where the node has a fee market"
    );
    mined(&connector, &batch, &prepared).await;
    let receipt = anvil
        .rpc(
            "eth_getTransactionReceipt",
            json!([prepared.reference["tx"]]),
        )
        .await;
    let gas = hex_u64(&receipt["gasUsed"]);
    // 21,000 + calldata: 36 bytes at the EIP-7623 floor (10 gas per token, 4 tokens a non-zero byte).
    assert!((21_000..=21_000 + 36 * 40).contains(&gas), "gas used {gas}");
}

#[tokio::test]
async fn ethereum_a_node_without_fee_market_gets_a_legacy_transaction() {
    let anvil = Anvil::start(&["--hardfork", "berlin"]).await;
    let connector = connect(&anvil.url, 2).await;
    let batch = batch(11);
    let prepared = connector.prepare(&batch).await.unwrap();
    connector.send(&batch, &prepared).await.unwrap();
    let tx = anvil
        .rpc(
            "eth_getTransactionByHash",
            json!([prepared.reference["tx"]]),
        )
        .await;
    assert_eq!(tx["type"], "0x0");
    assert_eq!(tx["chainId"], "0x7a69", "EIP-155: replay-protected");
    mined(&connector, &batch, &prepared).await;
    anvil.mine(1).await;
    let reference = included_reference(&connector.state(&batch, &prepared).await.unwrap()).clone();
    assert!(matches!(
        connector.check(&batch.root, &reference).await.unwrap(),
        LedgerCheck::Confirmed { .. }
    ));
}

#[tokio::test]
async fn ethereum_a_reverted_anchoring_transaction_is_refused() {
    let anvil = Anvil::start(&["--no-mining"]).await;
    let target = "0x000000000000000000000000000000000000bEEF";
    let connector = EthereumConnector::connect(&EthereumSettings {
        anchor_address: Some(target.into()),
        ..settings(&anvil.url, 1)
    })
    .await
    .unwrap();
    let batch = batch(12);
    let prepared = connector.prepare(&batch).await.unwrap();
    assert_eq!(
        prepared.reference["to"],
        "0x000000000000000000000000000000000000bEEF"
    );
    connector.send(&batch, &prepared).await.unwrap();
    // The address gets code that reverts (PUSH1 0 PUSH1 0 REVERT) before the block is mined.
    anvil
        .rpc("anvil_setCode", json!([target, "0x60006000fd"]))
        .await;
    anvil.mine(1).await;
    let error = connector.state(&batch, &prepared).await.unwrap_err();
    assert!(
        matches!(&error, ConnectorError::Refused(m) if m.contains("reverted")),
        "{error}"
    );
    let reference = json!({"chainId": ANVIL_CHAIN_ID, "tx": prepared.reference["tx"]});
    let check = connector.check(&batch.root, &reference).await.unwrap();
    assert!(
        matches!(&check, LedgerCheck::Mismatch { detail } if detail.contains("reverted")),
        "{check:?}"
    );
}

/// A loopback server that answers every request with `status`, or never when `status` is None.
fn fake_node(status: Option<&'static str>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/v3/secret-api-key",
        listener.local_addr().unwrap()
    );
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            match status {
                Some(status) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    );
                }
                None => held.push(stream),
            }
        }
    });
    url
}

#[tokio::test]
async fn ethereum_a_silent_or_failing_node_is_unavailable_a_forbidding_one_refused() {
    let silent = fake_node(None);
    let connector = EthereumConnector::connect(&EthereumSettings {
        timeout_ms: 300,
        ..settings(&silent, 1)
    })
    .await
    .unwrap();
    let started = Instant::now();
    let error = connector.prepare(&batch(13)).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    let ConnectorError::Unavailable(message) = &error else {
        panic!("{error}")
    };
    assert!(
        !message.contains("secret-api-key"),
        "the URL's path never shows: {message}"
    );

    let failing = fake_node(Some("503 Service Unavailable"));
    let connector = connect(&failing, 1).await;
    let error = connector.prepare(&batch(13)).await.unwrap_err();
    assert!(
        matches!(&error, ConnectorError::Unavailable(m) if m.contains("HTTP 503")),
        "{error}"
    );

    let forbidding = fake_node(Some("401 Unauthorized"));
    let error = EthereumConnector::connect(&settings(&forbidding, 1))
        .await
        .unwrap_err();
    let ConnectorError::Refused(message) = &error else {
        panic!("{error}")
    };
    assert!(
        message.contains("HTTP 401") && !message.contains("secret-api-key"),
        "{message}"
    );
}

#[tokio::test]
async fn ethereum_contract_mode_anchors_with_an_event_found_by_root() {
    let anvil = Anvil::start(&[]).await;
    let deployer = connect(&anvil.url, 1).await;
    let contract = deployer
        .deploy_contract(Duration::from_secs(10))
        .await
        .unwrap();
    let code = anvil.rpc("eth_getCode", json!([contract, "latest"])).await;
    assert_eq!(code, json!(format!("0x{}", hex::encode(ANCHOR_CONTRACT))));

    let connector = EthereumConnector::connect(&EthereumSettings {
        mode: AnchorMode::Contract,
        anchor_address: Some(contract.to_string()),
        ..settings(&anvil.url, 1)
    })
    .await
    .unwrap();
    let batch = batch(14);
    let prepared = connector.prepare(&batch).await.unwrap();
    assert_eq!(prepared.reference["to"], contract.to_string());
    connector.send(&batch, &prepared).await.unwrap();
    let reference = included_reference(&mined(&connector, &batch, &prepared).await).clone();
    let check = connector.check(&batch.root, &reference).await.unwrap();
    assert!(matches!(check, LedgerCheck::Confirmed { .. }), "{check:?}");

    // The same data, the same gas as a plain transaction, and one event naming the root.
    let receipt = anvil
        .rpc(
            "eth_getTransactionReceipt",
            json!([prepared.reference["tx"]]),
        )
        .await;
    assert_eq!(hex_u64(&receipt["gasUsed"]), 22_440);
    let logs = receipt["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(
        logs[0]["topics"],
        json!([format!("0x{}", hex::encode(batch.root))])
    );
    assert_eq!(logs[0]["data"], "0x");

    // Found by its root alone; another root finds nothing.
    let found = connector.find(&batch.root).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["tx"], prepared.reference["tx"]);
    assert_eq!(found[0]["blockHash"], reference["blockHash"]);
    assert!(connector.find(&[15u8; 32]).await.unwrap().is_empty());
    assert!(matches!(
        deployer.find(&batch.root).await,
        Err(ConnectorError::Refused(_))
    ));
    // Code swapped behind the connector's back (a bare STOP): the data is there, the event is
    // not, and check says so.
    anvil.rpc("anvil_setCode", json!([contract, "0x00"])).await;
    let silent = self::batch(16);
    let prepared = connector.prepare(&silent).await.unwrap();
    connector.send(&silent, &prepared).await.unwrap();
    let reference = included_reference(&mined(&connector, &silent, &prepared).await).clone();
    let check = connector.check(&silent.root, &reference).await.unwrap();
    assert!(
        matches!(&check, LedgerCheck::Mismatch { detail } if detail.contains("has no event")),
        "{check:?}"
    );
}

#[tokio::test]
async fn ethereum_contract_mode_refuses_an_address_without_the_contract() {
    let anvil = Anvil::start(&[]).await;
    let error = EthereumConnector::connect(&EthereumSettings {
        mode: AnchorMode::Contract,
        ..settings(&anvil.url, 1)
    })
    .await
    .unwrap_err();
    assert!(
        matches!(&error, ConnectorError::Refused(m) if m.contains("needs anchor_address")),
        "{error}"
    );
    let error = EthereumConnector::connect(&EthereumSettings {
        mode: AnchorMode::Contract,
        anchor_address: Some(ACCOUNT.into()),
        ..settings(&anvil.url, 1)
    })
    .await
    .unwrap_err();
    assert!(
        matches!(&error, ConnectorError::Refused(m) if m.contains("does not hold the anchoring contract")),
        "{error}"
    );
}

/// A sent transaction the node drops from its pool (a restart, an eviction) is sent again, the
/// very same bytes, when its state is asked: it is mined once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ethereum_a_transaction_dropped_from_the_pool_is_sent_again() {
    let anvil = Anvil::start(&["--no-mining"]).await;
    let connector = connect(&anvil.url, 1).await;
    let batch = batch(41);
    let prepared = connector.prepare(&batch).await.unwrap();
    connector.send(&batch, &prepared).await.unwrap();
    let hash = prepared.reference["tx"].as_str().unwrap().to_owned();
    anvil.rpc("anvil_dropTransaction", json!([hash])).await;
    assert!(
        anvil
            .try_rpc("eth_getTransactionByHash", json!([hash]))
            .await
            .is_none_or(|t| t.is_null()),
        "dropped"
    );
    assert_eq!(
        connector.state(&batch, &prepared).await.unwrap(),
        LedgerState::Submitted
    );
    anvil.mine(1).await;
    let state = mined(&connector, &batch, &prepared).await;
    assert_eq!(included_reference(&state)["tx"], hash.as_str());
    assert_eq!(
        anvil
            .transactions_carrying(&anchor_data(&batch.root))
            .await
            .len(),
        1
    );
}
