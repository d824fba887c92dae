//! Keyword reply plugin: maps phrases in a follower's text message to a
//! passive reply.
//!
//! Configuration (each value is JSON text, as the host passes it):
//!
//! - `groups`: an array of groups, each
//!   `{ "name", "priority", "phrases": [{ "match": "exact" | "contains", "text" }], "reply" }`.
//!   Groups are tried by `priority`, highest first, and in config order
//!   among equal priorities. The first group with a matching phrase supplies the reply.
//! - `default_reply` (optional): the reply when no group matches.
//!
//! A reply is `{ "text": "..." }` or
//! `{ "news": [{ "title", "description", "pic_url", "url" }] }`.
//!
//! An `exact` phrase matches when the message, without surrounding
//! whitespace, equals the phrase. A `contains` phrase matches anywhere in the
//! message. Both compare exactly, with case. Messages other than text, and
//! events, get `no-reply`. The plugin instance is fresh for every call, so
//! it parses its configuration on each call; that takes a few microseconds
//! for a few dozen phrases, and only the matching reply is parsed.

mod rules;

use wxhost_plugin::{Directive, Event, Plugin, config, log};

struct KeywordPlugin;

impl Plugin for KeywordPlugin {
    fn handle(event: &Event) -> Vec<Directive> {
        let Some(content) = event.text() else {
            return vec![Directive::NoReply];
        };

        let groups = config::get_json("groups");
        let default_reply = config::get_json("default_reply");
        let rules = match rules::Rules::parse(groups.as_deref(), default_reply.as_deref()) {
            Ok(rules) => rules,
            Err(error) => {
                log_invalid_config(&error);
                return vec![Directive::NoReply];
            }
        };

        match rules.find_reply(content) {
            Ok(Some(reply)) => vec![Directive::Reply(reply.to_wit())],
            Ok(None) => vec![Directive::NoReply],
            Err(error) => {
                log_invalid_config(&error);
                vec![Directive::NoReply]
            }
        }
    }
}

fn log_invalid_config(error: &str) {
    log::error("invalid keyword configuration", &[("error", error)]);
}

wxhost_plugin::export_plugin!(KeywordPlugin);
