//! [`ReplySpec`]: a reply written in a plugin's config, and its passive
//! and customer-service forms.

use serde::Deserialize;

use crate::{Article, CustomBody, CustomMusic, CustomVideo, MusicReply, Reply, VideoReply};

/// A reply written in a plugin's config, the form that every shipped
/// plugin reads. In TOML it is a table with one key:
///
/// ```toml
/// reply = { text = "Hello" }
/// reply = { image = "MEDIA_ID" }
/// reply = { voice = "MEDIA_ID" }
/// reply = { video = { media_id = "MEDIA_ID", title = "...", description = "...", thumb_media_id = "..." } }
/// reply = { music = { thumb_media_id = "...", title = "...", description = "...", music_url = "...", hq_music_url = "..." } }
/// reply = { news = [{ title = "...", description = "...", pic_url = "...", url = "..." }] }
/// reply = { transfer_customer_service = "" }            # any agent
/// reply = { transfer_customer_service = "agent@account" }
/// ```
///
/// Only `title` and `url` of an article, `media_id` of a video and
/// `thumb_media_id` of music are required. Unknown keys are rejected, so
/// a misspelt field fails as a config error instead of vanishing.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ReplySpec {
    /// Text shown to the follower.
    Text(String),
    /// An image by media id.
    Image(String),
    /// A voice message by media id.
    Voice(String),
    /// A video by media id.
    Video(VideoSpec),
    /// Music with a thumbnail.
    Music(MusicSpec),
    /// News articles.
    News(Vec<ArticleSpec>),
    /// A transfer to customer service: an agent account such as
    /// `agent@account`, or empty (or blank) for any agent.
    TransferCustomerService(String),
}

/// The `video` form of a [`ReplySpec`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VideoSpec {
    /// The video's media id.
    pub media_id: String,
    /// The title shown with the video.
    #[serde(default)]
    pub title: Option<String>,
    /// The description shown with the video.
    #[serde(default)]
    pub description: Option<String>,
    /// The thumbnail's media id. A passive reply does not use it, but a
    /// customer-service video message requires it.
    #[serde(default)]
    pub thumb_media_id: Option<String>,
}

/// The `music` form of a [`ReplySpec`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MusicSpec {
    /// The thumbnail's media id, required by WeChat.
    pub thumb_media_id: String,
    /// The title.
    #[serde(default)]
    pub title: Option<String>,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// The music link.
    #[serde(default)]
    pub music_url: Option<String>,
    /// The high-quality link, played on Wi-Fi.
    #[serde(default)]
    pub hq_music_url: Option<String>,
}

/// One article of the `news` form of a [`ReplySpec`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArticleSpec {
    /// The title.
    pub title: String,
    /// The description; empty when not set.
    #[serde(default)]
    pub description: String,
    /// The picture link; empty when not set.
    #[serde(default)]
    pub pic_url: String,
    /// The link opened on tap.
    pub url: String,
}

impl ArticleSpec {
    /// Builds the WIT article.
    pub fn to_article(&self) -> Article {
        Article {
            title: self.title.clone(),
            description: self.description.clone(),
            pic_url: self.pic_url.clone(),
            url: self.url.clone(),
        }
    }
}

impl ReplySpec {
    /// Builds the passive reply. The host validates it when the plugin
    /// returns it, for example an empty text or news list is answered
    /// with `success`.
    pub fn to_reply(&self) -> Reply {
        match self {
            Self::Text(text) => Reply::Text(text.clone()),
            Self::Image(media_id) => Reply::Image(media_id.clone()),
            Self::Voice(media_id) => Reply::Voice(media_id.clone()),
            Self::Video(video) => Reply::Video(VideoReply {
                media_id: video.media_id.clone(),
                title: video.title.clone(),
                description: video.description.clone(),
            }),
            Self::Music(music) => Reply::Music(MusicReply {
                title: music.title.clone(),
                description: music.description.clone(),
                music_url: music.music_url.clone(),
                hq_music_url: music.hq_music_url.clone(),
                thumb_media_id: music.thumb_media_id.clone(),
            }),
            Self::News(articles) => {
                Reply::News(articles.iter().map(ArticleSpec::to_article).collect())
            }
            Self::TransferCustomerService(agent) => {
                let agent = agent.trim();
                Reply::TransferCustomerService((!agent.is_empty()).then(|| agent.to_owned()))
            }
        }
    }

    /// Builds the body of the equivalent customer-service message. News
    /// keeps its first article, because a customer-service message carries
    /// one. Fails, with the reason, for a video without `thumb_media_id`,
    /// an empty news list and a transfer to customer service, which has no
    /// customer-service form.
    pub fn to_custom(&self) -> Result<CustomBody, &'static str> {
        Ok(match self {
            Self::Text(text) => CustomBody::Text(text.clone()),
            Self::Image(media_id) => CustomBody::Image(media_id.clone()),
            Self::Voice(media_id) => CustomBody::Voice(media_id.clone()),
            Self::Video(video) => CustomBody::Video(CustomVideo {
                media_id: video.media_id.clone(),
                thumb_media_id: video.thumb_media_id.clone().ok_or(
                    "a video needs thumb_media_id to go out as a customer-service message",
                )?,
                title: video.title.clone().unwrap_or_default(),
                description: video.description.clone().unwrap_or_default(),
            }),
            Self::Music(music) => CustomBody::Music(CustomMusic {
                title: music.title.clone().unwrap_or_default(),
                description: music.description.clone().unwrap_or_default(),
                music_url: music.music_url.clone().unwrap_or_default(),
                hq_music_url: music.hq_music_url.clone().unwrap_or_default(),
                thumb_media_id: music.thumb_media_id.clone(),
            }),
            Self::News(articles) => CustomBody::News(
                articles
                    .first()
                    .ok_or("a news reply without articles has no customer-service form")?
                    .to_article(),
            ),
            Self::TransferCustomerService(_) => {
                return Err("a transfer to customer service can only be a passive reply");
            }
        })
    }
}

impl From<&ReplySpec> for Reply {
    fn from(spec: &ReplySpec) -> Self {
        spec.to_reply()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> ReplySpec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn text_and_media_specs() {
        assert_eq!(spec(r#"{"text": "hi"}"#).to_reply(), Reply::text("hi"));
        assert_eq!(spec(r#"{"image": "m1"}"#).to_reply(), Reply::image("m1"));
        assert_eq!(spec(r#"{"voice": "m2"}"#).to_reply(), Reply::voice("m2"));
        assert_eq!(
            spec(r#"{"image": "m1"}"#).to_custom(),
            Ok(CustomBody::Image("m1".to_owned()))
        );
    }

    #[test]
    fn video_spec_forms() {
        let video = spec(r#"{"video": {"media_id": "v", "title": "T"}}"#);
        assert_eq!(
            video.to_reply(),
            Reply::Video(VideoReply {
                media_id: "v".to_owned(),
                title: Some("T".to_owned()),
                description: None,
            })
        );
        assert_eq!(
            video.to_custom(),
            Err("a video needs thumb_media_id to go out as a customer-service message")
        );
        let with_thumb = spec(r#"{"video": {"media_id": "v", "thumb_media_id": "t"}}"#);
        assert_eq!(
            with_thumb.to_custom(),
            Ok(CustomBody::Video(CustomVideo {
                media_id: "v".to_owned(),
                thumb_media_id: "t".to_owned(),
                title: String::new(),
                description: String::new(),
            }))
        );
    }

    #[test]
    fn music_spec_forms() {
        let music =
            spec(r#"{"music": {"thumb_media_id": "t", "music_url": "https://a.invalid/m.mp3"}}"#);
        let Reply::Music(reply) = music.to_reply() else {
            panic!("expected music");
        };
        assert_eq!(reply.thumb_media_id, "t");
        assert_eq!(reply.music_url.as_deref(), Some("https://a.invalid/m.mp3"));
        assert_eq!(reply.title, None);
        let Ok(CustomBody::Music(custom)) = music.to_custom() else {
            panic!("expected a music body");
        };
        assert_eq!(custom.hq_music_url, "");
    }

    #[test]
    fn news_spec_forms() {
        let news = spec(
            r#"{"news": [{"title": "A", "url": "https://a.invalid/"},
                         {"title": "B", "description": "b", "pic_url": "https://b.invalid/p.png", "url": "https://b.invalid/"}]}"#,
        );
        let Reply::News(articles) = news.to_reply() else {
            panic!("expected news");
        };
        assert_eq!(articles.len(), 2);
        assert_eq!(articles[0], Article::new("A", "https://a.invalid/"));
        assert_eq!(articles[1].pic_url, "https://b.invalid/p.png");
        assert_eq!(
            news.to_custom(),
            Ok(CustomBody::News(Article::new("A", "https://a.invalid/")))
        );
        assert!(spec(r#"{"news": []}"#).to_custom().is_err());
    }

    #[test]
    fn transfer_spec_forms() {
        assert_eq!(
            spec(r#"{"transfer_customer_service": " "}"#).to_reply(),
            Reply::transfer_customer_service()
        );
        assert_eq!(
            spec(r#"{"transfer_customer_service": " agent@account "}"#).to_reply(),
            Reply::transfer_to_agent("agent@account")
        );
        assert!(
            spec(r#"{"transfer_customer_service": ""}"#)
                .to_custom()
                .is_err()
        );
    }

    #[test]
    fn unknown_fields_rejected() {
        let error = serde_json::from_str::<ReplySpec>(r#"{"txt": "hi"}"#).unwrap_err();
        assert!(
            error.to_string().starts_with("unknown variant `txt`"),
            "{error}"
        );
        let error = serde_json::from_str::<ReplySpec>(
            r#"{"news": [{"title": "A", "link": "x", "url": "u"}]}"#,
        )
        .unwrap_err();
        assert!(
            error.to_string().starts_with("unknown field `link`"),
            "{error}"
        );
    }
}
