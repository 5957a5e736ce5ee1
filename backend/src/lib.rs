//! The Corroborate service: the HTTP API that attesters, wallets and government use, over
//! SQLite or PostgreSQL. `ARCHITECTURE.md` maps the modules; each opens with what it owns.

pub mod anchoring;
pub mod app;
pub mod audit;
pub mod auth;
pub mod db;
pub mod derivation;
pub mod erasure;
pub mod error;
pub mod exchange;
pub mod extract;
pub mod fetch;
pub mod frontend;
pub mod health;
pub mod idempotency;
pub mod issuance;
pub mod keys;
pub mod policies;
pub mod registry;
pub mod settings;
pub mod state;
pub mod status_lists;
pub mod telemetry;
pub mod vcapi;
pub mod witness;
