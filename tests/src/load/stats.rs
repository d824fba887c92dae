//! Latency percentiles of a phase.

use std::time::Duration;

/// All latencies of a phase in microseconds, sorted ascending.
#[derive(Debug, Default)]
pub struct Latencies {
    sorted_us: Vec<u32>,
}

impl Latencies {
    /// Merges the per-connection samples and sorts them.
    pub fn merge(parts: Vec<Vec<u32>>) -> Latencies {
        let mut sorted_us: Vec<u32> = parts.into_iter().flatten().collect();
        sorted_us.sort_unstable();
        Latencies { sorted_us }
    }

    /// Returns the `quantile` (0.0 to 1.0) by the nearest-rank method, or
    /// zero when there are no samples.
    pub fn percentile(&self, quantile: f64) -> Duration {
        if self.sorted_us.is_empty() {
            return Duration::ZERO;
        }
        let rank = (quantile * self.sorted_us.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.sorted_us.len()) - 1;
        Duration::from_micros(u64::from(self.sorted_us[index]))
    }

    /// Returns the number of samples.
    pub fn len(&self) -> usize {
        self.sorted_us.len()
    }

    /// Returns true when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.sorted_us.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_nearest_rank() {
        let latencies = Latencies::merge(vec![vec![5, 1, 4], vec![2, 3]]);
        assert_eq!(latencies.percentile(0.5), Duration::from_micros(3));
        assert_eq!(latencies.percentile(0.99), Duration::from_micros(5));
        assert_eq!(latencies.percentile(0.0), Duration::from_micros(1));
        assert_eq!(latencies.len(), 5);
    }

    #[test]
    fn percentile_empty_is_zero() {
        let latencies = Latencies::default();
        assert_eq!(latencies.percentile(0.99), Duration::ZERO);
        assert!(latencies.is_empty());
    }
}
