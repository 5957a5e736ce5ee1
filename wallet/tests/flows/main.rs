//! The wallet's flows end to end against the real service (in this process, on port 0, over a
//! fresh SQLite database; the service's own suite covers PostgreSQL): wallets on the native
//! platform, as the CLI runs them, doing what people do with them. One test binary; a module per
//! story.
//!
//! - `support`: the harness (the service, wallets, registry and government calls);
//! - `birth`: a fact several parties attest about a child's identity;
//! - `revocation`: a person attester revoking what they signed, seen by the citizen;
//! - `offline`: presenting without the network, checked on the verifier's side;
//! - `refusals`: bad input and refused steps, each named and writing nothing;
//! - `wallet_file`: the story kept in a SQLite wallet file, reopened and restored from a backup.
//!
//! The wallet's futures are not `Send` (its storage need not be): each test drives them on the
//! runtime's own thread with `block_on`, while the service runs on the runtime's workers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod birth;
mod offline;
mod refusals;
mod revocation;
mod wallet_file;
