//! RDF Dataset Canonicalization (RDFC-1.0) of a JSON-LD document, for `eddsa-rdfc-2022`.
//!
//! Expansion, conversion to RDF and canonicalization are `ssi`'s (`json-ld`, `ssi-rdf`), with our
//! [`ShippedLoader`] so no context is ever fetched. Expansion runs in `ssi`'s strict policy (invalid
//! and undefined terms refused), and we add one check of our own: a term that only the VC 2.0
//! context's issuer-dependent `@vocab` gave a meaning is refused too, since no context defined it.
//!
//! One difference from `ssi`'s own `CompactJsonLd::expand`, for speed, with the same result: the
//! document's top-level `@context` is processed once per distinct value and kept in a small
//! process-wide cache, and the document (without that `@context`) is expanded from the processed
//! context. Processing the shipped contexts on every call was more than half of the cost of
//! verifying an `eddsa-rdfc-2022` proof (`docs/performance.md`). The expansion algorithm processes
//! a top-level `@context` against the empty initial context before it looks at anything else
//! (steps 7–9: at the top there is no previous, property-scoped or type-scoped context), so
//! starting from the processed context is the same expansion: the processed context carries the
//! same term definitions, protection flags and unprocessed scoped contexts, and type- and
//! property-scoped contexts inside the document are processed by the expansion exactly as before.
//! The one case where this does not hold, a top-level `@propagate: false`, takes the plain path.
//! `tests/rdfc_differential.rs` checks that both paths give byte-identical canonical forms and the
//! same errors.

use crate::context::{ISSUER_DEPENDENT_VOCAB, ShippedLoader};
use crate::failure::Failure;
use serde_json::Value;
use ssi_json_ld::context_processing::{Options as ProcessingOptions, Process};
use ssi_json_ld::expansion::{
    Action, Error as ExpansionError, Options as ExpansionOptions, Policy,
};
use ssi_json_ld::syntax::TryFromJson;
use ssi_json_ld::{Expand, ExpandedDocument, JsonLdError};
use ssi_rdf::{AnyLdEnvironment, LdEnvironment};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// The canonical N-Quads of `document` (lines sorted, each ending in a new line).
pub async fn canonicalize(document: &Value) -> Result<String, Failure> {
    let expanded = expand(document).await.map_err(json_ld_failure)?;
    let mut environment = LdEnvironment::default();
    let quads = environment
        .quads_of(&expanded)
        .map_err(|error| json_ld_failure(JsonLdError::Interpretation(error)))?;
    for quad in &quads {
        let predicate = quad.predicate().as_str();
        let undefined = if predicate.starts_with(ISSUER_DEPENDENT_VOCAB) {
            Some(predicate)
        } else if predicate == RDF_TYPE {
            quad.object()
                .as_iri()
                .map(|iri| iri.as_str())
                .filter(|iri| iri.starts_with(ISSUER_DEPENDENT_VOCAB))
        } else {
            None
        };
        if let Some(iri) = undefined {
            let term = iri.trim_start_matches(ISSUER_DEPENDENT_VOCAB);
            return Err(Failure::JsonLd {
                detail: format!(
                    "term {term:?} is not defined by any context (safe mode refuses issuer-dependent terms)"
                ),
            });
        }
    }
    Ok(
        ssi_rdf::urdna2015::normalize(quads.iter().map(|quad| quad.as_lexical_quad_ref()))
            .into_nquads(),
    )
}

const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";

/// A processed JSON-LD context, as the expansion algorithm holds it.
type ActiveContext = ssi_json_ld::Context;

fn json_ld_failure(error: JsonLdError) -> Failure {
    Failure::JsonLd {
        detail: error.to_string(),
    }
}

/// `ssi`'s expansion options (`ssi_json_ld::CompactJsonLd::expand`): invalid and undefined terms
/// are errors.
fn strict() -> ExpansionOptions {
    ExpansionOptions {
        policy: Policy {
            invalid: Action::Reject,
            allow_undefined: false,
            ..Policy::default()
        },
        ..ExpansionOptions::default()
    }
}

/// JSON-LD expansion of `document`, its top-level `@context` taken from the cache.
async fn expand(document: &Value) -> Result<ExpandedDocument, JsonLdError> {
    let top_level = match document {
        Value::Object(object) => object.get("@context").map(|context| (object, context)),
        _ => None,
    };
    let Some((object, local_context)) = top_level else {
        return expand_plain(document).await;
    };
    let active_context = processed(local_context).await?;
    if active_context.previous_context().is_some() {
        // `@propagate: false` at the top level: the expansion would revert to the previous
        // (empty) context for the top-level node itself when started from the processed one.
        return expand_plain(document).await;
    }
    let json = json_syntax::Value::Object(
        object
            .iter()
            .filter(|(key, _)| key.as_str() != "@context")
            .map(|(key, value)| {
                json_syntax::object::Entry::new(
                    key.as_str().into(),
                    json_syntax::Value::from_serde_json(value.clone()),
                )
            })
            .collect(),
    );
    Ok(json
        .expand_full(
            &mut (),
            ActiveContext::clone(&active_context),
            None,
            &ShippedLoader,
            strict(),
            (),
        )
        .await?)
}

/// Expansion exactly as `ssi` does it, from the empty context.
async fn expand_plain(document: &Value) -> Result<ExpandedDocument, JsonLdError> {
    let json = json_syntax::Value::from_serde_json(document.clone());
    Ok(json
        .expand_full(
            &mut (),
            ActiveContext::default(),
            None,
            &ShippedLoader,
            strict(),
            (),
        )
        .await?)
}

/// How many distinct top-level `@context` values are kept processed. Credentials name a handful of
/// shipped URLs; when a stream of distinct (inline) contexts fills the cache, it is emptied and
/// refilled.
const CACHE_CAPACITY: usize = 32;

/// Longer `@context` values (as JSON text) are processed every time, never kept: a list of URLs is
/// far shorter, and the cache stays small whatever documents arrive.
const CACHE_MAX_KEY_LEN: usize = 4096;

/// The result of processing `local_context` (a top-level `@context` value) against the empty
/// initial context, from the cache when it has been processed before.
async fn processed(local_context: &Value) -> Result<Arc<ActiveContext>, ExpansionError> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<ActiveContext>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    // The exact JSON text is the key: equal keys are equal contexts, and processing depends on
    // nothing else (the loader serves fixed documents; no base URL; default options).
    let key = local_context.to_string();
    if let Some(found) = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return Ok(Arc::clone(found));
    }
    let syntax = ssi_json_ld::syntax::context::Context::try_from_json(
        json_syntax::Value::from_serde_json(local_context.clone()),
    )?;
    let processed = syntax
        .process_full(
            &mut (),
            &ActiveContext::default(),
            &ShippedLoader,
            None,
            ProcessingOptions::default(),
            (),
        )
        .await
        .map_err(ExpansionError::ContextProcessing)?
        .into_processed();
    let processed = Arc::new(processed);
    if key.len() <= CACHE_MAX_KEY_LEN {
        let mut entries = cache.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CACHE_CAPACITY {
            entries.clear();
        }
        entries.insert(key, Arc::clone(&processed));
    }
    Ok(processed)
}
