//! The service's API as the wallet uses it, over any [`Transport`]: sign-in with the DID key,
//! the attestation exchange, person attesters' status lists, presentation requests. Errors keep
//! the service's problem `code` (stable, what translations key on) apart from transport failures.

use crate::identity::Signer;
use crate::platform::{HttpRequest, Method, Transport, TransportError};
use chrono::{DateTime, Utc};
use corroborate_verifier::json::{Limits, parse};
use corroborate_verifier::presentation::{Binding, sign_presentation};
use corroborate_verifier::proof::Cryptosuite;
use serde_json::{Value, json};

/// The largest answer the wallet reads (a presentation's answer carries a status credential and
/// an explanation; a status list of 131,072 bits is ~20 kB).
pub const MAX_BODY: usize = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the service could not be reached: {0}")]
    Transport(#[from] TransportError),
    /// The service answered with an RFC 9457 problem.
    #[error("{title} ({code}, HTTP {status}){}", detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Problem {
        status: u16,
        code: String,
        title: String,
        detail: Option<String>,
        body: Value,
    },
    #[error("the service's answer to {what} is not what was expected: {reason}")]
    Unexpected { what: String, reason: String },
    #[error("signing failed: {0}")]
    Signing(String),
    /// The service answered with a redirect, which the wallet never follows: the credentials
    /// and tokens it sends are for this service alone.
    #[error("the service answered {what} with a redirect, which the wallet does not follow")]
    Redirect { what: String },
}

impl ClientError {
    /// The problem code, when the service answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Problem { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// A service at a base URL, reached through a transport.
pub struct Service<'a, T: Transport> {
    base: String,
    transport: &'a T,
}

/// A signed-in caller: the token answers for `did`.
#[derive(Debug, Clone)]
pub struct Session {
    pub did: String,
    pub token: String,
    pub roles: Vec<String>,
}

impl<'a, T: Transport> Service<'a, T> {
    pub fn new(base: &str, transport: &'a T) -> Service<'a, T> {
        Service {
            base: base.trim_end_matches('/').to_owned(),
            transport,
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The absolute URL of `path_or_url` (a path on this service, or already absolute).
    pub fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_owned()
        } else {
            format!("{}{path_or_url}", self.base)
        }
    }

    /// Sends one request and reads its JSON answer; an answer outside 2xx is a [`ClientError`].
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> Result<Value, ClientError> {
        let url = self.url(path);
        let response = self
            .transport
            .send(HttpRequest {
                method,
                url: url.clone(),
                bearer: bearer.map(str::to_owned),
                body,
            })
            .await?;
        let what = format!("{method} {path}");
        let parsed = if response.body.is_empty() {
            Ok(Value::Null)
        } else {
            parse(&response.body, &Limits::default()).map_err(|e| e.to_string())
        };
        if (200..300).contains(&response.status) {
            return parsed.map_err(|reason| ClientError::Unexpected { what, reason });
        }
        if (300..400).contains(&response.status) {
            return Err(ClientError::Redirect { what });
        }
        match parsed {
            Ok(body) if body.get("code").is_some_and(Value::is_string) => {
                let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
                Err(ClientError::Problem {
                    status: response.status,
                    code: text("code").unwrap_or_default(),
                    title: text("title").unwrap_or_default(),
                    detail: text("detail"),
                    body,
                })
            }
            _ => Err(ClientError::Unexpected {
                what,
                reason: format!("HTTP {} without a problem body", response.status),
            }),
        }
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> Result<Value, ClientError> {
        self.call(Method::Get, path, bearer, None).await
    }

    pub async fn post(
        &self,
        path: &str,
        bearer: Option<&str>,
        body: Value,
    ) -> Result<Value, ClientError> {
        self.call(Method::Post, path, bearer, Some(body)).await
    }

    /// Signs in: a challenge for `signer`'s DID, answered by a presentation bound to it and to
    /// the service's audience.
    pub async fn sign_in(
        &self,
        signer: &Signer,
        now: DateTime<Utc>,
    ) -> Result<Session, ClientError> {
        let challenge = self
            .post("/auth/challenges", None, json!({"did": signer.did}))
            .await?;
        let field = |name: &str| {
            challenge
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| ClientError::Unexpected {
                    what: "POST /auth/challenges".into(),
                    reason: format!("no `{name}`"),
                })
        };
        // The proof names the audience; a service that asks to be called by another name may
        // be relaying another service's challenge, to sign in there as this DID.
        let domain = field("domain")?;
        if domain.trim_end_matches('/') != self.base {
            return Err(ClientError::Unexpected {
                what: "POST /auth/challenges".into(),
                reason: format!(
                    "the service at {} asks to be named {domain} in the proof: refused",
                    self.base
                ),
            });
        }
        let binding = Binding {
            challenge: Some(field("challenge")?),
            domain: Some(domain),
            holder_must_be_subject: false,
        };
        let presentation = sign_presentation(
            &signer.did,
            Vec::new(),
            &signer.key,
            &signer.verification_method,
            Cryptosuite::EddsaJcs2022,
            &binding,
            now,
        )
        .await
        .map_err(|e| ClientError::Signing(e.to_string()))?;
        let token = self
            .post("/auth/tokens", None, json!({"presentation": presentation}))
            .await?;
        let token_text =
            token
                .get("token")
                .and_then(Value::as_str)
                .ok_or_else(|| ClientError::Unexpected {
                    what: "POST /auth/tokens".into(),
                    reason: "no `token`".into(),
                })?;
        let roles = token
            .get("roles")
            .and_then(Value::as_array)
            .map(|roles| {
                roles
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Session {
            did: signer.did.clone(),
            token: token_text.to_owned(),
            roles,
        })
    }
}

/// Checks a service URL a person gave: `https://`, or `http://` on this machine only (tokens
/// and credentials must not cross a network in clear).
pub fn check_service_url(url: &str) -> Result<(), String> {
    let url = url.trim_end_matches('/');
    match url.split_once("://") {
        Some(("https", authority)) if !authority.is_empty() && !authority.contains('/') => Ok(()),
        Some(("http", authority)) if crate::resolve::is_loopback(authority) => Ok(()),
        Some(("http", _)) => Err(format!(
            "{url}: a service elsewhere than on this machine must be reached over https://"
        )),
        _ => Err(format!(
            "{url} is not a service URL: https://host[:port], or http://127.0.0.1:port for a local one"
        )),
    }
}

/// A string member of an answer, or an [`ClientError::Unexpected`] naming it.
pub fn text_of(value: &Value, member: &str, what: &str) -> Result<String, ClientError> {
    value
        .get(member)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ClientError::Unexpected {
            what: what.to_owned(),
            reason: format!("no string `{member}`"),
        })
}

#[cfg(test)]
mod tests {
    use super::check_service_url;

    #[test]
    fn service_urls_are_https_or_on_this_machine() {
        for good in [
            "https://corroborate.example",
            "https://corroborate.example:8443/",
            "http://127.0.0.1:8080",
            "http://localhost:8080",
            "http://[::1]:8080",
        ] {
            assert_eq!(check_service_url(good), Ok(()), "{good}");
        }
        for bad in [
            "http://corroborate.example",
            "http://127.0.0.1.evil.example",
            "ftp://127.0.0.1",
            "corroborate.example",
            "https://",
            "https://host/path",
        ] {
            assert!(check_service_url(bad).is_err(), "{bad}");
        }
    }
}
