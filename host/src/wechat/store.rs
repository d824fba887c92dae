//! SQLite storage for access tokens, force-refresh history and quota
//! counters, shared by every process that points at the same file.
//!
//! The database runs in WAL mode with a busy timeout, so several wxhost
//! processes can read and write one file at once.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::Connection;

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
#[error("wechat store failed")]
pub struct StoreError(#[from] rusqlite::Error);

/// One SQLite connection behind a mutex. Implements
/// [`TokenStore`](super::token_store::TokenStore) and
/// [`QuotaStore`](super::quota_store::QuotaStore).
///
/// NOTE: calls block the async caller while one small SQLite statement
/// runs, and up to the 5 s busy timeout while another process has the
/// write lock.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens or creates the database at `path` in WAL mode.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Self::init(conn)
    }

    /// Opens a private in-memory database.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }
}
