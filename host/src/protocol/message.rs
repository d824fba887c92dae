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
    /// The element name as WeChat spells it. A child of a typed container
    /// is named by its path, such as `SendPicsInfo/Count`.
    pub name: String,
    /// The element's text, or its inner XML when it has child elements.
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
    /// `MsgId` of a user message. `None` for events and for an empty or
    /// unparseable `MsgId`.
    pub msg_id: Option<u64>,
    /// `Event` exactly as sent; `None` for user messages.
    pub event: Option<String>,
    /// `EventKey` exactly as sent; `None` when absent or empty.
    pub event_key: Option<String>,
    /// The typed content.
    pub payload: Payload,
    /// Elements outside the typed model, in document order. The header
    /// elements (`ToUserName`, `FromUserName`, `CreateTime`, `MsgType`,
    /// `MsgId`, and `Event` and `EventKey` of events) are never here, even
    /// for an unknown type. A numeric element whose text does not parse is
    /// kept here with its raw text.
    pub extra: Vec<Field>,
}

/// The content of a callback: a user message or an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// A user message.
    Message(Message),
    /// An event.
    Event(Event),
}

/// A user message (`MsgType` other than `event`).
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// `text`.
    Text {
        /// `Content` exactly as sent, whitespace included, with characters
        /// that XML 1.0 forbids removed. Empty when absent.
        content: String,
        /// `bizmsgmenuid`: the item id when the follower tapped an item of a
        /// customer-service menu message.
        biz_msg_menu_id: Option<String>,
    },
    /// `image`.
    Image {
        /// `PicUrl`.
        pic_url: Option<String>,
        /// `MediaId`.
        media_id: Option<String>,
    },
    /// `voice`.
    Voice {
        /// `MediaId`.
        media_id: Option<String>,
        /// `Format`, for example `amr` or `speex`.
        format: Option<String>,
        /// `Recognition`: speech recognition text, when enabled.
        recognition: Option<String>,
    },
    /// `video`.
    Video {
        /// `MediaId`.
        media_id: Option<String>,
        /// `ThumbMediaId`.
        thumb_media_id: Option<String>,
    },
    /// `shortvideo`.
    ShortVideo {
        /// `MediaId`.
        media_id: Option<String>,
        /// `ThumbMediaId`.
        thumb_media_id: Option<String>,
    },
    /// `location`.
    Location {
        /// `Location_X`: latitude in degrees.
        location_x: Option<f64>,
        /// `Location_Y`: longitude in degrees.
        location_y: Option<f64>,
        /// `Scale`: map zoom level.
        scale: Option<f64>,
        /// `Label`: the address text.
        label: Option<String>,
    },
    /// `link`.
    Link {
        /// `Title`.
        title: Option<String>,
        /// `Description`.
        description: Option<String>,
        /// `Url`.
        url: Option<String>,
    },
    /// `file`.
    File {
        /// `Title`.
        title: Option<String>,
        /// `Description`.
        description: Option<String>,
        /// `FileKey`.
        file_key: Option<String>,
        /// `FileMd5`.
        file_md5: Option<String>,
        /// `FileTotalLen`, in bytes.
        file_total_len: Option<u64>,
    },
    /// A `MsgType` outside the model; its elements are in `Inbound::extra`.
    Unknown,
}

/// An event (`MsgType` = `event`). `Event` names match without regard to
/// ASCII case. A string the model requires is empty when the element is
/// absent.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `subscribe`: a follow, possibly through a parametric QR code.
    Subscribe {
        /// `EventKey` with one leading `qrscene_` removed, when it had that prefix.
        scene: Option<String>,
        /// `Ticket` of the QR code.
        ticket: Option<String>,
        /// `EventKey` as sent; `None` when absent or empty.
        event_key: Option<String>,
    },
    /// `unsubscribe`.
    Unsubscribe,
    /// `SCAN`: a follower scanned a parametric QR code.
    Scan {
        /// `EventKey`: the scene id or string, with no prefix.
        scene: String,
        /// `Ticket` of the QR code.
        ticket: Option<String>,
    },
    /// `LOCATION`: the follower's reported position.
    Location {
        /// `Latitude` in degrees.
        latitude: Option<f64>,
        /// `Longitude` in degrees.
        longitude: Option<f64>,
        /// `Precision` in meters.
        precision: Option<f64>,
    },
    /// `CLICK`: a menu button.
    Click {
        /// `EventKey`: the button's key.
        key: String,
    },
    /// `VIEW`: a menu link was opened.
    View {
        /// `EventKey`: the link.
        url: String,
        /// `MenuId`: the menu that held the button.
        menu_id: Option<u64>,
    },
    /// `scancode_push`.
    ScancodePush(ScanCode),
    /// `scancode_waitmsg`.
    ScancodeWaitmsg(ScanCode),
    /// `pic_sysphoto`.
    PicSysphoto(SendPics),
    /// `pic_photo_or_album`.
    PicPhotoOrAlbum(SendPics),
    /// `pic_weixin`.
    PicWeixin(SendPics),
    /// `location_select`.
    LocationSelect(LocationSelect),
    /// `view_miniprogram`: a menu button opened a mini-program page.
    ViewMiniprogram {
        /// `EventKey`: the page path.
        page_path: String,
        /// `MenuId`: the menu that held the button.
        menu_id: Option<u64>,
    },
    /// `TEMPLATESENDJOBFINISH`: the result of a template message.
    TemplateSendJobFinish {
        /// `MsgID` of the template message.
        msg_id: Option<u64>,
        /// `Status`, for example `success` or `failed:user block`.
        status: String,
    },
    /// `MASSSENDJOBFINISH`: the result of a mass send.
    MassSendJobFinish(MassSendJobFinish),
    /// `subscribe_msg_popup_event`: the `List` entries, one or many.
    SubscribeMsgPopup(Vec<SubscribeMsgItem>),
    /// `subscribe_msg_change_event`, wrapped in `SubscribeMsgChangeEvent`
    /// or `SubscribeMsgPopupEvent`.
    SubscribeMsgChange(Vec<SubscribeMsgItem>),
    /// `subscribe_msg_sent_event`.
    SubscribeMsgSent(Vec<SubscribeMsgSentItem>),
    /// `kf_create_session`.
    KfCreateSession {
        /// `KfAccount`.
        kf_account: String,
    },
    /// `kf_close_session`.
    KfCloseSession {
        /// `KfAccount`.
        kf_account: String,
    },
    /// `kf_switch_session`.
    KfSwitchSession {
        /// `FromKfAccount`.
        from_kf_account: String,
        /// `ToKfAccount`.
        to_kf_account: String,
    },
    /// Account verification events (`qualification_verify_success`,
    /// `naming_verify_fail`, `annual_renew`, `verify_expired`, ...).
    Verification {
        /// The `Event` name as sent.
        name: String,
        /// `ExpiredTime` or `FailTime`, in Unix seconds.
        time: Option<u64>,
        /// `FailReason`.
        fail_reason: Option<String>,
    },
    /// An `Event` outside the model; its elements are in `Inbound::extra`.
    Unknown {
        /// The `Event` name as sent, or empty when `Event` is absent.
        name: String,
        /// `EventKey`, when present and not empty.
        event_key: Option<String>,
    },
}

/// `ScanCodeInfo` of a `scancode_push` or `scancode_waitmsg` event.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanCode {
    /// `EventKey`: the menu button key.
    pub key: String,
    /// `ScanCodeInfo/ScanType`, for example `qrcode` or `barcode`.
    pub scan_type: Option<String>,
    /// `ScanCodeInfo/ScanResult`, exactly as scanned.
    pub scan_result: Option<String>,
}

/// `SendPicsInfo` of a `pic_*` event.
#[derive(Debug, Clone, PartialEq)]
pub struct SendPics {
    /// `EventKey`: the menu button key.
    pub key: String,
    /// `SendPicsInfo/Count`, or the number of `PicMd5Sum` entries when absent.
    pub count: u32,
    /// `PicList/item/PicMd5Sum` of each picture, empty for an empty `PicList`.
    pub pic_md5_sums: Vec<String>,
}

/// `SendLocationInfo` of a `location_select` event.
#[derive(Debug, Clone, PartialEq)]
pub struct LocationSelect {
    /// `EventKey`: the menu button key.
    pub key: String,
    /// `Location_X`: latitude in degrees.
    pub location_x: Option<f64>,
    /// `Location_Y`: longitude in degrees.
    pub location_y: Option<f64>,
    /// `Scale`: map zoom level.
    pub scale: Option<f64>,
    /// `Label`: the address text.
    pub label: Option<String>,
    /// `Poiname`: the point of interest.
    pub poiname: Option<String>,
}

/// The counters of a `MASSSENDJOBFINISH` event. `CopyrightCheckResult` and
/// `ArticleUrlResult` stay in `Inbound::extra` as XML text.
#[derive(Debug, Clone, PartialEq)]
pub struct MassSendJobFinish {
    /// `MsgID` of the mass send.
    pub msg_id: Option<u64>,
    /// `Status`: `send success`, `send fail` or `err(<code>)`.
    pub status: String,
    /// `TotalCount`: followers targeted.
    pub total_count: Option<u64>,
    /// `FilterCount`: recipients after filtering.
    pub filter_count: Option<u64>,
    /// `SentCount`: messages delivered.
    pub sent_count: Option<u64>,
    /// `ErrorCount`: messages that failed.
    pub error_count: Option<u64>,
}

/// One `List` entry of `subscribe_msg_popup_event` or `subscribe_msg_change_event`.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscribeMsgItem {
    /// `TemplateId`.
    pub template_id: String,
    /// `SubscribeStatusString`: `accept` or `reject`.
    pub status: String,
    /// `PopupScene`: 1 for an H5 page, 2 for an article.
    pub popup_scene: Option<u32>,
}

/// One `List` entry of `subscribe_msg_sent_event`.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscribeMsgSentItem {
    /// `TemplateId`.
    pub template_id: String,
    /// `MsgID` of the sent message.
    pub msg_id: Option<u64>,
    /// `ErrorCode`: 0 on success.
    pub error_code: Option<i64>,
    /// `ErrorStatus`, for example `success`.
    pub error_status: Option<String>,
}
