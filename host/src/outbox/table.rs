//! The outbox tables in the host's SQLite store and every statement on
//! them. Each state change is one statement or one transaction, so a
//! process killed at any point leaves every entry in a defined state.
//! The store runs in WAL mode with `synchronous = NORMAL`: a committed
//! change survives a killed process, though not a power loss.
//!
//! TODO: nothing prunes `sent` entries yet, so the table grows by one row
//! per delivered action.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::store::{INSERT_REPLY, Store, StoreError, StoredReply};

/// Tables of the outbox, created with the store.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT    NOT NULL UNIQUE,
    account         TEXT    NOT NULL,
    openid          TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    action          TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    claimed_by      TEXT,
    last_errcode    INTEGER,
    last_error      TEXT,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_ms);
CREATE TABLE IF NOT EXISTS outbox_workers (
    worker_id    TEXT    PRIMARY KEY,
    heartbeat_ms INTEGER NOT NULL
);
";

/// The delivery state of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryState {
    /// Waiting for its first or next attempt.
    Pending,
    /// A worker claimed it and is calling WeChat.
    Sending,
    /// WeChat accepted it.
    Sent,
    /// It failed for good; only `wxhost outbox retry` sends it again.
    Dead,
    /// Its worker died during the attempt and the `hold` policy kept it
    /// back, because WeChat may or may not have received it. Only
    /// `wxhost outbox retry` sends it again.
    InDoubt,
}

impl EntryState {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryState::Pending => "pending",
            EntryState::Sending => "sending",
            EntryState::Sent => "sent",
            EntryState::Dead => "dead",
            EntryState::InDoubt => "in_doubt",
        }
    }

    /// Parses a state name as [`EntryState::as_str`] writes it.
    pub fn parse(text: &str) -> Option<EntryState> {
        [
            EntryState::Pending,
            EntryState::Sending,
            EntryState::Sent,
            EntryState::Dead,
            EntryState::InDoubt,
        ]
        .into_iter()
        .find(|state| state.as_str() == text)
    }
}

/// An entry to add to the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    /// Unique per action: a repeated key is ignored, so the same action is
    /// never queued twice. Template messages send it as `client_msg_id`.
    pub idempotency_key: String,
    pub account: String,
    /// The follower the action is for.
    pub openid: String,
    /// Source of the action: the name of the plugin that returned it.
    pub source: String,
    /// `Action::kind`.
    pub kind: String,
    /// The action as JSON.
    pub action: String,
}

/// Failure of a delivery attempt, as stored with the entry. The message
/// never contains the openid or the message content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptError {
    pub errcode: Option<i64>,
    pub message: String,
}

/// Entries that [`Store::outbox_reclaim`] took over from dead workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reclaimed {
    /// Entries queued again.
    pub resent: usize,
    /// Customer-service messages moved to `in_doubt`.
    pub held: usize,
}

/// An entry a worker claimed for one delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedEntry {
    pub id: i64,
    pub idempotency_key: String,
    pub account: String,
    pub openid: String,
    pub source: String,
    pub kind: String,
    pub action: String,
    /// Attempts so far, this one included.
    pub attempts: u32,
}

/// An entry as the admin API and the CLI list it: no openid and no
/// message content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntrySummary {
    pub id: i64,
    pub account: String,
    pub kind: String,
    pub source: String,
    pub state: String,
    pub attempts: u32,
    /// WeChat's errcode of the last failed attempt, when it had one.
    pub last_errcode: Option<i64>,
    pub last_error: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub next_attempt_ms: i64,
}

impl Store {
    /// Adds `entries` in one transaction; entries whose key is already in
    /// the outbox are skipped. Returns how many were added.
    pub fn outbox_insert(&self, entries: &[NewEntry], now_ms: i64) -> Result<usize, StoreError> {
        self.lock()
            .atomic(|connection| insert_entries(connection, entries, now_ms))
    }

    /// Stores the reply of a callback and queues its actions in one
    /// transaction, so the actions exist exactly when the stored reply does.
    pub fn finish_callback(
        &self,
        dedupe_key: &str,
        reply: &StoredReply,
        expires_at_secs: u64,
        entries: &[NewEntry],
        now_ms: i64,
    ) -> Result<usize, StoreError> {
        self.lock().atomic(|tx| {
            let added = insert_entries(tx, entries, now_ms)?;
            tx.execute(
                INSERT_REPLY,
                params![
                    dedupe_key,
                    reply.content_type,
                    reply.body,
                    expires_at_secs as i64
                ],
            )?;
            Ok(added)
        })
    }

    /// Claims the oldest due pending entry for `worker` and counts the
    /// attempt. The claim is committed before this returns, so it survives
    /// a crash of the caller.
    pub fn outbox_claim(
        &self,
        worker: &str,
        now_ms: i64,
    ) -> Result<Option<ClaimedEntry>, StoreError> {
        let connection = self.lock();
        let claimed = connection
            .query_row(
                "UPDATE outbox SET state = 'sending', claimed_by = ?1, attempts = attempts + 1, \
                     updated_ms = ?2 \
                 WHERE id = (SELECT id FROM outbox WHERE state = 'pending' \
                             AND next_attempt_ms <= ?2 ORDER BY id LIMIT 1) \
                 RETURNING id, idempotency_key, account, openid, source, kind, action, attempts",
                params![worker, now_ms],
                |row| {
                    Ok(ClaimedEntry {
                        id: row.get(0)?,
                        idempotency_key: row.get(1)?,
                        account: row.get(2)?,
                        openid: row.get(3)?,
                        source: row.get(4)?,
                        kind: row.get(5)?,
                        action: row.get(6)?,
                        attempts: row.get(7)?,
                    })
                },
            )
            .optional()?;
        Ok(claimed)
    }

    /// Marks an entry claimed by `worker` as sent. Returns false when
    /// another worker took the claim over.
    pub fn outbox_mark_sent(&self, id: i64, worker: &str, now_ms: i64) -> Result<bool, StoreError> {
        let changed = self.lock().execute(
            "UPDATE outbox SET state = 'sent', claimed_by = NULL, last_error = NULL, \
                 updated_ms = ?3 \
             WHERE id = ?1 AND state = 'sending' AND claimed_by = ?2",
            params![id, worker, now_ms],
        )?;
        Ok(changed == 1)
    }

    /// Returns an entry claimed by `worker` to pending, due at
    /// `next_attempt_ms`, with the error of the failed attempt.
    pub fn outbox_mark_retry(
        &self,
        id: i64,
        worker: &str,
        next_attempt_ms: i64,
        error: &AttemptError,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let changed = self.lock().execute(
            "UPDATE outbox SET state = 'pending', claimed_by = NULL, last_errcode = ?3, \
                 last_error = ?4, next_attempt_ms = ?5, updated_ms = ?6 \
             WHERE id = ?1 AND state = 'sending' AND claimed_by = ?2",
            params![
                id,
                worker,
                error.errcode,
                error.message,
                next_attempt_ms,
                now_ms
            ],
        )?;
        Ok(changed == 1)
    }

    /// Moves an entry claimed by `worker` to the dead letters.
    pub fn outbox_mark_dead(
        &self,
        id: i64,
        worker: &str,
        error: &AttemptError,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let changed = self.lock().execute(
            "UPDATE outbox SET state = 'dead', claimed_by = NULL, last_errcode = ?3, \
                 last_error = ?4, updated_ms = ?5 \
             WHERE id = ?1 AND state = 'sending' AND claimed_by = ?2",
            params![id, worker, error.errcode, error.message, now_ms],
        )?;
        Ok(changed == 1)
    }

    /// Records that `worker` is alive at `now_ms`.
    pub fn outbox_heartbeat(&self, worker: &str, now_ms: i64) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT INTO outbox_workers (worker_id, heartbeat_ms) VALUES (?1, ?2) \
             ON CONFLICT (worker_id) DO UPDATE SET heartbeat_ms = excluded.heartbeat_ms",
            params![worker, now_ms],
        )?;
        Ok(())
    }

    /// Removes `worker`'s heartbeat, at a clean stop.
    pub fn outbox_retire(&self, worker: &str) -> Result<(), StoreError> {
        self.lock().execute(
            "DELETE FROM outbox_workers WHERE worker_id = ?1",
            params![worker],
        )?;
        Ok(())
    }

    /// Takes over every entry in `sending` whose worker sent no heartbeat
    /// since `stale_before_ms`, because its process died during the
    /// attempt. Customer-service messages go to `in_doubt` when
    /// `hold_custom` is set; every other entry goes back to pending.
    pub fn outbox_reclaim(
        &self,
        stale_before_ms: i64,
        hold_custom: bool,
        now_ms: i64,
    ) -> Result<Reclaimed, StoreError> {
        const ORPHANED: &str = "state = 'sending' AND (claimed_by IS NULL \
             OR claimed_by NOT IN (SELECT worker_id FROM outbox_workers))";
        self.lock().atomic(|tx| {
            tx.execute(
                "DELETE FROM outbox_workers WHERE heartbeat_ms < ?1",
                params![stale_before_ms],
            )?;
            let held = if hold_custom {
                tx.execute(
                    &format!(
                        "UPDATE outbox SET state = 'in_doubt', claimed_by = NULL, last_errcode = NULL, \
                             last_error = 'worker stopped during the attempt; WeChat may have \
                             received it', updated_ms = ?1 \
                         WHERE kind = 'custom' AND {ORPHANED}"
                    ),
                    params![now_ms],
                )?
            } else {
                0
            };
            let resent = tx.execute(
                &format!(
                    "UPDATE outbox SET state = 'pending', claimed_by = NULL, next_attempt_ms = ?1, \
                         last_errcode = NULL, last_error = 'worker stopped during the attempt', \
                         updated_ms = ?1 \
                     WHERE {ORPHANED}"
                ),
                params![now_ms],
            )?;
            Ok(Reclaimed { resent, held })
        })
    }

    /// Lists entries, newest first, optionally only those in `state`.
    pub fn outbox_list(
        &self,
        state: Option<EntryState>,
        limit: usize,
    ) -> Result<Vec<EntrySummary>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare(
            "SELECT id, account, kind, source, state, attempts, last_errcode, last_error, \
                 created_ms, updated_ms, next_attempt_ms \
             FROM outbox WHERE (?1 IS NULL OR state = ?1) ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = statement
            .query_map(
                params![state.map(EntryState::as_str), limit as i64],
                |row| {
                    Ok(EntrySummary {
                        id: row.get(0)?,
                        account: row.get(1)?,
                        kind: row.get(2)?,
                        source: row.get(3)?,
                        state: row.get(4)?,
                        attempts: row.get(5)?,
                        last_errcode: row.get(6)?,
                        last_error: row.get(7)?,
                        created_ms: row.get(8)?,
                        updated_ms: row.get(9)?,
                        next_attempt_ms: row.get(10)?,
                    })
                },
            )?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Returns the number of entries in each state that has any.
    pub fn outbox_counts(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let connection = self.lock();
        let mut statement = connection
            .prepare("SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state")?;
        let rows = statement
            .query_map([], |row| {
                let count: i64 = row.get(1)?;
                Ok((row.get(0)?, u64::try_from(count).unwrap_or(0)))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Puts a dead or in-doubt entry back to pending with a fresh attempt
    /// count. The idempotency key stays, so a template message keeps its
    /// `client_msg_id`. Returns false when no such entry has this id.
    pub fn outbox_retry(&self, id: i64, now_ms: i64) -> Result<bool, StoreError> {
        let changed = self.lock().execute(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = ?2, \
                 updated_ms = ?2 \
             WHERE id = ?1 AND state IN ('dead', 'in_doubt')",
            params![id, now_ms],
        )?;
        Ok(changed == 1)
    }
}

fn insert_entries(tx: &Connection, entries: &[NewEntry], now_ms: i64) -> Result<usize, StoreError> {
    let mut statement = tx.prepare(
        "INSERT OR IGNORE INTO outbox (idempotency_key, account, openid, source, kind, action, \
             state, attempts, next_attempt_ms, created_ms, updated_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?7, ?7)",
    )?;
    let mut added = 0;
    for entry in entries {
        added += statement.execute(params![
            entry.idempotency_key,
            entry.account,
            entry.openid,
            entry.source,
            entry.kind,
            entry.action,
            now_ms
        ])?;
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str) -> NewEntry {
        NewEntry {
            idempotency_key: key.to_owned(),
            account: "demo".to_owned(),
            openid: "oFAKE_user_0001".to_owned(),
            source: "actions".to_owned(),
            kind: "tag".to_owned(),
            action: r#"{"kind":"tag","tag_id":134}"#.to_owned(),
        }
    }

    #[test]
    fn repeated_key_is_ignored() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        assert_eq!(store.outbox_insert(&[entry("k1"), entry("k2")], 10)?, 2);
        assert_eq!(store.outbox_insert(&[entry("k1")], 11)?, 0);
        assert_eq!(store.outbox_counts()?, vec![("pending".to_owned(), 2)]);
        Ok(())
    }

    #[test]
    fn claim_send_and_dead_transitions() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        store.outbox_insert(&[entry("k1"), entry("k2")], 10)?;
        let first = store.outbox_claim("w1", 10)?.expect("k1 is due");
        assert_eq!(first.idempotency_key, "k1");
        assert_eq!(first.attempts, 1);
        assert!(!store.outbox_mark_sent(first.id, "w2", 11)?);
        assert!(store.outbox_mark_sent(first.id, "w1", 11)?);

        let busy = AttemptError {
            errcode: Some(-1),
            message: "system busy".to_owned(),
        };
        let closed = AttemptError {
            errcode: Some(45015),
            message: "window closed".to_owned(),
        };
        let second = store.outbox_claim("w1", 12)?.expect("k2 is due");
        assert!(store.outbox_mark_retry(second.id, "w1", 100, &busy, 12)?);
        assert_eq!(store.outbox_claim("w1", 99)?, None);
        let again = store.outbox_claim("w1", 100)?.expect("k2 is due again");
        assert_eq!(again.attempts, 2);
        assert!(store.outbox_mark_dead(again.id, "w1", &closed, 101)?);

        let dead = store.outbox_list(Some(EntryState::Dead), 10)?;
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].last_errcode, Some(45015));
        assert_eq!(dead[0].last_error.as_deref(), Some("window closed"));
        assert!(store.outbox_retry(again.id, 200)?);
        assert!(!store.outbox_retry(again.id, 200)?);
        assert_eq!(store.outbox_claim("w1", 200)?.map(|e| e.attempts), Some(1));
        Ok(())
    }

    #[test]
    fn stale_worker_claims_reclaimed() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        store.outbox_insert(&[entry("k1"), entry("k2")], 0)?;
        store.outbox_heartbeat("dead-worker", 1_000)?;
        store.outbox_heartbeat("live-worker", 9_000)?;
        let lost = store.outbox_claim("dead-worker", 1_000)?.expect("k1");
        let held = store.outbox_claim("live-worker", 9_000)?.expect("k2");
        let reclaimed = store.outbox_reclaim(5_000, false, 10_000)?;
        assert_eq!(reclaimed, Reclaimed { resent: 1, held: 0 });
        let retried = store
            .outbox_claim("live-worker", 10_000)?
            .expect("k1 again");
        assert_eq!(retried.id, lost.id);
        assert_eq!(retried.attempts, 2);
        assert!(store.outbox_mark_sent(held.id, "live-worker", 10_001)?);
        Ok(())
    }

    #[test]
    fn hold_keeps_back_only_custom_messages() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        let custom = NewEntry {
            kind: "custom".to_owned(),
            action: r#"{"kind":"custom","msgtype":"text","text":{"content":"hi"}}"#.to_owned(),
            ..entry("k1")
        };
        store.outbox_insert(&[custom, entry("k2")], 0)?;
        store.outbox_heartbeat("dead-worker", 1_000)?;
        let message = store.outbox_claim("dead-worker", 1_000)?.expect("k1");
        let tag = store.outbox_claim("dead-worker", 1_000)?.expect("k2");

        let reclaimed = store.outbox_reclaim(5_000, true, 10_000)?;
        assert_eq!(reclaimed, Reclaimed { resent: 1, held: 1 });
        let in_doubt = store.outbox_list(Some(EntryState::InDoubt), 10)?;
        assert_eq!(in_doubt.len(), 1);
        assert_eq!(in_doubt[0].id, message.id);
        assert_eq!(in_doubt[0].kind, "custom");
        let resent = store
            .outbox_claim("live-worker", 10_000)?
            .expect("k2 again");
        assert_eq!(resent.id, tag.id);
        assert_eq!(store.outbox_claim("live-worker", 10_000)?, None);

        assert!(store.outbox_retry(message.id, 20_000)?);
        let retried = store
            .outbox_claim("live-worker", 20_000)?
            .expect("k1 again");
        assert_eq!(retried.id, message.id);
        assert_eq!(retried.attempts, 1);
        Ok(())
    }
}
