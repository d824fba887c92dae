//! Passive replies and their XML rendering.

/// A passive reply, the body of the HTTP answer to one callback.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Text(String),
    Image {
        media_id: String,
    },
    Voice {
        media_id: String,
    },
    Video {
        media_id: String,
        title: Option<String>,
        description: Option<String>,
    },
    Music {
        title: Option<String>,
        description: Option<String>,
        music_url: Option<String>,
        hq_music_url: Option<String>,
        thumb_media_id: String,
    },
    News(Vec<Article>),
    TransferCustomerService {
        kf_account: Option<String>,
    },
}

/// One news article.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    pub title: String,
    pub description: String,
    pub pic_url: String,
    pub url: String,
}
