//! Test plugin that returns the directives its config lists.
//!
//! Config `actions` is an array of tables, each with a `kind` and the
//! fields of that kind:
//!
//! | kind | fields |
//! |---|---|
//! | `text` | `content` |
//! | `image`, `voice`, `mpnews` | `media_id` |
//! | `mpnewsarticle` | `article_id` |
//! | `wxcard` | `card_id` |
//! | `video` | `media_id`, `thumb_media_id`, `title`, `description` |
//! | `music` | `title`, `description`, `music_url`, `hq_music_url`, `thumb_media_id` |
//! | `news` | `title`, `description`, `url`, `pic_url` |
//! | `msgmenu` | `head_content`, `items` (array of `[id, content]`), `tail_content` |
//! | `miniprogrampage` | `title`, `appid`, `pagepath`, `thumb_media_id` |
//! | `template` | `template_id`, `url`?, `mini_appid`?, `mini_pagepath`?, `data` (array of `[name, value]`) |
//! | `tag`, `untag` | `tag_id` |
//!
//! Customer-service kinds also take `kf_account`. Absent strings are
//! empty. Config `reply` (a string) adds a text reply after the actions.

wit_bindgen::generate!({ path: "../../../wit", world: "plugin" });

use serde_json::Value;

use wxhost::plugin::config;
use wxhost::plugin::types::{
    Article, CustomBody, CustomMessage, CustomMusic, CustomVideo, MiniprogramLink, MiniprogramPage,
    MsgMenu, MsgMenuItem, Reply, TemplateMessage,
};

struct ActionsPlugin;

impl Guest for ActionsPlugin {
    fn handle(_event: Event) -> Vec<Directive> {
        let mut directives: Vec<Directive> = config_json("actions")
            .as_ref()
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(directive).collect())
            .unwrap_or_default();
        if let Some(Value::String(text)) = config_json("reply") {
            directives.push(Directive::Reply(Reply::Text(text)));
        }
        directives
    }
}

fn config_json(key: &str) -> Option<Value> {
    config::get(key).and_then(|text| serde_json::from_str(&text).ok())
}

fn text(item: &Value, field: &str) -> String {
    item.get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn pairs(item: &Value, field: &str) -> Vec<(String, String)> {
    let Some(list) = item.get(field).and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|pair| {
            let pair = pair.as_array()?;
            Some((
                pair.first()?.as_str()?.to_owned(),
                pair.get(1)?.as_str()?.to_owned(),
            ))
        })
        .collect()
}

fn directive(item: &Value) -> Option<Directive> {
    let kind = item.get("kind")?.as_str()?;
    let body = match kind {
        "template" => return Some(Directive::SendTemplate(template(item))),
        "tag" => return Some(Directive::Tag(item.get("tag_id")?.as_u64()?)),
        "untag" => return Some(Directive::Untag(item.get("tag_id")?.as_u64()?)),
        "text" => CustomBody::Text(text(item, "content")),
        "image" => CustomBody::Image(text(item, "media_id")),
        "voice" => CustomBody::Voice(text(item, "media_id")),
        "mpnews" => CustomBody::Mpnews(text(item, "media_id")),
        "mpnewsarticle" => CustomBody::Mpnewsarticle(text(item, "article_id")),
        "wxcard" => CustomBody::Wxcard(text(item, "card_id")),
        "video" => CustomBody::Video(CustomVideo {
            media_id: text(item, "media_id"),
            thumb_media_id: text(item, "thumb_media_id"),
            title: text(item, "title"),
            description: text(item, "description"),
        }),
        "music" => CustomBody::Music(CustomMusic {
            title: text(item, "title"),
            description: text(item, "description"),
            music_url: text(item, "music_url"),
            hq_music_url: text(item, "hq_music_url"),
            thumb_media_id: text(item, "thumb_media_id"),
        }),
        "news" => CustomBody::News(Article {
            title: text(item, "title"),
            description: text(item, "description"),
            pic_url: text(item, "pic_url"),
            url: text(item, "url"),
        }),
        "msgmenu" => CustomBody::Msgmenu(MsgMenu {
            head_content: text(item, "head_content"),
            items: pairs(item, "items")
                .into_iter()
                .map(|(id, content)| MsgMenuItem { id, content })
                .collect(),
            tail_content: text(item, "tail_content"),
        }),
        "miniprogrampage" => CustomBody::Miniprogrampage(MiniprogramPage {
            title: text(item, "title"),
            appid: text(item, "appid"),
            pagepath: text(item, "pagepath"),
            thumb_media_id: text(item, "thumb_media_id"),
        }),
        _ => return None,
    };
    let kf_account = item
        .get("kf_account")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Some(Directive::SendCustom(CustomMessage { body, kf_account }))
}

fn template(item: &Value) -> TemplateMessage {
    let miniprogram = item
        .get("mini_appid")
        .and_then(Value::as_str)
        .map(|appid| MiniprogramLink {
            appid: appid.to_owned(),
            pagepath: text(item, "mini_pagepath"),
        });
    TemplateMessage {
        template_id: text(item, "template_id"),
        url: item.get("url").and_then(Value::as_str).map(str::to_owned),
        miniprogram,
        data: pairs(item, "data"),
    }
}

export!(ActionsPlugin);
