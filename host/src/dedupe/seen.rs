//! Tracking of which dedupe keys may have a response in the store.
//!
//! Reading the store for every new callback costs about as much as the
//! plugin call itself. Two Bloom filters, each covering one TTL period,
//! record every key whose answer was stored, so a new callback reads the
//! store only when a filter says the key may be there. A filter never
//! misses a key it holds, so no stored answer is overlooked; a false
//! positive only costs one store read. At 1,000,000 keys per period the
//! false-positive rate is about 0.1 %.

use std::hash::{DefaultHasher, Hash, Hasher};

/// Bits per filter: 2 MiB of memory each.
const FILTER_BITS: usize = 1 << 24;
/// Hash functions per key.
const HASHES: u64 = 5;

/// A fixed-size Bloom filter over strings.
struct Bloom {
    bits: Vec<u64>,
}

impl Bloom {
    fn new() -> Bloom {
        Bloom {
            bits: vec![0; FILTER_BITS / 64],
        }
    }

    fn positions(key: &str) -> impl Iterator<Item = usize> {
        // Double hashing: position i is h1 + i * h2.
        let mut first = DefaultHasher::new();
        key.hash(&mut first);
        let h1 = first.finish();
        let mut second = DefaultHasher::new();
        (0x9e37_79b9_u32, key).hash(&mut second);
        let h2 = second.finish() | 1;
        (0..HASHES)
            .map(move |i| (h1.wrapping_add(i.wrapping_mul(h2)) % FILTER_BITS as u64) as usize)
    }

    fn insert(&mut self, key: &str) {
        for position in Bloom::positions(key) {
            self.bits[position / 64] |= 1 << (position % 64);
        }
    }

    fn may_contain(&self, key: &str) -> bool {
        Bloom::positions(key).all(|position| self.bits[position / 64] & (1 << (position % 64)) != 0)
    }

    /// Removes every key, keeping the bit array's allocation.
    fn clear(&mut self) {
        self.bits.fill(0);
    }
}

/// Keys stored during the current and the previous period.
pub(super) struct SeenKeys {
    current: Bloom,
    previous: Bloom,
    period_secs: u64,
    period_started: u64,
}

impl SeenKeys {
    /// Creates empty filters whose periods last `period_secs`, the answers'
    /// TTL, so a key stays findable for at least that long.
    pub(super) fn new(period_secs: u64, now_secs: u64) -> SeenKeys {
        SeenKeys {
            current: Bloom::new(),
            previous: Bloom::new(),
            period_secs: period_secs.max(1),
            period_started: now_secs,
        }
    }

    /// Starts a new period when the current one has ended: the current
    /// filter becomes the previous one, and the previous one is cleared in
    /// place to become the current one, so rotation allocates nothing.
    fn rotate(&mut self, now_secs: u64) {
        if now_secs >= self.period_started + self.period_secs {
            std::mem::swap(&mut self.current, &mut self.previous);
            self.current.clear();
            self.period_started = now_secs;
        }
    }

    /// Records that `key` has a response in the store.
    pub(super) fn insert(&mut self, key: &str, now_secs: u64) {
        self.rotate(now_secs);
        self.current.insert(key);
    }

    /// Returns false only when `key` has no response in the store.
    pub(super) fn may_contain(&mut self, key: &str, now_secs: u64) -> bool {
        self.rotate(now_secs);
        self.current.may_contain(key) || self.previous.may_contain(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_keys_cover_two_periods() {
        let mut seen = SeenKeys::new(300, 1_000);
        seen.insert("demo|u1|m1", 1_000);
        assert!(seen.may_contain("demo|u1|m1", 1_000));
        assert!(seen.may_contain("demo|u1|m1", 1_299));
        // After one rotation the key is in the previous filter.
        assert!(seen.may_contain("demo|u1|m1", 1_300));
        // After a second rotation it is gone.
        assert!(!seen.may_contain("demo|u1|m1", 1_600));
    }

    #[test]
    fn rotation_reuses_bit_array() {
        let mut seen = SeenKeys::new(300, 0);
        seen.insert("old", 0);
        seen.rotate(300);
        seen.insert("new", 300);
        let reused = seen.previous.bits.as_ptr();
        let capacity = seen.previous.bits.capacity();
        assert!(seen.previous.bits.iter().any(|word| *word != 0));

        seen.rotate(600);

        assert_eq!(seen.current.bits.as_ptr(), reused);
        assert_eq!(seen.current.bits.capacity(), capacity);
        assert_eq!(seen.current.bits.len(), FILTER_BITS / 64);
        assert!(seen.current.bits.iter().all(|word| *word == 0));
        assert!(!seen.may_contain("old", 600));
        assert!(seen.may_contain("new", 600));
    }

    #[test]
    fn false_positives_are_rare() {
        let mut seen = SeenKeys::new(300, 0);
        for index in 0..100_000 {
            seen.insert(&format!("stored-{index}"), 0);
        }
        let false_positives = (0..100_000)
            .filter(|index| seen.may_contain(&format!("new-{index}"), 0))
            .count();
        assert!(
            false_positives < 10,
            "{false_positives} false positives in 100000"
        );
    }
}
