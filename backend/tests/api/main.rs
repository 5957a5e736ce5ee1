//! Integration tests of the service: the real server on port 0 against SQLite and PostgreSQL.
//! One test binary; one module per concern. `support` is the harness; every storage test runs
//! on both dialects through `on_both!`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::field_reassign_with_default)]

mod support;

mod anchoring;
mod basics;
mod derivation;
mod erasure;
mod ethereum;
mod exchange;
mod faults;
mod fetch;
mod frontend;
mod issuance;
mod migrations;
mod registry;
mod vcapi;
mod witness;
