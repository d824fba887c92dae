//! Counters and gauges of the plugin lifecycle, rendered in the
//! Prometheus text format for `GET /metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Every metric: its name, its type and its help text.
const METRICS: &[(&str, &str, &str)] = &[
    (
        "wxhost_plugin_calls_total",
        "counter",
        "Plugin calls by plugin, version role (live, canary, shadow) and result (ok, fault).",
    ),
    (
        "wxhost_plugin_faults_total",
        "counter",
        "Faulted plugin calls by plugin, version role and fault kind.",
    ),
    (
        "wxhost_plugin_skipped_total",
        "counter",
        "Callbacks that skipped a plugin because its breaker was open.",
    ),
    (
        "wxhost_plugin_breaker_state",
        "gauge",
        "Breaker state per plugin: 0 closed, 1 open, 2 half-open.",
    ),
    (
        "wxhost_plugin_breaker_opened_total",
        "counter",
        "Times a plugin's breaker opened.",
    ),
    (
        "wxhost_plugin_reloads_total",
        "counter",
        "Plugin file reloads by plugin, role and result (loaded, failed).",
    ),
    (
        "wxhost_plugin_load_seconds_total",
        "counter",
        "Time spent loading plugin versions, by source (compiled, cached).",
    ),
    (
        "wxhost_canary_rollbacks_total",
        "counter",
        "Canaries removed because their fault rate reached the threshold.",
    ),
    (
        "wxhost_shadow_runs_total",
        "counter",
        "Shadow runs by plugin and result (same, changed, fault).",
    ),
    (
        "wxhost_config_reloads_total",
        "counter",
        "Config reloads by result (applied, rejected).",
    ),
];

/// The lifecycle's metrics. Cheap to update from any thread.
#[derive(Debug, Default)]
pub struct Metrics {
    values: Mutex<BTreeMap<(&'static str, String), f64>>,
}

impl Metrics {
    /// Adds 1 to the counter `name` with `labels`.
    pub fn inc(&self, name: &'static str, labels: &[(&str, &str)]) {
        self.add(name, labels, 1.0);
    }

    /// Adds `value` to the counter `name` with `labels`.
    pub fn add(&self, name: &'static str, labels: &[(&str, &str)], value: f64) {
        let mut values = self.lock();
        *values.entry((name, render_labels(labels))).or_insert(0.0) += value;
    }

    /// Sets the gauge `name` with `labels` to `value`.
    pub fn set(&self, name: &'static str, labels: &[(&str, &str)], value: f64) {
        self.lock().insert((name, render_labels(labels)), value);
    }

    /// Returns the value of `name` with `labels`, or 0.
    pub fn get(&self, name: &'static str, labels: &[(&str, &str)]) -> f64 {
        self.lock()
            .get(&(name, render_labels(labels)))
            .copied()
            .unwrap_or(0.0)
    }

    /// Renders every metric that has a value, in the Prometheus text
    /// exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let values = self.lock();
        let mut text = String::new();
        for (name, kind, help) in METRICS {
            let mut series = values
                .range((*name, String::new())..)
                .take_while(|((n, _), _)| n == name);
            let Some(first) = series.next() else {
                continue;
            };
            let _ = writeln!(text, "# HELP {name} {help}");
            let _ = writeln!(text, "# TYPE {name} {kind}");
            for ((_, labels), value) in std::iter::once(first).chain(series) {
                let _ = writeln!(text, "{name}{labels} {value}");
            }
        }
        text
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(&'static str, String), f64>> {
        self.values
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn render_labels(labels: &[(&str, &str)]) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let pairs: Vec<String> = labels
        .iter()
        .map(|(key, value)| format!("{key}=\"{}\"", escape(value)))
        .collect();
    format!("{{{}}}", pairs.join(","))
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_groups_series_under_help() {
        let metrics = Metrics::default();
        metrics.inc(
            "wxhost_plugin_reloads_total",
            &[("plugin", "echo"), ("result", "failed")],
        );
        metrics.inc(
            "wxhost_plugin_reloads_total",
            &[("plugin", "echo"), ("result", "failed")],
        );
        metrics.set("wxhost_plugin_breaker_state", &[("plugin", "a\"b")], 1.0);
        assert_eq!(
            metrics.render(),
            "# HELP wxhost_plugin_breaker_state Breaker state per plugin: 0 closed, 1 open, 2 half-open.\n\
             # TYPE wxhost_plugin_breaker_state gauge\n\
             wxhost_plugin_breaker_state{plugin=\"a\\\"b\"} 1\n\
             # HELP wxhost_plugin_reloads_total Plugin file reloads by plugin, role and result (loaded, failed).\n\
             # TYPE wxhost_plugin_reloads_total counter\n\
             wxhost_plugin_reloads_total{plugin=\"echo\",result=\"failed\"} 2\n"
        );
    }
}
