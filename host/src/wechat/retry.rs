//! Backoff policies: transient failures (-1 and transport errors) and the
//! optional retry of 45159 right after a tag was created.

use std::time::Duration;

use rand::Rng;

/// Bounded exponential backoff with jitter for system-busy (-1) errors and
/// transport errors.
///
/// Defaults: 4 attempts in total, 500 ms base delay, 8 s maximum delay.
/// Attempt `n` (from 1) waits a random time between half and all of
/// `base_delay * 2^(n-1)`, capped at `max_delay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included. 1 disables retries.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// Returns the wait before retry number `retry` (1 for the first retry).
    pub fn delay(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        let full = self.base_delay.saturating_mul(factor).min(self.max_delay);
        let half = full / 2;
        let jitter_ms = u64::try_from((full - half).as_millis()).unwrap_or(u64::MAX);
        let extra = if jitter_ms == 0 {
            0
        } else {
            rand::rng().random_range(0..=jitter_ms)
        };
        half + Duration::from_millis(extra)
    }
}

/// Retry of `tags/members/batchtagging` and `batchuntagging` when WeChat
/// returns 45159 (invalid tag id). A freshly created tag can take a moment
/// to become visible to the tagging API. Off by default, because 45159 is
/// usually a real error.
///
/// Defaults when enabled: 3 retries, 1 s apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagRetryPolicy {
    pub max_retries: u32,
    pub delay: Duration,
}

impl Default for TagRetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            delay: Duration::from_secs(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_doubles_within_jitter() {
        let policy = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
        };
        for (retry, full) in [(1, 100), (2, 200), (3, 350), (4, 350)] {
            let delay = policy.delay(retry).as_millis();
            assert!(
                delay >= full / 2 && delay <= full,
                "retry {retry}: {delay} ms"
            );
        }
    }
}
