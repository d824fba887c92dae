//! A short-lived cache of successful answers, keyed by method, URL and
//! body.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::FetchResponse;

/// Most answers kept per plugin; the one closest to expiry goes first.
const MAX_ENTRIES: usize = 256;

/// The identity of a request for the cache.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub method: &'static str,
    pub url: String,
    pub body: Vec<u8>,
}

#[derive(Debug)]
pub struct ResponseCache {
    ttl: Duration,
    entries: Mutex<HashMap<CacheKey, (Instant, FetchResponse)>>,
}

impl ResponseCache {
    /// Creates a cache that keeps answers for `ttl`; zero keeps nothing.
    pub fn new(ttl: Duration) -> ResponseCache {
        ResponseCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Returns the unexpired answer for `key`.
    pub fn get(&self, key: &CacheKey, now: Instant) -> Option<FetchResponse> {
        let entries = self.lock();
        entries
            .get(key)
            .filter(|(expires, _)| *expires > now)
            .map(|(_, response)| response.clone())
    }

    /// Keeps `response` for the cache's time to live.
    pub fn put(&self, key: CacheKey, response: FetchResponse, now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.lock();
        entries.retain(|_, (expires, _)| *expires > now);
        if entries.len() >= MAX_ENTRIES
            && let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, (expires, _))| *expires)
                .map(|(key, _)| key.clone())
        {
            entries.remove(&oldest);
        }
        entries.insert(key, (now + self.ttl, response));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, (Instant, FetchResponse)>> {
        // Every update is one insert, remove or retain.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(url: &str) -> CacheKey {
        CacheKey {
            method: "POST",
            url: url.to_owned(),
            body: b"{}".to_vec(),
        }
    }

    fn answer(body: &str) -> FetchResponse {
        FetchResponse {
            status: 200,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn answer_expires_after_ttl() {
        let cache = ResponseCache::new(Duration::from_secs(30));
        let now = Instant::now();
        cache.put(key("http://a/"), answer("one"), now);
        assert_eq!(cache.get(&key("http://a/"), now), Some(answer("one")));
        assert_eq!(cache.get(&key("http://b/"), now), None);
        assert_eq!(
            cache.get(&key("http://a/"), now + Duration::from_secs(30)),
            None
        );
    }

    #[test]
    fn zero_ttl_keeps_nothing() {
        let cache = ResponseCache::new(Duration::ZERO);
        let now = Instant::now();
        cache.put(key("http://a/"), answer("one"), now);
        assert_eq!(cache.get(&key("http://a/"), now), None);
    }

    #[test]
    fn full_cache_drops_oldest() {
        let cache = ResponseCache::new(Duration::from_secs(30));
        let now = Instant::now();
        for index in 0..MAX_ENTRIES {
            let at = now + Duration::from_millis(index as u64);
            cache.put(key(&format!("http://h/{index}")), answer("x"), at);
        }
        let last = now + Duration::from_millis(MAX_ENTRIES as u64);
        cache.put(key("http://h/new"), answer("y"), last);
        assert_eq!(cache.get(&key("http://h/0"), last), None);
        assert_eq!(cache.get(&key("http://h/1"), last), Some(answer("x")));
        assert_eq!(cache.get(&key("http://h/new"), last), Some(answer("y")));
    }
}
