//! Inputs the fuzzers once crashed on (`tests/fuzz-regressions/`, named after what they exposed):
//! each must now give a report, never a panic, and never a valid verdict.

#![allow(clippy::unwrap_used, clippy::panic)]

use chrono::{TimeZone, Utc};
use corroborate_verifier::did::LocalResolver;
use corroborate_verifier::presentation::{self, Binding};
use corroborate_verifier::verification::{self, VerifyOptions};

#[test]
fn former_crashes_are_refused_cleanly() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut seen = 0;
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let options = VerifyOptions::at(Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap());
        let report = pollster::block_on(verification::verify_credential_bytes(
            &bytes,
            &options,
            &LocalResolver,
        ));
        assert!(!report.is_valid(), "{}", path.display());
        assert!(!report.failures().is_empty(), "{}", path.display());
        let binding = Binding::for_decision("c", "https://verifier.example");
        let report = pollster::block_on(presentation::verify_presentation_bytes(
            &bytes,
            &binding,
            &options,
            &LocalResolver,
        ));
        assert!(!report.is_valid(), "{}", path.display());
        seen += 1;
    }
    assert!(seen >= 1);
}
