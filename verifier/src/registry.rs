//! The trust registry as the decision engine sees it: who may attest what, since when, for whom.
//!
//! An [`Accreditation`] binds an attesting DID to a category, the fact types it may attest, a
//! controlling legal entity (so two DIDs of one company count once) and, for persons, a
//! pseudonymous person id and household (so self-attestation and same-household attestation are
//! detectable across DIDs). A [`Person`] does the same for identities that do not attest
//! (subjects, parents). The engine asks through the [`Registry`] trait and never does I/O:
//! the backend implements it over its database, [`FileRegistry`] over a JSON file
//! (`schemas/registry.schema.json`).
//!
//! Registries keep history: revocations and suspensions are recorded with their times and never
//! deleted, so replaying a decision at an earlier time sees the registry as it was then
//! ([`Accreditation::counts_for`] only applies what had happened by the decision time).

use crate::credential::{parse_date_time, rfc3339};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::collections::BTreeMap;

/// What the decision engine needs to know about identities.
pub trait Registry {
    /// Every accreditation ever granted to `did`, current or not, with revocations and suspensions.
    fn accreditations(&self, did: &str) -> Vec<Accreditation>;
    /// The person behind a DID that is not (only) an attester: a subject, a parent.
    fn person(&self, did: &str) -> Option<Person>;
}

/// One accreditation: `did` may attest `fact_types` in `category`, from `valid_from` until
/// `valid_until`, in `jurisdiction`, controlled by `controller`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accreditation {
    pub did: String,
    pub category: String,
    pub fact_types: Vec<String>,
    /// The legal entity in control (company number), or the person id for a person.
    pub controller: String,
    /// Pseudonymous person id (e.g. a keyed hash of the national register number); persons only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// Pseudonymous household id; persons only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<String>,
    pub jurisdiction: String,
    #[serde(with = "timestamp")]
    pub valid_from: DateTime<Utc>,
    /// Exclusive end; `None` = open-ended.
    #[serde(
        default,
        with = "optional_timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub valid_until: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Revocation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suspensions: Vec<Suspension>,
    /// Why it was granted (free text, for people), e.g. "residence established by decision …".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
}

/// The end of an accreditation before its term.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    #[serde(with = "timestamp")]
    pub at: DateTime<Utc>,
    pub reason: String,
    /// Revoked because the attester is not to be trusted (fraud, negligence): every attestation
    /// it ever made stops counting. Otherwise (end of contract, retirement) the revocation only
    /// ends the accreditation: attestations issued before it still count.
    pub for_cause: bool,
}

/// A pause: attestations issued during it do not count, nor does anything while it lasts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suspension {
    #[serde(with = "timestamp")]
    pub from: DateTime<Utc>,
    /// Exclusive end; `None` = until further notice.
    #[serde(
        default,
        with = "optional_timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub until: Option<DateTime<Utc>>,
}

impl Suspension {
    fn covers(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && self.until.is_none_or(|until| at < until)
    }
}

/// A person behind a DID that does not attest, or not only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub did: String,
    /// Pseudonymous person id, shared by all DIDs of that person known to the registry.
    pub person: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<String>,
}

/// Why an accreditation does not count for an attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccreditationProblem {
    /// It does not list the attestation's fact type.
    NotForFactType,
    /// The attestation was issued outside `[valid_from, valid_until)`.
    NotValidAtIssuance,
    /// Revoked (not for cause) at or before the attestation's issuance.
    RevokedBeforeIssuance { revocation: Revocation },
    /// Suspended when the attestation was issued.
    SuspendedAtIssuance { suspension: Suspension },
    /// Suspended at the decision time: nothing it attested counts while the suspension lasts.
    SuspendedAtDecision { suspension: Suspension },
    /// Revoked for cause by the decision time: nothing it ever attested counts.
    RevokedForCause { revocation: Revocation },
}

impl Accreditation {
    /// Whether this accreditation counts for an attestation of `fact_type` issued at `issued`,
    /// judged at `decided`.
    ///
    /// It counts when (1) it lists the fact type; (2) it was not revoked for cause at or before
    /// `decided` — such a revocation reaches back to everything the attester ever signed;
    /// (3) it covered `issued`: `valid_from ≤ issued < valid_until`, not revoked (for another
    /// reason) at or before `issued`, and not suspended at `issued`; (4) it is not suspended at
    /// `decided`. Revocations and suspensions dated after `decided` are ignored, so a replay at an
    /// earlier time sees the registry as it was then.
    pub fn counts_for(
        &self,
        fact_type: &str,
        issued: DateTime<Utc>,
        decided: DateTime<Utc>,
    ) -> Result<(), AccreditationProblem> {
        if !self.fact_types.iter().any(|t| t == fact_type) {
            return Err(AccreditationProblem::NotForFactType);
        }
        if let Some(revocation) = &self.revoked
            && revocation.at <= decided
        {
            if revocation.for_cause {
                return Err(AccreditationProblem::RevokedForCause {
                    revocation: revocation.clone(),
                });
            }
            if revocation.at <= issued {
                return Err(AccreditationProblem::RevokedBeforeIssuance {
                    revocation: revocation.clone(),
                });
            }
        }
        if issued < self.valid_from || self.valid_until.is_some_and(|until| issued >= until) {
            return Err(AccreditationProblem::NotValidAtIssuance);
        }
        let known = self.suspensions.iter().filter(|s| s.from <= decided);
        if let Some(suspension) = known.clone().find(|s| s.covers(issued)) {
            return Err(AccreditationProblem::SuspendedAtIssuance {
                suspension: suspension.clone(),
            });
        }
        if let Some(suspension) = known.clone().find(|s| s.covers(decided)) {
            return Err(AccreditationProblem::SuspendedAtDecision {
                suspension: suspension.clone(),
            });
        }
        Ok(())
    }
}

/// Why a registry file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("unknown field `{field}` (expected {expected})")]
    UnknownField { field: String, expected: String },
    #[error("missing field `{field}`")]
    MissingField { field: String },
    #[error("bad time {text:?}: write a date-time with a time zone, e.g. 2025-01-31T00:00:00Z")]
    BadTime { text: String },
    #[error("`{at}` must not be empty")]
    Empty { at: String },
    #[error("{did}: {detail}")]
    Inconsistent { did: String, detail: String },
    #[error("malformed registry: {detail}")]
    Malformed { detail: String },
}

/// A registry read from one JSON document: `{"accreditations": [...], "persons": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileRegistry {
    accreditations: BTreeMap<String, Vec<Accreditation>>,
    persons: BTreeMap<String, Person>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    #[serde(default)]
    #[allow(dead_code)] // for people reading the file
    description: Option<String>,
    #[serde(default)]
    accreditations: Vec<Accreditation>,
    #[serde(default)]
    persons: Vec<Person>,
}

impl FileRegistry {
    /// Parses and checks a registry document.
    pub fn from_json(value: &Value) -> Result<FileRegistry, RegistryError> {
        let file = RegistryFile::deserialize(value).map_err(classify)?;
        let mut registry = FileRegistry::default();
        for person in file.persons {
            let blank = person.did.trim().is_empty()
                || person.person.trim().is_empty()
                || person
                    .household
                    .as_ref()
                    .is_some_and(|h| h.trim().is_empty());
            if blank {
                return Err(RegistryError::Empty {
                    at: "persons[].did, person and household".into(),
                });
            }
            if registry.persons.contains_key(&person.did) {
                return Err(RegistryError::Inconsistent {
                    did: person.did,
                    detail: "listed twice in `persons`".into(),
                });
            }
            registry.persons.insert(person.did.clone(), person);
        }
        for accreditation in file.accreditations {
            check_accreditation(&accreditation, registry.persons.get(&accreditation.did))?;
            registry
                .accreditations
                .entry(accreditation.did.clone())
                .or_default()
                .push(accreditation);
        }
        for accreditations in registry.accreditations.values() {
            let persons: std::collections::BTreeSet<_> = accreditations
                .iter()
                .filter_map(|a| a.person.as_deref())
                .collect();
            if persons.len() > 1
                && let Some(first) = accreditations.first()
            {
                return Err(RegistryError::Inconsistent {
                    did: first.did.clone(),
                    detail: "its accreditations name different persons".into(),
                });
            }
        }
        Ok(registry)
    }

    /// A registry built in code (tests, tools), taken as given: none of the checks of
    /// [`FileRegistry::from_json`].
    pub fn new(accreditations: Vec<Accreditation>, persons: Vec<Person>) -> FileRegistry {
        let mut registry = FileRegistry::default();
        for accreditation in accreditations {
            registry
                .accreditations
                .entry(accreditation.did.clone())
                .or_default()
                .push(accreditation);
        }
        for person in persons {
            registry.persons.insert(person.did.clone(), person);
        }
        registry
    }
}

impl Registry for FileRegistry {
    fn accreditations(&self, did: &str) -> Vec<Accreditation> {
        self.accreditations.get(did).cloned().unwrap_or_default()
    }

    fn person(&self, did: &str) -> Option<Person> {
        self.persons.get(did).cloned()
    }
}

fn check_accreditation(a: &Accreditation, person: Option<&Person>) -> Result<(), RegistryError> {
    let inconsistent = |detail: &str| RegistryError::Inconsistent {
        did: a.did.clone(),
        detail: detail.into(),
    };
    for (at, value) in [
        ("did", &a.did),
        ("category", &a.category),
        ("controller", &a.controller),
        ("jurisdiction", &a.jurisdiction),
    ] {
        if value.trim().is_empty() {
            return Err(RegistryError::Empty {
                at: format!("accreditations[].{at}"),
            });
        }
    }
    for (at, value) in [("person", &a.person), ("household", &a.household)] {
        if value.as_ref().is_some_and(|v| v.trim().is_empty()) {
            return Err(RegistryError::Empty {
                at: format!("accreditations[].{at}"),
            });
        }
    }
    if a.fact_types.is_empty() || a.fact_types.iter().any(|t| t.trim().is_empty()) {
        return Err(RegistryError::Empty {
            at: "accreditations[].fact_types".into(),
        });
    }
    if a.valid_until.is_some_and(|until| until <= a.valid_from) {
        return Err(inconsistent("`valid_until` is not after `valid_from`"));
    }
    if a.suspensions
        .iter()
        .any(|s| s.until.is_some_and(|until| until <= s.from))
    {
        return Err(inconsistent(
            "a suspension's `until` is not after its `from`",
        ));
    }
    if a.household.is_some() && a.person.is_none() {
        return Err(inconsistent("a `household` needs a `person`"));
    }
    if let (Some(person), Some(id)) = (person, &a.person)
        && &person.person != id
    {
        return Err(inconsistent(
            "`persons` and `accreditations` name different persons",
        ));
    }
    Ok(())
}

fn classify(error: serde_json::Error) -> RegistryError {
    let message = error.to_string();
    match crate::json::field_error(&message) {
        Some(crate::json::FieldError::Unknown { field, expected }) => {
            return RegistryError::UnknownField { field, expected };
        }
        Some(crate::json::FieldError::Missing { field }) => {
            return RegistryError::MissingField { field };
        }
        None => {}
    }
    if let Some(text) = message.strip_prefix(BAD_TIME) {
        return RegistryError::BadTime { text: text.into() };
    }
    RegistryError::Malformed { detail: message }
}

const BAD_TIME: &str = "\u{1}time:";

/// Date-times as credentials write them: RFC 3339 with a time zone, serialized in UTC.
pub(crate) mod timestamp {
    use super::*;

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&rfc3339(*at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_date_time(&text)
            .ok_or_else(|| serde::de::Error::custom(format_args!("{BAD_TIME}{text}")))
    }
}

pub(crate) mod optional_timestamp {
    use super::*;

    pub fn serialize<S: Serializer>(
        at: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => serializer.serialize_str(&rfc3339(*at)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        super::timestamp::deserialize(deserializer).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(text: &str) -> DateTime<Utc> {
        parse_date_time(text).unwrap()
    }

    fn accreditation() -> Accreditation {
        Accreditation {
            did: "did:example:bank".into(),
            category: "bank".into(),
            fact_types: vec!["ResidenceAttestation".into()],
            controller: "BE0000000001".into(),
            person: None,
            household: None,
            jurisdiction: "BE".into(),
            valid_from: at("2024-01-01T00:00:00Z"),
            valid_until: Some(at("2026-01-01T00:00:00Z")),
            revoked: None,
            suspensions: Vec::new(),
            basis: None,
        }
    }

    fn revoked(when: &str, for_cause: bool) -> Accreditation {
        Accreditation {
            revoked: Some(Revocation {
                at: at(when),
                reason: "test".into(),
                for_cause,
            }),
            ..accreditation()
        }
    }

    fn suspended(from: &str, until: Option<&str>) -> Accreditation {
        Accreditation {
            suspensions: vec![Suspension {
                from: at(from),
                until: until.map(at),
            }],
            ..accreditation()
        }
    }

    /// (accreditation, fact type, issued, decided) → Ok, or the problem's name.
    fn check(
        a: &Accreditation,
        fact_type: &str,
        issued: &str,
        decided: &str,
        expected: Result<(), &str>,
    ) {
        let got = a
            .counts_for(fact_type, at(issued), at(decided))
            .map_err(|p| match p {
                AccreditationProblem::NotForFactType => "not_for_fact_type",
                AccreditationProblem::NotValidAtIssuance => "not_valid_at_issuance",
                AccreditationProblem::RevokedBeforeIssuance { .. } => "revoked_before_issuance",
                AccreditationProblem::SuspendedAtIssuance { .. } => "suspended_at_issuance",
                AccreditationProblem::SuspendedAtDecision { .. } => "suspended_at_decision",
                AccreditationProblem::RevokedForCause { .. } => "revoked_for_cause",
            });
        assert_eq!(got, expected, "issued {issued}, decided {decided}: {a:?}");
    }

    #[test]
    fn the_counting_rule() {
        let r = "ResidenceAttestation";
        let plain = accreditation();
        check(
            &plain,
            r,
            "2024-06-01T00:00:00Z",
            "2025-06-01T00:00:00Z",
            Ok(()),
        );
        check(
            &plain,
            "BirthAttestation",
            "2024-06-01T00:00:00Z",
            "2025-06-01T00:00:00Z",
            Err("not_for_fact_type"),
        );
        check(
            &plain,
            r,
            "2023-12-31T23:59:59Z",
            "2025-06-01T00:00:00Z",
            Err("not_valid_at_issuance"),
        );
        check(
            &plain,
            r,
            "2024-01-01T00:00:00Z",
            "2025-06-01T00:00:00Z",
            Ok(()),
        );
        check(
            &plain,
            r,
            "2026-01-01T00:00:00Z",
            "2026-02-01T00:00:00Z",
            Err("not_valid_at_issuance"),
        );
        // Expiry after issuance does not matter: the accreditation covered the issuance date.
        check(
            &plain,
            r,
            "2025-12-31T00:00:00Z",
            "2027-01-01T00:00:00Z",
            Ok(()),
        );

        // End of contract: earlier attestations still count, later ones do not.
        let ended = revoked("2025-01-01T00:00:00Z", false);
        check(
            &ended,
            r,
            "2024-06-01T00:00:00Z",
            "2025-06-01T00:00:00Z",
            Ok(()),
        );
        check(
            &ended,
            r,
            "2025-02-01T00:00:00Z",
            "2025-06-01T00:00:00Z",
            Err("revoked_before_issuance"),
        );

        // For cause: nothing counts from the revocation on, whenever it was issued...
        let fraud = revoked("2025-01-01T00:00:00Z", true);
        check(
            &fraud,
            r,
            "2024-06-01T00:00:00Z",
            "2025-06-01T00:00:00Z",
            Err("revoked_for_cause"),
        );
        // ...but a replay of a decision taken before the revocation sees it as it was.
        check(
            &fraud,
            r,
            "2024-06-01T00:00:00Z",
            "2024-12-31T00:00:00Z",
            Ok(()),
        );

        let paused = suspended("2024-05-01T00:00:00Z", Some("2024-07-01T00:00:00Z"));
        check(
            &paused,
            r,
            "2024-06-01T00:00:00Z",
            "2025-06-01T00:00:00Z",
            Err("suspended_at_issuance"),
        );
        check(
            &paused,
            r,
            "2024-07-01T00:00:00Z",
            "2025-06-01T00:00:00Z",
            Ok(()),
        );
        let ongoing = suspended("2025-05-01T00:00:00Z", None);
        check(
            &ongoing,
            r,
            "2024-06-01T00:00:00Z",
            "2025-06-01T00:00:00Z",
            Err("suspended_at_decision"),
        );
        check(
            &ongoing,
            r,
            "2024-06-01T00:00:00Z",
            "2025-04-01T00:00:00Z",
            Ok(()),
        );
    }

    #[test]
    fn file_registry_parses_and_checks() {
        let good = json!({
            "accreditations": [{
                "did": "did:example:n", "category": "neighbour", "fact_types": ["ResidenceAttestation"],
                "controller": "person:n", "person": "person:n", "household": "household:2",
                "jurisdiction": "BE", "valid_from": "2024-01-01T00:00:00Z",
                "revoked": {"at": "2025-01-01T00:00:00+01:00", "reason": "moved away", "for_cause": false}
            }],
            "persons": [{"did": "did:example:s", "person": "person:s", "household": "household:1"}]
        });
        let registry = FileRegistry::from_json(&good).unwrap();
        assert_eq!(registry.accreditations("did:example:n").len(), 1);
        assert_eq!(registry.accreditations("did:example:x"), Vec::new());
        assert_eq!(
            registry.person("did:example:s").map(|p| p.person),
            Some("person:s".to_owned())
        );
        let revoked_at = registry.accreditations("did:example:n")[0]
            .revoked
            .as_ref()
            .map(|r| r.at);
        assert_eq!(revoked_at, Some(at("2024-12-31T23:00:00Z")));

        let refused = |patch: &dyn Fn(&mut Value), want: &str| {
            let mut doc = good.clone();
            patch(&mut doc);
            let got = FileRegistry::from_json(&doc)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(got.contains(want), "wanted {want:?}, got {got:?}");
        };
        refused(
            &|d| d["accreditations"][0]["colour"] = json!("red"),
            "unknown field `colour`",
        );
        refused(
            &|d| d["accreditations"][0]["valid_from"] = json!("2024-01-01"),
            "bad time",
        );
        refused(
            &|d| d["accreditations"][0]["valid_until"] = json!("2023-01-01T00:00:00Z"),
            "not after `valid_from`",
        );
        refused(
            &|d| d["accreditations"][0]["fact_types"] = json!([]),
            "must not be empty",
        );
        refused(
            &|d| d["persons"][0]["did"] = json!("did:example:n"),
            "different persons",
        );
        refused(
            &|d| {
                d["persons"]
                    .as_array_mut()
                    .into_iter()
                    .for_each(|p| p.push(json!({"did": "did:example:s", "person": "person:s"})))
            },
            "twice",
        );
        refused(
            &|d| {
                d.as_object_mut().map(|o| o.remove("persons"));
                d["accreditations"][0]
                    .as_object_mut()
                    .map(|o| o.remove("person"));
            },
            "a `household` needs a `person`",
        );
    }
}
