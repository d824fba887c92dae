//! A circuit breaker per remote host.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a finished request means for the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An answer below 500.
    Success,
    /// A transport error, a timeout or a 5xx answer.
    Failure,
    /// A request the host refused before any answer, which says nothing
    /// about the remote host.
    Neutral,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One trial request is in flight.
    HalfOpen,
}

/// Breakers of all hosts of one plugin.
#[derive(Debug)]
pub struct Breakers {
    failures_to_open: u32,
    cooldown: Duration,
    states: Mutex<HashMap<String, State>>,
}

impl Breakers {
    pub fn new(failures_to_open: u32, cooldown: Duration) -> Breakers {
        Breakers {
            failures_to_open: failures_to_open.max(1),
            cooldown,
            states: Mutex::new(HashMap::new()),
        }
    }

    /// Returns true when a request to `host` may go out now. After the
    /// cool-down an open breaker lets exactly one trial through.
    pub fn admit(&self, host: &str, now: Instant) -> bool {
        let mut states = self.lock();
        let state = states
            .entry(host.to_owned())
            .or_insert(State::Closed { failures: 0 });
        match *state {
            State::Closed { .. } => true,
            State::Open { until } if now >= until => {
                *state = State::HalfOpen;
                true
            }
            State::Open { .. } | State::HalfOpen => false,
        }
    }

    /// Records the outcome of an admitted request. Returns true when this
    /// outcome opened the breaker.
    pub fn record(&self, host: &str, outcome: Outcome, now: Instant) -> bool {
        let mut states = self.lock();
        let state = states
            .entry(host.to_owned())
            .or_insert(State::Closed { failures: 0 });
        let open = State::Open {
            until: now + self.cooldown,
        };
        match (*state, outcome) {
            (_, Outcome::Success) => *state = State::Closed { failures: 0 },
            (State::Closed { failures }, Outcome::Failure) => {
                if failures + 1 >= self.failures_to_open {
                    *state = open;
                    return true;
                }
                *state = State::Closed {
                    failures: failures + 1,
                };
            }
            (State::HalfOpen, Outcome::Failure) => {
                *state = open;
                return true;
            }
            // A neutral trial leaves the next request to try again.
            (State::HalfOpen, Outcome::Neutral) => *state = State::Open { until: now },
            (State::Open { .. }, Outcome::Failure) | (_, Outcome::Neutral) => {}
        }
        false
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, State>> {
        // Every update is one assignment, so a poisoned map is consistent.
        self.states
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "qa.example:443";

    #[test]
    fn opens_after_failures_in_a_row() {
        let breakers = Breakers::new(3, Duration::from_secs(10));
        let now = Instant::now();
        assert!(breakers.admit(HOST, now));
        assert!(!breakers.record(HOST, Outcome::Failure, now));
        assert!(!breakers.record(HOST, Outcome::Failure, now));
        assert!(breakers.admit(HOST, now));
        assert!(breakers.record(HOST, Outcome::Failure, now));
        assert!(!breakers.admit(HOST, now));
        assert!(!breakers.admit(HOST, now + Duration::from_secs(9)));
        assert!(breakers.admit("other:443", now));
    }

    #[test]
    fn success_resets_the_count() {
        let breakers = Breakers::new(2, Duration::from_secs(10));
        let now = Instant::now();
        breakers.record(HOST, Outcome::Failure, now);
        breakers.record(HOST, Outcome::Success, now);
        assert!(!breakers.record(HOST, Outcome::Failure, now));
        assert!(breakers.admit(HOST, now));
    }

    #[test]
    fn half_open_admits_one_trial() {
        let breakers = Breakers::new(1, Duration::from_secs(10));
        let now = Instant::now();
        breakers.record(HOST, Outcome::Failure, now);
        let later = now + Duration::from_secs(10);
        assert!(breakers.admit(HOST, later));
        assert!(!breakers.admit(HOST, later));
        assert!(breakers.record(HOST, Outcome::Failure, later));
        assert!(!breakers.admit(HOST, later + Duration::from_secs(9)));

        let again = later + Duration::from_secs(10);
        assert!(breakers.admit(HOST, again));
        breakers.record(HOST, Outcome::Success, again);
        assert!(breakers.admit(HOST, again));
        assert!(breakers.admit(HOST, again));
    }
}
