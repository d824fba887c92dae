//! WAL checkpoints on a thread of their own.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its
//! threshold, while that commit holds the store's lock, and with
//! `synchronous = NORMAL` the checkpoint syncs the files to disk. Every
//! callback waiting for the lock would wait for the disk too. Instead, this
//! thread checkpoints from a second connection, without the store's lock.
//! The store's own automatic checkpoint stays on with a high threshold,
//! which bounds the WAL if this thread falls behind.
//!
//! Checkpoints are small and frequent while the WAL grows, because on
//! ext4 a checkpoint's sync stalls the store's own WAL writes for a time
//! that grows with the pages copied. We measured this with
//! `scripts/load.sh --targets w3` at about 5,000 subscribe callbacks per
//! second (2 CPUs, ext4 on a virtio disk). The p99 latency was 7.0 to
//! 8.4 ms with a checkpoint every 100 ms and 28 ms with one every second.
//! With one every 10 ms it was 2.9 to 3.6 ms, and 2.5 ms on tmpfs. While
//! nothing is written, the thread backs off to one check every
//! [`IDLE_INTERVAL`].

use std::path::Path;
use std::sync::Weak;
use std::time::Duration;

use rusqlite::Connection;

/// Time between two checkpoints while the WAL grows.
const BUSY_INTERVAL: Duration = Duration::from_millis(10);

/// Maximum time between two checks while nothing is written.
const IDLE_INTERVAL: Duration = Duration::from_millis(200);

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
    let mut interval = BUSY_INTERVAL;
    let mut last = None;
    while alive.strong_count() > 0 {
        std::thread::sleep(interval);
        // PASSIVE copies what it can without waiting for writers or
        // readers. It returns the WAL's frame count and how many of those
        // frames are in the database file.
        let result = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
            Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
        });
        match result {
            Ok(frames) => {
                failing = false;
                interval = next_interval(interval, last.replace(frames), frames);
            }
            Err(err) if !failing => {
                failing = true;
                tracing::warn!(error = %err, "WAL checkpoint failed; retrying");
            }
            Err(_) => {}
        }
    }
}

/// Returns the wait before the next checkpoint: [`BUSY_INTERVAL`] when the
/// WAL changed since the `previous` check, otherwise twice `interval` up
/// to [`IDLE_INTERVAL`]. Frames are (in the WAL, in the database file).
fn next_interval(interval: Duration, previous: Option<(i64, i64)>, frames: (i64, i64)) -> Duration {
    if previous == Some(frames) {
        (interval * 2).min(IDLE_INTERVAL)
    } else {
        BUSY_INTERVAL
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn interval_backs_off_while_idle() {
        let ten = BUSY_INTERVAL;
        assert_eq!(next_interval(ten, None, (0, 0)), ten);
        assert_eq!(next_interval(ten, Some((0, 0)), (0, 0)), ten * 2);
        assert_eq!(next_interval(ten * 16, Some((4, 4)), (4, 4)), IDLE_INTERVAL);
        assert_eq!(next_interval(IDLE_INTERVAL, Some((4, 4)), (9, 4)), ten);
        assert_eq!(next_interval(IDLE_INTERVAL, Some((9, 4)), (9, 9)), ten);
    }

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
        std::thread::sleep(super::IDLE_INTERVAL * 2);
        let size = std::fs::metadata(&path).expect("database file").len();
        assert!(size >= 50_000, "database file has {size} bytes");
        drop(store);
    }
}
