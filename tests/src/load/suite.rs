//! Measures one target: a sample check, a warm-up, a run at full speed and
//! a run at half of the throughput that the full-speed run reached.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use bytes::Bytes;

use super::check::{Expected, check_reply};
use super::client::Connection;
use super::reload::{ReloadLog, Reloader};
use super::requests::{AccountKeys, RequestFactory, Scenario};
use super::run::{PhaseResult, PhaseSpec, Source, run_phase, run_phase_expecting};

/// A server and the callbacks it receives.
pub struct Target {
    /// Name in the results table, such as `W1 plain text`.
    pub name: String,
    pub address: SocketAddr,
    pub scenario: Scenario,
    pub keys: AccountKeys,
    pub expected: Expected,
    /// Content of the text messages.
    pub text: String,
    /// QR scene of the subscribe events.
    pub scene: String,
}

/// Phase lengths and sizes shared by all targets.
#[derive(Debug, Clone, Copy)]
pub struct SuiteSettings {
    pub concurrency: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// Upper bound on the throughput, in requests per second, that the
    /// prepared requests of a phase are sized for.
    pub rate_cap: f64,
    /// Requests whose replies are checked one by one before the warm-up.
    pub sample: usize,
    /// Threads that build the prepared requests.
    pub build_threads: usize,
}

/// What the phases of one target measured.
pub struct TargetResult {
    pub name: String,
    /// True for the baseline server, whose throughput the ratios divide by.
    pub is_baseline: bool,
    pub full: PhaseResult,
    /// The rate the half-speed run was asked for.
    pub half_rate: f64,
    pub half: PhaseResult,
    /// Requests sent, sample and warm-up included. Each one is distinct.
    pub sent: u64,
}

/// Checks a sample of replies, probes and warms up, then runs the target at full and
/// at half speed. Fails when a sample reply is wrong.
pub async fn measure(target: &Target, settings: &SuiteSettings) -> anyhow::Result<TargetResult> {
    let factory = RequestFactory::new(
        target.scenario,
        target.keys.clone(),
        &target.text,
        &target.scene,
    );
    check_sample(target, &factory, settings.sample)
        .await
        .with_context(|| format!("{}: a sample reply is wrong", target.name))?;
    let mut next = settings.sample as u64;

    // A short probe sizes the warm-up's pool, and the warm-up sizes the
    // full-speed run's, so no phase prepares far more than it sends.
    let probe = Phase {
        count: PROBE_REQUESTS,
        duration: settings.warmup,
        rate: None,
    };
    let probe = run_pool(target, &factory, &mut next, probe, settings).await;
    let warmup = Phase {
        count: pool_size(probe.throughput() * 2.0, settings.warmup, settings),
        duration: settings.warmup,
        rate: None,
    };
    let warmup = run_pool(target, &factory, &mut next, warmup, settings).await;

    let full = Phase {
        count: pool_size(warmup.throughput() * 1.5, settings.duration, settings),
        duration: settings.duration,
        rate: None,
    };
    let full = run_pool(target, &factory, &mut next, full, settings).await;

    let half_rate = full.throughput() / 2.0;
    let half_count = (half_rate * settings.duration.as_secs_f64()).ceil() as usize;
    let half = Phase {
        count: half_count,
        duration: settings.duration,
        rate: Some(half_rate),
    };
    let half = run_pool(target, &factory, &mut next, half, settings).await;

    let sent = settings.sample as u64
        + attempts(&probe)
        + attempts(&warmup)
        + attempts(&full)
        + attempts(&half);
    Ok(TargetResult {
        name: target.name.clone(),
        is_baseline: matches!(target.expected, Expected::Constant(_)),
        full,
        half_rate,
        half,
        sent,
    })
}

/// What the reload check measured.
pub struct ReloadResult {
    pub name: String,
    /// Reloads asked for.
    pub reloads: u32,
    pub log: ReloadLog,
    pub phase: PhaseResult,
}

/// Runs `target` at full speed for the suite's duration while `reloader`
/// replaces and reloads its plugin `reloads` times. A reply counts as
/// failed unless it carries the target's expected text. `throughput` (the
/// target's full-speed result) sizes the prepared requests.
pub async fn measure_under_reload(
    target: &Target,
    settings: &SuiteSettings,
    throughput: f64,
    reloader: &Reloader,
    reloads: u32,
) -> anyhow::Result<ReloadResult> {
    let factory = RequestFactory::new(
        target.scenario,
        target.keys.clone(),
        &target.text,
        &target.scene,
    );
    let count = pool_size(throughput * 1.5, settings.duration, settings) + settings.concurrency;
    let pool = Arc::new(factory.build_pool(0, count, settings.build_threads));
    let spec = PhaseSpec {
        duration: settings.duration,
        concurrency: settings.concurrency,
        rate: None,
    };
    let expect = match &target.expected {
        Expected::Text(text) if !text.contains("{scene}") => Some(Bytes::from(text.clone())),
        _ => None,
    };
    let (phase, log) = tokio::join!(
        run_phase_expecting(target.address, Source::Pool(pool), spec, expect),
        reloader.run(reloads, settings.duration),
    );
    Ok(ReloadResult {
        name: target.name.clone(),
        reloads,
        log: log?,
        phase,
    })
}

/// Requests of the probe that sizes the warm-up.
const PROBE_REQUESTS: usize = 2000;

/// Returns the requests to prepare for `duration` at `rate` per second,
/// with the rate capped at [`SuiteSettings::rate_cap`].
fn pool_size(rate: f64, duration: Duration, settings: &SuiteSettings) -> usize {
    (rate.min(settings.rate_cap) * duration.as_secs_f64()).ceil() as usize
}

/// One phase of a target: how many requests to prepare, how long to run
/// at most, and at which rate.
struct Phase {
    count: usize,
    duration: Duration,
    rate: Option<f64>,
}

/// Builds the phase's requests (plus one per connection, so that the
/// requests in flight at the end never empty the pool early), then runs
/// them. The phase ends at its duration or when the pool is empty.
async fn run_pool(
    target: &Target,
    factory: &RequestFactory,
    next: &mut u64,
    phase: Phase,
    settings: &SuiteSettings,
) -> PhaseResult {
    let count = phase.count + settings.concurrency;
    let pool = Arc::new(factory.build_pool(*next, count, settings.build_threads));
    // The next phase starts after the whole pool, also after the requests
    // that this phase leaves unsent, so no request is sent twice.
    *next += count as u64;
    let spec = PhaseSpec {
        duration: phase.duration,
        concurrency: settings.concurrency,
        rate: phase.rate,
    };
    run_phase(target.address, Source::Pool(pool), spec).await
}

fn attempts(phase: &PhaseResult) -> u64 {
    phase.answered + phase.failures
}

async fn check_sample(
    target: &Target,
    factory: &RequestFactory,
    sample: usize,
) -> anyhow::Result<()> {
    let mut connection = Connection::open(target.address).await?;
    for index in 0..sample as u64 {
        let (request, sent) = factory.build(index);
        let response = connection.post(&request).await?;
        check_reply(
            target.scenario,
            &target.keys,
            &sent,
            &target.expected,
            &response,
        )
        .with_context(|| format!("sample request {index}"))?;
    }
    Ok(())
}
