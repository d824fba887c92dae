//! The durable outbox: actions that plugins return (customer-service and
//! template messages, tagging), delivered to WeChat at least once.
//!
//! An action's life:
//! 1. [`prepare`] checks it against WeChat's rules ([`Action::validate`]),
//!    takes a message of the follower's customer-service window for a
//!    customer-service message, and gives it an idempotency key derived
//!    from the callback's dedupe key, the plugin and the action's position.
//!    An action that fails a check is logged with the plugin's name and
//!    dropped, so it is never sent.
//! 2. The callback handler writes the entries in the same transaction as
//!    the stored reply ([`crate::store::Store::finish_callback`]) before
//!    it responds to WeChat. The key is unique, so a callback retried by
//!    WeChat never queues an action twice.
//! 3. A [`worker`] claims an entry (state `sending`, committed before the
//!    HTTP call), calls WeChat and marks it `sent` right after. A transient
//!    failure (-1, transport, a store error, a token error after the
//!    client's own retry) returns it to `pending` with exponential backoff
//!    until `max_attempts`; any other failure (45009, 45015, 45047, 43004,
//!    40003, ...) moves it to `dead` at once. Dead entries show in
//!    `GET /admin/outbox` and `wxhost outbox list`, and
//!    `wxhost outbox retry ID` queues one again.
//! 4. Workers write a heartbeat every second. An entry left in `sending`
//!    by a worker whose heartbeat is older than `worker_timeout_secs` (its
//!    process was killed) goes back to `pending` and is delivered again,
//!    unless `outbox.in_doubt = "hold"` moves a customer-service message
//!    to `in_doubt`, where it waits for `wxhost outbox retry ID`.
//!
//! Template messages carry the idempotency key as `client_msg_id`, so
//! WeChat sends each at most once within 10 minutes even when wxhost
//! repeats the call.
//!
//! NOTE: `message/custom/send` and the tagging APIs take no idempotency
//! key, so a customer-service message whose request reached WeChat when
//! the process was killed, before `sent` was committed, cannot be
//! distinguished from one that never left. With `in_doubt = "resend"`
//! (the default) it is sent again after the restart: at least once, and with one
//! sequential worker per process at most one duplicate per kill. With
//! `"hold"` it waits in `in_doubt`: at most once. A transport error after
//! WeChat accepted a request can also repeat a message under either
//! policy. Repeating a tagging call changes nothing.

pub mod action;
mod table;
pub mod worker;

use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::apis::AccountApis;
use crate::logging::LogIds;
use crate::store::{Store, StoreError};

pub use action::{Action, TemplateAction, reply_to_custom};
pub(crate) use table::SCHEMA;
pub use table::{AttemptError, ClaimedEntry, EntryState, EntrySummary, NewEntry, Reclaimed};
pub use worker::{WorkerConfig, WorkerHandle, spawn_worker};

/// The outbox of one host: its store and the signal that wakes the
/// worker. Cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    store: Store,
    wake: Arc<Notify>,
}

impl Outbox {
    /// Creates the outbox over the host's store.
    pub fn new(store: Store) -> Outbox {
        Outbox {
            store,
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Wakes the worker of this process to look for due entries.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub(crate) fn wake_signal(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Adds prepared entries (a repeated idempotency key is skipped) and
    /// wakes the worker. Returns how many were added.
    pub fn enqueue(&self, entries: &[NewEntry]) -> Result<usize, StoreError> {
        if entries.is_empty() {
            return Ok(0);
        }
        let added = self.store.outbox_insert(entries, now_ms())?;
        self.wake();
        Ok(added)
    }
}

/// An action with the plugin that returned it.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginAction {
    pub plugin: String,
    /// Unique among the plugin's actions for one callback, for example
    /// the directive's position.
    pub slot: String,
    /// The recipient's openid when it is not the follower who sent the
    /// callback.
    pub to: Option<String>,
    pub action: Action,
}

/// The follower and the callback that prepared actions are for.
pub struct Recipient<'a> {
    pub account: &'a str,
    pub openid: &'a str,
    /// The callback's dedupe key, the base of each idempotency key.
    pub callback_key: &'a str,
    pub log_ids: &'a LogIds,
}

/// Checks each action and turns the valid ones into outbox entries. An
/// invalid action, an action for an account without `app_secret`, and a
/// customer-service message without room in the follower's window are
/// logged with the plugin's name and dropped.
pub fn prepare(
    apis: &AccountApis,
    to: &Recipient<'_>,
    actions: Vec<PluginAction>,
) -> Vec<NewEntry> {
    let mut entries = Vec::with_capacity(actions.len());
    for PluginAction {
        plugin,
        slot,
        to: addressed,
        action,
    } in actions
    {
        let openid = addressed.as_deref().unwrap_or(to.openid);
        let kind = action.kind();
        let dropped = |reason: &str| {
            tracing::warn!(
                account = %to.account,
                plugin = %plugin,
                kind,
                slot = %slot,
                reason,
                "plugin action dropped"
            );
        };
        if let Err(reason) = action.validate() {
            dropped(&reason);
            continue;
        }
        if apis.client(to.account).is_none() {
            dropped("the account has no app_secret, so wxhost cannot call WeChat for it");
            continue;
        }
        if matches!(action, Action::Custom { .. })
            && let Err(err) = apis.quota().reserve_reply(to.account, openid)
        {
            tracing::warn!(
                account = %to.account,
                plugin = %plugin,
                kind,
                user = %to.log_ids.of(openid),
                error = %err,
                "plugin action dropped: no room in the follower's customer-service window"
            );
            continue;
        }
        let json = match serde_json::to_string(&action) {
            Ok(json) => json,
            Err(err) => {
                dropped(&format!("the action does not serialize: {err}"));
                continue;
            }
        };
        entries.push(NewEntry {
            idempotency_key: idempotency_key(to.callback_key, &plugin, &slot),
            account: to.account.to_owned(),
            openid: openid.to_owned(),
            source: plugin,
            kind: kind.to_owned(),
            action: json,
        });
    }
    entries
}

/// Returns 32 hex characters that identify one action of one callback.
/// Short enough for `client_msg_id`, and free of the openid.
pub fn idempotency_key(callback_key: &str, plugin: &str, slot: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [callback_key, plugin, slot] {
        hasher.update(part.as_bytes());
        hasher.update([0x1f]);
    }
    hex::encode(&hasher.finalize()[..16])
}

/// Returns the current Unix time in milliseconds.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_depends_on_every_part() {
        let key = idempotency_key("demo\u{1f}o1\u{1f}m1", "actions", "0");
        assert_eq!(key.len(), 32);
        assert_eq!(key, idempotency_key("demo\u{1f}o1\u{1f}m1", "actions", "0"));
        assert_ne!(key, idempotency_key("demo\u{1f}o1\u{1f}m1", "actions", "1"));
        assert_ne!(key, idempotency_key("demo\u{1f}o1\u{1f}m1", "other", "0"));
        assert_ne!(key, idempotency_key("demo\u{1f}o1\u{1f}m2", "actions", "0"));
    }
}
