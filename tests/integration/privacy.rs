//! Logs never carry a secret, a ciphertext, message content or a raw openid.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use crate::support::wechat::CallbackClient;
use crate::support::{Mode, TestHost};
use wxhost::protocol::crypto::{AesKey, MessageCrypto};

const TOKEN: &str = "privacyToken7";
const AES_KEY: &str = "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8Nn7Mm6L";
const APPID: &str = "wxprivacy000000001";
const OPENID: &str = "oPRIVACY_follower_0000000001";
const CONTENT: &str = "my card number is 6222020200112233";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("log buffer lock")
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs one process-wide subscriber at `trace` level for wxhost that
/// writes into a buffer, and returns the buffer.
fn captured_logs() -> Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_env_filter("wxhost=trace")
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .json()
            .init();
        captured
    })
    .clone()
}

#[tokio::test]
async fn encrypted_callback_leaves_no_secrets_in_logs() {
    let logs = captured_logs();
    let config = format!(
        r#"
[store]
path = "{{dir}}/wxhost.db"

[[accounts]]
name = "privacy"
appid = "{APPID}"
token = "fake:{TOKEN}"
encoding_aes_key = "fake:{AES_KEY}"
security = "safe"

[[plugins]]
name = "echo"
path = "{{plugins}}/plugin_echo.wasm"
messages = ["text"]
"#
    );
    let host = TestHost::start(&config).await;
    let mut client: CallbackClient = host.client("privacy");
    client.token = TOKEN.to_owned();
    client.crypto = MessageCrypto::new(
        AesKey::from_encoding_aes_key(AES_KEY).expect("test key decodes"),
        APPID.to_owned(),
    );
    let xml = format!(
        "<xml><ToUserName><![CDATA[gh_privacy]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{CONTENT}]]></Content><MsgId>24000000000000900</MsgId></xml>"
    );
    let (query, body) = client.protect(Mode::Safe, &xml);
    let encrypt = body
        .split("<Encrypt><![CDATA[")
        .nth(1)
        .and_then(|rest| rest.split("]]>").next())
        .expect("body carries Encrypt")
        .to_owned();
    let answer = client.post_raw(&query, body.clone().into_bytes()).await;
    assert_eq!(answer.status, 200);
    let reply = client.open_reply(&answer);
    assert!(reply.contains(CONTENT), "the echo plugin answered");
    let reply_encrypt = String::from_utf8_lossy(&answer.body).into_owned();

    // A rejected callback logs too; it must not leak either.
    let tampered = query.replace("msg_signature=", "msg_signature=0");
    assert_eq!(
        client.post_raw(&tampered, body.into_bytes()).await.status,
        403
    );

    let text =
        String::from_utf8(logs.0.lock().expect("log buffer lock").clone()).expect("logs are UTF-8");
    assert!(
        text.contains("\"account\":\"privacy\""),
        "the callback was logged: {text}"
    );
    let signature_part = &encrypt[..24];
    let reply_part = reply_encrypt
        .split("<Encrypt><![CDATA[")
        .nth(1)
        .map(|rest| rest[..24].to_owned())
        .expect("reply is an envelope");
    for (what, secret) in [
        ("token", TOKEN),
        ("AES key", AES_KEY),
        ("AppID-free ciphertext", signature_part),
        ("reply ciphertext", reply_part.as_str()),
        ("message content", CONTENT),
        ("content fragment", "6222020200112233"),
        ("openid", OPENID),
    ] {
        assert!(!text.contains(secret), "the logs contain the {what}");
    }
}
