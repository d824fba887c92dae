//! Mapping a callback document onto the typed model of [`Inbound`].

use super::error::ParseError;
use super::events::parse_event;
use super::message::{Field, Inbound, Message, Payload};
use super::xml::{Element, read_document};

/// Parses a plaintext callback body (or a decrypted message) into an
/// [`Inbound`].
///
/// The body is decoded as UTF-8 lossily and characters that XML 1.0 forbids
/// are removed first, so control characters in user text never fail a
/// message. Values may be bare or in CDATA. Elements that are absent, empty
/// or whitespace only give `None`; a number that does not parse gives `None`
/// and stays in [`Inbound::extra`] with its raw text. `MsgType` and `Event`
/// match without regard to ASCII case.
///
/// # Errors
///
/// [`ParseError`] when the XML is malformed, declares a DTD, nests deeper
/// than [`MAX_DEPTH`](super::xml::MAX_DEPTH) or has a root other than
/// `<xml>`; [`ParseError::MissingElement`] when `ToUserName`,
/// `FromUserName`, `MsgType` or `CreateTime` is absent or empty; and
/// [`ParseError::InvalidNumber`]`("CreateTime")` when `CreateTime` is not a
/// number.
pub fn parse_inbound(body: &[u8]) -> Result<Inbound, ParseError> {
    let root = read_document(body)?;
    inbound_from_root(&root)
}

fn inbound_from_root(root: &Element) -> Result<Inbound, ParseError> {
    let mut extra = Vec::new();
    let mut fields = Fields::new(root, "");

    // Header elements that every callback carries.
    let to_user = fields
        .text("ToUserName")
        .ok_or(ParseError::MissingElement("ToUserName"))?;
    let from_user = fields
        .text("FromUserName")
        .ok_or(ParseError::MissingElement("FromUserName"))?;
    let create_time = parse_create_time(&mut fields)?;
    let msg_type = fields
        .text("MsgType")
        .ok_or(ParseError::MissingElement("MsgType"))?;
    let msg_id = fields.number("MsgId", parse_u64);

    let (event, event_key, payload) = if msg_type.eq_ignore_ascii_case("event") {
        let event = fields.text("Event");
        let event_key = fields.text("EventKey");
        let kind = parse_event(
            event.as_deref().unwrap_or_default(),
            event_key.as_deref(),
            &mut fields,
            &mut extra,
        );
        (event, event_key, Payload::Event(kind))
    } else {
        let message = parse_message(&msg_type, &mut fields);
        (None, None, Payload::Message(message))
    };

    fields.finish(&mut extra);
    extra.sort_by_key(|(offset, _)| *offset);
    Ok(Inbound {
        to_user,
        from_user,
        create_time,
        msg_type,
        msg_id,
        event,
        event_key,
        payload,
        extra: extra.into_iter().map(|(_, field)| field).collect(),
    })
}

fn parse_create_time(fields: &mut Fields<'_>) -> Result<u64, ParseError> {
    let element = fields
        .take("CreateTime")
        .ok_or(ParseError::MissingElement("CreateTime"))?;
    let text = element.text.trim();
    if text.is_empty() {
        return Err(ParseError::MissingElement("CreateTime"));
    }
    parse_u64(text).ok_or(ParseError::InvalidNumber("CreateTime"))
}

fn parse_message(msg_type: &str, fields: &mut Fields<'_>) -> Message {
    match msg_type.to_ascii_lowercase().as_str() {
        "text" => Message::Text {
            content: fields.exact("Content").unwrap_or_default(),
            biz_msg_menu_id: fields.text("bizmsgmenuid"),
        },
        "image" => Message::Image {
            pic_url: fields.text("PicUrl"),
            media_id: fields.text("MediaId"),
        },
        "voice" => Message::Voice {
            media_id: fields.text("MediaId"),
            format: fields.text("Format"),
            recognition: fields.text("Recognition"),
        },
        "video" => Message::Video {
            media_id: fields.text("MediaId"),
            thumb_media_id: fields.text("ThumbMediaId"),
        },
        "shortvideo" => Message::ShortVideo {
            media_id: fields.text("MediaId"),
            thumb_media_id: fields.text("ThumbMediaId"),
        },
        "location" => Message::Location {
            location_x: fields.number("Location_X", parse_f64),
            location_y: fields.number("Location_Y", parse_f64),
            scale: fields.number("Scale", parse_f64),
            label: fields.text("Label"),
        },
        "link" => Message::Link {
            title: fields.text("Title"),
            description: fields.text("Description"),
            url: fields.text("Url"),
        },
        "file" => Message::File {
            title: fields.text("Title"),
            description: fields.text("Description"),
            file_key: fields.text("FileKey"),
            file_md5: fields.text("FileMd5"),
            file_total_len: fields.number("FileTotalLen", parse_u64),
        },
        _ => Message::Unknown,
    }
}

/// An unknown element or an unparsed number, with its byte offset.
pub(crate) type ExtraField = (usize, Field);

/// Reads the children of one element, tracking which ones the typed model
/// used. The rest end up in `Inbound::extra`.
pub(crate) struct Fields<'a> {
    element: &'a Element,
    /// Prefix for the names of leftover children: empty at the root,
    /// `SendPicsInfo/` inside a container.
    path: String,
    used: Vec<bool>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(element: &'a Element, path: &str) -> Self {
        Self {
            element,
            path: path.to_owned(),
            used: vec![false; element.children.len()],
        }
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.element
            .children
            .iter()
            .enumerate()
            .position(|(index, child)| !self.used[index] && child.name == name)
    }

    /// Takes the first unused child with this name.
    pub(crate) fn take(&mut self, name: &str) -> Option<&'a Element> {
        let index = self.position(name)?;
        self.used[index] = true;
        Some(&self.element.children[index])
    }

    /// Takes a container child and returns a reader over its children.
    pub(crate) fn nested(&mut self, name: &str) -> Option<Fields<'a>> {
        let path = format!("{}{name}/", self.path);
        self.take(name).map(|element| Fields::new(element, &path))
    }

    /// Returns the text of a child, or `None` when it is absent, empty or
    /// whitespace only.
    pub(crate) fn text(&mut self, name: &str) -> Option<String> {
        self.take(name).and_then(Element::value).map(str::to_owned)
    }

    /// Returns the text of a child exactly as sent, even when whitespace only.
    pub(crate) fn exact(&mut self, name: &str) -> Option<String> {
        self.take(name).map(|element| element.text.clone())
    }

    /// Parses a numeric child. An empty one gives `None`. One that does not
    /// parse also gives `None` but stays unused, so it lands in `extra`.
    pub(crate) fn number<T>(&mut self, name: &str, parse: fn(&str) -> Option<T>) -> Option<T> {
        let index = self.position(name)?;
        let text = self.element.children[index].text.trim();
        if text.is_empty() {
            self.used[index] = true;
            return None;
        }
        let value = parse(text)?;
        self.used[index] = true;
        Some(value)
    }

    /// Moves the unused children into `extra`: a leaf with its text, a
    /// container with its inner XML.
    pub(crate) fn finish(self, extra: &mut Vec<ExtraField>) {
        for (child, used) in self.element.children.iter().zip(self.used) {
            if !used {
                let field = Field {
                    name: format!("{}{}", self.path, child.name),
                    value: child.raw_value().to_owned(),
                };
                extra.push((child.offset, field));
            }
        }
    }
}

pub(crate) fn parse_u64(text: &str) -> Option<u64> {
    text.parse().ok()
}

pub(crate) fn parse_u32(text: &str) -> Option<u32> {
    text.parse().ok()
}

pub(crate) fn parse_i64(text: &str) -> Option<i64> {
    text.parse().ok()
}

/// Parses a finite decimal number; `inf` and `NaN` do not count.
pub(crate) fn parse_f64(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|value| value.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "<ToUserName><![CDATA[gh_fakeacct001]]></ToUserName><FromUserName><![CDATA[oFAKE_user_0001]]></FromUserName><CreateTime>1700000000</CreateTime>";

    fn parse(body: &str) -> Inbound {
        parse_inbound(body.as_bytes()).unwrap()
    }

    fn text_body(content: &str) -> String {
        format!(
            "<xml>{HEADER}<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content><MsgId>24000000000000001</MsgId></xml>"
        )
    }

    fn field(name: &str, value: &str) -> Field {
        Field {
            name: name.to_owned(),
            value: value.to_owned(),
        }
    }

    #[test]
    fn official_text_sample() {
        let inbound = parse(include_str!("testdata/text.xml"));
        assert_eq!(inbound.to_user, "toUser");
        assert_eq!(inbound.from_user, "fromUser");
        assert_eq!(inbound.create_time, 1348831860);
        assert_eq!(inbound.msg_type, "text");
        assert_eq!(inbound.msg_id, Some(1234567890123456));
        assert_eq!(inbound.event, None);
        assert_eq!(
            inbound.payload,
            Payload::Message(Message::Text {
                content: "this is a test".to_owned(),
                biz_msg_menu_id: None,
            })
        );
        assert_eq!(
            inbound.extra,
            [field("MsgDataId", "xxxx"), field("Idx", "xxxx")]
        );
    }

    #[test]
    fn official_image_sample() {
        let inbound = parse(include_str!("testdata/image.xml"));
        assert_eq!(
            inbound.payload,
            Payload::Message(Message::Image {
                pic_url: Some("this is a url".to_owned()),
                media_id: Some("media_id".to_owned()),
            })
        );
        assert_eq!(inbound.extra.len(), 2);
    }

    #[test]
    fn official_voice_sample() {
        let inbound = parse(include_str!("testdata/voice.xml"));
        assert_eq!(inbound.create_time, 1357290913);
        assert_eq!(
            inbound.payload,
            Payload::Message(Message::Voice {
                media_id: Some("media_id".to_owned()),
                format: Some("Format".to_owned()),
                recognition: Some("腾讯微信团队".to_owned()),
            })
        );
        assert_eq!(inbound.extra, []);
    }

    #[test]
    fn official_video_samples() {
        let expected_fields = (
            Some("media_id".to_owned()),
            Some("thumb_media_id".to_owned()),
        );
        let video = parse(include_str!("testdata/video.xml"));
        let Payload::Message(Message::Video {
            media_id,
            thumb_media_id,
        }) = video.payload
        else {
            panic!("not a video: {:?}", video.payload);
        };
        assert_eq!((media_id, thumb_media_id), expected_fields);

        let short = parse(include_str!("testdata/shortvideo.xml"));
        let Payload::Message(Message::ShortVideo {
            media_id,
            thumb_media_id,
        }) = short.payload
        else {
            panic!("not a short video: {:?}", short.payload);
        };
        assert_eq!((media_id, thumb_media_id), expected_fields);
        assert_eq!(short.msg_type, "shortvideo");
    }

    #[test]
    fn official_location_sample() {
        let inbound = parse(include_str!("testdata/location.xml"));
        assert_eq!(
            inbound.payload,
            Payload::Message(Message::Location {
                location_x: Some(23.134521),
                location_y: Some(113.358803),
                scale: Some(20.0),
                label: Some("位置信息".to_owned()),
            })
        );
    }

    #[test]
    fn official_link_sample() {
        let inbound = parse(include_str!("testdata/link.xml"));
        assert_eq!(
            inbound.payload,
            Payload::Message(Message::Link {
                title: Some("公众平台官网链接".to_owned()),
                description: Some("公众平台官网链接".to_owned()),
                url: Some("url".to_owned()),
            })
        );
    }

    #[test]
    fn file_message() {
        let body = format!(
            "<xml>{HEADER}<MsgType>file</MsgType><Title>a.pdf</Title><FileKey>k</FileKey><FileMd5>m</FileMd5><FileTotalLen>1024</FileTotalLen><MsgId>1</MsgId></xml>"
        );
        assert_eq!(
            parse(&body).payload,
            Payload::Message(Message::File {
                title: Some("a.pdf".to_owned()),
                description: None,
                file_key: Some("k".to_owned()),
                file_md5: Some("m".to_owned()),
                file_total_len: Some(1024),
            })
        );
    }

    #[test]
    fn large_msg_id_is_exact() {
        let inbound = parse(include_str!("testdata/compatible_mode_t6.xml"));
        assert_eq!(inbound.msg_id, Some(6074746557628292943));
        assert_eq!(inbound.extra[0].name, "Encrypt");
    }

    #[test]
    fn control_characters_removed() {
        for control in ['\u{1d}', '\u{02}', '\u{10}'] {
            let inbound = parse(&text_body(&format!("hi{control}there")));
            let Payload::Message(Message::Text { content, .. }) = inbound.payload else {
                panic!("not text");
            };
            assert_eq!(content, "hithere", "control {:#x}", control as u32);
        }
    }

    #[test]
    fn empty_msg_id_is_none() {
        let body = format!(
            "<xml>{HEADER}<MsgType>text</MsgType><Content>x</Content><MsgId><![CDATA[]]></MsgId></xml>"
        );
        let inbound = parse(&body);
        assert_eq!(inbound.msg_id, None);
        assert_eq!(inbound.extra, []);
    }

    #[test]
    fn unparseable_msg_id_kept_in_extra() {
        let body = format!(
            "<xml>{HEADER}<MsgType>text</MsgType><Content>x</Content><MsgId>12ab</MsgId></xml>"
        );
        let inbound = parse(&body);
        assert_eq!(inbound.msg_id, None);
        assert_eq!(inbound.extra, [field("MsgId", "12ab")]);
    }

    #[test]
    fn pretty_printed_crlf_message() {
        let body = "<xml>\r\n  <ToUserName><![CDATA[gh_fakeacct001]]></ToUserName>\r\n  <FromUserName><![CDATA[oFAKE_user_0001]]></FromUserName>\r\n  <CreateTime> 1700000000 </CreateTime>\r\n  <MsgType><![CDATA[text]]></MsgType>\r\n  <Content><![CDATA[  hi  ]]></Content>\r\n  <MsgId>24000000000000001</MsgId>\r\n</xml>\r\n";
        let inbound = parse(body);
        assert_eq!(inbound.msg_type, "text");
        assert_eq!(inbound.create_time, 1700000000);
        assert_eq!(
            inbound.payload,
            Payload::Message(Message::Text {
                content: "  hi  ".to_owned(),
                biz_msg_menu_id: None,
            })
        );
        assert_eq!(inbound.extra, []);
    }

    #[test]
    fn emoji_and_literal_entity_kept() {
        let inbound = parse(&text_body("\u{1F600}&#128512;"));
        let Payload::Message(Message::Text { content, .. }) = inbound.payload else {
            panic!("not text");
        };
        assert_eq!(content, "\u{1F600}&#128512;");
    }

    #[test]
    fn truncated_multibyte_text_accepted() {
        let mut body = text_body("ab").into_bytes();
        let at = body.windows(2).position(|w| w == b"ab").unwrap() + 2;
        body.splice(at..at, [0xe6, 0xb8]);
        let inbound = parse_inbound(&body).unwrap();
        let Payload::Message(Message::Text { content, .. }) = inbound.payload else {
            panic!("not text");
        };
        assert_eq!(content, "ab\u{FFFD}");
    }

    #[test]
    fn menu_message_text() {
        let body = format!(
            "<xml>{HEADER}<MsgType>text</MsgType><Content>yes</Content><bizmsgmenuid>101</bizmsgmenuid></xml>"
        );
        assert_eq!(
            parse(&body).payload,
            Payload::Message(Message::Text {
                content: "yes".to_owned(),
                biz_msg_menu_id: Some("101".to_owned()),
            })
        );
    }

    #[test]
    fn unknown_message_type_keeps_fields() {
        let body = format!(
            "<xml>{HEADER}<MsgType><![CDATA[device_text]]></MsgType><DeviceType><![CDATA[gh_fakeacct001]]></DeviceType><DeviceID><![CDATA[dev01]]></DeviceID><Content><![CDATA[aGk=]]></Content><SessionID>1</SessionID><OpenID><![CDATA[oFAKE_user_0001]]></OpenID></xml>"
        );
        let inbound = parse(&body);
        assert_eq!(inbound.msg_type, "device_text");
        assert_eq!(inbound.payload, Payload::Message(Message::Unknown));
        assert_eq!(
            inbound.extra,
            [
                field("DeviceType", "gh_fakeacct001"),
                field("DeviceID", "dev01"),
                field("Content", "aGk="),
                field("SessionID", "1"),
                field("OpenID", "oFAKE_user_0001"),
            ]
        );
    }

    #[test]
    fn msg_type_case_ignored() {
        let body = format!("<xml>{HEADER}<MsgType>TEXT</MsgType><Content>x</Content></xml>");
        let inbound = parse(&body);
        assert_eq!(inbound.msg_type, "TEXT");
        assert!(matches!(
            inbound.payload,
            Payload::Message(Message::Text { .. })
        ));
    }

    #[test]
    fn missing_header_elements_named() {
        let cases = [
            (
                "ToUserName",
                "<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>",
            ),
            (
                "FromUserName",
                "<xml><ToUserName>gh</ToUserName><FromUserName> </FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>",
            ),
            (
                "CreateTime",
                "<xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName><MsgType>text</MsgType></xml>",
            ),
            (
                "MsgType",
                "<xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime></xml>",
            ),
        ];
        for (name, body) in cases {
            assert_eq!(
                parse_inbound(body.as_bytes()),
                Err(ParseError::MissingElement(name)),
                "{name}"
            );
        }
    }

    #[test]
    fn non_numeric_create_time_rejected() {
        let body = "<xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName><CreateTime>1700000000000x</CreateTime><MsgType>text</MsgType></xml>";
        assert_eq!(
            parse_inbound(body.as_bytes()),
            Err(ParseError::InvalidNumber("CreateTime"))
        );
        let err = parse_inbound(body.as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), "<CreateTime> is not a valid number");
    }

    #[test]
    fn doctype_and_entity_rejected() {
        let doctype = format!("<!DOCTYPE xml><xml>{HEADER}<MsgType>text</MsgType></xml>");
        assert_eq!(
            parse_inbound(doctype.as_bytes()),
            Err(ParseError::DoctypeNotAllowed)
        );
        let entity = format!("<!ENTITY a \"b\"><xml>{HEADER}<MsgType>text</MsgType></xml>");
        assert!(parse_inbound(entity.as_bytes()).is_err());
    }

    #[test]
    fn f64_rejects_non_finite() {
        assert_eq!(parse_f64("23.1"), Some(23.1));
        assert_eq!(parse_f64("inf"), None);
        assert_eq!(parse_f64("NaN"), None);
    }
}
