//! Awkward but valid callbacks that other SDKs failed on, through the
//! server with the echo plugin.

use crate::support::wechat::event_xml;
use crate::support::{
    Mode, ORIGINAL_ID, TestHost, USER_1, config_with_plugins, normalize_create_time,
};

fn echo_all() -> String {
    config_with_plugins(
        r#"
[[plugins]]
name = "echo"
path = "{plugins}/plugin_echo.wasm"
messages = ["*"]
events = ["*"]
"#,
    )
}

fn text_reply(content: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{USER_1}]]></ToUserName><FromUserName><![CDATA[{ORIGINAL_ID}]]></FromUserName><CreateTime>NOW</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content></xml>"
    )
}

fn text_message(content: &[u8], msg_id: u64) -> Vec<u8> {
    let mut body = format!(
        "<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><FromUserName><![CDATA[{USER_1}]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA["
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("]]></Content><MsgId>{msg_id}</MsgId></xml>").as_bytes());
    body
}

#[tokio::test]
async fn control_characters_are_removed() {
    let host = TestHost::start(&echo_all()).await;
    let client = host.client("demo");
    for (index, byte) in [0x1Du8, 0x02, 0x10].into_iter().enumerate() {
        let body = text_message(
            &[b'h', b'i', byte, b't', b'h', b'e', b'r', b'e'],
            24_000_000_000_000_100 + index as u64,
        );
        let (query, _) = client.protect(Mode::Plain, "");
        let answer = client.post_raw(&query, body.clone()).await;
        assert_eq!(answer.status, 200, "byte {byte:#04x}");
        assert_eq!(normalize_create_time(&answer.text()), text_reply("hithere"));

        // The same inside a safe-mode ciphertext.
        let xml = String::from_utf8(text_message(
            &[b'h', b'i', byte, b't', b'h', b'e', b'r', b'e'],
            24_000_000_000_000_200 + index as u64,
        ))
        .expect("ASCII");
        let answer = client.post(Mode::Safe, &xml).await;
        assert_eq!(answer.status, 200);
        assert_eq!(
            normalize_create_time(&client.open_reply(&answer)),
            text_reply("hithere")
        );
    }
}

#[tokio::test]
async fn emoji_entities_and_cut_text_survive() {
    let host = TestHost::start(&echo_all()).await;
    let client = host.client("demo");
    let (query, _) = client.protect(Mode::Plain, "");

    let mut emoji = vec![0xF0, 0x9F, 0x98, 0x80];
    emoji.extend_from_slice(b"&#128512;");
    let answer = client
        .post_raw(&query, text_message(&emoji, 24_000_000_000_000_300))
        .await;
    assert_eq!(
        normalize_create_time(&answer.text()),
        text_reply("😀&#128512;")
    );

    // Text that ends in the first two bytes of a three-byte character.
    let answer = client
        .post_raw(
            &query,
            text_message(&[b'o', b'k', 0xE6, 0xB8], 24_000_000_000_000_301),
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        normalize_create_time(&answer.text()),
        text_reply("ok\u{FFFD}")
    );
}

#[tokio::test]
async fn whitespace_and_crlf_are_tolerated() {
    let host = TestHost::start(&echo_all()).await;
    let client = host.client("demo");
    let xml = format!(
        "<xml>\r\n  <ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName>\r\n  <FromUserName><![CDATA[{USER_1}]]></FromUserName>\r\n  <CreateTime> 1700000000 </CreateTime>\r\n  <MsgType><![CDATA[text]]></MsgType>\r\n  <Content><![CDATA[  hi  ]]></Content>\r\n  <MsgId>24000000000000400</MsgId>\r\n</xml>"
    );
    let answer = client.post(Mode::Plain, &xml).await;
    assert_eq!(normalize_create_time(&answer.text()), text_reply("  hi  "));

    // Safe mode with the ciphertext indented inside <Encrypt>.
    let inner = xml.replace("24000000000000400", "24000000000000401");
    let encrypt = client
        .crypto
        .encrypt(inner.as_bytes(), *b"0123456789abcdef")
        .expect("encrypts");
    let body = format!(
        "<xml>\n  <ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName>\n  <Encrypt>\n    <![CDATA[{encrypt}]]>\n  </Encrypt>\n</xml>"
    );
    let answer = client
        .post_raw(&client.encrypted_query(&encrypt), body.into_bytes())
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        normalize_create_time(&client.open_reply(&answer)),
        text_reply("  hi  ")
    );
}

#[tokio::test]
async fn nested_and_empty_event_fields_parse() {
    let host = TestHost::start(&echo_all()).await;
    let client = host.client("demo");
    let cases = [
        (
            "LOCATION",
            "<Latitude>23.137466</Latitude><Longitude></Longitude><Precision> </Precision>",
            "event=location",
        ),
        (
            "pic_weixin",
            "<EventKey><![CDATA[upload_receipt]]></EventKey><SendPicsInfo><Count>0</Count><PicList></PicList></SendPicsInfo>",
            "event=pic_weixin key=upload_receipt",
        ),
        (
            "pic_weixin",
            "<EventKey><![CDATA[upload_receipt2]]></EventKey><SendPicsInfo><Count>0</Count><PicList/></SendPicsInfo>",
            "event=pic_weixin key=upload_receipt2",
        ),
        (
            "scancode_waitmsg",
            "<EventKey><![CDATA[scan_k]]></EventKey><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[https://example.invalid/p?a=1&b=2]]></ScanResult></ScanCodeInfo>",
            "event=scancode_waitmsg key=scan_k",
        ),
        (
            "location_select",
            "<EventKey><![CDATA[loc_k]]></EventKey><SendLocationInfo><Location_X><![CDATA[23.1]]></Location_X><Location_Y><![CDATA[113.3]]></Location_Y><Scale><![CDATA[15]]></Scale><Label><![CDATA[]]></Label><Poiname><![CDATA[]]></Poiname></SendLocationInfo>",
            "event=location_select key=loc_k",
        ),
        (
            "view_miniprogram",
            "<EventKey><![CDATA[pages/index/index]]></EventKey><MenuId>411000001</MenuId><FutureField><![CDATA[z]]></FutureField>",
            "event=view_miniprogram key=pages/index/index",
        ),
    ];
    for (index, (event, extra, expected)) in cases.into_iter().enumerate() {
        let xml = event_xml(USER_1, event, 1_700_000_500 + index as u64, extra);
        let answer = client.post(Mode::Plain, &xml).await;
        assert_eq!(answer.status, 200, "{event}");
        assert_eq!(
            normalize_create_time(&answer.text()),
            text_reply(expected),
            "{event}"
        );
    }
}

/// Returns ASCII content that makes `build(content)` a multiple of 32
/// bytes plus `remainder` long.
fn content_for_length(remainder: usize, build: impl Fn(&str) -> String) -> String {
    let mut content = String::from("x");
    while build(&content).len() % 32 != remainder {
        content.push('x');
    }
    content
}

#[tokio::test]
async fn padding_of_every_length_round_trips() {
    use base64::Engine as _;

    let host = TestHost::start(&echo_all()).await;
    let client = host.client("demo");
    // With the 18-byte AppID, messages of 7 and 26 bytes modulo 32 get pad
    // bytes of 19 and a full block of 32.
    for (index, remainder) in [7usize, 26].into_iter().enumerate() {
        let msg_id = 24_000_000_000_000_600 + index as u64;
        let build = |content: &str| {
            String::from_utf8(text_message(content.as_bytes(), msg_id)).expect("ASCII")
        };
        let content = content_for_length(remainder, build);
        let answer = client.post(Mode::Safe, &build(&content)).await;
        assert_eq!(answer.status, 200, "message length {remainder} mod 32");
        assert_eq!(
            normalize_create_time(&client.open_reply(&answer)),
            text_reply(&content)
        );
    }

    // A reply whose plaintext block is already aligned gets one full block
    // of padding, added once.
    let reply_length = |content: &str| text_reply(content).replace("NOW", "1700000000");
    let content = content_for_length(26, reply_length);
    let answer = client
        .post(
            Mode::Safe,
            &String::from_utf8(text_message(content.as_bytes(), 24_000_000_000_000_610))
                .expect("ASCII"),
        )
        .await;
    let envelope = wxhost::protocol::read_reply_envelope(&answer.body)
        .expect("reply parses")
        .expect("reply is encrypted");
    let ciphertext = base64::engine::general_purpose::STANDARD
        .decode(&envelope.encrypt)
        .expect("Encrypt is base64");
    let unpadded = 16 + 4 + reply_length(&content).len() + 18;
    assert_eq!(unpadded % 32, 0);
    assert_eq!(ciphertext.len(), unpadded + 32);
}

#[tokio::test]
async fn multibyte_text_keeps_appid_offsets() {
    let host = TestHost::start(&echo_all()).await;
    let client = host.client("demo");
    let xml =
        String::from_utf8(text_message("你好".as_bytes(), 24_000_000_000_000_620)).expect("UTF-8");
    let answer = client.post(Mode::Safe, &xml).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        normalize_create_time(&client.open_reply(&answer)),
        text_reply("你好")
    );
}
