//! Menu plugin: answers the events of the account's custom menu.
//!
//! Configuration (each value is JSON text, as the host passes it):
//!
//! - `clicks`: an object from a `click` button's `key` to its reply.
//! - `unknown_click` (optional): the reply for a `click` key not in
//!   `clicks`. Without it such a click passes to the next plugin.
//! - `scancode_waitmsg`: the text answering a `scancode_waitmsg` event.
//!   Default `扫描结果：{scan_result}`.
//! - `pic`: the text answering `pic_sysphoto`, `pic_photo_or_album` and
//!   `pic_weixin`. Default `已收到 {count} 张图片，我们会尽快处理。`.
//! - `location_select`: the text answering `location_select`. Default
//!   `已收到您选择的位置：{label}`. When the event's label is empty, the
//!   default names the place name (`{poiname}`), else the coordinates
//!   (`纬度 {latitude}，经度 {longitude}`), else reads `已收到您选择的位置。`.
//! - `answers`: an object from a button `key` to a text that replaces
//!   the three texts above for that button.
//!
//! An empty text turns that answer off. Texts may hold `{key}`,
//! `{scan_type}`, `{scan_result}`, `{count}`, `{label}`, `{poiname}`,
//! `{latitude}` and `{longitude}`; a value from the event is cut to 600
//! characters. A reply in `clicks` is the SDK's `ReplySpec`:
//! `{ "text": "..." }`, `{ "image": "MEDIA_ID" }`, `{ "voice": "MEDIA_ID" }`,
//! `{ "video": { "media_id", "title", "description" } }`, `{ "music":
//! { ... } }` or `{ "news": [{ "title", "description", "pic_url", "url" }] }`.
//! Other events and messages get `no-reply`.

mod answer;

use wxhost_plugin::config::{self, Table};
use wxhost_plugin::{Event, EventKind, Plugin, Reply, log};

use crate::answer::{Settings, Slots};

struct MenuPlugin;

impl Plugin for MenuPlugin {
    fn check_config() -> Result<(), Vec<String>> {
        config::check(Settings::load)
    }

    fn reply(event: &Event) -> Option<Reply> {
        let kind = event.event_kind()?;
        let settings = match Settings::load(&Table::load()) {
            Ok(settings) => settings,
            Err(error) => {
                log::error_with("invalid menu configuration", &error);
                return None;
            }
        };
        match kind {
            EventKind::Click(key) => settings.click_reply(key),
            EventKind::ScancodeWaitmsg(scan) => {
                let slots = Slots {
                    key: &scan.key,
                    scan_type: scan.scan_type.as_deref(),
                    scan_result: scan.scan_result.as_deref(),
                    ..Slots::default()
                };
                settings.answer(&settings.scancode_waitmsg, &slots)
            }
            EventKind::PicSysphoto(pics)
            | EventKind::PicPhotoOrAlbum(pics)
            | EventKind::PicWeixin(pics) => {
                let count = pics.count.to_string();
                let slots = Slots {
                    key: &pics.key,
                    count: Some(&count),
                    ..Slots::default()
                };
                settings.answer(&settings.pic, &slots)
            }
            EventKind::LocationSelect(place) => settings.location_reply(place),
            _ => None,
        }
    }
}

wxhost_plugin::export_plugin!(MenuPlugin);
