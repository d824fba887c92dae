//! Running a new plugin build against a recording and reporting every
//! directive that changed.
//!
//! Each record in which the plugin ran is parsed again and passed to the
//! new build in a fresh instance. Its directive lines are compared, by
//! position, with the recorded ones; a fault compares as one line
//! `fault <message>`. The plugin's `kv` is an in-memory store that
//! starts empty and lives for the whole replay.
//!
//! NOTE: the recorded directives saw the host's real `kv` data and its
//! `followers`, `qrcode` and `media` services, which the replay does not
//! have (their calls fail), so a plugin whose replies depend on them can
//! show changes that the new build did not cause.

use std::path::Path;
use std::sync::Arc;

use super::Record;
use crate::lifecycle::{diff_lines, directive_lines};
use crate::protocol::parse_inbound;
use crate::runtime::{KvStore, MemoryKv, Plugin};

/// The result of a replay: counts and report lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Records in which the plugin ran and was run again.
    pub replayed: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Records in which the plugin did not run, or whose XML no longer
    /// parses.
    pub skipped: usize,
    /// The report text: one header per changed record, then its diff lines.
    pub lines: Vec<String>,
}

impl ReplayReport {
    /// Returns the one-line summary printed after the diffs.
    pub fn summary(&self, version: &str) -> String {
        format!(
            "replayed {} callbacks against {version}: {} changed, {} unchanged, {} skipped",
            self.replayed, self.changed, self.unchanged, self.skipped
        )
    }
}

/// Reads a JSON-lines recording. Fails on the first line that is not a
/// record, naming its line number.
pub fn read_records(path: &Path) -> Result<Vec<Record>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("failed to read recording {}: {err}", path.display()))?;
    let mut records = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let record: Record = serde_json::from_str(line).map_err(|err| {
            format!(
                "invalid record on line {} of {}: {err}",
                index + 1,
                path.display()
            )
        })?;
        records.push(record);
    }
    Ok(records)
}

/// Runs `plugin` on each record in which the plugin of the same name ran
/// and compares the directives.
pub fn replay(records: &[Record], plugin: &Plugin) -> ReplayReport {
    let kv: Arc<dyn KvStore> = Arc::new(MemoryKv::new());
    let mut report = ReplayReport::default();
    for (index, record) in records.iter().enumerate() {
        let Some(call) = record
            .calls
            .iter()
            .find(|call| call.plugin == plugin.name())
        else {
            report.skipped += 1;
            continue;
        };
        let Ok(inbound) = parse_inbound(record.xml.as_bytes()) else {
            report.skipped += 1;
            report.lines.push(format!(
                "record {}: the XML no longer parses; skipped",
                index + 1
            ));
            continue;
        };
        let recorded = match (&call.directives, &call.fault) {
            (Some(lines), _) => lines.clone(),
            (None, Some(fault)) => vec![format!("fault {fault}")],
            (None, None) => Vec::new(),
        };
        let replayed = match plugin.handle(&record.account, &inbound, &kv) {
            Ok(directives) => directive_lines(&directives),
            Err(fault) => vec![format!("fault {fault}")],
        };
        report.replayed += 1;
        let diff = diff_lines(&recorded, &replayed);
        if diff.is_empty() {
            report.unchanged += 1;
            continue;
        }
        report.changed += 1;
        report.lines.push(format!(
            "record {} (account {}, {}, recorded with {}):",
            index + 1,
            record.account,
            describe(&inbound),
            short(&call.version)
        ));
        report
            .lines
            .extend(diff.into_iter().map(|line| format!("  {line}")));
    }
    report
}

fn describe(inbound: &crate::protocol::message::Inbound) -> String {
    match &inbound.event {
        Some(event) => format!("event {event}"),
        None => inbound.msg_type.clone(),
    }
}

/// Returns the first 12 hex digits of a version hash.
pub fn short(version: &str) -> &str {
    version.get(..12).unwrap_or(version)
}
