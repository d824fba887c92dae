//! `wxhost import autoreply`: convert the admin panel's automatic
//! replies into the keyword plugin's config.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::autoreply;

/// Arguments of `wxhost import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    command: ImportCommand,
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Convert the JSON of get_current_autoreply_info into a [[plugins]]
    /// table for the keyword plugin.
    Autoreply {
        /// The saved JSON response of get_current_autoreply_info.
        file: PathBuf,
        /// Write the TOML here instead of to standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The `path` written for the keyword plugin's component.
        #[arg(long, default_value = "plugins/plugin_keyword.wasm")]
        plugin_path: String,
    },
}

/// Runs `wxhost import`. Warnings go to standard error.
pub fn run(args: &ImportArgs) -> anyhow::Result<()> {
    let ImportCommand::Autoreply {
        file,
        out,
        plugin_path,
    } = &args.command;
    let json = std::fs::read_to_string(file)
        .with_context(|| format!("failed to read {}", file.display()))?;
    let info = autoreply::parse(&json).with_context(|| {
        format!(
            "{} is not the JSON of get_current_autoreply_info",
            file.display()
        )
    })?;
    let converted = autoreply::convert(&info, plugin_path);
    for warning in &converted.warnings {
        eprintln!("warning: {warning}");
    }
    match out {
        Some(path) => std::fs::write(path, &converted.toml)
            .with_context(|| format!("failed to write {}", path.display()))?,
        None => print!("{}", converted.toml),
    }
    Ok(())
}
