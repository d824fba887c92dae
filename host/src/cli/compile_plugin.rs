//! `wxhost compile-plugin`, hidden from the help: the child process that
//! the host starts to compile a plugin component, so the compiler's memory
//! leaves with the child. It reads the `.wasm` bytes on stdin and writes
//! the compiled component to `--output`. The host builds the arguments in
//! `runtime::compile_child` from its own engine settings.

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};

use crate::runtime::{PoolTuning, RuntimeConfig, precompile_component};

/// Arguments of `wxhost compile-plugin`.
#[derive(Debug, Args)]
pub struct CompilePluginArgs {
    /// Instance pool size of the host's engine (`runtime.max_instances`).
    #[arg(long)]
    max_instances: u32,
    /// Largest linear memory of the host's engine, in bytes.
    #[arg(long)]
    max_memory_bytes: usize,
    /// Instance pool settings of the host's engine.
    #[arg(long, value_enum)]
    pool_tuning: PoolTuningArg,
    /// File to create with the compiled component; it must not exist.
    #[arg(long)]
    output: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PoolTuningArg {
    Tuned,
    WasmtimeDefaults,
}

/// Compiles the component on stdin into `args.output`.
pub fn run(args: &CompilePluginArgs) -> anyhow::Result<()> {
    let mut wasm = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut wasm)
        .context("failed to read the component from stdin")?;
    let config = RuntimeConfig {
        max_instances: args.max_instances,
        max_memory_bytes: args.max_memory_bytes,
        pool_tuning: match args.pool_tuning {
            PoolTuningArg::Tuned => PoolTuning::Tuned,
            PoolTuningArg::WasmtimeDefaults => PoolTuning::WasmtimeDefaults,
        },
        ..RuntimeConfig::default()
    };
    let compiled = precompile_component(&config, &wasm)?;
    write_new_file(&args.output, &compiled)
        .with_context(|| format!("failed to write {}", args.output.display()))
}

/// Creates `path` with mode 0600 (it must not exist) and writes `bytes`.
fn write_new_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
