//! The keyword configuration and its matching.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use wxhost_plugin::{Article, Reply};

/// One group. Its `name` is for people reading the config and is skipped.
/// The reply stays raw JSON until its group matches, so a call parses only
/// the reply it returns.
#[derive(Debug, Deserialize)]
struct Group<'a> {
    #[serde(default)]
    priority: i64,
    #[serde(borrow)]
    phrases: Vec<Phrase<'a>>,
    #[serde(borrow)]
    reply: &'a RawValue,
}

#[derive(Debug, Deserialize)]
struct Phrase<'a> {
    #[serde(rename = "match")]
    kind: MatchKind,
    /// Borrowed from the config text unless it contains JSON escapes.
    #[serde(borrow)]
    text: Cow<'a, str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum MatchKind {
    Exact,
    Contains,
}

/// A configured reply: `{"text": "..."}` or `{"news": [...]}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum ReplyConfig {
    Text(String),
    News(Vec<ArticleConfig>),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ArticleConfig {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    pic_url: String,
    url: String,
}

impl ReplyConfig {
    /// Builds the WIT reply.
    pub fn to_wit(&self) -> Reply {
        match self {
            Self::Text(text) => Reply::Text(text.clone()),
            Self::News(articles) => Reply::News(
                articles
                    .iter()
                    .map(|article| Article {
                        title: article.title.clone(),
                        description: article.description.clone(),
                        pic_url: article.pic_url.clone(),
                        url: article.url.clone(),
                    })
                    .collect(),
            ),
        }
    }
}

/// The parsed configuration, with groups in match order.
#[derive(Debug)]
pub struct Rules<'a> {
    groups: Vec<Group<'a>>,
    default_reply: Option<&'a str>,
}

impl<'a> Rules<'a> {
    /// Parses the `groups` config value, which may be absent, and keeps the
    /// `default_reply` text for [`Rules::find_reply`]. Returns the serde
    /// error text on invalid JSON.
    pub fn parse(groups: Option<&'a str>, default_reply: Option<&'a str>) -> Result<Self, String> {
        let mut groups: Vec<Group<'a>> = match groups {
            Some(json) => serde_json::from_str(json).map_err(|e| format!("groups: {e}"))?,
            None => Vec::new(),
        };
        // A stable sort keeps config order among equal priorities.
        groups.sort_by_key(|group| std::cmp::Reverse(group.priority));
        Ok(Self {
            groups,
            default_reply,
        })
    }

    /// Returns the reply of the first group that matches `content`, else the
    /// default reply, or `None` when neither exists. Fails with the serde
    /// error text when that reply is invalid.
    pub fn find_reply(&self, content: &str) -> Result<Option<ReplyConfig>, String> {
        let trimmed = content.trim();
        let group_reply = self
            .groups
            .iter()
            .find(|group| group.phrases.iter().any(|p| p.matches(content, trimmed)))
            .map(|group| group.reply.get());
        match (group_reply, self.default_reply) {
            (Some(json), _) => serde_json::from_str(json)
                .map(Some)
                .map_err(|e| format!("groups: reply: {e}")),
            (None, Some(json)) => serde_json::from_str(json)
                .map(Some)
                .map_err(|e| format!("default_reply: {e}")),
            (None, None) => Ok(None),
        }
    }
}

impl Phrase<'_> {
    fn matches(&self, content: &str, trimmed: &str) -> bool {
        match self.kind {
            MatchKind::Exact => trimmed == self.text.trim(),
            MatchKind::Contains => !self.text.is_empty() && content.contains(&*self.text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GROUPS: &str = r#"[
        {"name": "low", "priority": 1,
         "phrases": [{"match": "contains", "text": "价格"}],
         "reply": {"text": "low"}},
        {"name": "high", "priority": 9,
         "phrases": [{"match": "exact", "text": "价格表"}],
         "reply": {"text": "high"}}
    ]"#;

    fn text(reply: Result<Option<ReplyConfig>, String>) -> Option<String> {
        match reply.unwrap() {
            Some(ReplyConfig::Text(text)) => Some(text),
            _ => None,
        }
    }

    #[test]
    fn priority_order_wins() {
        let rules = Rules::parse(Some(GROUPS), None).unwrap();
        assert_eq!(
            text(rules.find_reply("  价格表\n")),
            Some("high".to_owned())
        );
        assert_eq!(text(rules.find_reply("价格表多少")), Some("low".to_owned()));
    }

    #[test]
    fn no_match_without_default() {
        let rules = Rules::parse(Some(GROUPS), None).unwrap();
        assert_eq!(rules.find_reply("你好"), Ok(None));
    }

    #[test]
    fn default_reply_used() {
        let rules = Rules::parse(Some(GROUPS), Some(r#"{"text": "默认"}"#)).unwrap();
        assert_eq!(text(rules.find_reply("你好")), Some("默认".to_owned()));
    }

    #[test]
    fn invalid_reply_rejected() {
        let groups = r#"[{"phrases": [{"match": "exact", "text": "a"}], "reply": {"txt": "x"}}]"#;
        let rules = Rules::parse(Some(groups), None).unwrap();
        let error = rules.find_reply("a").unwrap_err();
        assert!(
            error.starts_with("groups: reply: unknown variant `txt`"),
            "{error}"
        );
    }

    #[test]
    fn invalid_groups_rejected() {
        let error = Rules::parse(Some("[{}]"), None).unwrap_err();
        assert!(error.starts_with("groups: missing field"), "{error}");
    }
}
