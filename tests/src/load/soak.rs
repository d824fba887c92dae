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

/// Relative change of `VmRSS` from the end of the first minute to the end
/// of the last, or `None` with fewer than two minutes.
pub fn rss_drift(minutes: &[SoakMinute]) -> Option<f64> {
    let (first, last) = (minutes.first()?, minutes.last()?);
    if minutes.len() < 2 || first.rss_end_kib == 0 {
        return None;
    }
    Some((last.rss_end_kib as f64 - first.rss_end_kib as f64) / first.rss_end_kib as f64)
}
