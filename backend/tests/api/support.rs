//! The test harness: the real server on port 0 against a real database of either dialect, and
//! clients that authenticate with DID keys as wallets do.
//!
//! Each test gets its own database: a fresh SQLite file in a temporary folder, or a fresh
//! PostgreSQL database (`corroborate_t_<random>`) on the server named by
//! `CORROBORATE_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/postgres`), so tests
//! run in parallel without seeing each other. `scripts/test` drops leftovers of earlier runs.

#![allow(dead_code)]

use actix_web::web;
use chrono::Utc;
use corroborate_backend::app::Application;
use corroborate_backend::settings::{Admin, Settings};
use corroborate_backend::state::AppState;
use corroborate_verifier::did::did_key_from_public_key;
use corroborate_verifier::key::SecretKey;
use corroborate_verifier::presentation::{Binding, sign_presentation};
use corroborate_verifier::proof::Cryptosuite;
use diesel::{Connection, RunQueryDsl};
use rand::RngCore;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// Runs an async test body once per dialect, as two tests: `<name>::sqlite` and
/// `<name>::postgres`.
#[macro_export]
macro_rules! on_both {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::support::Dialect::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::support::Dialect::Postgres).await
            }
        }
    };
}

/// A test identity: a did:key and its key.
#[derive(Clone)]
pub struct Identity {
    pub key: SecretKey,
    pub did: String,
    /// The verification method URL (`did#fragment`).
    pub vm: String,
}

impl Identity {
    /// A fresh random identity.
    pub fn random() -> Identity {
        Identity::from_key(SecretKey::generate(&mut rand::rngs::OsRng))
    }

    /// A fixed identity, the same in every run (`seed` repeated 32 times).
    pub fn seeded(seed: u8) -> Identity {
        Identity::from_key(SecretKey::from_bytes(&[seed; 32]))
    }

    fn from_key(key: SecretKey) -> Identity {
        let did = did_key_from_public_key(&key.public_key());
        let fragment = did.trim_start_matches("did:key:").to_owned();
        Identity {
            vm: format!("{did}#{fragment}"),
            did,
            key,
        }
    }
}

pub struct TestApp {
    pub url: String,
    pub client: reqwest::Client,
    pub dialect: Dialect,
    pub state: web::Data<AppState>,
    /// An administrator configured for this server.
    pub admin: Identity,
    _dir: TempDir,
}

/// A temporary folder removed on drop.
pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn unique(prefix: &str) -> String {
    let mut bytes = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

pub fn postgres_admin_url() -> String {
    std::env::var("CORROBORATE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A new, empty PostgreSQL database; returns its URL.
pub fn fresh_postgres_database() -> String {
    let admin_url = postgres_admin_url();
    let name = unique("corroborate_t_");
    let mut conn = diesel::PgConnection::establish(&admin_url)
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is needed for this test: {e}"));
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .unwrap();
    match admin_url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => panic!("no database in {admin_url}"),
    }
}

/// The settings of a test server: port 0, its own database, a fixed master key, one admin,
/// generous rate limits (tests exercise the limit explicitly).
pub fn test_settings(dialect: Dialect, dir: &std::path::Path, admin: &Identity) -> Settings {
    let mut settings = Settings::default();
    settings.listen = "127.0.0.1:0".into();
    settings.data_dir = dir.to_path_buf();
    settings.database_url = SecretString::from(match dialect {
        Dialect::Sqlite => format!("sqlite://{}", dir.join("test.sqlite").display()),
        Dialect::Postgres => fresh_postgres_database(),
    });
    settings.pool_size = 4;
    settings.master_key = Some(SecretString::from(
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    ));
    settings.admins = vec![Admin {
        name: "alice".into(),
        did: admin.did.clone(),
    }];
    settings.rate_limit.per_second = 10_000;
    settings.rate_limit.burst = 10_000;
    // Tests drive the anchoring batcher by hand (`Batcher::round`), so no thread races them.
    settings.anchoring.enabled = false;
    // No front ends unless a test writes them (the working directory's web/dist is not the test's).
    settings.web.dir = dir.join("web");
    settings
}

pub async fn spawn(dialect: Dialect) -> TestApp {
    spawn_with(dialect, |_| {}).await
}

/// Starts a server whose settings `adjust` may change first.
pub async fn spawn_with(dialect: Dialect, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = std::env::temp_dir().join(unique("corroborate-test-"));
    std::fs::create_dir_all(&dir).unwrap();
    let admin = Identity::random();
    let mut settings = test_settings(dialect, &dir, &admin);
    adjust(&mut settings);
    let app = Application::build(settings).unwrap();
    let url = app.public_url().to_owned();
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        url,
        client: reqwest::Client::new(),
        dialect,
        state,
        admin,
        _dir: TempDir(dir),
    }
}

/// A response: status and JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The problem `code` of an error reply.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {:#}",
            self.body
        );
        self.body
    }

    /// Asserts an RFC 9457 problem with this status and code.
    #[track_caller]
    pub fn expect_problem(self, status: u16, code: &str) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {:#}",
            self.body
        );
        assert_eq!(
            self.content_type, "application/problem+json",
            "{:#}",
            self.body
        );
        assert_eq!(self.code(), code, "{:#}", self.body);
        assert!(self.body["detail"].is_string(), "{:#}", self.body);
        self.body
    }
}

impl TestApp {
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            content_type,
            headers,
            body,
        }
    }

    fn with_token(
        request: reqwest::RequestBuilder,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let request = self.client.get(format!("{}{path}", self.url));
        self.send(Self::with_token(request, token)).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        let request = self.client.post(format!("{}{path}", self.url)).json(body);
        self.send(Self::with_token(request, token)).await
    }

    /// POST with an `Idempotency-Key` header.
    pub async fn post_once(&self, path: &str, token: &str, key: &str, body: &Value) -> Reply {
        let request = self
            .client
            .post(format!("{}{path}", self.url))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(body);
        self.send(request).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        let request = self.client.put(format!("{}{path}", self.url)).json(body);
        self.send(Self::with_token(request, token)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        let request = self.client.delete(format!("{}{path}", self.url));
        self.send(Self::with_token(request, token)).await
    }

    /// POST raw bytes with a content type.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let request = self
            .client
            .post(format!("{}{path}", self.url))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        self.send(Self::with_token(request, token)).await
    }

    /// Authenticates `who` by challenge and response; returns the bearer token.
    pub async fn login(&self, who: &Identity) -> String {
        let challenge = self
            .post("/auth/challenges", None, &json!({"did": who.did}))
            .await
            .expect(201);
        let presentation = sign_presentation(
            &who.did,
            Vec::new(),
            &who.key,
            &who.vm,
            Cryptosuite::EddsaJcs2022,
            &Binding {
                challenge: Some(challenge["challenge"].as_str().unwrap().to_owned()),
                domain: Some(challenge["domain"].as_str().unwrap().to_owned()),
                holder_must_be_subject: false,
            },
            Utc::now(),
        )
        .await
        .unwrap();
        let token = self
            .post("/auth/tokens", None, &json!({"presentation": presentation}))
            .await
            .expect(201);
        token["token"].as_str().unwrap().to_owned()
    }

    /// The configured administrator's token.
    pub async fn admin_token(&self) -> String {
        let admin = self.admin.clone();
        self.login(&admin).await
    }
}
