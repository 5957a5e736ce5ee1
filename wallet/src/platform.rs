//! What the wallet's core needs from the platform it runs on, as small traits: a transactional
//! record store, an HTTP transport, a clock and a source of randomness. The core reaches none of
//! them any other way, so it builds for `wasm32-unknown-unknown` (IndexedDB and `fetch` in the
//! browser) as well as natively (SQLite and an HTTP client, in [`crate::native`]).
//!
//! The store sees table names, record keys and opaque bytes only: the core encrypts every
//! payload before handing it over ([`crate::vault`]).

#![allow(async_fn_in_trait)] // Implementations need not be `Send`: the browser's are not.

use chrono::{DateTime, Utc};
use std::fmt;

/// One write of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Insert, or replace the row with the same table and key.
    Put {
        table: String,
        key: String,
        value: Vec<u8>,
    },
    Delete {
        table: String,
        key: String,
    },
}

/// A store of byte rows by table and key, which applies a list of writes all or nothing.
pub trait Storage {
    /// The row, if there is one.
    async fn get(&self, table: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError>;
    /// Every row of a table, ordered by key.
    async fn list(&self, table: &str) -> Result<Vec<(String, Vec<u8>)>, StorageError>;
    /// Applies every write, or none of them (a crash in between leaves the store as before).
    async fn commit(&self, writes: Vec<Write>) -> Result<(), StorageError>;
}

/// The store could not be read or written. Carries the platform's message, for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the wallet's storage failed: {0}")]
pub struct StorageError(pub String);

/// An HTTP request, as the core builds it. Bodies are JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: Method,
    /// An absolute URL.
    pub url: String,
    pub bearer: Option<String>,
    pub body: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        })
    }
}

/// What came back: the status and the raw body (at most the transport's size limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// Sends requests. No redirects are followed; the core treats one as an error.
pub trait Transport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// The request did not get an answer (connection refused, timeout, body too large…).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{url}: {reason}")]
pub struct TransportError {
    pub url: String,
    pub reason: String,
}

/// The current time.
pub trait Clock {
    fn now(&self) -> DateTime<Utc>;
}

/// Cryptographically secure random bytes.
pub trait Entropy {
    fn fill(&self, dest: &mut [u8]);
}

/// A [`rand_core`] generator drawing from an [`Entropy`], for the libraries that take one
/// (key generation, nonces).
pub struct EntropyRng<'a, E: Entropy + ?Sized>(pub &'a E);

impl<E: Entropy + ?Sized> rand_core::RngCore for EntropyRng<'_, E> {
    fn next_u32(&mut self) -> u32 {
        let mut bytes = [0; 4];
        self.0.fill(&mut bytes);
        u32::from_le_bytes(bytes)
    }

    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0; 8];
        self.0.fill(&mut bytes);
        u64::from_le_bytes(bytes)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill(dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.0.fill(dest);
        Ok(())
    }
}

impl<E: Entropy + ?Sized> rand_core::CryptoRng for EntropyRng<'_, E> {}

/// A fixed clock, for tests and for replaying a flow at a known time.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}
