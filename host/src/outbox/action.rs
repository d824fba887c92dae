//! Actions that leave the callback: what a plugin may ask wxhost to send
//! to the follower through WeChat's API, the checks each must pass before
//! it is queued, and the conversion of a late passive reply.

use serde::{Deserialize, Serialize};

use crate::protocol::reply::Reply;
use crate::wechat::{CustomBody, MiniProgramLink, NewsArticle};

/// Longest string wxhost accepts in any action field, in bytes.
///
/// NOTE: wxhost's own cap. WeChat documents no length limit for most
/// customer-service and template fields and answers 45002 or 47003 for
/// content it finds too long.
pub const MAX_STRING_BYTES: usize = 2048;
/// Most items of a `msgmenu` message.
///
/// NOTE: wxhost's own cap. WeChat answers 45098 for a longer list
/// without documenting its maximum.
pub const MAX_MENU_ITEMS: usize = 10;
/// Most fields of a template message.
///
/// NOTE: wxhost's own cap, above what any WeChat template declares.
pub const MAX_TEMPLATE_FIELDS: usize = 32;

/// One action for the follower who sent the callback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// `message/custom/send`. Takes one message of the follower's
    /// customer-service window when it is queued.
    Custom {
        body: CustomBody,
        /// Sends as this customer-service agent (`test1@kf`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kf_account: Option<String>,
    },
    /// `message/template/send`; the outbox adds `client_msg_id`.
    Template(TemplateAction),
    /// `tags/members/batchtagging` for the follower.
    Tag { tag_id: u64 },
    /// `tags/members/batchuntagging` for the follower.
    Untag { tag_id: u64 },
}

/// A template message without its recipient and idempotency key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateAction {
    pub template_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub miniprogram: Option<MiniProgramLink>,
    /// Field name and value, in the plugin's order. Names are unique.
    pub data: Vec<(String, String)>,
}

impl Action {
    /// Returns the action's kind as stored and listed: `custom`,
    /// `template`, `tag` or `untag`.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Custom { .. } => "custom",
            Action::Template(_) => "template",
            Action::Tag { .. } => "tag",
            Action::Untag { .. } => "untag",
        }
    }

    /// Checks the action against WeChat's rules and wxhost's caps. The
    /// error names the field and never contains its value.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Action::Custom { body, kf_account } => {
                if let Some(agent) = kf_account {
                    check_text("kf_account", agent)?;
                    if !agent.contains('@') {
                        return Err("kf_account must look like agent@account".to_owned());
                    }
                }
                validate_custom(body)
            }
            Action::Template(template) => validate_template(template),
            Action::Tag { .. } | Action::Untag { .. } => Ok(()),
        }
    }
}

fn validate_custom(body: &CustomBody) -> Result<(), String> {
    match body {
        CustomBody::Text { content } => check_text("text", content),
        CustomBody::Image { media_id }
        | CustomBody::Voice { media_id }
        | CustomBody::MpNews { media_id } => check_text("media_id", media_id),
        CustomBody::Video {
            media_id,
            thumb_media_id,
            title,
            description,
        } => {
            check_text("media_id", media_id)?;
            check_text("thumb_media_id", thumb_media_id)?;
            check_optional("title", title)?;
            check_optional("description", description)
        }
        CustomBody::Music {
            title,
            description,
            musicurl,
            hqmusicurl,
            thumb_media_id,
        } => {
            check_text("thumb_media_id", thumb_media_id)?;
            check_optional("title", title)?;
            check_optional("description", description)?;
            check_optional_url("musicurl", musicurl)?;
            check_optional_url("hqmusicurl", hqmusicurl)
        }
        CustomBody::News { articles } => {
            let [article] = articles.as_slice() else {
                return Err(format!(
                    "a news message carries exactly 1 article (WeChat answers 45008 otherwise), got {}",
                    articles.len()
                ));
            };
            check_text("news.title", &article.title)?;
            check_optional("news.description", &article.description)?;
            check_url("news.url", &article.url)?;
            check_optional_url("news.picurl", &article.picurl)
        }
        CustomBody::MpNewsArticle { article_id } => check_text("article_id", article_id),
        CustomBody::MsgMenu {
            head_content,
            list,
            tail_content,
        } => {
            check_optional("head_content", head_content)?;
            check_optional("tail_content", tail_content)?;
            if list.is_empty() || list.len() > MAX_MENU_ITEMS {
                return Err(format!(
                    "msgmenu takes 1 to {MAX_MENU_ITEMS} items, got {}",
                    list.len()
                ));
            }
            for item in list {
                check_text("msgmenu.id", &item.id)?;
                check_text("msgmenu.content", &item.content)?;
            }
            Ok(())
        }
        CustomBody::WxCard { card_id } => check_text("card_id", card_id),
        CustomBody::MiniProgramPage {
            title,
            appid,
            pagepath,
            thumb_media_id,
        } => {
            check_optional("title", title)?;
            check_text("appid", appid)?;
            check_text("pagepath", pagepath)?;
            check_text("thumb_media_id", thumb_media_id)
        }
    }
}

fn validate_template(template: &TemplateAction) -> Result<(), String> {
    check_text("template_id", &template.template_id)?;
    if let Some(url) = &template.url {
        check_url("url", url)?;
    }
    if let Some(link) = &template.miniprogram {
        check_text("miniprogram.appid", &link.appid)?;
        check_text("miniprogram.pagepath", &link.pagepath)?;
    }
    if template.data.is_empty() || template.data.len() > MAX_TEMPLATE_FIELDS {
        return Err(format!(
            "a template message takes 1 to {MAX_TEMPLATE_FIELDS} data fields, got {}",
            template.data.len()
        ));
    }
    let mut names = std::collections::HashSet::new();
    for (name, value) in &template.data {
        let valid_name = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
        if !valid_name {
            return Err(format!(
                "template field name {name:?} is invalid; use 1 to 64 ASCII letters, digits, '_' or '.'"
            ));
        }
        if !names.insert(name.as_str()) {
            return Err(format!("template field {name:?} appears twice"));
        }
        check_length(&format!("data.{name}"), value)?;
    }
    Ok(())
}

fn check_text(field: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{field} is empty"));
    }
    check_length(field, value)
}

fn check_optional(field: &str, value: &str) -> Result<(), String> {
    check_length(field, value)
}

fn check_length(field: &str, value: &str) -> Result<(), String> {
    if value.len() > MAX_STRING_BYTES {
        return Err(format!(
            "{field} has {} bytes, more than the limit of {MAX_STRING_BYTES}",
            value.len()
        ));
    }
    Ok(())
}

fn check_url(field: &str, value: &str) -> Result<(), String> {
    check_text(field, value)?;
    if !(value.starts_with("https://") || value.starts_with("http://")) {
        return Err(format!("{field} must be an http or https URL"));
    }
    Ok(())
}

fn check_optional_url(field: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        Ok(())
    } else {
        check_url(field, value)
    }
}

/// Converts a passive reply that came too late for the callback into the
/// customer-service message that shows the same thing. Returns the
/// reason when the reply has no such message.
///
/// News keeps its first article, because a customer-service news message
/// carries one. A video gets an empty `thumb_media_id`, because a passive
/// video reply has none.
pub fn reply_to_custom(reply: Reply) -> Result<Action, &'static str> {
    let body = match reply {
        Reply::Text(content) => CustomBody::Text { content },
        Reply::Image { media_id } => CustomBody::Image { media_id },
        Reply::Voice { media_id } => CustomBody::Voice { media_id },
        Reply::Video {
            media_id,
            title,
            description,
        } => CustomBody::Video {
            media_id,
            // NOTE: WeChat documents thumb_media_id for customer-service
            // videos; whether it accepts an empty one is unverified.
            thumb_media_id: String::new(),
            title: title.unwrap_or_default(),
            description: description.unwrap_or_default(),
        },
        Reply::Music {
            title,
            description,
            music_url,
            hq_music_url,
            thumb_media_id,
        } => CustomBody::Music {
            title: title.unwrap_or_default(),
            description: description.unwrap_or_default(),
            musicurl: music_url.unwrap_or_default(),
            hqmusicurl: hq_music_url.unwrap_or_default(),
            thumb_media_id,
        },
        Reply::News(articles) => {
            let Some(first) = articles.into_iter().next() else {
                return Err("a news reply without articles");
            };
            CustomBody::News {
                articles: vec![NewsArticle {
                    title: first.title,
                    description: first.description,
                    url: first.url,
                    picurl: first.pic_url,
                }],
            }
        }
        Reply::TransferCustomerService { .. } => {
            return Err("a transfer to customer service exists only as a passive reply");
        }
    };
    Ok(Action::Custom {
        body,
        kf_account: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::reply::Article;
    use crate::wechat::MsgMenuItem;

    fn custom(body: CustomBody) -> Action {
        Action::Custom {
            body,
            kf_account: None,
        }
    }

    fn article() -> NewsArticle {
        NewsArticle {
            title: "t".to_owned(),
            description: "d".to_owned(),
            url: "https://example.com/a".to_owned(),
            picurl: String::new(),
        }
    }

    #[test]
    fn action_json_round_trip() {
        let action = Action::Template(TemplateAction {
            template_id: "tpl".to_owned(),
            url: None,
            miniprogram: None,
            data: vec![("keyword1".to_owned(), "v".to_owned())],
        });
        let json = serde_json::to_string(&action).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"template","template_id":"tpl","data":[["keyword1","v"]]}"#
        );
        assert_eq!(serde_json::from_str::<Action>(&json).unwrap(), action);
        let tag = serde_json::to_string(&Action::Tag { tag_id: 134 }).unwrap();
        assert_eq!(tag, r#"{"kind":"tag","tag_id":134}"#);
    }

    #[test]
    fn news_needs_one_article() {
        let two = custom(CustomBody::News {
            articles: vec![article(), article()],
        });
        assert_eq!(
            two.validate(),
            Err(
                "a news message carries exactly 1 article (WeChat answers 45008 otherwise), got 2"
                    .to_owned()
            )
        );
        let one = custom(CustomBody::News {
            articles: vec![article()],
        });
        assert_eq!(one.validate(), Ok(()));
    }

    #[test]
    fn empty_and_long_fields_rejected() {
        let empty = custom(CustomBody::Text {
            content: " ".to_owned(),
        });
        assert_eq!(empty.validate(), Err("text is empty".to_owned()));
        let long = custom(CustomBody::Text {
            content: "x".repeat(MAX_STRING_BYTES + 1),
        });
        assert_eq!(
            long.validate(),
            Err("text has 2049 bytes, more than the limit of 2048".to_owned())
        );
        let agent = Action::Custom {
            body: CustomBody::Text {
                content: "hi".to_owned(),
            },
            kf_account: Some("agent".to_owned()),
        };
        assert_eq!(
            agent.validate(),
            Err("kf_account must look like agent@account".to_owned())
        );
    }

    #[test]
    fn msgmenu_item_count_checked() {
        let menu = |count: usize| {
            custom(CustomBody::MsgMenu {
                head_content: "pick".to_owned(),
                list: (0..count)
                    .map(|i| MsgMenuItem {
                        id: i.to_string(),
                        content: "c".to_owned(),
                    })
                    .collect(),
                tail_content: String::new(),
            })
        };
        assert_eq!(menu(1).validate(), Ok(()));
        assert_eq!(
            menu(11).validate(),
            Err("msgmenu takes 1 to 10 items, got 11".to_owned())
        );
        assert_eq!(
            menu(0).validate(),
            Err("msgmenu takes 1 to 10 items, got 0".to_owned())
        );
    }

    #[test]
    fn template_fields_checked() {
        let template = |data: Vec<(&str, &str)>, url: Option<&str>| {
            Action::Template(TemplateAction {
                template_id: "tpl".to_owned(),
                url: url.map(str::to_owned),
                miniprogram: None,
                data: data
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            })
        };
        assert_eq!(template(vec![("k1", "v")], None).validate(), Ok(()));
        assert_eq!(
            template(vec![("k1", "v"), ("k1", "w")], None).validate(),
            Err("template field \"k1\" appears twice".to_owned())
        );
        assert_eq!(
            template(vec![], None).validate(),
            Err("a template message takes 1 to 32 data fields, got 0".to_owned())
        );
        assert_eq!(
            template(vec![("k1", "v")], Some("ftp://x")).validate(),
            Err("url must be an http or https URL".to_owned())
        );
    }

    #[test]
    fn late_reply_converts() {
        assert_eq!(
            reply_to_custom(Reply::Text("hi".to_owned())),
            Ok(custom(CustomBody::Text {
                content: "hi".to_owned()
            }))
        );
        let news = Reply::News(vec![
            Article {
                title: "a".to_owned(),
                description: "b".to_owned(),
                pic_url: "https://example.com/p.png".to_owned(),
                url: "https://example.com/".to_owned(),
            };
            2
        ]);
        let Ok(Action::Custom {
            body: CustomBody::News { articles },
            ..
        }) = reply_to_custom(news)
        else {
            panic!("news converts to a news message");
        };
        assert_eq!(articles.len(), 1);
        assert_eq!(articles[0].picurl, "https://example.com/p.png");
        assert_eq!(
            reply_to_custom(Reply::TransferCustomerService { kf_account: None }),
            Err("a transfer to customer service exists only as a passive reply")
        );
    }
}
