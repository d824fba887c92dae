//! The cache of precompiled plugin components.
//!
//! Compiling a component with Cranelift takes tens to hundreds of
//! milliseconds; loading the machine code that an earlier compilation
//! wrote takes a few. The cache keeps one `.cwasm` file per component.
//! Its name contains the SHA-256 of the `.wasm` bytes, the wasmtime
//! version and a hash of the engine's compilation settings, so only an
//! engine that could have written a file reads it back.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use super::engine::PluginRuntime;
use super::kv::{KvStore, MemoryKv};
use super::plugin::{Plugin, PluginSettings};
use super::{Error, PluginFault};
use crate::services::Services;

/// The wasmtime release the host is built with, part of every cache key.
const WASMTIME_VERSION: &str = "48.0.10";

/// Default [`ArtifactCache::compile_timeout`]: 300 s.
pub const DEFAULT_COMPILE_TIMEOUT: Duration = Duration::from_secs(300);

/// A directory of precompiled components written by this host, and how
/// components are compiled into it.
#[derive(Debug, Clone)]
pub struct ArtifactCache {
    dir: PathBuf,
    compile_timeout: Duration,
    compiler: Option<PathBuf>,
}

/// The source of a loaded component and its load time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadSource {
    /// Compiled from the `.wasm` bytes (and written to the cache, if any).
    Compiled(Duration),
    /// Read from a `.cwasm` file of the cache.
    Cached(Duration),
}

impl ArtifactCache {
    /// Uses `dir` for precompiled components, creating it (mode 0700 on
    /// Unix) when it is missing.
    pub fn open(dir: &Path) -> std::io::Result<ArtifactCache> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
        Ok(ArtifactCache {
            dir: dir.to_owned(),
            compile_timeout: DEFAULT_COMPILE_TIMEOUT,
            compiler: None,
        })
    }

    /// Sets the time a compiler process may run before it is killed and
    /// the load fails.
    pub fn with_compile_timeout(mut self, timeout: Duration) -> ArtifactCache {
        self.compile_timeout = timeout;
        self
    }

    /// Compiles in child processes of `exe` instead of the current
    /// executable. `exe compile-plugin` must behave like the one of the
    /// `wxhost` command line. For tests that embed the host.
    #[doc(hidden)]
    pub fn with_compiler(mut self, exe: PathBuf) -> ArtifactCache {
        self.compiler = Some(exe);
        self
    }

    /// Returns the directory of the cache.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Returns the time a compiler process may run.
    pub fn compile_timeout(&self) -> Duration {
        self.compile_timeout
    }

    pub(super) fn compiler(&self) -> Option<&Path> {
        self.compiler.as_deref()
    }

    fn file_for(&self, runtime: &PluginRuntime, content_hash: &str) -> PathBuf {
        let mut hasher = DefaultHasher::new();
        runtime
            .engine
            .precompile_compatibility_hash()
            .hash(&mut hasher);
        let engine_hash = hasher.finish();
        self.dir.join(format!(
            "{content_hash}-wasmtime{WASMTIME_VERSION}-{engine_hash:016x}.cwasm"
        ))
    }
}

impl PluginRuntime {
    /// Loads `wasm` as the plugin `name` like [`PluginRuntime::load`], but
    /// reads the compiled code from `cache` when an earlier load wrote it,
    /// and writes it there after a compilation.
    ///
    /// With a cache, the compilation runs in a child process of the
    /// `wxhost` executable (`wxhost compile-plugin`), which exits with the
    /// memory the compiler used. A child that runs longer than the cache's
    /// compile timeout is killed and the load fails with
    /// [`Error::CompileTimeout`]. Without a cache, or in a program that
    /// has no `compile-plugin` subcommand, the compilation runs on the
    /// calling thread, and the first one logs a warning.
    ///
    /// A cache file that cannot be read or written is logged and bypassed,
    /// so the cache never makes a load fail that would succeed without it.
    pub fn load_cached(
        &self,
        name: &str,
        wasm: &[u8],
        settings: PluginSettings,
        cache: Option<&ArtifactCache>,
    ) -> Result<(Plugin, LoadSource), Error> {
        let started = Instant::now();
        let content_hash = hex::encode(Sha256::digest(wasm));
        let file = cache.map(|cache| cache.file_for(self, &content_hash));

        if let Some(file) = file.as_deref()
            && file.is_file()
        {
            match self.deserialize(file) {
                Ok(component) => {
                    let plugin = self.link(name, component, content_hash, settings)?;
                    return Ok((plugin, LoadSource::Cached(started.elapsed())));
                }
                Err(err) => tracing::warn!(
                    plugin = %name,
                    file = %file.display(),
                    error = %err,
                    "cached component unreadable; compiling again"
                ),
            }
        }

        let target = cache.zip(file.as_deref());
        let component = self.compile(name, wasm, &content_hash, target)?;
        let plugin = self.link(name, component, content_hash, settings)?;
        Ok((plugin, LoadSource::Compiled(started.elapsed())))
    }

    pub(super) fn deserialize(&self, file: &Path) -> wasmtime::Result<Component> {
        // SAFETY: `Component::deserialize_file` trusts the file to be
        // machine code that wasmtime wrote, because it maps and runs it
        // without verification. Only this host writes files here, from
        // `precompile_component` in-process or in its own `compile-plugin`
        // child, into a directory it created with mode 0700. The name
        // includes the wasmtime version and the engine settings, and
        // wasmtime checks both again in the file's header. A user who can
        // write that directory can already replace the plugins and the
        // database next to it.
        unsafe { Component::deserialize_file(&self.engine, file) }
    }
}

impl Plugin {
    /// Creates one instance of the plugin, without calling it, to check
    /// that its imports and start functions work under its limits.
    pub fn check_instantiates(&self) -> Result<(), PluginFault> {
        let kv: Arc<dyn KvStore> = Arc::new(MemoryKv::new());
        let services = Arc::new(Services::unavailable());
        let (mut store, stderr) = self.new_store("", &kv, &services);
        match self.pre.instantiate(&mut store) {
            Ok(_) => Ok(()),
            Err(error) => Err(self.classify(&error, &store, &stderr, true)),
        }
    }
}

/// Writes `bytes` to a temporary file beside `path` and renames it into
/// place, so a reader never sees a partial file.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::RuntimeConfig;

    /// The smallest valid component: the preamble with no sections.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

    #[test]
    fn cache_file_name_has_hash_and_version() {
        let runtime = PluginRuntime::new(RuntimeConfig {
            max_instances: 2,
            ..RuntimeConfig::default()
        })
        .expect("runtime starts");
        let dir = tempfile::tempdir().expect("temporary directory");
        let cache = ArtifactCache::open(dir.path()).expect("cache opens");
        let name = cache.file_for(&runtime, "ab12");
        let name = name.file_name().and_then(|n| n.to_str()).expect("utf-8");
        assert!(name.starts_with("ab12-wasmtime48.0.10-"), "{name}");
        assert!(name.ends_with(".cwasm"), "{name}");
        assert_eq!(name.len(), "ab12-wasmtime48.0.10-".len() + 16 + 6);
    }

    #[test]
    fn empty_component_lacks_the_world() {
        let runtime = PluginRuntime::new(RuntimeConfig {
            max_instances: 2,
            ..RuntimeConfig::default()
        })
        .expect("runtime starts");
        let dir = tempfile::tempdir().expect("temporary directory");
        let cache = ArtifactCache::open(dir.path()).expect("cache opens");
        let result = runtime.load_cached(
            "empty",
            EMPTY_COMPONENT,
            PluginSettings::default(),
            Some(&cache),
        );
        assert!(
            matches!(result, Err(Error::MissingExport { .. })),
            "{result:?}"
        );
    }
}
