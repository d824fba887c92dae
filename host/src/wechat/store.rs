//! SQLite storage for access tokens, force-refresh history and quota
//! counters, shared by every process that points at the same file.
//!
//! The database runs in WAL mode with a busy timeout, so several wxhost
//! processes can read and write one file at once.

use std::ops::Deref;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

/// How long a writer waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS wechat_tokens (
    account TEXT NOT NULL,
    mode TEXT NOT NULL,
    token TEXT NOT NULL,
    fetched_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    PRIMARY KEY (account, mode)
);
CREATE TABLE IF NOT EXISTS wechat_token_leases (
    account TEXT NOT NULL,
    mode TEXT NOT NULL,
    holder TEXT NOT NULL,
    until_ms INTEGER NOT NULL,
    PRIMARY KEY (account, mode)
);
CREATE TABLE IF NOT EXISTS wechat_force_refreshes (
    account TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS wechat_quota_counts (
    account TEXT NOT NULL,
    api TEXT NOT NULL,
    period TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (account, api, period)
);
CREATE TABLE IF NOT EXISTS wechat_reply_windows (
    account TEXT NOT NULL,
    openid TEXT NOT NULL,
    kind TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    remaining INTEGER NOT NULL,
    PRIMARY KEY (account, openid, kind)
);
";

/// A failure of the SQLite store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("wechat store failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A failure of the database that a [`Database`] implementation
    /// shares, in its own words.
    #[error("wechat store failed: {0}")]
    Shared(String),
}

/// The connection behind a [`SqliteStore`]: its own, or one that the
/// store shares with other tables of the same file.
pub trait Database: Send + Sync {
    /// Locks the connection for statements that each apply on their own.
    fn lock(&self) -> Box<dyn Deref<Target = Connection> + '_>;

    /// Runs `work` so that its statements apply together or not at all.
    /// Implementations take the write lock before `work` reads, so two
    /// processes cannot both read a counter and then fail to upgrade.
    fn atomic(
        &self,
        work: &mut dyn FnMut(&Connection) -> rusqlite::Result<()>,
    ) -> Result<(), StoreError>;
}

/// A connection of the store's own.
struct OwnConnection(Mutex<Connection>);

impl OwnConnection {
    fn guard(&self) -> MutexGuard<'_, Connection> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Database for OwnConnection {
    fn lock(&self) -> Box<dyn Deref<Target = Connection> + '_> {
        Box::new(self.guard())
    }

    fn atomic(
        &self,
        work: &mut dyn FnMut(&Connection) -> rusqlite::Result<()>,
    ) -> Result<(), StoreError> {
        let mut conn = self.guard();
        // A deferred transaction that reads and then writes fails at once
        // with SQLITE_BUSY when another connection wrote in between. The
        // busy timeout applies only to an immediate transaction.
        let transaction = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        work(&transaction)?;
        transaction.commit()?;
        Ok(())
    }
}

/// The token and quota tables. Implements
/// [`TokenStore`](super::token_store::TokenStore) and
/// [`QuotaStore`](super::quota_store::QuotaStore).
///
/// NOTE: calls block the caller while one small SQLite statement runs,
/// and up to the 5 s busy timeout while another process has the write lock.
pub struct SqliteStore {
    db: Box<dyn Database>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens or creates the database at `path` in WAL mode, with a
    /// connection of its own.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Self::on(OwnConnection(Mutex::new(conn)))
    }

    /// Opens a private in-memory database.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::on(OwnConnection(Mutex::new(Connection::open_in_memory()?)))
    }

    /// Keeps the tables in `db`, creating them if needed.
    pub fn on(db: impl Database + 'static) -> Result<Self, StoreError> {
        db.lock().execute_batch(SCHEMA)?;
        Ok(Self { db: Box::new(db) })
    }

    /// Locks the connection for statements that each apply on their own.
    pub(crate) fn conn(&self) -> Box<dyn Deref<Target = Connection> + '_> {
        self.db.lock()
    }

    /// Runs `work` so that its statements apply together or not at all.
    pub(crate) fn atomic(
        &self,
        mut work: impl FnMut(&Connection) -> rusqlite::Result<()>,
    ) -> Result<(), StoreError> {
        self.db.atomic(&mut work)
    }
}
