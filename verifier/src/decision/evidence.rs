//! Re-evaluating a decision without its credentials.
//!
//! A decision record must not keep the credentials' personal content, yet a counted input may be
//! revoked or expire later, and the decision must then be judged again under the same policy
//! version. [`Evidence`] is what a decision keeps of each *eligible* input (one that passed every
//! per-input check at the decision time): its fingerprint, the digest of its agreement key (equal
//! digests ⇔ agreeing claims, without the claims), category, entity, person, household and
//! weight after decay. [`retally`] re-runs steps 3–6 of [`super::decide`] over the evidence minus
//! the withdrawn inputs: the same grouping, independence, conflicts, caps and requirements, so a
//! re-evaluation can never disagree with what `decide` would say of the remaining inputs at the
//! original decision time.

use super::eligibility::Eligible;
use super::tally::{requirements, tally};
use super::{InputExplanation, Outcome, RequirementCheck, Totals};
use crate::policy::{Policy, Weight};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// What a decision keeps of one eligible input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// Position in the presented bundle.
    pub index: usize,
    /// Hex SHA-256 of the credential's canonical form.
    pub fingerprint: String,
    /// Issuer and credential `id`, when it has one: two versions of a credential count once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_as: Option<(String, String)>,
    /// Hex SHA-256 of the input's agreement key.
    pub agreement: String,
    pub category: String,
    pub entity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<String>,
    /// After decay, before caps.
    pub weight: Weight,
}

impl From<&Eligible> for Evidence {
    fn from(eligible: &Eligible) -> Evidence {
        Evidence {
            index: eligible.index,
            fingerprint: eligible.fingerprint.clone(),
            issued_as: eligible.issued_as.clone(),
            agreement: hex::encode(Sha256::digest(eligible.key.as_bytes())),
            category: eligible.category.clone(),
            entity: eligible.entity.clone(),
            person: eligible.person.clone(),
            household: eligible.household.clone(),
            weight: eligible.weight,
        }
    }
}

/// A decision judged again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Retally {
    pub outcome: Outcome,
    pub totals: Totals,
    pub requirements: Vec<RequirementCheck>,
    /// The bundle positions that count now.
    pub counted: Vec<usize>,
}

/// Steps 3–6 of a decision over `evidence`, leaving out the inputs at the `withdrawn`
/// positions (revoked, suspended or expired since).
pub fn retally(policy: &Policy, evidence: &[Evidence], withdrawn: &BTreeSet<usize>) -> Retally {
    let eligible: Vec<Eligible> = evidence
        .iter()
        .filter(|e| !withdrawn.contains(&e.index))
        .map(|e| Eligible {
            index: e.index,
            fingerprint: e.fingerprint.clone(),
            issued_as: e.issued_as.clone(),
            key: e.agreement.clone(),
            claims: BTreeMap::new(),
            category: e.category.clone(),
            entity: e.entity.clone(),
            person: e.person.clone(),
            household: e.household.clone(),
            weight: e.weight,
            decayed: None,
        })
        .collect();
    let slots = evidence.iter().map(|e| e.index + 1).max().unwrap_or(0);
    let mut explained: Vec<InputExplanation> = (0..slots).map(InputExplanation::blank).collect();
    let tally = tally(policy, eligible, &mut explained, false);
    let requirements = requirements(policy, &tally);
    let outcome = if tally.disputed {
        Outcome::Disputed
    } else if tally.counted > 0 && requirements.iter().all(|r| r.met) {
        Outcome::Established
    } else {
        Outcome::Insufficient
    };
    Retally {
        outcome,
        totals: tally.totals(),
        requirements,
        counted: explained
            .iter()
            .filter(|e| e.counted)
            .map(|e| e.index)
            .collect(),
    }
}
