//! The JSON-LD contexts we ship, pinned by hash, and the loader that serves only them.
//!
//! A context is part of what a signature means: fetching one at run time would let whoever serves
//! it change the meaning of every credential that names it, and would make verification depend on
//! the network. So every context is compiled into the binary, its SHA-256 is pinned here, and an
//! unknown context URL is an error, never a fetch. `verifier/contexts/README.md` says where each
//! file comes from.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::OnceLock;

/// One context document compiled into the binary.
#[derive(Debug, Clone, Copy)]
pub struct ShippedContext {
    pub url: &'static str,
    pub content: &'static str,
    /// Hex SHA-256 of `content`; a test checks it, so an edit to a context cannot go unnoticed.
    pub sha256: &'static str,
}

/// Every context a credential, presentation or proof may name.
pub const SHIPPED: &[ShippedContext] = &[
    ShippedContext {
        url: "https://www.w3.org/ns/credentials/v2",
        content: include_str!("../contexts/credentials-v2.jsonld"),
        sha256: "8a9f494a89ecc51db093e90e84713e07e84d6d9204364a9b3c7868b21751236f",
    },
    ShippedContext {
        url: "https://www.w3.org/ns/credentials/examples/v2",
        content: include_str!("../contexts/credentials-examples-v2.jsonld"),
        sha256: "e6600df812cdc1872f20b42ab0c1cecac39755b7ed381e7f6a88dac7baab54d6",
    },
    ShippedContext {
        url: "https://w3id.org/security/data-integrity/v2",
        content: include_str!("../contexts/data-integrity-v2.jsonld"),
        sha256: "0f77743daf5b4e8fc067fc5ba5b21044283053aa717fc6b0219843bed3b00363",
    },
    ShippedContext {
        url: "https://w3id.org/security/multikey/v1",
        content: include_str!("../contexts/multikey-v1.jsonld"),
        sha256: "00e1592fd321ed9b843aee80f4f25e23a3fa53e514e73dc9d109fc4e0aaadf1c",
    },
    ShippedContext {
        url: CORROBORATE_V1,
        content: include_str!("../contexts/corroborate-v1.jsonld"),
        sha256: "6e568c859b6d5e9bb29c8cc15758d11a74d682b8336a20017fcff4e0873acad0",
    },
];

/// Our own context for fact terms.
pub const CORROBORATE_V1: &str = crate::schema::CORROBORATE_V1_CONTEXT_URL;

/// The vocabulary the VC 2.0 context gives to terms no context defines. A term that expands into
/// it was not defined by any context: safe mode refuses it.
pub const ISSUER_DEPENDENT_VOCAB: &str = "https://www.w3.org/ns/credentials/issuer-dependent#";

/// Whether `url` names a context we ship.
pub fn is_shipped(url: &str) -> bool {
    SHIPPED.iter().any(|c| c.url == url)
}

/// The shipped context at `url`.
pub fn get(url: &str) -> Option<&'static ShippedContext> {
    SHIPPED.iter().find(|c| c.url == url)
}

/// Hex SHA-256 of a context's content, to compare with its pin.
pub fn content_hash(context: &ShippedContext) -> String {
    hex::encode(Sha256::digest(context.content.as_bytes()))
}

/// A JSON-LD document loader that serves the shipped contexts and nothing else.
#[derive(Debug, Default, Clone, Copy)]
pub struct ShippedLoader;

/// Error of [`ShippedLoader`]: the URL is not a shipped context.
#[derive(Debug, thiserror::Error)]
#[error("context {0} is not shipped with Corroborate and is never fetched")]
pub struct NotShipped(String);

fn documents() -> &'static HashMap<&'static str, ssi_json_ld::RemoteDocument> {
    static DOCUMENTS: OnceLock<HashMap<&'static str, ssi_json_ld::RemoteDocument>> =
        OnceLock::new();
    DOCUMENTS.get_or_init(|| {
        SHIPPED
            .iter()
            .filter_map(|context| {
                let iri = iref::IriBuf::new(context.url.to_owned()).ok()?;
                let json: serde_json::Value = serde_json::from_str(context.content).ok()?;
                let document = ssi_json_ld::RemoteDocument::new(
                    Some(iri),
                    "application/ld+json".parse().ok(),
                    json_syntax::Value::from_serde_json(json),
                );
                Some((context.url, document))
            })
            .collect()
    })
}

impl ssi_json_ld::Loader for ShippedLoader {
    async fn load(&self, url: &iref::Iri) -> ssi_json_ld::LoadingResult {
        documents().get(url.as_str()).cloned().ok_or_else(|| {
            ssi_json_ld::LoadError::new(url.to_owned(), NotShipped(url.as_str().to_owned()))
        })
    }
}

/// Refuses a document with a string (key or value) whose percent-encoded bytes do not decode to
/// UTF-8. Any string may become an IRI during JSON-LD expansion, and the IRI library under
/// `json-ld` panics when it meets such an IRI; an IRI's percent-encoding must be UTF-8 anyway
/// (RFC 3987), so this refuses nothing valid. Found by fuzzing.
pub fn check_percent_encoding(value: &serde_json::Value) -> Result<(), crate::failure::Failure> {
    use serde_json::Value;
    fn decodes(text: &str) -> bool {
        if !text.contains('%') {
            return true;
        }
        let bytes = text.as_bytes();
        let mut decoded = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while let Some(&byte) = bytes.get(i) {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match (byte, hex) {
                (b'%', Some(value)) => {
                    decoded.push(value);
                    i += 3;
                }
                _ => {
                    decoded.push(byte);
                    i += 1;
                }
            }
        }
        std::str::from_utf8(&decoded).is_ok()
    }
    let bad = |text: &str| crate::failure::Failure::JsonLd {
        detail: format!(
            "{:?} has percent-encoded bytes that are not UTF-8, which no IRI may have",
            crate::key::excerpt(text)
        ),
    };
    match value {
        Value::String(text) if !decodes(text) => Err(bad(text)),
        Value::Array(items) => items.iter().try_for_each(check_percent_encoding),
        Value::Object(object) => object.iter().try_for_each(|(key, item)| {
            if decodes(key) {
                check_percent_encoding(item)
            } else {
                Err(bad(key))
            }
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_must_decode_to_utf8() {
        use serde_json::json;
        for (value, ok) in [
            (json!("urn:uuid:plain"), true),
            (json!("https://x.example/caf%C3%A9"), true),
            (json!("100% sure"), true),
            (json!("urn:uuid:533b3bf4-bd9f2%df20a4c"), false),
            (json!({"a": ["x", {"b%FF": 1}]}), false),
            (json!({"a": ["x", {"b": "%E2%82"}]}), false),
        ] {
            assert_eq!(check_percent_encoding(&value).is_ok(), ok, "{value}");
        }
    }

    #[test]
    fn shipped_contexts_match_their_pins_and_parse() {
        for context in SHIPPED {
            assert_eq!(
                content_hash(context),
                context.sha256,
                "{} changed",
                context.url
            );
            assert!(
                documents().contains_key(context.url),
                "{} does not parse",
                context.url
            );
        }
    }
}
