//! The registry's rows and every query over them: the administrative acts (each with its audit
//! entry, in the caller's transaction), the registry as it was at a time ([`Snapshot`]), and the
//! automatic `neighbour` accreditations.
//!
//! History is kept by never deleting or rewriting a row. A revocation fills the revocation
//! columns of a row that had none (once); ending a suspension sets its `until_at` from NULL
//! (once). Both record when they were written (`revocation_recorded_at`, `ended_at`), because
//! their effective times may be dated earlier or later than that: the registry "as it was at T"
//! shows only what had been recorded by T, whatever date it carries.

use super::wire::{
    AccreditationRecord, NewPerson, NewRevocation, NewSuspension, PersonRecord, RevocationRecord,
    SuspensionRecord,
};
use crate::audit;
use crate::db::schema::{accreditation_suspensions, accreditations, persons};
use crate::db::{self, AnyConnection, StoreError};
use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use corroborate_verifier::credential::rfc3339;
use corroborate_verifier::registry::{Accreditation, Person, Registry, Revocation, Suspension};
use diesel::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The category granted automatically from an established residence; never by hand.
pub const NEIGHBOUR_CATEGORY: &str = "neighbour";
/// The fact type a `neighbour` accreditation covers.
pub const NEIGHBOUR_FACT_TYPE: &str = "ResidenceAttestation";
/// How automatic acts appear in `granted_by` and `revoked_by` (they are not audit-logged).
pub const SYSTEM_ACTOR: &str = "system";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = accreditations)]
pub struct AccreditationRow {
    pub id: String,
    pub did: String,
    pub category: String,
    /// A JSON array of strings.
    pub fact_types: String,
    pub controller: String,
    pub person: Option<String>,
    pub household: Option<String>,
    pub jurisdiction: String,
    /// The postcode a `neighbour` accreditation is limited to.
    pub area: Option<String>,
    pub valid_from: i64,
    pub valid_until: Option<i64>,
    pub basis: Option<String>,
    pub granted_by: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<String>,
    pub revoked_for_cause: Option<bool>,
    pub revoked_by: Option<String>,
    pub source_decision: Option<String>,
    pub revocation_recorded_at: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = accreditation_suspensions)]
pub struct SuspensionRow {
    pub id: String,
    pub accreditation_id: String,
    pub from_at: i64,
    pub until_at: Option<i64>,
    pub reason: String,
    pub created_by: String,
    pub created_at: i64,
    pub ended_at: Option<i64>,
    pub ended_by: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = persons)]
pub struct PersonRow {
    pub did: String,
    pub person: String,
    pub household: Option<String>,
    pub created_by: String,
    pub created_at: i64,
}

fn time(ms: i64) -> String {
    rfc3339(db::from_millis(ms))
}

fn fact_types_of(row: &AccreditationRow) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(&row.fact_types)
        .map_err(|e| StoreError::Query(diesel::result::Error::DeserializationError(Box::new(e))))
}

impl AccreditationRow {
    /// The API's view: the row with its whole history.
    pub fn record(&self, suspensions: &[SuspensionRow]) -> Result<AccreditationRecord, StoreError> {
        let revocation = match (&self.revoked_at, &self.revoked_reason) {
            (Some(at), Some(reason)) => Some(RevocationRecord {
                at: time(*at),
                reason: reason.clone(),
                for_cause: self.revoked_for_cause.unwrap_or(false),
                revoked_by: self.revoked_by.clone().unwrap_or_default(),
                recorded_at: time(self.revocation_recorded_at.unwrap_or(*at)),
            }),
            _ => None,
        };
        Ok(AccreditationRecord {
            id: self.id.clone(),
            did: self.did.clone(),
            category: self.category.clone(),
            fact_types: fact_types_of(self)?,
            controller: self.controller.clone(),
            person: self.person.clone(),
            household: self.household.clone(),
            jurisdiction: self.jurisdiction.clone(),
            area: self.area.clone(),
            valid_from: time(self.valid_from),
            valid_until: self.valid_until.map(time),
            basis: self.basis.clone(),
            granted_by: self.granted_by.clone(),
            granted_at: time(self.created_at),
            source_decision: self.source_decision.clone(),
            revocation,
            suspensions: suspensions
                .iter()
                .filter(|s| s.accreditation_id == self.id)
                .map(SuspensionRow::record)
                .collect(),
        })
    }

    /// The verifier's view at `at`: only what had been recorded by then.
    fn as_of(&self, suspensions: &[SuspensionRow], at: i64) -> Result<Accreditation, StoreError> {
        let revoked = match (self.revoked_at, &self.revoked_reason) {
            (Some(revoked_at), Some(reason))
                if self.revocation_recorded_at.unwrap_or(revoked_at) <= at =>
            {
                Some(Revocation {
                    at: db::from_millis(revoked_at),
                    reason: reason.clone(),
                    for_cause: self.revoked_for_cause.unwrap_or(false),
                })
            }
            _ => None,
        };
        let suspensions = suspensions
            .iter()
            .filter(|s| s.accreditation_id == self.id && s.created_at <= at)
            .map(|s| Suspension {
                from: db::from_millis(s.from_at),
                // An end recorded after `at` was not known then.
                until: match s.ended_at {
                    Some(ended) if ended > at => None,
                    _ => s.until_at.map(db::from_millis),
                },
            })
            .collect();
        Ok(Accreditation {
            did: self.did.clone(),
            category: self.category.clone(),
            fact_types: fact_types_of(self)?,
            controller: self.controller.clone(),
            person: self.person.clone(),
            household: self.household.clone(),
            jurisdiction: self.jurisdiction.clone(),
            valid_from: db::from_millis(self.valid_from),
            valid_until: self.valid_until.map(db::from_millis),
            revoked,
            suspensions,
            basis: self.basis.clone(),
        })
    }
}

impl SuspensionRow {
    fn record(&self) -> SuspensionRecord {
        SuspensionRecord {
            id: self.id.clone(),
            from: time(self.from_at),
            until: self.until_at.map(time),
            reason: self.reason.clone(),
            suspended_by: self.created_by.clone(),
            recorded_at: time(self.created_at),
            ended_by: self.ended_by.clone(),
            end_recorded_at: self.ended_at.map(time),
        }
    }
}

impl PersonRow {
    pub fn record(&self) -> PersonRecord {
        PersonRecord {
            did: self.did.clone(),
            person: self.person.clone(),
            household: self.household.clone(),
            bound_by: self.created_by.clone(),
            bound_at: time(self.created_at),
        }
    }
}

/// The registry as it was at a time, for some DIDs or all: what the decision engine reads
/// ([`Registry`]) and what `GET /registry` publishes (`schemas/registry.schema.json`).
#[derive(Debug, Clone)]
pub struct Snapshot {
    at: DateTime<Utc>,
    accreditations: BTreeMap<String, Vec<Accreditation>>,
    persons: BTreeMap<String, Person>,
}

impl Registry for Snapshot {
    fn accreditations(&self, did: &str) -> Vec<Accreditation> {
        self.accreditations.get(did).cloned().unwrap_or_default()
    }

    fn person(&self, did: &str) -> Option<Person> {
        self.persons.get(did).cloned()
    }
}

impl Snapshot {
    /// The time the registry is shown as of.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// The registry file (`schemas/registry.schema.json`), which `FileRegistry::from_json`
    /// reads: accreditations by DID, each DID's in the order they were granted; then persons.
    pub fn to_json(&self, description: &str) -> Value {
        let accreditations: Vec<&Accreditation> = self.accreditations.values().flatten().collect();
        let persons: Vec<&Person> = self.persons.values().collect();
        json!({
            "description": description,
            "accreditations": accreditations,
            "persons": persons,
        })
    }
}

/// Which part of the registry a snapshot holds.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// Only these DIDs; `None` for all.
    pub dids: Option<&'a [String]>,
    /// Leave out `neighbour` accreditations for any other area (postcode).
    pub area: Option<&'a str>,
    pub at: DateTime<Utc>,
}

type Backend = <AnyConnection as diesel::Connection>::Backend;

fn scoped_accreditations<'a>(scope: Scope<'a>) -> accreditations::BoxedQuery<'a, Backend> {
    let mut query = accreditations::table
        .filter(accreditations::created_at.le(db::millis(scope.at)))
        .into_boxed();
    if let Some(dids) = scope.dids {
        query = query.filter(accreditations::did.eq_any(dids));
    }
    if let Some(area) = scope.area {
        query = query.filter(
            accreditations::category
                .ne(NEIGHBOUR_CATEGORY)
                .or(accreditations::area.eq(area)),
        );
    }
    query
}

/// How many accreditations and persons a snapshot of `scope` would hold (checked before
/// loading a large export).
pub fn count(conn: &mut AnyConnection, scope: Scope<'_>) -> Result<(i64, i64), StoreError> {
    let accreditations = scoped_accreditations(scope).count().get_result(conn)?;
    let mut persons = persons::table
        .filter(persons::created_at.le(db::millis(scope.at)))
        .into_boxed();
    if let Some(dids) = scope.dids {
        persons = persons.filter(persons::did.eq_any(dids));
    }
    Ok((accreditations, persons.count().get_result(conn)?))
}

/// Loads the registry of `scope` as it was at `scope.at`: rows recorded by then, with the
/// revocations, suspensions and suspension ends recorded by then.
pub fn snapshot(conn: &mut AnyConnection, scope: Scope<'_>) -> Result<Snapshot, StoreError> {
    let at = db::millis(scope.at);
    let rows: Vec<AccreditationRow> = scoped_accreditations(scope)
        .order((accreditations::created_at.asc(), accreditations::id.asc()))
        .select(AccreditationRow::as_select())
        .load(conn)?;
    // The same scope, joined: no list of ids that could outgrow a statement's parameters.
    let mut suspensions = accreditation_suspensions::table
        .inner_join(
            accreditations::table
                .on(accreditations::id.eq(accreditation_suspensions::accreditation_id)),
        )
        .filter(accreditation_suspensions::created_at.le(at))
        .filter(accreditations::created_at.le(at))
        .into_boxed::<Backend>();
    if let Some(dids) = scope.dids {
        suspensions = suspensions.filter(accreditations::did.eq_any(dids));
    }
    if let Some(area) = scope.area {
        suspensions = suspensions.filter(
            accreditations::category
                .ne(NEIGHBOUR_CATEGORY)
                .or(accreditations::area.eq(area)),
        );
    }
    let suspensions: Vec<SuspensionRow> = suspensions
        .order((
            accreditation_suspensions::from_at.asc(),
            accreditation_suspensions::id.asc(),
        ))
        .select(SuspensionRow::as_select())
        .load(conn)?;
    let mut by_accreditation: BTreeMap<&str, Vec<SuspensionRow>> = BTreeMap::new();
    for suspension in &suspensions {
        by_accreditation
            .entry(suspension.accreditation_id.as_str())
            .or_default()
            .push(suspension.clone());
    }
    let mut accreditations: BTreeMap<String, Vec<Accreditation>> = BTreeMap::new();
    for row in &rows {
        let own = by_accreditation
            .get(row.id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        accreditations
            .entry(row.did.clone())
            .or_default()
            .push(row.as_of(own, at)?);
    }
    let mut person_query = persons::table
        .filter(persons::created_at.le(at))
        .into_boxed();
    if let Some(dids) = scope.dids {
        person_query = person_query.filter(persons::did.eq_any(dids));
    }
    let persons = person_query
        .select(PersonRow::as_select())
        .load::<PersonRow>(conn)?
        .into_iter()
        .map(|p| {
            let person = Person {
                did: p.did,
                person: p.person,
                household: p.household,
            };
            (person.did.clone(), person)
        })
        .collect();
    Ok(Snapshot {
        at: scope.at,
        accreditations,
        persons,
    })
}

/// One accreditation with its suspensions.
pub fn find(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<(AccreditationRow, Vec<SuspensionRow>)>, StoreError> {
    let row: Option<AccreditationRow> = accreditations::table
        .filter(accreditations::id.eq(id))
        .select(AccreditationRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    let suspensions = suspensions_of(conn, std::slice::from_ref(&row.id))?;
    Ok(Some((row, suspensions)))
}

/// The suspensions of a few accreditations (one page at most), oldest first.
pub fn suspensions_of(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<Vec<SuspensionRow>, StoreError> {
    Ok(accreditation_suspensions::table
        .filter(accreditation_suspensions::accreditation_id.eq_any(ids))
        .order((
            accreditation_suspensions::created_at.asc(),
            accreditation_suspensions::id.asc(),
        ))
        .select(SuspensionRow::as_select())
        .load(conn)?)
}

/// A page of the accreditation list: filters, a cursor and a size.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub did: Option<String>,
    pub category: Option<String>,
    /// Only accreditations in force then: within their term, not revoked, not suspended.
    pub active_at: Option<i64>,
    /// The id of the last accreditation of the previous page.
    pub after: Option<String>,
    pub limit: i64,
}

/// One page of accreditations and the suspensions of those.
#[derive(Debug, Clone)]
pub struct Page {
    pub rows: Vec<AccreditationRow>,
    pub suspensions: Vec<SuspensionRow>,
}

/// Accreditations newest first, with their suspensions; `None` when the cursor is unknown.
pub fn list(conn: &mut AnyConnection, filter: &ListFilter) -> Result<Option<Page>, StoreError> {
    let mut query = accreditations::table.into_boxed::<Backend>();
    if let Some(after) = &filter.after {
        let cursor: Option<i64> = accreditations::table
            .filter(accreditations::id.eq(after))
            .select(accreditations::created_at)
            .first(conn)
            .optional()?;
        let Some(created) = cursor else {
            return Ok(None);
        };
        query = query.filter(
            accreditations::created_at
                .lt(created)
                .or(accreditations::created_at
                    .eq(created)
                    .and(accreditations::id.lt(after.clone()))),
        );
    }
    if let Some(did) = &filter.did {
        query = query.filter(accreditations::did.eq(did.clone()));
    }
    if let Some(category) = &filter.category {
        query = query.filter(accreditations::category.eq(category.clone()));
    }
    if let Some(t) = filter.active_at {
        let suspended_then = accreditation_suspensions::table
            .filter(accreditation_suspensions::accreditation_id.eq(accreditations::id))
            .filter(accreditation_suspensions::from_at.le(t))
            .filter(
                accreditation_suspensions::until_at
                    .is_null()
                    .or(accreditation_suspensions::until_at.gt(t)),
            );
        query = query
            .filter(accreditations::valid_from.le(t))
            .filter(
                accreditations::valid_until
                    .is_null()
                    .or(accreditations::valid_until.gt(t)),
            )
            .filter(
                accreditations::revoked_at
                    .is_null()
                    .or(accreditations::revoked_at.gt(t)),
            )
            .filter(diesel::dsl::not(diesel::dsl::exists(suspended_then)));
    }
    let rows: Vec<AccreditationRow> = query
        .order((accreditations::created_at.desc(), accreditations::id.desc()))
        .limit(filter.limit)
        .select(AccreditationRow::as_select())
        .load(conn)?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let suspensions = suspensions_of(conn, &ids)?;
    Ok(Some(Page { rows, suspensions }))
}

/// The person bound to `did`, if any.
pub fn person(conn: &mut AnyConnection, did: &str) -> Result<Option<PersonRow>, StoreError> {
    Ok(persons::table
        .filter(persons::did.eq(did))
        .select(PersonRow::as_select())
        .first(conn)
        .optional()?)
}

/// The distinct person ids the accreditations of `did` name.
fn persons_named(conn: &mut AnyConnection, did: &str) -> Result<Vec<String>, StoreError> {
    let mut named: Vec<String> = accreditations::table
        .filter(accreditations::did.eq(did))
        .filter(accreditations::person.is_not_null())
        .select(accreditations::person.assume_not_null())
        .load(conn)?;
    named.sort();
    named.dedup();
    Ok(named)
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4())
}

/// Grants an accreditation by hand (already validated), refusing one that names another person
/// than the DID is known as; audit-logged.
pub fn grant(
    conn: &mut AnyConnection,
    at: DateTime<Utc>,
    actor: &str,
    new: NewAccreditationChecked,
) -> ApiResult<AccreditationRecord> {
    if let Some(person) = &new.person {
        if let Some(bound) = self::person(conn, &new.did)?
            && &bound.person != person
        {
            return Err(ApiError::conflict(format!(
                "{} is bound to another person in the registry's persons; an accreditation \
                 must name the same person",
                new.did
            )));
        }
        if persons_named(conn, &new.did)?.iter().any(|p| p != person) {
            return Err(ApiError::conflict(format!(
                "another accreditation of {} names a different person; one DID belongs to one \
                 person",
                new.did
            )));
        }
    }
    let row = AccreditationRow {
        id: new_id("acc-"),
        did: new.did,
        category: new.category,
        fact_types: json!(new.fact_types).to_string(),
        controller: new.controller,
        person: new.person,
        household: new.household,
        jurisdiction: new.jurisdiction,
        area: None,
        valid_from: db::millis(new.valid_from),
        valid_until: new.valid_until.map(db::millis),
        basis: new.basis,
        granted_by: actor.to_owned(),
        created_at: db::millis(at),
        revoked_at: None,
        revoked_reason: None,
        revoked_for_cause: None,
        revoked_by: None,
        source_decision: None,
        revocation_recorded_at: None,
    };
    diesel::insert_into(accreditations::table)
        .values(&row)
        .execute(conn)?;
    let record = row.record(&[])?;
    audit::record(
        conn,
        at,
        actor,
        "registry.accreditation.grant",
        &row.id,
        serde_json::to_value(&record).map_err(ApiError::internal)?,
    )?;
    Ok(record)
}

/// A [`super::NewAccreditation`] after validation: times parsed, texts trimmed.
#[derive(Debug, Clone)]
pub struct NewAccreditationChecked {
    pub did: String,
    pub category: String,
    pub fact_types: Vec<String>,
    pub controller: String,
    pub person: Option<String>,
    pub household: Option<String>,
    pub jurisdiction: String,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub basis: Option<String>,
}

/// Existence check shared by the acts on one accreditation.
fn existing(conn: &mut AnyConnection, id: &str) -> ApiResult<AccreditationRow> {
    accreditations::table
        .filter(accreditations::id.eq(id))
        .select(AccreditationRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("accreditation"))
}

/// Records a suspension of a live (not revoked) accreditation; audit-logged.
pub fn suspend(
    conn: &mut AnyConnection,
    at: DateTime<Utc>,
    actor: &str,
    accreditation_id: &str,
    new: &NewSuspension,
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
) -> ApiResult<SuspensionRecord> {
    let accreditation = existing(conn, accreditation_id)?;
    if let Some(revoked_at) = accreditation.revoked_at {
        return Err(ApiError::conflict(format!(
            "the accreditation was revoked ({}); a revoked accreditation cannot be suspended",
            time(revoked_at)
        )));
    }
    let row = SuspensionRow {
        id: new_id("sus-"),
        accreditation_id: accreditation_id.to_owned(),
        from_at: db::millis(from),
        until_at: until.map(db::millis),
        reason: new.reason.trim().to_owned(),
        created_by: actor.to_owned(),
        created_at: db::millis(at),
        ended_at: None,
        ended_by: None,
    };
    diesel::insert_into(accreditation_suspensions::table)
        .values(&row)
        .execute(conn)?;
    let record = row.record();
    audit::record(
        conn,
        at,
        actor,
        "registry.accreditation.suspend",
        accreditation_id,
        serde_json::to_value(&record).map_err(ApiError::internal)?,
    )?;
    Ok(record)
}

/// Ends an open suspension at `end`, or now when `end` is `None` (at least a millisecond after
/// its start, so ending it at once never fails) — the one update of a suspension: `until_at`
/// from NULL to a time, with when and by whom it was recorded; audit-logged.
pub fn end_suspension(
    conn: &mut AnyConnection,
    at: DateTime<Utc>,
    actor: &str,
    accreditation_id: &str,
    suspension_id: &str,
    end: Option<DateTime<Utc>>,
) -> ApiResult<SuspensionRecord> {
    existing(conn, accreditation_id)?;
    let row: SuspensionRow = accreditation_suspensions::table
        .filter(accreditation_suspensions::id.eq(suspension_id))
        .filter(accreditation_suspensions::accreditation_id.eq(accreditation_id))
        .select(SuspensionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("suspension of this accreditation"))?;
    if let Some(until) = row.until_at {
        return Err(ApiError::conflict(format!(
            "the suspension already ends at {}; an end is recorded once",
            time(until)
        )));
    }
    let end_ms = match end {
        Some(end) => db::millis(end),
        // "Now": a suspension ended in the millisecond it began still lasts one.
        None => db::millis(at).max(row.from_at + 1),
    };
    if end_ms <= row.from_at {
        return Err(ApiError::bad_body(format!(
            "`at` must be after the suspension's start ({})",
            time(row.from_at)
        )));
    }
    let at_ms = db::millis(at);
    // Guarded by `until_at IS NULL`: of two concurrent ends, one changes the row.
    let changed = diesel::update(
        accreditation_suspensions::table
            .filter(accreditation_suspensions::id.eq(suspension_id))
            .filter(accreditation_suspensions::until_at.is_null()),
    )
    .set((
        accreditation_suspensions::until_at.eq(end_ms),
        accreditation_suspensions::ended_at.eq(at_ms),
        accreditation_suspensions::ended_by.eq(actor),
    ))
    .execute(conn)?;
    if changed != 1 {
        return Err(ApiError::conflict(
            "the suspension was ended meanwhile; an end is recorded once",
        ));
    }
    let record = SuspensionRow {
        until_at: Some(end_ms),
        ended_at: Some(at_ms),
        ended_by: Some(actor.to_owned()),
        ..row
    }
    .record();
    audit::record(
        conn,
        at,
        actor,
        "registry.suspension.end",
        accreditation_id,
        serde_json::to_value(&record).map_err(ApiError::internal)?,
    )?;
    Ok(record)
}

/// Records the revocation of an accreditation (once); audit-logged.
pub fn revoke(
    conn: &mut AnyConnection,
    at: DateTime<Utc>,
    actor: &str,
    accreditation_id: &str,
    new: &NewRevocation,
    effective: DateTime<Utc>,
) -> ApiResult<AccreditationRecord> {
    let row = existing(conn, accreditation_id)?;
    if let Some(revoked_at) = row.revoked_at {
        return Err(ApiError::conflict(format!(
            "the accreditation was already revoked ({}); a revocation is recorded once",
            time(revoked_at)
        )));
    }
    let revoked = revoke_row(
        conn,
        at,
        actor,
        "registry.accreditation.revoke",
        &row,
        new.reason.trim(),
        new.for_cause,
        effective,
    )?;
    if !revoked {
        return Err(ApiError::conflict(
            "the accreditation was revoked meanwhile; a revocation is recorded once",
        ));
    }
    let (row, suspensions) = find(conn, accreditation_id)?
        .ok_or_else(|| ApiError::internal("the revoked accreditation disappeared"))?;
    Ok(row.record(&suspensions)?)
}

/// Fills the revocation columns of a row that has none and logs it as `action`; `false` when
/// the row was revoked meanwhile. Guarded by `revoked_at IS NULL`: a revocation is never
/// overwritten.
#[allow(clippy::too_many_arguments)]
fn revoke_row(
    conn: &mut AnyConnection,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    row: &AccreditationRow,
    reason: &str,
    for_cause: bool,
    effective: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = diesel::update(
        accreditations::table
            .filter(accreditations::id.eq(&row.id))
            .filter(accreditations::revoked_at.is_null()),
    )
    .set((
        accreditations::revoked_at.eq(db::millis(effective)),
        accreditations::revoked_reason.eq(reason),
        accreditations::revoked_for_cause.eq(for_cause),
        accreditations::revoked_by.eq(actor),
        accreditations::revocation_recorded_at.eq(db::millis(at)),
    ))
    .execute(conn)?;
    if changed != 1 {
        return Ok(false);
    }
    if actor == SYSTEM_ACTOR {
        // An automatic withdrawal, like the automatic grant, is no administrative act (and the
        // append-only log must not keep a citizen's DID): its trace is the row itself.
        return Ok(true);
    }
    audit::record(
        conn,
        at,
        actor,
        action,
        &row.id,
        json!({
            "did": row.did,
            "category": row.category,
            "at": rfc3339(effective),
            "reason": reason,
            "for_cause": for_cause,
            "source_decision": row.source_decision,
        }),
    )?;
    Ok(true)
}

/// Binds a DID to a pseudonymous person (once), refusing a person other than the one the
/// DID's accreditations name; audit-logged.
pub fn bind_person(
    conn: &mut AnyConnection,
    at: DateTime<Utc>,
    actor: &str,
    new: &NewPerson,
) -> ApiResult<PersonRecord> {
    if let Some(bound) = person(conn, &new.did)? {
        return Err(ApiError::conflict(format!(
            "{} is already bound (since {}); a binding is never rewritten",
            new.did,
            time(bound.created_at)
        )));
    }
    if persons_named(conn, &new.did)?
        .iter()
        .any(|p| p != &new.person)
    {
        return Err(ApiError::conflict(format!(
            "an accreditation of {} names a different person; one DID belongs to one person",
            new.did
        )));
    }
    let row = PersonRow {
        did: new.did.clone(),
        person: new.person.clone(),
        household: new.household.clone(),
        created_by: actor.to_owned(),
        created_at: db::millis(at),
    };
    diesel::insert_into(persons::table)
        .values(&row)
        .execute(conn)?;
    let record = row.record();
    audit::record(
        conn,
        at,
        actor,
        "registry.person.bind",
        &row.did,
        serde_json::to_value(&record).map_err(ApiError::internal)?,
    )?;
    Ok(record)
}

/// See [`super::grant_neighbour_in`].
pub fn grant_neighbour(
    conn: &mut AnyConnection,
    at: DateTime<Utc>,
    subject_did: &str,
    decision_id: &str,
    area: &str,
    jurisdiction: &str,
) -> Result<(), StoreError> {
    let granted: i64 = accreditations::table
        .filter(accreditations::source_decision.eq(decision_id))
        .count()
        .get_result(conn)?;
    if granted > 0 {
        return Ok(());
    }
    // The person behind the DID: its binding, else what its other accreditations say.
    let known = match person(conn, subject_did)? {
        Some(bound) => Some((bound.person, bound.household)),
        None => accreditations::table
            .filter(accreditations::did.eq(subject_did))
            .filter(accreditations::person.is_not_null())
            .order((accreditations::created_at.desc(), accreditations::id.desc()))
            .select((
                accreditations::person.assume_not_null(),
                accreditations::household,
            ))
            .first::<(String, Option<String>)>(conn)
            .optional()?,
    };
    let (person, household) = match known {
        Some((person, household)) => (Some(person), household),
        None => (None, None),
    };
    let row = AccreditationRow {
        id: new_id("acc-"),
        did: subject_did.to_owned(),
        category: NEIGHBOUR_CATEGORY.to_owned(),
        fact_types: json!([NEIGHBOUR_FACT_TYPE]).to_string(),
        controller: person.clone().unwrap_or_else(|| subject_did.to_owned()),
        person,
        household,
        jurisdiction: jurisdiction.to_owned(),
        area: Some(area.to_owned()),
        valid_from: db::millis(at),
        valid_until: None,
        basis: Some(format!("residence established by decision {decision_id}")),
        granted_by: SYSTEM_ACTOR.to_owned(),
        created_at: db::millis(at),
        revoked_at: None,
        revoked_reason: None,
        revoked_for_cause: None,
        revoked_by: None,
        source_decision: Some(decision_id.to_owned()),
        revocation_recorded_at: None,
    };
    // Not audit-logged: an automatic grant is no administrative act, it is traceable through its
    // `source_decision` and `granted_by`, and it must stay erasable (the audit log is
    // append-only and would keep the citizen's DID for ever).
    diesel::insert_into(accreditations::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// See [`super::withdraw_neighbour_in`].
pub fn withdraw_neighbour(
    conn: &mut AnyConnection,
    at: DateTime<Utc>,
    decision_id: &str,
    reason: &str,
) -> Result<(), StoreError> {
    let row: Option<AccreditationRow> = accreditations::table
        .filter(accreditations::source_decision.eq(decision_id))
        .filter(accreditations::revoked_at.is_null())
        .select(AccreditationRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else { return Ok(()) };
    revoke_row(
        conn,
        at,
        SYSTEM_ACTOR,
        "registry.neighbour.withdraw",
        &row,
        reason,
        false,
        at,
    )?;
    Ok(())
}
