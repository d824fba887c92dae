//! `wxhost replay`: run a new plugin build against a recording.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;

use crate::config::{Config, PluginConfig};
use crate::lifecycle::settings_for;
use crate::recording::{read_records, replay};
use crate::runtime::{PluginRuntime, RuntimeConfig};

/// Arguments of `wxhost replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The new plugin build (`.wasm` component).
    #[arg(long)]
    plugin: PathBuf,
    /// Config file whose `[[plugins]]` table gives the plugin's config
    /// values, capabilities and limits. Without it the plugin runs with
    /// an empty config and default limits.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Name of the recorded plugin to compare with. Required when the
    /// recording contains calls of more than one plugin.
    #[arg(long)]
    name: Option<String>,
    /// The JSON-lines recording written by `[recording]`.
    recording: PathBuf,
}

/// Prints every changed directive and a summary line.
pub fn run(args: &ReplayArgs) -> anyhow::Result<()> {
    let records = read_records(&args.recording).map_err(anyhow::Error::msg)?;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => only_plugin(&records)?,
    };
    let plugin_config = match &args.config {
        Some(path) => Config::load_for_client(path)?
            .plugins
            .into_iter()
            .find(|plugin| plugin.name == name)
            .with_context(|| {
                format!("no [[plugins]] entry named {name:?} in {}", path.display())
            })?,
        None => PluginConfig {
            name: name.clone(),
            path: args.plugin.clone(),
            ..PluginConfig::default()
        },
    };

    let wasm = crate::lifecycle::read_component(&plugin_config, &args.plugin)
        .map_err(anyhow::Error::msg)?;
    let runtime = PluginRuntime::new(RuntimeConfig {
        max_instances: 4,
        ..RuntimeConfig::default()
    })
    .context("failed to start the WebAssembly engine")?;
    let plugin = runtime
        .load(&name, &wasm, settings_for(&plugin_config))
        .with_context(|| format!("failed to load {}", args.plugin.display()))?;

    let report = replay(&records, &plugin);
    for line in &report.lines {
        println!("{line}");
    }
    println!("{}", report.summary(plugin.content_hash()));
    Ok(())
}

fn only_plugin(records: &[crate::recording::Record]) -> anyhow::Result<String> {
    let mut names: Vec<&str> = records
        .iter()
        .flat_map(|record| record.calls.iter().map(|call| call.plugin.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    match names.as_slice() {
        [name] => Ok((*name).to_owned()),
        [] => bail!("the recording contains no plugin calls"),
        _ => bail!(
            "the recording contains calls of several plugins ({}); choose one with --name",
            names.join(", ")
        ),
    }
}
