//! The keyword configuration and its matching.

use std::cell::OnceCell;

use regex::Regex;
use serde::Deserialize;
use wxhost_plugin::ReplySpec;
use wxhost_plugin::config::{ConfigError, Table};

use crate::fold::fold;

/// Default `max_replies`: one passive reply and four customer-service
/// messages, within the five a follower's message allows.
const DEFAULT_MAX_REPLIES: usize = 5;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    #[allow(dead_code, reason = "names a group in the config for people")]
    #[serde(default)]
    name: String,
    #[serde(default)]
    priority: i64,
    phrases: Vec<Phrase>,
    #[serde(default)]
    reply: Option<ReplySpec>,
    #[serde(default)]
    replies: Vec<ReplySpec>,
    #[serde(default)]
    mode: ReplyMode,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Phrase {
    #[serde(rename = "match")]
    kind: MatchKind,
    text: String,
    /// The compiled `regex` phrase, built on first use.
    #[serde(skip)]
    compiled: OnceCell<Result<Regex, String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum MatchKind {
    Exact,
    Contains,
    Regex,
}

/// How a group replies when it has several replies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyMode {
    /// Every reply: the first passively, the rest as customer-service
    /// messages.
    #[default]
    ReplyAll,
    /// One reply, chosen from the message's `MsgId` or `CreateTime`.
    RandomOne,
}

/// Which matching groups reply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupSelection {
    /// Only the first matching group in priority order.
    #[default]
    First,
    /// Every matching group, in priority order.
    All,
}

/// The parsed configuration, with groups in match order.
#[derive(Debug)]
pub struct Rules {
    groups: Vec<Group>,
    default_reply: Option<ReplySpec>,
    fold: bool,
    selection: GroupSelection,
    max_replies: usize,
}

/// The replies chosen for a message and the problems met on the way.
#[derive(Debug, Default)]
pub struct Selection<'a> {
    pub replies: Vec<&'a ReplySpec>,
    /// Invalid `regex` phrases, which match nothing.
    pub problems: Vec<String>,
}

impl Rules {
    /// Parses the config values; each may be absent. Fails on invalid
    /// JSON and on a group without replies.
    pub fn parse(table: &Table) -> Result<Self, ConfigError> {
        let mut groups: Vec<Group> = table.get_or_default("groups")?;
        for (index, group) in groups.iter_mut().enumerate() {
            if let Some(reply) = group.reply.take() {
                group.replies.insert(0, reply);
            }
            if group.replies.is_empty() {
                return Err(ConfigError::invalid(
                    "groups",
                    format!("group {index} has no replies: set `reply` or `replies`"),
                ));
            }
        }
        // A stable sort keeps config order among equal priorities.
        groups.sort_by_key(|group| std::cmp::Reverse(group.priority));

        let enabled = table.get_or("default_reply_enabled", true)?;
        let default_reply = table.get("default_reply")?.filter(|_| enabled);
        let max_replies: usize = table.get_or("max_replies", DEFAULT_MAX_REPLIES)?;
        let rules = Self {
            groups,
            default_reply,
            fold: table.get_or("fold", true)?,
            selection: table.get_or_default("match_groups")?,
            max_replies: max_replies.max(1),
        };
        table.deny_unread()?;
        Ok(rules)
    }

    /// Returns one problem per `regex` phrase that does not compile, naming
    /// the group and the phrase. Such a phrase matches nothing.
    pub fn invalid_phrases(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for group in &self.groups {
            for phrase in &group.phrases {
                if phrase.kind != MatchKind::Regex {
                    continue;
                }
                if let Err(problem) = phrase.regex(self.fold) {
                    problems.push(format!(
                        "invalid config value `groups`: {problem} in group {:?}; fix the phrase in the plugin's config table",
                        group.name
                    ));
                }
            }
        }
        problems
    }

    /// Returns the replies for `content`: those of the matching groups,
    /// else the default reply. `seed` picks the reply of a `random_one`
    /// group.
    pub fn select(&self, content: &str, seed: u64) -> Selection<'_> {
        let text = if self.fold {
            fold(content)
        } else {
            content.to_owned()
        };
        let trimmed = text.trim();
        let mut selection = Selection::default();
        for group in &self.groups {
            let mut matched = false;
            for phrase in &group.phrases {
                match phrase.matches(&text, trimmed, self.fold) {
                    Ok(true) => {
                        matched = true;
                        break;
                    }
                    Ok(false) => {}
                    Err(problem) => selection.problems.push(problem),
                }
            }
            if !matched {
                continue;
            }
            match group.mode {
                ReplyMode::ReplyAll => selection.replies.extend(group.replies.iter()),
                ReplyMode::RandomOne => {
                    let index = (mix(seed) % group.replies.len() as u64) as usize;
                    selection.replies.push(&group.replies[index]);
                }
            }
            if self.selection == GroupSelection::First {
                break;
            }
        }
        if selection.replies.is_empty()
            && let Some(reply) = &self.default_reply
        {
            selection.replies.push(reply);
        }
        selection.replies.truncate(self.max_replies);
        selection
    }
}

impl Phrase {
    fn matches(&self, text: &str, trimmed: &str, fold_text: bool) -> Result<bool, String> {
        let folded;
        let phrase = if fold_text {
            folded = fold(&self.text);
            folded.as_str()
        } else {
            self.text.as_str()
        };
        match self.kind {
            MatchKind::Exact => Ok(trimmed == phrase.trim()),
            MatchKind::Contains => Ok(!phrase.is_empty() && text.contains(phrase)),
            MatchKind::Regex => match self.regex(fold_text) {
                Ok(regex) => Ok(regex.is_match(text)),
                Err(problem) => Err(problem.clone()),
            },
        }
    }

    /// Returns the compiled `regex` phrase, compiling it on first use.
    fn regex(&self, fold_text: bool) -> &Result<Regex, String> {
        self.compiled.get_or_init(|| {
            regex::RegexBuilder::new(&self.text)
                .case_insensitive(fold_text)
                .size_limit(1 << 20)
                .build()
                .map_err(|error| format!("invalid regex {:?}: {error}", self.text))
        })
    }
}

/// Spreads a `MsgId` or `CreateTime` over all 64 bits (SplitMix64's
/// finalizer), so consecutive ids pick replies evenly.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests;
