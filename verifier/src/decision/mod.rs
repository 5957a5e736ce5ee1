//! Deciding a fact: a policy applied to a bundle of attestations, with a full explanation.
//!
//! [`decide`] cannot fail: every problem is part of the [`Decision`] it returns — the outcome, the
//! requirements with what was found, and per input whether it counted, with what weight, and the
//! exact [`Reason`] when it did not. The algorithm, step by step (`docs/policies.md` has the long
//! form):
//!
//! 1. **Presentation** (here): presentation-level failures, inputs about another subject than the
//!    holder (or about several subjects), or no input that passed its integrity checks ⇒
//!    `rejected`.
//! 2. **Per input** (here and in `eligibility`): fact type, identical documents, the agreed
//!    claims, issuance date, self-attestation, accreditation (category, fact type, period,
//!    revocation, party roles), the subject's household, freshness and decay. An input that
//!    passes every check is *eligible*.
//! 3. **Groups** (`tally`, as are 4–6): eligible inputs are grouped by their agreed claims; within
//!    a group, one version per credential and, as the policy says, one input per
//!    entity/person/household.
//! 4. **Conflicts**: two groups ⇒ `disputed`, unless exactly one group has an input from an
//!    override category: it wins and the others are overridden.
//! 5. **Weights**: the winning group's inputs count; caps bound each category's contribution.
//! 6. **Requirements**: minimum weight, categories, entities, and the `require` rules ⇒
//!    `established` or `insufficient`.
//!
//! Every choice between inputs is made by content, never by position: inputs are ranked by
//! (weight descending, fingerprint ascending), so the same inputs in any order give the same
//! result.

mod eligibility;
mod evidence;
mod tally;
mod text;

pub use evidence::{Evidence, Retally, retally};
pub use text::{English, Section, Wording};

use crate::credential::{Credential, rfc3339};
use crate::failure::Failure;
use crate::policy::{Policy, PolicyRef, Weight};
use crate::registry::Registry;
use chrono::{DateTime, Utc};
use eligibility::{Eligible, Judge};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use tally::{Tally, requirements, tally};

/// One presented credential and what the integrity checks found.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// `None` when the document could not even be parsed as a credential.
    pub credential: Option<Credential>,
    /// Empty when every integrity check passed (proof, data model, schema, validity period,
    /// status). An input with any failure never counts.
    pub failures: Vec<Failure>,
}

impl Input {
    /// A credential that passed every integrity check.
    pub fn passed(credential: Credential) -> Input {
        Input {
            credential: Some(credential),
            failures: Vec::new(),
        }
    }
}

/// The circumstances of a decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    /// The decision time: freshness, accreditations and revocations are judged as of then.
    pub at: DateTime<Utc>,
    /// The presentation's holder, when there is one: every input must be about them.
    pub subject: Option<String>,
    /// Failures of the presentation itself (proof, challenge, domain, replay): any ⇒ rejected.
    pub bundle_failures: Vec<Failure>,
}

impl Context {
    /// A decision at `at`, with no holder and no presentation failures.
    pub fn at(at: DateTime<Utc>) -> Context {
        Context {
            at,
            subject: None,
            bundle_failures: Vec::new(),
        }
    }
}

/// The outcome of a decision, in the order of the outcome lattice:
/// `rejected < disputed < insufficient < established` (see `docs/policies.md`). Adding a valid,
/// agreeing, independent attestation never moves an outcome down this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The presentation is invalid, or no input passed its integrity checks.
    Rejected,
    /// Counted attestations contradict each other and no override category settles it.
    Disputed,
    /// The attestations agree but do not meet the policy's requirements.
    Insufficient,
    /// The policy's requirements are met by agreeing, independent, accredited attestations.
    Established,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Rejected => "rejected",
            Outcome::Disputed => "disputed",
            Outcome::Insufficient => "insufficient",
            Outcome::Established => "established",
        }
    }
}

/// A decision with its full explanation. Its JSON form is the `--json` output of the CLI and is
/// documented in `docs/policies.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub outcome: Outcome,
    pub policy: PolicyRef,
    pub fact_type: String,
    /// The fact's subject: the holder when given, else the inputs' common subject.
    pub subject: Option<String>,
    #[serde(
        serialize_with = "serialize_time",
        deserialize_with = "deserialize_time"
    )]
    pub decided_at: DateTime<Utc>,
    /// The winning group's agreed claims (path → normalized value); `None` unless the inputs
    /// agree or an override settled a conflict.
    pub agreed_claims: Option<BTreeMap<String, Value>>,
    pub totals: Totals,
    pub requirements: Vec<RequirementCheck>,
    /// Why the presentation was rejected; empty unless the outcome is `rejected`.
    pub rejected_because: Vec<Rejection>,
    pub inputs: Vec<InputExplanation>,
    /// One English sentence; [`Decision::render_text`] gives the whole explanation.
    pub summary: String,
}

/// What the counted inputs add up to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub weight: Weight,
    /// Distinct categories of counted inputs, sorted.
    pub categories: Vec<String>,
    /// Number of distinct controlling entities of counted inputs.
    pub entities: u64,
}

/// One requirement of the policy, what was found, and whether it is met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementCheck {
    pub rule: Rule,
    /// For [`Rule::AnyOf`]: the categories that qualify.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
    pub required: Amount,
    pub actual: Amount,
    pub met: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// `min_weight`: total counted weight.
    MinWeight,
    /// `min_categories`: distinct categories among counted inputs.
    MinCategories,
    /// `min_entities`: distinct controlling entities among counted inputs.
    MinEntities,
    /// An entry of `require`: distinct entities among counted inputs in some categories.
    AnyOf,
}

/// A weight (serialized as a decimal string) or a count (a JSON integer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Amount {
    Weight(Weight),
    Count(u64),
}

/// A weight is written as a decimal string ("3.000"), a count as a number: read back by form.
impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Amount, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Number(n) => n
                .as_u64()
                .map(Amount::Count)
                .ok_or_else(|| serde::de::Error::custom(format!("{n} is not a count"))),
            text @ Value::String(_) => Weight::deserialize(text)
                .map(Amount::Weight)
                .map_err(serde::de::Error::custom),
            other => Err(serde::de::Error::custom(format!(
                "{other} is neither a weight (a decimal string) nor a count"
            ))),
        }
    }
}

impl Amount {
    fn at_least(self, required: Amount) -> bool {
        match (self, required) {
            (Amount::Weight(actual), Amount::Weight(required)) => actual >= required,
            (Amount::Count(actual), Amount::Count(required)) => actual >= required,
            _ => false,
        }
    }
}

/// Why the presentation as a whole was rejected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Rejection {
    /// The presentation itself failed a check.
    PresentationFailure { failure: Failure },
    /// No holder was given and the inputs are about several subjects.
    MixedSubjects { subjects: Vec<String> },
    /// These inputs are about someone other than the holder.
    NotAboutHolder { holder: String, inputs: Vec<usize> },
    /// No input passed its integrity checks (or there were no inputs).
    NoValidInput,
    /// More inputs than [`MAX_INPUTS`]: none was read.
    TooManyInputs { count: usize, limit: usize },
}

/// What the decision made of one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputExplanation {
    /// Position in the presented bundle.
    pub index: usize,
    pub id: Option<String>,
    /// Hex SHA-256 of the credential's canonical form; `None` when it could not be parsed.
    pub fingerprint: Option<String>,
    pub issuer: Option<String>,
    /// `validFrom`: the issuance date that accreditation and freshness are judged by.
    pub valid_from: Option<String>,
    /// The `credentialStatus` entry, kept so a decision can be re-evaluated on revocation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_status: Option<Value>,
    /// The accreditation category it was judged in, once known.
    pub category: Option<String>,
    /// The controlling entity of that accreditation.
    pub entity: Option<String>,
    /// The policy's agreed claims as this input states them (normalized).
    pub claims: Option<BTreeMap<String, Value>>,
    pub counted: bool,
    /// The category's weight in the policy.
    pub base_weight: Weight,
    /// What the input contributes to the total after decay and caps; zero when not counted.
    pub effective_weight: Weight,
    /// Why it did not count, or (for a counted input) why it counts for less than its base weight.
    pub reasons: Vec<Reason>,
}

/// Why an input did not count, or counted for less. Serialized as `{"code": "...", ...fields}`;
/// the codes are stable and are the keys of the sentences in [`Wording::reason`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Reason {
    /// An integrity check failed (proof, data model, schema, validity period, status).
    IntegrityFailure {
        failure: Failure,
    },
    /// The input could not be parsed and no failure was given for it.
    NotParsed,
    /// The input would have counted, but the presentation was rejected.
    PresentationRejected,
    /// The credential does not have exactly one subject with an `id`.
    NoSingleSubject,
    /// The credential is about someone other than the holder.
    AboutAnotherSubject {
        subject: String,
        expected: String,
    },
    WrongFactType {
        found: Option<String>,
        expected: String,
    },
    /// The same credential as input `input`: the same document (`fingerprint`), or another version
    /// of it (`id`: same issuer, `id` and agreed claims, e.g. re-signed).
    DuplicateOf {
        input: usize,
        same: Sameness,
    },
    /// A claim the policy compares is missing.
    MissingClaim {
        path: String,
    },
    /// No `validFrom`: the issuance date, which accreditation and freshness need, is unknown.
    NoIssuanceDate,
    /// `validFrom` is after the decision time.
    IssuedAfterDecision {
        valid_from: String,
    },
    /// The attester is the subject (same DID, or same person behind another DID).
    SelfAttestation,
    /// The attester is a party to the fact and may count only in other categories.
    PartyToFact {
        roles: Vec<String>,
        category: String,
        may_attest_as: Vec<String>,
    },
    /// The category counts only for a party to the fact, and the attester is not one.
    NotAParty {
        category: String,
    },
    /// The registry knows no accreditation for the issuer.
    NoAccreditation,
    AccreditationNotForFactType {
        category: String,
        fact_types: Vec<String>,
    },
    /// The accreditation did not cover the issuance date.
    AccreditationNotValidAtIssuance {
        category: String,
        issued: String,
        valid_from: String,
        valid_until: Option<String>,
    },
    /// Revoked (not for cause) on or before the issuance date.
    AccreditationRevokedBeforeIssuance {
        category: String,
        at: String,
        revocation_reason: String,
    },
    AccreditationSuspendedAtIssuance {
        category: String,
        from: String,
        until: Option<String>,
    },
    AccreditationSuspended {
        category: String,
        from: String,
        until: Option<String>,
    },
    /// Revoked for cause by the decision time: nothing the attester signed counts.
    AccreditationRevokedForCause {
        category: String,
        at: String,
        revocation_reason: String,
    },
    /// The accreditation's category is not one the policy accepts.
    CategoryNotAccepted {
        category: String,
    },
    JurisdictionNotAccepted {
        category: String,
        jurisdiction: String,
    },
    /// The attester is a person, and the subject is unknown to the registry, so self-attestation
    /// through another DID cannot be ruled out.
    SubjectNotInRegistry,
    /// The policy excludes the subject's household, and a household is unknown.
    HouseholdUnknown {
        whose: Whose,
    },
    SameHouseholdAsSubject,
    /// Older than the policy allows (`limit_days`: the maximum age, or where decay reaches zero).
    Stale {
        age_days: u64,
        limit_days: u32,
    },
    /// Counted for less than its base weight because of its age.
    Decayed {
        age_days: u64,
        full_weight_days: u32,
        zero_weight_days: u32,
    },
    /// Shares an entity, person or household with input `of`, which counts instead.
    NotIndependent {
        of: usize,
        shared: Shared,
    },
    /// Counted for less (maybe nothing) because the category's cap was reached.
    Capped {
        category: String,
        cap: Weight,
    },
    /// Counted attestations in `with` state other values for the agreed claims.
    Conflicting {
        with: Vec<usize>,
    },
    /// Contradicts the group that holds input `input`, from override category `category`.
    OverriddenBy {
        input: usize,
        category: String,
    },
}

impl Reason {
    /// A note on a counted input (its weight was reduced), as opposed to a reason it did not count.
    pub fn is_note(&self) -> bool {
        matches!(self, Reason::Decayed { .. } | Reason::Capped { .. })
    }

    /// The stable code, as serialized.
    pub fn code(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("code").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sameness {
    Fingerprint,
    Id,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shared {
    Entity,
    Person,
    Household,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Whose {
    Subject,
    Attester,
}

/// The most inputs one decision reads; more ⇒ `rejected` without reading them (invariant 8: the
/// work is bounded before it starts). Presentations are limited well below this.
pub const MAX_INPUTS: usize = 1024;

/// Applies `policy` to `inputs`. Never fails: see the module documentation for the steps.
pub fn decide(
    policy: &Policy,
    registry: &dyn Registry,
    inputs: &[Input],
    context: &Context,
) -> Decision {
    decide_with_evidence(policy, registry, inputs, context).0
}

/// [`decide`], also returning what a decision record keeps of each eligible input so that it
/// can be re-evaluated later without the credentials ([`retally`]).
pub fn decide_with_evidence(
    policy: &Policy,
    registry: &dyn Registry,
    inputs: &[Input],
    context: &Context,
) -> (Decision, Vec<Evidence>) {
    let mut rejected_because: Vec<Rejection> = context
        .bundle_failures
        .iter()
        .cloned()
        .map(|failure| Rejection::PresentationFailure { failure })
        .collect();
    if inputs.len() > MAX_INPUTS {
        rejected_because.push(Rejection::TooManyInputs {
            count: inputs.len(),
            limit: MAX_INPUTS,
        });
        // Not even fingerprinted: hashing is the expensive part.
        let explained = (0..inputs.len())
            .map(|index| InputExplanation {
                reasons: vec![Reason::PresentationRejected],
                ..InputExplanation::blank(index)
            })
            .collect();
        let decision = finish(
            policy,
            context,
            None,
            rejected_because,
            explained,
            &Tally::default(),
        );
        return (decision, Vec::new());
    }

    let mut explained: Vec<InputExplanation> = inputs.iter().enumerate().map(describe).collect();

    // 1. The presentation: which inputs are sound, and whose fact it is.
    let sound = sound_inputs(inputs, &mut explained, &mut rejected_because);
    let (subject, about_subject) = subject(context, sound, &mut explained, &mut rejected_because);

    // 2. Each input on its own.
    let judge = Judge::new(policy, registry, context.at);
    let eligible: Vec<Eligible> = distinct(policy, about_subject, &mut explained)
        .into_iter()
        .filter_map(|(index, credential, fingerprint)| {
            judge.eligible(index, credential, &fingerprint, &mut explained[index])
        })
        .collect();

    // 3–5. Groups and independence, conflicts, weights.
    let rejected = !rejected_because.is_empty();
    let evidence = if rejected {
        Vec::new()
    } else {
        eligible.iter().map(Evidence::from).collect()
    };
    let tally = tally(policy, eligible, &mut explained, rejected);

    // 6. Requirements and outcome.
    let decision = finish(
        policy,
        context,
        subject,
        rejected_because,
        explained,
        &tally,
    );
    (decision, evidence)
}

/// Step 6: the requirements, the outcome, and the decision as a whole.
fn finish(
    policy: &Policy,
    context: &Context,
    subject: Option<String>,
    rejected_because: Vec<Rejection>,
    inputs: Vec<InputExplanation>,
    tally: &Tally,
) -> Decision {
    let requirements = requirements(policy, tally);
    let outcome = if !rejected_because.is_empty() {
        Outcome::Rejected
    } else if tally.disputed {
        Outcome::Disputed
    } else if tally.counted > 0 && requirements.iter().all(|r| r.met) {
        Outcome::Established
    } else {
        Outcome::Insufficient
    };
    let mut decision = Decision {
        outcome,
        policy: policy.reference(),
        fact_type: policy.fact_type.clone(),
        subject,
        decided_at: context.at,
        agreed_claims: tally.agreed_claims.clone(),
        totals: tally.totals(),
        requirements,
        rejected_because,
        inputs,
        summary: String::new(),
    };
    decision.summary = English.summary(&decision);
    decision
}

/// Step 1a: only inputs that passed every integrity check are read any further.
fn sound_inputs<'a>(
    inputs: &'a [Input],
    explained: &mut [InputExplanation],
    rejected_because: &mut Vec<Rejection>,
) -> Vec<(usize, &'a Credential)> {
    let mut sound = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        match (&input.credential, input.failures.is_empty()) {
            (Some(credential), true) => sound.push((index, credential)),
            (None, true) => explained[index].reasons.push(Reason::NotParsed),
            (_, false) => explained[index].reasons.extend(
                input
                    .failures
                    .iter()
                    .cloned()
                    .map(|failure| Reason::IntegrityFailure { failure }),
            ),
        }
    }
    if sound.is_empty() {
        rejected_because.push(Rejection::NoValidInput);
    }
    sound
}

/// Step 1b: the fact's subject — the holder when there is one, else the inputs' one subject.
/// Inputs about someone else reject the presentation.
fn subject<'a>(
    context: &Context,
    sound: Vec<(usize, &'a Credential)>,
    explained: &mut [InputExplanation],
    rejected_because: &mut Vec<Rejection>,
) -> (Option<String>, Vec<(usize, &'a Credential)>) {
    let mut about_subject = Vec::new();
    let mut strangers = Vec::new();
    for (index, credential) in sound {
        match (credential.subject_id(), &context.subject) {
            (None, _) => explained[index].reasons.push(Reason::NoSingleSubject),
            (Some(subject), Some(holder)) if subject != holder => {
                explained[index].reasons.push(Reason::AboutAnotherSubject {
                    subject: subject.to_owned(),
                    expected: holder.clone(),
                });
                strangers.push(index);
            }
            (Some(_), _) => about_subject.push((index, credential)),
        }
    }
    let subjects: BTreeSet<&str> = about_subject
        .iter()
        .filter_map(|(_, c)| c.subject_id())
        .collect();
    let subject = match &context.subject {
        Some(holder) => {
            if !strangers.is_empty() {
                rejected_because.push(Rejection::NotAboutHolder {
                    holder: holder.clone(),
                    inputs: strangers,
                });
            }
            Some(holder.clone())
        }
        None if subjects.len() > 1 => {
            rejected_because.push(Rejection::MixedSubjects {
                subjects: subjects.iter().map(|s| (*s).to_owned()).collect(),
            });
            None
        }
        None => subjects.first().map(|s| (*s).to_owned()),
    };
    (subject, about_subject)
}

/// Step 2a: inputs of the policy's fact type, each document once. Identical documents: the first
/// in fingerprint order (then position) stands for all. Another version of a credential (same
/// issuer and `id`, other bytes) is recognised once its claims are known, in step 3.
fn distinct<'a>(
    policy: &Policy,
    inputs: Vec<(usize, &'a Credential)>,
    explained: &mut [InputExplanation],
) -> Vec<(usize, &'a Credential, String)> {
    let mut candidates = Vec::new();
    for (index, credential) in inputs {
        if credential.fact_type() == Some(policy.fact_type.as_str()) {
            let fingerprint = explained[index].fingerprint.clone().unwrap_or_default();
            candidates.push((index, credential, fingerprint));
        } else {
            explained[index].reasons.push(Reason::WrongFactType {
                found: credential.fact_type().map(str::to_owned),
                expected: policy.fact_type.clone(),
            });
        }
    }
    candidates.sort_by(|a, b| a.2.cmp(&b.2).then(a.0.cmp(&b.0)));
    let mut first_of: BTreeMap<String, usize> = BTreeMap::new();
    let mut distinct = Vec::new();
    for (index, credential, fingerprint) in candidates {
        match first_of.get(&fingerprint) {
            Some(first) => explained[index].reasons.push(Reason::DuplicateOf {
                input: *first,
                same: Sameness::Fingerprint,
            }),
            None => {
                first_of.insert(fingerprint.clone(), index);
                distinct.push((index, credential, fingerprint));
            }
        }
    }
    distinct
}

/// What is known of an input before any check: its identity.
fn describe((index, input): (usize, &Input)) -> InputExplanation {
    let Some(credential) = &input.credential else {
        return InputExplanation::blank(index);
    };
    InputExplanation {
        id: credential.id().map(str::to_owned),
        fingerprint: Some(credential.fingerprint()),
        issuer: Some(credential.issuer().to_owned()),
        valid_from: credential.valid_from().map(rfc3339),
        credential_status: credential.json().get("credentialStatus").cloned(),
        ..InputExplanation::blank(index)
    }
}

impl InputExplanation {
    fn blank(index: usize) -> InputExplanation {
        InputExplanation {
            index,
            id: None,
            fingerprint: None,
            issuer: None,
            valid_from: None,
            credential_status: None,
            category: None,
            entity: None,
            claims: None,
            counted: false,
            base_weight: Weight::ZERO,
            effective_weight: Weight::ZERO,
            reasons: Vec::new(),
        }
    }
}

fn serialize_time<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&rfc3339(*at))
}

fn deserialize_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(deserializer)?;
    crate::credential::parse_date_time(&text)
        .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not an RFC 3339 date-time")))
}
