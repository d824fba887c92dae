//! The plugin lifecycle side of the config: failure policy, circuit
//! breaker, canary and shadow versions, reloading and recording.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::validate::Problems;
use super::{Config, LoadMode, PluginConfig};

/// Default `limits.max_binary_bytes`: 16 MiB. Rust plugins built with the
/// `plugin` profile weigh 100 KiB to 2 MiB.
pub const DEFAULT_MAX_BINARY_BYTES: u64 = 16 * 1024 * 1024;
/// Default `breaker.failures`: consecutive faults that open the breaker.
pub const DEFAULT_BREAKER_FAILURES: u32 = 5;
/// Default `breaker.cool_down_ms`: how long an open breaker skips the
/// plugin before it lets one probe call through.
pub const DEFAULT_BREAKER_COOL_DOWN_MS: u64 = 30_000;
/// Default `canary.max_fault_rate`: the fraction of faulted canary calls
/// within the window that rolls the canary back.
pub const DEFAULT_CANARY_MAX_FAULT_RATE: f64 = 0.2;
/// Default `canary.window_secs`.
pub const DEFAULT_CANARY_WINDOW_SECS: u64 = 60;
/// Default `canary.min_calls`: calls within the window before the fault
/// rate is judged, so one early trap does not roll a canary back.
pub const DEFAULT_CANARY_MIN_CALLS: u32 = 10;
/// Default `reload.poll_interval_ms`.
pub const DEFAULT_POLL_INTERVAL_MS: u64 = 1000;
/// Default `reload.compile_timeout_secs`. Compiling a componentize-py
/// component takes seconds; this leaves room for a busy machine.
pub const DEFAULT_COMPILE_TIMEOUT_SECS: u64 = 300;

/// `plugins[].on_fault`: what the callback gets when the plugin faults
/// or its breaker is open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailurePolicy {
    /// The host replies `success`, which WeChat shows as no reply.
    #[default]
    Success,
    /// The callback gets the plugin's `fallback_reply` text.
    Fallback,
    /// The callback passes on to the next plugin in the route.
    Next,
}

/// `[plugins.breaker]`: the circuit breaker of one plugin.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct BreakerConfig {
    /// Consecutive faults that open the breaker.
    pub failures: u32,
    /// Time an open breaker skips the plugin before one probe call.
    pub cool_down_ms: u64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failures: DEFAULT_BREAKER_FAILURES,
            cool_down_ms: DEFAULT_BREAKER_COOL_DOWN_MS,
        }
    }
}

/// `[plugins.canary]`: a new version that serves a share of followers.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CanaryConfig {
    /// The new component, relative to the config file.
    pub path: PathBuf,
    /// Share of followers, chosen by a stable hash of the openid, in
    /// percent (0.01 to 100).
    pub percent: f64,
    /// Fraction of faulted calls within `window_secs` that rolls the
    /// canary back.
    #[serde(default = "default_max_fault_rate")]
    pub max_fault_rate: f64,
    /// Length of the sliding window of canary calls, in seconds.
    #[serde(default = "default_window_secs")]
    pub window_secs: u64,
    /// Calls within the window before the fault rate is judged.
    #[serde(default = "default_min_calls")]
    pub min_calls: u32,
}

fn default_max_fault_rate() -> f64 {
    DEFAULT_CANARY_MAX_FAULT_RATE
}

fn default_window_secs() -> u64 {
    DEFAULT_CANARY_WINDOW_SECS
}

fn default_min_calls() -> u32 {
    DEFAULT_CANARY_MIN_CALLS
}

/// `[plugins.shadow]`: a new version that runs beside the live one on the
/// same callbacks; its directives are compared and logged, never used.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ShadowConfig {
    /// The new component, relative to the config file.
    pub path: PathBuf,
}

/// `[reload]`: how the host notices changed plugin files.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct ReloadConfig {
    /// Whether the host polls the plugin files named in the config.
    pub watch: bool,
    /// Time between two polls of the plugin files.
    pub poll_interval_ms: u64,
    /// Directory of precompiled components. Default: `wxhost-artifacts`
    /// in the directory of `store.path`.
    pub artifact_dir: Option<PathBuf>,
    /// Time the child process that compiles one plugin component may run
    /// before it is killed and the load fails, in seconds.
    pub compile_timeout_secs: u64,
}

impl Default for ReloadConfig {
    fn default() -> Self {
        ReloadConfig {
            watch: true,
            poll_interval_ms: DEFAULT_POLL_INTERVAL_MS,
            artifact_dir: None,
            compile_timeout_secs: DEFAULT_COMPILE_TIMEOUT_SECS,
        }
    }
}

/// `[recording]`: callbacks and the directives they produced, kept as
/// JSON lines for `wxhost replay`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RecordingConfig {
    /// Whether callbacks are recorded.
    #[serde(default)]
    pub enabled: bool,
    /// The JSON-lines file, relative to the config file; records are
    /// appended.
    pub path: PathBuf,
}

impl Config {
    /// Returns the directory of precompiled components.
    pub fn artifact_dir(&self) -> PathBuf {
        match &self.reload.artifact_dir {
            Some(dir) => self.resolve_path(dir),
            None => {
                let store = self.resolve_path(&self.store.path);
                let parent = store.parent().map(PathBuf::from).unwrap_or_default();
                parent.join("wxhost-artifacts")
            }
        }
    }
}

pub(super) fn validate_reload(config: &Config, problems: &mut Problems) {
    let interval = config.reload.poll_interval_ms;
    if !(50..=60_000).contains(&interval) {
        problems.add(
            "reload.poll_interval_ms",
            format!("{interval} is out of range; use 50 to 60000"),
        );
    }
    let compile_timeout = config.reload.compile_timeout_secs;
    if !(1..=3600).contains(&compile_timeout) {
        problems.add(
            "reload.compile_timeout_secs",
            format!("{compile_timeout} is out of range; use 1 to 3600"),
        );
    }
    if let Some(recording) = &config.recording
        && recording.enabled
    {
        let path = config.resolve_path(&recording.path);
        let parent_exists = path.parent().is_none_or(|parent| parent.is_dir());
        if !parent_exists {
            problems.add(
                "recording.path",
                format!(
                    "the directory of {} does not exist; create it or fix the path",
                    path.display()
                ),
            );
        }
    }
}

pub(super) fn validate_lifecycle(
    config: &Config,
    plugin: &PluginConfig,
    field: &str,
    mode: LoadMode,
    problems: &mut Problems,
) {
    let max_binary_bytes = plugin
        .limits
        .max_binary_bytes
        .unwrap_or(DEFAULT_MAX_BINARY_BYTES);
    if !(1024..=256 * 1024 * 1024).contains(&max_binary_bytes) {
        problems.add(
            format!("{field}.limits.max_binary_bytes"),
            format!("{max_binary_bytes} is out of range; use 1024 to 268435456"),
        );
    }
    check_size(
        config,
        mode,
        &plugin.path,
        max_binary_bytes,
        &format!("{field}.path"),
        problems,
    );

    match (plugin.on_fault, plugin.fallback_reply.as_deref()) {
        (FailurePolicy::Fallback, None | Some("")) => problems.add(
            format!("{field}.fallback_reply"),
            "on_fault = \"fallback\" needs a non-empty fallback_reply text",
        ),
        (FailurePolicy::Success | FailurePolicy::Next, Some(_)) => problems.add(
            format!("{field}.fallback_reply"),
            "fallback_reply is used only with on_fault = \"fallback\"",
        ),
        _ => {}
    }

    let breaker = &plugin.breaker;
    if breaker.failures == 0 {
        problems.add(format!("{field}.breaker.failures"), "must be at least 1");
    }
    if !(1..=3_600_000).contains(&breaker.cool_down_ms) {
        problems.add(
            format!("{field}.breaker.cool_down_ms"),
            format!("{} is out of range; use 1 to 3600000", breaker.cool_down_ms),
        );
    }

    if let Some(canary) = &plugin.canary {
        check_file(
            config,
            mode,
            &canary.path,
            &format!("{field}.canary.path"),
            problems,
        );
        check_size(
            config,
            mode,
            &canary.path,
            max_binary_bytes,
            &format!("{field}.canary.path"),
            problems,
        );
        if !(canary.percent > 0.0 && canary.percent <= 100.0) {
            problems.add(
                format!("{field}.canary.percent"),
                format!("{} is out of range; use 0.01 to 100", canary.percent),
            );
        }
        if !(canary.max_fault_rate > 0.0 && canary.max_fault_rate <= 1.0) {
            problems.add(
                format!("{field}.canary.max_fault_rate"),
                format!(
                    "{} is out of range; use a fraction above 0 and at most 1",
                    canary.max_fault_rate
                ),
            );
        }
        if !(1..=86_400).contains(&canary.window_secs) {
            problems.add(
                format!("{field}.canary.window_secs"),
                format!("{} is out of range; use 1 to 86400", canary.window_secs),
            );
        }
        if canary.min_calls == 0 {
            problems.add(format!("{field}.canary.min_calls"), "must be at least 1");
        }
    }
    if let Some(shadow) = &plugin.shadow {
        check_file(
            config,
            mode,
            &shadow.path,
            &format!("{field}.shadow.path"),
            problems,
        );
        check_size(
            config,
            mode,
            &shadow.path,
            max_binary_bytes,
            &format!("{field}.shadow.path"),
            problems,
        );
    }
}

/// Reports a missing file. [`LoadMode::Client`] skips this check.
fn check_file(config: &Config, mode: LoadMode, path: &Path, field: &str, problems: &mut Problems) {
    if mode == LoadMode::Client {
        return;
    }
    let resolved = config.resolve_path(path);
    if let Some(problem) = super::validate::plugin_file_problem(&resolved, path, "fix the path") {
        problems.add(field, problem);
    }
}

/// Reports a file over `max_bytes`. [`LoadMode::Client`] skips this check.
fn check_size(
    config: &Config,
    mode: LoadMode,
    path: &Path,
    max_bytes: u64,
    field: &str,
    problems: &mut Problems,
) {
    if mode == LoadMode::Client {
        return;
    }
    let resolved = config.resolve_path(path);
    if let Ok(metadata) = std::fs::metadata(&resolved)
        && metadata.len() > max_bytes
    {
        problems.add(
            field,
            format!(
                "{} has {} bytes, more than limits.max_binary_bytes {max_bytes}",
                resolved.display(),
                metadata.len()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, ConfigError, LoadMode};

    /// A plugin whose file is missing and whose canary file is larger
    /// than its `limits.max_binary_bytes`.
    const BROKEN_PLUGIN_FILES: &str = r#"
[[accounts]]
name = "demo"
appid = "wx1234567890abcdef"
token = "fake:faketoken"

[[plugins]]
name = "echo"
path = "echo.wasm"
messages = ["text"]
limits = { max_binary_bytes = 1024 }

[plugins.canary]
path = "big.wasm"
percent = 10
"#;

    #[test]
    fn lifecycle_problems_are_listed() {
        let text = r#"
[reload]
poll_interval_ms = 10
compile_timeout_secs = 0

[[plugins]]
name = "echo"
path = "echo.wasm"
messages = ["text"]
on_fault = "fallback"

[plugins.breaker]
failures = 0

[plugins.canary]
path = "echo-2.wasm"
percent = 150
max_fault_rate = 0
"#;
        let Err(ConfigError::Invalid { problems, .. }) =
            Config::parse(text, Path::new("/nonexistent"))
        else {
            panic!("expected validation problems");
        };
        let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            listed,
            [
                "reload.poll_interval_ms: 10 is out of range; use 50 to 60000",
                "reload.compile_timeout_secs: 0 is out of range; use 1 to 3600",
                "plugins[0].path: plugin file /nonexistent/echo.wasm not found; build the plugins first (see README) or fix the path",
                "plugins[0].fallback_reply: on_fault = \"fallback\" needs a non-empty fallback_reply text",
                "plugins[0].breaker.failures: must be at least 1",
                "plugins[0].canary.path: plugin file /nonexistent/echo-2.wasm not found; fix the path",
                "plugins[0].canary.percent: 150 is out of range; use 0.01 to 100",
                "plugins[0].canary.max_fault_rate: 0 is out of range; use a fraction above 0 and at most 1",
            ]
        );
    }

    #[test]
    fn strict_mode_checks_plugin_files() {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::write(dir.path().join("big.wasm"), vec![0u8; 2048]).expect("write big.wasm");
        let Err(ConfigError::Invalid { problems, .. }) =
            Config::parse_with(BROKEN_PLUGIN_FILES, dir.path(), LoadMode::Strict)
        else {
            panic!("expected validation problems");
        };
        let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let dir = dir.path().display();
        assert_eq!(
            listed,
            [
                format!(
                    "plugins[0].path: plugin file {dir}/echo.wasm not found; build the plugins first (see README) or fix the path"
                ),
                format!(
                    "plugins[0].canary.path: {dir}/big.wasm has 2048 bytes, more than limits.max_binary_bytes 1024"
                ),
            ]
        );
    }

    #[test]
    fn client_mode_skips_plugin_files() {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::write(dir.path().join("big.wasm"), vec![0u8; 2048]).expect("write big.wasm");
        let config = Config::parse_with(BROKEN_PLUGIN_FILES, dir.path(), LoadMode::Client);
        assert!(config.is_ok(), "{:?}", config.err());
    }

    #[test]
    fn client_mode_keeps_other_checks() {
        let text = BROKEN_PLUGIN_FILES.replace("percent = 10", "percent = 150");
        let Err(ConfigError::Invalid { problems, .. }) =
            Config::parse_with(&text, Path::new("/nonexistent"), LoadMode::Client)
        else {
            panic!("expected validation problems");
        };
        let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            listed,
            ["plugins[0].canary.percent: 150 is out of range; use 0.01 to 100"]
        );
    }
}
