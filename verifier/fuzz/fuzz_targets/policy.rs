//! Policy parsing and evaluation on arbitrary bytes. The input is split at the first NUL byte: the
//! part before is a policy (JSON), the part after a JSON array of credentials (unsigned: integrity
//! is represented by the failures list, so the engine itself is what is fuzzed). A policy that
//! does not parse falls back to the shipped residence policy, so both halves are exercised.
//! Must never panic; checks the engine's invariants on every input.
#![no_main]

use chrono::{TimeZone, Utc};
use corroborate_verifier::credential::Credential;
use corroborate_verifier::decision::{self, Context, Input, Outcome};
use corroborate_verifier::json::{self, Limits};
use corroborate_verifier::policy::Policy;
use corroborate_verifier::registry::FileRegistry;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::sync::OnceLock;

const RESIDENCE_POLICY: &str = include_str!("../../../schemas/policies/residence-municipality.json");
const REGISTRY: &str = include_str!("../../../schemas/registries/demo.json");

fn fallback() -> &'static (Policy, FileRegistry) {
    static SHIPPED: OnceLock<(Policy, FileRegistry)> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        let policy = serde_json::from_str::<Value>(RESIDENCE_POLICY).ok().and_then(|v| Policy::from_json(&v).ok());
        let registry = serde_json::from_str::<Value>(REGISTRY).ok().and_then(|v| FileRegistry::from_json(&v).ok());
        match (policy, registry) {
            (Some(p), Some(r)) => (p, r),
            _ => panic!("the shipped policy and registry must parse"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let (policy_bytes, rest) = match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let limits = Limits::default();
    let parsed = json::parse(policy_bytes, &limits).ok().and_then(|v| Policy::from_json(&v).ok());
    let (shipped_policy, registry) = fallback();
    let policy = parsed.as_ref().unwrap_or(shipped_policy);
    let Ok(Value::Array(items)) = json::parse(rest, &limits) else {
        return;
    };
    let inputs: Vec<Input> = items
        .into_iter()
        .take(limits.max_credentials)
        .map(|item| Input {
            credential: Credential::from_value(item).ok(),
            failures: Vec::new(),
        })
        .collect();
    let Some(at) = Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).single() else {
        return;
    };
    let context = Context {
        at,
        subject: None,
        bundle_failures: Vec::new(),
    };
    let forward = decision::decide(policy, registry, &inputs, &context);
    let _ = forward.render_text();
    // Order does not matter.
    let mut reversed: Vec<Input> = inputs.iter().rev().map(|i| Input { credential: i.credential.clone(), failures: i.failures.clone() }).collect();
    let backward = decision::decide(policy, registry, &reversed, &context);
    assert_eq!(forward.outcome, backward.outcome);
    // An input with a failure never counts, so failing every input can never establish.
    for input in &mut reversed {
        input.failures.push(corroborate_verifier::failure::Failure::NoProof);
    }
    assert_ne!(decision::decide(policy, registry, &reversed, &context).outcome, Outcome::Established);
});
