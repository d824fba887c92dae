//! Mapping the elements of an event callback onto [`Event`].

use super::inbound::{ExtraField, Fields, parse_f64, parse_i64, parse_u32, parse_u64};
use super::message::{
    Event, LocationSelect, MassSendJobFinish, ScanCode, SendPics, SubscribeMsgItem,
    SubscribeMsgSentItem,
};

/// Prefix of `EventKey` when a non-follower subscribes through a QR code.
const QR_SCENE_PREFIX: &str = "qrscene_";

/// Builds the typed event for `name` (matched without regard to ASCII case).
/// A string that the model requires but the body lacks is empty.
pub(crate) fn parse_event(
    name: &str,
    event_key: Option<&str>,
    fields: &mut Fields<'_>,
    extra: &mut Vec<ExtraField>,
) -> Event {
    let key = || event_key.unwrap_or_default().to_owned();
    match name.to_ascii_lowercase().as_str() {
        "subscribe" => Event::Subscribe {
            scene: event_key
                .and_then(|key| key.strip_prefix(QR_SCENE_PREFIX))
                .filter(|scene| !scene.is_empty())
                .map(str::to_owned),
            ticket: fields.text("Ticket"),
            event_key: event_key.map(str::to_owned),
        },
        "unsubscribe" => Event::Unsubscribe,
        "scan" => Event::Scan {
            scene: key(),
            ticket: fields.text("Ticket"),
        },
        "location" => Event::Location {
            latitude: fields.number("Latitude", parse_f64),
            longitude: fields.number("Longitude", parse_f64),
            precision: fields.number("Precision", parse_f64),
        },
        "click" => Event::Click { key: key() },
        "view" => Event::View {
            url: key(),
            menu_id: fields.number("MenuId", parse_u64),
        },
        "view_miniprogram" => Event::ViewMiniprogram {
            page_path: key(),
            menu_id: fields.number("MenuId", parse_u64),
        },
        "scancode_push" => Event::ScancodePush(scan_code(key(), fields, extra)),
        "scancode_waitmsg" => Event::ScancodeWaitmsg(scan_code(key(), fields, extra)),
        "pic_sysphoto" => Event::PicSysphoto(send_pics(key(), fields, extra)),
        "pic_photo_or_album" => Event::PicPhotoOrAlbum(send_pics(key(), fields, extra)),
        "pic_weixin" => Event::PicWeixin(send_pics(key(), fields, extra)),
        "location_select" => Event::LocationSelect(location_select(key(), fields, extra)),
        "templatesendjobfinish" => Event::TemplateSendJobFinish {
            msg_id: fields.number("MsgID", parse_u64),
            status: fields.text("Status").unwrap_or_default(),
        },
        "masssendjobfinish" => Event::MassSendJobFinish(mass_send(fields)),
        "subscribe_msg_popup_event" => {
            Event::SubscribeMsgPopup(subscribe_items(&["SubscribeMsgPopupEvent"], fields, extra))
        }
        // Some samples wrap the change event in the popup element.
        "subscribe_msg_change_event" => Event::SubscribeMsgChange(subscribe_items(
            &["SubscribeMsgChangeEvent", "SubscribeMsgPopupEvent"],
            fields,
            extra,
        )),
        "subscribe_msg_sent_event" => Event::SubscribeMsgSent(sent_items(fields, extra)),
        "kf_create_session" => Event::KfCreateSession {
            kf_account: fields.text("KfAccount").unwrap_or_default(),
        },
        "kf_close_session" => Event::KfCloseSession {
            kf_account: fields.text("KfAccount").unwrap_or_default(),
        },
        "kf_switch_session" => Event::KfSwitchSession {
            from_kf_account: fields.text("FromKfAccount").unwrap_or_default(),
            to_kf_account: fields.text("ToKfAccount").unwrap_or_default(),
        },
        "qualification_verify_success"
        | "qualification_verify_fail"
        | "naming_verify_success"
        | "naming_verify_fail"
        | "annual_renew"
        | "verify_expired" => Event::Verification {
            name: name.to_owned(),
            time: fields
                .number("ExpiredTime", parse_u64)
                .or_else(|| fields.number("FailTime", parse_u64)),
            fail_reason: fields.text("FailReason"),
        },
        _ => Event::Unknown {
            name: name.to_owned(),
            event_key: event_key.map(str::to_owned),
        },
    }
}

fn scan_code(key: String, fields: &mut Fields<'_>, extra: &mut Vec<ExtraField>) -> ScanCode {
    let mut scan_type = None;
    let mut scan_result = None;
    if let Some(mut info) = fields.nested("ScanCodeInfo") {
        scan_type = info.text("ScanType");
        scan_result = info.text("ScanResult");
        info.finish(extra);
    }
    ScanCode {
        key,
        scan_type,
        scan_result,
    }
}

/// Reads `SendPicsInfo`. `PicList/item` may appear once, many times or not
/// at all; a missing `Count` is the number of items.
fn send_pics(key: String, fields: &mut Fields<'_>, extra: &mut Vec<ExtraField>) -> SendPics {
    let mut count = None;
    let mut pic_md5_sums = Vec::new();
    if let Some(mut info) = fields.nested("SendPicsInfo") {
        count = info.number("Count", parse_u32);
        if let Some(mut list) = info.nested("PicList") {
            while let Some(mut item) = list.nested("item") {
                pic_md5_sums.extend(item.text("PicMd5Sum"));
                item.finish(extra);
            }
            list.finish(extra);
        }
        info.finish(extra);
    }
    let count = count.unwrap_or_else(|| u32::try_from(pic_md5_sums.len()).unwrap_or(u32::MAX));
    SendPics {
        key,
        count,
        pic_md5_sums,
    }
}

fn location_select(
    key: String,
    fields: &mut Fields<'_>,
    extra: &mut Vec<ExtraField>,
) -> LocationSelect {
    let mut location = LocationSelect {
        key,
        location_x: None,
        location_y: None,
        scale: None,
        label: None,
        poiname: None,
    };
    if let Some(mut info) = fields.nested("SendLocationInfo") {
        location.location_x = info.number("Location_X", parse_f64);
        location.location_y = info.number("Location_Y", parse_f64);
        location.scale = info.number("Scale", parse_f64);
        location.label = info.text("Label");
        location.poiname = info.text("Poiname");
        info.finish(extra);
    }
    location
}

/// Reads the counters of a mass-send result. `CopyrightCheckResult` and
/// `ArticleUrlResult` stay unused and reach `extra` as XML text.
fn mass_send(fields: &mut Fields<'_>) -> MassSendJobFinish {
    MassSendJobFinish {
        msg_id: fields.number("MsgID", parse_u64),
        status: fields.text("Status").unwrap_or_default(),
        total_count: fields.number("TotalCount", parse_u64),
        filter_count: fields.number("FilterCount", parse_u64),
        sent_count: fields.number("SentCount", parse_u64),
        error_count: fields.number("ErrorCount", parse_u64),
    }
}

/// Reads the `List` entries of the first wrapper in `wrappers` present.
fn subscribe_items(
    wrappers: &[&str],
    fields: &mut Fields<'_>,
    extra: &mut Vec<ExtraField>,
) -> Vec<SubscribeMsgItem> {
    let Some(mut wrapper) = wrappers.iter().find_map(|name| fields.nested(name)) else {
        return Vec::new();
    };
    let mut items = Vec::new();
    while let Some(mut entry) = wrapper.nested("List") {
        items.push(SubscribeMsgItem {
            template_id: entry.text("TemplateId").unwrap_or_default(),
            status: entry.text("SubscribeStatusString").unwrap_or_default(),
            popup_scene: entry.number("PopupScene", parse_u32),
        });
        entry.finish(extra);
    }
    wrapper.finish(extra);
    items
}

fn sent_items(fields: &mut Fields<'_>, extra: &mut Vec<ExtraField>) -> Vec<SubscribeMsgSentItem> {
    let Some(mut wrapper) = fields.nested("SubscribeMsgSentEvent") else {
        return Vec::new();
    };
    let mut items = Vec::new();
    while let Some(mut entry) = wrapper.nested("List") {
        items.push(SubscribeMsgSentItem {
            template_id: entry.text("TemplateId").unwrap_or_default(),
            msg_id: entry.number("MsgID", parse_u64),
            error_code: entry.number("ErrorCode", parse_i64),
            error_status: entry.text("ErrorStatus"),
        });
        entry.finish(extra);
    }
    wrapper.finish(extra);
    items
}
