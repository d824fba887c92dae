//! The welcome configuration: replies, QR channels and scene patterns.

use serde::Deserialize;

use crate::wxhost::plugin::config;
use crate::wxhost::plugin::types::{Article, Reply};

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

/// One QR channel: the scenes that belong to it and its own replies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    pub name: String,
    /// Scene patterns: exact, or a prefix when the pattern ends in `*`.
    pub scenes: Vec<String>,
    pub new_follower_reply: Option<ReplyConfig>,
    pub returning_reply: Option<ReplyConfig>,
    pub scan_reply: Option<ReplyConfig>,
    /// First-time followers of this channel get no reply from this plugin,
    /// so a later plugin in the route (such as referral) replies to them.
    #[serde(default)]
    pub pass_new_followers: bool,
}

impl Channel {
    fn matches(&self, scene: &str) -> bool {
        self.scenes
            .iter()
            .any(|pattern| match pattern.strip_suffix('*') {
                Some(prefix) => scene.starts_with(prefix),
                None => scene == pattern,
            })
    }
}

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub new_follower_reply: Option<ReplyConfig>,
    pub returning_reply: Option<ReplyConfig>,
    pub scan_reply: Option<ReplyConfig>,
    pub channels: Vec<Channel>,
    /// Channel of follows without a QR scene.
    pub direct_channel: String,
    /// Channel of QR scenes that no channel lists.
    pub other_channel: String,
    pub count_channels: bool,
}

impl Settings {
    /// Reads every key from the plugin's config. Returns the key and the
    /// parse error of the first invalid value.
    pub fn load() -> Result<Settings, String> {
        Ok(Settings {
            new_follower_reply: value("new_follower_reply")?,
            returning_reply: value("returning_reply")?,
            scan_reply: value("scan_reply")?,
            channels: value("channels")?.unwrap_or_default(),
            direct_channel: value("direct_channel")?.unwrap_or_else(|| "direct".to_owned()),
            other_channel: value("other_channel")?.unwrap_or_else(|| "other".to_owned()),
            count_channels: value("count_channels")?.unwrap_or(true),
        })
    }

    /// Returns the first channel that lists `scene`, if any.
    pub fn channel_of(&self, scene: Option<&str>) -> Option<&Channel> {
        let scene = scene?;
        self.channels.iter().find(|channel| channel.matches(scene))
    }

    /// Returns the channel name to count a follow with `scene` under.
    pub fn channel_name(&self, scene: Option<&str>) -> String {
        match (scene, self.channel_of(scene)) {
            (_, Some(channel)) => channel.name.clone(),
            (Some(_), None) => self.other_channel.clone(),
            (None, None) => self.direct_channel.clone(),
        }
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
