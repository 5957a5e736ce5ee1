//! Step 2 of a decision: whether one input may count on its own, in which category and with what
//! weight — or the exact reasons it may not.

use super::{InputExplanation, Reason, Whose};
use crate::credential::{Credential, rfc3339};
use crate::fact::{agreement_key, normalize_claims};
use crate::policy::{Aged, Party, Policy, Weight};
use crate::registry::{Accreditation, AccreditationProblem, Registry};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// An input that passed every per-input check.
#[derive(Debug, Clone)]
pub(super) struct Eligible {
    pub(super) index: usize,
    pub(super) fingerprint: String,
    /// Issuer and credential `id`: two versions of one credential (re-signed) count once.
    pub(super) issued_as: Option<(String, String)>,
    /// JCS form of the agreement keys: equal keys ⇔ agreeing claims.
    pub(super) key: String,
    pub(super) claims: BTreeMap<String, Value>,
    pub(super) category: String,
    pub(super) entity: String,
    pub(super) person: Option<String>,
    pub(super) household: Option<String>,
    /// After decay, before caps.
    pub(super) weight: Weight,
    pub(super) decayed: Option<Reason>,
}

/// The persons and households the registry ties to a DID.
#[derive(Debug, Default)]
struct Identity {
    persons: BTreeSet<String>,
    households: BTreeSet<String>,
}

impl Identity {
    fn of(registry: &dyn Registry, did: &str, accreditations: &[Accreditation]) -> Identity {
        let mut identity = Identity::default();
        if let Some(person) = registry.person(did)
            && person.did == did
        {
            identity.persons.insert(person.person);
            identity.households.extend(person.household);
        }
        for accreditation in accreditations {
            identity.persons.extend(accreditation.person.clone());
            identity.households.extend(accreditation.household.clone());
        }
        identity
    }

    fn shares_person(&self, other: &Identity) -> bool {
        !self.persons.is_disjoint(&other.persons)
    }
}

pub(super) struct Judge<'a> {
    policy: &'a Policy,
    registry: &'a dyn Registry,
    at: DateTime<Utc>,
}

impl<'a> Judge<'a> {
    pub(super) fn new(
        policy: &'a Policy,
        registry: &'a dyn Registry,
        at: DateTime<Utc>,
    ) -> Judge<'a> {
        Judge {
            policy,
            registry,
            at,
        }
    }

    /// The accreditations the registry holds for `did`, in a fixed order.
    fn accreditations(&self, did: &str) -> Vec<Accreditation> {
        let mut accreditations: Vec<Accreditation> = self
            .registry
            .accreditations(did)
            .into_iter()
            .filter(|a| a.did == did)
            .collect();
        accreditations.sort_by(|a, b| {
            (
                &a.category,
                a.valid_from,
                a.valid_until,
                &a.controller,
                &a.jurisdiction,
            )
                .cmp(&(
                    &b.category,
                    b.valid_from,
                    b.valid_until,
                    &b.controller,
                    &b.jurisdiction,
                ))
        });
        accreditations
    }

    fn identity(&self, did: &str) -> Identity {
        Identity::of(self.registry, did, &self.accreditations(did))
    }

    /// Every per-input check, in order; the first that fails ends the input's evaluation, and
    /// its reasons go to `explanation`. What is learnt on the way (claims, category, entity, base
    /// weight) goes there too.
    pub(super) fn eligible(
        &self,
        index: usize,
        credential: &Credential,
        fingerprint: &str,
        explanation: &mut InputExplanation,
    ) -> Option<Eligible> {
        match self.check(index, credential, fingerprint, explanation) {
            Ok(eligible) => Some(eligible),
            Err(reasons) => {
                explanation.reasons.extend(reasons);
                None
            }
        }
    }

    fn check(
        &self,
        index: usize,
        credential: &Credential,
        fingerprint: &str,
        explanation: &mut InputExplanation,
    ) -> Result<Eligible, Vec<Reason>> {
        let (Some(subject), Some(subject_did)) =
            (credential.subjects().first(), credential.subject_id())
        else {
            return Err(vec![Reason::NoSingleSubject]);
        };
        let (claims, key) = self.agreed_claims(subject, fingerprint, explanation)?;
        let issued = self.issuance(credential).map_err(one)?;

        // Who is attesting, about whom.
        let issuer = credential.issuer();
        let accreditations = self.accreditations(issuer);
        let attester = Identity::of(self.registry, issuer, &accreditations);
        let subject_identity = self.identity(subject_did);
        if issuer == subject_did || attester.shares_person(&subject_identity) {
            return Err(vec![Reason::SelfAttestation]);
        }
        let roles = self.roles(subject, issuer, &attester);
        let (accreditation, base) = self.accreditation(&accreditations, &roles, issued)?;
        explanation.category = Some(accreditation.category.clone());
        explanation.entity = Some(accreditation.controller.clone());
        explanation.base_weight = base;
        let registered = self.registry.person(issuer).filter(|p| p.did == issuer);
        let person =
            (accreditation.person.clone()).or_else(|| registered.clone().map(|p| p.person));
        let household =
            (accreditation.household.clone()).or_else(|| registered.and_then(|p| p.household));
        self.independent_of_subject(person.as_deref(), household.as_deref(), &subject_identity)
            .map_err(one)?;
        let (weight, decayed) = self.freshness(base, issued).map_err(one)?;

        Ok(Eligible {
            index,
            fingerprint: fingerprint.to_owned(),
            issued_as: credential.id().map(|id| (issuer.to_owned(), id.to_owned())),
            key,
            claims,
            category: accreditation.category.clone(),
            entity: accreditation.controller.clone(),
            person,
            household,
            weight,
            decayed,
        })
    }

    /// The policy's agreed claims as this input states them (normalized, for people), and the
    /// group key: the JCS form of their agreement keys.
    fn agreed_claims(
        &self,
        subject: &Map<String, Value>,
        fingerprint: &str,
        explanation: &mut InputExplanation,
    ) -> Result<(BTreeMap<String, Value>, String), Vec<Reason>> {
        let mut claims = BTreeMap::new();
        let mut keys = Vec::new();
        let mut missing = Vec::new();
        for path in &self.policy.agree {
            match path.select(subject) {
                Some(value) => {
                    keys.push(agreement_key(&value));
                    claims.insert(path.to_string(), normalize_claims(&value));
                }
                None => missing.push(Reason::MissingClaim {
                    path: path.to_string(),
                }),
            }
        }
        explanation.claims = Some(claims.clone());
        if !missing.is_empty() {
            return Err(missing);
        }
        // A key that cannot be written (it always can) must not merge with others: it gets its own.
        let key = serde_json_canonicalizer::to_string(&Value::Array(keys))
            .unwrap_or_else(|_| format!("unkeyable {fingerprint}"));
        Ok((claims, key))
    }

    /// The issuance date (`validFrom`), which accreditation and freshness are judged by.
    fn issuance(&self, credential: &Credential) -> Result<DateTime<Utc>, Reason> {
        let issued = credential.valid_from().ok_or(Reason::NoIssuanceDate)?;
        if issued > self.at {
            return Err(Reason::IssuedAfterDecision {
                valid_from: rfc3339(issued),
            });
        }
        Ok(issued)
    }

    /// The policy's parties that the attester is, found by DID or, across DIDs, by person.
    fn roles(
        &self,
        subject: &Map<String, Value>,
        issuer: &str,
        attester: &Identity,
    ) -> Vec<&'a Party> {
        self.policy
            .parties
            .iter()
            .filter(|party| {
                party
                    .path
                    .strings(subject)
                    .iter()
                    .any(|did| did == issuer || attester.shares_person(&self.identity(did)))
            })
            .collect()
    }

    /// The accreditation the input counts under: of those the policy accepts, the heaviest
    /// category, then the first by name. When none is accepted: why not, for each.
    fn accreditation<'b>(
        &self,
        accreditations: &'b [Accreditation],
        roles: &[&Party],
        issued: DateTime<Utc>,
    ) -> Result<(&'b Accreditation, Weight), Vec<Reason>> {
        if accreditations.is_empty() {
            return Err(vec![Reason::NoAccreditation]);
        }
        let mut problems: Vec<Reason> = Vec::new();
        let mut chosen: Option<(&Accreditation, Weight)> = None;
        for accreditation in accreditations {
            match self.accept(accreditation, roles, issued) {
                Err(problem) => {
                    if !problems.contains(&problem) {
                        problems.push(problem);
                    }
                }
                Ok(weight) => {
                    let better = chosen.is_none_or(|(best, best_weight)| {
                        weight > best_weight
                            || (weight == best_weight && accreditation.category < best.category)
                    });
                    if better {
                        chosen = Some((accreditation, weight));
                    }
                }
            }
        }
        chosen.ok_or(problems)
    }

    /// Independence from the subject where it takes the registry to tell (the subject's own
    /// DID and person were checked before): an attesting person needs a subject the registry
    /// knows, and a policy that excludes the subject's household needs both households known.
    fn independent_of_subject(
        &self,
        person: Option<&str>,
        household: Option<&str>,
        subject: &Identity,
    ) -> Result<(), Reason> {
        if person.is_some() && subject.persons.is_empty() {
            return Err(Reason::SubjectNotInRegistry);
        }
        if self.policy.independence.exclude_subject_household
            && (person.is_some() || household.is_some())
        {
            match household {
                None => {
                    return Err(Reason::HouseholdUnknown {
                        whose: Whose::Attester,
                    });
                }
                Some(_) if subject.households.is_empty() => {
                    return Err(Reason::HouseholdUnknown {
                        whose: Whose::Subject,
                    });
                }
                Some(h) if subject.households.contains(h) => {
                    return Err(Reason::SameHouseholdAsSubject);
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// The weight after decay, with a note when decay reduced it; stale when too old.
    fn freshness(
        &self,
        base: Weight,
        issued: DateTime<Utc>,
    ) -> Result<(Weight, Option<Reason>), Reason> {
        let freshness = self.policy.freshness;
        // `issued` is not after `self.at` (checked before), so the age is never negative.
        let age_days = u64::try_from((self.at - issued).num_days()).unwrap_or(0);
        match freshness.weigh(base, age_days) {
            Aged::Stale { limit_days } => Err(Reason::Stale {
                age_days,
                limit_days,
            }),
            Aged::Fresh { weight, decayed } => {
                let note =
                    decayed
                        .then_some(freshness.decay)
                        .flatten()
                        .map(|decay| Reason::Decayed {
                            age_days,
                            full_weight_days: decay.full_weight_days,
                            zero_weight_days: decay.zero_weight_days,
                        });
                Ok((weight, note))
            }
        }
    }

    /// Whether the policy accepts `accreditation` for this attestation, and at what base weight.
    fn accept(
        &self,
        accreditation: &Accreditation,
        roles: &[&Party],
        issued: DateTime<Utc>,
    ) -> Result<Weight, Reason> {
        let policy = self.policy;
        let category = accreditation.category.clone();
        accreditation
            .counts_for(&policy.fact_type, issued, self.at)
            .map_err(|problem| problem_reason(accreditation, problem, issued))?;
        let Some(rule) = policy.categories.get(&category) else {
            return Err(Reason::CategoryNotAccepted { category });
        };
        if !policy.jurisdictions.is_empty()
            && !policy.jurisdictions.contains(&accreditation.jurisdiction)
        {
            return Err(Reason::JurisdictionNotAccepted {
                category,
                jurisdiction: accreditation.jurisdiction.clone(),
            });
        }
        if roles.is_empty() {
            if rule.only_parties {
                return Err(Reason::NotAParty { category });
            }
        } else {
            let allowed: BTreeSet<&String> = roles.iter().flat_map(|p| &p.may_attest_as).collect();
            if !allowed.contains(&category) {
                return Err(Reason::PartyToFact {
                    roles: roles.iter().map(|p| p.role.clone()).collect(),
                    category,
                    may_attest_as: allowed.into_iter().cloned().collect(),
                });
            }
        }
        Ok(rule.weight)
    }
}

fn one(reason: Reason) -> Vec<Reason> {
    vec![reason]
}

fn problem_reason(
    accreditation: &Accreditation,
    problem: AccreditationProblem,
    issued: DateTime<Utc>,
) -> Reason {
    let category = accreditation.category.clone();
    match problem {
        AccreditationProblem::NotForFactType => Reason::AccreditationNotForFactType {
            category,
            fact_types: accreditation.fact_types.clone(),
        },
        AccreditationProblem::NotValidAtIssuance => Reason::AccreditationNotValidAtIssuance {
            category,
            issued: rfc3339(issued),
            valid_from: rfc3339(accreditation.valid_from),
            valid_until: accreditation.valid_until.map(rfc3339),
        },
        AccreditationProblem::RevokedBeforeIssuance { revocation } => {
            Reason::AccreditationRevokedBeforeIssuance {
                category,
                at: rfc3339(revocation.at),
                revocation_reason: revocation.reason,
            }
        }
        AccreditationProblem::SuspendedAtIssuance { suspension } => {
            Reason::AccreditationSuspendedAtIssuance {
                category,
                from: rfc3339(suspension.from),
                until: suspension.until.map(rfc3339),
            }
        }
        AccreditationProblem::SuspendedAtDecision { suspension } => {
            Reason::AccreditationSuspended {
                category,
                from: rfc3339(suspension.from),
                until: suspension.until.map(rfc3339),
            }
        }
        AccreditationProblem::RevokedForCause { revocation } => {
            Reason::AccreditationRevokedForCause {
                category,
                at: rfc3339(revocation.at),
                revocation_reason: revocation.reason,
            }
        }
    }
}
