//! Choosing where a component is compiled: in a child process when the
//! artifact cache and the compiler executable allow it, in-process
//! otherwise.

use std::path::Path;
use std::sync::Once;

use wasmtime::component::Component;

use super::Error;
use super::artifact::{ArtifactCache, write_atomically};
use super::compile_child::{self, ChildError};
use super::engine::{PluginRuntime, release_compile_memory};

/// Logs the first in-process compilation of the process, with its reason.
static IN_PROCESS_WARNING: Once = Once::new();

fn warn_in_process_once(reason: &str) {
    IN_PROCESS_WARNING.call_once(|| {
        tracing::warn!(
            reason,
            "plugins compile inside the host process, which keeps more memory resident after each load"
        );
    });
}

impl PluginRuntime {
    /// Compiles `wasm` and, with a cache, stores the compiled code as
    /// `file`. The compilation runs in a child process when the cache and
    /// the compiler executable allow it.
    pub(super) fn compile(
        &self,
        name: &str,
        wasm: &[u8],
        content_hash: &str,
        cache: Option<(&ArtifactCache, &Path)>,
    ) -> Result<Component, Error> {
        let Some((cache, file)) = cache else {
            warn_in_process_once("no artifact directory is usable");
            return self.compile_in_process(name, wasm, None);
        };
        let exe = match compile_child::compiler_executable(cache.compiler()) {
            Ok(exe) => exe,
            Err(reason) => {
                warn_in_process_once(&reason);
                return self.compile_in_process(name, wasm, Some(file));
            }
        };
        match self.compile_in_child(name, wasm, content_hash, cache, &exe, file) {
            Err(ChildOutcome::Unavailable(reason)) => {
                warn_in_process_once(&reason);
                self.compile_in_process(name, wasm, Some(file))
            }
            Err(ChildOutcome::Failed(error)) => Err(error),
            Ok(component) => Ok(component),
        }
    }

    /// Runs the compiler process, loads its output to check it, and renames
    /// the output to `file`.
    fn compile_in_child(
        &self,
        name: &str,
        wasm: &[u8],
        content_hash: &str,
        cache: &ArtifactCache,
        exe: &Path,
        file: &Path,
    ) -> Result<Component, ChildOutcome> {
        let temporary = compile_child::temporary_path(cache.dir(), content_hash);
        let timeout = cache.compile_timeout();
        let result = compile_child::run_compiler(exe, self.config(), wasm, &temporary, timeout);
        let failed = |error: Error| {
            let _ = std::fs::remove_file(&temporary);
            ChildOutcome::Failed(error)
        };
        match result {
            Ok(()) => {}
            Err(ChildError::Spawn { exe, source }) => {
                return Err(ChildOutcome::Unavailable(format!(
                    "failed to start {}: {source}",
                    exe.display()
                )));
            }
            Err(ChildError::TimedOut) => {
                return Err(failed(Error::CompileTimeout {
                    name: name.to_owned(),
                    timeout,
                }));
            }
            Err(error) => {
                return Err(failed(Error::Compile {
                    name: name.to_owned(),
                    source: error.into(),
                }));
            }
        }

        let component = self.deserialize(&temporary).map_err(|source| {
            failed(Error::Compile {
                name: name.to_owned(),
                source: format!("the compiler process wrote a file that does not load: {source:#}")
                    .into(),
            })
        })?;
        if let Err(err) = std::fs::rename(&temporary, file) {
            let _ = std::fs::remove_file(&temporary);
            tracing::warn!(
                plugin = %name,
                file = %file.display(),
                error = %err,
                "failed to move the compiled component into the cache"
            );
        }
        Ok(component)
    }

    /// Compiles on the calling thread and, with `file`, writes the compiled
    /// code there.
    fn compile_in_process(
        &self,
        name: &str,
        wasm: &[u8],
        file: Option<&Path>,
    ) -> Result<Component, Error> {
        let compile_error = |source: wasmtime::Error| Error::Compile {
            name: name.to_owned(),
            source: source.into(),
        };
        let component = match file {
            Some(file) => self
                .engine
                .precompile_component(wasm)
                .and_then(|bytes| {
                    if let Err(err) = write_atomically(file, &bytes) {
                        tracing::warn!(
                            plugin = %name,
                            file = %file.display(),
                            error = %err,
                            "failed to write the compiled component to the cache"
                        );
                    }
                    // SAFETY: see `deserialize`; these bytes come straight
                    // from `precompile_component` on this engine.
                    unsafe { Component::deserialize(&self.engine, &bytes) }
                })
                .map_err(compile_error),
            None => Component::new(&self.engine, wasm).map_err(compile_error),
        };
        release_compile_memory();
        component
    }
}

/// The result of a compilation in a child process that did not return a
/// component.
enum ChildOutcome {
    /// The compiler process did not start; compile in-process instead.
    Unavailable(String),
    /// The compilation failed, timed out, or wrote a file that does not
    /// load.
    Failed(Error),
}
