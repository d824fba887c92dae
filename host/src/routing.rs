//! Which plugins receive a callback.
//!
//! Each plugin declares the message types, event names and `EventKey`
//! patterns it receives. An account runs its plugins in route order; the
//! first plugin that returns a reply responds, and "no reply" passes the
//! callback on to the next.

use crate::config::PluginConfig;
use crate::protocol::message::{Inbound, Payload};

/// What one plugin receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRules {
    messages: Vec<String>,
    events: Vec<String>,
    event_keys: Vec<KeyPattern>,
}

/// An `EventKey` pattern: exact text, or a prefix when written with a
/// trailing `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyPattern {
    Exact(String),
    Prefix(String),
}

impl KeyPattern {
    fn parse(pattern: &str) -> KeyPattern {
        match pattern.strip_suffix('*') {
            Some(prefix) => KeyPattern::Prefix(prefix.to_owned()),
            None => KeyPattern::Exact(pattern.to_owned()),
        }
    }

    fn matches(&self, key: &str) -> bool {
        match self {
            KeyPattern::Exact(exact) => key == exact,
            KeyPattern::Prefix(prefix) => key.starts_with(prefix.as_str()),
        }
    }
}

impl RouteRules {
    /// Builds the rules of one `[[plugins]]` entry.
    pub fn from_config(plugin: &PluginConfig) -> RouteRules {
        RouteRules {
            messages: plugin.messages.clone(),
            events: plugin
                .events
                .iter()
                .map(|event| event.to_ascii_lowercase())
                .collect(),
            event_keys: plugin
                .event_keys
                .iter()
                .map(|key| KeyPattern::parse(key))
                .collect(),
        }
    }

    /// Returns whether the plugin receives this callback.
    pub fn accepts(&self, inbound: &Inbound) -> bool {
        match &inbound.payload {
            Payload::Message(_) => self
                .messages
                .iter()
                .any(|wanted| wanted == "*" || wanted.eq_ignore_ascii_case(&inbound.msg_type)),
            Payload::Event(_) => {
                let name = inbound.event.as_deref().unwrap_or("").to_ascii_lowercase();
                let named = self
                    .events
                    .iter()
                    .any(|wanted| wanted == "*" || *wanted == name);
                named && self.accepts_event_key(inbound.event_key.as_deref())
            }
        }
    }

    fn accepts_event_key(&self, key: Option<&str>) -> bool {
        if self.event_keys.is_empty() {
            return true;
        }
        let key = key.unwrap_or("");
        self.event_keys.iter().any(|pattern| pattern.matches(key))
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::protocol::message::{Event, Message};

    fn plugin(messages: &[&str], events: &[&str], event_keys: &[&str]) -> PluginConfig {
        let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
        PluginConfig {
            name: "p".to_owned(),
            path: PathBuf::from("p.wasm"),
            messages: strings(messages),
            events: strings(events),
            event_keys: strings(event_keys),
            ..PluginConfig::default()
        }
    }

    fn event(name: &str, key: Option<&str>) -> Inbound {
        Inbound {
            to_user: "gh_fakeacct001".to_owned(),
            from_user: "oFAKE_user_0001".to_owned(),
            create_time: 1_700_000_000,
            msg_type: "event".to_owned(),
            msg_id: None,
            event: Some(name.to_owned()),
            event_key: key.map(str::to_owned),
            payload: Payload::Event(Event::Click {
                key: key.unwrap_or("").to_owned(),
            }),
            extra: Vec::new(),
        }
    }

    fn text() -> Inbound {
        Inbound {
            msg_type: "text".to_owned(),
            event: None,
            event_key: None,
            payload: Payload::Message(Message::Text {
                content: "hi".to_owned(),
                biz_msg_menu_id: None,
            }),
            ..event("", None)
        }
    }

    #[test]
    fn messages_match_type_or_star() {
        assert!(RouteRules::from_config(&plugin(&["text"], &[], &[])).accepts(&text()));
        assert!(RouteRules::from_config(&plugin(&["*"], &[], &[])).accepts(&text()));
        assert!(!RouteRules::from_config(&plugin(&["image"], &[], &[])).accepts(&text()));
        assert!(!RouteRules::from_config(&plugin(&[], &["*"], &[])).accepts(&text()));
    }

    #[test]
    fn events_match_without_case() {
        let rules = RouteRules::from_config(&plugin(&[], &["SCAN"], &[]));
        assert!(rules.accepts(&event("SCAN", Some("123"))));
        assert!(rules.accepts(&event("scan", Some("123"))));
        assert!(!rules.accepts(&event("subscribe", None)));
    }

    #[test]
    fn event_keys_match_exact_or_prefix() {
        let rules = RouteRules::from_config(&plugin(&[], &["CLICK"], &["MENU_*", "HELP"]));
        assert!(rules.accepts(&event("CLICK", Some("MENU_NEWS"))));
        assert!(rules.accepts(&event("CLICK", Some("HELP"))));
        assert!(!rules.accepts(&event("CLICK", Some("HELP2"))));
        assert!(!rules.accepts(&event("CLICK", None)));
    }
}
