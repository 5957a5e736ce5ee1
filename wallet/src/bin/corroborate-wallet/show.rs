//! How the command shows things to a person: requests and their progress, what an attester is
//! asked to sign, what a presentation discloses, a decision with its explanation, and QR codes
//! in the terminal. English for now; every line is built here, in one place, for translation.

use corroborate_verifier::decision::Decision;
use corroborate_verifier::policy::Policy;
use corroborate_verifier::verification::{CheckOutcome, CredentialReport};
use corroborate_wallet::flows::{Collection, PresentationAsk, disagreements};
use corroborate_wallet::records::{
    CredentialRecord, GivenRecord, PresentationRecord, RequestRecord,
};
use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;
use serde_json::Value;
use std::fmt::Write as _;

fn text<'a>(value: &'a Value, member: &str) -> &'a str {
    value.get(member).and_then(Value::as_str).unwrap_or("")
}

/// Text for the terminal: control characters (escape sequences that could hide or rewrite what
/// a person reviews before signing) are shown escaped, never interpreted. Line breaks stay.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c == '\n' || !c.is_control() {
                c.to_string()
            } else {
                c.escape_default().to_string()
            }
        })
        .collect()
}

/// A QR code of `data` drawn with half-block characters.
pub fn qr(data: &str) -> String {
    match QrCode::new(data.as_bytes()) {
        Ok(code) => code
            .render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
        Err(e) => format!("(no QR code: {e})"),
    }
}

pub fn created_request(record: &RequestRecord) -> String {
    let mut out = format!(
        "Request {} for a {} about {}\nexpires {}\n",
        record.id, record.fact_type, record.holder, record.expires
    );
    for did in &record.addressed_to {
        let _ = writeln!(out, "  asked: {did}");
    }
    if let Some(link) = &record.link {
        let _ = writeln!(
            out,
            "\nOne-time link for an attester (they open it in their wallet):\n{link}\n\n{}",
            qr(link)
        );
    }
    out
}

pub fn requests(all: &[RequestRecord]) -> String {
    if all.is_empty() {
        return "No requests.\n".into();
    }
    all.iter()
        .map(|r| {
            format!(
                "{}  {}  {}  {}\n",
                r.id,
                r.fact_type,
                r.created.format("%Y-%m-%d"),
                if r.closed.is_some() { "closed" } else { "open" }
            )
        })
        .collect()
}

pub fn progress(view: &Value) -> String {
    let mut out = format!(
        "Request {} ({}) — {}, expires {}\n",
        text(view, "id"),
        text(view, "fact_type"),
        text(view, "state"),
        text(view, "expires")
    );
    for entry in view
        .get("progress")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let _ = writeln!(
            out,
            "  {:<10} {} ({})",
            text(entry, "progress"),
            text(entry, "attester"),
            text(entry, "via").replace('_', " ")
        );
    }
    if let Some(link) = view.get("open_link").and_then(Value::as_str) {
        let _ = writeln!(out, "  open link: {}", link.replace('_', " "));
    }
    out
}

pub fn collection(collection: &Collection) -> String {
    let mut out = String::new();
    for record in &collection.stored {
        let _ = writeln!(out, "kept     {} from {}", record.id, record.issuer);
    }
    for (attester, refusal) in &collection.refused {
        let _ = writeln!(out, "REFUSED  from {attester}: {refusal}");
    }
    for (attester, reason) in &collection.declined {
        let _ = writeln!(
            out,
            "declined by {attester}{}",
            reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        );
    }
    if out.is_empty() {
        out.push_str("Nothing to collect yet.\n");
    }
    let _ = writeln!(out, "The request is {}.", collection.state);
    out
}

pub fn inbox(items: &[Value]) -> String {
    if items.is_empty() {
        return "No requests for you.\n".into();
    }
    items
        .iter()
        .map(|item| {
            format!(
                "{}  {} about {}  expires {}\n",
                text(item, "id"),
                text(item, "fact_type"),
                text(item, "subject"),
                text(item, "expires")
            )
        })
        .collect()
}

/// What an attester is asked to sign, in full.
pub fn review(view: &Value) -> String {
    let mut out = format!(
        "{} asks you to attest a {}.\nIt will be about: {}\n",
        text(view, "subject"),
        text(view, "fact_type"),
        text(view, "subject")
    );
    if let Some(note) = view.get("note").and_then(Value::as_str) {
        let _ = writeln!(out, "Their note: {note}");
    }
    match view.get("claims") {
        Some(claims) if !claims.is_null() => {
            let _ = writeln!(
                out,
                "You would state exactly this (plus your relation to the fact):\n{}",
                serde_json::to_string_pretty(claims).unwrap_or_default()
            );
        }
        _ => out.push_str("The request no longer holds its claims.\n"),
    }
    out
}

pub fn given(all: &[GivenRecord]) -> String {
    if all.is_empty() {
        return "You have given no attestations.\n".into();
    }
    all.iter()
        .map(|g| {
            format!(
                "{}  {} about {}  signed {}{}\n",
                g.id,
                g.fact_type,
                g.subject,
                g.signed.format("%Y-%m-%d"),
                g.revoked
                    .map(|at| format!("  REVOKED {}", at.format("%Y-%m-%d")))
                    .unwrap_or_default()
            )
        })
        .collect()
}

/// The consent screen: what would be disclosed, to whom, under which policy.
pub fn consent(ask: &PresentationAsk, policy: &Policy, selection: &[CredentialRecord]) -> String {
    let mut out = format!(
        "{} ({})\nasks for: {} — policy {} version {}\n  \"{}\"\nverifier: {}\nexpires: {}\n\n",
        ask.policy_owner,
        ask.domain,
        ask.fact_type,
        ask.policy,
        ask.policy_version,
        ask.policy_title,
        ask.verifier,
        ask.expires
    );
    if selection.is_empty() {
        let _ = writeln!(
            out,
            "This wallet holds no valid {} to present.",
            ask.fact_type
        );
        return out;
    }
    let _ = writeln!(
        out,
        "You would disclose these {} credentials, in full:",
        selection.len()
    );
    for record in selection {
        let _ = writeln!(out, "  {}  from {}", record.id, record.issuer);
    }
    let differing = disagreements(selection, policy);
    if !differing.is_empty() {
        let _ = writeln!(
            out,
            "Warning: these credentials state different {}; the verifier will see a contradiction. \
             Name the ones to present with --credential.",
            differing.join(" and ")
        );
    }
    out
}

/// A decision and its explanation, in the verifier's own wording (the same sentences a civil
/// servant reads).
pub fn decision(decision: &Value, status: Option<&CredentialRecord>) -> String {
    let mut out = format!(
        "\nDecision {}: {}\n",
        text(decision, "id"),
        text(decision, "outcome").to_uppercase()
    );
    let explanation = decision.get("explanation").cloned().unwrap_or(Value::Null);
    match serde_json::from_value::<Decision>(explanation) {
        Ok(mut explained) => {
            // The service leaves the subject out of the explanation; the decision names it.
            explained.subject = decision
                .get("subject")
                .and_then(Value::as_str)
                .map(str::to_owned);
            out.push_str(&explained.render_text());
        }
        Err(e) => {
            let _ = writeln!(out, "(the explanation could not be read: {e})");
        }
    }
    if let Some(status) = status {
        let _ = writeln!(
            out,
            "\nStatus credential {} from {} is checked and kept in this wallet.",
            status.id, status.issuer
        );
    }
    out
}

pub fn credentials(all: &[CredentialRecord]) -> String {
    if all.is_empty() {
        return "No credentials.\n".into();
    }
    all.iter()
        .map(|c| {
            format!(
                "{}  {:<24} about {}  from {}  received {}\n",
                c.id,
                c.fact_type,
                c.holder,
                c.issuer,
                c.received.format("%Y-%m-%d")
            )
        })
        .collect()
}

pub fn log(all: &[PresentationRecord]) -> String {
    if all.is_empty() {
        return "You have presented nothing.\n".into();
    }
    let mut out = String::new();
    for record in all {
        let _ = writeln!(
            out,
            "{}  to {} under {} {} — {}",
            record.presented.format("%Y-%m-%d %H:%M"),
            record.verifier,
            record.policy,
            record.policy_version,
            record.outcome.as_deref().unwrap_or("no answer")
        );
        for disclosed in &record.disclosed {
            let _ = writeln!(
                out,
                "    disclosed {} ({}) from {}",
                disclosed.credential, disclosed.fact_type, disclosed.issuer
            );
        }
    }
    out
}

/// An offline verification report.
pub fn report(report: &CredentialReport) -> String {
    let mut out = format!("{:?}\n", report.verdict).to_uppercase();
    for check in &report.checks {
        let outcome = match &check.outcome {
            CheckOutcome::Passed => "passed".to_owned(),
            CheckOutcome::NotApplicable => "not applicable".to_owned(),
            CheckOutcome::Failed { failure } => format!("FAILED: {failure}"),
            CheckOutcome::NotChecked { reason } => format!("not checked: {reason}"),
        };
        let as_of = check
            .as_of
            .map(|at| format!(" (status as of {})", at.format("%Y-%m-%d %H:%M UTC")))
            .unwrap_or_default();
        let _ = writeln!(out, "  {:?}: {outcome}{as_of}", check.check);
    }
    out
}
