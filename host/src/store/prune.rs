//! Deletion of expired rows: finished replies kept for WeChat's retries
//! and `kv` entries written with a time to live.
//!
//! A thread of its own deletes them once a second, in chunks of
//! [`CHUNK_ROWS`] rows, and takes the store's lock for one chunk at a
//! time, so a callback waits for at most one chunk's delete. After a full
//! chunk the thread sleeps as long as the chunk took, at least
//! [`MIN_PAUSE`]. Without the pause it could take the lock back before
//! the woken callbacks did, so a backlog of expired rows (from a burst of
//! callbacks one TTL earlier) could hold them off for the whole pass.

use std::sync::{Mutex, Weak};
use std::time::{Duration, Instant};

use rusqlite::params;

use super::group::Db;
use super::{Store, StoreError};

/// Time between two pruning passes.
const INTERVAL: Duration = Duration::from_secs(1);

/// Rows one statement deletes at most.
const CHUNK_ROWS: usize = 200;

/// Minimum sleep between two full chunks.
const MIN_PAUSE: Duration = Duration::from_millis(1);

/// The partial index lets a pass find expired `kv` entries without
/// scanning the entries that never expire.
pub(super) const SCHEMA: &str = "
CREATE INDEX IF NOT EXISTS kv_expires_at ON kv (expires_at) WHERE expires_at IS NOT NULL;
";

const DELETE_EXPIRED_KV: &str = "
DELETE FROM kv WHERE (account, plugin, key) IN (
    SELECT account, plugin, key FROM kv
    WHERE expires_at IS NOT NULL AND expires_at <= ?1 LIMIT ?2
)";

const DELETE_EXPIRED_REPLIES: &str = "
DELETE FROM replies WHERE rowid IN (
    SELECT rowid FROM replies WHERE expires_at <= ?1 LIMIT ?2
)";

impl Store {
    /// Deletes the kv entries and replies that expired at or before
    /// `now_secs`, one chunk per statement; returns how many rows went.
    pub fn prune_expired(&self, now_secs: u64) -> Result<usize, StoreError> {
        let now = i64::try_from(now_secs).unwrap_or(i64::MAX);
        let mut deleted = 0;
        for statement in [DELETE_EXPIRED_KV, DELETE_EXPIRED_REPLIES] {
            loop {
                let started = Instant::now();
                let chunk = self
                    .lock()
                    .prepare_cached(statement)?
                    .execute(params![now, CHUNK_ROWS as i64])?;
                deleted += chunk;
                if chunk < CHUNK_ROWS {
                    break;
                }
                std::thread::sleep(started.elapsed().max(MIN_PAUSE));
            }
        }
        Ok(deleted)
    }
}

/// Starts the pruning thread. It stops when `db` has no strong
/// reference left. Returns false when the thread could not start.
pub(super) fn spawn(db: Weak<Mutex<Db>>) -> bool {
    std::thread::Builder::new()
        .name("wxhost-prune".to_owned())
        .spawn(move || run(&db))
        .inspect_err(|err| {
            tracing::warn!(error = %err, "failed to start the pruning thread; expired replies and kv entries stay in the database");
        })
        .is_ok()
}

fn run(db: &Weak<Mutex<Db>>) {
    let mut failing = false;
    loop {
        std::thread::sleep(INTERVAL);
        // Holds the store only during a pass, so dropping the last
        // handle stops the thread.
        let Some(db) = db.upgrade() else {
            return;
        };
        let store = Store { db };
        match store.prune_expired(now_secs()) {
            Ok(deleted) => {
                failing = false;
                if deleted > 0 {
                    tracing::debug!(deleted, "deleted expired replies and kv entries");
                }
            }
            Err(err) if !failing => {
                failing = true;
                tracing::warn!(error = %err, "failed to delete expired replies and kv entries; retrying every second");
            }
            Err(_) => {}
        }
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

#[cfg(test)]
mod tests {
    use crate::store::{Store, StoreError, StoredReply};

    #[test]
    fn prune_deletes_every_expired_row() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        let reply = StoredReply {
            content_type: "text/xml".to_owned(),
            body: b"<xml/>".to_vec(),
        };
        // More expired rows than one chunk, and one live row of each table.
        for index in 0..450 {
            store.reply_put(&format!("old{index}"), &reply, 100)?;
            store.kv_set("demo", "p", &format!("old{index}"), b"1", Some(100))?;
        }
        store.reply_put("live", &reply, 500)?;
        store.kv_set("demo", "p", "live", b"1", Some(500))?;
        store.kv_set("demo", "p", "forever", b"1", None)?;

        assert_eq!(store.prune_expired(100)?, 900);
        assert_eq!(store.prune_expired(100)?, 0);
        assert_eq!(store.reply_get("live", 100)?, Some(reply));
        assert_eq!(store.kv_get("demo", "p", "live", 100)?, Some(b"1".to_vec()));
        assert_eq!(
            store.kv_get("demo", "p", "forever", 100)?,
            Some(b"1".to_vec())
        );
        Ok(())
    }

    #[test]
    fn prune_thread_stops_with_store() {
        let store = Store::open_in_memory().expect("store");
        let db = std::sync::Arc::downgrade(&store.db);
        assert!(super::spawn(db.clone()));
        drop(store);
        std::thread::sleep(super::INTERVAL * 2);
        assert_eq!(db.strong_count(), 0);
    }
}
