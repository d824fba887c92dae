//! Finished responses kept in memory for WeChat's retries.

use std::collections::{HashMap, VecDeque};

use crate::store::StoredReply;

/// Number of responses kept in memory once they are in the store. Older
/// ones are evicted first and then come from the store. At an estimated
/// 0.5 to 1 KiB per response, this caps the map near 20 MiB while the
/// store keeps up.
pub(super) const MAX_RECENT: usize = 20_000;

/// Finished responses by dedupe key, each with its expiry in Unix seconds.
/// An entry leaves only after the reply writer has stored it, so a retry
/// always finds the response in memory or in the store.
#[derive(Default)]
pub(super) struct Recent {
    replies: HashMap<String, (StoredReply, u64)>,
    /// Expiry, write sequence number and key, in insertion order, for
    /// eviction by age.
    order: VecDeque<(u64, u64, String)>,
}

impl Recent {
    /// Returns the answer under `key` unless it expired by `now_secs`.
    pub(super) fn get(&self, key: &str, now_secs: u64) -> Option<StoredReply> {
        match self.replies.get(key) {
            Some((reply, expires_at)) if *expires_at > now_secs => Some(reply.clone()),
            _ => None,
        }
    }

    /// Keeps `reply` under `key` until `expires_at`. `sequence` is the
    /// reply writer's number for it (0 when already stored), and
    /// `written` the writer's highest stored number. Evicts stored
    /// answers that expired and, past [`MAX_RECENT`], the oldest stored
    /// ones.
    pub(super) fn insert(
        &mut self,
        key: &str,
        reply: StoredReply,
        expires_at: u64,
        now_secs: u64,
        sequence: u64,
        written: u64,
    ) {
        while let Some((expiry, front_sequence, _)) = self.order.front() {
            let expired = *expiry <= now_secs;
            let full = self.order.len() >= MAX_RECENT;
            if (!expired && !full) || *front_sequence > written {
                break;
            }
            let Some((expiry, _, old_key)) = self.order.pop_front() else {
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
        self.order.push_back((expires_at, sequence, key.to_owned()));
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
        recent.insert("a", reply("1"), 110, 100, 1, 0);
        recent.insert("b", reply("2"), 120, 100, 2, 0);
        assert_eq!(recent.get("a", 109), Some(reply("1")));
        assert_eq!(recent.get("a", 110), None);

        // Inserting at time 115 drops the expired and stored "a" but
        // keeps "b".
        recent.insert("c", reply("3"), 130, 115, 3, 2);
        assert_eq!(recent.len(), 2);
        assert_eq!(recent.get("b", 115), Some(reply("2")));
        assert_eq!(recent.get("c", 115), Some(reply("3")));
    }

    #[test]
    fn recent_keeps_unwritten_answers() {
        let mut recent = Recent::default();
        recent.insert("a", reply("1"), 110, 100, 1, 0);
        // "a" expired, but the writer has not stored it yet.
        recent.insert("b", reply("2"), 130, 115, 2, 0);
        assert_eq!(recent.len(), 2);
        recent.insert("c", reply("3"), 130, 116, 3, 1);
        assert_eq!(recent.len(), 2);
    }

    #[test]
    fn recent_caps_stored_answers() {
        let mut recent = Recent::default();
        for index in 0..MAX_RECENT as u64 + 10 {
            recent.insert(&format!("k{index}"), reply("r"), 1_000, 100, 0, 0);
        }
        assert_eq!(recent.len(), MAX_RECENT);
    }
}
