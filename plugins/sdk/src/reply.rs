//! Builders for the generated [`Reply`] and [`Directive`] types.

use crate::{Article, Directive, MusicReply, Reply, VideoReply};

impl Reply {
    /// Builds a text reply. It may contain newlines and `<a href="...">`
    /// links; the host rejects an empty text.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(text.into())
    }

    /// Builds an image reply from a temporary or permanent media id.
    pub fn image(media_id: impl Into<String>) -> Self {
        Self::Image(media_id.into())
    }

    /// Builds a voice reply from a media id.
    pub fn voice(media_id: impl Into<String>) -> Self {
        Self::Voice(media_id.into())
    }

    /// Builds a video reply from a media id, without title or description.
    /// Use [`VideoReply::new`] to add them.
    pub fn video(media_id: impl Into<String>) -> Self {
        Self::Video(VideoReply::new(media_id))
    }

    /// Builds a news reply. After a user message WeChat shows only the
    /// first article, and after an event the host keeps the first 8.
    pub fn news(articles: impl IntoIterator<Item = Article>) -> Self {
        Self::News(articles.into_iter().collect())
    }

    /// Builds a reply that hands the message to WeChat's customer-service
    /// system, to any agent. Valid only after user messages.
    pub fn transfer_customer_service() -> Self {
        Self::TransferCustomerService(None)
    }

    /// Builds a reply that hands the message to one customer-service agent
    /// account, for example `test1@test`. Valid only after user messages.
    pub fn transfer_to_agent(account: impl Into<String>) -> Self {
        Self::TransferCustomerService(Some(account.into()))
    }

    /// Wraps the reply in a one-directive list, the usual return value of
    /// [`Plugin::handle`](crate::Plugin::handle).
    pub fn into_directives(self) -> Vec<Directive> {
        vec![Directive::Reply(self)]
    }
}

impl From<Reply> for Directive {
    fn from(reply: Reply) -> Self {
        Self::Reply(reply)
    }
}

impl From<VideoReply> for Reply {
    fn from(video: VideoReply) -> Self {
        Self::Video(video)
    }
}

impl From<MusicReply> for Reply {
    fn from(music: MusicReply) -> Self {
        Self::Music(music)
    }
}

impl VideoReply {
    /// Builds a video reply body with no title or description.
    pub fn new(media_id: impl Into<String>) -> Self {
        Self {
            media_id: media_id.into(),
            title: None,
            description: None,
        }
    }

    /// Sets the title shown with the video.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the description shown with the video.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

impl MusicReply {
    /// Builds a music reply body. WeChat requires the thumbnail's media id.
    pub fn new(thumb_media_id: impl Into<String>) -> Self {
        Self {
            title: None,
            description: None,
            music_url: None,
            hq_music_url: None,
            thumb_media_id: thumb_media_id.into(),
        }
    }

    /// Sets the title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the music link and, for Wi-Fi, the high-quality link.
    pub fn urls(mut self, music_url: impl Into<String>, hq_music_url: impl Into<String>) -> Self {
        self.music_url = Some(music_url.into());
        self.hq_music_url = Some(hq_music_url.into());
        self
    }
}

impl Article {
    /// Builds a news article with a title and a link, and an empty
    /// description and picture.
    pub fn new(title: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            description: String::new(),
            pic_url: String::new(),
            url: url.into(),
        }
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Sets the picture link.
    pub fn pic_url(mut self, pic_url: impl Into<String>) -> Self {
        self.pic_url = pic_url.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_reply() {
        assert_eq!(Reply::text("hi"), Reply::Text("hi".to_owned()));
    }

    #[test]
    fn media_replies() {
        assert_eq!(Reply::image("m1"), Reply::Image("m1".to_owned()));
        assert_eq!(Reply::voice("m2"), Reply::Voice("m2".to_owned()));
        assert_eq!(
            Reply::video("m3"),
            Reply::Video(VideoReply {
                media_id: "m3".to_owned(),
                title: None,
                description: None,
            })
        );
    }

    #[test]
    fn video_builder() {
        let reply: Reply = VideoReply::new("m").title("t").description("d").into();
        assert_eq!(
            reply,
            Reply::Video(VideoReply {
                media_id: "m".to_owned(),
                title: Some("t".to_owned()),
                description: Some("d".to_owned()),
            })
        );
    }

    #[test]
    fn music_builder() {
        let reply: Reply = MusicReply::new("thumb")
            .title("t")
            .urls("http://a.invalid/m.mp3", "http://a.invalid/hq.mp3")
            .into();
        assert_eq!(
            reply,
            Reply::Music(MusicReply {
                title: Some("t".to_owned()),
                description: None,
                music_url: Some("http://a.invalid/m.mp3".to_owned()),
                hq_music_url: Some("http://a.invalid/hq.mp3".to_owned()),
                thumb_media_id: "thumb".to_owned(),
            })
        );
    }

    #[test]
    fn news_builder() {
        let reply = Reply::news([
            Article::new("A", "https://a.invalid/")
                .description("about a")
                .pic_url("https://a.invalid/a.png"),
            Article::new("B", "https://b.invalid/"),
        ]);
        let Reply::News(articles) = reply else {
            panic!("expected news, got {reply:?}");
        };
        assert_eq!(articles.len(), 2);
        assert_eq!(articles[0].title, "A");
        assert_eq!(articles[0].description, "about a");
        assert_eq!(articles[0].pic_url, "https://a.invalid/a.png");
        assert_eq!(articles[0].url, "https://a.invalid/");
        assert_eq!(articles[1].description, "");
        assert_eq!(articles[1].pic_url, "");
    }

    #[test]
    fn customer_service_replies() {
        assert_eq!(
            Reply::transfer_customer_service(),
            Reply::TransferCustomerService(None)
        );
        assert_eq!(
            Reply::transfer_to_agent("a@b"),
            Reply::TransferCustomerService(Some("a@b".to_owned()))
        );
    }

    #[test]
    fn reply_into_directives() {
        let directives = Reply::text("x").into_directives();
        assert_eq!(directives, vec![Directive::Reply(Reply::text("x"))]);
        let directive: Directive = Reply::image("m").into();
        assert_eq!(directive, Directive::Reply(Reply::Image("m".to_owned())));
    }
}
