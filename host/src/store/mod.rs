//! The embedded SQLite store: plugin key-value data, the finished
//! replies kept for WeChat's retries, and the outbox
//! ([`crate::outbox`] owns its statements).
//!
//! One database file serves the whole host. It runs in WAL mode, so
//! several wxhost processes on one machine can share it.

mod checkpoint;
mod group;
mod kv;
mod prune;
mod replies;
mod shared;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::Connection;

use group::Db;
pub use group::Pending;
pub use kv::KvUpdate;
pub(crate) use replies::INSERT_REPLY;
pub use replies::StoredReply;

/// Why a store operation failed. The message never contains stored values.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("failed to open the database at {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database operation failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database did not commit the writes; the host log has the cause")]
    NotCommitted,
}

/// Tables keyed by text keep their rows in the primary-key B-tree
/// (`WITHOUT ROWID`), so an insert changes one B-tree, not two. Rows of
/// `replies` can be a few KiB, too large for that layout.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kv (
    account    TEXT    NOT NULL,
    plugin     TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    value      BLOB    NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (account, plugin, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS replies (
    dedupe_key   TEXT    PRIMARY KEY,
    content_type TEXT    NOT NULL,
    body         BLOB    NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS replies_expires_at ON replies (expires_at);
";

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Arc<Mutex<Db>>,
}

impl Store {
    /// Opens (and creates if needed) the database file at `path`, and
    /// starts its pruning and checkpoint threads.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let connection = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        let store = Store::init(connection)?;
        prune::spawn(Arc::downgrade(&store.db));
        if checkpoint::spawn(path, Arc::downgrade(&store.db)) {
            store.db().connection.pragma_update(
                None,
                "wal_autocheckpoint",
                checkpoint::FALLBACK_PAGES,
            )?;
        }
        Ok(store)
    }

    /// Opens a private in-memory database, for tests and tools.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Store::init(Connection::open_in_memory()?)
    }

    fn init(connection: Connection) -> Result<Store, StoreError> {
        connection.busy_timeout(Duration::from_secs(5))?;
        // Callbacks reuse a few dozen statements: dedupe, kv, ledger and
        // outbox. rusqlite's default cache holds 16.
        connection.set_prepared_statement_cache_capacity(64);
        // WAL lets readers in other processes proceed during writes;
        // NORMAL sync keeps commits durable across a process crash.
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.execute_batch(SCHEMA)?;
        connection.execute_batch(prune::SCHEMA)?;
        connection.execute_batch(crate::outbox::SCHEMA)?;
        for schema in crate::services::schema() {
            connection.execute_batch(schema)?;
        }
        Ok(Store {
            db: Arc::new(Mutex::new(Db::new(connection))),
        })
    }

    fn db(&self) -> MutexGuard<'_, Db> {
        // A panic while holding the lock cannot leave SQLite inconsistent,
        // because every statement is atomic, so a poisoned lock is reused.
        self.db
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Identifies this database handle and its clones within the process.
    fn id(&self) -> usize {
        Arc::as_ptr(&self.db) as usize
    }
}
