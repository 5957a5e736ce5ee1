//! [`Storage`] in a SQLite file: one table of `(tbl, key, value)` rows, each commit one
//! transaction. The file is created readable by its owner only, journals in WAL mode with full
//! syncs (a crash or power cut leaves the last committed state), and carries an application id
//! and schema version, so a file that is not a wallet's is refused rather than written into.

use crate::platform::{Storage, StorageError, Write};
use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// `PRAGMA application_id` of wallet files: "CrWa".
const APPLICATION_ID: i32 = 0x4372_5761;
/// `PRAGMA user_version`: the schema below.
const SCHEMA_VERSION: i32 = 1;
const SCHEMA: &str = "
    CREATE TABLE records (
        tbl TEXT NOT NULL,
        key TEXT NOT NULL,
        value BLOB NOT NULL,
        PRIMARY KEY (tbl, key)
    ) STRICT, WITHOUT ROWID;
";
/// How long a write waits for another process holding the file (a second CLI).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A wallet file. The connection sits behind a mutex so the store can be shared; the wallet's
/// calls are short and never overlap in the CLI.
pub struct SqliteStorage {
    path: PathBuf,
    connection: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStorage")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStorage {
    /// Opens the wallet file at `path`, creating it (mode 0600 on Unix) if there is none.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStorage, StorageError> {
        let path = path.as_ref().to_owned();
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            StorageError(format!("{}: {what}: {e}", path.display()))
        };
        create_private(&path).map_err(|e| fail("cannot create the file", &e))?;
        let connection = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| fail("cannot open", &e))?;
        connection
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| fail("cannot set the busy timeout", &e))?;
        // The first read of the file: this is where a file that is not SQLite shows. Nothing is
        // changed in a file before it is known to be a wallet's or empty.
        let application_id: i32 = connection
            .pragma_query_value(None, "application_id", |row| row.get(0))
            .map_err(|e| fail("not a wallet database", &e))?;
        let fresh = match application_id {
            APPLICATION_ID => {
                let version: i32 = connection
                    .pragma_query_value(None, "user_version", |row| row.get(0))
                    .map_err(|e| fail("cannot read the schema version", &e))?;
                if version != SCHEMA_VERSION {
                    return Err(fail(
                        "unknown wallet schema",
                        &format!("version {version}, this program knows {SCHEMA_VERSION}"),
                    ));
                }
                false
            }
            0 => {
                let objects: i64 = connection
                    .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
                    .map_err(|e| fail("cannot read the schema", &e))?;
                if objects > 0 {
                    return Err(fail(
                        "not a wallet database",
                        &"it is a SQLite database of another program (it has tables of its own)",
                    ));
                }
                true
            }
            other => {
                return Err(fail(
                    "not a wallet database",
                    &format!(
                        "it is a SQLite database of another program (application id {other:#x})"
                    ),
                ));
            }
        };
        let journal: String = connection
            .pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0))
            .map_err(|e| fail("cannot switch to WAL", &e))?;
        if !journal.eq_ignore_ascii_case("wal") {
            return Err(fail(
                "cannot switch to WAL",
                &format!("journal mode stays {journal}"),
            ));
        }
        connection
            .execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(|e| fail("cannot set pragmas", &e))?;
        if fresh {
            connection
                .execute_batch(&format!(
                    "BEGIN IMMEDIATE; {SCHEMA} PRAGMA application_id = {APPLICATION_ID}; \
                     PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
                ))
                .map_err(|e| fail("cannot create the schema", &e))?;
        }
        Ok(SqliteStorage {
            path,
            connection: Mutex::new(connection),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn connection(&self) -> Result<MutexGuard<'_, Connection>, StorageError> {
        self.connection.lock().map_err(|_| {
            StorageError(format!(
                "{}: the connection was left unusable by an earlier failure",
                self.path.display()
            ))
        })
    }

    fn error(&self, e: rusqlite::Error) -> StorageError {
        StorageError(format!("{}: {e}", self.path.display()))
    }
}

impl Storage for SqliteStorage {
    async fn get(&self, table: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let connection = self.connection()?;
        let mut statement = connection
            .prepare_cached("SELECT value FROM records WHERE tbl = ?1 AND key = ?2")
            .map_err(|e| self.error(e))?;
        let mut rows = statement
            .query(params![table, key])
            .map_err(|e| self.error(e))?;
        match rows.next().map_err(|e| self.error(e))? {
            Some(row) => Ok(Some(row.get(0).map_err(|e| self.error(e))?)),
            None => Ok(None),
        }
    }

    async fn list(&self, table: &str) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        let connection = self.connection()?;
        let mut statement = connection
            .prepare_cached("SELECT key, value FROM records WHERE tbl = ?1 ORDER BY key")
            .map_err(|e| self.error(e))?;
        statement
            .query_map(params![table], |row| Ok((row.get(0)?, row.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.error(e))
    }

    async fn commit(&self, writes: Vec<Write>) -> Result<(), StorageError> {
        let mut connection = self.connection()?;
        // Dropped without `commit`, the transaction rolls back: all or nothing.
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.error(e))?;
        {
            let mut put = transaction
                .prepare_cached(
                    "INSERT INTO records (tbl, key, value) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (tbl, key) DO UPDATE SET value = excluded.value",
                )
                .map_err(|e| self.error(e))?;
            let mut delete = transaction
                .prepare_cached("DELETE FROM records WHERE tbl = ?1 AND key = ?2")
                .map_err(|e| self.error(e))?;
            for write in &writes {
                match write {
                    Write::Put { table, key, value } => put.execute(params![table, key, value]),
                    Write::Delete { table, key } => delete.execute(params![table, key]),
                }
                .map_err(|e| self.error(e))?;
            }
        }
        transaction.commit().map_err(|e| self.error(e))
    }
}

/// Creates the file, if absent, readable and writable by its owner only. SQLite gives its
/// journal files the same permissions.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}
