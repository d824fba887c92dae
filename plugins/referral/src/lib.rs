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

/// Returns the directives for a follow through the invite code `code`.
/// A first-time follower credits the inviter, or gets `uncredited_reply`
/// when the follow credits no one. A returning follower gets nothing, so
/// the next plugin replies.
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
    credit_inviter(settings, openid, code).unwrap_or_else(|| {
        settings
            .uncredited_reply
            .iter()
            .map(Directive::reply)
            .collect()
    })
}

/// Credits the inviter of `code` for the first-time follower `openid`,
/// once. Returns the invitee's reply and the inviter's message, or none
/// when the code is unknown, belongs to `openid`, or was credited for
/// `openid` before, or when the store fails.
fn credit_inviter(settings: &Settings, openid: &str, code: &str) -> Option<Vec<Directive>> {
    let inviter = match kv::get_bytes(&format!("inviter/{code}")) {
        Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        Ok(None) => return None,
        Err(error) => {
            log::error_with("failed to read the invite code", &error);
            return None;
        }
    };
    if inviter == openid {
        return None;
    }
    match kv::set_if_absent_bytes(&format!("credited/{openid}"), code.as_bytes(), None) {
        Ok(true) => {}
        Ok(false) => return None,
        Err(error) => {
            log::error_with("failed to record the credit", &error);
            return None;
        }
    }
    let count = match kv::increment(&format!("invites/{code}"), 1) {
        Ok(count) => count,
        Err(error) => {
            log::error_with("failed to count the invite", &error);
            return None;
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
    Some(directives)
}

wxhost_plugin::export_plugin!(ReferralPlugin);
