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
//! A reply is the SDK's `ReplySpec`: `{ "text": "..." }`, `{ "image": "MEDIA_ID" }`,
//! `{ "voice": "MEDIA_ID" }`, `{ "video": { "media_id", "title",
//! "description", "thumb_media_id" } }`, `{ "music": { ... } }`,
//! `{ "news": [{ "title", "description", "pic_url", "url" }] }` or
//! `{ "transfer_customer_service": "" }`.
//!
//! An `exact` phrase matches when the message, without surrounding
//! whitespace, equals the phrase. A `contains` phrase matches anywhere in
//! the message. A `regex` phrase (Rust `regex` syntax, case-insensitive
//! when folding) is compiled only when a message reaches it, and matches
//! the folded message, so write its literals in half-width.
//!
//! The first chosen reply is the passive reply. WeChat takes one passive
//! reply per message, so the others go out as customer-service messages
//! (`send-custom`); a video among them needs `thumb_media_id`, news
//! keeps its first article, and a transfer to customer service is
//! skipped. A `random_one` group picks its reply from the `MsgId` (or
//! `CreateTime`), so WeChat's retries get the same one.
//!
//! Messages other than text, and events, get `no-reply`. The plugin
//! instance is fresh for every call, so it parses its configuration on
//! each call; that takes a few microseconds for a few dozen phrases.

mod fold;
mod rules;

use wxhost_plugin::config::Table;
use wxhost_plugin::{CustomMessage, Directive, Event, Plugin, log};

use crate::rules::Rules;

struct KeywordPlugin;

impl Plugin for KeywordPlugin {
    fn check_config() -> Result<(), Vec<String>> {
        let rules = Rules::parse(&Table::load()).map_err(|error| vec![error.to_string()])?;
        let problems = rules.invalid_phrases();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    fn handle(event: &Event) -> Vec<Directive> {
        let Some(text) = event.text() else {
            return vec![Directive::NoReply];
        };
        let rules = match Rules::parse(&Table::load()) {
            Ok(rules) => rules,
            Err(error) => {
                log::error_with("invalid keyword configuration", &error);
                return vec![Directive::NoReply];
            }
        };

        let seed = event.msg_id.unwrap_or(event.create_time);
        let selection = rules.select(text, seed);
        for problem in &selection.problems {
            log::error_with("invalid keyword phrase", problem);
        }
        let mut replies = selection.replies.into_iter();
        let Some(first) = replies.next() else {
            return vec![Directive::NoReply];
        };
        let mut directives = vec![Directive::reply(first)];
        for reply in replies {
            match reply.to_custom() {
                Ok(body) => directives.push(Directive::send_custom(CustomMessage::new(body))),
                Err(reason) => log::error_with("keyword reply skipped", &reason),
            }
        }
        directives
    }
}

wxhost_plugin::export_plugin!(KeywordPlugin);
