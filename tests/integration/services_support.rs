//! A host wired to a fake of WeChat with the welcome, referral and
//! services-probe plugins, and helpers to post follow and scan callbacks.

#![allow(dead_code, reason = "each test module uses a different subset")]

use wxhost::fake_wechat::{DEFAULT_SECRET, FakeConfig, FakeWeChat, Interaction};

use super::support::wechat::{Answer, event_xml, text_xml};
use super::support::{AES_KEY, APPID, CallbackClient, Mode, ORIGINAL_ID, TOKEN, TestHost};

pub const QRCODE_CREATE: &str = "/cgi-bin/qrcode/create";
pub const SHOW_QRCODE: &str = "/cgi-bin/showqrcode";
pub const MEDIA_UPLOAD: &str = "/cgi-bin/media/upload";
pub const CUSTOM_SEND: &str = "/cgi-bin/message/custom/send";

/// The welcome plugin with three channels: `poster` (`poster_*` and
/// `qrscene_abc`), `store` (`123`) and `invite` (`inv_*`, first-time
/// followers passed on to the next plugin). Its deadline is 1 s instead
/// of the default 100 ms, because 100 concurrent follows on a loaded
/// 2-CPU test machine can keep its `kv` calls waiting past 100 ms.
pub const WELCOME: &str = r#"
[[plugins]]
name = "welcome"
path = "{plugins}/plugin_welcome.wasm"
events = ["subscribe", "unsubscribe", "SCAN"]
capabilities = ["kv", "followers"]

[plugins.limits]
deadline_ms = 1000

[plugins.config]
new_follower_reply = { text = "欢迎新朋友" }
returning_reply = { text = "欢迎回来" }
scan_reply = { text = "您已关注" }

[[plugins.config.channels]]
name = "poster"
scenes = ["poster_*", "qrscene_abc"]
new_follower_reply = { text = "海报新朋友" }

[[plugins.config.channels]]
name = "store"
scenes = ["123"]
new_follower_reply = { text = "门店新朋友" }
scan_reply = { text = "门店扫码" }

[[plugins.config.channels]]
name = "invite"
scenes = ["inv_*"]
pass_new_followers = true
"#;

/// The referral plugin with invite keyword `邀请`, menu key `INVITE` and
/// `scene_prefix` as given.
pub fn referral(scene_prefix: &str) -> String {
    format!(
        r#"
[[plugins]]
name = "referral"
path = "{{plugins}}/plugin_referral.wasm"
messages = ["text"]
events = ["subscribe", "SCAN", "CLICK"]
capabilities = ["kv", "followers", "qrcode", "media"]

[plugins.limits]
deadline_ms = 3000

[plugins.config]
keywords = ["邀请"]
menu_key = "INVITE"
scene_prefix = "{scene_prefix}"
invitee_reply = {{ text = "感谢受邀关注" }}
inviter_message = "您已成功邀请 {{count}} 位新朋友"
scan_reply = {{ text = "您已关注，无需再扫邀请码" }}
fallback_article = {{ title = "您的邀请码", description = "长按识别二维码" }}
"#
    )
}

/// The services probe for text messages with `capabilities`.
pub fn probe(capabilities: &str) -> String {
    format!(
        r#"
[[plugins]]
name = "probe"
path = "{{plugins}}/plugin_services_probe.wasm"
messages = ["text"]
capabilities = [{capabilities}]

[plugins.limits]
deadline_ms = 3000
"#
    )
}

/// Starts a fake and a host whose account `demo` calls it, with the
/// given `[[plugins]]` tables in route order.
pub async fn start(plugins: &str) -> (FakeWeChat, TestHost) {
    let fake = FakeWeChat::start(FakeConfig::default())
        .await
        .expect("fake starts");
    let config = format!(
        r#"
[server]
reply_budget_ms = 4000

[store]
path = "{{dir}}/wxhost.db"

[outbox]
retry_base_ms = 10
retry_max_ms = 50
poll_ms = 20

[[accounts]]
name = "demo"
appid = "{APPID}"
original_id = "{ORIGINAL_ID}"
token = "fake:{TOKEN}"
encoding_aes_key = "fake:{AES_KEY}"
app_secret = "fake:{DEFAULT_SECRET}"
api_base_url = "{base}"

{plugins}
"#,
        base = fake.base_url(),
    );
    let host = TestHost::start(&config).await;
    (fake, host)
}

/// Opens `openid`'s 48-hour window at the fake, as WeChat does when the
/// follower writes.
pub fn opens_window(fake: &FakeWeChat, openid: &str) {
    fake.record_interaction(APPID, openid, Interaction::Message)
        .expect("fake knows the appid");
}

/// Posts a `subscribe` of `from` at `time`, with `EventKey` when given.
pub async fn follow(client: &CallbackClient, from: &str, time: u64, key: Option<&str>) -> Answer {
    let extra = match key {
        Some(key) => format!(
            "<EventKey><![CDATA[{key}]]></EventKey><Ticket><![CDATA[gQFAKEticket]]></Ticket>"
        ),
        None => "<EventKey><![CDATA[]]></EventKey>".to_owned(),
    };
    let xml = event_xml(from, "subscribe", time, &extra);
    client.post(Mode::Plain, &xml).await
}

/// Posts an `unsubscribe` of `from` at `time`.
pub async fn unfollow(client: &CallbackClient, from: &str, time: u64) -> Answer {
    let xml = event_xml(from, "unsubscribe", time, "");
    client.post(Mode::Plain, &xml).await
}

/// Posts a scan event named `event` (`SCAN` or `scan`) with `EventKey`.
pub async fn scan(
    client: &CallbackClient,
    from: &str,
    time: u64,
    event: &str,
    key: &str,
) -> Answer {
    let extra =
        format!("<EventKey><![CDATA[{key}]]></EventKey><Ticket><![CDATA[gQFAKEticket]]></Ticket>");
    client
        .post(Mode::Plain, &event_xml(from, event, time, &extra))
        .await
}

/// Posts a menu `CLICK` with `key`.
pub async fn click(client: &CallbackClient, from: &str, time: u64, key: &str) -> Answer {
    let extra = format!("<EventKey><![CDATA[{key}]]></EventKey>");
    client
        .post(Mode::Plain, &event_xml(from, "CLICK", time, &extra))
        .await
}

/// Posts a text message.
pub async fn say(client: &CallbackClient, from: &str, text: &str, msg_id: u64) -> Answer {
    client
        .post(Mode::Plain, &text_xml(from, text, msg_id))
        .await
}

/// Returns the text between `<tag><![CDATA[` and `]]></tag>` in a reply,
/// or the whole body (for example `success`) when the tag is absent.
pub fn element(answer: &Answer, tag: &str) -> String {
    let body = answer.text();
    let open = format!("<{tag}><![CDATA[");
    let Some(start) = body.find(&open) else {
        return body;
    };
    let rest = &body[start + open.len()..];
    let end = rest.find("]]>").expect("CDATA is closed");
    rest[..end].to_owned()
}

/// Returns the `Content` of a text reply, or the body when it has none.
pub fn reply_text(answer: &Answer) -> String {
    element(answer, "Content")
}
