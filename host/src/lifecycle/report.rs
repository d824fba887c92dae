//! The view of the plugins that `GET /admin/plugins` returns.

use serde::Serialize;

use super::Lifecycle;
use super::entry::{PluginEntry, Role};
use crate::config::FailurePolicy;

/// One plugin in the admin API.
#[derive(Debug, Serialize)]
pub struct PluginReport {
    pub name: String,
    /// `success`, `fallback` or `next`.
    pub on_fault: &'static str,
    pub breaker: BreakerReport,
    /// The live version first, then the canary and the shadow, if configured.
    pub versions: Vec<VersionReport>,
}

/// A plugin's breaker in the admin API.
#[derive(Debug, Serialize)]
pub struct BreakerReport {
    /// `closed`, `open` or `half_open`.
    pub state: &'static str,
    pub consecutive_faults: u32,
    pub failures_to_open: u32,
    pub cool_down_ms: u64,
}

/// One role's version in the admin API.
#[derive(Debug, Serialize)]
pub struct VersionReport {
    pub role: Role,
    pub path: String,
    /// SHA-256 of the `.wasm` serving in this role; none for a canary
    /// that was rolled back.
    pub version: Option<String>,
    /// Unix seconds of the swap that put the version in service.
    pub loaded_at: Option<u64>,
    /// `serving`, `failed` or `rolled_back`.
    pub state: &'static str,
    pub last_error: Option<String>,
    pub last_error_at: Option<u64>,
    /// The canary's share of followers, in percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
}

impl Lifecycle {
    /// Returns the admin view of every plugin, in config order.
    pub fn plugin_reports(&self) -> Vec<PluginReport> {
        let live = self.live();
        live.dispatcher
            .plugins()
            .iter()
            .map(|entry| report(entry))
            .collect()
    }
}

fn report(entry: &PluginEntry) -> PluginReport {
    let versions = entry.versions();
    let (state, consecutive_faults) = entry.breaker_state();
    let mut statuses = entry.statuses();
    statuses.sort_by_key(|(role, _)| *role);
    let versions = statuses
        .into_iter()
        .map(|(role, status)| {
            let version = versions.get(role);
            VersionReport {
                role,
                path: status.path.display().to_string(),
                version: version.map(|v| v.plugin.content_hash().to_owned()),
                loaded_at: version.map(|v| v.loaded_at),
                state: status.state,
                last_error: status.last_error,
                last_error_at: status.last_error_at,
                percent: (role == Role::Canary)
                    .then(|| entry.config.canary.as_ref().map(|c| c.percent))
                    .flatten(),
            }
        })
        .collect();
    PluginReport {
        name: entry.name.clone(),
        on_fault: match entry.policy() {
            FailurePolicy::Success => "success",
            FailurePolicy::Fallback => "fallback",
            FailurePolicy::Next => "next",
        },
        breaker: BreakerReport {
            state: state.as_str(),
            consecutive_faults,
            failures_to_open: entry.config.breaker.failures,
            cool_down_ms: entry.config.breaker.cool_down_ms,
        },
        versions,
    }
}
