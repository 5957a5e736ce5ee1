//! Typed settings, read once in `main`: built-in defaults, then an optional TOML file, then
//! environment variables (`CORROBORATE__SECTION__KEY`, and `DATABASE_URL` on its own, as
//! operators expect). Secrets are `SecretString`s: they print as `[REDACTED]` and are exposed
//! only where used.

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::SecretString;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub listen: String,
    /// The service's public base URL: status list URLs, hosted `did:web` identifiers and the
    /// audience (domain) of authentication proofs derive from it. Empty: `http://` + the bound
    /// address.
    pub public_url: String,
    pub database_url: SecretString,
    pub pool_size: u32,
    /// Folder for files the service keeps beside the database (the generated master key).
    pub data_dir: PathBuf,
    /// Base64 of 32 bytes sealing service keys at rest. When absent, one is generated in
    /// `data_dir/master.key` (mode 0600) on first start.
    pub master_key: Option<SecretString>,
    /// Named administrators and the DIDs they authenticate with.
    pub admins: Vec<Admin>,
    /// A folder of extra policy files (JSON), beside the policies shipped in `schemas/policies`.
    pub policies_dir: Option<PathBuf>,
    pub log_format: LogFormat,
    pub limits: Limits,
    pub auth: Auth,
    pub fetch: Fetch,
    pub rate_limit: RateLimit,
    pub exchange: Exchange,
    /// Seconds between maintenance sweeps: expired requests purged, expired or revoked inputs of
    /// holding decisions re-evaluated. 0 turns the sweeps off (tests run them by hand).
    pub maintenance_interval_secs: u64,
    /// Ledger anchoring of status credentials (`docs/ledgers.md`).
    pub anchoring: crate::anchoring::AnchoringSettings,
    /// The web front ends (`scripts/build-web` builds them).
    pub web: Web,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Admin {
    pub name: String,
    pub did: String,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body accepted, in bytes.
    pub body_bytes: usize,
    /// Deepest JSON nesting accepted.
    pub json_depth: usize,
    /// Most items in one bulk issuance or one list page.
    pub bulk_items: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Auth {
    /// How long an authentication or presentation challenge may be answered, in seconds.
    pub challenge_ttl_secs: i64,
    /// How long a bearer token lasts, in seconds.
    pub session_ttl_secs: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Fetch {
    pub timeout_ms: u64,
    pub max_bytes: usize,
    /// How long a fetched DID document or status list is reused, in seconds.
    pub cache_ttl_secs: u64,
    /// Allow fetching from loopback, private and link-local addresses (tests, closed networks).
    pub allow_private: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimit {
    /// Sustained requests per second per client address on unauthenticated endpoints.
    pub per_second: u64,
    /// Requests a client may send at once before the rate applies.
    pub burst: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Exchange {
    /// The longest a citizen may keep an attestation request open, in days.
    pub max_request_days: i64,
    /// How long collected credentials stay retrievable, in seconds: a collection whose answer
    /// was lost on the way can be repeated within this time; afterwards the sweep deletes them.
    pub collect_grace_secs: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Web {
    /// The built front ends (`web/dist`, relative to the working directory), served at `/`.
    /// When the folder does not exist the service still starts: `/` then says how to build it.
    pub dir: PathBuf,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:8080".into(),
            public_url: String::new(),
            database_url: SecretString::from("sqlite://data/corroborate.sqlite"),
            pool_size: 8,
            data_dir: PathBuf::from("data"),
            master_key: None,
            admins: Vec::new(),
            policies_dir: None,
            log_format: LogFormat::Text,
            limits: Limits::default(),
            auth: Auth::default(),
            fetch: Fetch::default(),
            rate_limit: RateLimit::default(),
            exchange: Exchange::default(),
            maintenance_interval_secs: 60,
            anchoring: Default::default(),
            web: Web::default(),
        }
    }
}

impl Default for Web {
    fn default() -> Self {
        Web {
            dir: PathBuf::from("web/dist"),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: 1 << 20,
            json_depth: 32,
            bulk_items: 500,
        }
    }
}

impl Default for Auth {
    fn default() -> Self {
        Auth {
            challenge_ttl_secs: 300,
            session_ttl_secs: 3600,
        }
    }
}

impl Default for Fetch {
    fn default() -> Self {
        Fetch {
            timeout_ms: 5000,
            max_bytes: 256 * 1024,
            cache_ttl_secs: 300,
            allow_private: false,
        }
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            per_second: 20,
            burst: 60,
        }
    }
}

impl Default for Exchange {
    fn default() -> Self {
        Exchange {
            max_request_days: 30,
            collect_grace_secs: 600,
        }
    }
}

impl Settings {
    /// Defaults, then `file` (when given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, Box<figment::Error>> {
        let mut figment = Figment::new();
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment
            .merge(Env::prefixed("CORROBORATE__").split("__"))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .extract()
            .map_err(Box::new)
    }
}

#[cfg(test)]
// figment's Jail returns figment's own (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn file_then_environment_override_the_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "settings.toml",
                "listen = \"0.0.0.0:9000\"\npool_size = 3\n[limits]\nbody_bytes = 4096\n",
            )?;
            jail.set_env("CORROBORATE__POOL_SIZE", "5");
            jail.set_env(
                "CORROBORATE__ADMINS",
                "[{name=\"alice\", did=\"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp\"}]",
            );
            jail.set_env("CORROBORATE__FETCH__TIMEOUT_MS", "1500");
            jail.set_env("CORROBORATE__WEB__DIR", "/srv/corroborate/web");
            jail.set_env("DATABASE_URL", "postgres://u:secret@db/corroborate");
            let settings = Settings::load(Some(Path::new("settings.toml"))).map_err(|e| *e)?;
            assert_eq!(settings.listen, "0.0.0.0:9000");
            assert_eq!(settings.pool_size, 5, "the environment wins over the file");
            assert_eq!(settings.limits.body_bytes, 4096);
            assert_eq!(
                settings.limits.json_depth, 32,
                "defaults fill the rest of a section"
            );
            assert_eq!(settings.fetch.timeout_ms, 1500);
            assert_eq!(settings.web.dir, Path::new("/srv/corroborate/web"));
            assert_eq!(settings.admins.len(), 1);
            assert_eq!(settings.admins[0].name, "alice");
            assert_eq!(
                settings.database_url.expose_secret(),
                "postgres://u:secret@db/corroborate"
            );
            assert!(
                !format!("{settings:?}").contains("secret@"),
                "secrets never show in debug output"
            );
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_stop_the_start() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("settings.toml", "lisen = \"0.0.0.0:9000\"\n")?;
            let error = Settings::load(Some(Path::new("settings.toml"))).unwrap_err();
            assert!(error.to_string().contains("lisen"), "{error}");
            Ok(())
        });
    }
}
