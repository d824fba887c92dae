//! Finished callback replies, kept so that WeChat's retries get the same
//! answer after a restart or from another process.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// A finished HTTP answer to one callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReply {
    pub content_type: String,
    pub body: Vec<u8>,
}

/// Stores or replaces one reply. Parameters: dedupe key, content type,
/// body and expiry in Unix seconds.
pub(crate) const INSERT_REPLY: &str = "INSERT OR REPLACE INTO replies (dedupe_key, content_type, body, expires_at) \
     VALUES (?1, ?2, ?3, ?4)";

impl Store {
    /// Returns the reply stored under `dedupe_key` unless it expired by `now_secs`.
    pub fn reply_get(
        &self,
        dedupe_key: &str,
        now_secs: u64,
    ) -> Result<Option<StoredReply>, StoreError> {
        let connection = self.lock();
        let reply = connection
            .query_row(
                "SELECT content_type, body FROM replies WHERE dedupe_key = ?1 AND expires_at > ?2",
                params![dedupe_key, now_secs as i64],
                |row| {
                    Ok(StoredReply {
                        content_type: row.get(0)?,
                        body: row.get(1)?,
                    })
                },
            )
            .optional()?;
        Ok(reply)
    }

    /// Stores the reply for `dedupe_key` until `expires_at_secs`, replacing
    /// any older one.
    pub fn reply_put(
        &self,
        dedupe_key: &str,
        reply: &StoredReply,
        expires_at_secs: u64,
    ) -> Result<(), StoreError> {
        let connection = self.lock();
        connection.execute(
            INSERT_REPLY,
            params![
                dedupe_key,
                reply.content_type,
                reply.body,
                expires_at_secs as i64
            ],
        )?;
        Ok(())
    }
}

impl Store {
    /// Returns the dedupe keys of replies that have not expired by `now_secs`.
    pub fn reply_keys(&self, now_secs: u64) -> Result<Vec<String>, StoreError> {
        let connection = self.lock();
        let mut statement =
            connection.prepare("SELECT dedupe_key FROM replies WHERE expires_at > ?1")?;
        let keys = statement
            .query_map([now_secs as i64], |row| row.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(keys)
    }

    /// Stores several replies in one transaction; each row is the dedupe
    /// key, the reply and its expiry in Unix seconds.
    pub fn reply_put_batch(&self, rows: &[(&str, &StoredReply, u64)]) -> Result<(), StoreError> {
        self.lock().atomic(|transaction| {
            let mut insert = transaction.prepare_cached(INSERT_REPLY)?;
            for (key, reply, expires_at) in rows {
                insert.execute(params![
                    key,
                    reply.content_type,
                    reply.body,
                    *expires_at as i64
                ])?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_round_trip_and_prune() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        let reply = StoredReply {
            content_type: "text/plain".to_owned(),
            body: b"success".to_vec(),
        };
        store.reply_put("demo|u1|42", &reply, 200)?;
        assert_eq!(store.reply_get("demo|u1|42", 199)?, Some(reply));
        assert_eq!(store.reply_get("demo|u1|42", 200)?, None);
        assert_eq!(store.prune_expired(200)?, 1);
        Ok(())
    }
}
