//! `wxhost plugin run`: handles one callback XML with one plugin in the
//! real runtime, under its limits, and reports what it returned and used.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use serde::Deserialize;

use super::RunArgs;
use super::check::{one_shot_runtime, plugin_name};
use crate::config::PluginLimitsConfig;
use crate::protocol::message::Inbound;
use crate::protocol::reply::{Reply, ReplyContext};
use crate::protocol::{InvalidReply, RenderedReply, parse_inbound, render_reply};
use crate::runtime::{
    CallUsage, Directive, KvStore, MemoryKv, PluginFault, PluginLimits, PluginSettings, SelfCheck,
};

/// The `--config` file: the settings of one `[[plugins]]` entry of the host
/// config, without its name, path and routing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunConfig {
    #[serde(default)]
    capabilities: Vec<String>,
    #[serde(default)]
    limits: PluginLimitsConfig,
    #[serde(default)]
    config: BTreeMap<String, toml::Value>,
}

/// The result of one `plugin run`.
#[derive(Debug)]
pub struct RunReport {
    /// The plugin's name: the file name without `.wasm`.
    pub plugin: String,
    /// SHA-256 of the component, as lowercase hex.
    pub content_hash: String,
    /// `MsgType`, and `Event` for events, of the callback.
    pub event_kind: String,
    /// The limits the call ran under.
    pub limits: PluginLimits,
    /// The plugin's self-check with the `--config` settings, run before
    /// the event. A failed or faulted self-check stops the run.
    pub self_check: SelfCheck,
    /// Whether the event was passed to the plugin.
    pub event_run: bool,
    /// The directives, when the call succeeded.
    pub directives: Option<Vec<Directive>>,
    /// The fault, when the call or the self-check failed.
    pub fault: Option<PluginFault>,
    /// The reply XML the host would send, or why the reply is invalid.
    /// `None` without a reply directive.
    pub reply: Option<Result<RenderedReply, InvalidReply>>,
    /// What the call used.
    pub usage: CallUsage,
}

impl RunReport {
    /// Returns true when the self-check passed or is not exported and the
    /// call ended without a fault.
    pub fn passed(&self) -> bool {
        self.event_run && self.fault.is_none()
    }
}

/// Loads the plugin, parses the event, runs the plugin's self-check and
/// then, when it did not fail, runs the plugin once.
///
/// kv starts empty on every run: it is kept in memory. Fails, naming the
/// file and the fix, when a file cannot be read or parsed or the plugin
/// does not load; a plugin fault is part of the report, not an error.
pub fn run(args: &RunArgs) -> anyhow::Result<RunReport> {
    let settings = match &args.config {
        Some(path) => read_settings(path)?,
        None => PluginSettings::default(),
    };
    let inbound = read_event(&args.event)?;
    let wasm = std::fs::read(&args.file)
        .with_context(|| format!("failed to read {}", args.file.display()))?;

    let runtime = one_shot_runtime()?;
    let name = plugin_name(&args.file);
    let plugin = runtime.load(&name, &wasm, settings).with_context(|| {
        format!(
            "failed to load {}; run `wxhost plugin check` on it for details",
            args.file.display()
        )
    })?;

    let mut report = RunReport {
        plugin: name,
        content_hash: plugin.content_hash().to_owned(),
        event_kind: describe_event(&inbound),
        limits: plugin.limits().clone(),
        self_check: SelfCheck::NotExported,
        event_run: false,
        directives: None,
        fault: None,
        reply: None,
        usage: CallUsage::default(),
    };
    match plugin.self_check() {
        Ok(SelfCheck::Failed(problems)) => {
            report.self_check = SelfCheck::Failed(problems);
            return Ok(report);
        }
        Ok(result) => report.self_check = result,
        Err(fault) => {
            report.fault = Some(fault);
            return Ok(report);
        }
    }

    let kv: Arc<dyn KvStore> = Arc::new(MemoryKv::new());
    let (outcome, usage) = plugin.handle_with_usage(&args.account, &inbound, &kv);
    let (directives, fault) = match outcome {
        Ok(directives) => (Some(directives), None),
        Err(fault) => (None, Some(fault)),
    };
    let reply = directives
        .as_deref()
        .and_then(first_reply)
        .map(|reply| render(reply, &inbound));

    report.event_run = true;
    report.directives = directives;
    report.fault = fault;
    report.reply = reply;
    report.usage = usage;
    Ok(report)
}

fn read_event(path: &Path) -> anyhow::Result<Inbound> {
    let xml = std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
    parse_inbound(&xml).with_context(|| {
        format!(
            "{} is not a callback XML; pass the decrypted <xml> body with ToUserName, FromUserName, CreateTime and MsgType",
            path.display()
        )
    })
}

fn read_settings(path: &Path) -> anyhow::Result<PluginSettings> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read {}", path.display()))?;
    let config: RunConfig = toml::from_str(&text).with_context(|| {
        format!(
            "{} is not a valid plugin settings file; it holds `capabilities`, `[limits]` and `[config]`, as one `[[plugins]]` entry of the host config does",
            path.display()
        )
    })?;
    let known = crate::config::KNOWN_CAPABILITIES;
    for capability in &config.capabilities {
        if !known.contains(&capability.as_str()) {
            bail!(
                "{}: capabilities: unknown capability {capability:?}; known: {}",
                path.display(),
                known.join(", ")
            );
        }
    }
    Ok(PluginSettings {
        limits: limits_from_config(&config.limits),
        config: config
            .config
            .iter()
            .map(|(key, value)| (key.clone(), json_text(value)))
            .collect(),
        kv_granted: config.capabilities.iter().any(|c| c == "kv"),
        grants: crate::services::Grants::from_capabilities(&config.capabilities),
        // With `fetch` granted but no allowlist here, every fetch is refused.
        fetch: config
            .capabilities
            .iter()
            .any(|c| c == "fetch")
            .then(Default::default),
    })
}

/// Applies the set fields of `[limits]` over [`PluginLimits::default`], as
/// the host does for a `[[plugins]]` entry.
fn limits_from_config(config: &PluginLimitsConfig) -> PluginLimits {
    let defaults = PluginLimits::default();
    let bytes = |value: Option<u32>, default: usize| value.map_or(default, |v| v as usize);
    PluginLimits {
        deadline_ms: config.deadline_ms.unwrap_or(defaults.deadline_ms),
        max_memory_bytes: config
            .max_memory_bytes
            .map_or(defaults.max_memory_bytes, |v| v as usize),
        max_log_bytes_per_call: bytes(
            config.max_log_bytes_per_call,
            defaults.max_log_bytes_per_call,
        ),
        max_directives: bytes(config.max_directives, defaults.max_directives),
        max_reply_bytes: bytes(config.max_reply_bytes, defaults.max_reply_bytes),
    }
}

/// Renders a TOML value as the JSON text the `config` import returns.
fn json_text(value: &toml::Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

fn first_reply(directives: &[Directive]) -> Option<&Reply> {
    directives.iter().find_map(|directive| match directive {
        Directive::Reply(reply) => Some(reply),
        _ => None,
    })
}

/// Renders the reply as the host would answer `inbound`. The reply's
/// `CreateTime` is the callback's, so the output is the same on every run.
fn render(reply: &Reply, inbound: &Inbound) -> Result<RenderedReply, InvalidReply> {
    render_reply(
        reply,
        &inbound.from_user,
        &inbound.to_user,
        inbound.create_time,
        ReplyContext::of(&inbound.payload),
    )
}

fn describe_event(inbound: &Inbound) -> String {
    match &inbound.event {
        Some(event) => format!("{} {event}", inbound.msg_type),
        None => inbound.msg_type.clone(),
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "plugin: {} (sha256 {})", self.plugin, self.content_hash)?;
        write_self_check(f, &self.self_check, self.event_run)?;
        if !self.event_run {
            writeln!(
                f,
                "event: {}, not run because the self-check failed",
                self.event_kind
            )?;
            if let Some(fault) = &self.fault {
                writeln!(f, "fault: {fault}")?;
            }
            return Ok(());
        }
        writeln!(f, "event: {}", self.event_kind)?;
        match (&self.directives, &self.fault) {
            (Some(directives), _) => {
                writeln!(f, "directives:")?;
                for directive in directives {
                    writeln!(f, "  {directive:?}")?;
                }
            }
            (None, Some(fault)) => writeln!(f, "fault: {fault}")?,
            (None, None) => {}
        }
        match &self.reply {
            Some(Ok(rendered)) => {
                writeln!(f, "reply XML:\n{}", rendered.xml)?;
                for warning in &rendered.warnings {
                    writeln!(f, "reply warning: {warning:?}")?;
                }
            }
            Some(Err(invalid)) => {
                writeln!(f, "reply invalid: {invalid}; the host answers `success`")?
            }
            None if self.fault.is_some() => writeln!(f, "reply: none; the host answers `success`")?,
            None => writeln!(
                f,
                "reply: none; the callback passes to the next plugin in the route"
            )?,
        }
        write_usage(f, &self.usage, &self.limits)
    }
}

fn write_self_check(f: &mut fmt::Formatter<'_>, check: &SelfCheck, event_run: bool) -> fmt::Result {
    match check {
        SelfCheck::Passed => writeln!(f, "self-check: passed"),
        SelfCheck::NotExported if event_run => writeln!(
            f,
            "self-check: none, the component does not export `self-check`"
        ),
        SelfCheck::NotExported => writeln!(f, "self-check: faulted"),
        SelfCheck::Failed(problems) => {
            writeln!(f, "self-check: failed with these problems:")?;
            for problem in problems {
                writeln!(f, "  {problem}")?;
            }
            Ok(())
        }
    }
}

fn write_usage(
    f: &mut fmt::Formatter<'_>,
    usage: &CallUsage,
    limits: &PluginLimits,
) -> fmt::Result {
    writeln!(f, "usage:")?;
    writeln!(
        f,
        "  time: {:.3} ms of {} ms deadline",
        usage.elapsed.as_secs_f64() * 1000.0,
        limits.deadline_ms
    )?;
    writeln!(
        f,
        "  memory peak: {} bytes of {} bytes",
        usage.peak_memory_bytes, limits.max_memory_bytes
    )?;
    writeln!(
        f,
        "  log: {} bytes of {} bytes, {} records dropped",
        usage.log_bytes, limits.max_log_bytes_per_call, usage.log_records_dropped
    )?;
    match usage.directives {
        Some(count) => writeln!(f, "  directives: {count} of {}", limits.max_directives)?,
        None => writeln!(
            f,
            "  directives: none returned (limit {})",
            limits.max_directives
        )?,
    }
    match usage.reply_bytes {
        Some(bytes) => writeln!(
            f,
            "  reply: {bytes} bytes of {} bytes",
            limits.max_reply_bytes
        ),
        None => writeln!(
            f,
            "  reply: none returned (limit {} bytes)",
            limits.max_reply_bytes
        ),
    }
}
