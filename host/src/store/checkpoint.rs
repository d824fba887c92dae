//! WAL checkpoints on a thread of their own.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its
//! threshold, while that commit holds the store's lock, and with
//! `synchronous = NORMAL` the checkpoint syncs the files to disk. Every
//! callback waiting for the lock would wait for the disk too. Instead, this
//! thread checkpoints from a second connection a few times a second,
//! without the store's lock. The store's own automatic checkpoint stays
//! on with a high threshold, which bounds the WAL if this thread falls
//! behind.

use std::path::Path;
use std::sync::Weak;
use std::time::Duration;

use rusqlite::Connection;

/// Time between two checkpoints.
const INTERVAL: Duration = Duration::from_millis(100);

/// The automatic checkpoint threshold of the store's own connection, in
/// pages (4 KiB each): 40 MiB of WAL.
pub(super) const FALLBACK_PAGES: u32 = 10_000;

/// Starts the checkpoint thread for the database at `path`. It stops
/// when `alive` has no strong reference left. Returns false when the
/// thread or its connection could not start; the store then keeps
/// SQLite's default checkpoint threshold.
pub(super) fn spawn<T: Send + Sync + 'static>(path: &Path, alive: Weak<T>) -> bool {
    let connection = match Connection::open(path) {
        Ok(connection) => connection,
        Err(err) => {
            tracing::warn!(error = %err, "failed to open the checkpoint connection; SQLite checkpoints during commits");
            return false;
        }
    };
    let _ = connection.busy_timeout(Duration::from_secs(1));
    std::thread::Builder::new()
        .name("wxhost-checkpoint".to_owned())
        .spawn(move || run(&connection, &alive))
        .inspect_err(|err| {
            tracing::warn!(error = %err, "failed to start the checkpoint thread; SQLite checkpoints during commits");
        })
        .is_ok()
}

fn run<T>(connection: &Connection, alive: &Weak<T>) {
    let mut failing = false;
    while alive.strong_count() > 0 {
        std::thread::sleep(INTERVAL);
        // PASSIVE copies what it can without waiting for writers or readers.
        let result = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        match result {
            Ok(()) => failing = false,
            Err(err) if !failing => {
                failing = true;
                tracing::warn!(error = %err, "WAL checkpoint failed; retrying");
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::store::Store;

    #[test]
    fn checkpoint_thread_fills_database_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("checkpoint.db");
        let store = Store::open(&path).expect("store");
        for index in 0..50 {
            store
                .kv_set("demo", "p", &format!("k{index}"), &[7; 1000], None)
                .expect("set");
        }
        // Commits append to the WAL; only a checkpoint writes the rows
        // into the database file, and the store's own threshold is far
        // above these few pages.
        std::thread::sleep(super::INTERVAL * 5);
        let size = std::fs::metadata(&path).expect("database file").len();
        assert!(size >= 50_000, "database file has {size} bytes");
        drop(store);
    }
}
