//! Finished responses kept in memory for WeChat's retries.

use std::collections::{HashMap, VecDeque};

use crate::store::StoredReply;

/// Maximum number of responses kept in memory. Older ones are evicted first and then
/// come from the store.
pub(super) const MAX_RECENT: usize = 200_000;

/// Finished responses by dedupe key, each with its expiry in Unix seconds.
#[derive(Default)]
pub(super) struct Recent {
    replies: HashMap<String, (StoredReply, u64)>,
    /// Keys in insertion order, for eviction by age.
    order: VecDeque<(u64, String)>,
}

impl Recent {
    /// Returns the answer under `key` unless it expired by `now_secs`.
    pub(super) fn get(&self, key: &str, now_secs: u64) -> Option<StoredReply> {
        match self.replies.get(key) {
            Some((reply, expires_at)) if *expires_at > now_secs => Some(reply.clone()),
            _ => None,
        }
    }

    /// Keeps `reply` under `key` until `expires_at`, evicting expired
    /// answers and, past [`MAX_RECENT`], the oldest ones.
    pub(super) fn insert(&mut self, key: &str, reply: StoredReply, expires_at: u64, now_secs: u64) {
        while let Some((expiry, _)) = self.order.front() {
            let expired = *expiry <= now_secs;
            let full = self.order.len() >= MAX_RECENT;
            if !expired && !full {
                break;
            }
            let Some((expiry, old_key)) = self.order.pop_front() else {
                break;
            };
            // A key answered again has a newer expiry; keep that entry.
            if self
                .replies
                .get(&old_key)
                .is_some_and(|(_, at)| *at == expiry)
            {
                self.replies.remove(&old_key);
            }
        }
        self.order.push_back((expires_at, key.to_owned()));
        self.replies.insert(key.to_owned(), (reply, expires_at));
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.replies.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(body: &str) -> StoredReply {
        StoredReply {
            content_type: "text/plain".to_owned(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn recent_expires_and_evicts() {
        let mut recent = Recent::default();
        recent.insert("a", reply("1"), 110, 100);
        recent.insert("b", reply("2"), 120, 100);
        assert_eq!(recent.get("a", 109), Some(reply("1")));
        assert_eq!(recent.get("a", 110), None);

        // Inserting at time 115 drops the expired "a" but keeps "b".
        recent.insert("c", reply("3"), 130, 115);
        assert_eq!(recent.len(), 2);
        assert_eq!(recent.get("b", 115), Some(reply("2")));
        assert_eq!(recent.get("c", 115), Some(reply("3")));
    }
}
