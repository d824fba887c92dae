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

wit_bindgen::generate!({ path: "../../wit", world: "plugin" });

use settings::Settings;
use wxhost::plugin::log::{self, Level};
use wxhost::plugin::types::{
    AddressedMessage, CustomBody, CustomMessage, EventKind, Message, Payload,
};
use wxhost::plugin::{followers, kv};

struct ReferralPlugin;

impl Guest for ReferralPlugin {
    fn handle(event: Event) -> Vec<Directive> {
        let settings = match Settings::load() {
            Ok(settings) => settings,
            Err(error) => {
                log_error("invalid referral configuration", error);
                return vec![Directive::NoReply];
            }
        };
        let directives = match &event.payload {
            Payload::Message(Message::Text(text)) if settings.is_keyword(&text.content) => {
                invite::reply_with_code(&settings, &event.from_user)
            }
            Payload::Event(EventKind::Click(key)) if settings.menu_key.as_ref() == Some(key) => {
                invite::reply_with_code(&settings, &event.from_user)
            }
            Payload::Event(EventKind::Subscribe(subscribe)) => subscribe
                .scene
                .as_deref()
                .and_then(|scene| settings.code_of(scene))
                .map(|code| credit(&settings, &event.from_user, code))
                .unwrap_or_default(),
            Payload::Event(EventKind::Scan(scan)) if settings.code_of(&scan.scene).is_some() => {
                settings
                    .scan_reply
                    .iter()
                    .map(|reply| Directive::Reply(reply.to_wit()))
                    .collect()
            }
            _ => Vec::new(),
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
            log_error("failed to read the follower ledger", format!("{error:?}"));
            return Vec::new();
        }
    };
    // The ledger already includes this follow: 1 means first-time.
    if follower.is_none_or(|f| f.follow_count != 1) {
        return Vec::new();
    }
    let inviter = match kv::get(&format!("inviter/{code}")) {
        Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        Ok(None) => return Vec::new(),
        Err(error) => {
            log_error("failed to read the invite code", format!("{error:?}"));
            return Vec::new();
        }
    };
    if inviter == openid {
        return Vec::new();
    }
    match kv::set_if_absent(&format!("credited/{openid}"), code.as_bytes(), None) {
        Ok(true) => {}
        Ok(false) => return Vec::new(),
        Err(error) => {
            log_error("failed to record the credit", format!("{error:?}"));
            return Vec::new();
        }
    }
    let count = match kv::increment(&format!("invites/{code}"), 1) {
        Ok(count) => count,
        Err(error) => {
            log_error("failed to count the invite", format!("{error:?}"));
            return Vec::new();
        }
    };

    let mut directives = Vec::new();
    if let Some(reply) = &settings.invitee_reply {
        directives.push(Directive::Reply(reply.to_wit()));
    }
    if let Some(template) = &settings.inviter_message {
        directives.push(Directive::SendCustomTo(AddressedMessage {
            openid: inviter,
            message: CustomMessage {
                body: CustomBody::Text(template.replace("{count}", &count.to_string())),
                kf_account: None,
            },
        }));
    }
    directives
}

fn log_error(message: &str, error: String) {
    log::write(Level::Error, message, &[("error".to_owned(), error)]);
}

export!(ReferralPlugin);
