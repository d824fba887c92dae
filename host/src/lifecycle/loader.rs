//! Reading, compiling and checking plugin versions. Everything here
//! blocks, so async callers run it with `spawn_blocking`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::entry::{PluginEntry, Role, Version, Versions, unix_now};
use super::metrics::Metrics;
use crate::config::{Config, DEFAULT_MAX_BINARY_BYTES, PluginConfig};
use crate::runtime::{
    ArtifactCache, LoadSource, PluginLimits, PluginRuntime, PluginSettings, SelfCheck,
};
use crate::services::{Grants, Services};

/// The loader of plugin versions: the engine, the artifact cache, the
/// metrics and the host services that dispatchers give the plugins.
#[derive(Clone)]
pub struct Loader {
    pub runtime: Arc<PluginRuntime>,
    pub cache: Option<ArtifactCache>,
    pub metrics: Arc<Metrics>,
    pub services: Arc<Services>,
}

impl Loader {
    /// Reads the component at `path`, compiles it (or reads the compiled
    /// code from the cache) and checks that it instantiates.
    ///
    /// The error names the plugin, the file and the cause, and never
    /// contains the file's content.
    pub fn load_version(
        &self,
        plugin: &PluginConfig,
        role: Role,
        path: &Path,
    ) -> Result<Version, String> {
        let bytes = read_component(plugin, path)?;
        self.load_bytes(plugin, role, path, &bytes)
    }

    /// Like [`Loader::load_version`] with bytes already read from `path`.
    /// A version whose self-check rejects its config does not load, and
    /// the message lists the plugin's problems.
    pub fn load_bytes(
        &self,
        plugin: &PluginConfig,
        role: Role,
        path: &Path,
        bytes: &[u8],
    ) -> Result<Version, String> {
        self.load_checked(plugin, role, path, bytes)
            .map_err(|failure| match failure {
                LoadFailure::Load(message) => message,
                LoadFailure::SelfCheck(problems) => format!(
                    "plugin {} ({}) from {} rejects its config in its self-check: {}",
                    plugin.name,
                    role.as_str(),
                    path.display(),
                    problems.join("; ")
                ),
            })
    }

    fn load_checked(
        &self,
        plugin: &PluginConfig,
        role: Role,
        path: &Path,
        bytes: &[u8],
    ) -> Result<Version, LoadFailure> {
        let settings = settings_for(plugin);
        let label = format!("{} ({})", plugin.name, role.as_str());
        let (loaded, source) = self
            .runtime
            .load_cached(&plugin.name, bytes, settings, self.cache.as_ref())
            .map_err(|err| {
                LoadFailure::Load(format!(
                    "failed to load plugin {label} from {}: {}",
                    path.display(),
                    error_chain(&err)
                ))
            })?;
        loaded.check_instantiates().map_err(|fault| {
            LoadFailure::Load(format!(
                "plugin {label} from {} does not instantiate: {fault}",
                path.display()
            ))
        })?;
        let self_check = match loaded.self_check() {
            Ok(SelfCheck::Failed(problems)) => return Err(LoadFailure::SelfCheck(problems)),
            Ok(SelfCheck::Passed) => "passed",
            Ok(SelfCheck::NotExported) => "not_exported",
            Err(fault) => {
                return Err(LoadFailure::Load(format!(
                    "plugin {label} from {} failed in its self-check: {fault}",
                    path.display()
                )));
            }
        };
        let (kind, elapsed) = match source {
            LoadSource::Compiled(elapsed) => ("compiled", elapsed),
            LoadSource::Cached(elapsed) => ("cached", elapsed),
        };
        self.metrics.add(
            "wxhost_plugin_load_seconds_total",
            &[("source", kind)],
            elapsed.as_secs_f64(),
        );
        tracing::info!(
            plugin = %plugin.name,
            role = role.as_str(),
            hash = %loaded.content_hash(),
            source = kind,
            load_ms = elapsed.as_millis() as u64,
            self_check,
            "plugin version loaded"
        );
        Ok(Version {
            plugin: loaded,
            loaded_at: unix_now(),
        })
    }

    /// Loads every version a `[[plugins]]` table names and returns the
    /// entry. Fails with one message per version that did not load, and
    /// one per problem that a version's self-check found in the table's
    /// `config`, as `plugins[N].config: ...`.
    pub fn build_entry(
        &self,
        config: &Config,
        plugin: &PluginConfig,
    ) -> Result<PluginEntry, Vec<String>> {
        let index = config
            .plugins
            .iter()
            .position(|listed| listed.name == plugin.name)
            .unwrap_or_default();
        let mut errors = Vec::new();
        let mut loaded = BTreeMap::new();
        let mut paths = Vec::new();
        for (role, path) in role_paths(config, plugin) {
            let result = read_component(plugin, &path)
                .map_err(LoadFailure::Load)
                .and_then(|bytes| self.load_checked(plugin, role, &path, &bytes));
            match result {
                Ok(version) => {
                    loaded.insert(role, Arc::new(version));
                }
                Err(LoadFailure::Load(message)) => errors.push(message),
                Err(LoadFailure::SelfCheck(problems)) => {
                    errors.extend(problems.into_iter().map(|problem| {
                        format!(
                            "plugins[{index}].config: plugin {} ({}) rejects it in its self-check: {problem}",
                            plugin.name,
                            role.as_str()
                        )
                    }));
                }
            }
            paths.push((role, path));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let Some(live) = loaded.remove(&Role::Live) else {
            return Err(vec![format!("plugin {} has no live version", plugin.name)]);
        };
        let versions = Versions {
            live,
            canary: loaded.remove(&Role::Canary),
            shadow: loaded.remove(&Role::Shadow),
        };
        Ok(PluginEntry::new(
            plugin.clone(),
            versions,
            paths,
            self.metrics.clone(),
        ))
    }
}

/// The reason a plugin version did not load.
enum LoadFailure {
    /// The file did not read, compile, link or instantiate, or the
    /// self-check trapped. The message names the plugin and the file.
    Load(String),
    /// The plugin's self-check rejected its config with these problems.
    SelfCheck(Vec<String>),
}

/// Returns each role's file, resolved against the config's directory.
pub fn role_paths(config: &Config, plugin: &PluginConfig) -> Vec<(Role, PathBuf)> {
    let mut paths = vec![(Role::Live, config.resolve_path(&plugin.path))];
    if let Some(canary) = &plugin.canary {
        paths.push((Role::Canary, config.resolve_path(&canary.path)));
    }
    if let Some(shadow) = &plugin.shadow {
        paths.push((Role::Shadow, config.resolve_path(&shadow.path)));
    }
    paths
}

/// Reads a component, rejecting files over `limits.max_binary_bytes`
/// before and after reading.
pub fn read_component(plugin: &PluginConfig, path: &Path) -> Result<Vec<u8>, String> {
    let max = plugin
        .limits
        .max_binary_bytes
        .unwrap_or(DEFAULT_MAX_BINARY_BYTES);
    let too_large = |size: u64| {
        format!(
            "plugin {} file {} has {size} bytes, more than limits.max_binary_bytes {max}",
            plugin.name,
            path.display()
        )
    };
    let read_error = |err: std::io::Error| {
        format!(
            "failed to read plugin {} from {}: {err}",
            plugin.name,
            path.display()
        )
    };
    let size = std::fs::metadata(path).map_err(read_error)?.len();
    if size > max {
        return Err(too_large(size));
    }
    let bytes = std::fs::read(path).map_err(read_error)?;
    if bytes.len() as u64 > max {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Returns the SHA-256 of `bytes` as lowercase hex, the version id.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Converts a `[[plugins]]` table into the runtime's settings.
pub fn settings_for(plugin: &PluginConfig) -> PluginSettings {
    let defaults = PluginLimits::default();
    let limits = &plugin.limits;
    let limits = PluginLimits {
        deadline_ms: limits.deadline_ms.unwrap_or(defaults.deadline_ms),
        max_memory_bytes: limits
            .max_memory_bytes
            .map_or(defaults.max_memory_bytes, |bytes| bytes as usize),
        max_log_bytes_per_call: limits
            .max_log_bytes_per_call
            .map_or(defaults.max_log_bytes_per_call, |bytes| bytes as usize),
        max_directives: limits
            .max_directives
            .map_or(defaults.max_directives, |count| count as usize),
        max_reply_bytes: limits
            .max_reply_bytes
            .map_or(defaults.max_reply_bytes, |bytes| bytes as usize),
    };
    let values: BTreeMap<String, String> = plugin
        .config
        .iter()
        .map(|(key, value)| {
            let json = serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned());
            (key.clone(), json)
        })
        .collect();
    PluginSettings {
        limits,
        config: values,
        kv_granted: plugin.capabilities.iter().any(|c| c == "kv"),
        grants: Grants::from_capabilities(&plugin.capabilities),
        fetch: plugin
            .capabilities
            .iter()
            .any(|c| c == "fetch")
            .then(|| plugin.fetch.clone().unwrap_or_default()),
    }
}

/// Formats an error with its sources, separated by colons.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
