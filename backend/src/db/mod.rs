//! Storage: one connection type for both SQL dialects, the pool, migrations, and the two ways
//! handlers reach the database ([`Db::read`] and [`Db::write`]).
//!
//! The dialect is chosen by the URL's scheme, never guessed: `sqlite://PATH` (the default, a
//! file created on first start) or `postgres://…`/`postgresql://…`. Both run the same diesel
//! queries through [`AnyConnection`]; only the migrations differ (`migrations/sqlite`,
//! `migrations/postgres`), and they are embedded in the binary and applied at start.
//!
//! Durability: SQLite runs in WAL mode with `synchronous = FULL`, so a committed transaction
//! survives a crash of the process or the machine; PostgreSQL commits are durable by default.
//! SQLite has one writer at a time: [`Db::write`] takes a process-wide lock around SQLite write
//! transactions so that two of our own connections never deadlock upgrading a read lock (which
//! SQLite reports as `SQLITE_BUSY` without waiting).

pub mod schema;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// A connection to either dialect; diesel's queries run on it unchanged.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Which SQL dialect a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A database URL that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    #[error(
        "the database URL must start with sqlite:// or postgres:// (found a URL starting {0:?})"
    )]
    UnknownScheme(String),
    #[error("the sqlite:// URL names no file")]
    NoPath,
}

/// A parsed database URL: the dialect and what the driver is given.
#[derive(Clone)]
pub struct DatabaseUrl {
    pub dialect: Dialect,
    target: SecretString,
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A PostgreSQL URL may carry a password: never print it.
        write!(f, "DatabaseUrl({:?}, [redacted])", self.dialect)
    }
}

impl DatabaseUrl {
    pub fn parse(url: &SecretString) -> Result<DatabaseUrl, UrlError> {
        let raw = url.expose_secret();
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(UrlError::NoPath);
            }
            return Ok(DatabaseUrl {
                dialect: Dialect::Sqlite,
                target: SecretString::from(path.to_owned()),
            });
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DatabaseUrl {
                dialect: Dialect::Postgres,
                target: url.clone(),
            });
        }
        let scheme: String = raw.chars().take_while(|c| *c != ':').take(16).collect();
        Err(UrlError::UnknownScheme(scheme))
    }

    /// The SQLite file, for creating its folder; `None` for PostgreSQL.
    pub fn sqlite_path(&self) -> Option<&str> {
        match self.dialect {
            Dialect::Sqlite => Some(self.target.expose_secret()),
            Dialect::Postgres => None,
        }
    }

    /// One connection, configured (SQLite pragmas) but not migrated.
    pub fn connect(&self) -> Result<AnyConnection, diesel::ConnectionError> {
        match self.dialect {
            Dialect::Postgres => Ok(AnyConnection::Postgresql(diesel::PgConnection::establish(
                self.target.expose_secret(),
            )?)),
            Dialect::Sqlite => {
                let mut conn = diesel::SqliteConnection::establish(self.target.expose_secret())?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }
}

/// Every SQLite connection: WAL with full fsync (a committed transaction survives a crash),
/// foreign keys enforced, and waiting rather than failing when another connection writes.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;";

/// r2d2's view of [`DatabaseUrl::connect`].
pub struct Manager {
    url: DatabaseUrl,
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, r2d2::Error> {
        self.url.connect().map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut AnyConnection) -> bool {
        false
    }
}

/// Why a storage operation failed. Handlers map these to problem responses; the text is for
/// logs only.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no database connection: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("migrations: {0}")]
    Migration(String),
    #[error("the blocking task was cancelled")]
    Cancelled,
}

impl StoreError {
    /// A unique or primary-key constraint refused the write.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            StoreError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// The pool and how to use it from async handlers.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    pub dialect: Dialect,
    /// Held around SQLite write transactions (see the module documentation).
    writer: Arc<std::sync::Mutex<()>>,
}

impl Db {
    /// Opens the pool (creating the SQLite file and its folder if needed) and applies pending
    /// migrations.
    pub fn open(url: &DatabaseUrl, pool_size: u32) -> Result<Db, StoreError> {
        if let Some(path) = url.sqlite_path()
            && let Some(parent) = std::path::Path::new(path).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Migration(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .connection_timeout(Duration::from_secs(10))
            .build(Manager { url: url.clone() })?;
        let db = Db {
            pool,
            dialect: url.dialect,
            writer: Arc::new(std::sync::Mutex::new(())),
        };
        let mut conn = db.pool.get()?;
        migrate(&mut conn)?;
        Ok(db)
    }

    /// Runs `f` on a pooled connection on the blocking thread pool, with no transaction.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|_| StoreError::Cancelled)?
    }

    /// Runs `f` in one transaction on the blocking thread pool: everything it writes commits
    /// together, or nothing does. `E` lets domain errors roll the transaction back too.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.write_blocking(f))
            .await
            .map_err(|_| E::from(StoreError::Cancelled))?
    }

    /// [`Db::write`] for code already on a blocking thread.
    pub fn write_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E>,
        E: From<StoreError> + From<diesel::result::Error>,
    {
        let mut conn = self.pool.get().map_err(StoreError::from)?;
        let _guard = match self.dialect {
            // A poisoned lock only means another writer panicked; the lock itself is fine.
            Dialect::Sqlite => Some(self.writer.lock().unwrap_or_else(|e| e.into_inner())),
            Dialect::Postgres => None,
        };
        let conn: &mut AnyConnection = &mut conn;
        conn.transaction(f)
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| {
            conn.batch_execute("SELECT 1")?;
            Ok(())
        })
        .await
    }
}

/// Applies pending migrations of the connection's dialect.
pub fn migrate(conn: &mut AnyConnection) -> Result<(), StoreError> {
    let result = match conn {
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(drop),
        AnyConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(drop),
    };
    result.map_err(|e| StoreError::Migration(e.to_string()))
}

/// Reverts every applied migration of the connection's dialect (tests of the down migrations).
pub fn revert_all(conn: &mut AnyConnection) -> Result<(), StoreError> {
    let result = match conn {
        AnyConnection::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(drop),
        AnyConnection::Postgresql(c) => c.revert_all_migrations(POSTGRES_MIGRATIONS).map(drop),
    };
    result.map_err(|e| StoreError::Migration(e.to_string()))
}

/// Milliseconds since the Unix epoch, the representation of every time column.
pub fn millis(at: chrono::DateTime<chrono::Utc>) -> i64 {
    at.timestamp_millis()
}

/// The inverse of [`millis`]; out-of-range values (impossible from our own writes) clamp to the epoch.
pub fn from_millis(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}
