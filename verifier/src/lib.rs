//! Corroborate's verifier core.
//!
//! Parses verifiable credentials and presentations, checks their Data Integrity proofs, checks fact
//! claims against their schemas, and evaluates threshold policies into a decision with an
//! explanation. This crate does no I/O: time, DID resolution and the trust registry are passed in,
//! so every result is a pure function of its inputs.

pub mod anchor;
pub mod context;
pub mod credential;
pub mod decision;
pub mod did;
pub mod fact;
pub mod failure;
pub mod json;
pub mod key;
pub mod merkle;
pub mod note;
pub mod policy;
pub mod presentation;
pub mod proof;
pub mod registry;
pub mod schema;
pub mod status;
pub mod verification;
