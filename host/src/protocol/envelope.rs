//! Account-level callback handling: the URL check, opening a signed and
//! possibly encrypted callback, and sealing an encrypted reply.

use std::fmt;

use super::crypto::MessageCrypto;
use super::error::{CallbackError, CryptoError};
use super::inbound::parse_inbound;
use super::message::Inbound;
use super::query::CallbackQuery;
use super::render::cdata_element;
use super::signature::{compute_msg_signature, verify_msg_signature, verify_signature};
use super::xml::read_envelope;

/// The encryption mode of one callback request. WeChat chooses it per
/// request, so the host detects it from each request rather than from
/// configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A plain XML body, authenticated only by `signature`.
    Plaintext,
    /// Plaintext fields plus `Encrypt`. Only the decrypted message is used.
    Compatible,
    /// Only `ToUserName` and `Encrypt`.
    Safe,
}

impl Mode {
    /// Returns whether the request was encrypted. Replies to encrypted
    /// requests are sealed with [`seal_reply`], except the no-reply body
    /// `success`, which is always sent as is.
    pub fn is_encrypted(self) -> bool {
        self != Mode::Plaintext
    }
}

/// The secrets of one account. `Debug` does not show the token or key.
#[derive(Clone)]
pub struct AccountKeys {
    /// The `Token` configured in WeChat's console.
    pub token: String,
    /// The account's message crypto, when an `EncodingAESKey` is configured.
    pub crypto: Option<MessageCrypto>,
    /// Reject plaintext callbacks, as an account in safe mode should.
    pub require_encryption: bool,
}

impl fmt::Debug for AccountKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountKeys")
            .field("token", &"<redacted>")
            .field("crypto", &self.crypto)
            .field("require_encryption", &self.require_encryption)
            .finish()
    }
}

/// A verified, decrypted and parsed callback.
#[derive(Debug, Clone, PartialEq)]
pub struct Opened {
    /// The parsed callback.
    pub inbound: Inbound,
    /// The encryption mode of the request.
    pub mode: Mode,
    /// The callback XML as parsed: the body, or the decrypted message.
    pub xml: Vec<u8>,
}

/// Checks the GET URL verification and returns `echostr`, which the server
/// sends verbatim as the whole response body.
///
/// # Errors
///
/// [`CallbackError::MissingParameter`] for an absent `signature`,
/// `timestamp`, `nonce` or `echostr`, and [`CallbackError::BadSignature`].
pub fn verify_url(query: &CallbackQuery, token: &str) -> Result<String, CallbackError> {
    check_signature(query, token)?;
    let echostr = required(&query.echostr, "echostr")?;
    Ok(echostr.to_owned())
}

/// Authenticates a POST callback and returns the parsed message.
///
/// `signature` is checked on every request. An encrypted request (see
/// [`CallbackQuery::is_encrypted`]) must also carry a `msg_signature` that
/// matches the `Encrypt` text. The decrypted message is parsed, and in
/// compatible mode the plaintext fields of the body are never used. The
/// body-size limit is the caller's to enforce before this call.
///
/// # Errors
///
/// - [`CallbackError::MissingParameter`]: `signature`, `timestamp`, `nonce`
///   or, when encrypted, `msg_signature` is absent.
/// - [`CallbackError::BadSignature`] or [`CallbackError::BadMsgSignature`];
///   a wrong `msg_signature` never falls back to the plaintext fields.
/// - [`CallbackError::EncryptionNotConfigured`]: encrypted, but
///   `keys.crypto` is `None`.
/// - [`CallbackError::AppIdMismatch`] and [`CallbackError::Decrypt`].
/// - [`CallbackError::Xml`]: the body or the decrypted message does not parse.
/// - [`CallbackError::PlaintextRejected`]: plaintext while
///   `keys.require_encryption` is set.
pub fn open_callback(
    query: &CallbackQuery,
    body: &[u8],
    keys: &AccountKeys,
) -> Result<Opened, CallbackError> {
    let (timestamp, nonce) = check_signature(query, &keys.token)?;

    if !query.is_encrypted() {
        if keys.require_encryption {
            return Err(CallbackError::PlaintextRejected);
        }
        let inbound = parse_inbound(body)?;
        return Ok(Opened {
            inbound,
            mode: Mode::Plaintext,
            xml: body.to_vec(),
        });
    }

    let msg_signature = required(&query.msg_signature, "msg_signature")?;
    let crypto = keys
        .crypto
        .as_ref()
        .ok_or(CallbackError::EncryptionNotConfigured)?;
    let envelope = read_envelope(body)?;
    if !verify_msg_signature(
        &keys.token,
        timestamp,
        nonce,
        &envelope.encrypt,
        msg_signature,
    ) {
        return Err(CallbackError::BadMsgSignature);
    }

    let message = crypto.decrypt(&envelope.encrypt)?;
    let inbound = parse_inbound(&message)?;
    let mode = if envelope.has_plaintext_fields {
        Mode::Compatible
    } else {
        Mode::Safe
    };
    Ok(Opened {
        inbound,
        mode,
        xml: message,
    })
}

/// Encrypts a rendered reply and wraps it in WeChat's reply envelope:
/// `<xml><Encrypt>..</Encrypt><MsgSignature>..</MsgSignature><TimeStamp>..</TimeStamp><Nonce>..</Nonce></xml>`.
///
/// `timestamp` is the current Unix time in seconds; its decimal text is both
/// signed and written to `TimeStamp`. `nonce` may be the request's nonce.
/// `random` must be fresh random bytes for every reply.
///
/// # Errors
///
/// [`CryptoError::MessageTooLong`] for a reply over 4 GiB.
pub fn seal_reply(
    xml: &str,
    crypto: &MessageCrypto,
    token: &str,
    timestamp: u64,
    nonce: &str,
    random: [u8; 16],
) -> Result<String, CryptoError> {
    let encrypt = crypto.encrypt(xml.as_bytes(), random)?;
    let timestamp = timestamp.to_string();
    let signature = compute_msg_signature(token, &timestamp, nonce, &encrypt);

    let mut sealed = String::with_capacity(encrypt.len() + 200);
    sealed.push_str("<xml>");
    cdata_element(&mut sealed, "Encrypt", &encrypt);
    cdata_element(&mut sealed, "MsgSignature", &signature);
    sealed.push_str("<TimeStamp>");
    sealed.push_str(&timestamp);
    sealed.push_str("</TimeStamp>");
    cdata_element(&mut sealed, "Nonce", nonce);
    sealed.push_str("</xml>");
    Ok(sealed)
}

/// Checks `signature` and returns the `timestamp` and `nonce` it covers.
fn check_signature<'q>(
    query: &'q CallbackQuery,
    token: &str,
) -> Result<(&'q str, &'q str), CallbackError> {
    let signature = required(&query.signature, "signature")?;
    let timestamp = required(&query.timestamp, "timestamp")?;
    let nonce = required(&query.nonce, "nonce")?;
    if !verify_signature(token, timestamp, nonce, signature) {
        return Err(CallbackError::BadSignature);
    }
    Ok((timestamp, nonce))
}

fn required<'q>(value: &'q Option<String>, name: &'static str) -> Result<&'q str, CallbackError> {
    value
        .as_deref()
        .ok_or(CallbackError::MissingParameter(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::crypto::AesKey;
    use crate::protocol::error::ParseError;
    use crate::protocol::message::{Field, Message, Payload};
    use crate::protocol::render::render_reply;
    use crate::protocol::reply::{Reply, ReplyContext};
    use crate::protocol::signature::compute_signature;
    use crate::protocol::xml::read_document;

    const TOKEN: &str = "faketoken";
    const TIMESTAMP: &str = "1700000000";
    const NONCE: &str = "987";
    const F1_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    const F1_APPID: &str = "wx1234567890abcdef";
    const F2_SIGNATURE: &str = "f23f4565bb544914f16b58ba08bab18be027e3c2";
    const RANDOM: [u8; 16] = *b"0123456789abcdef";

    fn crypto(key: &str, appid: &str) -> MessageCrypto {
        MessageCrypto::new(AesKey::from_encoding_aes_key(key).unwrap(), appid)
    }

    fn keys(require_encryption: bool) -> AccountKeys {
        AccountKeys {
            token: TOKEN.to_owned(),
            crypto: Some(crypto(F1_KEY, F1_APPID)),
            require_encryption,
        }
    }

    fn text_xml(content: &str) -> String {
        format!(
            "<xml><ToUserName><![CDATA[gh_fakeacct001]]></ToUserName><FromUserName><![CDATA[oFAKE_user_0001]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content><MsgId>24000000000000001</MsgId></xml>"
        )
    }

    /// Builds a query signed for `token`, plus `msg_signature` when `encrypt`
    /// is given.
    fn query(token: &str, timestamp: &str, nonce: &str, encrypt: Option<&str>) -> CallbackQuery {
        let signature = compute_signature(&[token, timestamp, nonce]);
        let mut pairs = vec![
            ("signature", signature),
            ("timestamp", timestamp.to_owned()),
            ("nonce", nonce.to_owned()),
            ("openid", "oFAKE_user_0001".to_owned()),
        ];
        if let Some(encrypt) = encrypt {
            pairs.push(("encrypt_type", "aes".to_owned()));
            let msg_signature = compute_msg_signature(token, timestamp, nonce, encrypt);
            pairs.push(("msg_signature", msg_signature));
        }
        CallbackQuery::from_pairs(pairs)
    }

    fn safe_body(encrypt: &str) -> String {
        format!(
            "<xml><ToUserName><![CDATA[gh_fakeacct001]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        )
    }

    fn content(opened: &Opened) -> &str {
        match &opened.inbound.payload {
            Payload::Message(Message::Text { content, .. }) => content,
            other => panic!("not text: {other:?}"),
        }
    }

    #[test]
    fn url_check_official() {
        let query = CallbackQuery::from_pairs([
            ("signature", "f464b24fc39322e44b38aa78f5edd27bd1441696"),
            ("timestamp", "1714036504"),
            ("nonce", "1514711492"),
            ("echostr", "4375120948345356249"),
        ]);
        assert_eq!(verify_url(&query, "AAAAA").unwrap(), "4375120948345356249");
    }

    #[test]
    fn url_check_fake_account() {
        let query = CallbackQuery::from_pairs([
            ("signature", F2_SIGNATURE),
            ("timestamp", TIMESTAMP),
            ("nonce", NONCE),
            ("echostr", "5837291046117351234"),
        ]);
        assert_eq!(verify_url(&query, TOKEN).unwrap(), "5837291046117351234");
        assert_eq!(
            verify_url(&query, "othertoken"),
            Err(CallbackError::BadSignature)
        );
        assert_eq!(CallbackError::BadSignature.http_status(), 403);
    }

    #[test]
    fn url_check_missing_parameters() {
        let full = [
            ("signature", F2_SIGNATURE),
            ("timestamp", TIMESTAMP),
            ("nonce", NONCE),
            ("echostr", "5837291046117351234"),
        ];
        for skip in ["signature", "timestamp", "nonce", "echostr"] {
            let query =
                CallbackQuery::from_pairs(full.iter().filter(|(name, _)| *name != skip).copied());
            let err = verify_url(&query, TOKEN).unwrap_err();
            assert_eq!(err, CallbackError::MissingParameter(skip));
            assert_eq!(err.http_status(), 400);
            assert_eq!(err.to_string(), format!("missing query parameter {skip}"));
        }
    }

    #[test]
    fn plaintext_callback_opened() {
        let opened = open_callback(
            &query(TOKEN, TIMESTAMP, NONCE, None),
            text_xml("hi").as_bytes(),
            &keys(false),
        )
        .unwrap();
        assert_eq!(opened.mode, Mode::Plaintext);
        assert_eq!(content(&opened), "hi");
    }

    #[test]
    fn plaintext_rejected_when_encryption_required() {
        let result = open_callback(
            &query(TOKEN, TIMESTAMP, NONCE, None),
            text_xml("hi").as_bytes(),
            &keys(true),
        );
        assert_eq!(result, Err(CallbackError::PlaintextRejected));
        assert_eq!(CallbackError::PlaintextRejected.http_status(), 403);
    }

    #[test]
    fn bad_signature_rejected() {
        let mut query = query(TOKEN, TIMESTAMP, NONCE, None);
        query.nonce = Some("988".to_owned());
        let result = open_callback(&query, text_xml("hi").as_bytes(), &keys(false));
        assert_eq!(result, Err(CallbackError::BadSignature));
    }

    #[test]
    fn safe_mode_tencent_sample() {
        let keys = AccountKeys {
            token: "pamtest".to_owned(),
            crypto: Some(crypto(F1_KEY, "wxb11529c136998cb6")),
            require_encryption: true,
        };
        let body = include_str!("testdata/safe_mode_t5.xml");
        let mut query = query("pamtest", "1458300676", "260774613", None);
        query.encrypt_type = Some("aes".to_owned());
        query.msg_signature = Some("4f3ad57b6989f09f4eb392acce4f9e93942ed890".to_owned());

        let opened = open_callback(&query, body.as_bytes(), &keys).unwrap();
        assert_eq!(opened.mode, Mode::Safe);
        assert_eq!(opened.inbound.to_user, "asdasdasd");
        assert_eq!(opened.inbound.from_user, "asdasdasdsadasd");
        assert_eq!(opened.inbound.create_time, 1234567898);
        assert_eq!(opened.inbound.msg_id, Some(12345));
        assert_eq!(content(&opened), "hello");
        assert_eq!(
            opened.inbound.extra,
            [Field {
                name: "URL".to_owned(),
                value: "http://wechat.laravel.so/server".to_owned(),
            }]
        );

        let mut tampered = query.clone();
        tampered.msg_signature = Some("invalid-signature".to_owned());
        let result = open_callback(&tampered, body.as_bytes(), &keys);
        assert_eq!(result, Err(CallbackError::BadMsgSignature));

        let wrong_appid = AccountKeys {
            crypto: Some(crypto(F1_KEY, "invalid appid")),
            ..keys
        };
        let err = open_callback(&query, body.as_bytes(), &wrong_appid).unwrap_err();
        assert_eq!(err, CallbackError::AppIdMismatch);
        assert_eq!(err.http_status(), 403);
    }

    #[test]
    fn compatible_mode_capture() {
        let keys = AccountKeys {
            token: "weixin".to_owned(),
            crypto: Some(crypto(
                "mNnY5GekpChwqhy2c4NBH90g3hND6GeI4gii2YCvKLY",
                "wx669ef95216eef885",
            )),
            require_encryption: false,
        };
        let query = CallbackQuery::from_pairs([
            ("signature", "e3203b6433eb554dd2fcba78fa48cb948fcb4801"),
            ("timestamp", "1414387151"),
            ("nonce", "917222494"),
            ("encrypt_type", "aes"),
            ("msg_signature", "ae70d4e343d946fc0477a5c760b95be0947fddbb"),
        ]);
        let body = include_str!("testdata/compatible_mode_t6.xml");
        let opened = open_callback(&query, body.as_bytes(), &keys).unwrap();
        assert_eq!(opened.mode, Mode::Compatible);
        assert_eq!(opened.inbound.from_user, "olPjZjsXuQPJoV0HlruZkNzKc91E");
        assert_eq!(opened.inbound.msg_id, Some(6074746557628292943));
        assert_eq!(content(&opened), "你好");
        assert_eq!(opened.inbound.extra, []);
    }

    #[test]
    fn corp_id_receiver_samples() {
        let t7 = "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==";
        let t8b = "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=";
        let cases = [
            (
                "QDG6eK",
                "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
                "wx5823bf96d3bd56c7",
                "1409659813",
                "1372623149",
                "477715d11cdb4164915debcba66cb864d751f3e6",
                t7,
                "mycreate",
                "hello",
                4561255354251345929,
                "218",
            ),
            (
                "123456",
                "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
                "wx49f0ab532d5d035a",
                "1411525903",
                "461056294",
                "74d92dfeb87ba7c714f89d98870ae5eb62dff26d",
                t8b,
                "messense",
                "test",
                4363689963896700987,
                "1",
            ),
        ];
        for (
            token,
            key,
            receiver,
            timestamp,
            nonce,
            msg_signature,
            encrypt,
            from_user,
            text,
            msg_id,
            agent,
        ) in cases
        {
            let keys = AccountKeys {
                token: token.to_owned(),
                crypto: Some(crypto(key, receiver)),
                require_encryption: true,
            };
            let mut query = query(token, timestamp, nonce, None);
            query.msg_signature = Some(msg_signature.to_owned());
            let body = format!(
                "<xml><ToUserName><![CDATA[{receiver}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
            );

            let opened = open_callback(&query, body.as_bytes(), &keys).unwrap();
            assert_eq!(opened.mode, Mode::Safe);
            assert_eq!(opened.inbound.to_user, receiver);
            assert_eq!(opened.inbound.from_user, from_user);
            assert_eq!(opened.inbound.msg_id, Some(msg_id));
            assert_eq!(content(&opened), text);
            assert_eq!(opened.inbound.extra[0].name, "AgentID");
            assert_eq!(opened.inbound.extra[0].value, agent);
        }
    }

    #[test]
    fn compatible_mode_ciphertext_wins() {
        let encrypt = crypto(F1_KEY, F1_APPID)
            .encrypt(text_xml("cipher").as_bytes(), RANDOM)
            .unwrap();
        let body = text_xml("plain").replace(
            "</xml>",
            &format!("<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"),
        );
        let query = query(TOKEN, TIMESTAMP, NONCE, Some(&encrypt));

        let opened = open_callback(&query, body.as_bytes(), &keys(false)).unwrap();
        assert_eq!(opened.mode, Mode::Compatible);
        assert_eq!(content(&opened), "cipher");

        let mut tampered = query.clone();
        tampered.msg_signature = Some(F2_SIGNATURE.to_owned());
        let result = open_callback(&tampered, body.as_bytes(), &keys(false));
        assert_eq!(result, Err(CallbackError::BadMsgSignature));
    }

    #[test]
    fn signature_and_msg_signature_not_interchangeable() {
        let encrypt = crypto(F1_KEY, F1_APPID)
            .encrypt(text_xml("hi").as_bytes(), RANDOM)
            .unwrap();
        let body = safe_body(&encrypt);
        let query = query(TOKEN, TIMESTAMP, NONCE, Some(&encrypt));
        assert_eq!(query.signature.as_deref(), Some(F2_SIGNATURE));
        assert!(open_callback(&query, body.as_bytes(), &keys(true)).is_ok());

        let mut swapped = query.clone();
        swapped.signature = query.msg_signature.clone();
        swapped.msg_signature = query.signature.clone();
        let result = open_callback(&swapped, body.as_bytes(), &keys(true));
        assert_eq!(result, Err(CallbackError::BadSignature));

        let mut missing = query.clone();
        missing.msg_signature = None;
        let result = open_callback(&missing, body.as_bytes(), &keys(true));
        assert_eq!(
            result,
            Err(CallbackError::MissingParameter("msg_signature"))
        );
    }

    #[test]
    fn indented_safe_mode_body() {
        let encrypt = crypto(F1_KEY, F1_APPID)
            .encrypt(text_xml("hi").as_bytes(), RANDOM)
            .unwrap();
        let body = format!(
            "<xml>\n  <ToUserName><![CDATA[gh_fakeacct001]]></ToUserName>\n  <Encrypt>\n    <![CDATA[{encrypt}]]>\n  </Encrypt>\n</xml>"
        );
        let opened = open_callback(
            &query(TOKEN, TIMESTAMP, NONCE, Some(&encrypt)),
            body.as_bytes(),
            &keys(true),
        )
        .unwrap();
        assert_eq!(content(&opened), "hi");
    }

    #[test]
    fn control_character_in_decrypted_text() {
        let encrypt = crypto(F1_KEY, F1_APPID)
            .encrypt(text_xml("hi\u{1d}there").as_bytes(), RANDOM)
            .unwrap();
        let opened = open_callback(
            &query(TOKEN, TIMESTAMP, NONCE, Some(&encrypt)),
            safe_body(&encrypt).as_bytes(),
            &keys(true),
        )
        .unwrap();
        assert_eq!(content(&opened), "hithere");
    }

    #[test]
    fn appid_mismatch_and_multibyte() {
        let foreign = crypto(F1_KEY, "wxffffffffffffffff")
            .encrypt(text_xml("hi").as_bytes(), RANDOM)
            .unwrap();
        let result = open_callback(
            &query(TOKEN, TIMESTAMP, NONCE, Some(&foreign)),
            safe_body(&foreign).as_bytes(),
            &keys(true),
        );
        assert_eq!(result, Err(CallbackError::AppIdMismatch));

        let chinese = crypto(F1_KEY, F1_APPID)
            .encrypt(text_xml("你好").as_bytes(), RANDOM)
            .unwrap();
        let opened = open_callback(
            &query(TOKEN, TIMESTAMP, NONCE, Some(&chinese)),
            safe_body(&chinese).as_bytes(),
            &keys(true),
        )
        .unwrap();
        assert_eq!(content(&opened), "你好");
    }

    #[test]
    fn encrypted_failures_mapped() {
        let no_key = AccountKeys {
            crypto: None,
            ..keys(false)
        };
        let encrypt = "AAAA";
        let query = query(TOKEN, TIMESTAMP, NONCE, Some(encrypt));
        let err = open_callback(&query, safe_body(encrypt).as_bytes(), &no_key).unwrap_err();
        assert_eq!(err, CallbackError::EncryptionNotConfigured);
        assert_eq!(err.http_status(), 500);

        let err = open_callback(&query, safe_body(encrypt).as_bytes(), &keys(true)).unwrap_err();
        assert_eq!(
            err,
            CallbackError::Decrypt(CryptoError::InvalidLength { len: 3 })
        );
        assert_eq!(err.http_status(), 400);

        let garbage = crypto(F1_KEY, F1_APPID)
            .encrypt(b"<xml><A>", RANDOM)
            .unwrap();
        let query = super::tests::query(TOKEN, TIMESTAMP, NONCE, Some(&garbage));
        let err = open_callback(&query, safe_body(&garbage).as_bytes(), &keys(true)).unwrap_err();
        assert!(
            matches!(err, CallbackError::Xml(ParseError::Malformed { .. })),
            "{err:?}"
        );
        assert_eq!(err.http_status(), 400);
    }

    #[test]
    fn official_sealed_reply() {
        let crypto = crypto(&"A".repeat(43), "wxba5fad812f8e6fb9");
        let sealed = seal_reply(
            r#"{"demo_resp":"good luck"}"#,
            &crypto,
            "AAAAA",
            1713424427,
            "415670741",
            *b"707722b803182950",
        )
        .unwrap();
        assert_eq!(
            sealed,
            "<xml><Encrypt><![CDATA[ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ==]]></Encrypt><MsgSignature><![CDATA[1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1]]></MsgSignature><TimeStamp>1713424427</TimeStamp><Nonce><![CDATA[415670741]]></Nonce></xml>"
        );
    }

    #[test]
    fn wechatpy_sealed_reply() {
        let plaintext = include_str!("testdata/reply_plaintext_t8c.xml");
        assert_eq!(plaintext.len(), 247);
        let crypto = crypto(
            "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
            "wx49f0ab532d5d035a",
        );
        let sealed = seal_reply(
            plaintext,
            &crypto,
            "123456",
            1411525903,
            "461056294",
            *b"1234567890123456",
        )
        .unwrap();
        let expected = include_str!("testdata/reply_envelope_t8c.xml").replace('\n', "");
        assert_eq!(sealed, expected);
    }

    #[test]
    fn sealed_text_reply_round_trip() {
        let rendered = render_reply(
            &Reply::Text("pong".to_owned()),
            "oFAKE_user_0001",
            "gh_fakeacct001",
            1700000003,
            ReplyContext::UserMessage,
        )
        .unwrap();
        let crypto = crypto(F1_KEY, F1_APPID);
        let sealed = seal_reply(&rendered.xml, &crypto, TOKEN, 1700000003, NONCE, RANDOM).unwrap();

        let root = read_document(sealed.as_bytes()).unwrap();
        let names: Vec<&str> = root.children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Encrypt", "MsgSignature", "TimeStamp", "Nonce"]);
        let encrypt = &root.child("Encrypt").unwrap().text;
        let timestamp = &root.child("TimeStamp").unwrap().text;
        assert_eq!(timestamp, "1700000003");
        assert_eq!(root.child("Nonce").unwrap().text, NONCE);
        assert_eq!(
            root.child("MsgSignature").unwrap().text,
            compute_signature(&[TOKEN, timestamp, NONCE, encrypt])
        );

        let decrypted = crypto.decrypt(encrypt).unwrap();
        assert_eq!(
            String::from_utf8(decrypted).unwrap(),
            "<xml><ToUserName><![CDATA[oFAKE_user_0001]]></ToUserName><FromUserName><![CDATA[gh_fakeacct001]]></FromUserName><CreateTime>1700000003</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[pong]]></Content></xml>"
        );
    }

    #[test]
    fn errors_and_debug_hide_secrets() {
        let keys = keys(true);
        let debug = format!("{keys:?}");
        assert!(!debug.contains(TOKEN), "{debug}");
        assert!(!debug.contains("abcdefghij"), "{debug}");
        let errors = [
            CallbackError::BadSignature,
            CallbackError::BadMsgSignature,
            CallbackError::AppIdMismatch,
            CallbackError::PlaintextRejected,
        ];
        for err in errors {
            let message = err.to_string();
            assert!(
                !message.contains(TOKEN) && !message.contains(F1_APPID),
                "{message}"
            );
        }
    }

    #[test]
    fn mode_encryption_flag() {
        assert!(!Mode::Plaintext.is_encrypted());
        assert!(Mode::Compatible.is_encrypted());
        assert!(Mode::Safe.is_encrypted());
    }
}
