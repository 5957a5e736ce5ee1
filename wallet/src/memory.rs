//! An in-memory [`Storage`]: for tests, and for a browser session that keeps nothing.

use crate::platform::{Storage, StorageError, Write};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Rows in a map; a commit applies to a copy and swaps it in, so it is all or nothing.
#[derive(Debug, Default, Clone)]
pub struct MemoryStorage {
    rows: RefCell<BTreeMap<(String, String), Vec<u8>>>,
}

impl MemoryStorage {
    pub fn new() -> MemoryStorage {
        MemoryStorage::default()
    }
}

impl Storage for MemoryStorage {
    async fn get(&self, table: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self
            .rows
            .borrow()
            .get(&(table.to_owned(), key.to_owned()))
            .cloned())
    }

    async fn list(&self, table: &str) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        Ok(self
            .rows
            .borrow()
            .iter()
            .filter(|((t, _), _)| t == table)
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }

    async fn commit(&self, writes: Vec<Write>) -> Result<(), StorageError> {
        let mut next = self.rows.borrow().clone();
        for write in writes {
            match write {
                Write::Put { table, key, value } => {
                    next.insert((table, key), value);
                }
                Write::Delete { table, key } => {
                    next.remove(&(table, key));
                }
            }
        }
        *self.rows.borrow_mut() = next;
        Ok(())
    }
}
