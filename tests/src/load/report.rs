//! Renders the results as Markdown tables, with each target of the suite
//! marked met or not met.

use std::fmt::Write;
use std::time::Duration;

use super::soak::{SoakMinute, rss_summary};
use super::suite::{ReloadResult, TargetResult};

/// Throughput ratio to the baseline that each workload should reach, by
/// the workload's name prefix.
const RATIO_TARGETS: &[(&str, f64)] = &[("W1", 0.60), ("W2", 0.50), ("W3", 0.60)];
/// Maximum p99 latency at half of the maximum throughput.
const HALF_RATE_P99_TARGET: Duration = Duration::from_millis(5);
/// Maximum resident memory of the host, in MiB.
const RSS_TARGET_MIB: f64 = 100.0;
/// Maximum RSS drift over the soak.
const DRIFT_TARGET: f64 = 0.10;

/// The host's resident memory over the suite, in KiB.
#[derive(Debug, Clone, Copy)]
pub struct RssSummary {
    pub start_kib: u64,
    pub peak_kib: u64,
    pub end_kib: u64,
}

/// Renders the suite's table, the host's memory and the target checks.
pub fn render_suite(results: &[TargetResult], rss: Option<RssSummary>) -> String {
    let mut out = String::new();
    let baseline = results
        .iter()
        .find(|result| result.is_baseline)
        .map(|result| result.full.throughput());
    out.push_str(
        "| target | req/s | p50 | p99 | ratio to baseline | failures | half-rate req/s | p50 at half | p99 at half | requests sent |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
    for result in results {
        let ratio = baseline.map(|base| result.full.throughput() / base);
        let _ = writeln!(
            out,
            "| {} | {:.0} | {} | {} | {} | {} | {:.0} (asked {:.0}) | {} | {} | {} |",
            result.name,
            result.full.throughput(),
            millis(result.full.latencies.percentile(0.50)),
            millis(result.full.latencies.percentile(0.99)),
            ratio.map_or("–".to_owned(), |ratio| format!("{ratio:.2}")),
            result.full.failures + result.half.failures,
            result.half.throughput(),
            result.half_rate,
            millis(result.half.latencies.percentile(0.50)),
            millis(result.half.latencies.percentile(0.99)),
            result.sent,
        );
    }
    for result in results {
        if result.full.exhausted {
            let _ = writeln!(
                out,
                "\nNOTE: {} used every prepared request before its duration ended; its req/s covers the shorter time.",
                result.name
            );
        }
    }
    if let Some(rss) = rss {
        let _ = writeln!(
            out,
            "\nHost VmRSS: {:.1} MiB at the start, {:.1} MiB peak, {:.1} MiB at the end.",
            mib(rss.start_kib),
            mib(rss.peak_kib),
            mib(rss.end_kib)
        );
    }
    out.push_str("\nTargets:\n\n");
    out.push_str(&render_checks(results, baseline, rss));
    out
}

fn render_checks(
    results: &[TargetResult],
    baseline: Option<f64>,
    rss: Option<RssSummary>,
) -> String {
    let mut out = String::new();
    for result in results.iter().filter(|result| !result.is_baseline) {
        let target = RATIO_TARGETS
            .iter()
            .find(|(prefix, _)| result.name.starts_with(prefix));
        if let (Some(base), Some((_, target))) = (baseline, target) {
            let ratio = result.full.throughput() / base;
            let _ = writeln!(
                out,
                "- {}: ratio {ratio:.2}, target ≥ {target:.2}: {}",
                result.name,
                verdict(ratio >= *target)
            );
        }
        let p99 = result.half.latencies.percentile(0.99);
        let _ = writeln!(
            out,
            "- {}: p99 at half rate {}, target < 5 ms: {}",
            result.name,
            millis(p99),
            verdict(p99 < HALF_RATE_P99_TARGET)
        );
    }
    if let Some(rss) = rss {
        let peak = mib(rss.peak_kib);
        let _ = writeln!(
            out,
            "- host VmRSS peak {peak:.1} MiB, target < {RSS_TARGET_MIB:.0} MiB: {}",
            verdict(peak < RSS_TARGET_MIB)
        );
    }
    out
}

/// Renders the soak's per-minute table and its RSS drift. `start_kib` is
/// the host's `VmRSS` when the soak started.
pub fn render_soak(minutes: &[SoakMinute], rate: f64, start_kib: u64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Soak: W1, W2 and W3 in turn, asked for {rate:.0} req/s over {} minutes.\n",
        minutes.len()
    );
    out.push_str("| minute | req/s | failures | p99 | VmRSS at end | VmRSS peak |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for minute in minutes {
        let _ = writeln!(
            out,
            "| {} | {:.0} | {} | {} | {:.1} MiB | {:.1} MiB |",
            minute.minute,
            minute.throughput,
            minute.failures,
            millis(minute.p99),
            mib(minute.rss_end_kib),
            mib(minute.rss_peak_kib)
        );
    }
    match rss_summary(minutes) {
        Some(summary) => {
            let _ = writeln!(
                out,
                "\nVmRSS over the soak: {:.1} MiB at the start, {:.1} MiB at the end of minute 1 (first), {:.1} MiB at the end (last), {:.1} MiB max.",
                mib(start_kib),
                mib(summary.first_kib),
                mib(summary.last_kib),
                mib(summary.max_kib)
            );
            let _ = writeln!(
                out,
                "VmRSS drift from first to last: {:+.1} %; max above first: {:+.1} %; target both within ±10 %: {}",
                summary.drift * 100.0,
                summary.max_over_first * 100.0,
                verdict(
                    summary.drift.abs() <= DRIFT_TARGET && summary.max_over_first <= DRIFT_TARGET
                )
            );
        }
        None => out.push_str("\nVmRSS drift needs at least two minutes.\n"),
    }
    out
}

/// Renders the reload check: the reloads applied and the failed requests.
pub fn render_reload(result: &ReloadResult) -> String {
    let mut out = String::new();
    let phase = &result.phase;
    let _ = writeln!(
        out,
        "Reload during load: {} at full speed for {:.0} s while its plugin file was replaced and reloaded {} times ({} applied): {} requests answered, {} failed, {:.0} req/s.",
        result.name,
        phase.elapsed.as_secs_f64(),
        result.reloads,
        result.log.applied,
        phase.answered,
        phase.failures,
        phase.throughput()
    );
    for problem in &result.log.problems {
        let _ = writeln!(out, "- reload problem: {problem}");
    }
    let _ = writeln!(
        out,
        "- failed requests during reloads {}, target 0: {}",
        phase.failures,
        verdict(reload_passed(result))
    );
    out
}

/// Returns true when every reload applied and no request failed.
pub fn reload_passed(result: &ReloadResult) -> bool {
    result.phase.failures == 0 && result.log.problems.is_empty()
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
