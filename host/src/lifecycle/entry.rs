//! One configured plugin: its loaded versions, its breaker, its canary
//! statistics and what the admin API shows about it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::breaker::{Admission, Breaker, BreakerState};
use super::canary::{FaultWindow, RollbackReason};
use super::metrics::Metrics;
use crate::config::{FailurePolicy, PluginConfig};
use crate::routing::RouteRules;
use crate::runtime::Plugin;

/// The three versions a plugin can have at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Serves every follower the canary does not.
    Live,
    /// Serves `canary.percent` of followers.
    Canary,
    /// Runs beside the live version without effect.
    Shadow,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Live, Role::Canary, Role::Shadow];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Live => "live",
            Role::Canary => "canary",
            Role::Shadow => "shadow",
        }
    }
}

/// One loaded component.
#[derive(Debug)]
pub struct Version {
    pub plugin: Plugin,
    /// Unix seconds of the swap that put it in service.
    pub loaded_at: u64,
}

/// The versions in service. Replaced as a whole, so a callback that took
/// a snapshot finishes on the versions it started with.
#[derive(Debug, Clone)]
pub struct Versions {
    pub live: Arc<Version>,
    pub canary: Option<Arc<Version>>,
    pub shadow: Option<Arc<Version>>,
}

impl Versions {
    pub fn get(&self, role: Role) -> Option<&Arc<Version>> {
        match role {
            Role::Live => Some(&self.live),
            Role::Canary => self.canary.as_ref(),
            Role::Shadow => self.shadow.as_ref(),
        }
    }
}

/// The load state of one role's file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RoleStatus {
    pub path: PathBuf,
    /// `serving`, `failed` (the last load failed and the previous version
    /// serves), `rolled_back` (a canary removed for its fault rate).
    pub state: &'static str,
    /// The reason of the last failed load or rollback. A later successful
    /// load keeps it, so `state` shows whether it still applies.
    pub last_error: Option<String>,
    /// Unix seconds of the last failed load or rollback.
    pub last_error_at: Option<u64>,
    /// SHA-256 of the last file content the host tried to load.
    #[serde(skip)]
    pub attempted_hash: Option<String>,
    /// Modification time and size of the file at the last check.
    #[serde(skip)]
    pub stamp: Option<(SystemTime, u64)>,
}

/// A configured plugin with everything that outlives a file reload.
#[derive(Debug)]
pub struct PluginEntry {
    pub name: String,
    /// The `[[plugins]]` table it was built from.
    pub config: PluginConfig,
    pub rules: RouteRules,
    versions: RwLock<Arc<Versions>>,
    breaker: Mutex<Breaker>,
    canary_window: Mutex<FaultWindow>,
    status: Mutex<Vec<(Role, RoleStatus)>>,
    metrics: Arc<Metrics>,
}

impl PluginEntry {
    /// Creates an entry serving `versions`; `paths` are the resolved
    /// files of each role present.
    pub fn new(
        config: PluginConfig,
        versions: Versions,
        paths: Vec<(Role, PathBuf)>,
        metrics: Arc<Metrics>,
    ) -> PluginEntry {
        let breaker = Breaker::new(
            config.breaker.failures,
            Duration::from_millis(config.breaker.cool_down_ms),
        );
        let window = canary_window(&config);
        let status = paths
            .into_iter()
            .map(|(role, path)| {
                let attempted = versions
                    .get(role)
                    .map(|version| version.plugin.content_hash().to_owned());
                let stamp = super::watch::stamp(&path);
                let status = RoleStatus {
                    path,
                    state: "serving",
                    attempted_hash: attempted,
                    stamp,
                    ..RoleStatus::default()
                };
                (role, status)
            })
            .collect();
        metrics.set(
            "wxhost_plugin_breaker_state",
            &[("plugin", &config.name)],
            0.0,
        );
        PluginEntry {
            name: config.name.clone(),
            rules: RouteRules::from_config(&config),
            config,
            versions: RwLock::new(Arc::new(versions)),
            breaker: Mutex::new(breaker),
            canary_window: Mutex::new(window),
            status: Mutex::new(status),
            metrics,
        }
    }

    /// Returns the versions in service now.
    pub fn versions(&self) -> Arc<Versions> {
        self.versions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn policy(&self) -> FailurePolicy {
        self.config.on_fault
    }

    /// Puts `version` in service as `role`.
    pub fn swap(&self, role: Role, version: Version) {
        let version = Arc::new(version);
        let mut versions = self
            .versions
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let mut next = Versions::clone(&versions);
        match role {
            Role::Live => next.live = version,
            Role::Canary => next.canary = Some(version),
            Role::Shadow => next.shadow = Some(version),
        }
        *versions = Arc::new(next);
        drop(versions);
        if role == Role::Canary {
            *lock(&self.canary_window) = canary_window(&self.config);
        }
    }

    /// Runs `change` on the status of `role`, when the entry has that role.
    pub fn update_status<T>(
        &self,
        role: Role,
        change: impl FnOnce(&mut RoleStatus) -> T,
    ) -> Option<T> {
        let mut status = lock(&self.status);
        status
            .iter_mut()
            .find(|(candidate, _)| *candidate == role)
            .map(|(_, status)| change(status))
    }

    /// Returns the roles and their statuses.
    pub fn statuses(&self) -> Vec<(Role, RoleStatus)> {
        lock(&self.status).clone()
    }

    /// Asks the breaker whether a callback may call the live version.
    pub fn admit(&self) -> Admission {
        let mut breaker = lock(&self.breaker);
        let admission = breaker.admit(Instant::now());
        if admission == Admission::Probe {
            tracing::info!(plugin = %self.name, "breaker half-open; probing the plugin");
            self.set_breaker_gauge(BreakerState::HalfOpen);
        }
        admission
    }

    /// Records the result of a live call in the breaker.
    pub fn record_live(&self, faulted: bool) {
        let mut breaker = lock(&self.breaker);
        let changed = if faulted {
            breaker.on_fault(Instant::now())
        } else {
            breaker.on_success()
        };
        let faults = breaker.consecutive_faults();
        drop(breaker);
        match changed {
            Some(BreakerState::Open) => {
                tracing::warn!(
                    plugin = %self.name,
                    consecutive_faults = faults,
                    cool_down_ms = self.config.breaker.cool_down_ms,
                    "breaker opened; the plugin is skipped until the cool-down ends"
                );
                self.metrics.inc(
                    "wxhost_plugin_breaker_opened_total",
                    &[("plugin", &self.name)],
                );
                self.set_breaker_gauge(BreakerState::Open);
            }
            Some(state) => {
                tracing::info!(plugin = %self.name, "breaker closed after a successful probe");
                self.set_breaker_gauge(state);
            }
            None => {}
        }
    }

    /// Returns the breaker state and the faults in a row.
    pub fn breaker_state(&self) -> (BreakerState, u32) {
        let breaker = lock(&self.breaker);
        (breaker.state(Instant::now()), breaker.consecutive_faults())
    }

    /// Records a canary call of the version with `content_hash`; removes
    /// that canary when its fault rate reaches the threshold.
    pub fn record_canary(&self, content_hash: &str, faulted: bool) {
        let reason = lock(&self.canary_window).record(Instant::now(), faulted);
        if let Some(reason) = reason {
            self.roll_back_canary(content_hash, reason);
        }
    }

    fn roll_back_canary(&self, content_hash: &str, reason: RollbackReason) {
        let mut versions = self
            .versions
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let current = versions.canary.as_ref().map(|v| v.plugin.content_hash());
        if current != Some(content_hash) {
            // Another call already rolled it back, or a reload replaced it.
            return;
        }
        let mut next = Versions::clone(&versions);
        next.canary = None;
        *versions = Arc::new(next);
        drop(versions);

        let message = format!("rolled back: {reason}");
        self.update_status(Role::Canary, |status| {
            status.state = "rolled_back";
            status.last_error = Some(message.clone());
            status.last_error_at = Some(unix_now());
        });
        self.metrics
            .inc("wxhost_canary_rollbacks_total", &[("plugin", &self.name)]);
        tracing::warn!(
            plugin = %self.name,
            version = %content_hash,
            faults = reason.faults,
            calls = reason.calls,
            window_secs = reason.window.as_secs(),
            max_fault_rate = self.config.canary.as_ref().map_or(0.0, |c| c.max_fault_rate),
            "canary rolled back; the live version serves every follower"
        );
    }

    fn set_breaker_gauge(&self, state: BreakerState) {
        self.metrics.set(
            "wxhost_plugin_breaker_state",
            &[("plugin", &self.name)],
            state.gauge() as f64,
        );
    }
}

fn canary_window(config: &PluginConfig) -> FaultWindow {
    match &config.canary {
        Some(canary) => FaultWindow::new(
            Duration::from_secs(canary.window_secs),
            canary.min_calls,
            canary.max_fault_rate,
        ),
        None => FaultWindow::new(Duration::from_secs(60), 1, 1.0),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Returns the current Unix time in seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}
