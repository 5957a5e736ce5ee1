//! Outbound fetches and the resolvers built on them.
//!
//! [`Fetcher`] is the only code that reaches out: HTTPS GETs of JSON with a timeout, a size cap,
//! no redirects, a cache, and a DNS resolver that refuses loopback, private, link-local and other
//! non-public addresses (unless `fetch.allow_private`), so a DID or status list URL chosen by a
//! caller cannot make the service probe its own network.
//!
//! [`Resolver`] is the service's `DidResolver`: `did:key`/`did:jwk` locally, this service's own
//! hosted `did:web` identifiers from the database, other `did:web` documents through the
//! fetcher. [`StatusLists`] is its `StatusListSource`: lists hosted or published here from the
//! database, others through the fetcher.

use crate::state::AppState;
use chrono::{DateTime, Utc};
use corroborate_verifier::did::{DidDocument, DidError, DidResolver, LocalResolver};
use corroborate_verifier::json;
use corroborate_verifier::status::{FetchedStatusList, StatusError, StatusListSource};
use serde_json::Value;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Why a fetch failed. The text is safe to show to the caller.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("{0:?} is not an https URL")]
    NotHttps(String),
    #[error("{0} resolves only to addresses this service does not fetch from (private or local)")]
    Forbidden(String),
    #[error("fetching {url} failed: {reason}")]
    Failed { url: String, reason: String },
    #[error("{url} answered {status}")]
    Status { url: String, status: u16 },
    #[error("{url} sent more than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("{url} did not send acceptable JSON: {reason}")]
    NotJson { url: String, reason: String },
}

#[derive(Clone)]
struct Cached {
    value: Value,
    fetched_at: DateTime<Utc>,
    until: Instant,
}

/// Bounded, cached, SSRF-guarded GETs of JSON documents.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    max_bytes: usize,
    ttl: Duration,
    allow_private: bool,
    cache: Arc<Mutex<HashMap<String, Cached>>>,
}

/// Most cached documents kept; the oldest are dropped beyond it.
const CACHE_ENTRIES: usize = 1024;

impl Fetcher {
    pub fn new(settings: &crate::settings::Fetch) -> Result<Fetcher, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .connect_timeout(Duration::from_millis(settings.timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the name itself, past the address check below.
            .no_proxy()
            .dns_resolver(Arc::new(PublicOnly {
                allow_private: settings.allow_private,
            }))
            .user_agent(concat!("corroborate/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Fetcher {
            client,
            max_bytes: settings.max_bytes,
            ttl: Duration::from_secs(settings.cache_ttl_secs),
            allow_private: settings.allow_private,
            cache: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// GET `url` as JSON (strictly parsed), from the cache when fresh. Returns the document and
    /// when it was fetched.
    pub async fn get_json(&self, url: &str) -> Result<(Value, DateTime<Utc>), FetchError> {
        if let Some(hit) = self.cached(url) {
            return Ok((hit.value, hit.fetched_at));
        }
        let parsed = reqwest::Url::parse(url).map_err(|_| FetchError::NotHttps(excerpt(url)))?;
        let secure = parsed.scheme() == "https";
        if !(secure || self.allow_private && parsed.scheme() == "http") {
            return Err(FetchError::NotHttps(excerpt(url)));
        }
        // An IP literal never reaches the DNS resolver: check it here.
        if let Some(host) = parsed.host_str() {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = bare.parse::<IpAddr>()
                && !self.allow_private
                && !is_public(ip)
            {
                return Err(FetchError::Forbidden(host.to_owned()));
            }
        }
        let failed = |reason: String| FetchError::Failed {
            url: url.to_owned(),
            reason,
        };
        let mut response = self
            .client
            .get(parsed)
            .header(
                reqwest::header::ACCEPT,
                "application/json, application/*+json",
            )
            .send()
            .await
            .map_err(|e| {
                if let Some(host) = forbidden_host(&e) {
                    FetchError::Forbidden(host)
                } else {
                    failed(describe(&e))
                }
            })?;
        if !response.status().is_success() {
            return Err(FetchError::Status {
                url: url.to_owned(),
                status: response.status().as_u16(),
            });
        }
        if response
            .content_length()
            .is_some_and(|n| n > self.max_bytes as u64)
        {
            return Err(FetchError::TooLarge {
                url: url.to_owned(),
                limit: self.max_bytes,
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| failed(describe(&e)))? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(FetchError::TooLarge {
                    url: url.to_owned(),
                    limit: self.max_bytes,
                });
            }
            body.extend_from_slice(&chunk);
        }
        let limits = json::Limits {
            max_bytes: self.max_bytes,
            ..json::Limits::default()
        };
        let value = json::parse(&body, &limits).map_err(|e| FetchError::NotJson {
            url: url.to_owned(),
            reason: e.to_string(),
        })?;
        let fetched_at = Utc::now();
        self.remember(url, &value, fetched_at);
        Ok((value, fetched_at))
    }

    fn cached(&self, url: &str) -> Option<Cached> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(url)
            .filter(|hit| hit.until > Instant::now())
            .cloned()
    }

    fn remember(&self, url: &str, value: &Value, fetched_at: DateTime<Utc>) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        cache.retain(|_, hit| hit.until > now);
        if cache.len() >= CACHE_ENTRIES
            && let Some(oldest) = cache
                .iter()
                .min_by_key(|(_, hit)| hit.until)
                .map(|(k, _)| k.clone())
        {
            cache.remove(&oldest);
        }
        cache.insert(
            url.to_owned(),
            Cached {
                value: value.clone(),
                fetched_at,
                until: now + self.ttl,
            },
        );
    }
}

fn excerpt(text: &str) -> String {
    text.chars().take(80).collect()
}

/// reqwest wraps resolver errors; find ours to report the refusal as such.
fn forbidden_host(error: &reqwest::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused.0.clone());
        }
        source = e.source();
    }
    None
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    }
}

#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} resolves only to non-public addresses", self.0)
    }
}

impl std::error::Error for Refused {}

/// A DNS resolver that keeps only public addresses.
struct PublicOnly {
    allow_private: bool,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if addresses.is_empty() {
                return Err(Box::new(Refused(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether an address is on the public internet: not loopback, private, link-local, shared,
/// documentation, benchmarking, multicast, broadcast, unspecified or reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
                || (a == 192 && b == 0 && v4.octets()[2] == 0) // IETF protocol assignments
                || (a == 198 && (18..20).contains(&b)) // benchmarking
                || a >= 240) // reserved
        }
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            let octets = v6.octets();
            let embedded = |a: usize| {
                IpAddr::V4(std::net::Ipv4Addr::new(
                    octets[a],
                    octets[a + 1],
                    octets[a + 2],
                    octets[a + 3],
                ))
            };
            // Addresses that carry an IPv4 address reach it: judge that one.
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_public(embedded(12)); // NAT64
            }
            if segments[0] == 0x2002 {
                return is_public(embedded(2)); // 6to4
            }
            if segments[..6] == [0; 6] && !v6.is_loopback() && !v6.is_unspecified() {
                return is_public(embedded(12)); // IPv4-compatible (deprecated)
            }
            let first = segments[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
                || first == 0x2001 && segments[1] == 0x0db8) // documentation
        }
    }
}

/// The service's DID resolver (see the module documentation).
pub struct Resolver<'a> {
    state: &'a AppState,
}

impl<'a> Resolver<'a> {
    pub fn new(state: &'a AppState) -> Self {
        Resolver { state }
    }
}

impl DidResolver for Resolver<'_> {
    async fn resolve(&self, did: &str) -> Result<DidDocument, DidError> {
        if !did.starts_with("did:web:") {
            return LocalResolver.resolve(did).await;
        }
        if let Some(document) = crate::issuance::hosted_did_document(self.state, did)
            .await
            .map_err(|e| DidError::ResolutionFailed {
                did: did.to_owned(),
                reason: e.to_string(),
            })?
        {
            return DidDocument::from_json_for(did, &document);
        }
        let url = corroborate_verifier::did::did_web_document_url(did)?;
        let (document, _) =
            self.state
                .fetcher
                .get_json(&url)
                .await
                .map_err(|e| DidError::ResolutionFailed {
                    did: did.to_owned(),
                    reason: e.to_string(),
                })?;
        DidDocument::from_json_for(did, &document)
    }
}

/// The service's status list source (see the module documentation).
pub struct StatusLists<'a> {
    state: &'a AppState,
}

impl<'a> StatusLists<'a> {
    pub fn new(state: &'a AppState) -> Self {
        StatusLists { state }
    }
}

impl StatusListSource for StatusLists<'_> {
    async fn status_list(&self, url: &str) -> Result<Value, StatusError> {
        self.status_list_as_of(url)
            .await
            .map(|list| list.credential)
    }

    async fn status_list_as_of(&self, url: &str) -> Result<FetchedStatusList, StatusError> {
        if let Some(local) = crate::status_lists::local_list_credential(self.state, url)
            .await
            .map_err(|e| StatusError::Retrieval {
                detail: e.to_string(),
            })?
        {
            return Ok(FetchedStatusList {
                credential: local,
                fetched_at: None,
            });
        }
        let (credential, fetched_at) =
            self.state
                .fetcher
                .get_json(url)
                .await
                .map_err(|e| StatusError::Retrieval {
                    detail: e.to_string(),
                })?;
        Ok(FetchedStatusList {
            credential,
            fetched_at: Some(fetched_at),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for (address, public) in [
            ("8.8.8.8", true),
            ("1.1.1.1", true),
            ("127.0.0.1", false),
            ("10.1.2.3", false),
            ("172.16.0.1", false),
            ("192.168.1.1", false),
            ("169.254.169.254", false),
            ("100.64.0.1", false),
            ("0.0.0.0", false),
            ("255.255.255.255", false),
            ("198.18.0.1", false),
            ("240.0.0.1", false),
            ("2001:4860:4860::8888", true),
            ("::1", false),
            ("::", false),
            ("fc00::1", false),
            ("fe80::1", false),
            ("::ffff:127.0.0.1", false),
            ("::ffff:8.8.8.8", true),
            ("2001:db8::1", false),
            ("64:ff9b::a9fe:a9fe", false),
            ("64:ff9b::808:808", true),
            ("2002:a00:1::", false),
            ("2002:808:808::", true),
            ("::10.0.0.1", false),
            ("fec0::1", false),
        ] {
            let ip: IpAddr = address.parse().unwrap();
            assert_eq!(is_public(ip), public, "{address}");
        }
    }
}
