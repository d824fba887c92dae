//! `wxhost plugin`: create, check and run one plugin locally.
//!
//! - `new` writes a plugin crate that uses the `wxhost-plugin` SDK;
//! - `check` compiles a component and lists what it imports and whether it
//!   exports `self-check`, without running it;
//! - `run` runs the plugin's `self-check` with the `--config` settings, then
//!   handles one callback XML in the real runtime under the plugin's limits
//!   and prints its directives, its reply XML and its usage of every limit.

pub mod check;
pub mod new;
pub mod run;

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// Subcommands of `wxhost plugin`.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Create a plugin crate from the template.
    New(NewArgs),
    /// Validate a plugin component without running it.
    Check(CheckArgs),
    /// Run a plugin once against a callback XML file and print its directives and usage.
    Run(RunArgs),
}

/// Arguments of `wxhost plugin new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// Plugin name: lowercase letters, digits and `-`, starting with a letter.
    pub name: String,
    /// Parent directory of the new crate; the crate goes to DIR/NAME.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Directory of the `wxhost-plugin` SDK crate (`plugins/sdk` in the wxhost
    /// repository). Found by itself when DIR or the wxhost binary lies inside
    /// a checkout of the repository.
    #[arg(long)]
    pub sdk: Option<PathBuf>,
}

/// Arguments of `wxhost plugin check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The component to check (`.wasm`).
    pub file: PathBuf,
    /// The size limit in bytes: the plugin's `limits.max_binary_bytes` in
    /// the host config, whose default this is.
    #[arg(long, default_value_t = crate::config::DEFAULT_MAX_BINARY_BYTES)]
    pub max_binary_bytes: u64,
}

/// Arguments of `wxhost plugin run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The component to run (`.wasm`).
    pub file: PathBuf,
    /// The callback XML, decrypted, as WeChat posts it in plain mode.
    #[arg(long)]
    pub event: PathBuf,
    /// Plugin settings in TOML: `capabilities`, `[limits]` and `[config]`, as
    /// in a `[[plugins]]` entry of the host config.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The account name the plugin sees in `event.account` and its kv namespace.
    #[arg(long, default_value = "local")]
    pub account: String,
}

/// Runs one `wxhost plugin` subcommand, printing its report. Returns false
/// when `run` ended with a failed self-check or a plugin fault, or `check`
/// found the component too large.
pub fn execute(command: PluginCommand) -> anyhow::Result<bool> {
    match command {
        PluginCommand::New(args) => {
            let created = new::create(&args)?;
            print!("{created}");
            Ok(true)
        }
        PluginCommand::Check(args) => {
            let report = check::check(&args.file, args.max_binary_bytes)?;
            print!("{report}");
            Ok(report.passed())
        }
        PluginCommand::Run(args) => {
            let report = run::run(&args)?;
            print!("{report}");
            Ok(report.passed())
        }
    }
}
