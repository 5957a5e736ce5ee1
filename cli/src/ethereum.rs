//! The on-ledger check of an Ethereum anchor (`receipt verify --rpc`): the transaction the
//! receipt names must be mined in the block it names, sent to the address it names, and carry
//! exactly the anchoring calldata `CRB1 ‖ root`. Three JSON-RPC calls, no signing.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

/// The calldata tag of an anchoring transaction (`docs/ledgers.md`).
const TAG: &[u8; 4] = b"CRB1";

fn call(rpc: &str, method: &str, params: Value) -> Result<Value> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let mut response = ureq::post(rpc)
        .send_json(&body)
        .with_context(|| format!("calling {method} on {rpc}"))?;
    let reply: Value = response
        .body_mut()
        .read_json()
        .with_context(|| format!("reading the answer to {method}"))?;
    if let Some(error) = reply.get("error") {
        bail!("{method} failed: {error}");
    }
    Ok(reply.get("result").cloned().unwrap_or(Value::Null))
}

fn quantity(value: &Value) -> Option<u64> {
    value
        .as_str()
        .and_then(|s| s.strip_prefix("0x"))
        .and_then(|s| u64::from_str_radix(s, 16).ok())
}

/// A sentence starting with `confirmed` when the ledger holds `root` at `reference`, in a
/// transaction from one of the trusted `senders`, with at least `confirmations` blocks.
pub fn check(
    rpc: &str,
    root: &[u8],
    reference: &Value,
    senders: &[String],
    confirmations: u64,
) -> Result<String> {
    let tx = reference["tx"]
        .as_str()
        .context("the Ethereum reference names no transaction")?;
    let found = call(rpc, "eth_getTransactionByHash", json!([tx]))?;
    if found.is_null() {
        return Ok(format!("MISMATCH: the node knows no transaction {tx}"));
    }
    let mut expected = TAG.to_vec();
    expected.extend_from_slice(root);
    let input = found["input"].as_str().unwrap_or_default();
    if input.trim_start_matches("0x").to_lowercase() != hex::encode(&expected) {
        return Ok(format!(
            "MISMATCH: transaction {tx} does not carry this root"
        ));
    }
    // Anyone can send a transaction carrying any root: only the trusted anchoring accounts count.
    let from = found["from"].as_str().unwrap_or_default().to_lowercase();
    if senders.is_empty() {
        return Ok(format!(
            "NOT CHECKED: transaction {tx} comes from {from}; pass --ethereum-sender (or a trust file's ethereumSenders) to say which accounts anchor"
        ));
    }
    if !senders.iter().any(|s| s.to_lowercase() == from) {
        return Ok(format!(
            "MISMATCH: transaction {tx} comes from {from}, not a trusted anchoring account"
        ));
    }
    let to = found["to"].as_str().unwrap_or_default().to_lowercase();
    if reference["to"].as_str().map(str::to_lowercase).as_deref() != Some(to.as_str()) {
        return Ok(format!(
            "MISMATCH: transaction {tx} was sent to {to}, not the anchor address"
        ));
    }
    let Some(block) = quantity(&found["blockNumber"]) else {
        return Ok(format!("pending: transaction {tx} is not mined yet"));
    };
    if found["blockHash"].as_str().map(str::to_lowercase)
        != reference["blockHash"].as_str().map(str::to_lowercase)
    {
        return Ok(format!(
            "MISMATCH: transaction {tx} is in another block than the receipt says (a reorganisation?)"
        ));
    }
    let receipt = call(rpc, "eth_getTransactionReceipt", json!([tx]))?;
    // Nodes before Byzantium give no status; a present one must say success.
    if !receipt["status"].is_null() && quantity(&receipt["status"]) != Some(1) {
        return Ok(format!("MISMATCH: transaction {tx} failed on the ledger"));
    }
    let latest = quantity(&call(rpc, "eth_blockNumber", json!([]))?)
        .context("the node's block number is not a quantity")?;
    let depth = latest.saturating_sub(block) + 1;
    if depth < confirmations {
        return Ok(format!(
            "pending: transaction {tx} in block {block} has {depth} of {confirmations} confirmations"
        ));
    }
    Ok(format!(
        "confirmed: transaction {tx} in block {block} from {from} carries the root ({depth} confirmations)"
    ))
}
