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

wit_bindgen::generate!({ path: "../../wit", world: "plugin" });

use settings::{ReplyConfig, Settings};
use wxhost::plugin::log::{self, Level};
use wxhost::plugin::types::{EventKind, Payload};
use wxhost::plugin::{followers, kv};

/// How long a counted callback's marker is kept, in seconds.
const MARKER_TTL_SECS: u32 = 24 * 60 * 60;

struct WelcomePlugin;

impl Guest for WelcomePlugin {
    fn handle(event: Event) -> Vec<Directive> {
        let Payload::Event(kind) = &event.payload else {
            return vec![Directive::NoReply];
        };
        let settings = match Settings::load() {
            Ok(settings) => settings,
            Err(error) => {
                log_error("invalid welcome configuration", error);
                return vec![Directive::NoReply];
            }
        };
        let reply = match kind {
            EventKind::Subscribe(subscribe) => {
                on_follow(&settings, &event, subscribe.scene.as_deref())
            }
            EventKind::Scan(scan) => on_scan(&settings, &event, &scan.scene),
            EventKind::Unsubscribe => {
                on_unfollow(&settings, &event);
                None
            }
            _ => None,
        };
        match reply {
            Some(reply) => vec![Directive::Reply(reply.to_wit())],
            None => vec![Directive::NoReply],
        }
    }
}

fn on_follow<'a>(
    settings: &'a Settings,
    event: &Event,
    scene: Option<&str>,
) -> Option<&'a ReplyConfig> {
    let follower = match followers::get(&event.from_user) {
        Ok(follower) => follower,
        Err(error) => {
            log_error("failed to read the follower ledger", describe(&error));
            None
        }
    };
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

fn on_scan<'a>(settings: &'a Settings, event: &Event, scene: &str) -> Option<&'a ReplyConfig> {
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
            log_error("failed to read the follower ledger", describe(&error));
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
    match kv::set_if_absent(&marker, b"1", Some(MARKER_TTL_SECS)) {
        Ok(true) => {}
        Ok(false) => return,
        Err(error) => {
            log_error("failed to count the channel", describe_kv(&error));
            return;
        }
    }
    for counter in counters {
        let key = format!("channel/{channel}/{counter}");
        if let Err(error) = kv::increment(&key, 1) {
            log_error("failed to count the channel", describe_kv(&error));
        }
    }
}

fn describe(error: &followers::Error) -> String {
    match error {
        followers::Error::NotPermitted => {
            "not-permitted: grant the followers capability".to_owned()
        }
        followers::Error::Store(text) => format!("store: {text}"),
    }
}

fn describe_kv(error: &kv::Error) -> String {
    match error {
        kv::Error::TooLarge => "too-large".to_owned(),
        kv::Error::NotPermitted => "not-permitted: grant the kv capability".to_owned(),
        kv::Error::Store(text) => format!("store: {text}"),
    }
}

fn log_error(message: &str, error: String) {
    log::write(Level::Error, message, &[("error".to_owned(), error)]);
}

export!(WelcomePlugin);
