//! Referral plugin: gives each follower a personal invite QR code and
//! credits the inviter once for every new follower who follows through it.
//!
//! Needs the `followers`, `qrcode`, `media` and `kv` capabilities, the
//! `text` messages and the `subscribe`, `SCAN` and `CLICK` events, and a
//! `deadline_ms` that covers two WeChat API calls (a few seconds). The
//! configuration keys are documented in `docs/plugins/referral.md`.
//!
//! `kv` entries:
//! - `inviter/{code}`: the openid of the follower whose code it is;
//! - `credited/{openid}`: the code that was credited for this new
//!   follower, written once with `set-if-absent`, so a follower credits at
//!   most one inviter at most once, across retries and restarts;
//! - `invites/{code}`: the inviter's count, read by `wxhost stats invites`;
//! - `permanent/{code}` and `permanent-used`: permanent codes against
//!   `permanent_budget`.
//!
//! A code is the follower's pseudonym from the host, so it never contains
//! the openid.

mod invite;
mod settings;

use settings::Settings;
use wxhost_plugin::config::{self, Table};
use wxhost_plugin::{CustomMessage, Directive, Event, EventKind, Plugin, followers, kv, log};

struct ReferralPlugin;

impl Plugin for ReferralPlugin {
    fn check_config() -> Result<(), Vec<String>> {
        config::check(Settings::load)
    }

    fn handle(event: &Event) -> Vec<Directive> {
        let settings = match Settings::load(&Table::load()) {
            Ok(settings) => settings,
            Err(error) => {
                log::error_with("invalid referral configuration", &error);
                return vec![Directive::NoReply];
            }
        };
        let openid = &event.from_user;
        let directives = if event.text().is_some_and(|text| settings.is_keyword(text)) {
            invite::reply_with_code(&settings, openid)
        } else {
            match event.event_kind() {
                Some(EventKind::Click(key)) if settings.menu_key.as_ref() == Some(key) => {
                    invite::reply_with_code(&settings, openid)
                }
                Some(EventKind::Subscribe(subscribe)) => subscribe
                    .scene
                    .as_deref()
                    .and_then(|scene| settings.code_of(scene))
                    .map(|code| credit(&settings, openid, code))
                    .unwrap_or_default(),
                Some(EventKind::Scan(scan)) if settings.code_of(&scan.scene).is_some() => {
                    settings.scan_reply.iter().map(Directive::reply).collect()
                }
                _ => Vec::new(),
            }
        };
        if directives.is_empty() {
            return vec![Directive::NoReply];
        }
        directives
    }
}

/// Credits the inviter of `code` for the new follower `openid`, once.
/// Returns the invitee's reply and the inviter's message, or nothing when
/// the follower is returning, invited themselves, was credited before, or
/// the code is unknown.
fn credit(settings: &Settings, openid: &str, code: &str) -> Vec<Directive> {
    let follower = match followers::get(openid) {
        Ok(follower) => follower,
        Err(error) => {
            log::error_with("failed to read the follower ledger", &error);
            return Vec::new();
        }
    };
    // The ledger already includes this follow: 1 means first-time.
    if follower.is_none_or(|f| f.follow_count != 1) {
        return Vec::new();
    }
    let inviter = match kv::get_bytes(&format!("inviter/{code}")) {
        Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        Ok(None) => return Vec::new(),
        Err(error) => {
            log::error_with("failed to read the invite code", &error);
            return Vec::new();
        }
    };
    if inviter == openid {
        return Vec::new();
    }
    match kv::set_if_absent_bytes(&format!("credited/{openid}"), code.as_bytes(), None) {
        Ok(true) => {}
        Ok(false) => return Vec::new(),
        Err(error) => {
            log::error_with("failed to record the credit", &error);
            return Vec::new();
        }
    }
    let count = match kv::increment(&format!("invites/{code}"), 1) {
        Ok(count) => count,
        Err(error) => {
            log::error_with("failed to count the invite", &error);
            return Vec::new();
        }
    };

    let mut directives: Vec<Directive> = settings
        .invitee_reply
        .iter()
        .map(Directive::reply)
        .collect();
    if let Some(template) = &settings.inviter_message {
        let text = template.replace("{count}", &count.to_string());
        directives.push(Directive::send_custom_to(
            inviter,
            CustomMessage::text(text),
        ));
    }
    directives
}

wxhost_plugin::export_plugin!(ReferralPlugin);
