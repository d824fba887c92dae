//! Reading callback XML into a small element tree.
//!
//! The reader is built for WeChat's bodies: it decodes UTF-8 lossily, drops
//! characters that XML 1.0 forbids (WeChat copies control characters typed by
//! users into CDATA), rejects DTDs, and caps nesting depth. It does not limit
//! the body size: the server enforces that before calling it.

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};

use super::error::ParseError;

/// Maximum element nesting, counting `<xml>` as level 1. WeChat's deepest
/// documents (`xml/CopyrightCheckResult/ResultList/item/ArticleIdx`) use 5.
pub const MAX_DEPTH: usize = 16;

/// One element of a callback document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Element {
    pub name: String,
    /// The text content. CDATA sections and entity references are kept
    /// exactly, and bare text is trimmed at both ends of the element.
    pub text: String,
    pub children: Vec<Element>,
    /// The source between the start and end tags, trimmed, for elements
    /// that are copied into `Inbound::extra` as they are.
    pub inner_xml: String,
    /// Byte offset of the start tag, to keep document order.
    pub offset: usize,
}

impl Element {
    /// Returns the first child with this name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|child| child.name == name)
    }

    /// Returns the text, or `None` when it is empty or whitespace only.
    pub fn value(&self) -> Option<&str> {
        if self.text.trim().is_empty() {
            None
        } else {
            Some(&self.text)
        }
    }

    /// Returns the text of a leaf element, or the inner XML of a nested one.
    pub fn raw_value(&self) -> &str {
        if self.children.is_empty() {
            &self.text
        } else {
            &self.inner_xml
        }
    }
}

/// The outer document of an encrypted callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// `ToUserName`, when present and not empty.
    pub to_user: Option<String>,
    /// The `Encrypt` text with ASCII whitespace trimmed, exactly as
    /// `msg_signature` covers it.
    pub encrypt: String,
    /// Whether the envelope also carries plaintext fields (`FromUserName` or
    /// `MsgType`), as in compatible mode.
    pub has_plaintext_fields: bool,
}

/// Reads `ToUserName` and `Encrypt` from the body of an encrypted callback.
///
/// # Errors
///
/// Any [`ParseError`] of the XML reader, or
/// [`ParseError::MissingElement`]`("Encrypt")` when `Encrypt` is absent or
/// empty.
pub fn read_envelope(body: &[u8]) -> Result<Envelope, ParseError> {
    let root = read_document(body)?;
    let encrypt = root
        .child("Encrypt")
        .map(|element| element.text.trim_ascii())
        .filter(|text| !text.is_empty())
        .ok_or(ParseError::MissingElement("Encrypt"))?;
    let has_plaintext_fields =
        root.child("FromUserName").is_some() || root.child("MsgType").is_some();
    Ok(Envelope {
        to_user: root
            .child("ToUserName")
            .and_then(Element::value)
            .map(str::to_owned),
        encrypt: encrypt.to_owned(),
        has_plaintext_fields,
    })
}

/// The four values of an encrypted reply envelope, as a client such as
/// `wxhost simulate` reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyEnvelope {
    /// `Encrypt`: the base64 ciphertext.
    pub encrypt: String,
    /// `MsgSignature` over the token, `TimeStamp`, `Nonce` and `Encrypt`.
    pub msg_signature: String,
    /// `TimeStamp`, in Unix seconds.
    pub timestamp: String,
    /// `Nonce`.
    pub nonce: String,
}

/// Reads an encrypted reply envelope. Returns `Ok(None)` for a document
/// without `Encrypt`, such as a plaintext reply.
///
/// # Errors
///
/// Any [`ParseError`] of the XML reader, or
/// [`ParseError::MissingElement`] when `Encrypt` is present but
/// `MsgSignature`, `TimeStamp` or `Nonce` is not.
pub fn read_reply_envelope(body: &[u8]) -> Result<Option<ReplyEnvelope>, ParseError> {
    let root = read_document(body)?;
    let Some(encrypt) = root.child("Encrypt").and_then(Element::value) else {
        return Ok(None);
    };
    let required = |name: &'static str| {
        root.child(name)
            .and_then(Element::value)
            .map(|value| value.trim_ascii().to_owned())
            .ok_or(ParseError::MissingElement(name))
    };
    Ok(Some(ReplyEnvelope {
        encrypt: encrypt.trim_ascii().to_owned(),
        msg_signature: required("MsgSignature")?,
        timestamp: required("TimeStamp")?,
        nonce: required("Nonce")?,
    }))
}

/// Returns whether XML 1.0 allows `c` in a document.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Returns `text` without the characters XML 1.0 forbids.
pub(crate) fn strip_forbidden_chars(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().all(is_xml_char) {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.chars().filter(|&c| is_xml_char(c)).collect())
    }
}

/// Parses `body` into the tree of its root element, which must be `<xml>`.
pub(crate) fn read_document(body: &[u8]) -> Result<Element, ParseError> {
    let decoded = String::from_utf8_lossy(body);
    let without_bom = decoded.strip_prefix('\u{FEFF}').unwrap_or(&decoded);
    let source = strip_forbidden_chars(without_bom);
    TreeBuilder::new(&source).build()
}

/// An element whose end tag has not been read yet.
struct OpenElement {
    name: String,
    offset: usize,
    inner_start: usize,
    segments: Vec<Segment>,
    children: Vec<Element>,
}

/// A piece of element text. Only bare text is trimmed.
enum Segment {
    Bare(String),
    Exact(String),
}

struct TreeBuilder<'a> {
    source: &'a str,
    reader: Reader<&'a [u8]>,
    stack: Vec<OpenElement>,
    root: Option<Element>,
}

impl<'a> TreeBuilder<'a> {
    fn new(source: &'a str) -> Self {
        Self {
            source,
            reader: Reader::from_str(source),
            stack: Vec::new(),
            root: None,
        }
    }

    fn build(mut self) -> Result<Element, ParseError> {
        loop {
            let before = position(self.reader.buffer_position());
            let event = self
                .reader
                .read_event()
                .map_err(|err| ParseError::Malformed {
                    position: self.reader.error_position(),
                    reason: err.to_string(),
                })?;
            match event {
                Event::Start(start) => {
                    self.open(&start, before)?;
                }
                Event::Empty(start) => {
                    self.open(&start, before)?;
                    self.close(position(self.reader.buffer_position()))?;
                }
                Event::End(_) => self.close(before)?,
                Event::Text(text) => {
                    let text = text.decode().map_err(|_| self.encoding_error())?;
                    self.push_text(Segment::Bare(text.into_owned()))?;
                }
                Event::CData(cdata) => {
                    let text = cdata.decode().map_err(|_| self.encoding_error())?;
                    self.push_text(Segment::Exact(text.into_owned()))?;
                }
                Event::GeneralRef(reference) => {
                    let text = resolve_reference(&reference, self.reader.buffer_position())?;
                    self.push_text(Segment::Exact(text))?;
                }
                Event::DocType(_) => return Err(ParseError::DoctypeNotAllowed),
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => break,
            }
        }
        if let Some(open) = self.stack.last() {
            return Err(ParseError::Malformed {
                position: self.reader.buffer_position(),
                reason: format!("unclosed element <{}>", open.name),
            });
        }
        self.root.ok_or(ParseError::NoRoot)
    }

    fn open(&mut self, start: &BytesStart<'_>, offset: usize) -> Result<(), ParseError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(ParseError::TooDeep { max: MAX_DEPTH });
        }
        let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
        if self.stack.is_empty() {
            if self.root.is_some() {
                return Err(ParseError::TrailingContent);
            }
            if name != "xml" {
                return Err(ParseError::WrongRoot);
            }
        }
        self.stack.push(OpenElement {
            name,
            offset,
            inner_start: position(self.reader.buffer_position()),
            segments: Vec::new(),
            children: Vec::new(),
        });
        Ok(())
    }

    /// Closes the innermost element, whose end tag starts at `inner_end`.
    fn close(&mut self, inner_end: usize) -> Result<(), ParseError> {
        let open = self.stack.pop().ok_or(ParseError::TrailingContent)?;
        let inner_xml = self
            .source
            .get(open.inner_start..inner_end)
            .unwrap_or_default()
            .trim()
            .to_owned();
        let element = Element {
            name: open.name,
            text: join_segments(open.segments),
            children: open.children,
            inner_xml,
            offset: open.offset,
        };
        match self.stack.last_mut() {
            Some(parent) => parent.children.push(element),
            None => self.root = Some(element),
        }
        Ok(())
    }

    fn push_text(&mut self, segment: Segment) -> Result<(), ParseError> {
        match self.stack.last_mut() {
            Some(open) => open.segments.push(segment),
            None => {
                // Only whitespace may surround the root element.
                if let Segment::Bare(text) = &segment
                    && text.trim().is_empty()
                {
                    return Ok(());
                }
                return Err(if self.root.is_some() {
                    ParseError::TrailingContent
                } else {
                    ParseError::NoRoot
                });
            }
        }
        Ok(())
    }

    fn encoding_error(&self) -> ParseError {
        ParseError::Malformed {
            position: self.reader.buffer_position(),
            reason: "invalid text encoding".to_owned(),
        }
    }
}

fn position(offset: u64) -> usize {
    usize::try_from(offset).unwrap_or(usize::MAX)
}

/// Resolves `&name;` to its text: the five XML entities and character
/// references. A character reference to a character XML forbids resolves to
/// nothing, as if the character had been stripped from the body.
fn resolve_reference(reference: &BytesRef<'_>, position: u64) -> Result<String, ParseError> {
    let malformed = || ParseError::Malformed {
        position,
        reason: "invalid character reference".to_owned(),
    };
    if reference.is_char_ref() {
        let c = reference
            .resolve_char_ref()
            .map_err(|_| malformed())?
            .ok_or_else(malformed)?;
        return Ok(if is_xml_char(c) {
            c.to_string()
        } else {
            String::new()
        });
    }
    let name = reference.decode().map_err(|_| ParseError::UnknownEntity)?;
    resolve_predefined_entity(&name)
        .map(str::to_owned)
        .ok_or(ParseError::UnknownEntity)
}

/// Joins the text pieces of one element, trimming bare text at both ends so
/// that indentation around a CDATA section disappears.
fn join_segments(mut segments: Vec<Segment>) -> String {
    while let Some(Segment::Bare(text)) = segments.first_mut() {
        let trimmed = text.trim_start();
        if trimmed.is_empty() {
            segments.remove(0);
        } else {
            *text = trimmed.to_owned();
            break;
        }
    }
    while let Some(Segment::Bare(text)) = segments.last_mut() {
        let trimmed = text.trim_end();
        if trimmed.is_empty() {
            segments.pop();
        } else {
            *text = trimmed.to_owned();
            break;
        }
    }
    segments
        .into_iter()
        .map(|segment| match segment {
            Segment::Bare(text) | Segment::Exact(text) => text,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(body: &str) -> Element {
        read_document(body.as_bytes()).unwrap()
    }

    fn text_of(body: &str, name: &str) -> String {
        root(body).child(name).unwrap().text.clone()
    }

    #[test]
    fn cdata_kept_exactly() {
        let body = "<xml><Content><![CDATA[  hi  ]]></Content></xml>";
        assert_eq!(text_of(body, "Content"), "  hi  ");
        let body = "<xml><Content><![CDATA[\u{1F600}&#128512;]]></Content></xml>";
        assert_eq!(text_of(body, "Content"), "\u{1F600}&#128512;");
    }

    #[test]
    fn bare_text_trimmed_and_unescaped() {
        assert_eq!(text_of("<xml><A> 17 </A></xml>", "A"), "17");
        assert_eq!(text_of("<xml><A>a &amp; b&#x21;</A></xml>", "A"), "a & b!");
        assert_eq!(
            text_of("<xml><A>\r\n  <![CDATA[x]]>\r\n</A></xml>", "A"),
            "x"
        );
    }

    #[test]
    fn split_cdata_joined() {
        let body = "<xml><A><![CDATA[a]]]]><![CDATA[>b]]></A></xml>";
        assert_eq!(text_of(body, "A"), "a]]>b");
    }

    #[test]
    fn forbidden_characters_removed() {
        let body = b"<xml><A><![CDATA[h\x01i\x0b\x0c\x1d\x7f\xef\xbf\xbe]]></A></xml>";
        let element = read_document(body).unwrap();
        assert_eq!(element.child("A").unwrap().text, "hi\u{7f}");
    }

    #[test]
    fn forbidden_character_reference_dropped() {
        assert_eq!(text_of("<xml><A>a&#1;b</A></xml>", "A"), "ab");
    }

    #[test]
    fn truncated_utf8_replaced() {
        let element = read_document(b"<xml><A><![CDATA[ok\xe6\xb8]]></A></xml>").unwrap();
        assert_eq!(element.child("A").unwrap().text, "ok\u{FFFD}");
    }

    #[test]
    fn bom_and_declaration_accepted() {
        let body =
            "\u{FEFF}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c --><xml><A>1</A></xml>\n";
        assert_eq!(text_of(body, "A"), "1");
    }

    #[test]
    fn doctype_rejected() {
        let body = "<!DOCTYPE xml [<!ENTITY x \"y\">]><xml><A>&x;</A></xml>";
        assert_eq!(
            read_document(body.as_bytes()),
            Err(ParseError::DoctypeNotAllowed)
        );
        let body = "<!doctype xml><xml/>";
        assert_eq!(
            read_document(body.as_bytes()),
            Err(ParseError::DoctypeNotAllowed)
        );
    }

    #[test]
    fn entity_declaration_rejected() {
        let body = "<xml><!ENTITY x \"y\"><A>1</A></xml>";
        assert!(read_document(body.as_bytes()).is_err());
        let body = "<!ENTITY x SYSTEM \"file:///etc/passwd\"><xml/>";
        assert!(read_document(body.as_bytes()).is_err());
    }

    #[test]
    fn unknown_entity_rejected() {
        let body = "<xml><A>&secret;</A></xml>";
        assert_eq!(
            read_document(body.as_bytes()),
            Err(ParseError::UnknownEntity)
        );
    }

    #[test]
    fn depth_capped() {
        let ok = format!("<xml>{}{}</xml>", "<a>".repeat(15), "</a>".repeat(15));
        assert!(read_document(ok.as_bytes()).is_ok());
        let deep = format!("<xml>{}{}</xml>", "<a>".repeat(16), "</a>".repeat(16));
        assert_eq!(
            read_document(deep.as_bytes()),
            Err(ParseError::TooDeep { max: 16 })
        );
        let bomb = "<a>".repeat(100_000);
        let bomb = format!("<xml>{bomb}");
        assert_eq!(
            read_document(bomb.as_bytes()),
            Err(ParseError::TooDeep { max: 16 })
        );
    }

    #[test]
    fn root_must_be_xml() {
        assert_eq!(read_document(b"<root/>"), Err(ParseError::WrongRoot));
        assert_eq!(read_document(b""), Err(ParseError::NoRoot));
        assert_eq!(read_document(b"  \n"), Err(ParseError::NoRoot));
        assert_eq!(read_document(b"text"), Err(ParseError::NoRoot));
        assert_eq!(
            read_document(b"<xml/><xml/>"),
            Err(ParseError::TrailingContent)
        );
        assert_eq!(
            read_document(b"<xml/>junk"),
            Err(ParseError::TrailingContent)
        );
    }

    #[test]
    fn malformed_reports_position() {
        let err = read_document(b"<xml><A>1</B></xml>").unwrap_err();
        assert!(matches!(err, ParseError::Malformed { .. }), "{err:?}");
        let err = read_document(b"<xml><A>1</A>").unwrap_err();
        assert!(matches!(err, ParseError::Malformed { .. }), "{err:?}");
    }

    #[test]
    fn nested_inner_xml_kept() {
        let body = "<xml><Info>\n  <Count>1</Count>\n  <List><item>a</item></List>\n</Info></xml>";
        let info = root(body).child("Info").unwrap().clone();
        assert_eq!(
            info.inner_xml,
            "<Count>1</Count>\n  <List><item>a</item></List>"
        );
        assert_eq!(info.raw_value(), info.inner_xml);
        assert_eq!(info.children.len(), 2);
    }

    #[test]
    fn empty_elements_have_no_value() {
        let element = root("<xml><A/><B></B><C><![CDATA[]]></C><D> </D></xml>");
        for name in ["A", "B", "C", "D"] {
            assert_eq!(element.child(name).unwrap().value(), None, "{name}");
        }
    }

    #[test]
    fn envelope_safe_mode_indented() {
        let body = "<xml>\n  <ToUserName><![CDATA[gh_fakeacct001]]></ToUserName>\n  <Encrypt>\n    <![CDATA[ abc+/= \n]]>\n  </Encrypt>\n</xml>";
        let envelope = read_envelope(body.as_bytes()).unwrap();
        assert_eq!(envelope.to_user.as_deref(), Some("gh_fakeacct001"));
        assert_eq!(envelope.encrypt, "abc+/=");
        assert!(!envelope.has_plaintext_fields);
    }

    #[test]
    fn envelope_compatible_mode_detected() {
        let body = include_str!("testdata/compatible_mode_t6.xml");
        let envelope = read_envelope(body.as_bytes()).unwrap();
        assert!(envelope.has_plaintext_fields);
        assert!(envelope.encrypt.starts_with("2gUBUpAeuPFK"));
        assert!(envelope.encrypt.ends_with("Q2l2k="));
    }

    #[test]
    fn envelope_without_encrypt_rejected() {
        let body = b"<xml><ToUserName>gh</ToUserName><Encrypt> </Encrypt></xml>";
        assert_eq!(
            read_envelope(body),
            Err(ParseError::MissingElement("Encrypt"))
        );
    }
}
