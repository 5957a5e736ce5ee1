//! Where the wallet gets what it needs to check a credential: issuers' DID documents and status
//! lists. Online, through the [`Transport`], remembering what it fetched; offline, from what it
//! remembered ([`crate::records::CachedRecord`]), with the time each was fetched.
//!
//! A `did:web` DID whose host is the service the wallet talks to is resolved at that service's
//! own URL (its scheme included), so a service run locally over plain HTTP works; any other is
//! resolved as the did:web method says, over HTTPS.

use crate::platform::{HttpRequest, Method, Transport};
use crate::records::CachedRecord;
use chrono::{DateTime, Utc};
use corroborate_verifier::did::{
    DidDocument, DidError, DidResolver, LocalResolver, did_web_document_url, parse_did,
};
use corroborate_verifier::json::{Limits, parse};
use corroborate_verifier::status::{FetchedStatusList, StatusError, StatusListSource};
use serde_json::Value;
use std::cell::RefCell;

/// Resolves DIDs and fetches status lists online, keeping a copy of each.
pub struct Online<'a, T: Transport> {
    service: String,
    transport: &'a T,
    now: DateTime<Utc>,
    fetched: RefCell<Vec<CachedRecord>>,
}

impl<'a, T: Transport> Online<'a, T> {
    pub fn new(service: &str, transport: &'a T, now: DateTime<Utc>) -> Online<'a, T> {
        Online {
            service: service.trim_end_matches('/').to_owned(),
            transport,
            now,
            fetched: RefCell::new(Vec::new()),
        }
    }

    /// What was fetched, to keep for offline checks.
    pub fn fetched(&self) -> Vec<CachedRecord> {
        self.fetched.borrow().clone()
    }

    /// The URL of a did:web document: at the service when the DID names its host (and the
    /// service is reached over HTTPS, or on this machine), else as the did:web method says.
    pub fn did_web_url(&self, did: &str) -> Result<String, DidError> {
        match self.hosted_path(did)? {
            Some(path) if path.is_empty() => Ok(format!("{}/.well-known/did.json", self.service)),
            Some(path) => Ok(format!("{}/{}/did.json", self.service, path.join("/"))),
            None => did_web_document_url(did),
        }
    }

    /// Whether `did` is a did:web DID the service hosts (an issuer of its own, such as a
    /// verifier's status-credential issuer).
    pub fn hosted_by_service(&self, did: &str) -> bool {
        matches!(self.hosted_path(did), Ok(Some(path)) if !path.is_empty())
    }

    /// The path segments of a did:web DID on the service's own host; `None` for another host.
    fn hosted_path<'d>(&self, did: &'d str) -> Result<Option<Vec<&'d str>>, DidError> {
        let parts = parse_did(did)?;
        if parts.method != "web" {
            return Ok(None);
        }
        let mut segments = parts.method_specific_id.split(':');
        let authority = segments
            .next()
            .unwrap_or_default()
            .replace("%3A", ":")
            .replace("%3a", ":");
        let Some((scheme, service_authority)) = self.service.split_once("://") else {
            return Ok(None);
        };
        let trusted = scheme == "https" || is_loopback(service_authority);
        if !trusted || authority.is_empty() || authority != service_authority {
            return Ok(None);
        }
        let path: Vec<&str> = segments.collect();
        let segment_ok = |s: &&str| {
            !s.is_empty()
                && *s != "."
                && *s != ".."
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        if !path.iter().all(segment_ok) {
            return Err(DidError::MalformedDid {
                did: did.to_owned(),
                reason: "a did:web path segment may hold only letters, digits, `-`, `_` and `.`"
                    .into(),
            });
        }
        Ok(Some(path))
    }

    async fn fetch(&self, url: &str) -> Result<Value, String> {
        let response = self
            .transport
            .send(HttpRequest {
                method: Method::Get,
                url: url.to_owned(),
                bearer: None,
                body: None,
            })
            .await
            .map_err(|e| e.to_string())?;
        if response.status != 200 {
            return Err(format!("{url}: HTTP {}", response.status));
        }
        parse(&response.body, &Limits::default()).map_err(|e| format!("{url}: {e}"))
    }

    fn remember(&self, id: &str, value: &Value) {
        let mut fetched = self.fetched.borrow_mut();
        fetched.retain(|cached| cached.id != id);
        fetched.push(CachedRecord {
            id: id.to_owned(),
            value: value.clone(),
            fetched: self.now,
        });
    }
}

impl<T: Transport> DidResolver for Online<'_, T> {
    async fn resolve(&self, did: &str) -> Result<DidDocument, DidError> {
        if !did.starts_with("did:web:") {
            return LocalResolver.resolve(did).await;
        }
        let url = self.did_web_url(did)?;
        let document = self
            .fetch(&url)
            .await
            .map_err(|reason| DidError::ResolutionFailed {
                did: did.to_owned(),
                reason,
            })?;
        let parsed = DidDocument::from_json_for(did, &document)?;
        self.remember(did, &document);
        Ok(parsed)
    }
}

impl<T: Transport> StatusListSource for Online<'_, T> {
    async fn status_list(&self, url: &str) -> Result<Value, StatusError> {
        Ok(self.status_list_as_of(url).await?.credential)
    }

    async fn status_list_as_of(&self, url: &str) -> Result<FetchedStatusList, StatusError> {
        let credential = self
            .fetch(url)
            .await
            .map_err(|detail| StatusError::Retrieval { detail })?;
        self.remember(url, &credential);
        Ok(FetchedStatusList {
            credential,
            fetched_at: Some(self.now),
        })
    }
}

/// Whether an authority (`host[:port]`) names this machine.
pub fn is_loopback(authority: &str) -> bool {
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    matches!(host, "localhost" | "[::1]")
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Resolves and finds status lists from what the wallet kept, without any network.
pub struct Offline {
    cached: Vec<CachedRecord>,
}

impl Offline {
    pub fn new(cached: Vec<CachedRecord>) -> Offline {
        Offline { cached }
    }

    fn find(&self, id: &str) -> Option<&CachedRecord> {
        self.cached.iter().find(|cached| cached.id == id)
    }
}

impl DidResolver for Offline {
    async fn resolve(&self, did: &str) -> Result<DidDocument, DidError> {
        if !did.starts_with("did:web:") {
            return LocalResolver.resolve(did).await;
        }
        match self.find(did) {
            Some(cached) => DidDocument::from_json_for(did, &cached.value),
            None => Err(DidError::ResolutionFailed {
                did: did.to_owned(),
                reason: "offline, and this wallet has no copy of its DID document".into(),
            }),
        }
    }
}

impl StatusListSource for Offline {
    async fn status_list(&self, url: &str) -> Result<Value, StatusError> {
        Ok(self.status_list_as_of(url).await?.credential)
    }

    async fn status_list_as_of(&self, url: &str) -> Result<FetchedStatusList, StatusError> {
        match self.find(url) {
            Some(cached) => Ok(FetchedStatusList {
                credential: cached.value.clone(),
                fetched_at: Some(cached.fetched),
            }),
            None => Err(StatusError::NotAvailable),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::{HttpResponse, TransportError};

    /// A transport that is never reached: these tests only compute URLs.
    struct Nowhere;

    impl Transport for Nowhere {
        async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
            Err(TransportError {
                url: request.url,
                reason: "not in this test".into(),
            })
        }
    }

    #[test]
    fn did_web_documents_of_the_service_are_fetched_from_its_own_url() {
        let now = chrono::DateTime::UNIX_EPOCH;
        let check = |service: &str, did: &str, expected: Result<&str, ()>| {
            let online = Online::new(service, &Nowhere, now);
            assert_eq!(
                online.did_web_url(did).map_err(|_| ()),
                expected.map(str::to_owned),
                "{service} {did}"
            );
        };
        check(
            "http://127.0.0.1:8080/",
            "did:web:127.0.0.1%3A8080:issuers:sibelga",
            Ok("http://127.0.0.1:8080/issuers/sibelga/did.json"),
        );
        check(
            "https://corroborate.example",
            "did:web:corroborate.example",
            Ok("https://corroborate.example/.well-known/did.json"),
        );
        // Another host: the did:web method's own rule, over HTTPS.
        check(
            "http://127.0.0.1:8080",
            "did:web:issuer.example:users:alice",
            Ok("https://issuer.example/users/alice/did.json"),
        );
        // A service reached over plain HTTP elsewhere than on this machine is not trusted to
        // serve keys: the did:web method's HTTPS rule applies.
        check(
            "http://corroborate.example",
            "did:web:corroborate.example:issuers:x",
            Ok("https://corroborate.example/issuers/x/did.json"),
        );
        // A path segment that would leave its place is refused.
        check(
            "http://127.0.0.1:8080",
            "did:web:127.0.0.1%3A8080:issuers:..",
            Err(()),
        );
        // Another port of the same host is another host.
        check(
            "http://127.0.0.1:8080",
            "did:web:127.0.0.1%3A9090:issuers:x",
            Err(()),
        );
    }
}
