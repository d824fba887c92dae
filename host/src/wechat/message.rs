//! Request bodies of the customer-service, typing and template message APIs.

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

/// A customer-service message for `message/custom/send`.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomMessage {
    /// The follower's openid.
    pub touser: String,
    pub body: CustomBody,
    /// Sends as this customer-service agent (`test1@kf`) when set.
    pub kf_account: Option<String>,
}

/// The payload of a customer-service message, one variant per `msgtype`.
///
/// Its serde form is WeChat's: the `msgtype` as the key of the payload
/// object, for example `{"text":{"content":"hi"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomBody {
    Text {
        content: String,
    },
    Image {
        media_id: String,
    },
    Voice {
        media_id: String,
    },
    Video {
        media_id: String,
        thumb_media_id: String,
        title: String,
        description: String,
    },
    Music {
        title: String,
        description: String,
        musicurl: String,
        hqmusicurl: String,
        thumb_media_id: String,
    },
    /// At most one article, because WeChat rejects more with 45008.
    News {
        articles: Vec<NewsArticle>,
    },
    /// An article from drafts or material.
    MpNews {
        media_id: String,
    },
    /// A published article (`article_id` from freepublish).
    MpNewsArticle {
        article_id: String,
    },
    /// A menu the follower taps; each tap arrives as a text callback.
    MsgMenu {
        head_content: String,
        list: Vec<MsgMenuItem>,
        tail_content: String,
    },
    WxCard {
        card_id: String,
    },
    /// A mini program card; the mini program must be linked to the account.
    MiniProgramPage {
        title: String,
        appid: String,
        pagepath: String,
        thumb_media_id: String,
    },
}

/// One article of a `news` message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewsArticle {
    pub title: String,
    pub description: String,
    pub url: String,
    pub picurl: String,
}

/// One choice of a `msgmenu` message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MsgMenuItem {
    pub id: String,
    pub content: String,
}

impl CustomBody {
    /// Returns the `msgtype` value, which is also the payload's key.
    pub fn msgtype(&self) -> &'static str {
        match self {
            Self::Text { .. } => "text",
            Self::Image { .. } => "image",
            Self::Voice { .. } => "voice",
            Self::Video { .. } => "video",
            Self::Music { .. } => "music",
            Self::News { .. } => "news",
            Self::MpNews { .. } => "mpnews",
            Self::MpNewsArticle { .. } => "mpnewsarticle",
            Self::MsgMenu { .. } => "msgmenu",
            Self::WxCard { .. } => "wxcard",
            Self::MiniProgramPage { .. } => "miniprogrampage",
        }
    }

    fn payload(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Self::Text { content } => json!({ "content": content }),
            Self::Image { media_id } | Self::Voice { media_id } | Self::MpNews { media_id } => {
                json!({ "media_id": media_id })
            }
            Self::Video {
                media_id,
                thumb_media_id,
                title,
                description,
            } => json!({
                "media_id": media_id,
                "thumb_media_id": thumb_media_id,
                "title": title,
                "description": description,
            }),
            Self::Music {
                title,
                description,
                musicurl,
                hqmusicurl,
                thumb_media_id,
            } => json!({
                "title": title,
                "description": description,
                "musicurl": musicurl,
                "hqmusicurl": hqmusicurl,
                "thumb_media_id": thumb_media_id,
            }),
            Self::News { articles } => json!({ "articles": articles }),
            Self::MpNewsArticle { article_id } => json!({ "article_id": article_id }),
            Self::MsgMenu {
                head_content,
                list,
                tail_content,
            } => json!({
                "head_content": head_content,
                "list": list,
                "tail_content": tail_content,
            }),
            Self::WxCard { card_id } => json!({ "card_id": card_id }),
            Self::MiniProgramPage {
                title,
                appid,
                pagepath,
                thumb_media_id,
            } => json!({
                "title": title,
                "appid": appid,
                "pagepath": pagepath,
                "thumb_media_id": thumb_media_id,
            }),
        }
    }
}

impl CustomMessage {
    /// Checks the rules WeChat enforces on the body: a news message carries
    /// exactly one article.
    pub fn validate(&self) -> Result<(), String> {
        if let CustomBody::News { articles } = &self.body
            && articles.len() != 1
        {
            return Err(format!(
                "a news message carries exactly 1 article, got {}",
                articles.len()
            ));
        }
        if self.touser.is_empty() {
            return Err("touser is empty".to_owned());
        }
        Ok(())
    }
}

impl Serialize for CustomMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("touser", &self.touser)?;
        map.serialize_entry("msgtype", self.body.msgtype())?;
        map.serialize_entry(self.body.msgtype(), &self.body.payload())?;
        if let Some(kf_account) = &self.kf_account {
            map.serialize_entry(
                "customservice",
                &serde_json::json!({ "kf_account": kf_account }),
            )?;
        }
        map.end()
    }
}

/// The command of `message/custom/typing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TypingCommand {
    Typing,
    CancelTyping,
}

/// A template message for `message/template/send`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TemplateMessage {
    pub touser: String,
    pub template_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Opens this mini program page; wins over `url` where supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub miniprogram: Option<MiniProgramLink>,
    /// Idempotency key: WeChat sends one message per openid and key within
    /// 10 minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
    pub data: BTreeMap<String, TemplateValue>,
}

/// A mini program page a template message opens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MiniProgramLink {
    pub appid: String,
    pub pagepath: String,
}

/// The value of one template field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TemplateValue {
    pub value: String,
}

/// The response of `message/template/send`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TemplateSent {
    pub msgid: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_text_with_kf_account() {
        let message = CustomMessage {
            touser: "oFAKE_user_0001".to_owned(),
            body: CustomBody::Text {
                content: "你好".to_owned(),
            },
            kf_account: Some("test1@kf".to_owned()),
        };
        assert_eq!(
            serde_json::to_string(&message).unwrap(),
            r#"{"touser":"oFAKE_user_0001","msgtype":"text","text":{"content":"你好"},"customservice":{"kf_account":"test1@kf"}}"#
        );
    }

    #[test]
    fn custom_miniprogrampage_shape() {
        let message = CustomMessage {
            touser: "o1".to_owned(),
            body: CustomBody::MiniProgramPage {
                title: "t".to_owned(),
                appid: "wxabc".to_owned(),
                pagepath: "pages/index".to_owned(),
                thumb_media_id: "m1".to_owned(),
            },
            kf_account: None,
        };
        assert_eq!(
            serde_json::to_string(&message).unwrap(),
            r#"{"touser":"o1","msgtype":"miniprogrampage","miniprogrampage":{"appid":"wxabc","pagepath":"pages/index","thumb_media_id":"m1","title":"t"}}"#
        );
    }

    #[test]
    fn custom_body_serde_uses_msgtype_key() {
        let body = CustomBody::MpNewsArticle {
            article_id: "a1".to_owned(),
        };
        let json = serde_json::to_string(&body).unwrap();
        assert_eq!(json, r#"{"mpnewsarticle":{"article_id":"a1"}}"#);
        assert_eq!(serde_json::from_str::<CustomBody>(&json).unwrap(), body);
    }

    #[test]
    fn news_with_two_articles_invalid() {
        let article = NewsArticle {
            title: "a".to_owned(),
            description: "b".to_owned(),
            url: "https://example.com/".to_owned(),
            picurl: "https://example.com/p.png".to_owned(),
        };
        let message = CustomMessage {
            touser: "o1".to_owned(),
            body: CustomBody::News {
                articles: vec![article.clone(), article],
            },
            kf_account: None,
        };
        assert_eq!(
            message.validate(),
            Err("a news message carries exactly 1 article, got 2".to_owned())
        );
    }

    #[test]
    fn template_skips_absent_fields() {
        let message = TemplateMessage {
            touser: "o1".to_owned(),
            template_id: "tpl".to_owned(),
            url: None,
            miniprogram: None,
            client_msg_id: Some("MSG_000001".to_owned()),
            data: BTreeMap::from([(
                "keyword1".to_owned(),
                TemplateValue {
                    value: "v".to_owned(),
                },
            )]),
        };
        assert_eq!(
            serde_json::to_string(&message).unwrap(),
            r#"{"touser":"o1","template_id":"tpl","client_msg_id":"MSG_000001","data":{"keyword1":{"value":"v"}}}"#
        );
    }
}
