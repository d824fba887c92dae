//! Plugin versions in a running host: hot reload of plugin files and of
//! the config, canary and shadow versions, automatic rollback, the
//! circuit breaker and the lifecycle's metrics.
//!
//! A reload never stops the callbacks in flight. New versions are read,
//! compiled (or read from the [`ArtifactCache`]) and instantiated once on a
//! blocking thread, and their `self-check` export, when they have one,
//! runs with the plugin's config table. Only a version that passes
//! replaces the old one, by
//! swapping an `Arc` that callbacks snapshot when they start. A version
//! that fails leaves the previous one serving, and the failure shows in
//! the log, in `wxhost_plugin_reloads_total{result="failed"}` and in
//! `GET /admin/plugins`.
//!
//! [`ArtifactCache`]: crate::runtime::ArtifactCache

mod breaker;
pub mod canary;
mod entry;
mod live;
mod loader;
mod metrics;
mod report;
mod shadow;
mod watch;

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use serde::Serialize;

pub use breaker::{Admission, Breaker, BreakerState};
pub use entry::{PluginEntry, Role, RoleStatus, Version, Versions, unix_now};
pub use live::{Live, LiveParts, build_live, restart_only_changes};
pub use loader::{Loader, content_hash, read_component, settings_for};
pub use metrics::Metrics;
pub use shadow::{ShadowRun, diff_lines, directive_lines};
pub use watch::{spawn_sighup, spawn_watcher};

use crate::config::{Config, ConfigError};
use crate::runtime::KvStore;

/// The reloadable state of a host and the means to reload it.
pub struct Lifecycle {
    loader: Loader,
    kv: Arc<dyn KvStore>,
    live: RwLock<Arc<Live>>,
    config_path: Option<PathBuf>,
    /// Serializes reloads, so two never swap the same entry at once.
    reload_lock: tokio::sync::Mutex<()>,
}

/// The result of checking one plugin file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReload {
    pub plugin: String,
    pub role: Role,
    /// `loaded`, `unchanged` or `failed`.
    pub result: &'static str,
    /// The version serving after the check.
    pub version: Option<String>,
    pub error: Option<String>,
}

/// The result of an applied config reload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigReload {
    /// Plugins whose table changed and were loaded again.
    pub reloaded_plugins: Vec<String>,
    /// Fields that changed but need a restart.
    pub restart_required: Vec<String>,
}

impl Lifecycle {
    /// Loads every plugin of `config` and resolves its accounts. Blocks
    /// while plugins compile. `config_path` is the file that config
    /// reloads read again.
    pub fn build(
        config: Config,
        config_path: Option<PathBuf>,
        loader: Loader,
        kv: Arc<dyn KvStore>,
    ) -> Result<Lifecycle, Vec<String>> {
        let mut entries = Vec::with_capacity(config.plugins.len());
        let mut problems = Vec::new();
        for plugin in &config.plugins {
            match loader.build_entry(&config, plugin) {
                Ok(entry) => entries.push(Arc::new(entry)),
                Err(errors) => problems.extend(errors),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let live = build_live(LiveParts {
            config,
            entries,
            kv: kv.clone(),
            metrics: loader.metrics.clone(),
            services: loader.services.clone(),
            previous_recorder: None,
        })?;
        Ok(Lifecycle {
            loader,
            kv,
            live: RwLock::new(Arc::new(live)),
            config_path,
            reload_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// Returns the state in service now.
    pub fn live(&self) -> Arc<Live> {
        self.live
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Returns the lifecycle's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.loader.metrics
    }

    /// Checks every plugin file and loads those whose content changed.
    /// Without `force`, a file whose modification time and size did not
    /// change since the last check is not read.
    pub async fn reload_plugins(&self, force: bool) -> Vec<FileReload> {
        let _guard = self.reload_lock.lock().await;
        self.reload_plugins_locked(force).await
    }

    async fn reload_plugins_locked(&self, force: bool) -> Vec<FileReload> {
        let live = self.live();
        let mut results = Vec::new();
        for entry in live.dispatcher.plugins() {
            for (role, status) in entry.statuses() {
                if let Some(result) = self.check_file(entry, role, status, force).await {
                    results.push(result);
                }
            }
        }
        results
    }

    /// Reads the config file again and, when it is valid and every
    /// plugin it names loads, puts it in service. Plugins whose table did
    /// not change keep their versions, breaker and canary statistics.
    /// Fails with every problem found; the old config keeps serving.
    pub async fn reload_config(&self) -> Result<ConfigReload, Vec<String>> {
        let _guard = self.reload_lock.lock().await;
        let result = self.reload_config_locked().await;
        match &result {
            Ok(report) => {
                self.metrics()
                    .inc("wxhost_config_reloads_total", &[("result", "applied")]);
                for field in &report.restart_required {
                    tracing::warn!(field = %field, "config field changed; restart wxhost to apply it");
                }
                tracing::info!(
                    reloaded_plugins = report.reloaded_plugins.len(),
                    "config reloaded"
                );
                self.reload_plugins_locked(false).await;
            }
            Err(problems) => {
                self.metrics()
                    .inc("wxhost_config_reloads_total", &[("result", "rejected")]);
                for problem in problems {
                    tracing::warn!(problem = %problem, "config reload rejected; the old config keeps serving");
                }
            }
        }
        result
    }

    async fn reload_config_locked(&self) -> Result<ConfigReload, Vec<String>> {
        let Some(path) = self.config_path.clone() else {
            return Err(vec![
                "the host was started without a config file, so there is nothing to reload"
                    .to_owned(),
            ]);
        };
        let config = blocking(move || Config::load(&path))
            .await?
            .map_err(config_problems)?;
        let old = self.live();
        let restart_required = restart_only_changes(&old.config, &config);

        let mut entries = Vec::with_capacity(config.plugins.len());
        let mut reloaded_plugins = Vec::new();
        let mut problems = Vec::new();
        for plugin in &config.plugins {
            let reusable =
                old.dispatcher.plugins().iter().find(|entry| {
                    entry.config == *plugin && old.config.base_dir == config.base_dir
                });
            if let Some(entry) = reusable {
                entries.push(entry.clone());
                continue;
            }
            let loader = self.loader.clone();
            let (config, plugin) = (config.clone(), plugin.clone());
            let name = plugin.name.clone();
            match blocking(move || loader.build_entry(&config, &plugin)).await? {
                Ok(entry) => {
                    entries.push(Arc::new(entry));
                    reloaded_plugins.push(name);
                }
                Err(errors) => problems.extend(errors),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let live = build_live(LiveParts {
            config,
            entries,
            kv: self.kv.clone(),
            metrics: self.loader.metrics.clone(),
            services: self.loader.services.clone(),
            previous_recorder: old.recorder.as_ref(),
        })?;
        *self.live.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(live);
        Ok(ConfigReload {
            reloaded_plugins,
            restart_required,
        })
    }

    /// Checks the file of one role and loads it when its content changed.
    async fn check_file(
        &self,
        entry: &Arc<PluginEntry>,
        role: Role,
        status: RoleStatus,
        force: bool,
    ) -> Option<FileReload> {
        let stamp = watch::stamp(&status.path);
        if !force && stamp == status.stamp {
            return None;
        }
        entry.update_status(role, |current| current.stamp = stamp);

        let (config, path) = (entry.config.clone(), status.path.clone());
        let read = blocking(move || read_component(&config, &path)).await;
        let bytes = match read.and_then(|read| read.map_err(|message| vec![message])) {
            Ok(bytes) => bytes,
            Err(errors) => {
                let hash = None;
                return Some(self.fail(entry, role, hash, errors.join("; ")));
            }
        };
        let hash = content_hash(&bytes);
        let serving = entry
            .versions()
            .get(role)
            .map(|version| version.plugin.content_hash().to_owned());
        if serving.as_deref() == Some(hash.as_str()) {
            entry.update_status(role, |current| {
                current.state = "serving";
                current.attempted_hash = Some(hash.clone());
            });
            return force.then(|| FileReload {
                plugin: entry.name.clone(),
                role,
                result: "unchanged",
                version: serving,
                error: None,
            });
        }
        let attempted = status.attempted_hash.as_deref() == Some(hash.as_str());
        if attempted && (!force || status.state == "rolled_back") {
            return None;
        }
        entry.update_status(role, |current| current.attempted_hash = Some(hash.clone()));

        let loader = self.loader.clone();
        let (config, path) = (entry.config.clone(), status.path.clone());
        let loaded = blocking(move || loader.load_bytes(&config, role, &path, &bytes)).await;
        match loaded.and_then(|loaded| loaded.map_err(|message| vec![message])) {
            Ok(version) => Some(self.swap(entry, role, serving, version)),
            Err(errors) => Some(self.fail(entry, role, Some(hash), errors.join("; "))),
        }
    }

    fn swap(
        &self,
        entry: &PluginEntry,
        role: Role,
        previous: Option<String>,
        version: Version,
    ) -> FileReload {
        let hash = version.plugin.content_hash().to_owned();
        entry.swap(role, version);
        entry.update_status(role, |current| current.state = "serving");
        self.metrics().inc(
            "wxhost_plugin_reloads_total",
            &[
                ("plugin", &entry.name),
                ("role", role.as_str()),
                ("result", "loaded"),
            ],
        );
        tracing::info!(
            plugin = %entry.name,
            role = role.as_str(),
            previous = previous.as_deref().unwrap_or(""),
            version = %hash,
            "plugin version swapped"
        );
        FileReload {
            plugin: entry.name.clone(),
            role,
            result: "loaded",
            version: Some(hash),
            error: None,
        }
    }

    fn fail(
        &self,
        entry: &PluginEntry,
        role: Role,
        hash: Option<String>,
        message: String,
    ) -> FileReload {
        entry.update_status(role, |current| {
            current.state = "failed";
            current.last_error = Some(message.clone());
            current.last_error_at = Some(entry::unix_now());
        });
        self.metrics().inc(
            "wxhost_plugin_reloads_total",
            &[
                ("plugin", &entry.name),
                ("role", role.as_str()),
                ("result", "failed"),
            ],
        );
        let serving = entry
            .versions()
            .get(role)
            .map(|version| version.plugin.content_hash().to_owned());
        tracing::warn!(
            plugin = %entry.name,
            role = role.as_str(),
            attempted = hash.as_deref().unwrap_or(""),
            serving = serving.as_deref().unwrap_or(""),
            error = %message,
            "plugin reload failed; the previous version keeps serving"
        );
        FileReload {
            plugin: entry.name.clone(),
            role,
            result: "failed",
            version: serving,
            error: Some(message),
        }
    }
}

/// Runs blocking work off the async threads. A panic in it becomes one
/// problem message.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Vec<String>> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| vec![format!("reload task failed: {err}")])
}

fn config_problems(error: ConfigError) -> Vec<String> {
    match error {
        ConfigError::Invalid { problems, .. } => problems.iter().map(ToString::to_string).collect(),
        other => vec![other.to_string()],
    }
}
