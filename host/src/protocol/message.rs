//! The typed model of an inbound callback.
//!
//! Field names follow WeChat's XML element names in snake case
//! (`FromUserName` is `from_user`). Optional elements that are absent, empty
//! or whitespace-only are `None`. Elements that the model of a type does not
//! cover are kept in [`Inbound::extra`], so nothing WeChat sends is lost.

/// One XML element that the typed model does not cover: its name and text.
/// A nested element keeps its children as XML text.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub value: String,
}

/// A parsed callback: the common header plus the typed payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    /// `ToUserName`: the account's original id (`gh_...`).
    pub to_user: String,
    /// `FromUserName`: the follower's openid.
    pub from_user: String,
    /// `CreateTime`, in Unix seconds.
    pub create_time: u64,
    /// `MsgType` exactly as sent.
    pub msg_type: String,
    /// `MsgId` of a user message; `None` for events and for an empty `MsgId`.
    pub msg_id: Option<u64>,
    /// `Event` exactly as sent; `None` for user messages.
    pub event: Option<String>,
    /// `EventKey` exactly as sent; `None` when absent or empty.
    pub event_key: Option<String>,
    pub payload: Payload,
    /// Elements outside the typed model, in document order. A numeric
    /// element whose text does not parse is kept here with its raw text.
    pub extra: Vec<Field>,
}

/// What a callback carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Message(Message),
    Event(Event),
}

/// A user message (`MsgType` other than `event`).
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Text {
        content: String,
        biz_msg_menu_id: Option<String>,
    },
    Image {
        pic_url: Option<String>,
        media_id: Option<String>,
    },
    Voice {
        media_id: Option<String>,
        format: Option<String>,
        recognition: Option<String>,
    },
    Video {
        media_id: Option<String>,
        thumb_media_id: Option<String>,
    },
    ShortVideo {
        media_id: Option<String>,
        thumb_media_id: Option<String>,
    },
    Location {
        location_x: Option<f64>,
        location_y: Option<f64>,
        scale: Option<f64>,
        label: Option<String>,
    },
    Link {
        title: Option<String>,
        description: Option<String>,
        url: Option<String>,
    },
    File {
        title: Option<String>,
        description: Option<String>,
        file_key: Option<String>,
        file_md5: Option<String>,
        file_total_len: Option<u64>,
    },
    /// A `MsgType` outside the model; its elements are in `Inbound::extra`.
    Unknown,
}

/// An event (`MsgType` = `event`). `Event` names match without regard to
/// ASCII case.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Subscribe {
        /// `EventKey` with one leading `qrscene_` removed, when it had that prefix.
        scene: Option<String>,
        ticket: Option<String>,
        /// `EventKey` as sent; `None` when absent or empty.
        event_key: Option<String>,
    },
    Unsubscribe,
    Scan {
        scene: String,
        ticket: Option<String>,
    },
    Location {
        latitude: Option<f64>,
        longitude: Option<f64>,
        precision: Option<f64>,
    },
    Click {
        key: String,
    },
    View {
        url: String,
        menu_id: Option<u64>,
    },
    ScancodePush(ScanCode),
    ScancodeWaitmsg(ScanCode),
    PicSysphoto(SendPics),
    PicPhotoOrAlbum(SendPics),
    PicWeixin(SendPics),
    LocationSelect(LocationSelect),
    ViewMiniprogram {
        page_path: String,
        menu_id: Option<u64>,
    },
    TemplateSendJobFinish {
        msg_id: Option<u64>,
        status: String,
    },
    MassSendJobFinish(MassSendJobFinish),
    SubscribeMsgPopup(Vec<SubscribeMsgItem>),
    SubscribeMsgChange(Vec<SubscribeMsgItem>),
    SubscribeMsgSent(Vec<SubscribeMsgSentItem>),
    KfCreateSession {
        kf_account: String,
    },
    KfCloseSession {
        kf_account: String,
    },
    KfSwitchSession {
        from_kf_account: String,
        to_kf_account: String,
    },
    /// Account verification events (`qualification_verify_success`,
    /// `naming_verify_fail`, `annual_renew`, `verify_expired`, ...).
    Verification {
        name: String,
        /// `ExpiredTime` or `FailTime`, in Unix seconds.
        time: Option<u64>,
        fail_reason: Option<String>,
    },
    /// An `Event` outside the model; its elements are in `Inbound::extra`.
    Unknown {
        name: String,
        event_key: Option<String>,
    },
}

/// `ScanCodeInfo` of a `scancode_push` or `scancode_waitmsg` event.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanCode {
    pub key: String,
    pub scan_type: Option<String>,
    pub scan_result: Option<String>,
}

/// `SendPicsInfo` of a `pic_*` event.
#[derive(Debug, Clone, PartialEq)]
pub struct SendPics {
    pub key: String,
    pub count: u32,
    pub pic_md5_sums: Vec<String>,
}

/// `SendLocationInfo` of a `location_select` event.
#[derive(Debug, Clone, PartialEq)]
pub struct LocationSelect {
    pub key: String,
    pub location_x: Option<f64>,
    pub location_y: Option<f64>,
    pub scale: Option<f64>,
    pub label: Option<String>,
    pub poiname: Option<String>,
}

/// The counters of a `MASSSENDJOBFINISH` event. `CopyrightCheckResult` and
/// `ArticleUrlResult` stay in `Inbound::extra` as XML text.
#[derive(Debug, Clone, PartialEq)]
pub struct MassSendJobFinish {
    pub msg_id: Option<u64>,
    pub status: String,
    pub total_count: Option<u64>,
    pub filter_count: Option<u64>,
    pub sent_count: Option<u64>,
    pub error_count: Option<u64>,
}

/// One `List` entry of `subscribe_msg_popup_event` or `subscribe_msg_change_event`.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscribeMsgItem {
    pub template_id: String,
    /// `SubscribeStatusString`: `accept` or `reject`.
    pub status: String,
    pub popup_scene: Option<u32>,
}

/// One `List` entry of `subscribe_msg_sent_event`.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscribeMsgSentItem {
    pub template_id: String,
    pub msg_id: Option<u64>,
    pub error_code: Option<i64>,
    pub error_status: Option<String>,
}
