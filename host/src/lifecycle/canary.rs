//! Canary selection by a stable hash of the openid, and the fault window
//! that rolls a canary back.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Buckets of the follower hash: one bucket is 0.01 % of followers.
pub const BUCKETS: u32 = 10_000;

/// Calls kept in a fault window at most, so a busy canary's window stays
/// small; older calls are dropped first.
const MAX_WINDOW_CALLS: usize = 10_000;

/// Returns the bucket (0 to 9999) of `openid` for the plugin `plugin`.
///
/// The bucket is the first 8 bytes of SHA-256 over the plugin name, a
/// 0x1f separator and the openid, modulo 10000. It is the same on every
/// host and across restarts, and the plugin name in it makes each
/// plugin's canary pick its own slice of followers.
pub fn bucket(plugin: &str, openid: &str) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(plugin.as_bytes());
    hasher.update([0x1f]);
    hasher.update(openid.as_bytes());
    let digest = hasher.finalize();
    let mut prefix = [0u8; 8];
    prefix.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(prefix) % u64::from(BUCKETS)) as u32
}

/// Returns whether `openid` is served by the canary of `plugin` that
/// takes `percent` of followers.
pub fn selects(plugin: &str, openid: &str, percent: f64) -> bool {
    let share = (percent * 100.0).round().clamp(0.0, f64::from(BUCKETS)) as u32;
    bucket(plugin, openid) < share
}

/// The canary's calls within a sliding window, and its rollback rule.
#[derive(Debug, Clone)]
pub struct FaultWindow {
    window: Duration,
    min_calls: u32,
    max_fault_rate: f64,
    /// Time of each call and whether it faulted, oldest first.
    calls: VecDeque<(Instant, bool)>,
}

/// The fault rate that triggered a rollback.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RollbackReason {
    pub faults: u32,
    pub calls: u32,
    pub window: Duration,
}

impl std::fmt::Display for RollbackReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} canary calls within {} s faulted",
            self.faults,
            self.calls,
            self.window.as_secs()
        )
    }
}

impl FaultWindow {
    /// Creates an empty window of `window` length.
    pub fn new(window: Duration, min_calls: u32, max_fault_rate: f64) -> FaultWindow {
        FaultWindow {
            window,
            min_calls: min_calls.max(1),
            max_fault_rate,
            calls: VecDeque::new(),
        }
    }

    /// Records a call at `now`. Returns the reason when the window contains
    /// at least `min_calls` calls and their fault rate reaches
    /// `max_fault_rate`.
    pub fn record(&mut self, now: Instant, faulted: bool) -> Option<RollbackReason> {
        while let Some(&(at, _)) = self.calls.front() {
            if now.duration_since(at) <= self.window && self.calls.len() < MAX_WINDOW_CALLS {
                break;
            }
            self.calls.pop_front();
        }
        self.calls.push_back((now, faulted));

        let calls = self.calls.len() as u32;
        let faults = self.calls.iter().filter(|(_, faulted)| *faulted).count() as u32;
        let rate = f64::from(faults) / f64::from(calls);
        (calls >= self.min_calls && rate >= self.max_fault_rate).then_some(RollbackReason {
            faults,
            calls,
            window: self.window,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn openid(index: u32) -> String {
        format!("oFAKE_canary_{index:05}")
    }

    #[test]
    fn split_within_two_percent_of_share() {
        for (percent, expected) in [(10.0, 1057), (25.0, 2495), (50.0, 4975)] {
            let selected = (0..10_000)
                .filter(|&index| selects("echo", &openid(index), percent))
                .count();
            assert_eq!(selected, expected, "{percent} %");
            let target = (percent * 100.0) as usize;
            assert!(selected.abs_diff(target) <= 200, "{percent} %: {selected}");
        }
    }

    #[test]
    fn selection_is_stable_and_nested() {
        let id = openid(42);
        assert_eq!(bucket("echo", &id), bucket("echo", &id));
        assert_ne!(bucket("echo", &id), bucket("keyword", &id));
        // A follower in a 10 % canary stays in it when the share grows.
        for index in 0..1000 {
            if selects("echo", &openid(index), 10.0) {
                assert!(selects("echo", &openid(index), 20.0));
            }
        }
        assert!(!selects("echo", &id, 0.0));
        assert!(selects("echo", &id, 100.0));
    }

    #[test]
    fn rollback_needs_min_calls_and_rate() {
        let start = Instant::now();
        let mut window = FaultWindow::new(Duration::from_secs(60), 4, 0.5);
        assert_eq!(window.record(start, true), None);
        assert_eq!(window.record(start, false), None);
        assert_eq!(window.record(start, false), None);
        let reason = window.record(start, true).expect("2 of 4 reach 0.5");
        assert_eq!((reason.faults, reason.calls), (2, 4));
        assert_eq!(
            reason.to_string(),
            "2 of 4 canary calls within 60 s faulted"
        );
    }

    #[test]
    fn old_calls_leave_the_window() {
        let start = Instant::now();
        let mut window = FaultWindow::new(Duration::from_secs(10), 2, 0.5);
        assert_eq!(window.record(start, true), None);
        let later = start + Duration::from_secs(11);
        assert_eq!(window.record(later, false), None);
        assert_eq!(window.record(later, false), None);
    }
}
