//! Fact claims as they are compared.
//!
//! Attesters write the same fact in different ways: one wallet sends "é" as one code point, another
//! as "e" plus a combining accent; a bank system pads a street name with a tab or a no-break space.
//! None of that is a disagreement. Claims are therefore compared after Unicode NFC normalisation
//! and white-space folding, never as raw strings, and never case-folded: case is part of what the
//! attester signed, and identifier-like fields (country codes, roles) have one case by schema.
//!
//! Addresses are compared by their official register identifier when they carry one: see
//! [`agreement_key`].

use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization;

/// The address property that holds the official address-register identifier.
pub const ADDRESS_REGISTER_ID: &str = "addressRegisterId";

/// Unicode NFC, then every run of Unicode white space (`White_Space`: tab, newline, no-break space,
/// em space...) becomes one ASCII space, and the ends are trimmed.
pub fn normalize_text(text: &str) -> String {
    let mut normalized = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfc() {
        if c.is_whitespace() {
            // Leading white space is dropped; trailing white space is never flushed.
            pending_space = !normalized.is_empty();
        } else {
            if pending_space {
                normalized.push(' ');
                pending_space = false;
            }
            normalized.push(c);
        }
    }
    normalized
}

/// A copy of `value` with [`normalize_text`] applied to every string in it, at any depth.
/// Object keys are left as they are: they are schema-defined names, not claims.
pub fn normalize_claims(value: &Value) -> Value {
    match value {
        Value::String(text) => Value::String(normalize_text(text)),
        Value::Array(items) => Value::Array(items.iter().map(normalize_claims).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(key, field)| (key.clone(), normalize_claims(field)))
                .collect(),
        ),
        Value::Null | Value::Bool(_) | Value::Number(_) => value.clone(),
    }
}

/// What two attesters' claims are compared by: two claims agree when their keys are equal.
///
/// The key is the [normalized](normalize_claims) value, except that an object carrying a non-empty
/// [`ADDRESS_REGISTER_ID`] is reduced to `{"addressRegisterId": <normalized id>}`, at any depth.
/// The register identifier is authoritative: it names one address however it is written, while
/// the written forms legitimately differ. Belgian street and municipality names are bilingual
/// ("Rue de la Loi" and "Wetstraat" are one street), an attester may give one language or both,
/// and box numbers and postal codes are spelled in several ways. Comparing those texts would
/// turn a correct attestation into a contradiction.
///
/// An address without a register identifier is compared field by field, so it does not agree
/// with the same address written with one; a policy that wants such addresses to count must ask
/// attesters for the identifier.
pub fn agreement_key(value: &Value) -> Value {
    match value {
        Value::Object(fields) => {
            if let Some(id) = register_id(fields) {
                let mut key = Map::new();
                key.insert(ADDRESS_REGISTER_ID.to_owned(), Value::String(id));
                return Value::Object(key);
            }
            Value::Object(
                fields
                    .iter()
                    .map(|(name, field)| (name.clone(), agreement_key(field)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(agreement_key).collect()),
        Value::String(_) | Value::Null | Value::Bool(_) | Value::Number(_) => {
            normalize_claims(value)
        }
    }
}

/// The normalized register identifier of an address, if it has a usable one. A blank identifier
/// would make every blank-identified address agree, so it counts as absent.
fn register_id(fields: &Map<String, Value>) -> Option<String> {
    let id = normalize_text(fields.get(ADDRESS_REGISTER_ID)?.as_str()?);
    (!id.is_empty()).then_some(id)
}

/// JSON pointers (RFC 6901, relative to the credential subject) of every requested claim that
/// `stated` does not state the same way.
///
/// Each leaf of `requested` (a string, number, boolean, null or array) is compared with the value
/// at the same path in `stated`, both [normalized](normalize_claims): NFC and white-space folding,
/// never case. Members the credential states beyond those requested are the attester's to add
/// (another language of a street name, a register identifier) and are not differences.
pub fn claim_differences(
    requested: &Map<String, Value>,
    stated: &Map<String, Value>,
) -> Vec<String> {
    let mut differences = Vec::new();
    for (name, wanted) in requested {
        compare(
            wanted,
            stated.get(name),
            &pointer("", name),
            &mut differences,
        );
    }
    differences
}

fn compare(wanted: &Value, found: Option<&Value>, path: &str, out: &mut Vec<String>) {
    match (wanted, found) {
        (Value::Object(wanted), Some(Value::Object(found))) => {
            for (name, value) in wanted {
                compare(value, found.get(name), &pointer(path, name), out);
            }
        }
        (Value::Object(_), _) | (_, None) => out.push(path.to_owned()),
        (wanted, Some(found)) => {
            if normalize_claims(wanted) != normalize_claims(found) {
                out.push(path.to_owned());
            }
        }
    }
}

fn pointer(base: &str, name: &str) -> String {
    format!("{base}/{}", name.replace('~', "~0").replace('/', "~1"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn normalize_text_folds_composition_and_white_space() {
        fn check(input: &str, expected: &str) {
            assert_eq!(normalize_text(input), expected, "input {input:?}");
        }
        // NFD "é" (e + U+0301) and NFC "é" (U+00E9) are the same text.
        check("Rue de l'E\u{301}glise", "Rue de l'\u{C9}glise");
        check("Rue de l'\u{C9}glise", "Rue de l'\u{C9}glise");
        check("Liège", "Li\u{E8}ge");
        check("Lie\u{300}ge", "Li\u{E8}ge");
        // Runs of any white space become one ASCII space; the ends are trimmed.
        check("Rue\tde la\n\nLoi", "Rue de la Loi");
        check("Rue\u{A0}de\u{A0}la Loi", "Rue de la Loi");
        check("  Wetstraat \r\n ", "Wetstraat");
        check("Rue \u{2003}\u{202F} Royale", "Rue Royale");
        check("line\u{2028}separator", "line separator");
        // Case is kept, and so is white space that Unicode does not call white space.
        check("WETSTRAAT", "WETSTRAAT");
        check("zero\u{200B}width", "zero\u{200B}width");
        check("", "");
        check(" \t\u{A0}\n", "");
    }

    #[test]
    fn normalize_claims_touches_every_string_and_no_key() {
        fn check(input: Value, expected: Value) {
            assert_eq!(normalize_claims(&input), expected, "input {input}");
        }
        check(json!(" a\tb "), json!("a b"));
        check(json!(42), json!(42));
        check(json!(null), json!(null));
        check(json!(true), json!(true));
        check(
            json!({"street": {"nl": " Wetstraat\u{A0}", "fr": "Rue de la\tLoi"}, "houseNumber": "16 "}),
            json!({"street": {"nl": "Wetstraat", "fr": "Rue de la Loi"}, "houseNumber": "16"}),
        );
        check(
            json!({" spaced key ": ["  x ", {"e\u{301}": "e\u{301}"}]}),
            json!({" spaced key ": ["x", {"e\u{301}": "\u{E9}"}]}),
        );
    }

    #[test]
    fn agreement_key_prefers_the_address_register_id() {
        fn check(input: Value, expected: Value) {
            assert_eq!(agreement_key(&input), expected, "input {input}");
        }
        let id = "https://databrussels.be/id/address/219307/7";
        // Bilingual and monolingual spellings of one registered address agree.
        let french = json!({"street": "Rue de la Brasserie", "houseNumber": "27", "postalCode": "1050",
            "municipality": "Ixelles", "country": "BE", "addressRegisterId": id});
        let dutch = json!({"street": {"nl": "Brouwerijstraat"}, "houseNumber": "27", "postalCode": "1050",
            "municipality": {"nl": "Elsene"}, "country": "BE", "addressRegisterId": format!(" {id}\n")});
        check(french.clone(), json!({"addressRegisterId": id}));
        check(dutch.clone(), json!({"addressRegisterId": id}));
        assert_eq!(agreement_key(&french), agreement_key(&dutch));
        // At any depth: a whole residence claim keeps its other fields.
        check(
            json!({"address": dutch, "since": " 2021-09-01"}),
            json!({"address": {"addressRegisterId": id}, "since": "2021-09-01"}),
        );
        // Without a usable identifier, the normalized fields are the key.
        check(
            json!({"street": "Rue\u{A0}de la Loi", "houseNumber": "16"}),
            json!({"street": "Rue de la Loi", "houseNumber": "16"}),
        );
        check(
            json!({"street": "Wetstraat", "addressRegisterId": " "}),
            json!({"street": "Wetstraat", "addressRegisterId": ""}),
        );
        check(
            json!({"street": "Wetstraat", "addressRegisterId": 7}),
            json!({"street": "Wetstraat", "addressRegisterId": 7}),
        );
        check(json!(["  a", "b  "]), json!(["a", "b"]));
        check(json!("Bruxelles\t"), json!("Bruxelles"));
        // Different register identifiers never agree, whatever the text says.
        assert_ne!(
            agreement_key(&json!({"street": "Wetstraat", "addressRegisterId": "urn:a"})),
            agreement_key(&json!({"street": "Wetstraat", "addressRegisterId": "urn:b"})),
        );
    }

    proptest! {
        #[test]
        fn normalize_text_is_idempotent(text in "\\PC*") {
            let once = normalize_text(&text);
            prop_assert_eq!(normalize_text(&once), once.clone());
            prop_assert!(!once.starts_with(' ') && !once.ends_with(' ') && !once.contains("  "));
        }

        #[test]
        fn normalize_text_ignores_white_space_spelling(words in prop::collection::vec("[a-zé]{1,8}", 1..5),
                                                      gaps in prop::collection::vec("[ \t\n\u{a0}\u{2003}]{1,3}", 5)) {
            let joined_by_one = words.join(" ");
            let mut joined_by_many = gaps[0].clone();
            for (word, gap) in words.iter().zip(&gaps[1..]) {
                joined_by_many.push_str(word);
                joined_by_many.push_str(gap);
            }
            prop_assert_eq!(normalize_text(&joined_by_many), normalize_text(&joined_by_one));
        }
    }
}
