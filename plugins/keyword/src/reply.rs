//! Configured replies and their WIT forms.

use serde::Deserialize;

use crate::wxhost::plugin::types::{Article, CustomBody, CustomVideo, Reply, VideoReply};

/// A configured reply: `{"text": "..."}`, `{"image": "MEDIA_ID"}`,
/// `{"voice": "MEDIA_ID"}`, `{"video": {"media_id", ...}}` or
/// `{"news": [...]}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum ReplyConfig {
    Text(String),
    Image(String),
    Voice(String),
    Video(VideoConfig),
    News(Vec<ArticleConfig>),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VideoConfig {
    media_id: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    /// Needed only to send the video as a customer-service message.
    #[serde(default)]
    thumb_media_id: Option<String>,
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

impl ArticleConfig {
    fn to_wit(&self) -> Article {
        Article {
            title: self.title.clone(),
            description: self.description.clone(),
            pic_url: self.pic_url.clone(),
            url: self.url.clone(),
        }
    }
}

impl ReplyConfig {
    /// Builds the passive reply.
    pub fn to_wit(&self) -> Reply {
        match self {
            Self::Text(text) => Reply::Text(text.clone()),
            Self::Image(media_id) => Reply::Image(media_id.clone()),
            Self::Voice(media_id) => Reply::Voice(media_id.clone()),
            Self::Video(video) => Reply::Video(VideoReply {
                media_id: video.media_id.clone(),
                title: video.title.clone(),
                description: video.description.clone(),
            }),
            Self::News(articles) => {
                Reply::News(articles.iter().map(ArticleConfig::to_wit).collect())
            }
        }
    }

    /// Builds the customer-service message body, or none for a video
    /// without `thumb_media_id` and an empty news list. News keeps its
    /// first article, because a customer-service message carries one.
    pub fn to_custom(&self) -> Option<CustomBody> {
        Some(match self {
            Self::Text(text) => CustomBody::Text(text.clone()),
            Self::Image(media_id) => CustomBody::Image(media_id.clone()),
            Self::Voice(media_id) => CustomBody::Voice(media_id.clone()),
            Self::Video(video) => CustomBody::Video(CustomVideo {
                media_id: video.media_id.clone(),
                thumb_media_id: video.thumb_media_id.clone()?,
                title: video.title.clone().unwrap_or_default(),
                description: video.description.clone().unwrap_or_default(),
            }),
            Self::News(articles) => CustomBody::News(articles.first()?.to_wit()),
        })
    }
}
