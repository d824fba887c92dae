//! Conversions between the host's protocol model and the WIT types.

use crate::outbox::{Action, TemplateAction};
use crate::protocol::message::{self as host, Inbound, Payload};
use crate::protocol::reply::{self as reply, Reply};
use crate::wechat::{CustomBody, MiniProgramLink, MsgMenuItem, NewsArticle};

use super::Directive;
use super::bindings::wxhost::plugin::types as wit;

/// Builds the WIT event for `inbound`, received by `account`.
pub(crate) fn event_to_wit(account: &str, inbound: &Inbound) -> wit::Event {
    let payload = match &inbound.payload {
        Payload::Message(message) => wit::Payload::Message(message_to_wit(message)),
        Payload::Event(event) => wit::Payload::Event(event_kind_to_wit(event)),
    };
    wit::Event {
        account: account.to_owned(),
        to_user: inbound.to_user.clone(),
        from_user: inbound.from_user.clone(),
        create_time: inbound.create_time,
        msg_type: inbound.msg_type.clone(),
        msg_id: inbound.msg_id,
        payload,
        extra: inbound
            .extra
            .iter()
            .map(|field| wit::Field {
                name: field.name.clone(),
                value: field.value.clone(),
            })
            .collect(),
    }
}

fn message_to_wit(message: &host::Message) -> wit::Message {
    use host::Message as M;
    match message.clone() {
        M::Text {
            content,
            biz_msg_menu_id,
        } => wit::Message::Text(wit::TextMessage {
            content,
            biz_msg_menu_id,
        }),
        M::Image { pic_url, media_id } => {
            wit::Message::Image(wit::ImageMessage { pic_url, media_id })
        }
        M::Voice {
            media_id,
            format,
            recognition,
        } => wit::Message::Voice(wit::VoiceMessage {
            media_id,
            format,
            recognition,
        }),
        M::Video {
            media_id,
            thumb_media_id,
        } => wit::Message::Video(wit::VideoMessage {
            media_id,
            thumb_media_id,
        }),
        M::ShortVideo {
            media_id,
            thumb_media_id,
        } => wit::Message::ShortVideo(wit::VideoMessage {
            media_id,
            thumb_media_id,
        }),
        M::Location {
            location_x,
            location_y,
            scale,
            label,
        } => wit::Message::Location(wit::LocationMessage {
            location_x,
            location_y,
            scale,
            label,
        }),
        M::Link {
            title,
            description,
            url,
        } => wit::Message::Link(wit::LinkMessage {
            title,
            description,
            url,
        }),
        M::File {
            title,
            description,
            file_key,
            file_md5,
            file_total_len,
        } => wit::Message::File(wit::FileMessage {
            title,
            description,
            file_key,
            file_md5,
            file_total_len,
        }),
        M::Unknown => wit::Message::Unknown,
    }
}

fn event_kind_to_wit(event: &host::Event) -> wit::EventKind {
    use host::Event as E;
    use wit::EventKind as K;
    match event.clone() {
        E::Subscribe {
            scene,
            ticket,
            event_key,
        } => K::Subscribe(wit::SubscribeEvent {
            scene,
            ticket,
            event_key,
        }),
        E::Unsubscribe => K::Unsubscribe,
        E::Scan { scene, ticket } => K::Scan(wit::ScanEvent { scene, ticket }),
        E::Location {
            latitude,
            longitude,
            precision,
        } => K::Location(wit::LocationEvent {
            latitude,
            longitude,
            precision,
        }),
        E::Click { key } => K::Click(key),
        E::View { url, menu_id } => K::View(wit::ViewEvent { url, menu_id }),
        E::ScancodePush(scan) => K::ScancodePush(scan_code_to_wit(scan)),
        E::ScancodeWaitmsg(scan) => K::ScancodeWaitmsg(scan_code_to_wit(scan)),
        E::PicSysphoto(pics) => K::PicSysphoto(send_pics_to_wit(pics)),
        E::PicPhotoOrAlbum(pics) => K::PicPhotoOrAlbum(send_pics_to_wit(pics)),
        E::PicWeixin(pics) => K::PicWeixin(send_pics_to_wit(pics)),
        E::LocationSelect(select) => K::LocationSelect(wit::LocationSelectEvent {
            key: select.key,
            location_x: select.location_x,
            location_y: select.location_y,
            scale: select.scale,
            label: select.label,
            poiname: select.poiname,
        }),
        E::ViewMiniprogram { page_path, menu_id } => K::ViewMiniprogram(wit::ViewEvent {
            url: page_path,
            menu_id,
        }),
        E::TemplateSendJobFinish { msg_id, status } => {
            K::TemplateSendJobFinish(wit::JobFinishEvent { msg_id, status })
        }
        E::MassSendJobFinish(job) => K::MassSendJobFinish(wit::MassSendJobFinishEvent {
            msg_id: job.msg_id,
            status: job.status,
            total_count: job.total_count,
            filter_count: job.filter_count,
            sent_count: job.sent_count,
            error_count: job.error_count,
        }),
        E::SubscribeMsgPopup(items) => K::SubscribeMsgPopup(subscribe_items_to_wit(items)),
        E::SubscribeMsgChange(items) => K::SubscribeMsgChange(subscribe_items_to_wit(items)),
        E::SubscribeMsgSent(items) => K::SubscribeMsgSent(
            items
                .into_iter()
                .map(|item| wit::SubscribeMsgSentItem {
                    template_id: item.template_id,
                    msg_id: item.msg_id,
                    error_code: item.error_code,
                    error_status: item.error_status,
                })
                .collect(),
        ),
        E::KfCreateSession { kf_account } => K::KfCreateSession(kf_account),
        E::KfCloseSession { kf_account } => K::KfCloseSession(kf_account),
        E::KfSwitchSession {
            from_kf_account,
            to_kf_account,
        } => K::KfSwitchSession(wit::KfSwitchEvent {
            from_kf_account,
            to_kf_account,
        }),
        E::Verification {
            name,
            time,
            fail_reason,
        } => K::Verification(wit::VerificationEvent {
            name,
            time,
            fail_reason,
        }),
        E::Unknown { name, event_key } => K::Unknown(wit::UnknownEvent { name, event_key }),
    }
}

fn scan_code_to_wit(scan: host::ScanCode) -> wit::ScanCodeEvent {
    wit::ScanCodeEvent {
        key: scan.key,
        scan_type: scan.scan_type,
        scan_result: scan.scan_result,
    }
}

fn send_pics_to_wit(pics: host::SendPics) -> wit::SendPicsEvent {
    wit::SendPicsEvent {
        key: pics.key,
        count: pics.count,
        pic_md5_sums: pics.pic_md5_sums,
    }
}

fn subscribe_items_to_wit(items: Vec<host::SubscribeMsgItem>) -> Vec<wit::SubscribeMsgItem> {
    items
        .into_iter()
        .map(|item| wit::SubscribeMsgItem {
            template_id: item.template_id,
            status: item.status,
            popup_scene: item.popup_scene,
        })
        .collect()
}

/// Converts one WIT directive to the host's directive.
pub(crate) fn directive_from_wit(directive: wit::Directive) -> Directive {
    match directive {
        wit::Directive::Reply(reply) => Directive::Reply(reply_from_wit(reply)),
        wit::Directive::NoReply => Directive::NoReply,
        wit::Directive::SendCustom(message) => Directive::Action(custom_from_wit(message)),
        wit::Directive::SendCustomTo(addressed) => Directive::ActionTo {
            openid: addressed.openid,
            action: custom_from_wit(addressed.message),
        },
        wit::Directive::SendTemplate(template) => {
            Directive::Action(Action::Template(TemplateAction {
                template_id: template.template_id,
                url: template.url,
                miniprogram: template.miniprogram.map(|link| MiniProgramLink {
                    appid: link.appid,
                    pagepath: link.pagepath,
                }),
                data: template.data,
            }))
        }
        wit::Directive::Tag(tag_id) => Directive::Action(Action::Tag { tag_id }),
        wit::Directive::Untag(tag_id) => Directive::Action(Action::Untag { tag_id }),
    }
}

fn custom_from_wit(message: wit::CustomMessage) -> Action {
    Action::Custom {
        body: custom_body_from_wit(message.body),
        kf_account: message.kf_account,
    }
}

fn custom_body_from_wit(body: wit::CustomBody) -> CustomBody {
    use wit::CustomBody as W;
    match body {
        W::Text(content) => CustomBody::Text { content },
        W::Image(media_id) => CustomBody::Image { media_id },
        W::Voice(media_id) => CustomBody::Voice { media_id },
        W::Video(video) => CustomBody::Video {
            media_id: video.media_id,
            thumb_media_id: video.thumb_media_id,
            title: video.title,
            description: video.description,
        },
        W::Music(music) => CustomBody::Music {
            title: music.title,
            description: music.description,
            musicurl: music.music_url,
            hqmusicurl: music.hq_music_url,
            thumb_media_id: music.thumb_media_id,
        },
        W::News(article) => CustomBody::News {
            articles: vec![NewsArticle {
                title: article.title,
                description: article.description,
                url: article.url,
                picurl: article.pic_url,
            }],
        },
        W::Mpnews(media_id) => CustomBody::MpNews { media_id },
        W::Mpnewsarticle(article_id) => CustomBody::MpNewsArticle { article_id },
        W::Msgmenu(menu) => CustomBody::MsgMenu {
            head_content: menu.head_content,
            list: menu
                .items
                .into_iter()
                .map(|item| MsgMenuItem {
                    id: item.id,
                    content: item.content,
                })
                .collect(),
            tail_content: menu.tail_content,
        },
        W::Wxcard(card_id) => CustomBody::WxCard { card_id },
        W::Miniprogrampage(page) => CustomBody::MiniProgramPage {
            title: page.title,
            appid: page.appid,
            pagepath: page.pagepath,
            thumb_media_id: page.thumb_media_id,
        },
    }
}

fn reply_from_wit(reply: wit::Reply) -> Reply {
    match reply {
        wit::Reply::Text(text) => Reply::Text(text),
        wit::Reply::Image(media_id) => Reply::Image { media_id },
        wit::Reply::Voice(media_id) => Reply::Voice { media_id },
        wit::Reply::Video(video) => Reply::Video {
            media_id: video.media_id,
            title: video.title,
            description: video.description,
        },
        wit::Reply::Music(music) => Reply::Music {
            title: music.title,
            description: music.description,
            music_url: music.music_url,
            hq_music_url: music.hq_music_url,
            thumb_media_id: music.thumb_media_id,
        },
        wit::Reply::News(articles) => Reply::News(
            articles
                .into_iter()
                .map(|article| reply::Article {
                    title: article.title,
                    description: article.description,
                    pic_url: article.pic_url,
                    url: article.url,
                })
                .collect(),
        ),
        wit::Reply::TransferCustomerService(kf_account) => {
            Reply::TransferCustomerService { kf_account }
        }
    }
}

/// Returns the number of text bytes in `reply`: every string it carries.
pub(crate) fn reply_text_bytes(reply: &Reply) -> usize {
    fn opt(text: &Option<String>) -> usize {
        text.as_ref().map_or(0, String::len)
    }
    match reply {
        Reply::Text(text) => text.len(),
        Reply::Image { media_id } | Reply::Voice { media_id } => media_id.len(),
        Reply::Video {
            media_id,
            title,
            description,
        } => media_id.len() + opt(title) + opt(description),
        Reply::Music {
            title,
            description,
            music_url,
            hq_music_url,
            thumb_media_id,
        } => {
            opt(title)
                + opt(description)
                + opt(music_url)
                + opt(hq_music_url)
                + thumb_media_id.len()
        }
        Reply::News(articles) => articles
            .iter()
            .map(|a| a.title.len() + a.description.len() + a.pic_url.len() + a.url.len())
            .sum(),
        Reply::TransferCustomerService { kf_account } => opt(kf_account),
    }
}
