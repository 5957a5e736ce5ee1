//! Anchoring on an EVM ledger, measured against a real Anvil node: for batches of 10, 1,000 and
//! 100,000 fingerprints (random 32-byte values), the time to compute their RFC 9162 root, the
//! gas of the one transaction that anchors it (per batch and per record), and the time from
//! `send` to `final` with 1 and with 3 confirmations on a chain that makes a block a second.
//! Then, for `docs/ledgers.md`, what the alternative would cost: two minimal hand-assembled
//! anchoring contracts (one emitting a LOG1 of the root, one also storing root → block number),
//! their deployment and each anchoring call. Not a test: it prints figures.
//!
//! `cargo bench -p corroborate-backend --bench anchoring_gas` (Anvil from `ANVIL_BIN` or
//! `scripts/anvil path`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use corroborate_backend::anchoring::ethereum::{
    ANCHOR_CONTRACT, EthereumConnector, EthereumSettings, anchor_data,
};
use corroborate_backend::anchoring::{Batch, Connector, LedgerState};
use corroborate_verifier::merkle;
use rand::RngCore;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Anvil's first two development accounts (well-known test keys).
const ANCHOR_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const OTHER_ACCOUNT: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const SIZES: [usize; 3] = [10, 1_000, 100_000];
const CONFIRMATIONS: [u64; 2] = [1, 3];

/// Runtime code: `SSTORE(root, NUMBER)` then the same LOG1 as `ANCHOR_CONTRACT` (the connector's
/// optional `mode = "contract"`): an on-chain registry of roots.
const REGISTRY_RUNTIME: &[u8] = &[
    0x60, 0x04, 0x35, 0x80, 0x43, 0x90, 0x55, 0x60, 0x00, 0x60, 0x00, 0xa1, 0x00,
];

fn anvil_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("ANVIL_BIN") {
        return PathBuf::from(path);
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/anvil");
    match Command::new(&script)
        .arg("path")
        .stderr(Stdio::inherit())
        .output()
    {
        Ok(output) if output.status.success() => {
            PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
        }
        other => {
            panic!("Anvil was not found: run `scripts/anvil path` or set ANVIL_BIN ({other:?})")
        }
    }
}

struct Anvil {
    child: Child,
    url: String,
    http: reqwest::Client,
}

impl Anvil {
    async fn start(args: &[&str]) -> Anvil {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(anvil_bin())
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("anvil starts");
        let anvil = Anvil {
            child,
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        };
        let started = Instant::now();
        while anvil.try_rpc("eth_chainId", json!([])).await.is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "anvil did not answer"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anvil
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
            .unwrap_or_else(|| panic!("no result to {method} {params}"))
    }

    /// Waits for the receipt of `hash`.
    async fn receipt(&self, hash: &Value) -> Value {
        loop {
            let receipt = self.rpc("eth_getTransactionReceipt", json!([hash])).await;
            if !receipt.is_null() {
                return receipt;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends from an unlocked development account and returns the mined receipt.
    async fn transact(&self, tx: Value) -> Value {
        let hash = self.rpc("eth_sendTransaction", json!([tx])).await;
        self.receipt(&hash).await
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn gas(receipt: &Value) -> u64 {
    u64::from_str_radix(
        receipt["gasUsed"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
        16,
    )
    .unwrap()
}

/// Creation code that returns `runtime` as the contract's code.
fn initcode(runtime: &[u8]) -> String {
    let len = u8::try_from(runtime.len()).unwrap();
    // PUSH1 len PUSH1 12 PUSH1 0 CODECOPY PUSH1 len PUSH1 0 RETURN, then the runtime.
    let mut code = vec![
        0x60, len, 0x60, 12, 0x60, 0x00, 0x39, 0x60, len, 0x60, 0x00, 0xf3,
    ];
    code.extend_from_slice(runtime);
    format!("0x{}", hex::encode(code))
}

fn random_root(rng: &mut impl RngCore) -> [u8; 32] {
    let mut root = [0u8; 32];
    rng.fill_bytes(&mut root);
    root
}

#[tokio::main]
async fn main() {
    let anvil = Anvil::start(&["--block-time", "1"]).await;
    let version = anvil.rpc("web3_clientVersion", json!([])).await;
    println!(
        "{} (its default hardfork), a block every second\n",
        version.as_str().unwrap_or("?")
    );
    let mut rng = rand::thread_rng();

    println!(
        "{:>9} | {:>11} | {:>9} | {:>10} | {:>17} | {:>17}",
        "records",
        "Merkle root",
        "gas/batch",
        "gas/record",
        "send→final (1 c.)",
        "send→final (3 c.)"
    );
    println!("{}", "-".repeat(90));
    let mut last_root = [0u8; 32];
    for size in SIZES {
        let fingerprints: Vec<[u8; 32]> = (0..size).map(|_| random_root(&mut rng)).collect();
        let started = Instant::now();
        let leaves: Vec<[u8; 32]> = fingerprints.iter().map(|f| merkle::leaf_hash(f)).collect();
        let root = merkle::root(&leaves);
        let merkle_time = started.elapsed();

        let mut gas_used = 0;
        let mut to_final = Vec::new();
        for confirmations in CONFIRMATIONS {
            let connector = EthereumConnector::connect(&EthereumSettings {
                rpc_url: anvil.url.clone(),
                signer_key: Some(SecretString::from(ANCHOR_KEY)),
                confirmations,
                ..EthereumSettings::default()
            })
            .await
            .unwrap();
            // Each confirmation setting anchors its own batch (a root is anchored once).
            let batch = Batch {
                id: format!("bench-{size}-{confirmations}"),
                root: if confirmations == 1 {
                    root
                } else {
                    random_root(&mut rng)
                },
                size: size as u64,
            };
            last_root = batch.root;
            let prepared = connector.prepare(&batch).await.unwrap();
            let sent = Instant::now();
            connector.send(&batch, &prepared).await.unwrap();
            loop {
                match connector.state(&batch, &prepared).await.unwrap() {
                    LedgerState::Final { .. } => break,
                    _ => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
            to_final.push(sent.elapsed());
            gas_used = gas(&anvil.receipt(&prepared.reference["tx"]).await);
        }
        println!(
            "{:>9} | {:>8.2} ms | {:>9} | {:>10.3} | {:>15.2} s | {:>15.2} s",
            size,
            merkle_time.as_secs_f64() * 1e3,
            gas_used,
            gas_used as f64 / size as f64,
            to_final[0].as_secs_f64(),
            to_final[1].as_secs_f64(),
        );
    }

    // The gas of the data actually sent last (random roots rarely hold a zero byte).
    let data = anchor_data(&last_root);
    let zero = data.iter().filter(|b| **b == 0).count() as u64;
    let non_zero = data.len() as u64 - zero;
    println!(
        "\nplain transaction: 21,000 + calldata ({} bytes): standard 4/16 per zero/non-zero byte = {}, EIP-7623 floor 10 per token = {}; the larger is charged",
        data.len(),
        21_000 + 4 * zero + 16 * non_zero,
        21_000 + 10 * (zero + 4 * non_zero)
    );

    println!(
        "\nthe alternative, a minimal anchoring contract (hand-assembled, from {OTHER_ACCOUNT}):"
    );
    println!(
        "{:>38} | {:>10} | {:>16} | {:>16}",
        "contract", "deployment", "anchor (1st call)", "anchor (2nd call)"
    );
    for (name, runtime) in [
        ("LOG1(root): an event index by root", &ANCHOR_CONTRACT[..]),
        ("SSTORE(root, block) + LOG1: a registry", REGISTRY_RUNTIME),
    ] {
        let deployed = anvil
            .transact(json!({"from": OTHER_ACCOUNT, "data": initcode(runtime)}))
            .await;
        let address = deployed["contractAddress"].clone();
        let mut calls = Vec::new();
        for _ in 0..2 {
            let input = format!("0x{}", hex::encode(anchor_data(&random_root(&mut rng))));
            let receipt = anvil
                .transact(json!({"from": OTHER_ACCOUNT, "to": address, "data": input}))
                .await;
            assert_eq!(receipt["status"], "0x1", "{name}: {receipt}");
            assert_eq!(
                receipt["logs"].as_array().map(Vec::len),
                Some(1),
                "{name}: one event"
            );
            calls.push(gas(&receipt));
        }
        println!(
            "{:>38} | {:>10} | {:>16} | {:>16}",
            name,
            gas(&deployed),
            calls[0],
            calls[1]
        );
    }

    println!("\nstatus issuance (the outbox row committed) → batch final, through the batcher");
    println!("(batch_size 1, the batcher polling every 100 ms, a block a second):");
    for confirmations in CONFIRMATIONS {
        let elapsed = issuance_to_final(&anvil.url, confirmations).await;
        println!(
            "  {confirmations} confirmation(s): {:.2} s",
            elapsed.as_secs_f64()
        );
    }
}

/// The time from committing a status's outbox row to its batch being `final`, with the real
/// outbox, batcher and connector over a temporary SQLite database.
async fn issuance_to_final(rpc_url: &str, confirmations: u64) -> Duration {
    use corroborate_backend::anchoring::{Anchoring, AnchoringSettings, ConnectorKind, outbox};
    use corroborate_backend::db::schema::anchor_batches;
    use corroborate_backend::db::{DatabaseUrl, Db, StoreError};
    use diesel::prelude::*;
    let dir = std::env::temp_dir().join(format!(
        "corroborate-bench-{}-{confirmations}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let url = SecretString::from(format!("sqlite://{}", dir.join("bench.sqlite").display()));
    let db = Db::open(&DatabaseUrl::parse(&url).unwrap(), 2).unwrap();
    let sealer = corroborate_backend::keys::Sealer::from_key(&[7; 32]);
    let mut settings = AnchoringSettings {
        connector: ConnectorKind::Ethereum,
        batch_size: 1,
        poll_interval_ms: 100,
        ..AnchoringSettings::default()
    };
    settings.ethereum.rpc_url = rpc_url.to_owned();
    settings.ethereum.signer_key = Some(SecretString::from(ANCHOR_KEY));
    settings.ethereum.confirmations = confirmations;
    let anchoring = Anchoring::build(&settings, &db, &sealer, "http://127.0.0.1:8080").unwrap();
    let batcher = anchoring.batcher(&db);
    let started = Instant::now();
    db.write::<_, StoreError, _>(|conn| {
        outbox::enqueue_in(
            conn,
            outbox::STATUS_CREDENTIAL,
            "urn:uuid:bench",
            "decision-bench",
            &json!({"bench": true}),
            chrono::Utc::now(),
        )?;
        Ok(())
    })
    .await
    .unwrap();
    loop {
        batcher.round(chrono::Utc::now()).await.unwrap();
        let finals: i64 = db
            .read(|conn| {
                Ok(anchor_batches::table
                    .filter(anchor_batches::state.eq("final"))
                    .count()
                    .get_result(conn)?)
            })
            .await
            .unwrap();
        if finals == 1 {
            let elapsed = started.elapsed();
            std::fs::remove_dir_all(&dir).ok();
            return elapsed;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not final within a minute"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
