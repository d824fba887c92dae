//! Welcome plugin: replies to follows and QR scans, telling first-time from
//! returning followers through the host's follower ledger, and counts
//! follows, unfollows and scans per QR channel in `kv`.
//!
//! Needs the `followers` and `kv` capabilities, and the events
//! `subscribe`, `unsubscribe` and `SCAN`. The configuration keys are
//! documented in `docs/plugins/welcome.md`.
//!
//! Counters are decimal `kv` entries under `channel/{name}/{counter}`,
//! with counters `follows`, `new`, `returning`, `unfollows` and `scans`;
//! `wxhost stats channels` prints them. Each callback is counted once: a
//! `kv` marker keyed by the follower, `CreateTime` and event guards the
//! counters, also when the host runs the plugin again after a restart.

mod settings;

use settings::Settings;
use wxhost_plugin::config::{self, Table};
use wxhost_plugin::{Event, EventKind, Plugin, Reply, ReplySpec, followers, kv, log};

/// How long a counted callback's marker is kept, in seconds.
const MARKER_TTL_SECS: u32 = 24 * 60 * 60;

struct WelcomePlugin;

impl Plugin for WelcomePlugin {
    fn check_config() -> Result<(), Vec<String>> {
        config::check(Settings::load)
    }

    fn reply(event: &Event) -> Option<Reply> {
        let kind = event.event_kind()?;
        let settings = match Settings::load(&Table::load()) {
            Ok(settings) => settings,
            Err(error) => {
                log::error_with("invalid welcome configuration", &error);
                return None;
            }
        };
        let spec = match kind {
            EventKind::Subscribe(subscribe) => {
                on_follow(&settings, event, subscribe.scene.as_deref())
            }
            EventKind::Scan(scan) => on_scan(&settings, event, &scan.scene),
            EventKind::Unsubscribe => {
                on_unfollow(&settings, event);
                None
            }
            _ => None,
        };
        spec.map(ReplySpec::to_reply)
    }
}

fn on_follow<'a>(
    settings: &'a Settings,
    event: &Event,
    scene: Option<&str>,
) -> Option<&'a ReplySpec> {
    let follower = followers::get(&event.from_user).unwrap_or_else(|error| {
        log::error_with("failed to read the follower ledger", &error);
        None
    });
    // The ledger already includes this follow.
    let first_time = follower.is_none_or(|f| f.follow_count <= 1);
    let channel = settings.channel_of(scene);
    let name = settings.channel_name(scene);
    let kind = if first_time { "new" } else { "returning" };
    count(settings, event, "subscribe", &name, &["follows", kind]);

    if first_time {
        if channel.is_some_and(|c| c.pass_new_followers) {
            return None;
        }
        channel
            .and_then(|c| c.new_follower_reply.as_ref())
            .or(settings.new_follower_reply.as_ref())
    } else {
        channel
            .and_then(|c| c.returning_reply.as_ref())
            .or(settings.returning_reply.as_ref())
    }
}

fn on_scan<'a>(settings: &'a Settings, event: &Event, scene: &str) -> Option<&'a ReplySpec> {
    let channel = settings.channel_of(Some(scene));
    let name = settings.channel_name(Some(scene));
    count(settings, event, "scan", &name, &["scans"]);
    channel
        .and_then(|c| c.scan_reply.as_ref())
        .or(settings.scan_reply.as_ref())
}

fn on_unfollow(settings: &Settings, event: &Event) {
    // The unfollow counts against the channel of the latest follow.
    let scene = match followers::get(&event.from_user) {
        Ok(follower) => follower.and_then(|f| f.last_scene),
        Err(error) => {
            log::error_with("failed to read the follower ledger", &error);
            return;
        }
    };
    let name = settings.channel_name(scene.as_deref());
    count(settings, event, "unsubscribe", &name, &["unfollows"]);
}

/// Adds 1 to each `counters` of `channel`, once per callback.
fn count(settings: &Settings, event: &Event, event_name: &str, channel: &str, counters: &[&str]) {
    if !settings.count_channels {
        return;
    }
    let marker = format!(
        "seen/{}/{}/{event_name}",
        event.from_user, event.create_time
    );
    match kv::set_if_absent_bytes(&marker, b"1", Some(MARKER_TTL_SECS)) {
        Ok(true) => {}
        Ok(false) => return,
        Err(error) => {
            log::error_with("failed to count the channel", &error);
            return;
        }
    }
    for counter in counters {
        if let Err(error) = kv::increment(&format!("channel/{channel}/{counter}"), 1) {
            log::error_with("failed to count the channel", &error);
        }
    }
}

wxhost_plugin::export_plugin!(WelcomePlugin);
