//! Persistence of quota counters and of the per-follower customer-service
//! windows.

use rusqlite::{Connection, OptionalExtension, params};

use super::store::{SqliteStore, StoreError};

/// The two kinds of customer-service window a follower can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowKind {
    /// Opened by a message from the follower.
    Message,
    /// Opened by a follow, a menu click or a QR scan.
    Event,
}

impl WindowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Event => "event",
        }
    }
}

/// The outcome of taking one message from a follower's windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowSlot {
    /// A window had room and now has one message less.
    Taken,
    /// At least one window is open, but every open window is used up.
    Exhausted,
    /// No window is open.
    Closed,
}

/// Storage for call counters and customer-service windows.
pub trait QuotaStore: Send + Sync {
    /// Counts one call of `api` in each `(period, limit)` pair, unless one
    /// counter already reached its limit. Returns the index of the first
    /// full pair, in which case nothing is counted.
    fn try_count(
        &self,
        account: &str,
        api: &str,
        periods: &[(String, u64)],
    ) -> Result<Option<usize>, StoreError>;

    /// Raises the counter of `api` in `period` to at least `count`.
    fn raise_count(
        &self,
        account: &str,
        api: &str,
        period: &str,
        count: u64,
    ) -> Result<(), StoreError>;

    /// Returns every `(api, count)` counted in `period`.
    fn counts(&self, account: &str, period: &str) -> Result<Vec<(String, u64)>, StoreError>;

    /// Opens (or reopens) the follower's window of `kind` with `allowance`
    /// messages until `expires_at_ms`.
    fn open_window(
        &self,
        account: &str,
        openid: &str,
        kind: WindowKind,
        expires_at_ms: i64,
        allowance: u32,
    ) -> Result<(), StoreError>;

    /// Takes one message from the open window that expires first and still
    /// has room.
    fn take_window_slot(
        &self,
        account: &str,
        openid: &str,
        now_ms: i64,
    ) -> Result<WindowSlot, StoreError>;

    /// Closes every window of the follower.
    fn close_windows(&self, account: &str, openid: &str) -> Result<(), StoreError>;

    /// Sets the room of every window of the follower to zero.
    fn exhaust_windows(&self, account: &str, openid: &str) -> Result<(), StoreError>;
}

impl QuotaStore for SqliteStore {
    fn try_count(
        &self,
        account: &str,
        api: &str,
        periods: &[(String, u64)],
    ) -> Result<Option<usize>, StoreError> {
        let mut full = None;
        self.atomic(|tx| {
            full = count_call(tx, account, api, periods)?;
            Ok(())
        })?;
        Ok(full)
    }

    fn raise_count(
        &self,
        account: &str,
        api: &str,
        period: &str,
        count: u64,
    ) -> Result<(), StoreError> {
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        self.conn().execute(
            "INSERT INTO wechat_quota_counts (account, api, period, count)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (account, api, period) DO UPDATE SET count = MAX(count, excluded.count)",
            params![account, api, period, count],
        )?;
        Ok(())
    }

    fn counts(&self, account: &str, period: &str) -> Result<Vec<(String, u64)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT api, count FROM wechat_quota_counts
             WHERE account = ?1 AND period = ?2 ORDER BY api",
        )?;
        let rows = stmt
            .query_map(params![account, period], |row| {
                let count: i64 = row.get(1)?;
                Ok((row.get(0)?, u64::try_from(count).unwrap_or(0)))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn open_window(
        &self,
        account: &str,
        openid: &str,
        kind: WindowKind,
        expires_at_ms: i64,
        allowance: u32,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO wechat_reply_windows (account, openid, kind, expires_at_ms, remaining)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (account, openid, kind) DO UPDATE SET
                 expires_at_ms = excluded.expires_at_ms, remaining = excluded.remaining",
            params![account, openid, kind.as_str(), expires_at_ms, allowance],
        )?;
        Ok(())
    }

    fn take_window_slot(
        &self,
        account: &str,
        openid: &str,
        now_ms: i64,
    ) -> Result<WindowSlot, StoreError> {
        let mut slot = WindowSlot::Closed;
        self.atomic(|tx| {
            slot = take_slot(tx, account, openid, now_ms)?;
            Ok(())
        })?;
        Ok(slot)
    }

    fn close_windows(&self, account: &str, openid: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "DELETE FROM wechat_reply_windows WHERE account = ?1 AND openid = ?2",
            params![account, openid],
        )?;
        Ok(())
    }

    fn exhaust_windows(&self, account: &str, openid: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE wechat_reply_windows SET remaining = 0 WHERE account = ?1 AND openid = ?2",
            params![account, openid],
        )?;
        Ok(())
    }
}

/// Counts one call of `api` in each period unless one counter is full;
/// returns the index of the first full period.
fn count_call(
    tx: &Connection,
    account: &str,
    api: &str,
    periods: &[(String, u64)],
) -> rusqlite::Result<Option<usize>> {
    for (index, (period, limit)) in periods.iter().enumerate() {
        let count: i64 = tx
            .query_row(
                "SELECT count FROM wechat_quota_counts
                 WHERE account = ?1 AND api = ?2 AND period = ?3",
                params![account, api, period],
                |row| row.get(0),
            )
            .optional()?
            .unwrap_or(0);
        if u64::try_from(count).unwrap_or(0) >= *limit {
            return Ok(Some(index));
        }
    }
    for (period, _) in periods {
        tx.execute(
            "INSERT INTO wechat_quota_counts (account, api, period, count)
             VALUES (?1, ?2, ?3, 1)
             ON CONFLICT (account, api, period) DO UPDATE SET count = count + 1",
            params![account, api, period],
        )?;
        // Counters of earlier days or minutes of the same kind are done.
        let kind_prefix = period.split(':').next().unwrap_or_default();
        tx.execute(
            "DELETE FROM wechat_quota_counts WHERE account = ?1 AND api = ?2
             AND period LIKE ?3 || ':%' AND period <> ?4",
            params![account, api, kind_prefix, period],
        )?;
    }
    Ok(None)
}

/// Takes one message from the open window that expires first and still
/// has room.
fn take_slot(
    tx: &Connection,
    account: &str,
    openid: &str,
    now_ms: i64,
) -> rusqlite::Result<WindowSlot> {
    let open: i64 = tx.query_row(
        "SELECT COUNT(*) FROM wechat_reply_windows
         WHERE account = ?1 AND openid = ?2 AND expires_at_ms > ?3",
        params![account, openid, now_ms],
        |row| row.get(0),
    )?;
    if open == 0 {
        return Ok(WindowSlot::Closed);
    }
    let kind: Option<String> = tx
        .query_row(
            "SELECT kind FROM wechat_reply_windows
             WHERE account = ?1 AND openid = ?2 AND expires_at_ms > ?3 AND remaining > 0
             ORDER BY expires_at_ms LIMIT 1",
            params![account, openid, now_ms],
            |row| row.get(0),
        )
        .optional()?;
    let Some(kind) = kind else {
        return Ok(WindowSlot::Exhausted);
    };
    tx.execute(
        "UPDATE wechat_reply_windows SET remaining = remaining - 1
         WHERE account = ?1 AND openid = ?2 AND kind = ?3",
        params![account, openid, kind],
    )?;
    Ok(WindowSlot::Taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn try_count_stops_at_limit() -> Result<(), StoreError> {
        let store = SqliteStore::open_in_memory()?;
        let periods = [("d:1".to_owned(), 2), ("m:7".to_owned(), 5)];
        assert_eq!(store.try_count("main", "/a", &periods)?, None);
        assert_eq!(store.try_count("main", "/a", &periods)?, None);
        assert_eq!(store.try_count("main", "/a", &periods)?, Some(0));
        assert_eq!(store.counts("main", "d:1")?, vec![("/a".to_owned(), 2)]);
        assert_eq!(store.counts("main", "m:7")?, vec![("/a".to_owned(), 2)]);
        Ok(())
    }

    #[test]
    fn new_day_drops_old_counter() -> Result<(), StoreError> {
        let store = SqliteStore::open_in_memory()?;
        store.try_count("main", "/a", &[("d:1".to_owned(), 9)])?;
        store.try_count("main", "/a", &[("d:2".to_owned(), 9)])?;
        assert_eq!(store.counts("main", "d:1")?, vec![]);
        assert_eq!(store.counts("main", "d:2")?, vec![("/a".to_owned(), 1)]);
        Ok(())
    }

    #[test]
    fn window_slots_run_out() -> Result<(), StoreError> {
        let store = SqliteStore::open_in_memory()?;
        assert_eq!(store.take_window_slot("main", "o1", 0)?, WindowSlot::Closed);
        store.open_window("main", "o1", WindowKind::Event, 60_000, 2)?;
        assert_eq!(store.take_window_slot("main", "o1", 0)?, WindowSlot::Taken);
        assert_eq!(store.take_window_slot("main", "o1", 0)?, WindowSlot::Taken);
        assert_eq!(
            store.take_window_slot("main", "o1", 0)?,
            WindowSlot::Exhausted
        );
        assert_eq!(
            store.take_window_slot("main", "o1", 60_000)?,
            WindowSlot::Closed
        );
        Ok(())
    }

    #[test]
    fn try_count_waits_for_other_writer() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("quota.db");
        let store = SqliteStore::open(&path)?;
        let (began, wait) = std::sync::mpsc::channel();
        let writer = std::thread::spawn(move || -> Result<(), rusqlite::Error> {
            let conn = Connection::open(&path)?;
            conn.execute_batch(
                "BEGIN IMMEDIATE;
                 INSERT INTO wechat_quota_counts VALUES ('main', '/a', 'd:1', 1);",
            )?;
            let _ = began.send(());
            std::thread::sleep(std::time::Duration::from_millis(300));
            conn.execute_batch("COMMIT")
        });
        wait.recv().expect("writer began");

        // A read-then-write transaction that started before the other
        // writer's commit could not upgrade to a write. This one waits
        // for the lock, so it counts on top of the committed row.
        let periods = [("d:1".to_owned(), 9)];
        assert_eq!(store.try_count("main", "/a", &periods)?, None);
        writer.join().expect("writer thread")?;
        assert_eq!(store.counts("main", "d:1")?, vec![("/a".to_owned(), 2)]);
        Ok(())
    }
}
