//! Builders for the action directives: customer-service messages,
//! template messages and tags, which the host sends through WeChat's API
//! after it answers the callback.
//!
//! ```no_run
//! use wxhost_plugin::{CustomMessage, Directive, Reply, TemplateMessage};
//!
//! let directives = vec![
//!     Directive::reply(Reply::text("Thanks!")),
//!     Directive::send_custom(CustomMessage::text("Your coupon: SPRING10")),
//!     Directive::send_template(
//!         TemplateMessage::new("TEMPLATE_ID")
//!             .url("https://example.com/order/1")
//!             .field("keyword1", "Paid"),
//!     ),
//!     Directive::tag(100),
//! ];
//! ```

use crate::{
    AddressedMessage, Article, CustomBody, CustomMessage, CustomMusic, CustomVideo, Directive,
    MiniprogramLink, MiniprogramPage, MsgMenu, MsgMenuItem, Reply, TemplateMessage,
};

impl Directive {
    /// Replies to the callback with `reply`.
    pub fn reply(reply: impl Into<Reply>) -> Self {
        Self::Reply(reply.into())
    }

    /// Sends a customer-service message to the follower who sent the
    /// callback. It takes one message of the follower's window.
    pub fn send_custom(message: impl Into<CustomMessage>) -> Self {
        Self::SendCustom(message.into())
    }

    /// Sends a customer-service message to another follower of this
    /// account, for example an inviter. The host drops it unless its
    /// follower ledger records `openid` as following.
    pub fn send_custom_to(openid: impl Into<String>, message: impl Into<CustomMessage>) -> Self {
        Self::SendCustomTo(AddressedMessage {
            openid: openid.into(),
            message: message.into(),
        })
    }

    /// Sends a template message to the follower who sent the callback.
    pub fn send_template(message: TemplateMessage) -> Self {
        Self::SendTemplate(message)
    }

    /// Adds the follower who sent the callback to the tag `tag_id`.
    pub fn tag(tag_id: u64) -> Self {
        Self::Tag(tag_id)
    }

    /// Removes the follower who sent the callback from the tag `tag_id`.
    pub fn untag(tag_id: u64) -> Self {
        Self::Untag(tag_id)
    }
}

impl CustomMessage {
    /// Builds a message with `body`, sent as the account itself.
    pub fn new(body: CustomBody) -> Self {
        Self {
            body,
            kf_account: None,
        }
    }

    /// Builds a text message. It may contain newlines and `<a href>` links.
    pub fn text(text: impl Into<String>) -> Self {
        Self::new(CustomBody::Text(text.into()))
    }

    /// Builds an image message from a media id.
    pub fn image(media_id: impl Into<String>) -> Self {
        Self::new(CustomBody::Image(media_id.into()))
    }

    /// Builds a voice message from a media id.
    pub fn voice(media_id: impl Into<String>) -> Self {
        Self::new(CustomBody::Voice(media_id.into()))
    }

    /// Builds a one-article news message. `title` and `url` are required.
    pub fn news(article: Article) -> Self {
        Self::new(CustomBody::News(article))
    }

    /// Builds a message with an article from drafts or material, by media id.
    pub fn mpnews(media_id: impl Into<String>) -> Self {
        Self::new(CustomBody::Mpnews(media_id.into()))
    }

    /// Builds a message with a published article, by `article_id`.
    pub fn mpnewsarticle(article_id: impl Into<String>) -> Self {
        Self::new(CustomBody::Mpnewsarticle(article_id.into()))
    }

    /// Builds a card message, by `card_id`.
    pub fn wxcard(card_id: impl Into<String>) -> Self {
        Self::new(CustomBody::Wxcard(card_id.into()))
    }

    /// Sends the message as this customer-service agent (`test1@kf`); the
    /// account must contain `@`.
    pub fn from_agent(mut self, kf_account: impl Into<String>) -> Self {
        self.kf_account = Some(kf_account.into());
        self
    }
}

impl From<CustomBody> for CustomMessage {
    fn from(body: CustomBody) -> Self {
        Self::new(body)
    }
}

impl From<CustomVideo> for CustomMessage {
    fn from(video: CustomVideo) -> Self {
        Self::new(CustomBody::Video(video))
    }
}

impl From<CustomMusic> for CustomMessage {
    fn from(music: CustomMusic) -> Self {
        Self::new(CustomBody::Music(music))
    }
}

impl From<MsgMenu> for CustomMessage {
    fn from(menu: MsgMenu) -> Self {
        Self::new(CustomBody::Msgmenu(menu))
    }
}

impl From<MiniprogramPage> for CustomMessage {
    fn from(page: MiniprogramPage) -> Self {
        Self::new(CustomBody::Miniprogrampage(page))
    }
}

impl CustomVideo {
    /// Builds a video message body; both media ids are required.
    pub fn new(media_id: impl Into<String>, thumb_media_id: impl Into<String>) -> Self {
        Self {
            media_id: media_id.into(),
            thumb_media_id: thumb_media_id.into(),
            title: String::new(),
            description: String::new(),
        }
    }

    /// Sets the title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }
}

impl CustomMusic {
    /// Builds a music message body. The thumbnail's media id is required.
    pub fn new(thumb_media_id: impl Into<String>) -> Self {
        Self {
            title: String::new(),
            description: String::new(),
            music_url: String::new(),
            hq_music_url: String::new(),
            thumb_media_id: thumb_media_id.into(),
        }
    }

    /// Sets the title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Sets the music link and the high-quality link, each `http` or `https`.
    pub fn urls(mut self, music_url: impl Into<String>, hq_music_url: impl Into<String>) -> Self {
        self.music_url = music_url.into();
        self.hq_music_url = hq_music_url.into();
        self
    }
}

impl MsgMenu {
    /// Builds a menu message with no choices yet; add 1 to 10 with
    /// [`MsgMenu::item`].
    pub fn new(head_content: impl Into<String>, tail_content: impl Into<String>) -> Self {
        Self {
            head_content: head_content.into(),
            items: Vec::new(),
            tail_content: tail_content.into(),
        }
    }

    /// Adds a choice. A tap arrives as a text callback whose
    /// `biz-msg-menu-id` is `id`.
    pub fn item(mut self, id: impl Into<String>, content: impl Into<String>) -> Self {
        self.items.push(MsgMenuItem {
            id: id.into(),
            content: content.into(),
        });
        self
    }
}

impl MiniprogramPage {
    /// Builds a mini program card; every argument is required.
    pub fn new(
        appid: impl Into<String>,
        pagepath: impl Into<String>,
        thumb_media_id: impl Into<String>,
    ) -> Self {
        Self {
            title: String::new(),
            appid: appid.into(),
            pagepath: pagepath.into(),
            thumb_media_id: thumb_media_id.into(),
        }
    }

    /// Sets the title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }
}

impl TemplateMessage {
    /// Builds a template message with no link and no fields yet; add 1 to
    /// 32 with [`TemplateMessage::field`].
    pub fn new(template_id: impl Into<String>) -> Self {
        Self {
            template_id: template_id.into(),
            url: None,
            miniprogram: None,
            data: Vec::new(),
        }
    }

    /// Sets the `http` or `https` link opened on tap.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Sets the mini program page opened on tap where the client supports it.
    pub fn miniprogram(mut self, appid: impl Into<String>, pagepath: impl Into<String>) -> Self {
        self.miniprogram = Some(MiniprogramLink {
            appid: appid.into(),
            pagepath: pagepath.into(),
        });
        self
    }

    /// Adds a field such as `keyword1`: unique names of ASCII letters,
    /// digits, `_` or `.`.
    pub fn field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.data.push((name.into(), value.into()));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_text_directive() {
        assert_eq!(
            Directive::send_custom(CustomMessage::text("hi").from_agent("a@kf")),
            Directive::SendCustom(CustomMessage {
                body: CustomBody::Text("hi".to_owned()),
                kf_account: Some("a@kf".to_owned()),
            })
        );
    }

    #[test]
    fn custom_to_other_follower() {
        assert_eq!(
            Directive::send_custom_to("o_inviter", CustomMessage::text("3 friends")),
            Directive::SendCustomTo(AddressedMessage {
                openid: "o_inviter".to_owned(),
                message: CustomMessage {
                    body: CustomBody::Text("3 friends".to_owned()),
                    kf_account: None,
                },
            })
        );
    }

    #[test]
    fn custom_media_bodies() {
        assert_eq!(
            CustomMessage::image("m").body,
            CustomBody::Image("m".to_owned())
        );
        assert_eq!(
            CustomMessage::voice("m").body,
            CustomBody::Voice("m".to_owned())
        );
        assert_eq!(
            CustomMessage::mpnews("m").body,
            CustomBody::Mpnews("m".to_owned())
        );
        assert_eq!(
            CustomMessage::mpnewsarticle("a").body,
            CustomBody::Mpnewsarticle("a".to_owned())
        );
        assert_eq!(
            CustomMessage::wxcard("c").body,
            CustomBody::Wxcard("c".to_owned())
        );
        let news = CustomMessage::news(Article::new("T", "https://a.invalid/"));
        assert!(matches!(news.body, CustomBody::News(ref article) if article.title == "T"));
    }

    #[test]
    fn custom_video_and_music() {
        let video: CustomMessage = CustomVideo::new("v", "t")
            .title("T")
            .description("D")
            .into();
        assert_eq!(
            video.body,
            CustomBody::Video(CustomVideo {
                media_id: "v".to_owned(),
                thumb_media_id: "t".to_owned(),
                title: "T".to_owned(),
                description: "D".to_owned(),
            })
        );
        let music: CustomMessage = CustomMusic::new("thumb")
            .title("T")
            .urls("https://a.invalid/m.mp3", "https://a.invalid/hq.mp3")
            .into();
        let CustomBody::Music(music) = music.body else {
            panic!("expected music");
        };
        assert_eq!(music.thumb_media_id, "thumb");
        assert_eq!(music.music_url, "https://a.invalid/m.mp3");
        assert_eq!(music.hq_music_url, "https://a.invalid/hq.mp3");
        assert_eq!(music.description, "");
    }

    #[test]
    fn custom_menu_and_miniprogram() {
        let menu: CustomMessage = MsgMenu::new("How was it?", "Thanks")
            .item("101", "Good")
            .item("102", "Bad")
            .into();
        let CustomBody::Msgmenu(menu) = menu.body else {
            panic!("expected msgmenu");
        };
        assert_eq!(menu.items.len(), 2);
        assert_eq!(menu.items[1].id, "102");
        assert_eq!(menu.tail_content, "Thanks");

        let page: CustomMessage = MiniprogramPage::new("wxapp", "pages/index", "thumb")
            .title("Shop")
            .into();
        let CustomBody::Miniprogrampage(page) = page.body else {
            panic!("expected miniprogrampage");
        };
        assert_eq!(page.appid, "wxapp");
        assert_eq!(page.title, "Shop");
    }

    #[test]
    fn template_builder() {
        let directive = Directive::send_template(
            TemplateMessage::new("tpl")
                .url("https://a.invalid/")
                .miniprogram("wxapp", "pages/order")
                .field("keyword1", "Paid")
                .field("keyword2", "42"),
        );
        let Directive::SendTemplate(message) = directive else {
            panic!("expected a template message");
        };
        assert_eq!(message.template_id, "tpl");
        assert_eq!(message.url.as_deref(), Some("https://a.invalid/"));
        assert_eq!(
            message.miniprogram,
            Some(MiniprogramLink {
                appid: "wxapp".to_owned(),
                pagepath: "pages/order".to_owned(),
            })
        );
        assert_eq!(
            message.data,
            [
                ("keyword1".to_owned(), "Paid".to_owned()),
                ("keyword2".to_owned(), "42".to_owned())
            ]
        );
    }

    #[test]
    fn tag_directives() {
        assert_eq!(Directive::tag(7), Directive::Tag(7));
        assert_eq!(Directive::untag(7), Directive::Untag(7));
        assert_eq!(
            Directive::reply(Reply::text("x")),
            Directive::Reply(Reply::Text("x".to_owned()))
        );
    }
}
