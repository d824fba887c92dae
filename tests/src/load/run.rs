//! Runs one timed phase: a fixed number of connections post requests until
//! the duration ends or the requests run out, optionally at a fixed rate.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use super::client::Connection;
use super::requests::{Prepared, RequestFactory};
use super::stats::Latencies;

/// Where a phase takes its requests from.
#[derive(Clone)]
pub enum Source {
    /// Requests built before the phase; the phase ends when they run out.
    Pool(Arc<Vec<Prepared>>),
    /// Requests built by each connection just before it sends them, taken
    /// from the factories in turn and numbered from `first`. The build
    /// time is outside the measured latency but uses the generator's CPU.
    Inline {
        factories: Arc<Vec<RequestFactory>>,
        first: u64,
    },
}

impl Source {
    fn get(&self, index: u64) -> Option<Prepared> {
        match self {
            Source::Pool(pool) => pool.get(index as usize).cloned(),
            Source::Inline { factories, first } => {
                let count = factories.len() as u64;
                let index = first + index;
                let factory = &factories[(index % count) as usize];
                Some(factory.build(index / count).0)
            }
        }
    }
}

/// How a phase sends.
#[derive(Debug, Clone, Copy)]
pub struct PhaseSpec {
    pub duration: Duration,
    pub concurrency: usize,
    /// Requests per second for the whole phase; `None` sends as fast as
    /// the connections get replies.
    pub rate: Option<f64>,
}

/// What a phase measured.
#[derive(Debug)]
pub struct PhaseResult {
    /// Requests that got HTTP 200 and a body other than `success`.
    pub answered: u64,
    /// Requests that failed, got another status, or got `success` (the
    /// host's reply when a plugin faults or the reply budget runs out), and
    /// with an expected body part, replies without it.
    pub failures: u64,
    /// From the start of the phase to the last reply.
    pub elapsed: Duration,
    /// Latency of each request counted in `answered`, from sending to the
    /// whole reply.
    pub latencies: Latencies,
    /// True when the phase ran out of prepared requests before its
    /// duration ended.
    pub exhausted: bool,
    /// Request numbers that the phase used up, sent or not: a following
    /// phase on the same source starts at this number.
    pub claimed: u64,
}

impl PhaseResult {
    /// Requests counted in `answered`, per second.
    pub fn throughput(&self) -> f64 {
        self.answered as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

struct Shared {
    source: Source,
    spec: PhaseSpec,
    /// Bytes that every counted reply must contain.
    expect: Option<Bytes>,
    start: Instant,
    next: AtomicU64,
    exhausted: AtomicBool,
}

/// Runs a phase against `address` with requests from `source`, numbered
/// from 0.
pub async fn run_phase(address: SocketAddr, source: Source, spec: PhaseSpec) -> PhaseResult {
    run_phase_expecting(address, source, spec, None).await
}

/// Like [`run_phase`], and also counts a reply as failed when its body
/// does not contain `expect`.
pub async fn run_phase_expecting(
    address: SocketAddr,
    source: Source,
    spec: PhaseSpec,
    expect: Option<Bytes>,
) -> PhaseResult {
    let shared = Arc::new(Shared {
        source,
        spec,
        expect,
        start: Instant::now(),
        next: AtomicU64::new(0),
        exhausted: AtomicBool::new(false),
    });
    let workers: Vec<_> = (0..spec.concurrency)
        .map(|_| tokio::spawn(run_worker(address, shared.clone())))
        .collect();

    let mut result = PhaseResult {
        answered: 0,
        failures: 0,
        elapsed: Duration::ZERO,
        latencies: Latencies::default(),
        exhausted: false,
        claimed: 0,
    };
    let mut parts = Vec::with_capacity(workers.len());
    for worker in workers {
        let outcome = worker.await.expect("load worker panicked");
        result.answered += outcome.answered;
        result.failures += outcome.failures;
        result.elapsed = result.elapsed.max(outcome.finished - shared.start);
        parts.push(outcome.latencies_us);
    }
    result.latencies = Latencies::merge(parts);
    result.exhausted = shared.exhausted.load(Ordering::Relaxed);
    result.claimed = shared.next.load(Ordering::Relaxed);
    result
}

struct WorkerOutcome {
    answered: u64,
    failures: u64,
    finished: Instant,
    latencies_us: Vec<u32>,
}

async fn run_worker(address: SocketAddr, shared: Arc<Shared>) -> WorkerOutcome {
    let deadline = shared.start + shared.spec.duration;
    let mut outcome = WorkerOutcome {
        answered: 0,
        failures: 0,
        finished: shared.start,
        latencies_us: Vec::with_capacity(4096),
    };
    let mut connection = None;

    loop {
        let index = shared.next.fetch_add(1, Ordering::Relaxed);
        if let Some(rate) = shared.spec.rate {
            let due = shared.start + Duration::from_secs_f64(index as f64 / rate);
            if due >= deadline {
                break;
            }
            tokio::time::sleep_until(due).await;
        }
        if Instant::now() >= deadline {
            break;
        }
        let Some(request) = shared.source.get(index) else {
            shared.exhausted.store(true, Ordering::Relaxed);
            break;
        };

        let open = match connection.take() {
            Some(open) => open,
            None => match Connection::open(address).await {
                Ok(open) => open,
                Err(_) => {
                    outcome.failures += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let mut open = open;
        let sent = Instant::now();
        match open.post(&request).await {
            Ok(response) => {
                let latency = sent.elapsed();
                connection = Some(open);
                let expected = shared
                    .expect
                    .as_ref()
                    .is_none_or(|expect| contains(&response.body, expect));
                if response.status == 200 && response.body.as_ref() != b"success" && expected {
                    outcome.answered += 1;
                    let micros = u32::try_from(latency.as_micros()).unwrap_or(u32::MAX);
                    outcome.latencies_us.push(micros);
                } else {
                    outcome.failures += 1;
                }
            }
            Err(_) => outcome.failures += 1,
        }
    }
    outcome.finished = Instant::now();
    outcome
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|window| window == needle)
}
