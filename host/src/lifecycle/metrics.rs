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

/// The series of one metric: rendered label set to value.
type Series = BTreeMap<String, f64>;

/// The lifecycle's metrics. Any thread may update them, and updating a
/// series that exists allocates nothing.
#[derive(Debug, Default)]
pub struct Metrics {
    values: Mutex<BTreeMap<&'static str, Series>>,
}

impl Metrics {
    /// Adds 1 to the counter `name` with `labels`.
    pub fn inc(&self, name: &'static str, labels: &[(&str, &str)]) {
        self.add(name, labels, 1.0);
    }

    /// Adds `value` to the counter `name` with `labels`.
    pub fn add(&self, name: &'static str, labels: &[(&str, &str)], value: f64) {
        self.update(name, labels, |current| *current += value);
    }

    /// Sets the gauge `name` with `labels` to `value`.
    pub fn set(&self, name: &'static str, labels: &[(&str, &str)], value: f64) {
        self.update(name, labels, |current| *current = value);
    }

    /// Returns the value of `name` with `labels`, or 0.
    pub fn get(&self, name: &'static str, labels: &[(&str, &str)]) -> f64 {
        with_rendered(labels, |rendered| {
            self.lock()
                .get(name)
                .and_then(|series| series.get(rendered))
                .copied()
                .unwrap_or(0.0)
        })
    }

    /// Renders every metric that has a value, in the Prometheus text
    /// exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let values = self.lock();
        let mut text = String::new();
        for (name, kind, help) in METRICS {
            let Some(series) = values.get(name).filter(|series| !series.is_empty()) else {
                continue;
            };
            let _ = writeln!(text, "# HELP {name} {help}");
            let _ = writeln!(text, "# TYPE {name} {kind}");
            for (labels, value) in series {
                let _ = writeln!(text, "{name}{labels} {value}");
            }
        }
        text
    }

    /// Applies `change` to the series of `name` with `labels`, which
    /// starts at 0.
    fn update(&self, name: &'static str, labels: &[(&str, &str)], change: impl FnOnce(&mut f64)) {
        with_rendered(labels, |rendered| {
            let mut values = self.lock();
            let series = values.entry(name).or_default();
            match series.get_mut(rendered) {
                Some(current) => change(current),
                None => change(series.entry(rendered.to_owned()).or_insert(0.0)),
            }
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, Series>> {
        self.values
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Calls `work` with `labels` rendered as `{key="value",...}`, or the
/// empty string without labels, in a buffer that each thread reuses.
fn with_rendered<T>(labels: &[(&str, &str)], work: impl FnOnce(&str) -> T) -> T {
    thread_local! {
        static BUFFER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    BUFFER.with(|buffer| match buffer.try_borrow_mut() {
        Ok(mut buffer) => {
            buffer.clear();
            render_labels(labels, &mut buffer);
            work(&buffer)
        }
        // Reached only when `work` itself updates metrics on this thread.
        Err(_) => {
            let mut rendered = String::new();
            render_labels(labels, &mut rendered);
            work(&rendered)
        }
    })
}

fn render_labels(labels: &[(&str, &str)], out: &mut String) {
    if labels.is_empty() {
        return;
    }
    out.push('{');
    for (index, (key, value)) in labels.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push_str("=\"");
        escape_into(value, out);
        out.push('"');
    }
    out.push('}');
}

/// Appends `value` with backslash, double quote and newline escaped.
fn escape_into(value: &str, out: &mut String) {
    for character in value.chars() {
        match character {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            other => out.push(other),
        }
    }
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

    #[test]
    fn get_reads_added_and_set_values() {
        let metrics = Metrics::default();
        let labels = [("plugin", "back\\slash\nline")];
        metrics.add("wxhost_plugin_load_seconds_total", &labels, 0.25);
        metrics.add("wxhost_plugin_load_seconds_total", &labels, 0.5);
        metrics.set("wxhost_plugin_breaker_state", &[], 2.0);

        assert_eq!(
            metrics.get("wxhost_plugin_load_seconds_total", &labels),
            0.75
        );
        assert_eq!(metrics.get("wxhost_plugin_breaker_state", &[]), 2.0);
        assert_eq!(metrics.get("wxhost_plugin_breaker_state", &labels), 0.0);
        assert!(
            metrics.render().contains(
                "wxhost_plugin_load_seconds_total{plugin=\"back\\\\slash\\nline\"} 0.75\n"
            )
        );
        assert!(metrics.render().contains("wxhost_plugin_breaker_state 2\n"));
    }
}
