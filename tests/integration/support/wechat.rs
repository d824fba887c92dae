//! A client that plays WeChat: signs, encrypts and posts callbacks, then
//! checks and decrypts the replies.

use wxhost::protocol::crypto::{AesKey, MessageCrypto};
use wxhost::protocol::read_reply_envelope;
use wxhost::protocol::signature::compute_signature as sign;

use super::{AES_KEY, APPID, ORIGINAL_ID, TOKEN, unix_now};

/// How a callback is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Plain,
    Compatible,
    Safe,
}

/// One HTTP answer from the host.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Signs and posts callbacks for one account URL with the F1 keys.
pub struct CallbackClient {
    url: String,
    http: reqwest::Client,
    pub token: String,
    pub crypto: MessageCrypto,
    pub timestamp: String,
    pub nonce: String,
}

impl CallbackClient {
    pub fn new(url: &str) -> CallbackClient {
        CallbackClient {
            url: url.to_owned(),
            http: reqwest::Client::new(),
            token: TOKEN.to_owned(),
            crypto: MessageCrypto::new(
                AesKey::from_encoding_aes_key(AES_KEY).expect("F1 key decodes"),
                APPID.to_owned(),
            ),
            timestamp: unix_now().to_string(),
            nonce: "987".to_owned(),
        }
    }

    /// Posts `xml` protected as `mode`, with correct signatures.
    pub async fn post(&self, mode: Mode, xml: &str) -> Answer {
        let (query, body) = self.protect(mode, xml);
        self.post_raw(&query, body.into_bytes()).await
    }

    /// Returns the query string and body WeChat would send for `xml`.
    pub fn protect(&self, mode: Mode, xml: &str) -> (String, String) {
        let signature = sign(&[&self.token, &self.timestamp, &self.nonce]);
        let plain = format!(
            "signature={signature}&timestamp={}&nonce={}&openid=oFAKE_user_0001",
            self.timestamp, self.nonce
        );
        if mode == Mode::Plain {
            return (plain, xml.to_owned());
        }
        let encrypt = self
            .crypto
            .encrypt(xml.as_bytes(), *b"0123456789abcdef")
            .expect("callback encrypts");
        let body = match mode {
            Mode::Compatible => xml.replacen(
                "</xml>",
                &format!("<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"),
                1,
            ),
            _ => format!(
                "<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
            ),
        };
        (self.encrypted_query(&encrypt), body)
    }

    /// Returns the query of an encrypted post whose Encrypt is `encrypt`.
    pub fn encrypted_query(&self, encrypt: &str) -> String {
        let signature = sign(&[&self.token, &self.timestamp, &self.nonce]);
        let msg_signature = sign(&[&self.token, &self.timestamp, &self.nonce, encrypt]);
        format!(
            "signature={signature}&timestamp={}&nonce={}&openid=oFAKE_user_0001&encrypt_type=aes&msg_signature={msg_signature}",
            self.timestamp, self.nonce
        )
    }

    /// Posts `body` with the query string exactly as given.
    pub async fn post_raw(&self, query: &str, body: Vec<u8>) -> Answer {
        let response = self
            .http
            .post(format!("{}?{query}", self.url))
            .header("Content-Type", "text/xml")
            .body(body)
            .send()
            .await
            .expect("host answers");
        answer(response).await
    }

    /// Sends `GET` with the query string exactly as given.
    pub async fn get_raw(&self, query: &str) -> Answer {
        let response = self
            .http
            .get(format!("{}?{query}", self.url))
            .send()
            .await
            .expect("host answers");
        answer(response).await
    }

    /// Checks an encrypted reply envelope and returns the decrypted XML.
    /// Panics when the envelope is missing or its MsgSignature is wrong.
    pub fn open_reply(&self, answer: &Answer) -> String {
        let envelope = read_reply_envelope(&answer.body)
            .expect("reply parses")
            .expect("reply is an encrypted envelope");
        assert_eq!(envelope.timestamp.len(), 10, "TimeStamp is in seconds");
        let now = unix_now();
        let stamp: u64 = envelope.timestamp.parse().expect("TimeStamp is a number");
        assert!(stamp.abs_diff(now) <= 5, "TimeStamp {stamp} is not now");
        assert_eq!(
            envelope.nonce, self.nonce,
            "the reply reuses the request nonce"
        );
        assert_eq!(
            envelope.msg_signature,
            sign(&[
                &self.token,
                &envelope.timestamp,
                &envelope.nonce,
                &envelope.encrypt
            ]),
            "MsgSignature covers token, TimeStamp, Nonce and Encrypt"
        );
        let plain = self
            .crypto
            .decrypt(&envelope.encrypt)
            .expect("reply decrypts");
        String::from_utf8(plain).expect("reply is UTF-8")
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.bytes().await.expect("body reads").to_vec();
    Answer {
        status,
        content_type,
        body,
    }
}

/// Builds a text message callback from `from` to the F1 account.
pub fn text_xml(from: &str, content: &str, msg_id: u64) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><FromUserName><![CDATA[{from}]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )
}

/// Builds an event callback with the given extra elements.
pub fn event_xml(from: &str, event: &str, create_time: u64, extra: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><FromUserName><![CDATA[{from}]]></FromUserName><CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>{extra}</xml>"
    )
}
