//! The referral configuration.

use serde::Deserialize;

use crate::wxhost::plugin::config;
use crate::wxhost::plugin::types::{Article, Reply};

/// Default lifetime of an invite code: 30 days, WeChat's maximum for a
/// temporary QR code.
pub const DEFAULT_EXPIRE_SECONDS: u32 = 2_592_000;

/// A configured reply: `{"text": "..."}` or `{"news": [...]}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum ReplyConfig {
    Text(String),
    News(Vec<ArticleConfig>),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// The title and description of the news article sent when the invite
/// image cannot be uploaded.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FallbackArticle {
    pub title: String,
    #[serde(default)]
    pub description: String,
}

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub keywords: Vec<String>,
    pub menu_key: Option<String>,
    pub scene_prefix: String,
    pub expire_seconds: u32,
    pub permanent_budget: i64,
    pub fallback_article: FallbackArticle,
    pub invitee_reply: Option<ReplyConfig>,
    pub inviter_message: Option<String>,
    pub scan_reply: Option<ReplyConfig>,
    pub error_reply: Option<ReplyConfig>,
}

impl Settings {
    /// Reads every key from the plugin's config. Returns the key and the
    /// parse error of the first invalid value.
    pub fn load() -> Result<Settings, String> {
        let settings = Settings {
            keywords: value("keywords")?.unwrap_or_default(),
            menu_key: value("menu_key")?,
            scene_prefix: value("scene_prefix")?.unwrap_or_else(|| "inv_".to_owned()),
            expire_seconds: value("expire_seconds")?.unwrap_or(DEFAULT_EXPIRE_SECONDS),
            permanent_budget: value("permanent_budget")?.unwrap_or(0),
            fallback_article: value("fallback_article")?.unwrap_or(FallbackArticle {
                title: "Your invite code".to_owned(),
                description: String::new(),
            }),
            invitee_reply: value("invitee_reply")?,
            inviter_message: value("inviter_message")?,
            scan_reply: value("scan_reply")?,
            error_reply: value("error_reply")?,
        };
        if settings.scene_prefix.is_empty() {
            return Err("scene_prefix: must not be empty".to_owned());
        }
        Ok(settings)
    }

    /// Returns the invite code in `scene`, or none for other scenes.
    pub fn code_of<'a>(&self, scene: &'a str) -> Option<&'a str> {
        scene
            .strip_prefix(self.scene_prefix.as_str())
            .filter(|code| !code.is_empty())
    }

    /// Returns true when `text` is one of the invite keywords, ignoring
    /// surrounding whitespace.
    pub fn is_keyword(&self, text: &str) -> bool {
        let text = text.trim();
        self.keywords.iter().any(|keyword| keyword == text)
    }
}

fn value<T: serde::de::DeserializeOwned>(key: &str) -> Result<Option<T>, String> {
    let Some(text) = config::get(key) else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|error| format!("{key}: {error}"))
}
