//! RDF Dataset Canonicalization (RDFC-1.0) of a JSON-LD document, for `eddsa-rdfc-2022`.
//!
//! Expansion, conversion to RDF and canonicalization are `ssi`'s (`ssi-json-ld`, `ssi-rdf`), with our
//! [`ShippedLoader`] so no context is ever fetched. Expansion runs in `ssi`'s strict policy (invalid
//! and undefined terms refused), and we add one check of our own: a term that only the VC 2.0
//! context's issuer-dependent `@vocab` gave a meaning is refused too, since no context defined it.

use crate::context::{ISSUER_DEPENDENT_VOCAB, ShippedLoader};
use crate::failure::Failure;
use serde_json::Value;
use ssi_json_ld::Expandable;
use ssi_rdf::{AnyLdEnvironment, LdEnvironment};

/// The canonical N-Quads of `document` (lines sorted, each ending in a new line).
pub async fn canonicalize(document: &Value) -> Result<String, Failure> {
    let json = json_syntax::Value::from_serde_json(document.clone());
    let expanded = ssi_json_ld::CompactJsonLd(json)
        .expand(&ShippedLoader)
        .await
        .map_err(|error| Failure::JsonLd {
            detail: error.to_string(),
        })?;
    let mut environment = LdEnvironment::default();
    let quads = environment
        .quads_of(&expanded)
        .map_err(|error| Failure::JsonLd {
            detail: error.to_string(),
        })?;
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
    Ok(ssi_rdf::urdna2015::normalize(quads.iter().map(|quad| quad.as_lexical_quad_ref()))
        .into_nquads())
}

const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
