//! Threshold policies: the published, versioned rules by which one institution judges one fact type.
//!
//! A [`Policy`] is data. Its JSON form is described by `schemas/policy.schema.json` and field by
//! field in `docs/policies.md`; [`Policy::from_json`] parses it strictly (unknown fields are
//! refused) and then checks what a schema cannot: that every category a rule names is defined,
//! that decay is consistent with the maximum age, that a requirement can be met at all.
//!
//! Weights are [`Weight`]s: fixed-point integers in thousandths, so sums, caps and decay are exact
//! and give the same result on every platform. They are written as decimal strings with at most
//! three decimals (`"1.5"`) or as whole JSON integers (`2`), never as binary floating point.

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A policy, parsed and checked. Construct it with [`Policy::from_json`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Stable identifier, e.g. `"be.example.municipality/residence"`.
    pub id: String,
    /// The version of this policy; a decision names id and version.
    pub version: String,
    /// The institution that owns and publishes the policy.
    pub owner: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The credential type this policy judges, e.g. `"ResidenceAttestation"`.
    pub fact_type: String,
    /// Claims that must agree; attestations are grouped by the tuple of these values.
    pub agree: Vec<ClaimPath>,
    /// Accepted attester categories and their weights. Categories not listed never count.
    pub categories: BTreeMap<String, Category>,
    pub min_weight: Weight,
    pub min_categories: u32,
    /// Minimum number of distinct controlling entities among counted attestations.
    pub min_entities: u32,
    /// Accreditation jurisdictions accepted; empty accepts any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jurisdictions: Vec<String>,
    /// Maximum contribution of a category to the total weight.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub caps: BTreeMap<String, Weight>,
    /// Further requirements: at least `min` distinct entities from any of some categories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub require: Vec<CategoryRequirement>,
    /// Parties to the fact other than the subject, and the categories they may count in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parties: Vec<Party>,
    pub independence: Independence,
    pub freshness: Freshness,
    #[serde(default)]
    pub conflicts: Conflicts,
}

/// One accepted category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub weight: Weight,
    /// Only a party to the fact (see [`Party`]) may count in this category: a `parent` attests a
    /// birth only as the mother or father named in it, never as somebody else's parent.
    #[serde(default, skip_serializing_if = "is_false")]
    pub only_parties: bool,
}

/// At least `min` distinct entities among counted attestations in any of `any_of`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryRequirement {
    pub any_of: Vec<String>,
    pub min: u32,
}

/// A party to the fact, found at a claim path (e.g. `birth.mother.id`), and the categories in
/// which such a party may count. The subject is always a party and never counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    pub path: ClaimPath,
    pub role: String,
    pub may_attest_as: Vec<String>,
}

/// Independence rules. Self-attestation never counts, whatever these say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Independence {
    /// Attesters in the subject's household do not count.
    pub exclude_subject_household: bool,
    /// At most one attestation per controlling entity counts (two DIDs of one company count once).
    pub one_per_entity: bool,
    /// At most one attestation per person counts (two DIDs of one person count once).
    pub one_per_person: bool,
    /// At most one attestation per household counts.
    pub one_per_household: bool,
}

/// How old an attestation may be, and how its weight decays with age.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Freshness {
    /// Older than this (in whole days since `validFrom`) is stale and does not count.
    pub max_age_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decay: Option<Decay>,
}

/// Linear decay: full weight up to `full_weight_days`, none from `zero_weight_days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decay {
    pub full_weight_days: u32,
    pub zero_weight_days: u32,
}

/// What a contradicting attestation does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conflicts {
    /// When exactly one group of agreeing attestations holds a counted attestation from one of
    /// these categories, that group wins and the others are overridden. Otherwise: `disputed`.
    #[serde(default)]
    pub override_by: Vec<String>,
}

/// What [`Freshness::weigh`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aged {
    /// Counts with this weight; `decayed` when it is less than the base weight because of age.
    Fresh { weight: Weight, decayed: bool },
    /// Too old to count: older than `limit_days` (the maximum age, or where decay reaches zero).
    Stale { limit_days: u32 },
}

impl Freshness {
    /// The weight of an attestation `age_days` whole days old, whose category weighs `base`.
    ///
    /// Stale when `age_days > max_age_days`, or when decay has reached zero
    /// (`age_days >= zero_weight_days`). Between `full_weight_days` (a) and `zero_weight_days` (b)
    /// the weight is `floor(base × (b − age) / (b − a))`, computed in integer thousandths.
    pub fn weigh(&self, base: Weight, age_days: u64) -> Aged {
        if age_days > u64::from(self.max_age_days) {
            return Aged::Stale {
                limit_days: self.max_age_days,
            };
        }
        let Some(decay) = self.decay else {
            return Aged::Fresh {
                weight: base,
                decayed: false,
            };
        };
        let (full, zero) = (
            u64::from(decay.full_weight_days),
            u64::from(decay.zero_weight_days),
        );
        if age_days >= zero {
            return Aged::Stale {
                limit_days: decay.zero_weight_days,
            };
        }
        if age_days <= full {
            return Aged::Fresh {
                weight: base,
                decayed: false,
            };
        }
        // zero > age > full here, so the denominator is positive.
        let weight = base.scaled(zero - age_days, zero - full);
        Aged::Fresh {
            weight,
            decayed: weight < base,
        }
    }
}

/// Why a policy was refused. Each message names the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("unknown field `{field}` (expected {expected})")]
    UnknownField { field: String, expected: String },
    #[error("missing field `{field}`")]
    MissingField { field: String },
    #[error("bad weight: {detail}")]
    BadWeight { detail: String },
    #[error("`{at}` names category {category:?}, which `categories` does not define")]
    UnknownCategory { at: String, category: String },
    #[error(
        "`{at}`: category name {category:?} must be lower-case letters, digits, `_` or `-`, starting with a letter"
    )]
    BadCategoryName { at: String, category: String },
    #[error("`{at}`: bad claim path {path:?}: {detail}")]
    BadClaimPath {
        at: String,
        path: String,
        detail: String,
    },
    #[error("`{field}` must not be empty")]
    Empty { field: String },
    #[error("`{at}` lists {value:?} twice")]
    Duplicate { at: String, value: String },
    #[error("inconsistent policy: {detail}")]
    Inconsistent { detail: String },
    #[error("malformed policy: {detail}")]
    Malformed { detail: String },
}

impl Policy {
    /// Parses and checks a policy document.
    pub fn from_json(value: &Value) -> Result<Policy, PolicyError> {
        let policy: Policy = Policy::deserialize(value).map_err(classify)?;
        policy.check()?;
        Ok(policy)
    }

    /// The JSON form (weights as three-decimal strings); [`Policy::from_json`] reads it back.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The policy's name in a decision.
    pub fn reference(&self) -> PolicyRef {
        PolicyRef {
            id: self.id.clone(),
            version: self.version.clone(),
        }
    }

    /// The weight of `category`, if the policy accepts it.
    pub fn weight(&self, category: &str) -> Option<Weight> {
        self.categories.get(category).map(|c| c.weight)
    }

    fn check(&self) -> Result<(), PolicyError> {
        for (field, value) in [
            ("id", &self.id),
            ("version", &self.version),
            ("owner", &self.owner),
            ("title", &self.title),
            ("fact_type", &self.fact_type),
        ] {
            if value.trim().is_empty() {
                return Err(PolicyError::Empty {
                    field: field.into(),
                });
            }
        }
        if self.agree.is_empty() {
            return Err(PolicyError::Empty {
                field: "agree".into(),
            });
        }
        unique("agree", self.agree.iter().map(ClaimPath::as_str))?;
        if self.categories.is_empty() {
            return Err(PolicyError::Empty {
                field: "categories".into(),
            });
        }
        for name in self.categories.keys() {
            if !is_category_name(name) {
                return Err(PolicyError::BadCategoryName {
                    at: "categories".into(),
                    category: name.clone(),
                });
            }
        }
        if self.min_entities == 0 {
            return Err(PolicyError::Inconsistent {
                detail:
                    "`min_entities` must be at least 1: nothing is established without an attester"
                        .into(),
            });
        }
        if self.min_categories as usize > self.categories.len() {
            return Err(PolicyError::Inconsistent {
                detail: format!(
                    "`min_categories` is {} but only {} categories are defined",
                    self.min_categories,
                    self.categories.len()
                ),
            });
        }
        unique(
            "jurisdictions",
            self.jurisdictions.iter().map(String::as_str),
        )?;
        if self.jurisdictions.iter().any(|j| j.trim().is_empty()) {
            return Err(PolicyError::Empty {
                field: "jurisdictions[]".into(),
            });
        }
        for (category, cap) in &self.caps {
            self.known("caps", category)?;
            if *cap == Weight::ZERO {
                return Err(PolicyError::BadWeight {
                    detail: format!("`caps.{category}` is 0; remove the category instead"),
                });
            }
        }
        for (position, rule) in self.require.iter().enumerate() {
            let at = format!("require[{position}].any_of");
            if rule.any_of.is_empty() {
                return Err(PolicyError::Empty { field: at });
            }
            unique(&at, rule.any_of.iter().map(String::as_str))?;
            for category in &rule.any_of {
                self.known(&at, category)?;
            }
            if rule.min == 0 {
                return Err(PolicyError::Inconsistent {
                    detail: format!("`require[{position}].min` must be at least 1"),
                });
            }
        }
        unique(
            "parties[].role",
            self.parties.iter().map(|p| p.role.as_str()),
        )?;
        for (position, party) in self.parties.iter().enumerate() {
            if party.role.trim().is_empty() {
                return Err(PolicyError::Empty {
                    field: format!("parties[{position}].role"),
                });
            }
            let at = format!("parties[{position}].may_attest_as");
            unique(&at, party.may_attest_as.iter().map(String::as_str))?;
            for category in &party.may_attest_as {
                self.known(&at, category)?;
            }
        }
        for (name, category) in &self.categories {
            let reachable = self.parties.iter().any(|p| p.may_attest_as.contains(name));
            if category.only_parties && !reachable {
                return Err(PolicyError::Inconsistent {
                    detail: format!(
                        "category {name:?} is `only_parties` but no entry of `parties` may attest as {name:?}"
                    ),
                });
            }
        }
        if self.freshness.max_age_days == 0 {
            return Err(PolicyError::Inconsistent {
                detail: "`freshness.max_age_days` must be at least 1".into(),
            });
        }
        if let Some(decay) = self.freshness.decay {
            if decay.full_weight_days >= decay.zero_weight_days {
                return Err(PolicyError::Inconsistent {
                    detail:
                        "`freshness.decay.full_weight_days` must be less than `zero_weight_days`"
                            .into(),
                });
            }
            if decay.full_weight_days >= self.freshness.max_age_days {
                return Err(PolicyError::Inconsistent {
                    detail: "`freshness.decay.full_weight_days` must be less than `max_age_days`, or the decay never applies".into(),
                });
            }
        }
        unique(
            "conflicts.override_by",
            self.conflicts.override_by.iter().map(String::as_str),
        )?;
        for category in &self.conflicts.override_by {
            self.known("conflicts.override_by", category)?;
        }
        Ok(())
    }

    fn known(&self, at: &str, category: &str) -> Result<(), PolicyError> {
        if self.categories.contains_key(category) {
            Ok(())
        } else {
            Err(PolicyError::UnknownCategory {
                at: at.into(),
                category: category.into(),
            })
        }
    }
}

/// A policy's name and version, as a decision records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRef {
    pub id: String,
    pub version: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Category names: `^[a-z][a-z0-9_-]*$` (the schema says the same).
fn is_category_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

fn unique<'a>(at: &str, values: impl Iterator<Item = &'a str>) -> Result<(), PolicyError> {
    let mut seen = BTreeSet::new();
    for value in values {
        if !seen.insert(value) {
            return Err(PolicyError::Duplicate {
                at: at.into(),
                value: value.into(),
            });
        }
    }
    Ok(())
}

/// serde reports structural errors as text; these are the shapes its derive produces.
fn classify(error: serde_json::Error) -> PolicyError {
    let message = error.to_string();
    match crate::json::field_error(&message) {
        Some(crate::json::FieldError::Unknown { field, expected }) => {
            return PolicyError::UnknownField { field, expected };
        }
        Some(crate::json::FieldError::Missing { field }) => {
            return PolicyError::MissingField { field };
        }
        None => {}
    }
    if let Some(detail) = message.strip_prefix(BAD_WEIGHT) {
        return PolicyError::BadWeight {
            detail: detail.into(),
        };
    }
    if let Some(rest) = message.strip_prefix(BAD_PATH)
        && let Some((path, detail)) = rest.split_once('\u{1}')
    {
        return PolicyError::BadClaimPath {
            at: "agree or parties[].path".into(),
            path: path.into(),
            detail: detail.into(),
        };
    }
    PolicyError::Malformed { detail: message }
}

// Markers that carry our own parse errors through serde's text-only error channel.
const BAD_WEIGHT: &str = "\u{1}weight:";
const BAD_PATH: &str = "\u{1}path:";

/// A fixed-point weight in thousandths of a unit.
///
/// JSON: a string `"1.5"` (at most three decimals) or a whole integer `2`. Serialized as a string
/// with exactly three decimals (`"1.500"`), so the scale is visible; [`fmt::Display`] gives the
/// short form (`1.5`) for people.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Weight(u64);

/// Why a text is not a weight.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{text:?} is not a weight: write a decimal number from 0 to 999999.999 with at most three decimals, e.g. \"1.5\""
)]
pub struct WeightError {
    pub text: String,
}

impl Weight {
    pub const ZERO: Weight = Weight(0);
    /// Thousandths per unit.
    pub const SCALE: u64 = 1000;
    /// The largest weight a policy may write; sums of weights are computed saturating.
    pub const MAX: Weight = Weight(999_999_999);

    pub const fn from_thousandths(thousandths: u64) -> Weight {
        Weight(thousandths)
    }

    pub const fn from_units(units: u64) -> Weight {
        Weight(units.saturating_mul(Self::SCALE))
    }

    pub const fn thousandths(self) -> u64 {
        self.0
    }

    pub const fn saturating_add(self, other: Weight) -> Weight {
        Weight(self.0.saturating_add(other.0))
    }

    pub const fn saturating_sub(self, other: Weight) -> Weight {
        Weight(self.0.saturating_sub(other.0))
    }

    /// `floor(self × numerator / denominator)`, exactly (a zero denominator gives zero).
    pub fn scaled(self, numerator: u64, denominator: u64) -> Weight {
        if denominator == 0 {
            return Weight::ZERO;
        }
        let exact = u128::from(self.0) * u128::from(numerator) / u128::from(denominator);
        Weight(u64::try_from(exact).unwrap_or(u64::MAX))
    }

    /// Parses `"1"`, `"1.5"`, `"0.25"`, `"999999.999"`. No sign, exponent, spaces, or leading zeros.
    pub fn parse(text: &str) -> Result<Weight, WeightError> {
        let error = || WeightError { text: text.into() };
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (text, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || whole.len() > 6 || (whole.len() > 1 && whole.starts_with('0')) {
            return Err(error());
        }
        let mut thousandths = whole.parse::<u64>().map_err(|_| error())? * Self::SCALE;
        if let Some(fraction) = fraction {
            if !digits(fraction) || fraction.len() > 3 {
                return Err(error());
            }
            let padded = format!("{fraction:0<3}");
            thousandths += padded.parse::<u64>().map_err(|_| error())?;
        }
        Ok(Weight(thousandths))
    }

    /// The canonical machine form: exactly three decimals, e.g. `"1.500"`.
    pub fn to_fixed(self) -> String {
        format!("{}.{:03}", self.0 / Self::SCALE, self.0 % Self::SCALE)
    }
}

impl fmt::Display for Weight {
    /// The short form: `1.5`, `3`, `0.25`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / Self::SCALE;
        let fraction = self.0 % Self::SCALE;
        if fraction == 0 {
            write!(f, "{whole}")
        } else {
            let digits = format!("{fraction:03}");
            write!(f, "{whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

impl std::str::FromStr for Weight {
    type Err = WeightError;

    fn from_str(text: &str) -> Result<Weight, WeightError> {
        Weight::parse(text)
    }
}

impl Serialize for Weight {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_fixed())
    }
}

impl<'de> Deserialize<'de> for Weight {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Weight, D::Error> {
        struct WeightVisitor;

        impl de::Visitor<'_> for WeightVisitor {
            type Value = Weight;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a weight: a decimal string such as \"1.5\" or a whole number")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Weight, E> {
                Weight::parse(text).map_err(|e| E::custom(format_args!("{BAD_WEIGHT}{e}")))
            }

            fn visit_u64<E: de::Error>(self, units: u64) -> Result<Weight, E> {
                if units > Weight::MAX.0 / Weight::SCALE {
                    return Err(E::custom(format_args!(
                        "{BAD_WEIGHT}{units} is more than the maximum weight 999999.999"
                    )));
                }
                Ok(Weight::from_units(units))
            }

            fn visit_i64<E: de::Error>(self, units: i64) -> Result<Weight, E> {
                match u64::try_from(units) {
                    Ok(units) => self.visit_u64(units),
                    Err(_) => Err(E::custom(format_args!("{BAD_WEIGHT}{units} is negative"))),
                }
            }

            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Weight, E> {
                // JSON Schema counts 2.0 as an integer; so do we. Anything fractional must be a
                // string, because binary floating point cannot hold 0.1 exactly.
                if value.fract() == 0.0 && (0.0..1_000_000.0).contains(&value) {
                    return self.visit_u64(value as u64);
                }
                Err(E::custom(format_args!(
                    "{BAD_WEIGHT}{value} is a floating-point number; write fractional weights as strings, e.g. \"1.5\""
                )))
            }
        }

        deserializer.deserialize_any(WeightVisitor)
    }
}

/// A dotted path to a claim, relative to `credentialSubject`: `residence.address`,
/// `birth.mother.id`; a segment ending in `[]` selects every element of an array
/// (`names[].given`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClaimPath {
    text: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Segment {
    name: String,
    every: bool,
}

impl ClaimPath {
    /// Parses a dotted path; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<ClaimPath, String> {
        if text.is_empty() {
            return Err("a claim path must not be empty".into());
        }
        let mut segments = Vec::new();
        for part in text.split('.') {
            let (name, every) = match part.strip_suffix("[]") {
                Some(name) => (name, true),
                None => (part, false),
            };
            if name.is_empty() {
                return Err(
                    "empty segment (two dots, a leading or trailing dot, or a bare `[]`)".into(),
                );
            }
            if name
                .chars()
                .any(|c| matches!(c, '[' | ']') || c.is_whitespace() || c.is_control())
            {
                return Err(format!(
                    "segment {part:?}: only `[]` at the end of a segment may use brackets, and no spaces"
                ));
            }
            segments.push(Segment {
                name: name.into(),
                every,
            });
        }
        Ok(ClaimPath {
            text: text.into(),
            segments,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value at this path in `subject`, or `None` when any step is missing (or a `[]` step is
    /// not an array). A `[]` step yields an array of the rest of the path applied to each element.
    pub fn select(&self, subject: &Map<String, Value>) -> Option<Value> {
        let (first, rest) = self.segments.split_first()?;
        select_in(subject.get(&first.name)?, first.every, rest)
    }

    /// Every string at this path (a string, or strings in arrays), e.g. the DIDs of parties.
    pub fn strings(&self, subject: &Map<String, Value>) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(value) = self.select(subject) {
            collect_strings(&value, &mut out);
        }
        out
    }
}

fn select_in(value: &Value, every: bool, rest: &[Segment]) -> Option<Value> {
    if every {
        let items = value.as_array()?;
        return items
            .iter()
            .map(|item| select_in(item, false, rest))
            .collect::<Option<Vec<_>>>()
            .map(Value::Array);
    }
    match rest.split_first() {
        None => Some(value.clone()),
        Some((next, rest)) => select_in(value.as_object()?.get(&next.name)?, next.every, rest),
    }
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|item| collect_strings(item, out)),
        _ => {}
    }
}

impl fmt::Display for ClaimPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for ClaimPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for ClaimPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ClaimPath, D::Error> {
        let text = String::deserialize(deserializer)?;
        ClaimPath::parse(&text)
            .map_err(|detail| de::Error::custom(format_args!("{BAD_PATH}{text}\u{1}{detail}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn weights_parse_exactly() {
        let check = |text: &str, expected: Option<u64>| {
            assert_eq!(
                Weight::parse(text).ok().map(Weight::thousandths),
                expected,
                "{text:?}"
            );
        };
        check("1", Some(1000));
        check("1.5", Some(1500));
        check("0.25", Some(250));
        check("0.001", Some(1));
        check("0", Some(0));
        check("999999.999", Some(999_999_999));
        for bad in [
            "", ".5", "1.", "1.2345", "-1", "+1", "01", "1e3", " 1", "1,5", "1000000", "0x10",
            "1.5.0",
        ] {
            check(bad, None);
        }
    }

    #[test]
    fn weights_print_both_forms() {
        for (thousandths, short, fixed) in [
            (1500, "1.5", "1.500"),
            (3000, "3", "3.000"),
            (250, "0.25", "0.250"),
            (1, "0.001", "0.001"),
        ] {
            let weight = Weight::from_thousandths(thousandths);
            assert_eq!(weight.to_string(), short);
            assert_eq!(weight.to_fixed(), fixed);
            assert_eq!(Weight::parse(fixed), Ok(weight));
        }
    }

    #[test]
    fn weights_from_json_numbers() {
        let parse = |v: Value| {
            serde_json::from_value::<Weight>(v)
                .map(Weight::thousandths)
                .map_err(|e| e.to_string())
        };
        assert_eq!(parse(json!(2)), Ok(2000));
        assert_eq!(parse(json!(2.0)), Ok(2000));
        assert!(parse(json!(1.5)).is_err_and(|e| e.contains("as strings")));
        assert!(parse(json!(-1)).is_err_and(|e| e.contains("negative")));
        assert!(parse(json!(1_000_000)).is_err_and(|e| e.contains("maximum")));
    }

    #[test]
    fn decay_is_linear_and_floored() {
        let freshness = Freshness {
            max_age_days: 365,
            decay: Some(Decay {
                full_weight_days: 100,
                zero_weight_days: 400,
            }),
        };
        let base = Weight::from_thousandths(1000);
        let check = |age: u64, expected: Aged| {
            assert_eq!(freshness.weigh(base, age), expected, "age {age}")
        };
        let fresh = |t: u64, decayed: bool| Aged::Fresh {
            weight: Weight::from_thousandths(t),
            decayed,
        };
        check(0, fresh(1000, false));
        check(100, fresh(1000, false));
        check(101, fresh(996, true)); // 1000 × 299 / 300 = 996.67 → 996
        check(250, fresh(500, true));
        check(365, fresh(116, true)); // 1000 × 35 / 300 = 116.67 → 116
        check(366, Aged::Stale { limit_days: 365 });
        let short = Freshness {
            max_age_days: 365,
            decay: Some(Decay {
                full_weight_days: 10,
                zero_weight_days: 20,
            }),
        };
        assert_eq!(short.weigh(base, 20), Aged::Stale { limit_days: 20 });
        assert_eq!(short.weigh(base, 19), fresh(100, true));
    }

    #[test]
    fn claim_paths_select() {
        let subject = json!({
            "id": "did:example:s",
            "residence": {"address": {"street": "Wetstraat"}, "since": "2020-01-01"},
            "names": [{"given": "A"}, {"given": "B"}],
            "parents": [{"id": "did:example:m"}, {"id": "did:example:f"}]
        });
        let subject = subject.as_object().cloned().unwrap_or_default();
        let select = |path: &str| ClaimPath::parse(path).map(|p| p.select(&subject));
        assert_eq!(select("residence.since"), Ok(Some(json!("2020-01-01"))));
        assert_eq!(
            select("residence.address.street"),
            Ok(Some(json!("Wetstraat")))
        );
        assert_eq!(select("names[].given"), Ok(Some(json!(["A", "B"]))));
        assert_eq!(select("residence.until"), Ok(None));
        assert_eq!(select("residence[].since"), Ok(None));
        assert_eq!(select("id"), Ok(Some(json!("did:example:s"))));
        let parents = ClaimPath::parse("parents[].id").map(|p| p.strings(&subject));
        assert_eq!(
            parents,
            Ok(vec!["did:example:m".to_owned(), "did:example:f".to_owned()])
        );
        for bad in ["", "a..b", ".a", "a.", "[]", "a[0]", "a[].[]", "a b"] {
            assert!(ClaimPath::parse(bad).is_err(), "{bad:?}");
        }
    }

    fn minimal() -> Value {
        json!({
            "id": "test/residence", "version": "1", "owner": "Test", "title": "Test",
            "fact_type": "ResidenceAttestation",
            "agree": ["residence.address"],
            "categories": {"utility": {"weight": "1.5"}, "bank": {"weight": 1}},
            "min_weight": 2, "min_categories": 2, "min_entities": 2,
            "independence": {"exclude_subject_household": true, "one_per_entity": true, "one_per_person": true, "one_per_household": true},
            "freshness": {"max_age_days": 365}
        })
    }

    fn with(pointer: &str, value: Value) -> Value {
        let mut doc = minimal();
        let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
        if let Some(Value::Object(o)) = doc.pointer_mut(parent) {
            o.insert(key.into(), value);
        }
        doc
    }

    /// `expected`: None = accepted; Some(text) = refused with a message containing text.
    fn check(doc: Value, expected: Option<&str>) {
        let got = Policy::from_json(&doc).err().map(|e| e.to_string());
        match (expected, got) {
            (None, None) => {}
            (Some(want), Some(got)) if got.contains(want) => {}
            (want, got) => panic!("{doc}\nexpected {want:?}, got {got:?}"),
        }
    }

    #[test]
    fn policy_rules() {
        check(minimal(), None);
        check(
            with("/surprise", json!(1)),
            Some("unknown field `surprise`"),
        );
        check(
            with("/independence/one_per_house", json!(true)),
            Some("unknown field `one_per_house`"),
        );
        check(
            with("/categories/bank/weight", json!("1.2345")),
            Some("bad weight"),
        );
        check(
            with("/categories/bank/weight", json!(0.5)),
            Some("as strings"),
        );
        check(
            with("/caps", json!({"landlord": 1})),
            Some("`caps` names category \"landlord\""),
        );
        check(
            with("/caps", json!({"bank": 0})),
            Some("remove the category"),
        );
        check(
            with("/require", json!([{"any_of": ["physician"], "min": 1}])),
            Some("`require[0].any_of` names category \"physician\""),
        );
        check(
            with("/require", json!([{"any_of": [], "min": 1}])),
            Some("`require[0].any_of` must not be empty"),
        );
        check(
            with("/require", json!([{"any_of": ["bank"], "min": 0}])),
            Some("at least 1"),
        );
        check(
            with("/conflicts", json!({"override_by": ["court"]})),
            Some("`conflicts.override_by` names category \"court\""),
        );
        check(
            with("/agree", json!(["residence..address"])),
            Some("bad claim path"),
        );
        check(with("/agree", json!([])), Some("`agree` must not be empty"));
        check(with("/agree", json!(["a", "a"])), Some("lists \"a\" twice"));
        check(
            with(
                "/categories",
                json!({"Bank": {"weight": 1}, "x": {"weight": 1}}),
            ),
            Some("category name \"Bank\""),
        );
        check(
            with("/categories/bank/only_parties", json!(true)),
            Some("`only_parties`"),
        );
        check(
            with("/min_entities", json!(0)),
            Some("`min_entities` must be at least 1"),
        );
        check(with("/min_categories", json!(3)), Some("only 2 categories"));
        check(
            with(
                "/freshness/decay",
                json!({"full_weight_days": 10, "zero_weight_days": 10}),
            ),
            Some("less than `zero_weight_days`"),
        );
        check(
            with(
                "/freshness/decay",
                json!({"full_weight_days": 400, "zero_weight_days": 500}),
            ),
            Some("less than `max_age_days`"),
        );
        check(
            with("/title", json!(" ")),
            Some("`title` must not be empty"),
        );
        check(
            with(
                "/parties",
                json!([{"path": "x.id", "role": "r", "may_attest_as": ["notary"]}]),
            ),
            Some("names category \"notary\""),
        );
        let mut no_freshness = minimal();
        no_freshness.as_object_mut().map(|o| o.remove("freshness"));
        check(no_freshness, Some("missing field `freshness`"));
    }

    #[test]
    fn policy_round_trips() {
        let policy = Policy::from_json(&minimal()).unwrap();
        assert_eq!(
            policy.to_json()["categories"]["utility"]["weight"],
            json!("1.500")
        );
        assert_eq!(Policy::from_json(&policy.to_json()), Ok(policy));
    }
}
