//! The circuit breaker of one plugin.
//!
//! Closed, the plugin runs on every callback. After `failures` consecutive
//! faults the breaker opens and the plugin is skipped, per its failure
//! policy, for `cool_down`. Then one callback is let through as a probe
//! (half-open): a probe that succeeds closes the breaker, a probe that
//! faults opens it for another cool-down. While the probe runs, other
//! callbacks skip the plugin.

use std::time::{Duration, Instant};

/// The externally visible state of a breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    /// Returns the name used in the admin API and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }

    /// Returns the value of the `wxhost_plugin_breaker_state` gauge.
    pub fn gauge(self) -> u64 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        }
    }
}

/// Whether a callback may call the plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The breaker is closed.
    Call,
    /// The breaker is half-open and this call is its probe.
    Probe,
    /// The breaker is open, or half-open with a probe running.
    Skip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inner {
    Closed,
    Open { until: Instant },
    HalfOpen,
}

/// A circuit breaker. Not synchronized: the owner keeps it in a mutex.
#[derive(Debug, Clone)]
pub struct Breaker {
    failures_to_open: u32,
    cool_down: Duration,
    consecutive_faults: u32,
    inner: Inner,
}

impl Breaker {
    /// Creates a closed breaker that opens after `failures_to_open`
    /// consecutive faults and probes again after `cool_down`.
    pub fn new(failures_to_open: u32, cool_down: Duration) -> Breaker {
        Breaker {
            failures_to_open: failures_to_open.max(1),
            cool_down,
            consecutive_faults: 0,
            inner: Inner::Closed,
        }
    }

    /// Returns the state at `now`: an open breaker whose cool-down has
    /// passed reads as half-open.
    pub fn state(&self, now: Instant) -> BreakerState {
        match self.inner {
            Inner::Closed => BreakerState::Closed,
            Inner::Open { until } if now >= until => BreakerState::HalfOpen,
            Inner::Open { .. } => BreakerState::Open,
            Inner::HalfOpen => BreakerState::HalfOpen,
        }
    }

    /// Returns the faults in a row since the last success.
    pub fn consecutive_faults(&self) -> u32 {
        self.consecutive_faults
    }

    /// Decides whether a call at `now` may run; the first call after the
    /// cool-down becomes the probe.
    pub fn admit(&mut self, now: Instant) -> Admission {
        match self.inner {
            Inner::Closed => Admission::Call,
            Inner::Open { until } if now >= until => {
                self.inner = Inner::HalfOpen;
                Admission::Probe
            }
            Inner::Open { .. } | Inner::HalfOpen => Admission::Skip,
        }
    }

    /// Records a call that returned directives. Returns the new state when
    /// it changed.
    pub fn on_success(&mut self) -> Option<BreakerState> {
        self.consecutive_faults = 0;
        let changed = self.inner != Inner::Closed;
        self.inner = Inner::Closed;
        changed.then_some(BreakerState::Closed)
    }

    /// Records a faulted call at `now`. Returns the new state when it
    /// changed.
    pub fn on_fault(&mut self, now: Instant) -> Option<BreakerState> {
        self.consecutive_faults = self.consecutive_faults.saturating_add(1);
        let opens = match self.inner {
            Inner::Closed => self.consecutive_faults >= self.failures_to_open,
            Inner::HalfOpen => true,
            // A call admitted before the breaker opened finished late.
            Inner::Open { .. } => false,
        };
        if !opens {
            return None;
        }
        self.inner = Inner::Open {
            until: now + self.cool_down,
        };
        Some(BreakerState::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOL_DOWN: Duration = Duration::from_millis(500);

    #[test]
    fn opens_after_consecutive_faults() {
        let start = Instant::now();
        let mut breaker = Breaker::new(3, COOL_DOWN);
        assert_eq!(breaker.on_fault(start), None);
        assert_eq!(breaker.on_fault(start), None);
        assert_eq!(breaker.on_success(), None);
        assert_eq!(breaker.on_fault(start), None);
        assert_eq!(breaker.on_fault(start), None);
        assert_eq!(breaker.on_fault(start), Some(BreakerState::Open));
        assert_eq!(breaker.state(start), BreakerState::Open);
        assert_eq!(breaker.admit(start), Admission::Skip);
    }

    #[test]
    fn probe_success_closes() {
        let start = Instant::now();
        let mut breaker = Breaker::new(1, COOL_DOWN);
        assert_eq!(breaker.on_fault(start), Some(BreakerState::Open));
        let later = start + COOL_DOWN;
        assert_eq!(breaker.state(later), BreakerState::HalfOpen);
        assert_eq!(breaker.admit(later), Admission::Probe);
        assert_eq!(breaker.admit(later), Admission::Skip);
        assert_eq!(breaker.on_success(), Some(BreakerState::Closed));
        assert_eq!(breaker.admit(later), Admission::Call);
        assert_eq!(breaker.consecutive_faults(), 0);
    }

    #[test]
    fn probe_fault_opens_again() {
        let start = Instant::now();
        let mut breaker = Breaker::new(1, COOL_DOWN);
        breaker.on_fault(start);
        let later = start + COOL_DOWN;
        assert_eq!(breaker.admit(later), Admission::Probe);
        assert_eq!(breaker.on_fault(later), Some(BreakerState::Open));
        assert_eq!(breaker.admit(later), Admission::Skip);
        assert_eq!(breaker.state(later + COOL_DOWN), BreakerState::HalfOpen);
    }
}
