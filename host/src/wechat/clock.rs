//! Time source for tokens and quotas, replaceable in tests.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds between UTC and China Standard Time. WeChat's daily quotas
/// follow the calendar day in Beijing.
const CST_OFFSET_SECS: i64 = 8 * 3600;

/// A source of the current wall-clock time in Unix milliseconds.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
    }
}

/// A clock that moves only when [`ManualClock::advance`] is called.
#[derive(Debug)]
pub struct ManualClock {
    now_ms: Mutex<i64>,
}

impl ManualClock {
    /// Creates a clock that reads `now_ms`.
    pub fn new(now_ms: i64) -> Self {
        Self {
            now_ms: Mutex::new(now_ms),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now_ms.lock().unwrap_or_else(|e| e.into_inner());
        *now += i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        *self.now_ms.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Returns the index of the calendar day in China Standard Time.
pub fn cst_day(now_ms: i64) -> i64 {
    (now_ms / 1000 + CST_OFFSET_SECS).div_euclid(86_400)
}

/// Formats the time of day in China Standard Time as `HH:MM:SS`.
pub fn cst_time_of_day(at_ms: i64) -> String {
    let secs = (at_ms.div_euclid(1000) + CST_OFFSET_SECS).rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Returns the index of the calendar minute.
pub fn minute(now_ms: i64) -> i64 {
    (now_ms / 1000).div_euclid(60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cst_day_turns_at_utc_1600() {
        // 2024-01-01T15:59:59Z is 23:59:59 in Beijing; one second later is
        // the next day there.
        let before = 1_704_124_799_000;
        assert_eq!(cst_day(before) + 1, cst_day(before + 1000));
    }
}
