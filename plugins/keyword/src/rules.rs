//! The keyword configuration and its matching.

use serde::Deserialize;

use crate::wxhost::plugin::types::{Article, Reply};

#[derive(Debug, Deserialize)]
struct Group {
    #[allow(dead_code, reason = "names a group in the config for people")]
    #[serde(default)]
    name: String,
    #[serde(default)]
    priority: i64,
    phrases: Vec<Phrase>,
    reply: ReplyConfig,
}

#[derive(Debug, Deserialize)]
struct Phrase {
    #[serde(rename = "match")]
    kind: MatchKind,
    text: String,
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
pub struct Rules {
    groups: Vec<Group>,
    default_reply: Option<ReplyConfig>,
}

impl Rules {
    /// Parses the `groups` and `default_reply` config values; either may be
    /// absent. Returns the serde error text on invalid JSON.
    pub fn parse(groups: Option<&str>, default_reply: Option<&str>) -> Result<Self, String> {
        let mut groups: Vec<Group> = match groups {
            Some(json) => serde_json::from_str(json).map_err(|e| format!("groups: {e}"))?,
            None => Vec::new(),
        };
        // A stable sort keeps config order among equal priorities.
        groups.sort_by_key(|group| std::cmp::Reverse(group.priority));
        let default_reply = match default_reply {
            Some(json) => {
                Some(serde_json::from_str(json).map_err(|e| format!("default_reply: {e}"))?)
            }
            None => None,
        };
        Ok(Self {
            groups,
            default_reply,
        })
    }

    /// Returns the reply of the first group that matches `content`, else the
    /// default reply.
    pub fn find_reply(&self, content: &str) -> Option<&ReplyConfig> {
        let trimmed = content.trim();
        self.groups
            .iter()
            .find(|group| group.phrases.iter().any(|p| p.matches(content, trimmed)))
            .map(|group| &group.reply)
            .or(self.default_reply.as_ref())
    }
}

impl Phrase {
    fn matches(&self, content: &str, trimmed: &str) -> bool {
        match self.kind {
            MatchKind::Exact => trimmed == self.text.trim(),
            MatchKind::Contains => !self.text.is_empty() && content.contains(self.text.as_str()),
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

    fn text(reply: Option<&ReplyConfig>) -> Option<&str> {
        match reply {
            Some(ReplyConfig::Text(text)) => Some(text),
            _ => None,
        }
    }

    #[test]
    fn priority_order_wins() {
        let rules = Rules::parse(Some(GROUPS), None).unwrap();
        assert_eq!(text(rules.find_reply("  价格表\n")), Some("high"));
        assert_eq!(text(rules.find_reply("价格表多少")), Some("low"));
    }

    #[test]
    fn no_match_without_default() {
        let rules = Rules::parse(Some(GROUPS), None).unwrap();
        assert_eq!(rules.find_reply("你好"), None);
    }

    #[test]
    fn default_reply_used() {
        let rules = Rules::parse(Some(GROUPS), Some(r#"{"text": "默认"}"#)).unwrap();
        assert_eq!(text(rules.find_reply("你好")), Some("默认"));
    }

    #[test]
    fn invalid_groups_rejected() {
        let error = Rules::parse(Some("[{}]"), None).unwrap_err();
        assert!(error.starts_with("groups: missing field"), "{error}");
    }
}
