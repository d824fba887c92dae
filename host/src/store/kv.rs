//! Plugin key-value entries, namespaced by account and plugin.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// Reads the value of a key that has not expired. Parameters: account,
/// plugin, key and the current Unix time in seconds.
const SELECT_LIVE: &str = "SELECT value FROM kv WHERE account = ?1 AND plugin = ?2 AND key = ?3 \
     AND (expires_at IS NULL OR expires_at > ?4)";

impl Store {
    /// Returns the value under `key`, or `None` when absent or expired at `now_secs`.
    pub fn kv_get(
        &self,
        account: &str,
        plugin: &str,
        key: &str,
        now_secs: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let connection = self.lock();
        let value = connection
            .prepare_cached(SELECT_LIVE)?
            .query_row(params![account, plugin, key, now_secs as i64], |row| {
                row.get::<_, Vec<u8>>(0)
            })
            .optional()?;
        Ok(value)
    }

    /// Stores `value` under `key`; with `expires_at_secs` it expires then.
    pub fn kv_set(
        &self,
        account: &str,
        plugin: &str,
        key: &str,
        value: &[u8],
        expires_at_secs: Option<u64>,
    ) -> Result<(), StoreError> {
        let connection = self.lock();
        connection.prepare_cached("INSERT INTO kv (account, plugin, key, value, expires_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (account, plugin, key) DO UPDATE SET value = excluded.value, \
             expires_at = excluded.expires_at")?.execute(params![
                account,
                plugin,
                key,
                value,
                expires_at_secs.map(|secs| secs as i64)
            ],
        )?;
        Ok(())
    }

    /// Adds `delta` to the decimal counter under `key` in one transaction
    /// and returns the new value. An absent or expired key counts from 0
    /// and gets no expiry; a live key keeps its expiry. Returns
    /// [`KvUpdate::NotAnInteger`] or [`KvUpdate::Overflow`] and changes
    /// nothing when the value is not a decimal `i64` or the sum overflows.
    pub fn kv_increment(
        &self,
        account: &str,
        plugin: &str,
        key: &str,
        delta: i64,
        now_secs: u64,
    ) -> Result<KvUpdate, StoreError> {
        // The write lock is held before the read, so another process
        // sharing the file cannot change the value in between.
        self.lock().atomic(|transaction| {
            let current = transaction
                .prepare_cached(SELECT_LIVE)?
                .query_row(params![account, plugin, key, now_secs as i64], |row| {
                    row.get::<_, Vec<u8>>(0)
                })
                .optional()?;

            let live = current.is_some();
            let previous = match current {
                None => 0,
                Some(bytes) => match std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|t| t.parse().ok())
                {
                    Some(number) => number,
                    None => return Ok(KvUpdate::NotAnInteger),
                },
            };
            let Some(next) = i64::checked_add(previous, delta) else {
                return Ok(KvUpdate::Overflow);
            };

            let text = next.to_string();
            if live {
                transaction
                    .prepare_cached(
                        "UPDATE kv SET value = ?4 WHERE account = ?1 AND plugin = ?2 AND key = ?3",
                    )?
                    .execute(params![account, plugin, key, text.as_bytes()])?;
            } else {
                transaction
                    .prepare_cached(
                        "INSERT OR REPLACE INTO kv (account, plugin, key, value, expires_at) \
                     VALUES (?1, ?2, ?3, ?4, NULL)",
                    )?
                    .execute(params![account, plugin, key, text.as_bytes()])?;
            }
            Ok(KvUpdate::Value(next))
        })
    }

    /// Stores `value` under `key` only when the key is absent or expired
    /// at `now_secs`, in one statement. Returns true when it stored.
    pub fn kv_set_if_absent(
        &self,
        account: &str,
        plugin: &str,
        key: &str,
        value: &[u8],
        expires_at_secs: Option<u64>,
        now_secs: u64,
    ) -> Result<bool, StoreError> {
        let connection = self.lock();
        let changed = connection.prepare_cached("INSERT INTO kv (account, plugin, key, value, expires_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (account, plugin, key) DO UPDATE SET value = excluded.value, \
             expires_at = excluded.expires_at \
             WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= ?6")?.execute(params![
                account,
                plugin,
                key,
                value,
                expires_at_secs.map(|secs| secs as i64),
                now_secs as i64
            ],
        )?;
        Ok(changed == 1)
    }

    /// Returns every live entry of `plugin` in `account` whose key starts
    /// with `prefix`, sorted by key.
    pub fn kv_scan(
        &self,
        account: &str,
        plugin: &str,
        prefix: &str,
        now_secs: u64,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(
            "SELECT key, value FROM kv WHERE account = ?1 AND plugin = ?2 \
             AND substr(key, 1, length(?3)) = ?3 \
             AND (expires_at IS NULL OR expires_at > ?4) ORDER BY key",
        )?;
        let rows = statement
            .query_map(params![account, plugin, prefix, now_secs as i64], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Removes `key`; removing an absent key succeeds.
    pub fn kv_delete(&self, account: &str, plugin: &str, key: &str) -> Result<(), StoreError> {
        let connection = self.lock();
        connection
            .prepare_cached("DELETE FROM kv WHERE account = ?1 AND plugin = ?2 AND key = ?3")?
            .execute(params![account, plugin, key])?;
        Ok(())
    }
}

/// The result of [`Store::kv_increment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvUpdate {
    /// The counter's new value.
    Value(i64),
    /// The stored value is not a decimal `i64`; nothing changed.
    NotAnInteger,
    /// The sum overflows `i64`; nothing changed.
    Overflow,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_increment_counts_and_keeps_expiry() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        assert_eq!(
            store.kv_increment("demo", "p", "n", 5, 100)?,
            KvUpdate::Value(5)
        );
        assert_eq!(
            store.kv_increment("demo", "p", "n", -2, 100)?,
            KvUpdate::Value(3)
        );
        assert_eq!(store.kv_get("demo", "p", "n", 100)?, Some(b"3".to_vec()));

        store.kv_set("demo", "p", "t", b"10", Some(200))?;
        assert_eq!(
            store.kv_increment("demo", "p", "t", 1, 150)?,
            KvUpdate::Value(11)
        );
        assert_eq!(store.kv_get("demo", "p", "t", 199)?, Some(b"11".to_vec()));
        assert_eq!(store.kv_get("demo", "p", "t", 200)?, None);
        assert_eq!(
            store.kv_increment("demo", "p", "t", 1, 200)?,
            KvUpdate::Value(1)
        );
        assert_eq!(store.kv_get("demo", "p", "t", 10_000)?, Some(b"1".to_vec()));

        store.kv_set("demo", "p", "word", b"abc", None)?;
        assert_eq!(
            store.kv_increment("demo", "p", "word", 1, 0)?,
            KvUpdate::NotAnInteger
        );
        store.kv_set("demo", "p", "max", i64::MAX.to_string().as_bytes(), None)?;
        assert_eq!(
            store.kv_increment("demo", "p", "max", 1, 0)?,
            KvUpdate::Overflow
        );
        Ok(())
    }

    #[test]
    fn kv_set_if_absent_stores_once() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        assert!(store.kv_set_if_absent("demo", "p", "k", b"a", Some(150), 100)?);
        assert!(!store.kv_set_if_absent("demo", "p", "k", b"b", None, 149)?);
        assert_eq!(store.kv_get("demo", "p", "k", 149)?, Some(b"a".to_vec()));
        assert!(store.kv_set_if_absent("demo", "p", "k", b"c", None, 150)?);
        assert_eq!(store.kv_get("demo", "p", "k", 10_000)?, Some(b"c".to_vec()));
        assert!(!store.kv_set_if_absent("demo", "p", "k", b"d", None, 10_000)?);
        Ok(())
    }

    #[test]
    fn kv_scan_lists_prefix() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        store.kv_set("demo", "p", "count/b", b"2", None)?;
        store.kv_set("demo", "p", "count/a", b"1", None)?;
        store.kv_set("demo", "p", "count/old", b"9", Some(50))?;
        store.kv_set("demo", "p", "other", b"3", None)?;
        store.kv_set("demo", "q", "count/c", b"4", None)?;
        let rows = store.kv_scan("demo", "p", "count/", 100)?;
        assert_eq!(
            rows,
            vec![
                ("count/a".to_owned(), b"1".to_vec()),
                ("count/b".to_owned(), b"2".to_vec())
            ]
        );
        Ok(())
    }

    #[test]
    fn kv_round_trip_and_expiry() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        store.kv_set("demo", "keyword", "k", b"v1", None)?;
        assert_eq!(
            store.kv_get("demo", "keyword", "k", 100)?,
            Some(b"v1".to_vec())
        );
        assert_eq!(store.kv_get("demo", "other", "k", 100)?, None);
        assert_eq!(store.kv_get("other", "keyword", "k", 100)?, None);

        store.kv_set("demo", "keyword", "k", b"v2", Some(150))?;
        assert_eq!(
            store.kv_get("demo", "keyword", "k", 149)?,
            Some(b"v2".to_vec())
        );
        assert_eq!(store.kv_get("demo", "keyword", "k", 150)?, None);

        store.kv_delete("demo", "keyword", "k")?;
        store.kv_delete("demo", "keyword", "absent")?;
        assert_eq!(store.kv_get("demo", "keyword", "k", 0)?, None);
        Ok(())
    }
}
