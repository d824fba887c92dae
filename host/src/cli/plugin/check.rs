//! `wxhost plugin check`: compiles a component, links it against the host's
//! imports and lists what it imports, without running it.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::runtime::{ComponentInfo, PluginRuntime, PluginSettings, RuntimeConfig};

/// The largest component `plugin check` accepts: 32 MiB. A Rust plugin
/// built with the SDK takes about 100 KiB and a componentize-py 0.25
/// plugin about 18 MiB.
// NOTE: the host itself loads a component of any size; only `plugin check`
// compares against this number so far.
pub const MAX_COMPONENT_BYTES: usize = 32 * 1024 * 1024;

/// The findings of `plugin check` on one component.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The component's path as given.
    pub file: PathBuf,
    /// Size of the file in bytes.
    pub bytes: usize,
    /// SHA-256 of the file, as lowercase hex.
    pub content_hash: String,
    /// The component's imports and exports.
    pub info: ComponentInfo,
}

impl CheckReport {
    /// Returns true when the component is no larger than [`MAX_COMPONENT_BYTES`].
    pub fn passed(&self) -> bool {
        self.bytes <= MAX_COMPONENT_BYTES
    }
}

/// Reads, compiles and links the component at `file` with default settings.
///
/// Fails, naming the file, when it cannot be read, is not a component for
/// this engine, imports something the host does not provide, or does not
/// export the `plugin` world's `handle`.
pub fn check(file: &Path) -> anyhow::Result<CheckReport> {
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
        content_hash: plugin.content_hash().to_owned(),
        info: plugin.component_info(),
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
            self.bytes, MAX_COMPONENT_BYTES
        )?;
        writeln!(
            f,
            "world: wxhost:plugin/plugin (exports {})",
            self.info.exports.join(", ")
        )?;
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
                "result: invalid, the component is larger than {MAX_COMPONENT_BYTES} bytes"
            )
        }
    }
}
