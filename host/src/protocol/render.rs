//! Rendering passive replies as WeChat's reply XML.

use std::fmt::Write as _;

use super::error::InvalidReply;
use super::reply::{Reply, ReplyContext, ReplyWarning};
use super::xml::strip_forbidden_chars;

/// A rendered reply and the warnings its validation raised.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedReply {
    /// The reply XML, to send as is or to seal with
    /// [`seal_reply`](super::envelope::seal_reply).
    pub xml: String,
    /// Changes validation made, for the caller to log.
    pub warnings: Vec<ReplyWarning>,
}

/// Validates `reply` for `context` (see [`Reply::validate`]) and renders it.
///
/// `to_user` is the follower's openid (the callback's `FromUserName`),
/// `from_user` the account's `gh_` id (the callback's `ToUserName`), and
/// `create_time_secs` the current Unix time in seconds. Every string goes
/// into CDATA: a `]]>` inside a value is split across two sections and
/// characters that XML 1.0 forbids are removed.
///
/// # Errors
///
/// [`InvalidReply`] when the reply breaks WeChat's rules. The caller sends
/// [`SUCCESS_BODY`](super::reply::SUCCESS_BODY) instead.
pub fn render_reply(
    reply: &Reply,
    to_user: &str,
    from_user: &str,
    create_time_secs: u64,
    context: ReplyContext,
) -> Result<RenderedReply, InvalidReply> {
    let validated = reply.validate(context)?;
    let mut xml = String::with_capacity(256);

    xml.push_str("<xml>");
    cdata_element(&mut xml, "ToUserName", to_user);
    cdata_element(&mut xml, "FromUserName", from_user);
    let _ = write!(xml, "<CreateTime>{create_time_secs}</CreateTime>");
    cdata_element(&mut xml, "MsgType", msg_type(&validated.reply));
    write_body(&mut xml, &validated.reply);
    xml.push_str("</xml>");

    Ok(RenderedReply {
        xml,
        warnings: validated.warnings,
    })
}

fn msg_type(reply: &Reply) -> &'static str {
    match reply {
        Reply::Text(_) => "text",
        Reply::Image { .. } => "image",
        Reply::Voice { .. } => "voice",
        Reply::Video { .. } => "video",
        Reply::Music { .. } => "music",
        Reply::News(_) => "news",
        Reply::TransferCustomerService { .. } => "transfer_customer_service",
    }
}

fn write_body(xml: &mut String, reply: &Reply) {
    match reply {
        Reply::Text(content) => cdata_element(xml, "Content", content),
        Reply::Image { media_id } => {
            xml.push_str("<Image>");
            cdata_element(xml, "MediaId", media_id);
            xml.push_str("</Image>");
        }
        Reply::Voice { media_id } => {
            xml.push_str("<Voice>");
            cdata_element(xml, "MediaId", media_id);
            xml.push_str("</Voice>");
        }
        Reply::Video {
            media_id,
            title,
            description,
        } => {
            xml.push_str("<Video>");
            cdata_element(xml, "MediaId", media_id);
            optional_element(xml, "Title", title);
            optional_element(xml, "Description", description);
            xml.push_str("</Video>");
        }
        Reply::Music {
            title,
            description,
            music_url,
            hq_music_url,
            thumb_media_id,
        } => {
            xml.push_str("<Music>");
            optional_element(xml, "Title", title);
            optional_element(xml, "Description", description);
            optional_element(xml, "MusicUrl", music_url);
            optional_element(xml, "HQMusicUrl", hq_music_url);
            cdata_element(xml, "ThumbMediaId", thumb_media_id);
            xml.push_str("</Music>");
        }
        Reply::News(articles) => {
            let _ = write!(xml, "<ArticleCount>{}</ArticleCount>", articles.len());
            xml.push_str("<Articles>");
            for article in articles {
                xml.push_str("<item>");
                cdata_element(xml, "Title", &article.title);
                cdata_element(xml, "Description", &article.description);
                cdata_element(xml, "PicUrl", &article.pic_url);
                cdata_element(xml, "Url", &article.url);
                xml.push_str("</item>");
            }
            xml.push_str("</Articles>");
        }
        Reply::TransferCustomerService { kf_account } => {
            if let Some(account) = kf_account {
                xml.push_str("<TransInfo>");
                cdata_element(xml, "KfAccount", account);
                xml.push_str("</TransInfo>");
            }
        }
    }
}

fn optional_element(xml: &mut String, name: &str, value: &Option<String>) {
    if let Some(value) = value {
        cdata_element(xml, name, value);
    }
}

/// Appends `<name><![CDATA[value]]></name>`.
pub(crate) fn cdata_element(xml: &mut String, name: &str, value: &str) {
    let _ = write!(xml, "<{name}>");
    push_cdata(xml, value);
    let _ = write!(xml, "</{name}>");
}

/// Appends `value` as CDATA. A `]]>` in the value would end the section
/// early, so it is split as `]]` + `>` across two sections.
pub(crate) fn push_cdata(xml: &mut String, value: &str) {
    let value = strip_forbidden_chars(value);
    xml.push_str("<![CDATA[");
    xml.push_str(&value.replace("]]>", "]]]]><![CDATA[>"));
    xml.push_str("]]>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::reply::Article;
    use crate::protocol::xml::read_document;

    const HEAD: &str = "<xml><ToUserName><![CDATA[oFAKE_user_0001]]></ToUserName><FromUserName><![CDATA[gh_fakeacct001]]></FromUserName><CreateTime>1700000000</CreateTime>";

    fn render(reply: &Reply, context: ReplyContext) -> String {
        render_reply(
            reply,
            "oFAKE_user_0001",
            "gh_fakeacct001",
            1700000000,
            context,
        )
        .unwrap()
        .xml
    }

    fn article(n: usize) -> Article {
        Article {
            title: format!("t{n}"),
            description: format!("d{n}"),
            pic_url: format!("https://example.invalid/{n}.png"),
            url: format!("https://example.invalid/{n}"),
        }
    }

    #[test]
    fn text_reply_exact() {
        let xml = render(&Reply::Text("pong".to_owned()), ReplyContext::UserMessage);
        assert_eq!(
            xml,
            format!(
                "{HEAD}<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[pong]]></Content></xml>"
            )
        );
    }

    #[test]
    fn media_replies_exact() {
        let image = render(
            &Reply::Image {
                media_id: "MEDIA_ID".to_owned(),
            },
            ReplyContext::Event,
        );
        assert_eq!(
            image,
            format!(
                "{HEAD}<MsgType><![CDATA[image]]></MsgType><Image><MediaId><![CDATA[MEDIA_ID]]></MediaId></Image></xml>"
            )
        );
        let voice = render(
            &Reply::Voice {
                media_id: "MEDIA_ID".to_owned(),
            },
            ReplyContext::Event,
        );
        assert_eq!(
            voice,
            format!(
                "{HEAD}<MsgType><![CDATA[voice]]></MsgType><Voice><MediaId><![CDATA[MEDIA_ID]]></MediaId></Voice></xml>"
            )
        );
    }

    #[test]
    fn video_reply_exact() {
        let full = Reply::Video {
            media_id: "MEDIA_ID".to_owned(),
            title: Some("t".to_owned()),
            description: Some("d".to_owned()),
        };
        assert_eq!(
            render(&full, ReplyContext::UserMessage),
            format!(
                "{HEAD}<MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[MEDIA_ID]]></MediaId><Title><![CDATA[t]]></Title><Description><![CDATA[d]]></Description></Video></xml>"
            )
        );
        let bare = Reply::Video {
            media_id: "MEDIA_ID".to_owned(),
            title: Some(String::new()),
            description: None,
        };
        assert_eq!(
            render(&bare, ReplyContext::UserMessage),
            format!(
                "{HEAD}<MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[MEDIA_ID]]></MediaId></Video></xml>"
            )
        );
    }

    #[test]
    fn music_reply_exact() {
        let music = Reply::Music {
            title: Some("t".to_owned()),
            description: Some("d".to_owned()),
            music_url: Some("URL".to_owned()),
            hq_music_url: Some("HQ".to_owned()),
            thumb_media_id: "MEDIA_ID".to_owned(),
        };
        assert_eq!(
            render(&music, ReplyContext::Event),
            format!(
                "{HEAD}<MsgType><![CDATA[music]]></MsgType><Music><Title><![CDATA[t]]></Title><Description><![CDATA[d]]></Description><MusicUrl><![CDATA[URL]]></MusicUrl><HQMusicUrl><![CDATA[HQ]]></HQMusicUrl><ThumbMediaId><![CDATA[MEDIA_ID]]></ThumbMediaId></Music></xml>"
            )
        );
    }

    #[test]
    fn news_after_message_keeps_first() {
        let news = Reply::News(vec![article(1), article(2), article(3)]);
        let rendered = render_reply(
            &news,
            "oFAKE_user_0001",
            "gh_fakeacct001",
            1700000000,
            ReplyContext::UserMessage,
        )
        .unwrap();
        assert_eq!(
            rendered.xml,
            format!(
                "{HEAD}<MsgType><![CDATA[news]]></MsgType><ArticleCount>1</ArticleCount><Articles><item><Title><![CDATA[t1]]></Title><Description><![CDATA[d1]]></Description><PicUrl><![CDATA[https://example.invalid/1.png]]></PicUrl><Url><![CDATA[https://example.invalid/1]]></Url></item></Articles></xml>"
            )
        );
        assert_eq!(rendered.xml.matches("<item>").count(), 1);
        assert_eq!(
            rendered.warnings,
            [ReplyWarning::NewsTruncated { sent: 3, kept: 1 }]
        );
    }

    #[test]
    fn news_after_event_keeps_eight() {
        let news = Reply::News((1..=10).map(article).collect());
        let rendered = render_reply(&news, "o", "gh", 1, ReplyContext::Event).unwrap();
        assert!(rendered.xml.contains("<ArticleCount>8</ArticleCount>"));
        assert_eq!(rendered.xml.matches("<item>").count(), 8);
        assert!(rendered.xml.contains("<Title><![CDATA[t8]]></Title>"));
        assert!(!rendered.xml.contains("t9"));
    }

    #[test]
    fn transfer_reply_exact() {
        let any = Reply::TransferCustomerService { kf_account: None };
        assert_eq!(
            render(&any, ReplyContext::UserMessage),
            format!("{HEAD}<MsgType><![CDATA[transfer_customer_service]]></MsgType></xml>")
        );
        let one = Reply::TransferCustomerService {
            kf_account: Some("test1@test".to_owned()),
        };
        assert_eq!(
            render(&one, ReplyContext::UserMessage),
            format!(
                "{HEAD}<MsgType><![CDATA[transfer_customer_service]]></MsgType><TransInfo><KfAccount><![CDATA[test1@test]]></KfAccount></TransInfo></xml>"
            )
        );
    }

    #[test]
    fn cdata_terminator_split() {
        let xml = render(
            &Reply::Text("a]]>b]]>".to_owned()),
            ReplyContext::UserMessage,
        );
        assert!(xml.contains("<Content><![CDATA[a]]]]><![CDATA[>b]]]]><![CDATA[>]]></Content>"));
        let root = read_document(xml.as_bytes()).unwrap();
        assert_eq!(root.child("Content").unwrap().text, "a]]>b]]>");
    }

    #[test]
    fn forbidden_characters_dropped() {
        let xml = render(
            &Reply::Text("o\u{1}k\u{1f}\u{FFFE}".to_owned()),
            ReplyContext::UserMessage,
        );
        assert!(xml.contains("<Content><![CDATA[ok]]></Content>"));
    }

    #[test]
    fn ids_escaped_in_cdata() {
        let rendered = render_reply(
            &Reply::Text("x".to_owned()),
            "a]]>b",
            "gh",
            5,
            ReplyContext::Event,
        )
        .unwrap();
        let root = read_document(rendered.xml.as_bytes()).unwrap();
        assert_eq!(root.child("ToUserName").unwrap().text, "a]]>b");
        assert_eq!(root.child("CreateTime").unwrap().text, "5");
    }

    #[test]
    fn emoji_emitted_raw() {
        let xml = render(
            &Reply::Text("\u{1F600}".to_owned()),
            ReplyContext::UserMessage,
        );
        assert!(xml.contains("<Content><![CDATA[\u{1F600}]]></Content>"));
        assert!(!xml.contains("&#"));
    }

    #[test]
    fn invalid_reply_not_rendered() {
        let result = render_reply(
            &Reply::Text(String::new()),
            "o",
            "gh",
            1,
            ReplyContext::UserMessage,
        );
        assert_eq!(result, Err(InvalidReply::EmptyText));
    }
}
