//! `corroborate receipt verify`: checks an anchoring receipt offline, without the service. With
//! the anchored record (the status credential as issued) it also shows the receipt is about that
//! record; with `--rpc` it asks an Ethereum JSON-RPC node whether the transaction holds the root.

use anyhow::{Context, Result, bail};
use clap::Args;
use corroborate_verifier::anchor::{self, LedgerReport, Receipt, RecordCheck, Trust};
use corroborate_verifier::json::{self, Limits};
use corroborate_verifier::note::NoteVerifier;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct VerifyReceiptArgs {
    /// The receipt (JSON, as `GET /decisions/{id}/receipt` returns it).
    receipt: PathBuf,
    /// The anchored record: the status credential as issued (or the decision record).
    #[arg(long)]
    record: Option<PathBuf>,
    /// The keys to trust, as `GET /anchoring/trust` returns them (`logs`, `witnesses`, `quorum`).
    #[arg(long)]
    trust: Option<PathBuf>,
    /// A trusted log key (note verifier key); may be repeated. Adds to `--trust`.
    #[arg(long = "log-key")]
    log_keys: Vec<String>,
    /// A trusted witness key (note verifier key); may be repeated. Adds to `--trust`.
    #[arg(long = "witness")]
    witnesses: Vec<String>,
    /// Cosignatures required from distinct trusted witnesses (overrides `--trust`'s).
    #[arg(long)]
    quorum: Option<usize>,
    /// An Ethereum JSON-RPC URL: also check Ethereum anchors on the ledger itself.
    #[arg(long)]
    rpc: Option<String>,
    /// An account trusted to anchor on Ethereum; may be repeated. Adds to `--trust`'s
    /// `ethereumSenders`. A transaction from any other account does not confirm a receipt.
    #[arg(long = "ethereum-sender")]
    ethereum_senders: Vec<String>,
    /// Blocks (the transaction's own included) an Ethereum anchor needs to count as confirmed.
    #[arg(long, default_value_t = 2)]
    confirmations: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Deserialize)]
struct TrustFile {
    #[serde(default)]
    logs: Vec<String>,
    #[serde(default)]
    witnesses: Vec<String>,
    #[serde(default)]
    quorum: usize,
    #[serde(default, rename = "ethereumSenders")]
    ethereum_senders: Vec<String>,
}

fn read_json(path: &Path) -> Result<Value> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    json::parse(&bytes, &Limits::default())
        .with_context(|| format!("{} is not acceptable JSON", path.display()))
}

fn keys(texts: &[String], what: &str) -> Result<Vec<NoteVerifier>> {
    texts
        .iter()
        .map(|t| NoteVerifier::parse(t).with_context(|| format!("the {what} key {t:?}")))
        .collect()
}

pub fn verify(args: VerifyReceiptArgs) -> Result<ExitCode> {
    let value = read_json(&args.receipt)?;
    // A decision record's receipt comes with its record: accept that bundle as it is served.
    let (receipt_value, bundled) = match (value.get("receipt"), value.get("record")) {
        (Some(receipt), Some(record)) => (receipt.clone(), Some(record.clone())),
        _ => (value, None),
    };
    let receipt: Receipt = serde_json::from_value(receipt_value)
        .with_context(|| format!("{} is not an anchoring receipt", args.receipt.display()))?;
    let record = match &args.record {
        Some(path) => Some(read_json(path)?),
        None => bundled,
    };
    let mut trust = Trust::default();
    let mut senders = args.ethereum_senders.clone();
    if let Some(path) = &args.trust {
        let file: TrustFile = serde_json::from_value(read_json(path)?)
            .with_context(|| format!("{} is not a trust file", path.display()))?;
        trust.logs = keys(&file.logs, "log")?;
        trust.witnesses = keys(&file.witnesses, "witness")?;
        trust.quorum = file.quorum;
        senders.extend(file.ethereum_senders);
    }
    trust.logs.extend(keys(&args.log_keys, "log")?);
    trust.witnesses.extend(keys(&args.witnesses, "witness")?);
    if let Some(quorum) = args.quorum {
        trust.quorum = quorum;
    }
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    let report = anchor::verify_receipt(&receipt, record.as_ref(), &trust, now)
        .context("the receipt does not verify")?;
    let mut ledger_checks = Vec::new();
    if let Some(rpc) = &args.rpc {
        for anchor in &report.anchors {
            if let LedgerReport::NeedsLedger { reference } = &anchor.ledger {
                let root = hex::decode(&anchor.root)?;
                let outcome =
                    crate::ethereum::check(rpc, &root, reference, &senders, args.confirmations)?;
                ledger_checks.push(outcome);
            }
        }
    }
    // Proofs that only lead to a root prove nothing until a trusted log or the ledger holds it.
    let anchored = report
        .anchors
        .iter()
        .any(|a| matches!(a.ledger, LedgerReport::LogVerified { .. }))
        || ledger_checks.iter().any(|c| c.starts_with("confirmed"));
    if args.json {
        out!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "anchored": anchored,
                "report": report,
                "ledger": ledger_checks,
            }))?
        );
    } else {
        if anchored {
            out!("receipt {}: VERIFIED", args.receipt.display());
        } else {
            out!(
                "receipt {}: NOT CONFIRMED (no anchor was verified in a trusted log or confirmed on a ledger)",
                args.receipt.display()
            );
        }
        if trust.quorum == 0 && !trust.logs.is_empty() {
            out!("  warning: quorum 0: the log's operator alone vouches for its checkpoints");
        }
        out!(
            "  record: {}",
            match report.record {
                RecordCheck::Matched => "matches the fingerprint (salt and record)",
                RecordCheck::NotGiven =>
                    "not checked (pass --record FILE to show the receipt is about it)",
            }
        );
        out!("  fingerprint: {}", report.fingerprint);
        for anchor in &report.anchors {
            out!(
                "  anchored on {} ({}), root {}:",
                anchor.connector,
                anchor.state,
                anchor.root
            );
            match &anchor.ledger {
                LedgerReport::LogVerified {
                    origin,
                    tree_size,
                    cosigners,
                } => out!(
                    "    in the log {origin} of {tree_size} leaves; checkpoint cosigned by {}",
                    if cosigners.is_empty() {
                        "no witness".to_owned()
                    } else {
                        cosigners.join(", ")
                    }
                ),
                LedgerReport::NeedsLedger { .. } => out!(
                    "    only the ledger can confirm this reference{}",
                    if args.rpc.is_some() {
                        ""
                    } else {
                        " (pass --rpc URL)"
                    }
                ),
                LedgerReport::NotYetAnchored => {
                    out!("    not yet anchored when the receipt was made")
                }
            }
        }
        for check in &ledger_checks {
            out!("  on the ledger: {check}");
        }
    }
    if ledger_checks.iter().any(|c| !c.starts_with("confirmed")) {
        bail!("the ledger does not confirm every anchor");
    }
    Ok(if anchored {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}
