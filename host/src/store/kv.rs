//! Plugin key-value entries, namespaced by account and plugin.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

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
            .query_row(
                "SELECT value FROM kv WHERE account = ?1 AND plugin = ?2 AND key = ?3 \
                 AND (expires_at IS NULL OR expires_at > ?4)",
                params![account, plugin, key, now_secs as i64],
                |row| row.get::<_, Vec<u8>>(0),
            )
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
        connection.execute(
            "INSERT INTO kv (account, plugin, key, value, expires_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (account, plugin, key) DO UPDATE SET value = excluded.value, \
             expires_at = excluded.expires_at",
            params![
                account,
                plugin,
                key,
                value,
                expires_at_secs.map(|secs| secs as i64)
            ],
        )?;
        Ok(())
    }

    /// Removes `key`; removing an absent key succeeds.
    pub fn kv_delete(&self, account: &str, plugin: &str, key: &str) -> Result<(), StoreError> {
        let connection = self.lock();
        connection.execute(
            "DELETE FROM kv WHERE account = ?1 AND plugin = ?2 AND key = ?3",
            params![account, plugin, key],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
