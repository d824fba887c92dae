//! Passive replies and the checks WeChat's rules impose before rendering.

use std::fmt;

use super::error::InvalidReply;
use super::message::Payload;
use super::xml::strip_forbidden_chars;

/// The no-reply body. WeChat shows nothing and stops retrying. It is sent
/// unencrypted in every mode.
pub const SUCCESS_BODY: &str = "success";

/// Maximum articles in a news reply to an event. After a user message
/// WeChat shows only one.
pub const MAX_ARTICLES_AFTER_EVENT: usize = 8;

/// A passive reply: the body of the HTTP response to one callback.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Text shown to the follower. It may contain newlines and
    /// `<a href="...">` links.
    Text(String),
    /// An image, by temporary or permanent media id.
    Image {
        /// `Image/MediaId`.
        media_id: String,
    },
    /// A voice message, by media id.
    Voice {
        /// `Voice/MediaId`.
        media_id: String,
    },
    /// A video, by media id.
    Video {
        /// `Video/MediaId`.
        media_id: String,
        /// `Video/Title`, omitted when `None`.
        title: Option<String>,
        /// `Video/Description`, omitted when `None`.
        description: Option<String>,
    },
    /// A music message. Only `thumb_media_id` is required.
    Music {
        /// `Music/Title`.
        title: Option<String>,
        /// `Music/Description`.
        description: Option<String>,
        /// `Music/MusicUrl`.
        music_url: Option<String>,
        /// `Music/HQMusicUrl`, played on Wi-Fi.
        hq_music_url: Option<String>,
        /// `Music/ThumbMediaId`: the cover image's media id.
        thumb_media_id: String,
    },
    /// News articles.
    News(Vec<Article>),
    /// Hands the message to WeChat's customer-service system.
    TransferCustomerService {
        /// `TransInfo/KfAccount`: one agent account such as `test1@test`,
        /// or `None` for any agent.
        kf_account: Option<String>,
    },
}

/// One news article.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    /// `Title`.
    pub title: String,
    /// `Description`.
    pub description: String,
    /// `PicUrl`: the cover image.
    pub pic_url: String,
    /// `Url`: the page opened on tap.
    pub url: String,
}

/// The kind of callback a reply responds to, which decides the rules the
/// reply must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyContext {
    /// A user message (text, image, voice, video, short video, location,
    /// link, file, or a message type outside the model).
    UserMessage,
    /// An event.
    Event,
}

impl ReplyContext {
    /// Returns the context for replying to `payload`.
    pub fn of(payload: &Payload) -> Self {
        match payload {
            Payload::Message(_) => ReplyContext::UserMessage,
            Payload::Event(_) => ReplyContext::Event,
        }
    }
}

/// A change that validation made to a reply, for the caller to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyWarning {
    /// News articles beyond what WeChat shows in this context were dropped.
    NewsTruncated {
        /// Articles in the plugin's reply.
        sent: usize,
        /// Articles kept.
        kept: usize,
    },
}

impl fmt::Display for ReplyWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyWarning::NewsTruncated { sent, kept } => {
                write!(f, "news reply truncated from {sent} to {kept} articles")
            }
        }
    }
}

/// A reply that passed [`Reply::validate`], with the warnings it raised.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedReply {
    /// The normalised reply: characters XML forbids removed, empty optional
    /// fields turned into `None`, news articles cut to the limit.
    pub reply: Reply,
    /// Changes to log.
    pub warnings: Vec<ReplyWarning>,
}

impl Reply {
    /// Checks the reply against WeChat's rules for `context` and normalises
    /// it.
    ///
    /// News keeps only the first article after a user message and at most
    /// [`MAX_ARTICLES_AFTER_EVENT`] after an event, with a
    /// [`ReplyWarning::NewsTruncated`].
    ///
    /// # Errors
    ///
    /// [`InvalidReply`] for an empty or whitespace-only text, an empty media
    /// id, a music reply without thumb media id, news without articles, or
    /// `transfer_customer_service` after an event. The caller sends
    /// [`SUCCESS_BODY`] instead.
    pub fn validate(&self, context: ReplyContext) -> Result<ValidatedReply, InvalidReply> {
        let mut warnings = Vec::new();
        let reply = match self {
            Reply::Text(text) => {
                let text = clean(text);
                if text.trim().is_empty() {
                    return Err(InvalidReply::EmptyText);
                }
                Reply::Text(text)
            }
            Reply::Image { media_id } => Reply::Image {
                media_id: media_id_of("image", media_id)?,
            },
            Reply::Voice { media_id } => Reply::Voice {
                media_id: media_id_of("voice", media_id)?,
            },
            Reply::Video {
                media_id,
                title,
                description,
            } => Reply::Video {
                media_id: media_id_of("video", media_id)?,
                title: clean_optional(title),
                description: clean_optional(description),
            },
            Reply::Music {
                title,
                description,
                music_url,
                hq_music_url,
                thumb_media_id,
            } => Reply::Music {
                title: clean_optional(title),
                description: clean_optional(description),
                music_url: clean_optional(music_url),
                hq_music_url: clean_optional(hq_music_url),
                thumb_media_id: media_id_of("music", thumb_media_id)
                    .map_err(|_| InvalidReply::MissingThumbMediaId)?,
            },
            Reply::News(articles) => Reply::News(news_articles(articles, context, &mut warnings)?),
            Reply::TransferCustomerService { kf_account } => {
                if context == ReplyContext::Event {
                    return Err(InvalidReply::TransferAfterEvent);
                }
                Reply::TransferCustomerService {
                    kf_account: clean_optional(kf_account),
                }
            }
        };
        Ok(ValidatedReply { reply, warnings })
    }
}

fn news_articles(
    articles: &[Article],
    context: ReplyContext,
    warnings: &mut Vec<ReplyWarning>,
) -> Result<Vec<Article>, InvalidReply> {
    if articles.is_empty() {
        return Err(InvalidReply::NoArticles);
    }
    let limit = match context {
        ReplyContext::UserMessage => 1,
        ReplyContext::Event => MAX_ARTICLES_AFTER_EVENT,
    };
    if articles.len() > limit {
        warnings.push(ReplyWarning::NewsTruncated {
            sent: articles.len(),
            kept: limit,
        });
    }
    Ok(articles
        .iter()
        .take(limit)
        .map(|article| Article {
            title: clean(&article.title),
            description: clean(&article.description),
            pic_url: clean(&article.pic_url),
            url: clean(&article.url),
        })
        .collect())
}

fn clean(text: &str) -> String {
    strip_forbidden_chars(text).into_owned()
}

fn clean_optional(text: &Option<String>) -> Option<String> {
    text.as_deref()
        .map(clean)
        .filter(|text| !text.trim().is_empty())
}

fn media_id_of(kind: &'static str, media_id: &str) -> Result<String, InvalidReply> {
    let media_id = clean(media_id);
    if media_id.trim().is_empty() {
        return Err(InvalidReply::EmptyMediaId(kind));
    }
    Ok(media_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::message::{Event, Message};

    fn article() -> Article {
        Article {
            title: "t".to_owned(),
            description: "d".to_owned(),
            pic_url: "p".to_owned(),
            url: "u".to_owned(),
        }
    }

    fn validate(reply: Reply, context: ReplyContext) -> Result<ValidatedReply, InvalidReply> {
        reply.validate(context)
    }

    #[test]
    fn empty_text_invalid() {
        for text in ["", "  \n", "\u{1}\u{2}"] {
            let result = validate(Reply::Text(text.to_owned()), ReplyContext::UserMessage);
            assert_eq!(result, Err(InvalidReply::EmptyText), "{text:?}");
        }
    }

    #[test]
    fn text_kept_with_newlines() {
        let validated = validate(Reply::Text(" a\nb ".to_owned()), ReplyContext::Event).unwrap();
        assert_eq!(validated.reply, Reply::Text(" a\nb ".to_owned()));
        assert_eq!(validated.warnings, []);
    }

    #[test]
    fn empty_news_invalid() {
        for context in [ReplyContext::UserMessage, ReplyContext::Event] {
            let result = validate(Reply::News(vec![]), context);
            assert_eq!(result, Err(InvalidReply::NoArticles));
        }
    }

    #[test]
    fn news_limits_by_context() {
        let three = Reply::News(vec![article(); 3]);
        let after_message = validate(three.clone(), ReplyContext::UserMessage).unwrap();
        assert_eq!(after_message.reply, Reply::News(vec![article()]));
        assert_eq!(
            after_message.warnings,
            [ReplyWarning::NewsTruncated { sent: 3, kept: 1 }]
        );
        assert_eq!(
            after_message.warnings[0].to_string(),
            "news reply truncated from 3 to 1 articles"
        );

        let after_event = validate(three, ReplyContext::Event).unwrap();
        assert_eq!(after_event.reply, Reply::News(vec![article(); 3]));
        assert_eq!(after_event.warnings, []);

        let nine = validate(Reply::News(vec![article(); 9]), ReplyContext::Event).unwrap();
        assert_eq!(nine.reply, Reply::News(vec![article(); 8]));
        assert_eq!(
            nine.warnings,
            [ReplyWarning::NewsTruncated { sent: 9, kept: 8 }]
        );
    }

    #[test]
    fn music_needs_thumb() {
        let music = Reply::Music {
            title: None,
            description: None,
            music_url: Some("u".to_owned()),
            hq_music_url: None,
            thumb_media_id: " ".to_owned(),
        };
        assert_eq!(
            validate(music, ReplyContext::Event),
            Err(InvalidReply::MissingThumbMediaId)
        );
    }

    #[test]
    fn media_ids_required() {
        let cases = [
            (
                Reply::Image {
                    media_id: String::new(),
                },
                "image",
            ),
            (
                Reply::Voice {
                    media_id: " ".to_owned(),
                },
                "voice",
            ),
            (
                Reply::Video {
                    media_id: String::new(),
                    title: None,
                    description: None,
                },
                "video",
            ),
        ];
        for (reply, kind) in cases {
            assert_eq!(
                validate(reply, ReplyContext::UserMessage),
                Err(InvalidReply::EmptyMediaId(kind))
            );
        }
    }

    #[test]
    fn transfer_only_after_messages() {
        let transfer = Reply::TransferCustomerService {
            kf_account: Some(String::new()),
        };
        assert_eq!(
            validate(transfer.clone(), ReplyContext::Event),
            Err(InvalidReply::TransferAfterEvent)
        );
        let validated = validate(transfer, ReplyContext::UserMessage).unwrap();
        assert_eq!(
            validated.reply,
            Reply::TransferCustomerService { kf_account: None }
        );
    }

    #[test]
    fn context_from_payload() {
        let message = Payload::Message(Message::Unknown);
        assert_eq!(ReplyContext::of(&message), ReplyContext::UserMessage);
        let event = Payload::Event(Event::Unsubscribe);
        assert_eq!(ReplyContext::of(&event), ReplyContext::Event);
    }
}
