//! The soak run: the three workloads in turn at a fixed rate for a bounded
//! number of minutes, with the host's resident memory after each minute.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::requests::RequestFactory;
use super::rss::RssSampler;
use super::run::{PhaseSpec, Source, run_phase};

/// What one minute of the soak measured.
#[derive(Debug)]
pub struct SoakMinute {
    /// 1 for the first minute.
    pub minute: u32,
    pub throughput: f64,
    pub failures: u64,
    pub p99: Duration,
    /// `VmRSS` at the end of the minute, in KiB.
    pub rss_end_kib: u64,
    /// Highest `VmRSS` sampled during the minute, in KiB.
    pub rss_peak_kib: u64,
}

/// Sends requests from `factories` in turn at `rate` per second for
/// `minutes` minutes, building each just before it is sent. The requests
/// of one factory never repeat across minutes.
pub async fn soak(
    address: SocketAddr,
    factories: Vec<RequestFactory>,
    rate: f64,
    minutes: u32,
    concurrency: usize,
    rss: &RssSampler,
) -> Vec<SoakMinute> {
    let factories = Arc::new(factories);
    let mut first = 0;
    let mut results = Vec::with_capacity(minutes as usize);
    for minute in 1..=minutes {
        rss.reset_peak();
        let source = Source::Inline {
            factories: factories.clone(),
            first,
        };
        let spec = PhaseSpec {
            duration: Duration::from_secs(60),
            concurrency,
            rate: Some(rate),
        };
        let phase = run_phase(address, source, spec).await;
        first += phase.claimed;
        let result = SoakMinute {
            minute,
            throughput: phase.throughput(),
            failures: phase.failures,
            p99: phase.latencies.percentile(0.99),
            rss_end_kib: rss.current_kib(),
            rss_peak_kib: rss.peak_kib(),
        };
        eprintln!(
            "soak minute {minute}/{minutes}: {:.0} req/s, {} failures, VmRSS {} KiB",
            result.throughput, result.failures, result.rss_end_kib
        );
        results.push(result);
    }
    results
}

/// `VmRSS` over a soak, from the end of its first minute on, when the
/// allocations of the warm-up are done.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RssSoakSummary {
    /// At the end of minute 1, in KiB.
    pub first_kib: u64,
    /// At the end of the last minute, in KiB.
    pub last_kib: u64,
    /// Highest sample of any minute after the first, in KiB.
    pub max_kib: u64,
    /// `(last - first) / first`.
    pub drift: f64,
    /// `(max - first) / first`.
    pub max_over_first: f64,
}

/// Summarizes `VmRSS` over the soak, or returns `None` with fewer than
/// two minutes or without a first sample.
pub fn rss_summary(minutes: &[SoakMinute]) -> Option<RssSoakSummary> {
    let (first, last) = (minutes.first()?, minutes.last()?);
    if minutes.len() < 2 || first.rss_end_kib == 0 {
        return None;
    }
    let max_kib = minutes[1..]
        .iter()
        .map(|minute| minute.rss_peak_kib.max(minute.rss_end_kib))
        .max()
        .unwrap_or(first.rss_end_kib)
        .max(first.rss_end_kib);
    let relative = |kib: u64| (kib as f64 - first.rss_end_kib as f64) / first.rss_end_kib as f64;
    Some(RssSoakSummary {
        first_kib: first.rss_end_kib,
        last_kib: last.rss_end_kib,
        max_kib,
        drift: relative(last.rss_end_kib),
        max_over_first: relative(max_kib),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minute(minute: u32, end: u64, peak: u64) -> SoakMinute {
        SoakMinute {
            minute,
            throughput: 1.0,
            failures: 0,
            p99: Duration::ZERO,
            rss_end_kib: end,
            rss_peak_kib: peak,
        }
    }

    #[test]
    fn rss_summary_measures_from_minute_one() {
        let minutes = [
            minute(1, 1000, 1200),
            minute(2, 1050, 1150),
            minute(3, 1020, 1030),
        ];
        let summary = rss_summary(&minutes).expect("three minutes");
        assert_eq!(summary.first_kib, 1000);
        assert_eq!(summary.last_kib, 1020);
        assert_eq!(summary.max_kib, 1150);
        assert!((summary.drift - 0.02).abs() < 1e-9);
        assert!((summary.max_over_first - 0.15).abs() < 1e-9);
    }

    #[test]
    fn rss_summary_needs_two_minutes() {
        assert_eq!(rss_summary(&[minute(1, 1000, 1000)]), None);
        assert_eq!(rss_summary(&[]), None);
    }
}
