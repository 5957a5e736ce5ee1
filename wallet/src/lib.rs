//! Corroborate's holder wallet.
//!
//! The core — keys, the encrypted store, the flows with the service and the checks of what
//! comes in — reaches storage, HTTP, the clock and randomness only through the traits of
//! [`platform`], so it builds for `wasm32-unknown-unknown`. [`native`] (feature `native`)
//! supplies SQLite and an HTTP client; the `corroborate-wallet` command (feature `cli`) drives it.

pub mod backup;
pub mod check;
pub mod client;
pub mod flows;
pub mod identity;
pub mod memory;
pub mod passkey;
pub mod platform;
pub mod records;
pub mod recovery;
pub mod resolve;
pub mod store;
pub mod vault;

#[cfg(feature = "native")]
pub mod native;
