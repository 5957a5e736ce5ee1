//! Steps 3–6 of a decision: eligible inputs grouped by what they state, independence within each
//! group, conflicts between groups, weights and caps, and the policy's requirements.

use super::eligibility::Eligible;
use super::{Amount, InputExplanation, Reason, RequirementCheck, Rule, Sameness, Shared, Totals};
use crate::policy::{Policy, Weight};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What the groups came to.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub(super) disputed: bool,
    pub(super) counted: usize,
    pub(super) weight: Weight,
    pub(super) categories: BTreeSet<String>,
    pub(super) entities: BTreeSet<String>,
    /// Per `require` rule: the distinct entities counted in its categories.
    pub(super) required_entities: Vec<u64>,
    pub(super) agreed_claims: Option<BTreeMap<String, Value>>,
}

impl Tally {
    pub(super) fn totals(&self) -> Totals {
        Totals {
            weight: self.weight,
            categories: self.categories.iter().cloned().collect(),
            entities: self.entities.len() as u64,
        }
    }
}

/// Steps 3–5: groups and independence, conflicts, weights. When the presentation is `rejected`,
/// the inputs that would have counted are marked so, and nothing counts.
pub(super) fn tally(
    policy: &Policy,
    eligible: Vec<Eligible>,
    explained: &mut [InputExplanation],
    rejected: bool,
) -> Tally {
    let groups = independent_groups(policy, eligible, explained);
    let mut tally = Tally {
        required_entities: vec![0; policy.require.len()],
        ..Tally::default()
    };
    let winners = match settle(policy, &groups, explained) {
        Settled::NoGroup => return tally,
        Settled::Disputed => {
            tally.disputed = true;
            return tally;
        }
        Settled::Winner(position) => &groups[position],
    };
    if rejected {
        for input in winners {
            explained[input.index]
                .reasons
                .push(Reason::PresentationRejected);
        }
        return tally;
    }
    weigh(policy, winners, explained, &mut tally);
    tally
}

/// Step 3: eligible inputs grouped by their agreement key; in each group, ranked by (weight
/// descending, fingerprint ascending), one version per credential and, as the policy says, one
/// input per entity, person and household — the first in rank order stands.
fn independent_groups(
    policy: &Policy,
    eligible: Vec<Eligible>,
    explained: &mut [InputExplanation],
) -> Vec<Vec<Eligible>> {
    let mut groups: BTreeMap<String, Vec<Eligible>> = BTreeMap::new();
    for input in eligible {
        groups.entry(input.key.clone()).or_default().push(input);
    }
    let independence = policy.independence;
    let mut kept_groups = Vec::new();
    for mut group in groups.into_values() {
        group.sort_by(|a, b| {
            b.weight
                .cmp(&a.weight)
                .then_with(|| a.fingerprint.cmp(&b.fingerprint))
                .then(a.index.cmp(&b.index))
        });
        let mut versions: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut entities: BTreeMap<String, usize> = BTreeMap::new();
        let mut persons: BTreeMap<String, usize> = BTreeMap::new();
        let mut households: BTreeMap<String, usize> = BTreeMap::new();
        let mut kept = Vec::new();
        for input in group {
            // Another version of a credential already kept: same issuer, `id` and agreed claims
            // (other claims under the same `id` are a contradiction, left to step 4).
            if let Some(first) = input.issued_as.as_ref().and_then(|key| versions.get(key)) {
                explained[input.index].reasons.push(Reason::DuplicateOf {
                    input: *first,
                    same: Sameness::Id,
                });
                continue;
            }
            let clash = [
                (
                    independence.one_per_entity,
                    Some(&input.entity),
                    &entities,
                    Shared::Entity,
                ),
                (
                    independence.one_per_person,
                    input.person.as_ref(),
                    &persons,
                    Shared::Person,
                ),
                (
                    independence.one_per_household,
                    input.household.as_ref(),
                    &households,
                    Shared::Household,
                ),
            ]
            .into_iter()
            .filter(|(rule, ..)| *rule)
            .find_map(|(_, key, seen, shared)| {
                key.and_then(|key| seen.get(key))
                    .map(|of| Reason::NotIndependent { of: *of, shared })
            });
            if let Some(reason) = clash {
                explained[input.index].reasons.push(reason);
                continue;
            }
            if let Some(key) = &input.issued_as {
                versions.insert(key.clone(), input.index);
            }
            entities.insert(input.entity.clone(), input.index);
            if let Some(person) = &input.person {
                persons.insert(person.clone(), input.index);
            }
            if let Some(household) = &input.household {
                households.insert(household.clone(), input.index);
            }
            kept.push(input);
        }
        kept_groups.push(kept);
    }
    kept_groups
}

enum Settled {
    NoGroup,
    Winner(usize),
    Disputed,
}

/// Step 4: one group wins outright; of several, the only one holding an override category wins
/// and the others are overridden; otherwise every input in every group conflicts.
fn settle(
    policy: &Policy,
    groups: &[Vec<Eligible>],
    explained: &mut [InputExplanation],
) -> Settled {
    let overrides = |input: &&Eligible| policy.conflicts.override_by.contains(&input.category);
    match groups {
        [] => return Settled::NoGroup,
        [_] => return Settled::Winner(0),
        _ => {}
    }
    let overriding: Vec<usize> = (0..groups.len())
        .filter(|&g| groups[g].iter().any(|i| overrides(&i)))
        .collect();
    if let [winner] = overriding.as_slice()
        && let Some(by) = groups[*winner].iter().find(overrides)
    {
        for (position, group) in groups.iter().enumerate() {
            if position != *winner {
                for input in group {
                    explained[input.index].reasons.push(Reason::OverriddenBy {
                        input: by.index,
                        category: by.category.clone(),
                    });
                }
            }
        }
        return Settled::Winner(*winner);
    }
    for (position, group) in groups.iter().enumerate() {
        let mut others: Vec<usize> = groups
            .iter()
            .enumerate()
            .filter(|(other, _)| *other != position)
            .flat_map(|(_, group)| group.iter().map(|i| i.index))
            .collect();
        others.sort_unstable();
        for input in group {
            explained[input.index].reasons.push(Reason::Conflicting {
                with: others.clone(),
            });
        }
    }
    Settled::Disputed
}

/// Step 5: the winning group's inputs count. Decay was applied in step 2; caps bound each
/// category's contribution, filled in rank order. An input a cap reduces (even to nothing) still
/// counts toward categories, entities and requirements: a cap bounds weight, not independence.
fn weigh(
    policy: &Policy,
    winners: &[Eligible],
    explained: &mut [InputExplanation],
    tally: &mut Tally,
) {
    let mut used: BTreeMap<&str, Weight> = BTreeMap::new();
    for input in winners {
        let explanation = &mut explained[input.index];
        explanation.reasons.extend(input.decayed.clone());
        let mut weight = input.weight;
        if let Some(cap) = policy.caps.get(&input.category) {
            let so_far = used.entry(&input.category).or_default();
            let room = cap.saturating_sub(*so_far);
            if weight > room {
                weight = room;
                explanation.reasons.push(Reason::Capped {
                    category: input.category.clone(),
                    cap: *cap,
                });
            }
            *so_far = so_far.saturating_add(weight);
        }
        explanation.counted = true;
        explanation.effective_weight = weight;
        tally.counted += 1;
        tally.weight = tally.weight.saturating_add(weight);
        tally.categories.insert(input.category.clone());
        tally.entities.insert(input.entity.clone());
    }
    for (position, rule) in policy.require.iter().enumerate() {
        let entities: BTreeSet<&str> = winners
            .iter()
            .filter(|i| rule.any_of.contains(&i.category))
            .map(|i| i.entity.as_str())
            .collect();
        tally.required_entities[position] = entities.len() as u64;
    }
    tally.agreed_claims = agreed_claims(winners);
}

/// The winning group's claims as most of its counted inputs write them (they agree by
/// [`crate::fact::agreement_key`], but may spell an address differently); ties go to the first in JCS order, so
/// the choice depends only on what was counted, never on order or fingerprints.
fn agreed_claims(winners: &[Eligible]) -> Option<BTreeMap<String, Value>> {
    let mut spellings: BTreeMap<String, (usize, &BTreeMap<String, Value>)> = BTreeMap::new();
    for input in winners {
        let form = serde_json::to_value(&input.claims)
            .ok()
            .and_then(|v| serde_json_canonicalizer::to_string(&v).ok())
            .unwrap_or_default();
        spellings.entry(form).or_insert((0, &input.claims)).0 += 1;
    }
    // `max_by_key` keeps the last maximum; iterate in reverse so ties go to the first key.
    spellings
        .values()
        .rev()
        .max_by_key(|(count, _)| *count)
        .map(|(_, claims)| (*claims).clone())
}

/// Step 6: each requirement of the policy against the tally.
pub(super) fn requirements(policy: &Policy, tally: &Tally) -> Vec<RequirementCheck> {
    let check = |rule, categories, required: Amount, actual: Amount| RequirementCheck {
        rule,
        categories,
        required,
        actual,
        met: actual.at_least(required),
    };
    let mut checks = vec![
        check(
            Rule::MinWeight,
            None,
            Amount::Weight(policy.min_weight),
            Amount::Weight(tally.weight),
        ),
        check(
            Rule::MinCategories,
            None,
            Amount::Count(u64::from(policy.min_categories)),
            Amount::Count(tally.categories.len() as u64),
        ),
        check(
            Rule::MinEntities,
            None,
            Amount::Count(u64::from(policy.min_entities)),
            Amount::Count(tally.entities.len() as u64),
        ),
    ];
    for (position, rule) in policy.require.iter().enumerate() {
        checks.push(check(
            Rule::AnyOf,
            Some(rule.any_of.clone()),
            Amount::Count(u64::from(rule.min)),
            Amount::Count(tally.required_entities.get(position).copied().unwrap_or(0)),
        ));
    }
    checks
}
