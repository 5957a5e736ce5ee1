//! What every handler shares: settings, the database, the policies, the sealing key, the
//! outbound fetcher. Built once by [`crate::app::Application::build`] and passed to handlers as
//! `web::Data<AppState>`; there are no globals.

use crate::db::Db;
use crate::fetch::Fetcher;
use crate::keys::Sealer;
use crate::settings::Settings;
use chrono::{DateTime, Utc};
use corroborate_verifier::policy::Policy;
use std::collections::BTreeMap;
use std::sync::Arc;

pub struct AppState {
    pub settings: Settings,
    pub db: Db,
    /// The public base URL without a trailing slash (e.g. `http://127.0.0.1:8080`).
    pub public_url: String,
    /// Policies by (id, version).
    pub policies: Arc<BTreeMap<(String, String), Policy>>,
    pub sealer: Sealer,
    pub fetcher: Fetcher,
    /// Where the last status sweep stopped (list URL, index): each sweep reads the next batch of
    /// entries, so every entry is checked in turn however many there are.
    pub sweep_cursor: std::sync::Mutex<Option<(String, i64)>>,
    /// The anchoring connector and the transparency log.
    pub anchoring: Arc<crate::anchoring::Anchoring>,
}

impl AppState {
    /// The service's clock. Everything that stores or judges a time reads it here.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    /// The audience (proof `domain`) authentication and presentations must name: the public URL.
    pub fn audience(&self) -> &str {
        &self.public_url
    }

    /// The `did:web` identifier of a path under this service, e.g. `issuers:utility-a`.
    pub fn did_web(&self, path: &[&str]) -> String {
        let host = self
            .public_url
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or(&self.public_url);
        // did:web encodes a port's colon as %3A; path segments are separated by colons.
        let mut did = format!("did:web:{}", host.replacen(':', "%3A", 1));
        for segment in path {
            did.push(':');
            did.push_str(segment);
        }
        did
    }
}
