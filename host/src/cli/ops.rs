//! `wxhost quota` and `wxhost outbox`: read and repair the store of a
//! host, running or not, from its config file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use crate::apis::AccountApis;
use crate::config::Config;
use crate::outbox::{EntryState, now_ms};
use crate::store::Store;
use crate::wechat::SqliteStore;

/// Arguments of `wxhost quota`.
#[derive(Debug, Args)]
pub struct QuotaArgs {
    /// Account name from the config.
    account: String,
    /// Path of the TOML config file.
    #[arg(long, short, default_value = "wxhost.toml")]
    config: PathBuf,
}

/// Arguments of `wxhost outbox`.
#[derive(Debug, Args)]
pub struct OutboxArgs {
    /// Path of the TOML config file.
    #[arg(long, short, default_value = "wxhost.toml", global = true)]
    config: PathBuf,
    #[command(subcommand)]
    command: OutboxCommand,
}

#[derive(Debug, Subcommand)]
enum OutboxCommand {
    /// List entries, newest first, without openids or message content.
    List {
        /// Only entries in this state: pending, sending, sent, dead or in_doubt.
        #[arg(long)]
        state: Option<String>,
        /// Maximum number of entries to print.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Queue a dead or in_doubt entry again; a running host delivers it within its poll interval.
    Retry {
        /// The entry's id, from `wxhost outbox list`.
        id: i64,
    },
}

/// Prints `account`'s usage of each API against its limits.
pub fn quota(args: &QuotaArgs) -> anyhow::Result<()> {
    let config = Config::load_for_client(&args.config)?;
    if config.account(&args.account).is_none() {
        bail!(
            "no account named {:?} in {}",
            args.account,
            args.config.display()
        );
    }
    let path = config.resolve_path(&config.store.path);
    let store = SqliteStore::open(&path)
        .with_context(|| format!("failed to open the store at {}", path.display()))?;
    let apis = AccountApis::build(&config, Arc::new(store))?;
    if apis.client(&args.account).is_none() {
        bail!(
            "account {:?} has no app_secret, so it makes no API calls",
            args.account
        );
    }
    let usage = apis.quota().usage(&args.account)?;
    println!(
        "{:<44} {:>21} {:>15}",
        "API", "today / daily limit", "minute / limit"
    );
    for api in &usage.apis {
        println!(
            "{:<44} {:>21} {:>15}",
            api.api,
            format!("{} / {}", api.daily_used, limit_text(api.daily_limit)),
            format!("{} / {}", api.minute_used, limit_text(api.minute_limit)),
        );
        if let Some(reported_at_ms) = api.wechat_exhausted_at_ms {
            println!("  {}", wechat_exhausted_note(reported_at_ms));
        }
    }
    Ok(())
}

/// Explains an API that WeChat closed for the day with 45009.
fn wechat_exhausted_note(reported_at_ms: i64) -> String {
    format!(
        "blocked: WeChat reported 45009 (daily quota used up) at {} China Standard Time; \
         calls resume after midnight China Standard Time (UTC+8)",
        crate::wechat::clock::cst_time_of_day(reported_at_ms)
    )
}

fn limit_text(limit: Option<u64>) -> String {
    limit.map_or_else(|| "-".to_owned(), |limit| limit.to_string())
}

/// Runs `wxhost outbox list` or `wxhost outbox retry`.
pub fn outbox(args: &OutboxArgs) -> anyhow::Result<()> {
    let config = Config::load_for_client(&args.config)?;
    let store = open_store(&config.resolve_path(&config.store.path))?;
    match &args.command {
        OutboxCommand::List { state, limit } => {
            let filter = match state {
                Some(name) => Some(EntryState::parse(name).with_context(|| {
                    format!("unknown state {name:?}; use pending, sending, sent, dead or in_doubt")
                })?),
                None => None,
            };
            let counts = store.outbox_counts()?;
            let summary: Vec<String> = counts
                .iter()
                .map(|(state, count)| format!("{state}={count}"))
                .collect();
            println!(
                "outbox: {}",
                if summary.is_empty() {
                    "empty".to_owned()
                } else {
                    summary.join(" ")
                }
            );
            println!(
                "{:>8} {:<8} {:<12} {:<9} {:<16} {:>8}  last error",
                "id", "state", "account", "kind", "source", "attempts"
            );
            for entry in store.outbox_list(filter, *limit)? {
                println!(
                    "{:>8} {:<8} {:<12} {:<9} {:<16} {:>8}  {}",
                    entry.id,
                    entry.state,
                    entry.account,
                    entry.kind,
                    entry.source,
                    entry.attempts,
                    entry.last_error.as_deref().unwrap_or("")
                );
            }
        }
        OutboxCommand::Retry { id } => {
            if !store.outbox_retry(*id, now_ms())? {
                bail!(
                    "no dead or in_doubt outbox entry has id {id}; \
                     `wxhost outbox list --state dead` and `--state in_doubt` show them"
                );
            }
            println!("outbox entry {id} queued again");
        }
    }
    Ok(())
}

fn open_store(path: &Path) -> anyhow::Result<Store> {
    if !path.is_file() {
        bail!(
            "no store at {}; start the host once or fix store.path",
            path.display()
        );
    }
    Ok(Store::open(path)?)
}

#[cfg(test)]
mod tests {
    use super::wechat_exhausted_note;

    #[test]
    fn exhausted_note_names_time_and_reset() {
        // 2026-12-05 02:03:04 UTC.
        assert_eq!(
            wechat_exhausted_note(1_796_436_184_000),
            "blocked: WeChat reported 45009 (daily quota used up) at 10:03:04 China Standard Time; \
             calls resume after midnight China Standard Time (UTC+8)"
        );
    }
}
