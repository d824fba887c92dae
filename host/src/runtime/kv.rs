//! The key-value store behind the `kv` import, and an in-memory version
//! for tests.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Maximum key length accepted by the `kv` import, in bytes.
pub const MAX_KEY_BYTES: usize = 256;

/// Maximum value length accepted by the `kv` import, in bytes (64 KiB).
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// Storage for plugin key-value entries, namespaced by official account and
/// plugin name.
///
/// The runtime enforces [`MAX_KEY_BYTES`], [`MAX_VALUE_BYTES`] and the `kv`
/// grant before calling these methods. An `Err` text reaches the plugin as
/// `kv::error::store`, so it must describe the failure without any key or
/// value.
pub trait KvStore: Send + Sync {
    /// Returns the value under `key`, or `None` when it is absent or expired.
    fn get(&self, account: &str, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, String>;

    /// Stores `value` under `key`, replacing any old value. With
    /// `ttl_seconds` the entry expires after that many seconds.
    fn set(
        &self,
        account: &str,
        plugin: &str,
        key: &str,
        value: &[u8],
        ttl_seconds: Option<u32>,
    ) -> Result<(), String>;

    /// Removes `key`. Removing an absent key succeeds.
    fn delete(&self, account: &str, plugin: &str, key: &str) -> Result<(), String>;

    /// Adds `delta` to the decimal counter under `key` atomically and
    /// returns the new value. An absent or expired key counts from 0 and
    /// gets no expiry; a live key keeps its expiry. Fails, changing
    /// nothing, when the value is not a decimal `i64` or the sum overflows.
    fn increment(&self, account: &str, plugin: &str, key: &str, delta: i64) -> Result<i64, String>;

    /// Stores `value` under `key` only when the key is absent or expired,
    /// atomically. Returns true when it stored.
    fn set_if_absent(
        &self,
        account: &str,
        plugin: &str,
        key: &str,
        value: &[u8],
        ttl_seconds: Option<u32>,
    ) -> Result<bool, String>;
}

/// The error text of an increment of a value that is not a counter.
pub const NOT_AN_INTEGER: &str = "the value is not a decimal 64-bit integer";
/// The error text of an increment past the range of a counter.
pub const OVERFLOW: &str = "the counter would overflow a signed 64-bit integer";

type EntryKey = (String, String, String);

/// A [`KvStore`] kept in process memory, for tests and examples. Expired
/// entries are dropped when they are read.
#[derive(Debug, Default)]
pub struct MemoryKv {
    entries: Mutex<HashMap<EntryKey, Entry>>,
}

#[derive(Debug)]
struct Entry {
    value: Vec<u8>,
    expires_at: Option<Instant>,
}

impl MemoryKv {
    /// Creates an empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns the number of entries, counting expired ones not yet read.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Returns true when the store contains no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the live entry under `id`, dropping it when it expired.
    fn live<'a>(entries: &'a mut HashMap<EntryKey, Entry>, id: &EntryKey) -> Option<&'a mut Entry> {
        let expired = entries
            .get(id)
            .is_some_and(|entry| entry.expires_at.is_some_and(|at| at <= Instant::now()));
        if expired {
            entries.remove(id);
        }
        entries.get_mut(id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<EntryKey, Entry>> {
        // A panic while holding the lock leaves the map consistent, because
        // every update is a single insert or remove.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn entry_key(account: &str, plugin: &str, key: &str) -> EntryKey {
    (account.to_owned(), plugin.to_owned(), key.to_owned())
}

impl KvStore for MemoryKv {
    fn get(&self, account: &str, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, String> {
        let id = entry_key(account, plugin, key);
        let mut entries = self.lock();
        let expired = match entries.get(&id) {
            None => return Ok(None),
            Some(entry) => entry.expires_at.is_some_and(|at| at <= Instant::now()),
        };
        if expired {
            entries.remove(&id);
            return Ok(None);
        }
        Ok(entries.get(&id).map(|entry| entry.value.clone()))
    }

    fn set(
        &self,
        account: &str,
        plugin: &str,
        key: &str,
        value: &[u8],
        ttl_seconds: Option<u32>,
    ) -> Result<(), String> {
        let expires_at =
            ttl_seconds.map(|secs| Instant::now() + Duration::from_secs(u64::from(secs)));
        let entry = Entry {
            value: value.to_vec(),
            expires_at,
        };
        self.lock().insert(entry_key(account, plugin, key), entry);
        Ok(())
    }

    fn delete(&self, account: &str, plugin: &str, key: &str) -> Result<(), String> {
        self.lock().remove(&entry_key(account, plugin, key));
        Ok(())
    }

    fn increment(&self, account: &str, plugin: &str, key: &str, delta: i64) -> Result<i64, String> {
        let id = entry_key(account, plugin, key);
        let mut entries = self.lock();
        let Some(entry) = Self::live(&mut entries, &id) else {
            let entry = Entry {
                value: delta.to_string().into_bytes(),
                expires_at: None,
            };
            entries.insert(id, entry);
            return Ok(delta);
        };
        let previous: i64 = std::str::from_utf8(&entry.value)
            .ok()
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| NOT_AN_INTEGER.to_owned())?;
        let next = previous
            .checked_add(delta)
            .ok_or_else(|| OVERFLOW.to_owned())?;
        entry.value = next.to_string().into_bytes();
        Ok(next)
    }

    fn set_if_absent(
        &self,
        account: &str,
        plugin: &str,
        key: &str,
        value: &[u8],
        ttl_seconds: Option<u32>,
    ) -> Result<bool, String> {
        let id = entry_key(account, plugin, key);
        let mut entries = self.lock();
        if Self::live(&mut entries, &id).is_some() {
            return Ok(false);
        }
        let expires_at =
            ttl_seconds.map(|secs| Instant::now() + Duration::from_secs(u64::from(secs)));
        let entry = Entry {
            value: value.to_vec(),
            expires_at,
        };
        entries.insert(id, entry);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_kv_round_trip() {
        let kv = MemoryKv::new();
        kv.set("acct", "p", "k", b"v1", None).unwrap();
        assert_eq!(kv.get("acct", "p", "k").unwrap(), Some(b"v1".to_vec()));
        kv.delete("acct", "p", "k").unwrap();
        assert_eq!(kv.get("acct", "p", "k").unwrap(), None);
        assert!(kv.is_empty());
    }

    #[test]
    fn memory_kv_namespaces() {
        let kv = MemoryKv::new();
        kv.set("a1", "p", "k", b"one", None).unwrap();
        kv.set("a2", "p", "k", b"two", None).unwrap();
        kv.set("a1", "q", "k", b"three", None).unwrap();
        assert_eq!(kv.get("a1", "p", "k").unwrap(), Some(b"one".to_vec()));
        assert_eq!(kv.get("a2", "p", "k").unwrap(), Some(b"two".to_vec()));
        assert_eq!(kv.get("a1", "q", "k").unwrap(), Some(b"three".to_vec()));
        assert_eq!(kv.len(), 3);
    }

    #[test]
    fn memory_kv_ttl_zero_expires() {
        let kv = MemoryKv::new();
        kv.set("a", "p", "k", b"v", Some(0)).unwrap();
        assert_eq!(kv.get("a", "p", "k").unwrap(), None);
        assert_eq!(kv.len(), 0);
    }

    #[test]
    fn memory_kv_increment() {
        let kv = MemoryKv::new();
        assert_eq!(kv.increment("a", "p", "n", 2), Ok(2));
        assert_eq!(kv.increment("a", "p", "n", -5), Ok(-3));
        assert_eq!(kv.get("a", "p", "n").unwrap(), Some(b"-3".to_vec()));
        kv.set("a", "p", "w", b"x", None).unwrap();
        assert_eq!(
            kv.increment("a", "p", "w", 1),
            Err(NOT_AN_INTEGER.to_owned())
        );
        kv.set("a", "p", "m", i64::MAX.to_string().as_bytes(), None)
            .unwrap();
        assert_eq!(kv.increment("a", "p", "m", 1), Err(OVERFLOW.to_owned()));
    }

    #[test]
    fn memory_kv_set_if_absent() {
        let kv = MemoryKv::new();
        assert_eq!(kv.set_if_absent("a", "p", "k", b"1", None), Ok(true));
        assert_eq!(kv.set_if_absent("a", "p", "k", b"2", None), Ok(false));
        assert_eq!(kv.get("a", "p", "k").unwrap(), Some(b"1".to_vec()));
        kv.set("a", "p", "e", b"old", Some(0)).unwrap();
        assert_eq!(kv.set_if_absent("a", "p", "e", b"new", None), Ok(true));
        assert_eq!(kv.get("a", "p", "e").unwrap(), Some(b"new".to_vec()));
    }

    #[test]
    fn memory_kv_delete_absent() {
        let kv = MemoryKv::new();
        assert_eq!(kv.delete("a", "p", "missing"), Ok(()));
    }
}
