//! Keyword reply plugin: maps phrases in a follower's text message to
//! replies.
//!
//! Configuration (each value is JSON text, as the host passes it):
//!
//! - `groups`: an array of groups, each `{ "name", "priority", "phrases":
//!   [{ "match": "exact" | "contains" | "regex", "text" }], "reply",
//!   "replies", "mode": "reply_all" | "random_one" }`. `reply` is one
//!   reply, `replies` a list; a group needs at least one. Groups are
//!   tried by `priority`, highest first, and in config order among equal
//!   priorities.
//! - `match_groups`: `"first"` (default) answers with the first matching
//!   group only, `"all"` with every matching group in priority order.
//! - `default_reply` (optional): the reply when no group matches.
//! - `default_reply_enabled` (default true): false turns the default
//!   reply off while keeping it in the file.
//! - `fold` (default true): fold full-width ASCII forms to half-width and
//!   letters to lowercase in the message and the phrases before matching.
//! - `max_replies` (default 5): the most replies one message gets.
//!
//! A reply is `{ "text": "..." }`, `{ "image": "MEDIA_ID" }`,
//! `{ "voice": "MEDIA_ID" }`, `{ "video": { "media_id", "title",
//! "description", "thumb_media_id" } }` or `{ "news": [{ "title",
//! "description", "pic_url", "url" }] }`.
//!
//! An `exact` phrase matches when the message, without surrounding
//! whitespace, equals the phrase. A `contains` phrase matches anywhere in
//! the message. A `regex` phrase (Rust `regex` syntax, case-insensitive
//! when folding) is compiled only when a message reaches it, and matches
//! the folded message, so write its literals in half-width.
//!
//! The first chosen reply is the passive reply. WeChat takes one passive
//! reply per message, so the others go out as customer-service messages
//! (`send-custom`); a video among them needs `thumb_media_id`, and news
//! keeps its first article. A `random_one` group picks its reply from the
//! `MsgId` (or `CreateTime`), so WeChat's retries get the same one.
//!
//! Messages other than text, and events, get `no-reply`. The plugin
//! instance is fresh for every call, so it parses its configuration on
//! each call; that takes a few microseconds for a few dozen phrases.

mod fold;
mod reply;
mod rules;

wit_bindgen::generate!({ path: "../../wit", world: "plugin" });

use wxhost::plugin::config;
use wxhost::plugin::log::{self, Level};
use wxhost::plugin::types::{CustomMessage, Message, Payload};

use crate::rules::{RawConfig, Rules};

struct KeywordPlugin;

impl Guest for KeywordPlugin {
    fn handle(event: Event) -> Vec<Directive> {
        let Payload::Message(Message::Text(text)) = &event.payload else {
            return vec![Directive::NoReply];
        };

        let values: Vec<Option<String>> = [
            "groups",
            "default_reply",
            "default_reply_enabled",
            "fold",
            "match_groups",
            "max_replies",
        ]
        .iter()
        .map(|key| config::get(key))
        .collect();
        let raw = RawConfig {
            groups: values[0].as_deref(),
            default_reply: values[1].as_deref(),
            default_reply_enabled: values[2].as_deref(),
            fold: values[3].as_deref(),
            match_groups: values[4].as_deref(),
            max_replies: values[5].as_deref(),
        };
        let rules = match Rules::parse(&raw) {
            Ok(rules) => rules,
            Err(error) => {
                log_error("invalid keyword configuration", error);
                return vec![Directive::NoReply];
            }
        };

        let seed = event.msg_id.unwrap_or(event.create_time);
        let selection = rules.select(&text.content, seed);
        for problem in selection.problems {
            log_error("invalid keyword phrase", problem);
        }
        let mut replies = selection.replies.into_iter();
        let Some(first) = replies.next() else {
            return vec![Directive::NoReply];
        };
        let mut directives = vec![Directive::Reply(first.to_wit())];
        for reply in replies {
            match reply.to_custom() {
                Some(body) => directives.push(Directive::SendCustom(CustomMessage {
                    body,
                    kf_account: None,
                })),
                None => log_error(
                    "keyword reply skipped",
                    "a video needs thumb_media_id to go out as a customer-service message"
                        .to_owned(),
                ),
            }
        }
        directives
    }
}

fn log_error(message: &str, error: String) {
    log::write(Level::Error, message, &[("error".to_owned(), error)]);
}

export!(KeywordPlugin);
