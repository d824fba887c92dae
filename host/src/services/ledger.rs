//! The follower ledger: per account and openid, the follows, unfollows
//! and QR scans the host has seen, recorded once per callback.

use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::{OptionalExtension, params};

use crate::protocol::message::{Event, Inbound, Payload};
use crate::store::{Store, StoreError};

/// Tables of the ledger, created with the store.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS followers (
    account           TEXT    NOT NULL,
    openid            TEXT    NOT NULL,
    subscribed        INTEGER NOT NULL,
    first_follow_at   INTEGER,
    last_follow_at    INTEGER,
    last_unfollow_at  INTEGER,
    follow_count      INTEGER NOT NULL DEFAULT 0,
    unfollow_count    INTEGER NOT NULL DEFAULT 0,
    scan_count        INTEGER NOT NULL DEFAULT 0,
    first_scene       TEXT,
    last_scene        TEXT,
    unionid           TEXT,
    PRIMARY KEY (account, openid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS follower_events (
    dedupe_key TEXT    PRIMARY KEY,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS follower_events_expires_at ON follower_events (expires_at);
";

/// How long the key of a recorded callback is kept, in seconds. WeChat
/// retries within about 15 s; a day also covers a host that was down
/// when the retries arrived.
const EVENT_KEY_TTL_SECS: u64 = 24 * 60 * 60;

/// Seconds between two deletions of expired callback keys. The deletion
/// scans the expiry index, so it runs at most this often, not in every
/// recording's transaction.
const PRUNE_INTERVAL_SECS: u64 = 60;

/// Returns true, once per [`PRUNE_INTERVAL_SECS`] in this process, when
/// the expired callback keys should be deleted.
fn prune_due(now_secs: u64) -> bool {
    static LAST_PRUNE: AtomicU64 = AtomicU64::new(0);
    let last = LAST_PRUNE.load(Ordering::Relaxed);
    now_secs >= last + PRUNE_INTERVAL_SECS
        && LAST_PRUNE
            .compare_exchange(last, now_secs, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
}

/// The ledger record of one follower of one account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Follower {
    pub subscribed: bool,
    /// `CreateTime` of the first recorded follow, in Unix seconds.
    pub first_follow_at: Option<u64>,
    pub last_follow_at: Option<u64>,
    pub last_unfollow_at: Option<u64>,
    pub follow_count: u32,
    pub unfollow_count: u32,
    pub scan_count: u32,
    /// The QR scene of the first follow.
    pub first_scene: Option<String>,
    /// The QR scene of the latest follow.
    pub last_scene: Option<String>,
    pub unionid: Option<String>,
}

/// A callback that changes the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerEvent {
    /// A follow, with the QR scene when it came through a parametric code.
    Follow {
        scene: Option<String>,
    },
    Unfollow,
    /// A parametric QR code scanned while following.
    Scan,
}

impl LedgerEvent {
    /// Returns the ledger event of `inbound`, or none for other callbacks.
    pub fn of(inbound: &Inbound) -> Option<LedgerEvent> {
        match &inbound.payload {
            Payload::Event(Event::Subscribe { scene, .. }) => Some(LedgerEvent::Follow {
                scene: scene.clone(),
            }),
            Payload::Event(Event::Unsubscribe) => Some(LedgerEvent::Unfollow),
            Payload::Event(Event::Scan { .. }) => Some(LedgerEvent::Scan),
            _ => None,
        }
    }
}

/// Returns the statement that applies `event` to a follower row and
/// creates the row on the first event. Parameters: account and openid, then the
/// event time for a follow or unfollow, then the QR scene for a follow.
fn upsert_statement(event: &LedgerEvent) -> &'static str {
    match event {
        LedgerEvent::Follow { .. } => {
            "INSERT INTO followers (account, openid, subscribed, first_follow_at, \
             last_follow_at, follow_count, first_scene, last_scene) \
             VALUES (?1, ?2, 1, ?3, ?3, 1, ?4, ?4) \
             ON CONFLICT (account, openid) DO UPDATE SET subscribed = 1, \
             first_follow_at = COALESCE(first_follow_at, excluded.first_follow_at), \
             last_follow_at = excluded.last_follow_at, \
             first_scene = CASE WHEN follow_count = 0 THEN excluded.first_scene \
             ELSE first_scene END, \
             last_scene = excluded.last_scene, follow_count = follow_count + 1"
        }
        LedgerEvent::Unfollow => {
            "INSERT INTO followers (account, openid, subscribed, last_unfollow_at, \
             unfollow_count) VALUES (?1, ?2, 0, ?3, 1) \
             ON CONFLICT (account, openid) DO UPDATE SET subscribed = 0, \
             last_unfollow_at = excluded.last_unfollow_at, \
             unfollow_count = unfollow_count + 1"
        }
        LedgerEvent::Scan => {
            "INSERT INTO followers (account, openid, subscribed, scan_count) \
             VALUES (?1, ?2, 1, 1) \
             ON CONFLICT (account, openid) DO UPDATE SET subscribed = 1, \
             scan_count = scan_count + 1"
        }
    }
}

impl Store {
    /// Records `event` of `openid` at `at_secs` unless the callback
    /// `dedupe_key` was recorded before. The key and the follower row
    /// change in one transaction, so a retried callback never counts
    /// twice, also across a restart. Returns true when this call recorded.
    pub fn ledger_record(
        &self,
        account: &str,
        openid: &str,
        dedupe_key: &str,
        event: &LedgerEvent,
        at_secs: u64,
        now_secs: u64,
    ) -> Result<bool, StoreError> {
        self.lock().atomic(|transaction| {
            if prune_due(now_secs) {
                transaction
                    .prepare_cached("DELETE FROM follower_events WHERE expires_at <= ?1")?
                    .execute([now_secs as i64])?;
            }
            // A key whose row expired but was not pruned yet counts as absent.
            let inserted = transaction
                .prepare_cached(
                    "INSERT INTO follower_events (dedupe_key, expires_at) VALUES (?1, ?2) \
                     ON CONFLICT (dedupe_key) DO UPDATE SET expires_at = excluded.expires_at \
                     WHERE follower_events.expires_at <= ?3",
                )?
                .execute(params![
                    dedupe_key,
                    (now_secs + EVENT_KEY_TTL_SECS) as i64,
                    now_secs as i64
                ])?;
            if inserted == 0 {
                return Ok(false);
            }
            let mut upsert = transaction.prepare_cached(upsert_statement(event))?;
            let at = at_secs as i64;
            match event {
                LedgerEvent::Follow { scene } => {
                    upsert.execute(params![account, openid, at, scene])
                }
                LedgerEvent::Unfollow => upsert.execute(params![account, openid, at]),
                LedgerEvent::Scan => upsert.execute(params![account, openid]),
            }?;
            Ok(true)
        })
    }

    /// Returns the ledger record of `openid`, if any.
    pub fn ledger_get(&self, account: &str, openid: &str) -> Result<Option<Follower>, StoreError> {
        let connection = self.lock();
        let follower = connection
            .prepare_cached(
                "SELECT subscribed, first_follow_at, last_follow_at, last_unfollow_at, \
                 follow_count, unfollow_count, scan_count, first_scene, last_scene, unionid \
                 FROM followers WHERE account = ?1 AND openid = ?2",
            )?
            .query_row(params![account, openid], |row| {
                let time = |index: usize| -> rusqlite::Result<Option<u64>> {
                    Ok(row.get::<_, Option<i64>>(index)?.map(|secs| secs as u64))
                };
                Ok(Follower {
                    subscribed: row.get::<_, i64>(0)? != 0,
                    first_follow_at: time(1)?,
                    last_follow_at: time(2)?,
                    last_unfollow_at: time(3)?,
                    follow_count: row.get(4)?,
                    unfollow_count: row.get(5)?,
                    scan_count: row.get(6)?,
                    first_scene: row.get(7)?,
                    last_scene: row.get(8)?,
                    unionid: row.get(9)?,
                })
            })
            .optional()?;
        Ok(follower)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn follow(scene: Option<&str>) -> LedgerEvent {
        LedgerEvent::Follow {
            scene: scene.map(str::to_owned),
        }
    }

    #[test]
    fn ledger_counts_each_callback_once() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        let first = follow(Some("qrscene_abc"));
        assert!(store.ledger_record("demo", "o1", "k1", &first, 100, 100)?);
        assert!(!store.ledger_record("demo", "o1", "k1", &first, 100, 101)?);
        assert!(store.ledger_record("demo", "o1", "k2", &LedgerEvent::Unfollow, 200, 200)?);
        assert!(store.ledger_record("demo", "o1", "k3", &follow(Some("7")), 300, 300)?);
        assert!(store.ledger_record("demo", "o1", "k4", &LedgerEvent::Scan, 400, 400)?);

        let record = store.ledger_get("demo", "o1")?.expect("recorded");
        assert_eq!(
            record,
            Follower {
                subscribed: true,
                first_follow_at: Some(100),
                last_follow_at: Some(300),
                last_unfollow_at: Some(200),
                follow_count: 2,
                unfollow_count: 1,
                scan_count: 1,
                first_scene: Some("qrscene_abc".to_owned()),
                last_scene: Some("7".to_owned()),
                unionid: None,
            }
        );
        assert_eq!(store.ledger_get("other", "o1")?, None);
        Ok(())
    }

    #[test]
    fn ledger_event_key_expires() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        let event = follow(None);
        assert!(store.ledger_record("demo", "o1", "k1", &event, 100, 100)?);
        let later = 100 + EVENT_KEY_TTL_SECS;
        assert!(store.ledger_record("demo", "o1", "k1", &event, 100, later)?);
        let record = store.ledger_get("demo", "o1")?.expect("recorded");
        assert_eq!(record.follow_count, 2);
        assert_eq!(record.first_scene, None);
        Ok(())
    }
}
