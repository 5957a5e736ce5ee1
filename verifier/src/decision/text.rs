//! The words of a decision: every sentence a person reads is built here.
//!
//! [`Wording`] has one method per kind of sentence, each keyed by the outcome, rule, rejection or
//! reason code it speaks about; [`English`] implements it. A translation (Dutch, French, German)
//! is another implementation of the same trait, passed to [`Decision::render`]. The layout —
//! which sentences appear in which order — lives in `render`, once, for every language.

use super::{
    Amount, Decision, InputExplanation, Outcome, Reason, Rejection, RequirementCheck, Rule,
    Sameness, Shared, Whose,
};
use crate::policy::Weight;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The headings of an explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Rejection,
    AgreedClaims,
    CompetingClaims,
    Requirements,
    Inputs,
}

/// Every sentence of an explanation, in one language.
pub trait Wording {
    /// The first line: the outcome and what it means.
    fn outcome(&self, outcome: Outcome) -> String;
    /// Which policy, which fact, about whom, when.
    fn context(&self, decision: &Decision) -> String;
    /// One sentence summing the decision up (also [`Decision::summary`]).
    fn summary(&self, decision: &Decision) -> String;
    fn section(&self, section: Section) -> String;
    /// One agreed claim: `path: value`.
    fn claim(&self, path: &str, value: &Value) -> String;
    /// Introduces one side of a dispute: which inputs state the claims that follow.
    fn claim_group(&self, inputs: &[usize]) -> String;
    fn requirement(&self, check: &RequirementCheck) -> String;
    fn rejection(&self, rejection: &Rejection) -> String;
    /// The head line of one input: what it is and whether it counted.
    fn input(&self, input: &InputExplanation) -> String;
    /// Why an input did not count, or counted for less.
    fn reason(&self, reason: &Reason) -> String;
}

impl Decision {
    /// The explanation a civil servant reads, in English.
    pub fn render_text(&self) -> String {
        self.render(&English)
    }

    /// The explanation in the language of `wording`.
    pub fn render(&self, wording: &dyn Wording) -> String {
        let mut out = String::new();
        let mut line = |text: String| {
            out.push_str(&text);
            out.push('\n');
        };
        line(wording.outcome(self.outcome));
        line(wording.context(self));
        line(wording.summary(self));
        if !self.rejected_because.is_empty() {
            line(String::new());
            line(wording.section(Section::Rejection));
            for rejection in &self.rejected_because {
                line(format!("  - {}", wording.rejection(rejection)));
            }
        }
        if let Some(claims) = &self.agreed_claims {
            line(String::new());
            line(wording.section(Section::AgreedClaims));
            for (path, value) in claims {
                line(format!("  - {}", wording.claim(path, value)));
            }
        }
        let sides = competing_claims(self);
        if !sides.is_empty() {
            line(String::new());
            line(wording.section(Section::CompetingClaims));
            for (claims, inputs) in sides {
                line(format!("  - {}", wording.claim_group(&inputs)));
                for (path, value) in claims {
                    line(format!("      {}", wording.claim(path, value)));
                }
            }
        }
        line(String::new());
        line(wording.section(Section::Requirements));
        for check in &self.requirements {
            line(format!("  - {}", wording.requirement(check)));
        }
        line(String::new());
        line(wording.section(Section::Inputs));
        if self.inputs.is_empty() {
            line("  (none)".into());
        }
        for input in &self.inputs {
            line(format!("  - {}", wording.input(input)));
            for reason in &input.reasons {
                line(format!("      · {}", wording.reason(reason)));
            }
        }
        out
    }
}

/// The sides of a dispute: distinct claims of conflicting inputs, with the inputs stating each.
fn competing_claims(decision: &Decision) -> Vec<(&BTreeMap<String, Value>, Vec<usize>)> {
    // Sides are the groups the engine compared: by agreement key, not by spelling (a bilingual
    // street name with the same register id is one side).
    let key = |claims: &BTreeMap<String, Value>| {
        let object: serde_json::Map<String, Value> =
            claims.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        crate::fact::agreement_key(&Value::Object(object))
    };
    let mut sides: Vec<(&BTreeMap<String, Value>, Vec<usize>)> = Vec::new();
    let conflicting = decision.inputs.iter().filter(|i| {
        i.reasons
            .iter()
            .any(|r| matches!(r, Reason::Conflicting { .. } | Reason::OverriddenBy { .. }))
    });
    for input in conflicting {
        let Some(claims) = &input.claims else {
            continue;
        };
        match sides.iter_mut().find(|(c, _)| key(c) == key(claims)) {
            Some((_, inputs)) => inputs.push(input.index),
            None => sides.push((claims, vec![input.index])),
        }
    }
    sides
}

/// The sides of a dispute, as input numbers: inputs on one side contradict the same others.
/// Read from the reasons alone, so it holds for an explanation without claims (as a service
/// returns it) too.
fn disputing_sides(decision: &Decision) -> Vec<Vec<usize>> {
    let mut sides: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
    for input in &decision.inputs {
        let Some(opponents) = input.reasons.iter().find_map(|r| match r {
            Reason::Conflicting { with } => Some(with),
            _ => None,
        }) else {
            continue;
        };
        let mut opponents = opponents.clone();
        opponents.sort_unstable();
        match sides.iter_mut().find(|(o, _)| *o == opponents) {
            Some((_, inputs)) => inputs.push(input.index),
            None => sides.push((opponents, vec![input.index])),
        }
    }
    sides.into_iter().map(|(_, inputs)| inputs).collect()
}

/// British English, plain sentences.
#[derive(Debug, Clone, Copy, Default)]
pub struct English;

impl Wording for English {
    fn outcome(&self, outcome: Outcome) -> String {
        match outcome {
            Outcome::Established => "ESTABLISHED — the attestations meet every requirement of the policy.".into(),
            Outcome::Insufficient => {
                "INSUFFICIENT — the attestations that count do not meet every requirement of the policy.".into()
            }
            Outcome::Disputed => "DISPUTED — attestations that would count contradict each other, and the policy \
                                  gives no way to settle it."
                .into(),
            Outcome::Rejected => "REJECTED — the presentation itself cannot be accepted, so nothing in it counts.".into(),
        }
    }

    fn context(&self, decision: &Decision) -> String {
        let subject = decision.subject.as_deref().unwrap_or("an unknown subject");
        format!(
            "Policy {} version {}; fact {} about {}; decided at {}.",
            decision.policy.id,
            decision.policy.version,
            decision.fact_type,
            subject,
            crate::credential::rfc3339(decision.decided_at),
        )
    }

    fn summary(&self, decision: &Decision) -> String {
        let totals = &decision.totals;
        match decision.outcome {
            Outcome::Established => format!(
                "The fact is established: total weight {} from {} and {}.",
                totals.weight,
                plural(totals.categories.len() as u64, "category", "categories"),
                plural(
                    totals.entities,
                    "independent entity",
                    "independent entities"
                ),
            ),
            Outcome::Insufficient => {
                let unmet: Vec<String> = decision
                    .requirements
                    .iter()
                    .filter(|r| !r.met)
                    .map(short_requirement)
                    .collect();
                if unmet.is_empty() {
                    "The fact is not established: no attestation counts.".into()
                } else {
                    format!("The fact is not established: {}.", unmet.join("; "))
                }
            }
            Outcome::Disputed => {
                let sides: Vec<String> = disputing_sides(decision)
                    .iter()
                    .map(|inputs| numbers(inputs))
                    .collect();
                format!(
                    "The fact is disputed: {} state different values for the agreed claims.",
                    sides.join(" versus ")
                )
            }
            Outcome::Rejected => {
                let why: Vec<String> = decision
                    .rejected_because
                    .iter()
                    .map(|r| self.rejection(r))
                    .collect();
                format!("The presentation is rejected: {}", why.join(" "))
            }
        }
    }

    fn section(&self, section: Section) -> String {
        match section {
            Section::Rejection => "Why the presentation is rejected",
            Section::AgreedClaims => "Agreed claims",
            Section::CompetingClaims => "Contradicting claims",
            Section::Requirements => "Requirements",
            Section::Inputs => "Attestations",
        }
        .into()
    }

    fn claim(&self, path: &str, value: &Value) -> String {
        format!("{path}: {}", value_text(value))
    }

    fn claim_group(&self, inputs: &[usize]) -> String {
        let verb = if inputs.len() == 1 { "states" } else { "state" };
        format!("{} {verb}:", capitalised(&numbers(inputs)))
    }

    fn requirement(&self, check: &RequirementCheck) -> String {
        let status = if check.met { "[met]" } else { "[NOT MET]" };
        let actual = amount(check.actual);
        let sentence = match check.rule {
            Rule::MinWeight => format!(
                "A total weight of at least {}: found {actual}.",
                amount(check.required)
            ),
            Rule::MinCategories => format!(
                "Attestations from at least {}: found {actual}.",
                plural(count(check.required), "category", "different categories")
            ),
            Rule::MinEntities => format!(
                "Attestations from at least {}: found {actual}.",
                plural(
                    count(check.required),
                    "independent entity",
                    "independent entities"
                )
            ),
            Rule::AnyOf => format!(
                "At least {} {}: found {actual}.",
                plural(
                    count(check.required),
                    "independent attester",
                    "independent attesters"
                ),
                in_categories(check.categories.as_deref().unwrap_or_default()),
            ),
        };
        format!("{status} {sentence}")
    }

    fn rejection(&self, rejection: &Rejection) -> String {
        match rejection {
            Rejection::PresentationFailure { failure } => {
                format!("The presentation failed a check: {failure}.")
            }
            Rejection::MixedSubjects { subjects } => format!(
                "The attestations are about different subjects ({}); a presentation must be about one person.",
                subjects.join(", ")
            ),
            Rejection::NotAboutHolder { holder, inputs } => {
                format!(
                    "{} {} not about the holder, {holder}.",
                    capitalised(&numbers(inputs)),
                    is_are(inputs.len())
                )
            }
            Rejection::NoValidInput => "No attestation passed its integrity checks.".into(),
            Rejection::TooManyInputs { count, limit } => {
                format!("It holds {count} attestations, more than the {limit} a decision reads.")
            }
        }
    }

    fn input(&self, input: &InputExplanation) -> String {
        let what = match (&input.issuer, &input.category) {
            (None, _) => "an unreadable document".to_owned(),
            (Some(issuer), Some(category)) => {
                format!("{} attestation by {issuer}", article(category))
            }
            (Some(issuer), None) => format!("an attestation by {issuer}"),
        };
        let issued = input
            .valid_from
            .as_deref()
            .map(|at| format!(", issued {}", day(at)))
            .unwrap_or_default();
        let verdict = if !input.counted {
            "not counted".to_owned()
        } else if input.effective_weight < input.base_weight {
            format!(
                "counted with weight {} (of {})",
                input.effective_weight, input.base_weight
            )
        } else {
            format!("counted with weight {}", input.effective_weight)
        };
        format!("Input #{} — {what}{issued}: {verdict}.", input.index)
    }

    fn reason(&self, reason: &Reason) -> String {
        match reason {
            Reason::IntegrityFailure { failure } => format!("It failed an integrity check: {failure}."),
            Reason::NotParsed => "It could not be read as a credential.".into(),
            Reason::PresentationRejected => {
                "It would have counted, but the presentation as a whole is rejected.".into()
            }
            Reason::NoSingleSubject => {
                "It does not name exactly one subject, so it cannot be about the holder.".into()
            }
            Reason::AboutAnotherSubject { subject, expected } => {
                format!("It is about {subject}, not about the holder {expected}.")
            }
            Reason::WrongFactType { found: Some(found), expected } => {
                format!("It attests a {found}, but this policy judges a {expected}.")
            }
            Reason::WrongFactType { found: None, expected } => {
                format!("It does not say what fact it attests; this policy judges a {expected}.")
            }
            Reason::DuplicateOf {
                input,
                same: Sameness::Fingerprint,
            } => format!("It is the same credential as input #{input}, which is considered instead."),
            Reason::DuplicateOf { input, same: Sameness::Id } => format!(
                "It has the same issuer and identifier as input #{input}, which is considered instead."
            ),
            Reason::MissingClaim { path } => {
                format!("It does not state {path}, which the policy requires attestations to agree on.")
            }
            Reason::NoIssuanceDate => {
                "It has no issuance date (validFrom), so neither its accreditation nor its age can be checked."
                    .into()
            }
            Reason::IssuedAfterDecision { valid_from } => {
                format!("Its issuance date, {}, is after the time of the decision.", day(valid_from))
            }
            Reason::SelfAttestation => {
                "The attester is the subject: nobody can attest a fact about themselves.".into()
            }
            Reason::PartyToFact {
                roles,
                category,
                may_attest_as,
            } => {
                let roles = roles.iter().map(|r| format!("the {r}")).collect::<Vec<_>>();
                if may_attest_as.is_empty() {
                    format!(
                        "The attester is a party to the fact ({}) and may not count in it at all.",
                        roles.join(", ")
                    )
                } else {
                    format!(
                        "The attester is a party to the fact ({}) and may count only as {}, not as {category}.",
                        roles.join(", "),
                        either(may_attest_as)
                    )
                }
            }
            Reason::NotAParty { category } => format!(
                "Only a party named in the fact may count as {category}, and the attester is not named in it."
            ),
            Reason::NoAccreditation => {
                "The attester is not accredited: the trust registry has no accreditation for this issuer.".into()
            }
            Reason::AccreditationNotForFactType { category, fact_types } => format!(
                "The attester's {category} accreditation does not cover this kind of fact (it covers {}).",
                fact_types.join(", ")
            ),
            Reason::AccreditationNotValidAtIssuance {
                category,
                issued,
                valid_from,
                valid_until,
            } => format!(
                "The attester's {category} accreditation (valid from {}{}) did not cover the issuance date, {}.",
                day(valid_from),
                valid_until
                    .as_deref()
                    .map(|until| format!(" until {}", day(until)))
                    .unwrap_or_default(),
                day(issued),
            ),
            Reason::AccreditationRevokedBeforeIssuance {
                category,
                at,
                revocation_reason,
            } => format!(
                "The attester's {category} accreditation ended on {} ({revocation_reason}), before this attestation was issued.",
                day(at)
            ),
            Reason::AccreditationSuspendedAtIssuance { category, from, until } => format!(
                "The attester's {category} accreditation was suspended {} when this attestation was issued.",
                period(from, until.as_deref())
            ),
            Reason::AccreditationSuspended { category, from, until } => format!(
                "The attester's {category} accreditation is suspended {}; nothing it attested counts meanwhile.",
                period(from, until.as_deref())
            ),
            Reason::AccreditationRevokedForCause {
                category,
                at,
                revocation_reason,
            } => format!(
                "The attester's {category} accreditation was revoked for cause on {} ({revocation_reason}): nothing it attested counts any more.",
                day(at)
            ),
            Reason::CategoryNotAccepted { category } => {
                format!("The attester is accredited as {category}, a category this policy does not accept.")
            }
            Reason::JurisdictionNotAccepted { category, jurisdiction } => format!(
                "The attester's {category} accreditation is for {jurisdiction}, a jurisdiction this policy does not accept."
            ),
            Reason::SubjectNotInRegistry => "The attester is a person and the subject is not in the trust registry, \
                                             so it cannot be ruled out that they are the same person."
                .into(),
            Reason::HouseholdUnknown { whose } => format!(
                "This policy does not count the subject's own household, and the {} household is not known to the trust registry.",
                match whose {
                    Whose::Subject => "subject's",
                    Whose::Attester => "attester's",
                }
            ),
            Reason::SameHouseholdAsSubject => {
                "The attester belongs to the subject's household, which this policy does not count.".into()
            }
            Reason::Stale { age_days, limit_days } => format!(
                "It is {} old; this policy counts attestations up to {} old.",
                plural(*age_days, "day", "days"),
                plural(u64::from(*limit_days), "day", "days")
            ),
            Reason::Decayed {
                age_days,
                full_weight_days,
                zero_weight_days,
            } => format!(
                "Its weight is reduced because it is {} old (full weight up to {full_weight_days} days, none from {zero_weight_days} days).",
                plural(*age_days, "day", "days")
            ),
            Reason::NotIndependent { of, shared } => format!(
                "It comes from the same {} as input #{of}, which counts instead.",
                match shared {
                    Shared::Entity => "organisation or person",
                    Shared::Person => "person",
                    Shared::Household => "household",
                }
            ),
            Reason::Capped { category, cap } => format!(
                "Attestations from the {category} category may add at most {cap} in total, so this one adds only what was left."
            ),
            Reason::Conflicting { with } => {
                format!("It contradicts {} on the agreed claims.", numbers(with))
            }
            Reason::OverriddenBy { input, category } => format!(
                "It contradicts input #{input}, {} attestation, which the policy lets prevail.",
                article(category)
            ),
        }
    }
}

fn count(amount: Amount) -> u64 {
    match amount {
        Amount::Count(n) => n,
        Amount::Weight(w) => w.thousandths() / Weight::SCALE,
    }
}

fn amount(amount: Amount) -> String {
    match amount {
        Amount::Count(n) => n.to_string(),
        Amount::Weight(w) => w.to_string(),
    }
}

/// A requirement not met, in a few words (for the summary).
fn short_requirement(check: &RequirementCheck) -> String {
    let (actual, required) = (amount(check.actual), amount(check.required));
    match check.rule {
        Rule::MinWeight => format!("weight {actual} of {required} required"),
        Rule::MinCategories => format!("{actual} of {required} categories required"),
        Rule::MinEntities => format!("{actual} of {required} independent entities required"),
        Rule::AnyOf => format!(
            "{actual} of {required} required {}",
            in_categories(check.categories.as_deref().unwrap_or_default())
        ),
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn is_are(n: usize) -> &'static str {
    if n == 1 { "is" } else { "are" }
}

/// `input #1`, `inputs #1 and #3`, `inputs #1, #2 and #3`.
fn numbers(inputs: &[usize]) -> String {
    let marked: Vec<String> = inputs.iter().map(|i| format!("#{i}")).collect();
    match marked.as_slice() {
        [] => "no inputs".into(),
        [one] => format!("input {one}"),
        [init @ .., last] => format!("inputs {} and {last}", init.join(", ")),
    }
}

/// `a physician`, `a physician or a midwife`, `a bank, a utility or a landlord`.
fn either(categories: &[String]) -> String {
    let named: Vec<String> = categories.iter().map(|c| article(c)).collect();
    match named.as_slice() {
        [] => "no category".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// `in the category parent`, `in the categories physician or midwife`.
fn in_categories(categories: &[String]) -> String {
    match categories {
        [one] => format!("in the category {one}"),
        [init @ .., last] => format!("in the categories {} or {last}", init.join(", ")),
        [] => "in no category".into(),
    }
}

/// `a bank`, `an attester`, `a utility` (a "u" read as "you" takes "a").
fn article(word: &str) -> String {
    let lower = word.to_lowercase();
    let mut chars = lower.chars();
    let sounds_like_you = matches!(
        (chars.next(), chars.next(), chars.next()),
        (Some('u'), Some(c), Some(v)) if !"aeiou".contains(c) && "aeiou".contains(v)
    ) || lower.starts_with("eu");
    let vowel = lower.starts_with(['a', 'e', 'i', 'o', 'u']) && !sounds_like_you;
    if vowel {
        format!("an {word}")
    } else {
        format!("a {word}")
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A time written as a day when it is midnight UTC.
fn day(at: &str) -> &str {
    at.strip_suffix("T00:00:00Z").unwrap_or(at)
}

fn period(from: &str, until: Option<&str>) -> String {
    match until {
        Some(until) => format!("from {} until {}", day(from), day(until)),
        None => format!("since {}", day(from)),
    }
}

/// A claim value for people: addresses as written on an envelope, other values compactly.
fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Object(o) if o.contains_key("street") || o.contains_key("postalCode") => {
            let get = |key: &str| o.get(key).map(value_text).unwrap_or_default();
            let mut text = format!("{} {}", get("street"), get("houseNumber"))
                .trim()
                .to_owned();
            if o.contains_key("box") {
                let _ = write!(text, " box {}", get("box"));
            }
            let _ = write!(text, ", {} {}", get("postalCode"), get("municipality"));
            if o.contains_key("country") {
                let _ = write!(text, ", {}", get("country"));
            }
            if o.contains_key("addressRegisterId") {
                let _ = write!(text, " (address register {})", get("addressRegisterId"));
            }
            text
        }
        // A language map ({"fr": "Rue de la Loi", "nl": "Wetstraat"}): every version.
        Value::Object(o)
            if !o.is_empty() && o.iter().all(|(k, v)| is_language_tag(k) && v.is_string()) =>
        {
            o.values().map(value_text).collect::<Vec<_>>().join(" / ")
        }
        Value::Object(o) => {
            let parts: Vec<String> = o
                .iter()
                .map(|(k, v)| format!("{k} {}", value_text(v)))
                .collect();
            parts.join(", ")
        }
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join("; "),
        other => other.to_string(),
    }
}

fn is_language_tag(key: &str) -> bool {
    let mut parts = key.split('-');
    parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts
            .all(|p| !p.is_empty() && p.len() <= 8 && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}
