//! The store's connection lent to the WeChat connector's token and quota
//! tables, so that one connection writes the whole file.
//!
//! A second connection would wait for the write lock of the store's open
//! batch through SQLite's busy handler, which sleeps in steps of
//! milliseconds. Through the store, their writes wait on its mutex
//! instead, and inside a deferred scope they join the open batch.

use std::ops::Deref;

use rusqlite::Connection;

use super::{Store, StoreError};
use crate::wechat;

impl wechat::Database for Store {
    fn lock(&self) -> Box<dyn Deref<Target = Connection> + '_> {
        Box::new(Store::lock(self))
    }

    fn atomic(
        &self,
        work: &mut dyn FnMut(&Connection) -> rusqlite::Result<()>,
    ) -> Result<(), wechat::StoreError> {
        Store::lock(self)
            .atomic(|connection| Ok(work(connection)?))
            .map_err(|err| match err {
                StoreError::Sqlite(source) => wechat::StoreError::Sqlite(source),
                other => wechat::StoreError::Shared(other.to_string()),
            })
    }
}

#[cfg(test)]
mod tests {
    use crate::store::Store;
    use crate::wechat::quota_store::{QuotaStore, WindowKind, WindowSlot};
    use crate::wechat::{SqliteStore, StoreError};

    fn windows(store: &SqliteStore) -> Result<i64, StoreError> {
        let count =
            store
                .conn()
                .query_row("SELECT COUNT(*) FROM wechat_reply_windows", [], |row| {
                    row.get(0)
                })?;
        Ok(count)
    }

    #[test]
    fn window_writes_join_the_batch() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("shared.db");
        let store = Store::open(&path).expect("store opens");
        let wechat = SqliteStore::on(store.clone())?;
        let other = SqliteStore::open(&path)?;

        let (opened, pending) =
            store.deferred(|| wechat.open_window("demo", "o1", WindowKind::Event, 60_000, 5));
        opened?;
        assert!(!pending.is_empty());
        // A second connection reads no window before the batch commits.
        assert_eq!(windows(&other)?, 0);

        store.make_durable(pending).expect("batch commits");
        assert_eq!(windows(&other)?, 1);
        assert_eq!(wechat.take_window_slot("demo", "o1", 0)?, WindowSlot::Taken);
        Ok(())
    }
}
