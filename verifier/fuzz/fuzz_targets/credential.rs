//! Credential and presentation parsing plus verification, on arbitrary bytes: strict JSON parse,
//! data model, proofs of both suites (JSON-LD expansion included), schema. Must never panic.
#![no_main]

use chrono::{TimeZone, Utc};
use corroborate_verifier::did::LocalResolver;
use corroborate_verifier::presentation::{self, Binding};
use corroborate_verifier::verification::{self, VerifyOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(at) = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).single() else {
        return;
    };
    let mut options = VerifyOptions::at(at);
    options.require_schema = data.first().is_some_and(|b| b & 1 == 1);
    let report = pollster::block_on(verification::verify_credential_bytes(data, &options, &LocalResolver));
    // Fail closed: a report is never valid with a failure in it.
    assert!(!(report.is_valid() && !report.failures().is_empty()));
    let binding = Binding::for_decision("fuzz-challenge", "https://verifier.example");
    let report = pollster::block_on(presentation::verify_presentation_bytes(data, &binding, &options, &LocalResolver));
    assert!(!(report.is_valid() && !report.failures.is_empty()));
});
