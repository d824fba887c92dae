//! `wxhost stats channels` and `wxhost stats invites`: the counters that
//! the welcome and referral plugins keep in `kv`, read from the store of
//! a host, running or not.

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Subcommand};

use crate::config::Config;
use crate::store::{Store, StoreError};

/// Arguments of `wxhost stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Path of the TOML config file.
    #[arg(long, short, default_value = "wxhost.toml", global = true)]
    config: PathBuf,
    /// Only this account; all accounts of the config when absent.
    #[arg(long, global = true)]
    account: Option<String>,
    #[command(subcommand)]
    command: StatsCommand,
}

#[derive(Debug, Subcommand)]
enum StatsCommand {
    /// Follows, first-time and returning follows, unfollows, net follows
    /// and scans per QR channel, from the welcome plugin.
    Channels {
        /// Name of the welcome plugin in the config.
        #[arg(long, default_value = "welcome")]
        plugin: String,
    },
    /// The inviters with the most credited new followers, by pseudonym,
    /// from the referral plugin.
    Invites {
        /// Name of the referral plugin in the config.
        #[arg(long, default_value = "referral")]
        plugin: String,
        /// Number of inviters to print.
        #[arg(long, default_value_t = 10)]
        top: usize,
    },
}

/// The counters of one QR channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelStats {
    pub channel: String,
    /// Follows through the channel, first-time and returning.
    pub follows: i64,
    /// First-time follows.
    pub new: i64,
    /// Follows of followers who had followed before.
    pub returning: i64,
    /// Unfollows of followers whose latest follow came through the channel.
    pub unfollows: i64,
    /// `SCAN` events of followers who already followed.
    pub scans: i64,
}

impl ChannelStats {
    /// Follows minus unfollows.
    pub fn net(&self) -> i64 {
        self.follows - self.unfollows
    }
}

/// Returns the welcome plugin's counters of `account`, sorted by channel.
pub fn channel_stats(
    store: &Store,
    account: &str,
    plugin: &str,
    now_secs: u64,
) -> Result<Vec<ChannelStats>, StoreError> {
    let mut channels: Vec<ChannelStats> = Vec::new();
    for (key, value) in store.kv_scan(account, plugin, "channel/", now_secs)? {
        let Some((channel, counter)) = key["channel/".len()..].rsplit_once('/') else {
            continue;
        };
        let count = parse_count(&value);
        if channels.last().is_none_or(|last| last.channel != channel) {
            channels.push(ChannelStats {
                channel: channel.to_owned(),
                ..ChannelStats::default()
            });
        }
        let Some(stats) = channels.last_mut() else {
            continue;
        };
        match counter {
            "follows" => stats.follows = count,
            "new" => stats.new = count,
            "returning" => stats.returning = count,
            "unfollows" => stats.unfollows = count,
            "scans" => stats.scans = count,
            _ => {}
        }
    }
    Ok(channels)
}

/// Returns the referral plugin's `top` inviters of `account` as
/// (pseudonym, credited followers), most first, ties by pseudonym.
pub fn invite_stats(
    store: &Store,
    account: &str,
    plugin: &str,
    top: usize,
    now_secs: u64,
) -> Result<Vec<(String, i64)>, StoreError> {
    let mut inviters: Vec<(String, i64)> = store
        .kv_scan(account, plugin, "invites/", now_secs)?
        .into_iter()
        .map(|(key, value)| (key["invites/".len()..].to_owned(), parse_count(&value)))
        .collect();
    inviters.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    inviters.truncate(top);
    Ok(inviters)
}

fn parse_count(value: &[u8]) -> i64 {
    std::str::from_utf8(value)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(0)
}

/// Prints the requested statistics for each selected account.
pub fn run(args: &StatsArgs) -> anyhow::Result<()> {
    let config = Config::load_for_client(&args.config)?;
    let accounts: Vec<&str> = match &args.account {
        Some(name) if config.account(name).is_none() => {
            bail!("no account named {name:?} in {}", args.config.display())
        }
        Some(name) => vec![name.as_str()],
        None => config.accounts.iter().map(|a| a.name.as_str()).collect(),
    };
    let store = Store::open(&config.resolve_path(&config.store.path))?;
    let now = crate::outbox::now_ms() as u64 / 1000;
    for account in accounts {
        println!("account {account}");
        match &args.command {
            StatsCommand::Channels { plugin } => {
                println!(
                    "{:<24} {:>8} {:>8} {:>10} {:>10} {:>8} {:>8}",
                    "channel", "follows", "new", "returning", "unfollows", "net", "scans"
                );
                for stats in channel_stats(&store, account, plugin, now)? {
                    println!(
                        "{:<24} {:>8} {:>8} {:>10} {:>10} {:>8} {:>8}",
                        stats.channel,
                        stats.follows,
                        stats.new,
                        stats.returning,
                        stats.unfollows,
                        stats.net(),
                        stats.scans
                    );
                }
            }
            StatsCommand::Invites { plugin, top } => {
                println!("{:<34} {:>8}", "inviter (pseudonym)", "invites");
                for (pseudonym, count) in invite_stats(&store, account, plugin, *top, now)? {
                    println!("{pseudonym:<34} {count:>8}");
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_stats_groups_counters() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        for (key, value) in [
            ("channel/poster/follows", "5"),
            ("channel/poster/new", "4"),
            ("channel/poster/returning", "1"),
            ("channel/poster/unfollows", "2"),
            ("channel/direct/follows", "1"),
            ("channel/direct/scans", "3"),
            ("seen/o1/1/subscribe", "1"),
        ] {
            store.kv_set("demo", "welcome", key, value.as_bytes(), None)?;
        }
        let stats = channel_stats(&store, "demo", "welcome", 0)?;
        assert_eq!(
            stats,
            vec![
                ChannelStats {
                    channel: "direct".to_owned(),
                    follows: 1,
                    scans: 3,
                    ..ChannelStats::default()
                },
                ChannelStats {
                    channel: "poster".to_owned(),
                    follows: 5,
                    new: 4,
                    returning: 1,
                    unfollows: 2,
                    scans: 0,
                },
            ]
        );
        assert_eq!(stats[1].net(), 3);
        Ok(())
    }

    #[test]
    fn invite_stats_sorts_and_cuts() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        for (key, value) in [
            ("invites/bb", "2"),
            ("invites/aa", "2"),
            ("invites/cc", "7"),
        ] {
            store.kv_set("demo", "referral", key, value.as_bytes(), None)?;
        }
        let top = invite_stats(&store, "demo", "referral", 2, 0)?;
        assert_eq!(top, vec![("cc".to_owned(), 7), ("aa".to_owned(), 2)]);
        Ok(())
    }
}
