//! Deduplication of WeChat's retries.
//!
//! WeChat re-posts a callback when it gets no answer within 5 s, up to three
//! times. The first delivery claims the callback's key and runs the plugins.
//! A retry that arrives while that run is in flight waits for it and gets the
//! identical answer. A retry after it finished gets the stored answer, also
//! after a restart, because finished answers are kept in the store.

mod recent;
mod seen;
mod writer;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use recent::Recent;
use seen::SeenKeys;
use writer::{PendingReply, ReplyWriter};

use crate::outbox::{NewEntry, now_ms};
use crate::protocol::message::{Inbound, Payload};
use crate::store::{Store, StoreError, StoredReply};

/// Returns the key that identifies one callback across WeChat's retries.
///
/// User messages use `FromUserName` + `MsgId`, because `MsgId` alone has
/// collided across followers. Events, and messages with an empty `MsgId`,
/// use `FromUserName` + `CreateTime` + `Event` + `EventKey`, because several
/// events of one follower can share a second.
pub fn dedupe_key(account: &str, inbound: &Inbound) -> String {
    match (&inbound.payload, inbound.msg_id) {
        (Payload::Message(_), Some(msg_id)) => {
            format!("{account}\u{1f}{}\u{1f}m{msg_id}", inbound.from_user)
        }
        _ => format!(
            "{account}\u{1f}{}\u{1f}e{}\u{1f}{}\u{1f}{}",
            inbound.from_user,
            inbound.create_time,
            inbound.event.as_deref().unwrap_or(&inbound.msg_type),
            inbound.event_key.as_deref().unwrap_or("")
        ),
    }
}

type Slot = watch::Receiver<Option<StoredReply>>;

/// The outcome of [`Deduplicator::claim`].
pub enum Claim {
    /// This delivery is the first: run the plugins, then call
    /// [`ClaimGuard::finish`].
    First(ClaimGuard),
    /// The first delivery is still running; [`Claim::wait`] returns its answer.
    InFlight(Slot),
    /// The callback was answered before; here is that answer.
    Finished(StoredReply),
}

impl Claim {
    /// Waits up to `budget` for the in-flight answer. Returns `None` on
    /// timeout, so the caller answers `success`.
    pub async fn wait(mut slot: Slot, budget: Duration) -> Option<StoredReply> {
        let waited = tokio::time::timeout(budget, slot.wait_for(Option::is_some)).await;
        match waited {
            Ok(Ok(reply)) => reply.clone(),
            _ => None,
        }
    }
}

/// How long finished answers stay in memory once they are in the store.
/// Later retries are answered from the store.
const MEMORY_RETENTION_SECS: u64 = 5;

/// Tracks callbacks in flight and finished.
///
/// Finished answers live in memory until the store has them, then for
/// [`MEMORY_RETENTION_SECS`] or until [`recent::MAX_RECENT`] newer ones
/// push them out, and in the store for the configured TTL. The store is
/// read only on a memory miss
/// and written behind the callback, except for answers whose outbox
/// entries must be durable before the callback is answered.
#[derive(Clone)]
pub struct Deduplicator {
    in_flight: Arc<Mutex<HashMap<String, Slot>>>,
    recent: Arc<Mutex<Recent>>,
    seen: Arc<Mutex<SeenKeys>>,
    writer: Arc<ReplyWriter>,
    store: Store,
    ttl_secs: u64,
}

impl Deduplicator {
    /// Creates a deduplicator that keeps finished answers for `ttl_secs`.
    /// Answers already in the store stay findable.
    pub fn new(store: Store, ttl_secs: u64) -> Result<Deduplicator, StoreError> {
        let now_secs = unix_now();
        let mut seen = SeenKeys::new(ttl_secs, now_secs);
        for key in store.reply_keys(now_secs)? {
            seen.insert(&key, now_secs);
        }
        Ok(Deduplicator {
            in_flight: Arc::default(),
            recent: Arc::default(),
            seen: Arc::new(Mutex::new(seen)),
            writer: Arc::new(ReplyWriter::start(store.clone())),
            store,
            ttl_secs,
        })
    }

    /// Claims `key` for this delivery, or reports that another delivery
    /// holds it or already answered it.
    pub fn claim(&self, key: &str, now_secs: u64) -> Result<Claim, StoreError> {
        let mut in_flight = self.lock();
        if let Some(slot) = in_flight.get(key) {
            return Ok(Claim::InFlight(slot.clone()));
        }
        if let Some(reply) = self.recent().get(key, now_secs) {
            return Ok(Claim::Finished(reply));
        }
        if self.seen().may_contain(key, now_secs)
            && let Some(reply) = self.store.reply_get(key, now_secs)?
        {
            return Ok(Claim::Finished(reply));
        }
        let (sender, receiver) = watch::channel(None);
        in_flight.insert(key.to_owned(), receiver);
        Ok(Claim::First(ClaimGuard {
            key: key.to_owned(),
            sender,
            owner: self.clone(),
            finished: false,
        }))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        self.in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn recent(&self) -> MutexGuard<'_, Recent> {
        self.recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn seen(&self) -> MutexGuard<'_, SeenKeys> {
        self.seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Keeps a finished answer in memory; `sequence` is its number at the
    /// reply writer, or 0 when it is already in the store.
    fn remember(&self, key: &str, reply: &StoredReply, now_secs: u64, sequence: u64) {
        self.seen().insert(key, now_secs);
        let retention = self.ttl_secs.min(MEMORY_RETENTION_SECS);
        let written = self.writer.written();
        self.recent().insert(
            key,
            reply.clone(),
            now_secs + retention,
            now_secs,
            sequence,
            written,
        );
    }

    /// Blocks until every finished answer so far is in the store.
    pub fn flush(&self) {
        self.writer.flush();
    }

    /// Returns the number of callbacks in flight.
    pub fn in_flight(&self) -> usize {
        self.lock().len()
    }
}

/// Held by the first delivery of a callback until it has an answer.
pub struct ClaimGuard {
    key: String,
    sender: watch::Sender<Option<StoredReply>>,
    owner: Deduplicator,
    finished: bool,
}

impl ClaimGuard {
    /// Stores the answer, hands it to waiting retries and releases the key.
    pub fn finish(mut self, reply: StoredReply, now_secs: u64) -> Result<(), StoreError> {
        self.finished = true;
        let sequence = self.owner.writer.push(PendingReply {
            key: self.key.clone(),
            reply: reply.clone(),
            expires_at: now_secs + self.owner.ttl_secs,
        });
        self.owner.remember(&self.key, &reply, now_secs, sequence);
        self.release(reply);
        Ok(())
    }

    /// Stores the answer and queues the callback's outbox entries in one
    /// transaction, hands the answer to waiting retries and releases the
    /// key. Returns how many entries were added.
    pub fn finish_with_actions(
        mut self,
        reply: StoredReply,
        now_secs: u64,
        entries: &[NewEntry],
    ) -> Result<usize, StoreError> {
        self.finished = true;
        if entries.is_empty() {
            return self.finish(reply, now_secs).map(|()| 0);
        }
        let stored = self.owner.store.finish_callback(
            &self.key,
            &reply,
            now_secs + self.owner.ttl_secs,
            entries,
            now_ms(),
        );
        self.owner.remember(&self.key, &reply, now_secs, 0);
        self.release(reply);
        stored
    }

    fn release(&mut self, reply: StoredReply) {
        // Remove the slot before notifying, so a retry that arrives after
        // the notification reads the stored answer instead of waiting.
        self.owner.lock().remove(&self.key);
        self.sender.send_replace(Some(reply));
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if !self.finished {
            // The run ended without an answer (a panic or a cancelled task).
            // Waiting retries get `success` so WeChat stops retrying.
            self.release(StoredReply {
                content_type: "text/plain; charset=utf-8".to_owned(),
                body: b"success".to_vec(),
            });
        }
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::message::{Event, Message};

    fn inbound(payload: Payload, msg_id: Option<u64>) -> Inbound {
        Inbound {
            to_user: "gh_fakeacct001".to_owned(),
            from_user: "oFAKE_user_0001".to_owned(),
            create_time: 1_700_000_000,
            msg_type: "text".to_owned(),
            msg_id,
            event: None,
            event_key: None,
            payload,
            extra: Vec::new(),
        }
    }

    fn text() -> Payload {
        Payload::Message(Message::Text {
            content: "hi".to_owned(),
            biz_msg_menu_id: None,
        })
    }

    #[test]
    fn key_uses_sender_and_msg_id() {
        let first = inbound(text(), Some(24_000_000_000_000_009));
        let mut second = first.clone();
        second.from_user = "oFAKE_user_0002".to_owned();
        assert_eq!(
            dedupe_key("demo", &first),
            "demo\u{1f}oFAKE_user_0001\u{1f}m24000000000000009"
        );
        assert_ne!(dedupe_key("demo", &first), dedupe_key("demo", &second));
    }

    #[test]
    fn key_without_msg_id_uses_event_fields() {
        let message = inbound(text(), None);
        assert_eq!(
            dedupe_key("demo", &message),
            "demo\u{1f}oFAKE_user_0001\u{1f}e1700000000\u{1f}text\u{1f}"
        );
        let mut click = inbound(
            Payload::Event(Event::Click {
                key: "K1".to_owned(),
            }),
            None,
        );
        click.msg_type = "event".to_owned();
        click.event = Some("CLICK".to_owned());
        click.event_key = Some("K1".to_owned());
        assert_eq!(
            dedupe_key("demo", &click),
            "demo\u{1f}oFAKE_user_0001\u{1f}e1700000000\u{1f}CLICK\u{1f}K1"
        );
    }

    #[tokio::test]
    async fn retry_waits_for_first_then_reads_store() -> Result<(), StoreError> {
        let dedupe = Deduplicator::new(Store::open_in_memory()?, 60)?;
        let Claim::First(guard) = dedupe.claim("k", 100)? else {
            panic!("first delivery must claim the key");
        };
        let Claim::InFlight(slot) = dedupe.claim("k", 100)? else {
            panic!("retry during the run must wait");
        };
        let reply = StoredReply {
            content_type: "application/xml".to_owned(),
            body: b"<xml/>".to_vec(),
        };
        let waiter = tokio::spawn(Claim::wait(slot, Duration::from_secs(5)));
        guard.finish(reply.clone(), 100)?;
        assert_eq!(waiter.await.ok().flatten(), Some(reply.clone()));
        dedupe.flush();

        let Claim::Finished(stored) = dedupe.claim("k", 159)? else {
            panic!("retry after the run must get the stored reply");
        };
        assert_eq!(stored, reply);
        assert!(matches!(dedupe.claim("k", 160)?, Claim::First(_)));
        Ok(())
    }

    #[tokio::test]
    async fn dropped_guard_answers_success() -> Result<(), StoreError> {
        let dedupe = Deduplicator::new(Store::open_in_memory()?, 60)?;
        let Claim::First(guard) = dedupe.claim("k", 100)? else {
            panic!("first delivery must claim the key");
        };
        let Claim::InFlight(slot) = dedupe.claim("k", 100)? else {
            panic!("retry during the run must wait");
        };
        drop(guard);
        let reply = Claim::wait(slot, Duration::from_secs(1)).await;
        assert_eq!(reply.map(|r| r.body), Some(b"success".to_vec()));
        assert_eq!(dedupe.in_flight(), 0);
        Ok(())
    }
}
