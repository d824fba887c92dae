//! Test plugin that replies with what it received.
//!
//! - A text message gets its own content back.
//! - An event gets `event=<kind>`, followed by ` key=<value>` when the event
//!   carries a scene or key (the subscribe scene, the scan scene, the
//!   button key), for example `event=subscribe key=promo`.
//! - Any other message gets `message=<MsgType>`.
//!
//! Config `log_records` (a JSON number) makes the plugin write that many
//! `log` records of 100 bytes each before it replies.

wit_bindgen::generate!({ path: "../../../wit", world: "plugin" });

use wxhost::plugin::config;
use wxhost::plugin::log::{self, Level};
use wxhost::plugin::types::{EventKind, Message, Payload, Reply};

struct EchoPlugin;

impl Guest for EchoPlugin {
    fn handle(event: Event) -> Vec<Directive> {
        write_logs();
        let text = match &event.payload {
            Payload::Message(Message::Text(text)) => text.content.clone(),
            Payload::Message(_) => format!("message={}", event.msg_type),
            Payload::Event(kind) => describe_event(kind),
        };
        vec![Directive::Reply(Reply::Text(text))]
    }
}

fn write_logs() {
    let count = config::get("log_records")
        .and_then(|text| text.parse::<usize>().ok())
        .unwrap_or(0);
    // 91 bytes of message plus 9 bytes of field: 100 bytes per record.
    let message = format!("echo log record {}", "x".repeat(75));
    for index in 0..count {
        let fields = [("index".to_owned(), format!("{index:04}"))];
        log::write(Level::Info, &message, &fields);
    }
}

fn describe_event(kind: &EventKind) -> String {
    let (name, key): (&str, Option<&str>) = match kind {
        EventKind::Subscribe(subscribe) => ("subscribe", subscribe.scene.as_deref()),
        EventKind::Unsubscribe => ("unsubscribe", None),
        EventKind::Scan(scan) => ("scan", Some(&scan.scene)),
        EventKind::Location(_) => ("location", None),
        EventKind::Click(key) => ("click", Some(key)),
        EventKind::View(view) => ("view", Some(&view.url)),
        EventKind::ScancodePush(scan) => ("scancode_push", Some(&scan.key)),
        EventKind::ScancodeWaitmsg(scan) => ("scancode_waitmsg", Some(&scan.key)),
        EventKind::PicSysphoto(pics) => ("pic_sysphoto", Some(&pics.key)),
        EventKind::PicPhotoOrAlbum(pics) => ("pic_photo_or_album", Some(&pics.key)),
        EventKind::PicWeixin(pics) => ("pic_weixin", Some(&pics.key)),
        EventKind::LocationSelect(select) => ("location_select", Some(&select.key)),
        EventKind::ViewMiniprogram(view) => ("view_miniprogram", Some(&view.url)),
        EventKind::TemplateSendJobFinish(_) => ("templatesendjobfinish", None),
        EventKind::MassSendJobFinish(_) => ("masssendjobfinish", None),
        EventKind::SubscribeMsgPopup(_) => ("subscribe_msg_popup_event", None),
        EventKind::SubscribeMsgChange(_) => ("subscribe_msg_change_event", None),
        EventKind::SubscribeMsgSent(_) => ("subscribe_msg_sent_event", None),
        EventKind::KfCreateSession(_) => ("kf_create_session", None),
        EventKind::KfCloseSession(_) => ("kf_close_session", None),
        EventKind::KfSwitchSession(_) => ("kf_switch_session", None),
        EventKind::Verification(verification) => (verification.name.as_str(), None),
        EventKind::Unknown(unknown) => (unknown.name.as_str(), unknown.event_key.as_deref()),
    };
    match key {
        Some(key) => format!("event={name} key={key}"),
        None => format!("event={name}"),
    }
}

export!(EchoPlugin);
