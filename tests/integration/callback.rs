//! The callback path over real HTTP with real plugin components: URL
//! verification, the three protection modes, and replies.

use crate::support::wechat::{event_xml, text_xml};
use crate::support::{
    Mode, ORIGINAL_ID, TestHost, USER_1, config_with_plugins, normalize_create_time,
};

/// The keyword plugin for text and the echo plugin for events.
fn keyword_and_echo() -> String {
    config_with_plugins(
        r#"
[[plugins]]
name = "keyword"
path = "{plugins}/plugin_keyword.wasm"
messages = ["text"]

[[plugins.config.groups]]
name = "greeting"
priority = 10
phrases = [{ match = "exact", text = "ping" }, { match = "contains", text = "你好" }]
reply = { text = "pong" }

[[plugins.config.groups]]
name = "news"
priority = 5
phrases = [{ match = "exact", text = "news" }]
reply = { news = [
    { title = "A", description = "first", pic_url = "https://example.invalid/a.png", url = "https://example.invalid/a" },
    { title = "B", description = "second", pic_url = "https://example.invalid/b.png", url = "https://example.invalid/b" },
    { title = "C", description = "third", pic_url = "https://example.invalid/c.png", url = "https://example.invalid/c" },
] }

[[plugins]]
name = "echo"
path = "{plugins}/plugin_echo.wasm"
messages = ["image", "voice"]
events = ["*"]
"#,
    )
}

fn expected_text_reply(content: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{USER_1}]]></ToUserName><FromUserName><![CDATA[{ORIGINAL_ID}]]></FromUserName><CreateTime>NOW</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content></xml>"
    )
}

#[tokio::test]
async fn url_verification_echoes_echostr() {
    let host = TestHost::start(&keyword_and_echo()).await;
    let client = host.client("demo");

    // The F1 signature over faketoken, 1700000000 and 987.
    let good = "signature=f23f4565bb544914f16b58ba08bab18be027e3c2&timestamp=1700000000&nonce=987&echostr=5837291046117351234";
    let answer = client.get_raw(good).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, "text/plain; charset=utf-8");
    assert_eq!(answer.body, b"5837291046117351234");

    let bad = "signature=f23f4565bb544914f16b58ba08bab18be027e3c3&timestamp=1700000000&nonce=987&echostr=5837291046117351234";
    let answer = client.get_raw(bad).await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.text(),
        "signature does not match; check that the account's `token` equals the Token of the official account's server configuration"
    );

    let missing = "timestamp=1700000000&nonce=987&echostr=5837291046117351234";
    assert_eq!(client.get_raw(missing).await.status, 400);

    // The same request shape works for an account in safe mode.
    assert_eq!(host.client("strict").get_raw(good).await.status, 200);
    let unknown = host.client("nobody").get_raw(good).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.text(),
        "unknown account \"nobody\": the URL path must be /wechat/NAME with the name of an [[accounts]] entry"
    );
}

#[tokio::test]
async fn plaintext_keyword_reply_is_exact() {
    let host = TestHost::start(&keyword_and_echo()).await;
    let client = host.client("demo");
    let answer = client
        .post(
            Mode::Plain,
            &text_xml(USER_1, "ping", 24_000_000_000_000_001),
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, "application/xml; charset=utf-8");
    assert_eq!(
        normalize_create_time(&answer.text()),
        expected_text_reply("pong")
    );
}

#[tokio::test]
async fn safe_mode_reply_is_encrypted() {
    let host = TestHost::start(&keyword_and_echo()).await;
    let client = host.client("strict");
    let answer = client
        .post(
            Mode::Safe,
            &text_xml(USER_1, "ping", 24_000_000_000_000_002),
        )
        .await;
    assert_eq!(answer.status, 200);
    let text = answer.text();
    assert!(text.starts_with("<xml><Encrypt><![CDATA["), "{text}");
    assert!(!text.contains("pong"));
    let plain = client.open_reply(&answer);
    assert_eq!(normalize_create_time(&plain), expected_text_reply("pong"));
}

#[tokio::test]
async fn compatible_mode_uses_the_ciphertext() {
    let host = TestHost::start(&keyword_and_echo()).await;
    let client = host.client("demo");
    let cipher_xml = text_xml(USER_1, "ping", 24_000_000_000_000_003);
    let encrypt = client
        .crypto
        .encrypt(cipher_xml.as_bytes(), *b"0123456789abcdef")
        .expect("encrypts");
    // The plaintext copy says something else; only the ciphertext counts.
    let body = text_xml(USER_1, "plain", 24_000_000_000_000_003).replacen(
        "</xml>",
        &format!("<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"),
        1,
    );
    let answer = client
        .post_raw(&client.encrypted_query(&encrypt), body.clone().into_bytes())
        .await;
    assert_eq!(answer.status, 200);
    let plain = client.open_reply(&answer);
    assert_eq!(normalize_create_time(&plain), expected_text_reply("pong"));

    // A wrong msg_signature is rejected; the plaintext copy is no fallback.
    let wrong = client.encrypted_query("ENCRYPTED+BASE64/VALUE==");
    let answer = client.post_raw(&wrong, body.into_bytes()).await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.text(),
        "msg_signature does not match; check that the account's `token` equals the Token of the official account's server configuration"
    );
}

#[tokio::test]
async fn simulate_reports_rejection() {
    let host = TestHost::start(&keyword_and_echo()).await;
    let config = std::fs::read_to_string(&host.config_path).expect("read the host's config");
    let dir = tempfile::tempdir().expect("temporary directory");
    let wrong = dir.path().join("wrong-token.toml");
    std::fs::write(&wrong, config.replace("fake:faketoken", "fake:wrongtoken"))
        .expect("write the config");

    let url = host.base_url.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_wxhost-cli"))
            .arg("simulate")
            .arg("--config")
            .arg(&wrong)
            .args(["--url", &url, "--account", "demo", "text", "ping"])
            .output()
            .expect("run wxhost-cli simulate")
    })
    .await
    .expect("simulate thread");

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("attempt 1: HTTP 403"), "{stdout}");
    assert!(
        stdout.contains("rejected:\nsignature does not match; check that the account's `token`"),
        "{stdout}"
    );
    assert!(
        stderr.contains("the host rejected the callback with HTTP 403"),
        "{stderr}"
    );
}

#[tokio::test]
async fn safe_account_rejects_plaintext() {
    let host = TestHost::start(&keyword_and_echo()).await;
    let answer = host
        .client("strict")
        .post(
            Mode::Plain,
            &text_xml(USER_1, "ping", 24_000_000_000_000_004),
        )
        .await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.text(),
        "plaintext callback rejected because the account requires encryption; the account's `security` is `safe`: set the server configuration to safe mode, or set `security = \"any\"`"
    );
}

#[tokio::test]
async fn swapped_signatures_are_rejected() {
    let host = TestHost::start(&keyword_and_echo()).await;
    let client = host.client("demo");
    let xml = text_xml(USER_1, "ping", 24_000_000_000_000_005);
    let (query, body) = client.protect(Mode::Safe, &xml);
    let answer = client.post_raw(&query, body.clone().into_bytes()).await;
    assert_eq!(answer.status, 200);

    // Exchange the values of signature and msg_signature.
    let value = |name: &str| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
            .expect("query has the parameter")
            .to_owned()
    };
    let (signature, msg_signature) = (value("signature"), value("msg_signature"));
    let swapped = query
        .replace(&signature, "SIGNATURE")
        .replace(&msg_signature, &signature)
        .replace("SIGNATURE", &msg_signature);
    let answer = client.post_raw(&swapped, body.into_bytes()).await;
    assert_eq!(answer.status, 403);
}

#[tokio::test]
async fn no_match_answers_success() {
    let host = TestHost::start(&keyword_and_echo()).await;
    let client = host.client("demo");
    for mode in [Mode::Plain, Mode::Safe] {
        let msg_id = 24_000_000_000_000_010 + mode as u64;
        let answer = client
            .post(mode, &text_xml(USER_1, "nothing matches", msg_id))
            .await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body, b"success", "{mode:?} no reply is bare success");
    }
}

#[tokio::test]
async fn news_after_message_keeps_one_article() {
    let host = TestHost::start(&keyword_and_echo()).await;
    let answer = host
        .client("demo")
        .post(
            Mode::Plain,
            &text_xml(USER_1, "news", 24_000_000_000_000_020),
        )
        .await;
    let xml = normalize_create_time(&answer.text());
    assert_eq!(
        xml,
        format!(
            "<xml><ToUserName><![CDATA[{USER_1}]]></ToUserName><FromUserName><![CDATA[{ORIGINAL_ID}]]></FromUserName><CreateTime>NOW</CreateTime><MsgType><![CDATA[news]]></MsgType><ArticleCount>1</ArticleCount><Articles><item><Title><![CDATA[A]]></Title><Description><![CDATA[first]]></Description><PicUrl><![CDATA[https://example.invalid/a.png]]></PicUrl><Url><![CDATA[https://example.invalid/a]]></Url></item></Articles></xml>"
        )
    );
}

#[tokio::test]
async fn events_reach_the_echo_plugin() {
    let host = TestHost::start(&keyword_and_echo()).await;
    let client = host.client("demo");
    let cases = [
        // A follow through a QR code: exactly one qrscene_ prefix is removed.
        (
            "subscribe",
            "<EventKey><![CDATA[qrscene_qrscene_abc]]></EventKey><Ticket><![CDATA[gQFAKEticket]]></Ticket>",
            "event=subscribe key=qrscene_abc",
        ),
        (
            "subscribe",
            "<EventKey><![CDATA[qrscene_123]]></EventKey><Ticket><![CDATA[gQFAKEticket]]></Ticket>",
            "event=subscribe key=123",
        ),
        // A plain follow with an empty EventKey and with none.
        (
            "subscribe",
            "<EventKey><![CDATA[]]></EventKey>",
            "event=subscribe",
        ),
        ("subscribe", "", "event=subscribe"),
        // SCAN carries no prefix, and the event name matches in any case.
        (
            "SCAN",
            "<EventKey><![CDATA[123]]></EventKey><Ticket><![CDATA[gQFAKEticket]]></Ticket>",
            "event=scan key=123",
        ),
        (
            "scan",
            "<EventKey><![CDATA[123]]></EventKey><Ticket><![CDATA[gQFAKEticket]]></Ticket>",
            "event=scan key=123",
        ),
        (
            "CLICK",
            "<EventKey><![CDATA[MENU_NEWS]]></EventKey>",
            "event=click key=MENU_NEWS",
        ),
        // An event the host does not model still reaches plugins by name.
        (
            "device_event",
            "<EventKey><![CDATA[dev01]]></EventKey>",
            "event=device_event key=dev01",
        ),
    ];
    for (index, (event, extra, expected)) in cases.into_iter().enumerate() {
        let xml = event_xml(USER_1, event, 1_700_000_100 + index as u64, extra);
        let answer = client.post(Mode::Plain, &xml).await;
        assert_eq!(answer.status, 200, "{event} {extra}");
        assert_eq!(
            normalize_create_time(&answer.text()),
            expected_text_reply(expected),
            "{event} {extra}"
        );
    }
}

#[tokio::test]
async fn unknown_message_type_answers() {
    let host = TestHost::start(&config_with_plugins(
        r#"
[[plugins]]
name = "echo"
path = "{plugins}/plugin_echo.wasm"
messages = ["*"]
"#,
    ))
    .await;
    let xml = format!(
        "<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><FromUserName><![CDATA[{USER_1}]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[device_text]]></MsgType><DeviceType><![CDATA[gh_fakeacct001]]></DeviceType><DeviceID><![CDATA[dev01]]></DeviceID><Content><![CDATA[aGk=]]></Content><SessionID>1</SessionID><OpenID><![CDATA[{USER_1}]]></OpenID></xml>"
    );
    let answer = host.client("demo").post(Mode::Plain, &xml).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        normalize_create_time(&answer.text()),
        expected_text_reply("message=device_text")
    );
}

#[tokio::test]
async fn hostile_bodies_get_client_errors() {
    let host = TestHost::start(&keyword_and_echo()).await;
    let client = host.client("demo");
    let doctype = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY x \"y\">]>{}",
        text_xml(USER_1, "&x;", 24_000_000_000_000_030)
    );
    assert_eq!(client.post(Mode::Plain, &doctype).await.status, 400);
    assert_eq!(client.post(Mode::Plain, "not xml at all").await.status, 400);
    assert_eq!(client.post(Mode::Plain, "").await.status, 400);
    let huge = text_xml(USER_1, &"x".repeat(70 * 1024), 24_000_000_000_000_031);
    let answer = client.post(Mode::Plain, &huge).await;
    assert_eq!(answer.status, 413);
    assert_eq!(
        answer.text(),
        "request body larger than 65536 bytes: raise `server.max_body_bytes` (1024 to 16777216) if WeChat sends callbacks this large"
    );
}

#[tokio::test]
async fn wrong_appid_is_forbidden() {
    let host = TestHost::start(&keyword_and_echo()).await;
    let mut client = host.client("demo");
    client.crypto = wxhost::protocol::crypto::MessageCrypto::new(
        wxhost::protocol::crypto::AesKey::from_encoding_aes_key(crate::support::AES_KEY)
            .expect("F1 key decodes"),
        "wxffffffffffffffff".to_owned(),
    );
    let answer = client
        .post(
            Mode::Safe,
            &text_xml(USER_1, "ping", 24_000_000_000_000_040),
        )
        .await;
    assert_eq!(answer.status, 403);
}

#[tokio::test]
async fn port_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let address = taken.local_addr().expect("listener has an address");
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let text = format!(
        "[server]\nlisten = \"{address}\"\n[store]\npath = \"{}/wxhost.db\"\n",
        dir.path().display()
    );
    let config = wxhost::config::Config::parse(&text, dir.path()).expect("config is valid");
    let error = wxhost::app::serve(config)
        .await
        .expect_err("the port is taken");
    assert_eq!(
        format!("{error:#}").split(": ").next(),
        Some(format!("failed to listen on {address}; another process may hold the port, so stop it or change server.listen").as_str())
    );
}
