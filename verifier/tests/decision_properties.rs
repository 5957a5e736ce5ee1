//! Properties of the decision engine, for random policies and random bundles of attestations:
//!
//! - the same inputs in any order give the same decision (per-input verdicts keyed by fingerprint);
//! - a duplicate counts once;
//! - adding a valid, agreeing, independent, accredited, fresh attestation never lowers the outcome
//!   (`rejected < disputed < insufficient < established`);
//! - an input with any failure is never counted, and `established` means every requirement is met;
//! - re-evaluating from a decision's evidence (no credentials) gives the decision itself, and with
//!   an input withdrawn gives what deciding without that input gives.
//!
//! Credentials are built with `Credential::from_value` (no signatures: integrity is represented by
//! each input's `failures`). The registry is a fixed cast covering every accreditation situation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use corroborate_verifier::credential::{Credential, parse_date_time};
use corroborate_verifier::decision::{
    Context, Decision, Input, Outcome, Reason, decide, decide_with_evidence, retally,
};
use corroborate_verifier::fact::agreement_key;
use corroborate_verifier::failure::Failure;
use corroborate_verifier::policy::{Policy, Weight};
use corroborate_verifier::registry::FileRegistry;
use proptest::prelude::*;
use proptest::sample::subsequence;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::OnceLock;

const NOW: &str = "2025-06-01T00:00:00Z";
const ALICE: &str = "did:example:alice";
const ZOE: &str = "did:example:zoe";
const CATEGORIES: [&str; 5] = ["utility", "bank", "landlord", "carrier", "neighbour"];

// ---------------------------------------------------------------------------------------------
// The registry: attesters p0..p18 used by generated bundles, fresh0..fresh4 kept for additions.
// ---------------------------------------------------------------------------------------------

const POOL: usize = 19;

fn registry() -> &'static FileRegistry {
    static REGISTRY: OnceLock<FileRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let r = ["ResidenceAttestation"];
        let org = |i: usize, category: &str, entity: &str| {
            json!({"did": pool(i), "category": category, "fact_types": r, "controller": entity,
                   "jurisdiction": "BE", "valid_from": "2020-01-01T00:00:00Z"})
        };
        let person = |i: usize, person: &str, household: Option<&str>| {
            let mut a = json!({"did": pool(i), "category": "neighbour", "fact_types": r, "controller": person,
                               "person": person, "jurisdiction": "BE", "valid_from": "2020-01-01T00:00:00Z"});
            if let Some(h) = household {
                a["household"] = json!(h);
            }
            a
        };
        let set = |mut a: Value, key: &str, value: Value| {
            a[key] = value;
            a
        };
        let mut accreditations = vec![
            org(0, "utility", "U1"),
            org(1, "utility", "U1"), // a second DID of the same company
            org(2, "bank", "B1"),
            org(3, "bank", "B2"),
            org(4, "landlord", "L1"),
            org(5, "carrier", "C1"),
            person(6, "psn:p6", Some("hh:6")),
            person(7, "psn:p7", Some("hh:7")),
            person(8, "psn:p8", Some("hh:6")),         // same household as p6
            person(9, "psn:p9", Some("hh:alice")),     // the subject's household
            person(10, "psn:alice", Some("hh:alice")), // the subject under another DID
            set(org(11, "bank", "B11"), "revoked", json!({"at": "2025-05-01T00:00:00Z", "reason": "fraud", "for_cause": true})),
            set(org(12, "bank", "B12"), "valid_from", json!("2025-01-01T00:00:00Z")),
            // p13: not accredited at all
            set(org(14, "hospital", "H14"), "fact_types", json!(["BirthAttestation"])),
            set(org(15, "landlord", "L15"), "suspensions", json!([{"from": "2025-04-01T00:00:00Z"}])),
            set(org(16, "bank", "NL16"), "jurisdiction", json!("NL")),
            person(17, "psn:p17", None), // household unknown
            // p18: the subject herself
        ];
        for (k, category) in CATEGORIES.iter().enumerate() {
            let mut a = json!({"did": fresh(k), "category": category, "fact_types": r,
                               "controller": format!("F{k}"), "jurisdiction": "BE",
                               "valid_from": "2020-01-01T00:00:00Z"});
            if *category == "neighbour" {
                a["person"] = json!(format!("psn:fresh{k}"));
                a["household"] = json!(format!("hh:fresh{k}"));
                a["controller"] = a["person"].clone();
            }
            accreditations.push(a);
        }
        FileRegistry::from_json(&json!({
            "persons": [{"did": ALICE, "person": "psn:alice", "household": "hh:alice"}],
            "accreditations": accreditations
        }))
        .unwrap()
    })
}

fn pool(i: usize) -> String {
    if i == 18 {
        ALICE.to_owned()
    } else {
        format!("did:example:p{i}")
    }
}

fn fresh(k: usize) -> String {
    format!("did:example:fresh{k}")
}

// ---------------------------------------------------------------------------------------------
// Attestations
// ---------------------------------------------------------------------------------------------

/// What to build one attestation from.
#[derive(Debug, Clone, PartialEq)]
struct Spec {
    issuer: String,
    /// 0 and 1: the same address (same register id, other spelling); 2: another address.
    address: u8,
    /// 0: since 2020-01-01; 1: since 2021-06-01.
    since: u8,
    age_days: u32,
    subject: String,
    id: Option<String>,
    birth: bool,
    failures: Vec<Failure>,
}

impl Spec {
    fn json(&self) -> Value {
        let address = match self.address {
            0 => {
                json!({"street": "Wetstraat", "houseNumber": "16", "postalCode": "1040", "municipality": "Etterbeek", "country": "BE", "addressRegisterId": "https://example.org/address/A"})
            }
            1 => {
                json!({"street": {"fr": "Rue de la Loi"}, "houseNumber": "16", "postalCode": "1040", "municipality": " Etterbeek ", "country": "BE", "addressRegisterId": "https://example.org/address/A"})
            }
            _ => {
                json!({"street": "Naamsestraat", "houseNumber": "80", "postalCode": "3000", "municipality": "Leuven", "country": "BE", "addressRegisterId": "https://example.org/address/B"})
            }
        };
        let since = if self.since == 0 {
            "2020-01-01"
        } else {
            "2021-06-01"
        };
        let issued = parse_date_time(NOW).unwrap()
            - chrono::Duration::days(i64::from(self.age_days))
            - chrono::Duration::hours(1);
        let mut doc = json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential", if self.birth { "BirthAttestation" } else { "ResidenceAttestation" }],
            "issuer": self.issuer,
            "validFrom": corroborate_verifier::credential::rfc3339(issued),
            "credentialSubject": {
                "id": self.subject,
                "residence": {"address": address, "since": since},
                "attesterRelation": {"role": "other"}
            }
        });
        if let Some(id) = &self.id {
            doc["id"] = json!(id);
        }
        doc
    }

    fn input(&self) -> Input {
        Input {
            credential: Some(Credential::from_value(self.json()).unwrap()),
            failures: self.failures.clone(),
        }
    }
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop_oneof![3 => 0..8usize, 2 => 0..POOL],
        prop_oneof![4 => Just(0u8), 2 => Just(1u8), 2 => Just(2u8)],
        prop_oneof![9 => Just(0u8), 1 => Just(1u8)],
        prop_oneof![3 => 0u32..60, 2 => 0u32..900],
        prop_oneof![39 => Just(ALICE), 1 => Just(ZOE)],
        prop::option::weighted(0.3, 0u8..3),
        prop::bool::weighted(0.05),
        prop::option::weighted(
            0.1,
            prop_oneof![Just(Failure::BadSignature), Just(Failure::NoProof)],
        ),
    )
        .prop_map(
            |(issuer, address, since, age_days, subject, id, birth, failure)| Spec {
                issuer: pool(issuer),
                address,
                since,
                age_days,
                subject: subject.to_owned(),
                id: id.map(|n| format!("urn:example:{issuer}:{n}")),
                birth,
                failures: failure.into_iter().collect(),
            },
        )
}

// ---------------------------------------------------------------------------------------------
// Policies
// ---------------------------------------------------------------------------------------------

fn weight() -> impl Strategy<Value = String> {
    (0u64..=3000).prop_map(|t| Weight::from_thousandths(t).to_fixed())
}

fn categories() -> impl Strategy<Value = Vec<&'static str>> {
    subsequence(CATEGORIES.to_vec(), 0..=CATEGORIES.len())
}

fn policy() -> impl Strategy<Value = Policy> {
    let weights = prop::collection::vec(weight(), 5);
    let caps = prop::collection::vec(
        prop::option::weighted(
            0.3,
            (1u64..=3000).prop_map(|t| Weight::from_thousandths(t).to_fixed()),
        ),
        5,
    );
    let require = prop::collection::vec((subsequence(CATEGORIES.to_vec(), 1..=3), 1u32..=2), 0..=2);
    let independence = prop::array::uniform4(any::<bool>());
    let freshness = (30u32..=800, prop::option::of((0u32..1000, 1u32..600)));
    (
        weights,
        caps,
        (0u64..=6000, 0u32..=3, 1u32..=4),
        require,
        independence,
        freshness,
        categories(),
        any::<bool>(),
    )
        .prop_map(|(weights, caps, (min_weight, min_categories, min_entities), require, ind, (max_age, decay), override_by, jurisdiction)| {
            let mut doc = json!({
                "id": "test/residence", "version": "1", "owner": "Test", "title": "Test",
                "fact_type": "ResidenceAttestation",
                "agree": ["residence.address", "residence.since"],
                "categories": {},
                "min_weight": Weight::from_thousandths(min_weight).to_fixed(),
                "min_categories": min_categories,
                "min_entities": min_entities,
                "caps": {},
                "require": require.iter().map(|(any_of, min)| json!({"any_of": any_of, "min": min})).collect::<Vec<_>>(),
                "independence": {"exclude_subject_household": ind[0], "one_per_entity": ind[1], "one_per_person": ind[2], "one_per_household": ind[3]},
                "freshness": {"max_age_days": max_age},
                "conflicts": {"override_by": override_by}
            });
            for (k, category) in CATEGORIES.iter().enumerate() {
                doc["categories"][category] = json!({"weight": weights[k]});
                if let Some(cap) = &caps[k] {
                    doc["caps"][category] = json!(cap);
                }
            }
            if let Some((full, span)) = decay {
                let full = full % max_age;
                doc["freshness"]["decay"] = json!({"full_weight_days": full, "zero_weight_days": full + span});
            }
            if jurisdiction {
                doc["jurisdictions"] = json!(["BE"]);
            }
            Policy::from_json(&doc).unwrap_or_else(|e| panic!("generated an invalid policy ({e}): {doc}"))
        })
}

// ---------------------------------------------------------------------------------------------
// Deciding, and what must hold of every decision
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct World {
    policy: Policy,
    specs: Vec<Spec>,
    holder: Option<&'static str>,
    presentation_failed: bool,
}

fn world() -> impl Strategy<Value = World> {
    (
        policy(),
        prop::collection::vec(spec(), 0..10),
        prop_oneof![Just(None), Just(Some(ALICE))],
        prop::bool::weighted(0.03),
    )
        .prop_map(|(policy, specs, holder, presentation_failed)| World {
            policy,
            specs,
            holder,
            presentation_failed,
        })
}

impl World {
    fn context(&self) -> Context {
        Context {
            at: parse_date_time(NOW).unwrap(),
            subject: self.holder.map(str::to_owned),
            bundle_failures: if self.presentation_failed {
                vec![Failure::ChallengeMismatch]
            } else {
                Vec::new()
            },
        }
    }

    fn decide(&self, inputs: &[Input]) -> Decision {
        let decision = decide(&self.policy, registry(), inputs, &self.context());
        check_invariants(inputs, &decision);
        decision
    }
}

fn inputs(specs: &[Spec]) -> Vec<Input> {
    specs.iter().map(Spec::input).collect()
}

fn check_invariants(inputs: &[Input], decision: &Decision) {
    assert_eq!(decision.inputs.len(), inputs.len());
    for (input, explanation) in inputs.iter().zip(&decision.inputs) {
        if !input.failures.is_empty() {
            assert!(
                !explanation.counted,
                "an input with failures was counted: {explanation:?}"
            );
        }
        if explanation.counted {
            assert!(
                explanation.reasons.iter().all(Reason::is_note),
                "{explanation:?}"
            );
            assert!(explanation.effective_weight <= explanation.base_weight);
        } else {
            assert!(
                !explanation.reasons.is_empty(),
                "not counted without a reason: {explanation:?}"
            );
            assert_eq!(explanation.effective_weight, Weight::ZERO);
        }
    }
    let counted: Weight = decision.inputs.iter().fold(Weight::ZERO, |sum, i| {
        sum.saturating_add(i.effective_weight)
    });
    assert_eq!(counted, decision.totals.weight);
    match decision.outcome {
        Outcome::Established => {
            assert!(decision.requirements.iter().all(|r| r.met));
            assert!(decision.inputs.iter().any(|i| i.counted));
            assert!(decision.agreed_claims.is_some());
        }
        Outcome::Rejected => {
            assert!(!decision.rejected_because.is_empty());
            assert!(decision.inputs.iter().all(|i| !i.counted));
        }
        Outcome::Disputed => assert!(decision.inputs.iter().all(|i| !i.counted)),
        Outcome::Insufficient => {}
    }
    assert!(!decision.render_text().is_empty());
    serde_json::to_string(decision).unwrap();
}

/// A decision's per-input verdicts with input numbers replaced by fingerprints, sorted: equal for
/// the same inputs in any order.
fn verdicts(decision: &Decision) -> Vec<String> {
    let fingerprint = |index: &Value| -> Value {
        let i = index.as_u64().unwrap() as usize;
        json!(decision.inputs[i].fingerprint)
    };
    let mut out: Vec<String> = decision
        .inputs
        .iter()
        .map(|input| {
            let mut v = serde_json::to_value(input).unwrap();
            v.as_object_mut().unwrap().remove("index");
            for reason in v["reasons"].as_array_mut().unwrap() {
                for key in ["input", "of"] {
                    if let Some(index) = reason.get(key).cloned() {
                        reason[key] = fingerprint(&index);
                    }
                }
                if let Some(with) = reason.get("with").and_then(Value::as_array).cloned() {
                    let mut others: Vec<String> =
                        with.iter().map(|i| fingerprint(i).to_string()).collect();
                    others.sort();
                    reason["with"] = json!(others);
                }
            }
            v.to_string()
        })
        .collect();
    out.sort();
    out
}

fn summary_of(decision: &Decision) -> Value {
    json!({
        "outcome": decision.outcome,
        "subject": decision.subject,
        "agreed_claims": decision.agreed_claims,
        "totals": decision.totals,
        "requirements": decision.requirements,
    })
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn input_order_does_not_matter(world in world(), seed in any::<u64>()) {
        let original = inputs(&world.specs);
        let mut shuffled: Vec<(usize, Input)> = original.iter().cloned().enumerate().collect();
        // A deterministic shuffle from the seed (proptest shrinks the seed with the world).
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let shuffled: Vec<Input> = shuffled.into_iter().map(|(_, input)| input).collect();
        let a = world.decide(&original);
        let b = world.decide(&shuffled);
        prop_assert_eq!(summary_of(&a), summary_of(&b));
        prop_assert_eq!(verdicts(&a), verdicts(&b));
        prop_assert_eq!(a.rejected_because.len(), b.rejected_because.len());
    }

    #[test]
    fn a_duplicate_counts_once(world in world(), pick in any::<prop::sample::Index>()) {
        if world.specs.is_empty() {
            return Ok(());
        }
        let original = inputs(&world.specs);
        let copy = original[pick.index(original.len())].clone();
        let mut doubled = original.clone();
        doubled.push(copy);
        let a = world.decide(&original);
        let b = world.decide(&doubled);
        prop_assert_eq!(summary_of(&a), summary_of(&b));
        prop_assert_eq!(&a.inputs[..], &b.inputs[..original.len()]);
        prop_assert!(!b.inputs[original.len()].counted);
    }

    #[test]
    fn a_copy_with_the_same_id_counts_once(world in world(), pick in any::<prop::sample::Index>()) {
        if world.specs.is_empty() {
            return Ok(());
        }
        let mut specs = world.specs.clone();
        let position = pick.index(specs.len());
        let spec = &mut specs[position];
        spec.id.get_or_insert_with(|| "urn:example:copied".to_owned());
        // Same issuer, id and claims, other bytes (say, re-signed): another fingerprint.
        let mut json = spec.json();
        json["name"] = json!("copy");
        let copy = Input { credential: Some(Credential::from_value(json).unwrap()), failures: spec.failures.clone() };
        let original = inputs(&specs);
        let mut doubled = original.clone();
        doubled.push(copy);
        let a = world.decide(&original);
        let b = world.decide(&doubled);
        // The copy may stand in for the original (it ranks by its own fingerprint), so where
        // attesters spell the agreed claims differently another spelling may be shown: compare
        // the agreed claims by what they mean.
        let meaning = |d: &Decision| {
            let mut s = summary_of(d);
            s["agreed_claims"] = json!(d.agreed_claims.as_ref().map(|c| c.values().map(agreement_key).collect::<Vec<_>>()));
            s
        };
        prop_assert_eq!(meaning(&a), meaning(&b));
        prop_assert_eq!(a.inputs.iter().filter(|i| i.counted).count(), b.inputs.iter().filter(|i| i.counted).count());
    }

    #[test]
    fn an_agreeing_independent_attestation_never_lowers_the_outcome(
        world in world(),
        k in 0..CATEGORIES.len(),
        pick in any::<prop::sample::Index>(),
    ) {
        let original = inputs(&world.specs);
        let before = world.decide(&original);
        // Agree with the winning side; in a dispute, with either side.
        let sides: Vec<&Spec> = world
            .specs
            .iter()
            .zip(&before.inputs)
            .filter(|(_, e)| {
                let winner = e.claims.is_some() && e.claims == before.agreed_claims;
                let disputing = e.reasons.iter().any(|r| matches!(r, Reason::Conflicting { .. }));
                winner || disputing
            })
            .map(|(spec, _)| spec)
            .collect();
        let (address, since) = match sides.as_slice() {
            [] => (0, 0),
            sides => {
                let side = sides[pick.index(sides.len())];
                (side.address, side.since)
            }
        };
        let subject = before.subject.clone().unwrap_or_else(|| ALICE.to_owned());
        let added = Spec {
            issuer: fresh(k),
            address,
            since,
            age_days: 0,
            subject,
            id: None,
            birth: false,
            failures: Vec::new(),
        };
        let mut more = original.clone();
        more.push(added.input());
        let after = world.decide(&more);
        prop_assert!(
            after.outcome >= before.outcome,
            "{:?} became {:?} by adding {:?}\nbefore:\n{}\nafter:\n{}",
            before.outcome, after.outcome, added, before.render_text(), after.render_text()
        );
        if before.outcome == Outcome::Established {
            prop_assert!(after.totals.weight >= before.totals.weight);
        }
    }

    #[test]
    fn failures_never_count(world in world(), flips in prop::collection::vec(any::<bool>(), 10)) {
        // The same bundle with some inputs marked as failing: those never count, whatever else.
        let mut specs = world.specs.clone();
        for (spec, flip) in specs.iter_mut().zip(flips) {
            if flip {
                spec.failures = vec![Failure::BadSignature];
            }
        }
        let decision = world.decide(&inputs(&specs));
        for (spec, explanation) in specs.iter().zip(&decision.inputs) {
            if !spec.failures.is_empty() {
                prop_assert!(!explanation.counted);
                let first_is_integrity = matches!(explanation.reasons.first(), Some(Reason::IntegrityFailure { .. }));
                prop_assert!(first_is_integrity, "{:?}", explanation.reasons);
            }
        }
        if specs.iter().all(|s| !s.failures.is_empty()) {
            prop_assert_eq!(decision.outcome, Outcome::Rejected);
        }
    }

    #[test]
    fn a_retally_of_the_evidence_is_the_decision(world in world()) {
        let bundle = inputs(&world.specs);
        let (decision, evidence) =
            decide_with_evidence(&world.policy, registry(), &bundle, &world.context());
        prop_assume!(decision.outcome != Outcome::Rejected);
        let again = retally(&world.policy, &evidence, &BTreeSet::new());
        prop_assert_eq!(again.outcome, decision.outcome);
        prop_assert_eq!(&again.totals, &decision.totals);
        prop_assert_eq!(&again.requirements, &decision.requirements);
        let counted: Vec<usize> = decision.inputs.iter().filter(|i| i.counted).map(|i| i.index).collect();
        prop_assert_eq!(again.counted, counted);
    }

    #[test]
    fn withdrawing_an_input_is_deciding_without_it(world in world(), pick in any::<prop::sample::Index>()) {
        prop_assume!(!world.specs.is_empty());
        let bundle = inputs(&world.specs);
        let (decision, evidence) =
            decide_with_evidence(&world.policy, registry(), &bundle, &world.context());
        prop_assume!(decision.outcome != Outcome::Rejected);
        let gone = pick.index(world.specs.len());
        // A revoked credential is revoked in every copy and version (one status entry): withdraw
        // the same document and other versions of it (same issuer and id) with it.
        let mut specs = world.specs.clone();
        let withdrawn: BTreeSet<usize> = specs
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                let g = &world.specs[gone];
                (s.issuer == g.issuer && s.id.is_some() && s.id == g.id)
                    || (s.json() == g.json() && s.failures.is_empty())
            })
            .map(|(i, _)| i)
            .chain([gone])
            .collect();
        for i in &withdrawn {
            specs[*i].failures = vec![Failure::BadSignature];
        }
        let without = world.decide(&inputs(&specs));
        let again = retally(&world.policy, &evidence, &withdrawn);
        if without.outcome == Outcome::Rejected {
            // Nothing else passed its checks: nothing counts any more.
            prop_assert_eq!(again.outcome, Outcome::Insufficient);
            prop_assert!(again.counted.is_empty());
        } else {
            prop_assert_eq!(again.outcome, without.outcome);
            prop_assert_eq!(&again.totals, &without.totals);
            prop_assert_eq!(&again.requirements, &without.requirements);
        }
    }
}
