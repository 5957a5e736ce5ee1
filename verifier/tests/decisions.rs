//! Decisions as data: each scenario is a bundle of attestations, the outcome it must get, and the
//! reason codes each input must carry. Also here: every example policy and registry validates
//! against its JSON Schema and parses in Rust (and both refuse the same broken policies), and the
//! shipped example credentials give the demo's decisions.
//!
//! The world of the scenarios: the decision time is 2025-06-01, the subject is `did:example:alice`
//! (household `hh:alice`), and `registry()` accredits a cast of attesters, one per situation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use corroborate_verifier::credential::{Credential, parse_date_time};
use corroborate_verifier::decision::{Context, Decision, Input, Outcome, Reason, decide};
use corroborate_verifier::failure::Failure;
use corroborate_verifier::policy::{Policy, Weight};
use corroborate_verifier::registry::FileRegistry;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// The world
// ---------------------------------------------------------------------------------------------

const NOW: &str = "2025-06-01T00:00:00Z";
const ALICE: &str = "did:example:alice";
const ZOE: &str = "did:example:zoe"; // not in the registry
const BABY: &str = "did:example:baby";
const MUM: &str = "did:example:mum";
const DAD: &str = "did:example:dad";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn load(path: &str) -> Value {
    let text = std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn policy(name: &str) -> Policy {
    Policy::from_json(&load(&format!("schemas/policies/{name}.json"))).unwrap()
}

fn org(did: &str, category: &str, controller: &str) -> Value {
    json!({
        "did": did, "category": category, "fact_types": ["ResidenceAttestation"],
        "controller": controller, "jurisdiction": "BE", "valid_from": "2024-01-01T00:00:00Z"
    })
}

fn person(did: &str, category: &str, fact_types: &[&str], person: &str, household: &str) -> Value {
    json!({
        "did": did, "category": category, "fact_types": fact_types,
        "controller": person, "person": person, "household": household,
        "jurisdiction": "BE", "valid_from": "2024-01-01T00:00:00Z"
    })
}

fn with(mut accreditation: Value, field: &str, value: Value) -> Value {
    accreditation[field] = value;
    accreditation
}

fn registry() -> FileRegistry {
    const R: &[&str] = &["ResidenceAttestation"];
    const B: &[&str] = &["BirthAttestation", "ParentageAttestation"];
    FileRegistry::from_json(&json!({
        "persons": [
            {"did": ALICE, "person": "psn:alice", "household": "hh:alice"},
            {"did": BABY, "person": "psn:baby", "household": "hh:family"}
        ],
        "accreditations": [
            org("did:example:utility", "utility", "BE-UTILITY"),
            org("did:example:utility-2", "utility", "BE-UTILITY"),
            org("did:example:bank", "bank", "BE-BANK-1"),
            org("did:example:bank-2", "bank", "BE-BANK-2"),
            org("did:example:bank-3", "bank", "BE-BANK-3"),
            org("did:example:landlord", "landlord", "BE-LANDLORD"),
            org("did:example:carrier", "carrier", "BE-CARRIER"),
            person("did:example:carol", "neighbour", R, "psn:carol", "hh:carol"),
            person("did:example:dave", "neighbour", R, "psn:dave", "hh:dave"),
            person("did:example:erin", "neighbour", R, "psn:erin", "hh:erin"),
            person("did:example:bob", "neighbour", R, "psn:bob", "hh:alice"),
            person("did:example:alice-2", "neighbour", R, "psn:alice", "hh:alice"),
            with(org("did:example:fraud-bank", "bank", "BE-FRAUD"), "revoked",
                json!({"at": "2025-05-15T00:00:00Z", "reason": "falsified attestations", "for_cause": true})),
            with(org("did:example:ended-bank", "bank", "BE-ENDED"), "revoked",
                json!({"at": "2025-03-01T00:00:00Z", "reason": "contract ended", "for_cause": false})),
            with(org("did:example:new-bank", "bank", "BE-NEW"), "valid_from", json!("2025-05-01T00:00:00Z")),
            with(org("did:example:clinic", "hospital", "BE-CLINIC"), "fact_types", json!(["BirthAttestation"])),
            org("did:example:notary", "notary", "BE-NOTARY"),
            with(org("did:example:foreign-bank", "bank", "NL-BANK"), "jurisdiction", json!("NL")),
            person("did:example:doctor", "physician", B, "psn:doctor", "hh:doctor"),
            person("did:example:midwife", "midwife", B, "psn:midwife", "hh:midwife"),
            person(MUM, "parent", B, "psn:mum", "hh:family"),
            person(MUM, "physician", B, "psn:mum", "hh:family"),
            person(DAD, "physician", B, "psn:dad", "hh:family"),
            person("did:example:other-parent", "parent", B, "psn:other", "hh:other")
        ]
    }))
    .unwrap()
}

/// One attestation to present, and what its integrity checks found.
#[derive(Debug, Clone)]
struct Att {
    json: Value,
    failures: Vec<Failure>,
}

impl Att {
    fn about(mut self, subject: &str) -> Att {
        self.json["credentialSubject"]["id"] = json!(subject);
        self
    }

    fn failing(mut self, failure: Failure) -> Att {
        self.failures.push(failure);
        self
    }

    fn set(mut self, pointer: &str, value: Value) -> Att {
        *self.json.pointer_mut(pointer).unwrap() = value;
        self
    }

    fn input(&self) -> Input {
        Input {
            credential: (!self.json.is_null())
                .then(|| Credential::from_value(self.json.clone()).unwrap()),
            failures: self.failures.clone(),
        }
    }
}

fn credential(fact_type: &str, issuer: &str, issued: &str, subject: Value) -> Att {
    Att {
        json: json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential", fact_type],
            "issuer": issuer,
            "validFrom": format!("{issued}T12:00:00Z"),
            "credentialSubject": subject
        }),
        failures: Vec::new(),
    }
}

/// Two addresses: "A" (where Alice lives) and "B" (somewhere else).
fn address(which: &str) -> Value {
    match which {
        "A" => {
            json!({"street": "Wetstraat", "houseNumber": "16", "postalCode": "1040", "municipality": "Etterbeek", "country": "BE", "addressRegisterId": "https://example.org/address/A"})
        }
        _ => {
            json!({"street": "Naamsestraat", "houseNumber": "80", "postalCode": "3000", "municipality": "Leuven", "country": "BE", "addressRegisterId": "https://example.org/address/B"})
        }
    }
}

fn residence(issuer: &str, at: &str, issued: &str) -> Att {
    credential(
        "ResidenceAttestation",
        &format!("did:example:{issuer}"),
        issued,
        json!({
            "id": ALICE,
            "residence": {"address": address(at), "since": "2020-01-01"},
            "attesterRelation": {"role": "other"}
        }),
    )
}

fn birth(issuer: &str, issued: &str) -> Att {
    let issuer = if issuer.starts_with("did:") {
        issuer.to_owned()
    } else {
        format!("did:example:{issuer}")
    };
    credential(
        "BirthAttestation",
        &issuer,
        issued,
        json!({
            "id": BABY,
            "birth": {"date": "2025-05-20", "place": {"municipality": "Elsene", "country": "BE"}, "mother": {"id": MUM}, "father": {"id": DAD}},
            "attesterRelation": {"role": "other"}
        }),
    )
}

fn parentage(issuer: &str, issued: &str) -> Att {
    credential(
        "ParentageAttestation",
        issuer,
        issued,
        json!({
            "id": BABY,
            "parentage": {"parent": {"id": MUM}, "relationship": "mother", "since": "2025-05-20"},
            "attesterRelation": {"role": "other"}
        }),
    )
}

/// A document that could not be parsed as a credential.
fn unparsable() -> Att {
    Att {
        json: Value::Null,
        failures: vec![Failure::Malformed {
            detail: "`issuer` is required".into(),
        }],
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

struct Case {
    name: &'static str,
    policy: &'static str,
    holder: Option<&'static str>,
    bundle_failures: Vec<Failure>,
    inputs: Vec<Input>,
    outcome: Outcome,
    /// Per input, the reason codes in order (notes on counted inputs included).
    reasons: Vec<Vec<&'static str>>,
    /// Requirement rules expected not to be met (empty: no expectation beyond the outcome).
    unmet: Vec<&'static str>,
}

/// A scenario: its inputs, each with the reason codes it must get, and the outcome.
fn case(
    name: &'static str,
    policy: &'static str,
    inputs: Vec<(Att, &[&'static str])>,
    outcome: Outcome,
) -> Case {
    Case {
        name,
        policy,
        holder: None,
        bundle_failures: Vec::new(),
        inputs: inputs.iter().map(|(att, _)| att.input()).collect(),
        outcome,
        reasons: inputs.iter().map(|(_, codes)| codes.to_vec()).collect(),
        unmet: Vec::new(),
    }
}

impl Case {
    fn holder(mut self, holder: &'static str) -> Case {
        self.holder = Some(holder);
        self
    }

    fn unmet(mut self, rules: &[&'static str]) -> Case {
        self.unmet = rules.to_vec();
        self
    }

    fn presentation_failed(mut self, failure: Failure) -> Case {
        self.bundle_failures.push(failure);
        self
    }
}

const RES: &str = "residence-municipality";
const BIRTH: &str = "birth-registration";
const PARENTAGE: &str = "parentage";
/// A residence attestation of address A, issued a month before the decision.
fn res(issuer: &str) -> Att {
    residence(issuer, "A", "2025-05-01")
}

#[rustfmt::skip] // a table: one input and its expected reasons per line
fn scenarios() -> Vec<Case> {
    use Outcome::*;
    const OK: &[&str] = &[];
    const CONFLICTING: &[&str] = &["conflicting"];
    const REJECTED: &[&str] = &["presentation_rejected"];
    const INTEGRITY: &[&str] = &["integrity_failure"];
    let since_2021 = |att: Att| att.set("/credentialSubject/residence/since", json!("2021-01-01"));
    let in_french = |att: Att| att.set("/credentialSubject/residence/address/street", json!({"fr": "Rue de la Loi"}));
    let alice_herself = credential("ResidenceAttestation", ALICE, "2025-05-01", res("x").json["credentialSubject"].clone());
    let born_19th = |att: Att| att.set("/credentialSubject/birth/date", json!("2025-05-19"));
    let expired = Failure::Expired { valid_until: "2025-05-31T00:00:00Z".into() };
    vec![
        case("established: a utility, a bank and a neighbour agree", RES, vec![
            (res("utility"), OK),
            (res("bank"), OK),
            (res("carol"), OK),
        ], Established),
        case("insufficient: weight short", RES, vec![
            (res("utility"), OK),
            (res("bank"), OK),
        ], Insufficient).unmet(&["min_weight"]),
        case("insufficient: one category only", RES, vec![
            (res("bank"), OK),
            (res("bank-2"), OK),
            (res("bank-3"), OK),
        ], Insufficient).unmet(&["min_categories"]),
        case("disputed: a neighbour contradicts, no override category", RES, vec![
            (res("bank"), CONFLICTING),
            (res("carol"), CONFLICTING),
            (residence("dave", "B", "2025-05-01"), CONFLICTING),
        ], Disputed),
        case("overridden: the utility's side prevails", RES, vec![
            (res("utility"), OK),
            (res("bank"), OK),
            (res("carol"), OK),
            (residence("dave", "B", "2025-05-01"), &["overridden_by"]),
        ], Established),
        case("disputed: override categories on both sides", RES, vec![
            (res("utility"), CONFLICTING),
            (residence("landlord", "B", "2025-05-01"), CONFLICTING),
            (res("bank"), CONFLICTING),
        ], Disputed),
        case("disputed: the same address but another `since` date", RES, vec![
            (res("bank"), CONFLICTING),
            (since_2021(res("carol")), CONFLICTING),
        ], Disputed),
        case("agreement ignores spelling: same register id, street in another language", RES, vec![
            (res("utility"), OK),
            (in_french(res("bank")), OK),
            (res("carol"), OK),
        ], Established),
        case("self-attestation, by the subject's DID and by another DID of the subject", RES, vec![
            (alice_herself, &["self_attestation"]),
            (res("alice-2"), &["self_attestation"]),
            (res("utility"), OK),
            (res("bank"), OK),
            (res("carol"), OK),
        ], Established),
        case("same household as the subject", RES, vec![
            (res("bob"), &["same_household_as_subject"]),
            (res("utility"), OK),
            (res("bank"), OK),
        ], Insufficient),
        case("one entity with two DIDs counts once (the heavier one)", RES, vec![
            (res("utility"), OK),
            (residence("utility-2", "A", "2024-10-01"), &["not_independent"]),
            (res("bank"), OK),
            (res("carol"), OK),
        ], Established),
        case("neighbours are capped at 2", RES, vec![
            (res("carol"), OK),
            (res("dave"), OK),
            (residence("erin", "A", "2024-10-01"), &["decayed", "capped"]),
            (res("bank"), OK),
        ], Established),
        case("a duplicate counts once", RES, vec![
            (res("utility"), OK),
            (res("utility"), &["duplicate_of"]),
            (res("bank"), OK),
        ], Insufficient).unmet(&["min_weight"]),
        case("stale, and decayed but still counted", RES, vec![
            (res("utility"), OK),
            (res("carol"), OK),
            (residence("bank", "A", "2024-05-01"), &["stale"]),
            (residence("landlord", "A", "2024-09-01"), &["decayed"]),
        ], Established),
        case("accreditation revoked for cause after issuance", RES, vec![
            (res("utility"), OK),
            (res("carol"), OK),
            (residence("fraud-bank", "A", "2025-04-01"), &["accreditation_revoked_for_cause"]),
        ], Insufficient),
        case("accreditation ended (not for cause) after issuance: still counts", RES, vec![
            (res("utility"), OK),
            (res("carol"), OK),
            (residence("ended-bank", "A", "2025-02-01"), OK),
        ], Established),
        case("accreditation ended (not for cause) before issuance", RES, vec![
            (res("utility"), OK),
            (res("carol"), OK),
            (residence("ended-bank", "A", "2025-04-01"), &["accreditation_revoked_before_issuance"]),
        ], Insufficient),
        case("accreditation not yet valid at issuance", RES, vec![
            (res("utility"), OK),
            (res("carol"), OK),
            (residence("new-bank", "A", "2025-04-15"), &["accreditation_not_valid_at_issuance"]),
        ], Insufficient),
        case("not accredited: other fact type, none at all, category or jurisdiction not accepted", RES, vec![
            (res("utility"), OK),
            (res("bank"), OK),
            (res("carol"), OK),
            (res("clinic"), &["accreditation_not_for_fact_type"]),
            (res("stranger"), &["no_accreditation"]),
            (res("notary"), &["category_not_accepted"]),
            (res("foreign-bank"), &["jurisdiction_not_accepted"]),
        ], Established),
        case("wrong fact type", RES, vec![
            (res("utility"), OK),
            (res("bank"), OK),
            (res("carol"), OK),
            (birth("doctor", "2025-05-20").about(ALICE), &["wrong_fact_type"]),
        ], Established),
        case("a person attester needs the subject in the registry", RES, vec![
            (res("utility").about(ZOE), OK),
            (res("carol").about(ZOE), &["subject_not_in_registry"]),
            (res("bank").about(ZOE), OK),
        ], Insufficient),
        case("a missing agreed claim", RES, vec![
            (res("utility").set("/credentialSubject/residence", json!({"address": address("A")})), &["missing_claim"]),
        ], Insufficient),
        case("a single bad input just does not count", RES, vec![
            (res("utility"), OK),
            (res("bank").failing(Failure::BadSignature), INTEGRITY),
            (res("carol"), OK),
            (res("landlord"), OK),
        ], Established),
        case("rejected: an input about another subject than the holder", RES, vec![
            (res("utility"), REJECTED),
            (res("bank").about(ZOE), &["about_another_subject"]),
            (res("carol"), REJECTED),
        ], Rejected).holder(ALICE),
        case("rejected: inputs about two subjects, no holder", RES, vec![
            (res("utility"), REJECTED),
            (res("bank").about(ZOE), REJECTED),
        ], Rejected),
        case("rejected: no input passes its integrity checks", RES, vec![
            (res("utility").failing(Failure::BadSignature), INTEGRITY),
            (res("bank").failing(expired), INTEGRITY),
            (unparsable(), INTEGRITY),
        ], Rejected),
        case("rejected: no inputs at all", RES, vec![], Rejected),
        case("rejected: the presentation itself failed", RES, vec![
            (res("utility"), REJECTED),
            (res("bank"), REJECTED),
            (res("carol"), REJECTED),
        ], Rejected).presentation_failed(Failure::ChallengeMismatch),
        case("birth: a physician and a midwife, but no parent", BIRTH, vec![
            (birth("doctor", "2025-05-21"), OK),
            (birth("midwife", "2025-05-21"), OK),
        ], Insufficient).unmet(&["any_of"]),
        case("birth: a physician and the mother", BIRTH, vec![
            (birth("doctor", "2025-05-21"), OK),
            (birth(MUM, "2025-05-22"), OK),
        ], Established),
        case("birth: a parent counts only as a parent named in the fact", BIRTH, vec![
            (birth("doctor", "2025-05-21"), OK),
            (birth(MUM, "2025-05-22"), OK),
            (birth(DAD, "2025-05-22"), &["party_to_fact"]),
            (birth("other-parent", "2025-05-22"), &["not_a_party"]),
        ], Established),
        case("birth: the physician's date prevails over the mother's", BIRTH, vec![
            (birth("doctor", "2025-05-21"), OK),
            (born_19th(birth(MUM, "2025-05-22")), &["overridden_by"]),
        ], Insufficient).unmet(&["min_weight", "min_categories", "min_entities", "any_of"]),
        case("birth: the child cannot attest", BIRTH, vec![
            (birth("doctor", "2025-05-21"), OK),
            (birth(BABY, "2025-05-22"), &["self_attestation"]),
        ], Insufficient),
        case("parentage: the mother and the physician", PARENTAGE, vec![
            (parentage("did:example:doctor", "2025-05-21"), OK),
            (parentage(MUM, "2025-05-22"), OK),
        ], Established),
    ]
}

fn run(case: &Case) -> Decision {
    let context = Context {
        at: parse_date_time(NOW).unwrap(),
        subject: case.holder.map(str::to_owned),
        bundle_failures: case.bundle_failures.clone(),
    };
    decide(&policy(case.policy), &registry(), &case.inputs, &context)
}

fn codes(decision: &Decision) -> Vec<Vec<String>> {
    decision
        .inputs
        .iter()
        .map(|i| i.reasons.iter().map(Reason::code).collect())
        .collect()
}

/// A decision's JSON reads back as the same decision, and so does its form without personal
/// content (no subject, agreed claims or input claims), as a service hands it to a wallet: both
/// can then be explained with the same wording.
#[test]
fn decisions_read_back_from_their_json() {
    for case in scenarios() {
        let decision = run(&case);
        let json = serde_json::to_value(&decision).unwrap();
        let read: Decision = serde_json::from_value(json.clone())
            .unwrap_or_else(|e| panic!("{}: {e}\n{json:#}", case.name));
        assert_eq!(read, decision, "{}", case.name);
        let mut redacted = json;
        redacted.as_object_mut().unwrap().remove("subject");
        redacted.as_object_mut().unwrap().remove("agreed_claims");
        for input in redacted["inputs"].as_array_mut().unwrap() {
            input.as_object_mut().unwrap().remove("claims");
        }
        let read: Decision = serde_json::from_value(redacted).unwrap();
        assert_eq!(read.render_text(), {
            let mut without = decision.clone();
            without.subject = None;
            without.agreed_claims = None;
            for input in &mut without.inputs {
                input.claims = None;
            }
            without.render_text()
        });
    }
}

#[test]
fn scenarios_get_their_outcome_and_reasons() {
    let mut failures = Vec::new();
    for case in scenarios() {
        let decision = run(&case);
        let got = codes(&decision);
        let unmet: Vec<String> = decision
            .requirements
            .iter()
            .filter(|r| !r.met)
            .map(|r| {
                serde_json::to_value(r.rule)
                    .unwrap()
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        let unmet_ok = case.unmet.is_empty() || unmet == case.unmet;
        if decision.outcome != case.outcome || got != case.reasons || !unmet_ok {
            failures.push(format!(
                "{}:\n  expected {:?} {:?} unmet {:?}\n  got      {:?} {:?} unmet {:?}\n{}",
                case.name,
                case.outcome,
                case.reasons,
                case.unmet,
                decision.outcome,
                got,
                unmet,
                decision.render_text()
            ));
        }
        // Whatever the case: nothing with a failure counts, and established means requirements met.
        for (input, explanation) in case.inputs.iter().zip(&decision.inputs) {
            assert!(
                !explanation.counted || input.failures.is_empty(),
                "{}",
                case.name
            );
        }
        if decision.outcome == Outcome::Established {
            assert!(decision.requirements.iter().all(|r| r.met), "{}", case.name);
        }
    }
    assert!(
        failures.is_empty(),
        "{} scenario(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn a_parent_counts_as_parent_even_when_also_a_physician() {
    let case = scenarios()
        .into_iter()
        .find(|c| c.name == "birth: a physician and the mother")
        .unwrap();
    let decision = run(&case);
    let mum = &decision.inputs[1];
    assert_eq!(mum.category.as_deref(), Some("parent"));
    assert_eq!(mum.effective_weight, Weight::from_units(1));
    assert_eq!(decision.totals.weight, Weight::from_units(3));
}

#[test]
fn weights_are_exact_after_decay_and_caps() {
    let case = scenarios()
        .into_iter()
        .find(|c| c.name == "neighbours are capped at 2")
        .unwrap();
    let decision = run(&case);
    let erin = &decision.inputs[2];
    // 2024-10-01T12:00 → 2025-06-01T00:00 is 242 whole days: 1 × (366 − 242) / (366 − 180) = 0.666.
    assert_eq!(erin.base_weight, Weight::from_units(1));
    assert!(erin.counted);
    assert_eq!(
        erin.effective_weight,
        Weight::ZERO,
        "the cap was already filled by carol and dave"
    );
    assert!(erin.reasons.contains(&Reason::Decayed {
        age_days: 242,
        full_weight_days: 180,
        zero_weight_days: 366
    }));
    assert_eq!(decision.totals.weight, Weight::from_units(3));
    assert_eq!(decision.totals.entities, 4);

    let case = scenarios()
        .into_iter()
        .find(|c| c.name == "stale, and decayed but still counted")
        .unwrap();
    let decision = run(&case);
    // 2024-09-01T12:00 → 272 days: 1 × 94 / 186 = 0.50537… → 0.505.
    assert_eq!(
        decision.inputs[3].effective_weight,
        Weight::from_thousandths(505)
    );
    assert_eq!(decision.totals.weight, Weight::from_thousandths(3005));
}

#[test]
fn too_many_inputs_are_not_read() {
    use corroborate_verifier::decision::{MAX_INPUTS, Rejection};
    let inputs: Vec<Input> = (0..=MAX_INPUTS).map(|_| res("utility").input()).collect();
    let decision = decide(
        &policy(RES),
        &registry(),
        &inputs,
        &Context::at(parse_date_time(NOW).unwrap()),
    );
    assert_eq!(decision.outcome, Outcome::Rejected);
    assert_eq!(
        decision.rejected_because,
        [Rejection::TooManyInputs {
            count: MAX_INPUTS + 1,
            limit: MAX_INPUTS
        }]
    );
    assert!(
        decision
            .inputs
            .iter()
            .all(|i| i.reasons == [Reason::PresentationRejected])
    );
}

// ---------------------------------------------------------------------------------------------
// The decision's machine form and its text
// ---------------------------------------------------------------------------------------------

#[test]
fn decision_json_shape() {
    let case = scenarios()
        .into_iter()
        .find(|c| c.name == "overridden: the utility's side prevails")
        .unwrap();
    let json = serde_json::to_value(run(&case)).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "agreed_claims",
            "decided_at",
            "fact_type",
            "inputs",
            "outcome",
            "policy",
            "rejected_because",
            "requirements",
            "subject",
            "summary",
            "totals"
        ]
    );
    assert_eq!(json["outcome"], "established");
    assert_eq!(
        json["policy"],
        json!({"id": "be.example.municipality/residence", "version": "1.0.0"})
    );
    assert_eq!(json["decided_at"], NOW);
    assert_eq!(json["subject"], ALICE);
    assert_eq!(
        json["totals"],
        json!({"weight": "3.500", "categories": ["bank", "neighbour", "utility"], "entities": 3})
    );
    assert_eq!(json["agreed_claims"]["residence.since"], "2020-01-01");
    assert_eq!(
        json["agreed_claims"]["residence.address"]["addressRegisterId"],
        "https://example.org/address/A"
    );
    assert_eq!(
        json["requirements"][0],
        json!({"rule": "min_weight", "required": "3.000", "actual": "3.500", "met": true})
    );
    assert_eq!(
        json["requirements"][1],
        json!({"rule": "min_categories", "required": 2, "actual": 3, "met": true})
    );
    let utility = &json["inputs"][0];
    assert_eq!(utility["counted"], true);
    assert_eq!(utility["category"], "utility");
    assert_eq!(utility["entity"], "BE-UTILITY");
    assert_eq!(utility["base_weight"], "1.500");
    assert_eq!(utility["effective_weight"], "1.500");
    assert_eq!(utility["fingerprint"].as_str().map(str::len), Some(64));
    assert_eq!(utility["valid_from"], "2025-05-01T12:00:00Z");
    let dave = &json["inputs"][3];
    assert_eq!(dave["counted"], false);
    assert_eq!(dave["effective_weight"], "0.000");
    assert_eq!(
        dave["reasons"],
        json!([{"code": "overridden_by", "input": 0, "category": "utility"}])
    );

    let case = scenarios()
        .into_iter()
        .find(|c| c.name == "rejected: no input passes its integrity checks")
        .unwrap();
    let json = serde_json::to_value(run(&case)).unwrap();
    assert_eq!(
        json["rejected_because"],
        json!([{"code": "no_valid_input"}])
    );
    assert_eq!(
        json["inputs"][0]["reasons"],
        json!([{"code": "integrity_failure", "failure": {"code": "bad_signature"}}])
    );
    assert_eq!(json["inputs"][2]["fingerprint"], Value::Null);
    assert_eq!(json["agreed_claims"], Value::Null);
}

#[test]
fn the_text_reads_like_an_explanation() {
    let case = scenarios()
        .into_iter()
        .find(|c| c.name == "overridden: the utility's side prevails")
        .unwrap();
    let text = run(&case).render_text();
    for expected in [
        "ESTABLISHED — the attestations meet every requirement of the policy.",
        "Policy be.example.municipality/residence version 1.0.0; fact ResidenceAttestation about did:example:alice; decided at 2025-06-01T00:00:00Z.",
        "The fact is established: total weight 3.5 from 3 categories and 3 independent entities.",
        "residence.address: Wetstraat 16, 1040 Etterbeek, BE (address register https://example.org/address/A)",
        "[met] A total weight of at least 3: found 3.5.",
        "[met] Attestations from at least 2 different categories: found 3.",
        "Input #0 — a utility attestation by did:example:utility, issued 2025-05-01T12:00:00Z: counted with weight 1.5.",
        "Input #3 — a neighbour attestation by did:example:dave, issued 2025-05-01T12:00:00Z: not counted.",
        "It contradicts input #0, a utility attestation, which the policy lets prevail.",
        "Input #3 states:",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }

    let case = scenarios()
        .into_iter()
        .find(|c| c.name == "birth: a physician and a midwife, but no parent")
        .unwrap();
    let text = run(&case).render_text();
    for expected in [
        "INSUFFICIENT",
        "The fact is not established: 0 of 1 required in the category parent.",
        "[NOT MET] At least 1 independent attester in the category parent: found 0.",
        "[met] At least 1 independent attester in the categories physician or midwife: found 2.",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }

    let case = scenarios()
        .into_iter()
        .find(|c| c.name == "rejected: an input about another subject than the holder")
        .unwrap();
    let text = run(&case).render_text();
    for expected in [
        "REJECTED",
        "Input #1 is not about the holder, did:example:alice.",
        "It is about did:example:zoe, not about the holder did:example:alice.",
        "It would have counted, but the presentation as a whole is rejected.",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

/// Every reason in every scenario has its own sentence (no placeholder, no raw code).
#[test]
fn every_reason_reads_as_a_sentence() {
    for case in scenarios() {
        let decision = run(&case);
        let text = decision.render_text();
        for input in &decision.inputs {
            for reason in &input.reasons {
                let code = reason.code();
                assert!(!code.is_empty());
                assert!(
                    !text.contains(&format!(" {code} ")),
                    "raw code {code} in {}",
                    case.name
                );
            }
        }
        assert!(text.lines().count() > 5, "{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Example files: schema-valid, parse in Rust, and give the demo's decisions
// ---------------------------------------------------------------------------------------------

fn validator(schema: &str) -> jsonschema::Validator {
    jsonschema::validator_for(&load(schema))
        .unwrap_or_else(|e| panic!("{schema} does not compile: {e}"))
}

fn schema_errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn files(folder: &str) -> Vec<(String, Value)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(repo().join(folder))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no examples in {folder}");
    paths
        .into_iter()
        .map(|path| {
            let name = format!("{folder}/{}", path.file_name().unwrap().to_string_lossy());
            let doc = load(&name);
            (name, doc)
        })
        .collect()
}

#[test]
fn example_policies_validate_and_parse() {
    let validator = validator("schemas/policy.schema.json");
    for (name, doc) in files("schemas/policies") {
        assert_eq!(
            schema_errors(&validator, &doc),
            Vec::<String>::new(),
            "{name}"
        );
        let policy = Policy::from_json(&doc).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The machine form we write back is valid too, and reads back the same.
        assert_eq!(
            schema_errors(&validator, &policy.to_json()),
            Vec::<String>::new(),
            "{name} re-serialized"
        );
        assert_eq!(
            Policy::from_json(&policy.to_json()).as_ref(),
            Ok(&policy),
            "{name}"
        );
    }
}

#[test]
fn example_registries_validate_and_parse() {
    let validator = validator("schemas/registry.schema.json");
    for (name, doc) in files("schemas/registries") {
        assert_eq!(
            schema_errors(&validator, &doc),
            Vec::<String>::new(),
            "{name}"
        );
        FileRegistry::from_json(&doc).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// Broken policies: the schema and the Rust parser both refuse them (`true`), or only Rust can
/// tell (`false`: a rule that spans fields).
#[test]
fn schema_and_parser_refuse_the_same_policies() {
    let validator = validator("schemas/policy.schema.json");
    let base = load("schemas/policies/residence-municipality.json");
    let cases: Vec<(&str, Value, bool)> = vec![
        ("/surprise", json!(true), true),
        ("/independence/one_per_house", json!(true), true),
        ("/categories/bank/weight", json!(1.5), true),
        ("/categories/bank/weight", json!("1.2345"), true),
        ("/categories/bank/weight", json!("-1"), true),
        ("/categories/bank/weight", json!(1_000_000), true),
        ("/categories/Bank", json!({"weight": 1}), true),
        ("/categories/bank/colour", json!("red"), true),
        ("/caps/neighbour", json!("0"), true),
        ("/agree", json!([]), true),
        ("/agree", json!(["residence..address"]), true),
        (
            "/agree",
            json!(["residence.address", "residence.address"]),
            true,
        ),
        ("/min_entities", json!(0), true),
        ("/min_weight", json!("3.5.1"), true),
        ("/freshness/max_age_days", json!(0), true),
        ("/require", json!([{"any_of": ["bank"], "min": 0}]), true),
        ("/title", json!(""), true),
        ("/caps/landlords", json!(1), false),
        ("/conflicts/override_by", json!(["court"]), false),
        (
            "/require",
            json!([{"any_of": ["physician"], "min": 1}]),
            false,
        ),
        ("/min_categories", json!(6), false),
        (
            "/freshness/decay",
            json!({"full_weight_days": 366, "zero_weight_days": 366}),
            false,
        ),
    ];
    for (pointer, value, schema_refuses) in cases {
        let mut doc = base.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        doc.pointer_mut(parent)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .insert(key.into(), value.clone());
        assert!(
            Policy::from_json(&doc).is_err(),
            "Rust accepted {pointer} = {value}"
        );
        assert_eq!(
            !validator.is_valid(&doc),
            schema_refuses,
            "schema on {pointer} = {value}"
        );
    }
    let mut missing = base.clone();
    missing.as_object_mut().unwrap().remove("freshness");
    assert!(Policy::from_json(&missing).is_err() && !validator.is_valid(&missing));
}

fn example(name: &str) -> Input {
    Input::passed(Credential::from_value(load(&format!("schemas/examples/{name}.json"))).unwrap())
}

fn demo(policy_name: &str, inputs: &[Input], at: &str) -> Decision {
    let registry = FileRegistry::from_json(&load("schemas/registries/demo.json")).unwrap();
    decide(
        &policy(policy_name),
        &registry,
        inputs,
        &Context::at(parse_date_time(at).unwrap()),
    )
}

/// The shipped example credentials, the demo registry and the example policies fit together.
#[test]
fn the_demo_decisions() {
    let decision = demo(
        "residence-municipality",
        &[
            example("residence-utility"),
            example("residence-bank"),
            example("residence-neighbour"),
            example("residence-carrier"),
        ],
        "2025-03-01T00:00:00Z",
    );
    assert_eq!(
        decision.outcome,
        Outcome::Established,
        "{}",
        decision.render_text()
    );
    assert_eq!(
        codes(&decision),
        [vec![], vec![], vec![], vec!["overridden_by".to_owned()]]
    );
    assert_eq!(decision.totals.weight, Weight::from_thousandths(3500));

    let decision = demo(
        "birth-registration",
        &[example("birth-physician"), example("birth-mother")],
        "2024-09-01T00:00:00Z",
    );
    assert_eq!(
        decision.outcome,
        Outcome::Established,
        "{}",
        decision.render_text()
    );
    assert_eq!(decision.inputs[1].category.as_deref(), Some("parent"));

    let decision = demo(
        "parentage",
        &[example("parentage-physician")],
        "2024-09-01T00:00:00Z",
    );
    assert_eq!(
        decision.outcome,
        Outcome::Insufficient,
        "{}",
        decision.render_text()
    );
}
