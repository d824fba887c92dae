//! Accessors on the generated [`Event`] type.

use crate::{Event, TextMessage};
use crate::{EventKind, Message, Payload};

impl Event {
    /// Returns the user message, or `None` for an event.
    pub fn message(&self) -> Option<&Message> {
        match &self.payload {
            Payload::Message(message) => Some(message),
            Payload::Event(_) => None,
        }
    }

    /// Returns the event kind, or `None` for a user message.
    pub fn event_kind(&self) -> Option<&EventKind> {
        match &self.payload {
            Payload::Event(kind) => Some(kind),
            Payload::Message(_) => None,
        }
    }

    /// Returns the text message, or `None` for any other message and for events.
    pub fn text_message(&self) -> Option<&TextMessage> {
        match self.message() {
            Some(Message::Text(text)) => Some(text),
            _ => None,
        }
    }

    /// Returns the `Content` of a text message, or `None` for anything else.
    pub fn text(&self) -> Option<&str> {
        self.text_message().map(|text| text.content.as_str())
    }

    /// Returns true when this is a text message whose content, without
    /// surrounding whitespace, equals `phrase` without its surrounding
    /// whitespace. The comparison is exact, with case.
    pub fn text_is(&self, phrase: &str) -> bool {
        self.text()
            .is_some_and(|content| content.trim() == phrase.trim())
    }

    /// Returns true when this is a text message that contains `needle`.
    /// An empty `needle` matches nothing.
    pub fn text_contains(&self, needle: &str) -> bool {
        !needle.is_empty() && self.text().is_some_and(|content| content.contains(needle))
    }

    /// Returns true for a `subscribe` event, with or without a QR scene.
    pub fn is_subscribe(&self) -> bool {
        matches!(self.event_kind(), Some(EventKind::Subscribe(_)))
    }

    /// Returns true for an `unsubscribe` event.
    pub fn is_unsubscribe(&self) -> bool {
        matches!(self.event_kind(), Some(EventKind::Unsubscribe))
    }

    /// Returns the QR scene of a `subscribe` event (`EventKey` without its
    /// `qrscene_` prefix), or `None` for a plain follow and for anything else.
    pub fn subscribe_scene(&self) -> Option<&str> {
        match self.event_kind() {
            Some(EventKind::Subscribe(subscribe)) => subscribe.scene.as_deref(),
            _ => None,
        }
    }

    /// Returns the scene of a `SCAN` event (a follower scanned a parametric
    /// QR code), or `None` for anything else.
    pub fn scan_scene(&self) -> Option<&str> {
        match self.event_kind() {
            Some(EventKind::Scan(scan)) => Some(&scan.scene),
            _ => None,
        }
    }

    /// Returns the button key of a `CLICK` event, or `None` for anything else.
    pub fn click_key(&self) -> Option<&str> {
        match self.event_kind() {
            Some(EventKind::Click(key)) => Some(key),
            _ => None,
        }
    }

    /// Returns the link of a `VIEW` event, or `None` for anything else.
    pub fn view_url(&self) -> Option<&str> {
        match self.event_kind() {
            Some(EventKind::View(view)) => Some(&view.url),
            _ => None,
        }
    }

    /// Returns the event name, or `None` for a user message. See
    /// [`EventKind::name`].
    pub fn event_name(&self) -> Option<&str> {
        self.event_kind().map(EventKind::name)
    }

    /// Returns what an event names: the QR scene of `subscribe` and `SCAN`,
    /// the button key of `CLICK` and of the scan-code, picture and
    /// location-select menu buttons, the link of `VIEW` and
    /// `view_miniprogram`, and the `EventKey` of an unknown event. Returns
    /// `None` for other events, for a `subscribe` without a scene, and for
    /// user messages.
    pub fn scene_or_key(&self) -> Option<&str> {
        match self.event_kind()? {
            EventKind::Subscribe(subscribe) => subscribe.scene.as_deref(),
            EventKind::Scan(scan) => Some(&scan.scene),
            EventKind::Click(key) => Some(key),
            EventKind::View(view) | EventKind::ViewMiniprogram(view) => Some(&view.url),
            EventKind::ScancodePush(scan) | EventKind::ScancodeWaitmsg(scan) => Some(&scan.key),
            EventKind::PicSysphoto(pics)
            | EventKind::PicPhotoOrAlbum(pics)
            | EventKind::PicWeixin(pics) => Some(&pics.key),
            EventKind::LocationSelect(select) => Some(&select.key),
            EventKind::Unknown(unknown) => unknown.event_key.as_deref(),
            _ => None,
        }
    }

    /// Returns the text of the first element in [`Event::extra`] named
    /// `name` (as WeChat spells it), or `None` when there is none.
    pub fn extra_field(&self, name: &str) -> Option<&str> {
        self.extra
            .iter()
            .find(|field| field.name == name)
            .map(|field| field.value.as_str())
    }
}

impl EventKind {
    /// Returns the `Event` name: WeChat's name in lowercase for the events
    /// the WIT models (`subscribe`, `scan`, `click`, `templatesendjobfinish`,
    /// ...), and the name as WeChat sent it for verification and unknown events.
    pub fn name(&self) -> &str {
        match self {
            Self::Subscribe(_) => "subscribe",
            Self::Unsubscribe => "unsubscribe",
            Self::Scan(_) => "scan",
            Self::Location(_) => "location",
            Self::Click(_) => "click",
            Self::View(_) => "view",
            Self::ScancodePush(_) => "scancode_push",
            Self::ScancodeWaitmsg(_) => "scancode_waitmsg",
            Self::PicSysphoto(_) => "pic_sysphoto",
            Self::PicPhotoOrAlbum(_) => "pic_photo_or_album",
            Self::PicWeixin(_) => "pic_weixin",
            Self::LocationSelect(_) => "location_select",
            Self::ViewMiniprogram(_) => "view_miniprogram",
            Self::TemplateSendJobFinish(_) => "templatesendjobfinish",
            Self::MassSendJobFinish(_) => "masssendjobfinish",
            Self::SubscribeMsgPopup(_) => "subscribe_msg_popup_event",
            Self::SubscribeMsgChange(_) => "subscribe_msg_change_event",
            Self::SubscribeMsgSent(_) => "subscribe_msg_sent_event",
            Self::KfCreateSession(_) => "kf_create_session",
            Self::KfCloseSession(_) => "kf_close_session",
            Self::KfSwitchSession(_) => "kf_switch_session",
            Self::Verification(verification) => &verification.name,
            Self::Unknown(unknown) => &unknown.name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Field, ScanEvent, SubscribeEvent, UnknownEvent, ViewEvent};

    fn event(payload: Payload) -> Event {
        Event {
            account: "demo".to_owned(),
            to_user: "gh_test".to_owned(),
            from_user: "o_follower".to_owned(),
            create_time: 1_700_000_000,
            msg_type: "text".to_owned(),
            msg_id: None,
            payload,
            extra: vec![Field {
                name: "Custom".to_owned(),
                value: "7".to_owned(),
            }],
        }
    }

    fn text(content: &str) -> Event {
        event(Payload::Message(Message::Text(TextMessage {
            content: content.to_owned(),
            biz_msg_menu_id: None,
        })))
    }

    fn subscribe(scene: Option<&str>) -> Event {
        event(Payload::Event(EventKind::Subscribe(SubscribeEvent {
            scene: scene.map(str::to_owned),
            ticket: None,
            event_key: scene.map(|scene| format!("qrscene_{scene}")),
        })))
    }

    #[test]
    fn text_accessors() {
        let event = text("  价格表 ");
        assert_eq!(event.text(), Some("  价格表 "));
        assert!(event.text_is("价格表"));
        assert!(!event.text_is("价格"));
        assert!(event.text_contains("价格"));
        assert!(!event.text_contains(""));
        assert_eq!(event.event_name(), None);
        assert_eq!(event.scene_or_key(), None);
    }

    #[test]
    fn text_accessors_on_event() {
        let event = subscribe(None);
        assert_eq!(event.text(), None);
        assert!(!event.text_is(""));
        assert!(!event.text_contains("x"));
    }

    #[test]
    fn subscribe_scene_present() {
        let event = subscribe(Some("promo"));
        assert!(event.is_subscribe());
        assert!(!event.is_unsubscribe());
        assert_eq!(event.subscribe_scene(), Some("promo"));
        assert_eq!(event.scene_or_key(), Some("promo"));
        assert_eq!(event.event_name(), Some("subscribe"));
    }

    #[test]
    fn subscribe_scene_absent() {
        let event = subscribe(None);
        assert!(event.is_subscribe());
        assert_eq!(event.subscribe_scene(), None);
        assert_eq!(event.scene_or_key(), None);
    }

    #[test]
    fn scan_click_view_keys() {
        let scan = event(Payload::Event(EventKind::Scan(ScanEvent {
            scene: "123".to_owned(),
            ticket: None,
        })));
        assert_eq!(scan.scan_scene(), Some("123"));
        assert_eq!(scan.click_key(), None);
        assert_eq!(scan.scene_or_key(), Some("123"));

        let click = event(Payload::Event(EventKind::Click("MENU_A".to_owned())));
        assert_eq!(click.click_key(), Some("MENU_A"));
        assert_eq!(click.scan_scene(), None);
        assert_eq!(click.event_name(), Some("click"));

        let view = event(Payload::Event(EventKind::View(ViewEvent {
            url: "https://example.invalid/".to_owned(),
            menu_id: Some(4),
        })));
        assert_eq!(view.view_url(), Some("https://example.invalid/"));
        assert_eq!(view.scene_or_key(), Some("https://example.invalid/"));
    }

    #[test]
    fn unknown_event_name_and_key() {
        let event = event(Payload::Event(EventKind::Unknown(UnknownEvent {
            name: "NEW_THING".to_owned(),
            event_key: Some("k".to_owned()),
        })));
        assert_eq!(event.event_name(), Some("NEW_THING"));
        assert_eq!(event.scene_or_key(), Some("k"));
    }

    #[test]
    fn unsubscribe_name() {
        let event = event(Payload::Event(EventKind::Unsubscribe));
        assert!(event.is_unsubscribe());
        assert_eq!(event.event_name(), Some("unsubscribe"));
        assert_eq!(event.scene_or_key(), None);
    }

    #[test]
    fn extra_field_lookup() {
        let event = text("hi");
        assert_eq!(event.extra_field("Custom"), Some("7"));
        assert_eq!(event.extra_field("custom"), None);
    }
}
