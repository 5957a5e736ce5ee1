//! Strict JSON input: one parse for every later step, with bounds checked first.
//!
//! `serde_json` keeps the last of duplicate object keys, which lets two readers of one document see
//! different values (a signature check on one, a policy on the other). We refuse duplicates, and we
//! bound size and nesting depth before any expensive work (DESIGN.md, invariant 8).

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Upper bounds on what one input may contain. Checked before expensive work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one JSON document (credential, presentation, policy, registry).
    pub max_bytes: usize,
    /// Nesting depth of arrays and objects.
    pub max_depth: usize,
    /// Credentials in one presentation or bundle.
    pub max_credentials: usize,
    /// Proofs on one document (proof sets and chains).
    pub max_proofs: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 256 * 1024,
            max_depth: 32,
            max_credentials: 64,
            max_proofs: 8,
        }
    }
}

/// Why a JSON document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    #[error("document is {size} bytes, more than the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("document nests deeper than the limit of {limit}")]
    TooDeep { limit: usize },
    #[error("duplicate key {key:?} in an object")]
    DuplicateKey { key: String },
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
}

/// Parses `bytes` as one JSON value, refusing duplicate keys, oversized input and deep nesting.
pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Value, JsonError> {
    if bytes.len() > limits.max_bytes {
        return Err(JsonError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue {
        depth_left: limits.max_depth,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value))
    .map_err(|error| classify(error, limits))?;
    Ok(value)
}

/// Parses a string; see [`parse`].
pub fn parse_str(text: &str, limits: &Limits) -> Result<Value, JsonError> {
    parse(text.as_bytes(), limits)
}

// Our own errors travel through serde as custom messages; these prefixes bring them back.
const DUPLICATE: &str = "\u{1}duplicate:";
const TOO_DEEP: &str = "\u{1}too-deep";

fn classify(error: serde_json::Error, limits: &Limits) -> JsonError {
    let message = error.to_string();
    if let Some(rest) = message.strip_prefix(DUPLICATE) {
        let key = rest.rsplit_once(" at line ").map_or(rest, |(key, _)| key);
        return JsonError::DuplicateKey {
            key: key.to_owned(),
        };
    }
    if message.starts_with(TOO_DEEP) || error.to_string().contains("recursion limit exceeded") {
        return JsonError::TooDeep {
            limit: limits.max_depth,
        };
    }
    let text = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(text, _)| text);
    JsonError::Syntax {
        line: error.line(),
        column: error.column(),
        message: text.to_owned(),
    }
}

/// A structural error that serde's derive reports as text: a field that is not allowed, or one
/// that is missing. Parsers of our own file formats (policies, registries) turn it into their own
/// specific error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldError {
    Unknown { field: String, expected: String },
    Missing { field: String },
}

/// Recognises the shapes serde's derive gives unknown and missing fields.
pub fn field_error(message: &str) -> Option<FieldError> {
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((field, expected)) = rest.split_once('`')
    {
        let expected = expected.trim_start_matches(", ");
        return Some(FieldError::Unknown {
            field: field.into(),
            expected: expected
                .strip_prefix("expected ")
                .unwrap_or(expected)
                .into(),
        });
    }
    let rest = message.strip_prefix("missing field `")?;
    let (field, _) = rest.split_once('`')?;
    Some(FieldError::Missing {
        field: field.into(),
    })
}

struct StrictValue {
    depth_left: usize,
}

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl StrictValue {
    fn nested<E: de::Error>(&self) -> Result<StrictValue, E> {
        match self.depth_left.checked_sub(1) {
            Some(depth_left) => Ok(StrictValue { depth_left }),
            None => Err(E::custom(TOO_DEEP)),
        }
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // serde_json never produces a non-finite number from JSON text.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let child = self.nested()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue {
            depth_left: child.depth_left,
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let child = self.nested()?;
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!("{DUPLICATE}{key}")));
            }
            let value = map.next_value_seed(StrictValue {
                depth_left: child.depth_left,
            })?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, JsonError>) {
        let limits = Limits {
            max_depth: 4,
            max_bytes: 200,
            ..Limits::default()
        };
        let got = parse_str(input, &limits).map(|v| v.to_string());
        assert_eq!(got, expected.map(str::to_owned), "input: {input}");
    }

    #[test]
    fn accepts_and_refuses() {
        check(r#"{"a":[1,2,{"b":null}]}"#, Ok(r#"{"a":[1,2,{"b":null}]}"#));
        check(
            r#"{"a":1,"a":2}"#,
            Err(JsonError::DuplicateKey { key: "a".into() }),
        );
        check(
            r#"{"x":{"a":1,"b":{"a":2,"a":3}}}"#,
            Err(JsonError::DuplicateKey { key: "a".into() }),
        );
        check("[[[[[1]]]]]", Err(JsonError::TooDeep { limit: 4 }));
        check(
            r#"{"a":{"b":{"c":{"d":1}}}}"#,
            Ok(r#"{"a":{"b":{"c":{"d":1}}}}"#),
        );
        check(
            r#"{"a":{"b":{"c":{"d":{}}}}}"#,
            Err(JsonError::TooDeep { limit: 4 }),
        );
        check("[[[[1]]]]", Ok("[[[[1]]]]"));
        check(
            &format!("\"{}\"", "x".repeat(300)),
            Err(JsonError::TooLarge {
                size: 302,
                limit: 200,
            }),
        );
    }

    #[test]
    fn syntax_errors_say_where() {
        let err = parse_str("{\"a\":\n tru}", &Limits::default()).unwrap_err();
        assert!(
            matches!(err, JsonError::Syntax { line: 2, .. }),
            "got {err:?}"
        );
        let err = parse_str("{} x", &Limits::default()).unwrap_err();
        assert!(matches!(err, JsonError::Syntax { .. }), "got {err:?}");
    }

    #[test]
    fn depth_bomb_is_refused_without_stack_overflow() {
        let bomb = "[".repeat(100_000);
        let limits = Limits {
            max_bytes: 1 << 20,
            ..Limits::default()
        };
        assert!(matches!(
            parse_str(&bomb, &limits),
            Err(JsonError::TooDeep { .. })
        ));
    }
}
