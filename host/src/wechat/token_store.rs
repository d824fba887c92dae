//! Persistence of access tokens and of the forced-refresh history, so a
//! restart reuses the token and processes sharing a store share one token.

use rusqlite::{OptionalExtension, params};

use super::store::{SqliteStore, StoreError};
use super::token::TokenMode;

/// An access token as stored, with the times it was fetched and expires.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub token: String,
    pub fetched_at_ms: i64,
    /// When WeChat stops accepting the token: fetch time plus `expires_in`.
    pub expires_at_ms: i64,
}

impl std::fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredToken")
            .field("token", &"<redacted>")
            .field("fetched_at_ms", &self.fetched_at_ms)
            .field("expires_at_ms", &self.expires_at_ms)
            .finish()
    }
}

/// Storage for the token of each (account, mode) pair.
pub trait TokenStore: Send + Sync {
    /// Returns the stored token, if any.
    fn load_token(&self, account: &str, mode: TokenMode)
    -> Result<Option<StoredToken>, StoreError>;

    /// Stores `token`, replacing the previous one.
    fn save_token(
        &self,
        account: &str,
        mode: TokenMode,
        token: &StoredToken,
    ) -> Result<(), StoreError>;

    /// Deletes the stored token only if it is still `failed`. Returns true
    /// when it deleted it.
    fn clear_token_if(
        &self,
        account: &str,
        mode: TokenMode,
        failed: &str,
    ) -> Result<bool, StoreError>;

    /// Takes the refresh lease of (account, mode) for `holder` until
    /// `now_ms + ttl_ms`, unless another holder has an unexpired lease.
    /// Returns true when `holder` now holds the lease.
    fn try_lease(
        &self,
        account: &str,
        mode: TokenMode,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Gives up the lease if `holder` holds it.
    fn release_lease(&self, account: &str, mode: TokenMode, holder: &str)
    -> Result<(), StoreError>;

    /// Returns the times of forced refreshes of `account` at or after
    /// `since_ms`, oldest first.
    fn force_refreshes_since(&self, account: &str, since_ms: i64) -> Result<Vec<i64>, StoreError>;

    /// Records a forced refresh of `account` at `at_ms`.
    fn record_force_refresh(&self, account: &str, at_ms: i64) -> Result<(), StoreError>;
}

impl TokenStore for SqliteStore {
    fn load_token(
        &self,
        account: &str,
        mode: TokenMode,
    ) -> Result<Option<StoredToken>, StoreError> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT token, fetched_at_ms, expires_at_ms FROM wechat_tokens
                 WHERE account = ?1 AND mode = ?2",
                params![account, mode.as_str()],
                |row| {
                    Ok(StoredToken {
                        token: row.get(0)?,
                        fetched_at_ms: row.get(1)?,
                        expires_at_ms: row.get(2)?,
                    })
                },
            )
            .optional()?;
        Ok(row)
    }

    fn save_token(
        &self,
        account: &str,
        mode: TokenMode,
        token: &StoredToken,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO wechat_tokens (account, mode, token, fetched_at_ms, expires_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (account, mode) DO UPDATE SET token = excluded.token,
                 fetched_at_ms = excluded.fetched_at_ms, expires_at_ms = excluded.expires_at_ms",
            params![
                account,
                mode.as_str(),
                token.token,
                token.fetched_at_ms,
                token.expires_at_ms
            ],
        )?;
        Ok(())
    }

    fn clear_token_if(
        &self,
        account: &str,
        mode: TokenMode,
        failed: &str,
    ) -> Result<bool, StoreError> {
        let deleted = self.conn().execute(
            "DELETE FROM wechat_tokens WHERE account = ?1 AND mode = ?2 AND token = ?3",
            params![account, mode.as_str(), failed],
        )?;
        Ok(deleted > 0)
    }

    fn try_lease(
        &self,
        account: &str,
        mode: TokenMode,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool, StoreError> {
        // One statement, so two processes cannot both take the lease.
        let changed = self.conn().execute(
            "INSERT INTO wechat_token_leases (account, mode, holder, until_ms)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (account, mode) DO UPDATE SET holder = excluded.holder,
                 until_ms = excluded.until_ms
             WHERE wechat_token_leases.until_ms <= ?5 OR wechat_token_leases.holder = ?3",
            params![account, mode.as_str(), holder, now_ms + ttl_ms, now_ms],
        )?;
        Ok(changed > 0)
    }

    fn release_lease(
        &self,
        account: &str,
        mode: TokenMode,
        holder: &str,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "DELETE FROM wechat_token_leases WHERE account = ?1 AND mode = ?2 AND holder = ?3",
            params![account, mode.as_str(), holder],
        )?;
        Ok(())
    }

    fn force_refreshes_since(&self, account: &str, since_ms: i64) -> Result<Vec<i64>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT at_ms FROM wechat_force_refreshes
             WHERE account = ?1 AND at_ms >= ?2 ORDER BY at_ms",
        )?;
        let times = stmt
            .query_map(params![account, since_ms], |row| row.get(0))?
            .collect::<Result<Vec<i64>, _>>()?;
        Ok(times)
    }

    fn record_force_refresh(&self, account: &str, at_ms: i64) -> Result<(), StoreError> {
        self.atomic(|conn| {
            conn.execute(
                "INSERT INTO wechat_force_refreshes (account, at_ms) VALUES (?1, ?2)",
                params![account, at_ms],
            )?;
            // History older than two days no longer counts against any budget.
            conn.execute(
                "DELETE FROM wechat_force_refreshes WHERE account = ?1 AND at_ms < ?2",
                params![account, at_ms - 2 * 86_400_000],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(value: &str) -> StoredToken {
        StoredToken {
            token: value.to_owned(),
            fetched_at_ms: 1_000,
            expires_at_ms: 7_201_000,
        }
    }

    #[test]
    fn clear_token_if_compares() -> Result<(), StoreError> {
        let store = SqliteStore::open_in_memory()?;
        store.save_token("main", TokenMode::Stable, &token("T2"))?;
        assert!(!store.clear_token_if("main", TokenMode::Stable, "T1")?);
        assert_eq!(
            store.load_token("main", TokenMode::Stable)?,
            Some(token("T2"))
        );
        assert!(store.clear_token_if("main", TokenMode::Stable, "T2")?);
        assert_eq!(store.load_token("main", TokenMode::Stable)?, None);
        Ok(())
    }

    #[test]
    fn modes_are_separate() -> Result<(), StoreError> {
        let store = SqliteStore::open_in_memory()?;
        store.save_token("main", TokenMode::Stable, &token("S"))?;
        assert_eq!(store.load_token("main", TokenMode::Classic)?, None);
        Ok(())
    }

    #[test]
    fn lease_excludes_other_holder() -> Result<(), StoreError> {
        let store = SqliteStore::open_in_memory()?;
        assert!(store.try_lease("main", TokenMode::Classic, "a", 0, 1_000)?);
        assert!(!store.try_lease("main", TokenMode::Classic, "b", 500, 1_000)?);
        assert!(store.try_lease("main", TokenMode::Classic, "b", 1_000, 1_000)?);
        store.release_lease("main", TokenMode::Classic, "b")?;
        assert!(store.try_lease("main", TokenMode::Classic, "a", 1_100, 1_000)?);
        Ok(())
    }
}
