//! `wxhost plugin check`: compiles a component, links it against the host's
//! imports and lists what it imports, without running it.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::runtime::{ComponentInfo, PluginRuntime, PluginSettings, RuntimeConfig};

/// The findings of `plugin check` on one component.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The component's path as given.
    pub file: PathBuf,
    /// Size of the file in bytes.
    pub bytes: usize,
    /// The size limit it was checked against: the plugin's
    /// `limits.max_binary_bytes` in the host config.
    pub max_bytes: u64,
    /// SHA-256 of the file, as lowercase hex.
    pub content_hash: String,
    /// The component's imports and exports.
    pub info: ComponentInfo,
    /// Whether the component exports `self-check`, which the host runs
    /// with the plugin's config before a version or config goes into service.
    pub has_self_check: bool,
}

impl CheckReport {
    /// Returns true when the component is no larger than `max_bytes`.
    pub fn passed(&self) -> bool {
        self.bytes as u64 <= self.max_bytes
    }
}

/// Reads, compiles and links the component at `file` with default settings.
///
/// Fails, naming the file, when it cannot be read, is not a component for
/// this engine, imports something the host does not provide, or does not
/// export the `plugin` world's `handle`.
pub fn check(file: &Path, max_bytes: u64) -> anyhow::Result<CheckReport> {
    let wasm = std::fs::read(file).with_context(|| format!("failed to read {}", file.display()))?;
    let runtime = one_shot_runtime()?;
    let name = plugin_name(file);
    let plugin = runtime
        .load(&name, &wasm, PluginSettings::default())
        .with_context(|| {
            format!(
                "{} is not a valid wxhost plugin; build it for wasm32-wasip2 against the `plugin` world in wit/ (the wxhost-plugin SDK does this)",
                file.display()
            )
        })?;
    Ok(CheckReport {
        file: file.to_owned(),
        bytes: wasm.len(),
        max_bytes,
        content_hash: plugin.content_hash().to_owned(),
        info: plugin.component_info(),
        has_self_check: plugin.has_self_check(),
    })
}

/// Creates a runtime for one instance at a time with the default memory
/// slot, as `plugin check` and `plugin run` need.
pub(crate) fn one_shot_runtime() -> anyhow::Result<PluginRuntime> {
    let config = RuntimeConfig {
        max_instances: 1,
        ..RuntimeConfig::default()
    };
    PluginRuntime::new(config).context("failed to start the plugin runtime")
}

/// Returns the file name without its extension, the name used in messages.
pub(crate) fn plugin_name(file: &Path) -> String {
    file.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plugin".to_owned())
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "component: {}", self.file.display())?;
        writeln!(f, "sha256: {}", self.content_hash)?;
        let verdict = if self.passed() { "ok" } else { "TOO LARGE" };
        writeln!(
            f,
            "size: {} bytes of {} maximum ({verdict})",
            self.bytes, self.max_bytes
        )?;
        writeln!(
            f,
            "world: wxhost:plugin/plugin (exports {})",
            self.info.exports.join(", ")
        )?;
        if self.has_self_check {
            writeln!(
                f,
                "self-check: exported; the host runs it with the plugin's config before serving"
            )?;
        } else {
            writeln!(
                f,
                "self-check: not exported; the host loads the component without checking its config"
            )?;
        }
        writeln!(f, "imports:")?;
        for import in self
            .info
            .imports
            .iter()
            .filter(|name| !name.starts_with("wasi:"))
        {
            writeln!(f, "  {import}")?;
        }
        let wasi: Vec<&str> = self.info.wasi_imports().collect();
        if wasi.is_empty() {
            writeln!(f, "WASI: none")?;
        } else {
            writeln!(
                f,
                "WASI: {} interfaces, linked to a context that grants nothing:",
                wasi.len()
            )?;
            for import in wasi {
                writeln!(f, "  {import}")?;
            }
        }
        if self.passed() {
            writeln!(f, "result: valid")
        } else {
            writeln!(
                f,
                "result: invalid, the component is larger than {} bytes; \
                 the host would not load it unless the plugin's limits.max_binary_bytes \
                 allows it (pass the same value as --max-binary-bytes)",
                self.max_bytes
            )
        }
    }
}
