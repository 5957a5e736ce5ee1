//! Native implementations of the platform traits: SQLite storage, an HTTP client, the system
//! clock and the operating system's randomness.

pub mod sqlite;

pub use sqlite::SqliteStorage;

pub mod http;
pub mod system;

pub use http::HttpTransport;
pub use system::{OsEntropy, SystemClock};
