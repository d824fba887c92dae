//! Helpers for the plugin lifecycle tests: a config with an admin key and
//! one replaceable plugin file, admin calls and plugin file contents.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use wxhost_tests::plugins;

use super::support::wechat::text_xml;
use super::support::{APPID, Mode, ORIGINAL_ID, TOKEN, TestHost};

pub const ADMIN_KEY: &str = "admin-key-0123456789";

/// The reply text of the actions plugin in these tests.
pub const ACTIONS_REPLY: &str = "from actions";

/// The smallest valid component: the preamble with no sections, so it
/// compiles but exports nothing.
pub const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

/// Returns a config with an admin key, the account `demo` and `plugins`
/// appended.
/// `reload` contains the `[reload]` keys.
pub fn lifecycle_config(reload: &str, plugins: &str) -> String {
    format!(
        r#"
[server]
reply_budget_ms = 2000

[store]
path = "{{dir}}/wxhost.db"

[reload]
{reload}

[admin]
key = "fake:{ADMIN_KEY}"

[[accounts]]
name = "demo"
appid = "{APPID}"
original_id = "{ORIGINAL_ID}"
token = "fake:{TOKEN}"

{plugins}
"#
    )
}

/// Returns the `[[plugins]]` table of `main`, whose live file is `{dir}/main.wasm`,
/// followed by `extra` lines inside the same table.
pub fn main_plugin(extra: &str) -> String {
    format!(
        r#"
[[plugins]]
name = "main"
path = "{{dir}}/main.wasm"
messages = ["text"]
{extra}

[plugins.config]
reply = "{ACTIONS_REPLY}"
"#
    )
}

/// Writes the bytes of the component at `source` to `dir/name`.
pub fn install(dir: &Path, name: &str, source: &str) {
    std::fs::write(dir.join(name), plugins::read(source)).expect("write the plugin file");
}

/// Replaces `dir/name` by renaming a complete temporary file over it.
pub fn replace_by_rename(dir: &Path, name: &str, bytes: &[u8]) {
    let temporary = dir.join(format!("{name}.new"));
    std::fs::write(&temporary, bytes).expect("write the temporary file");
    std::fs::rename(&temporary, dir.join(name)).expect("rename over the plugin file");
}

/// Sends an admin request and returns the status and the body.
pub async fn admin(host: &TestHost, method: &str, path: &str) -> (u16, String) {
    let client = reqwest::Client::new();
    let url = format!("{}{path}", host.base_url);
    let request = match method {
        "POST" => client.post(url),
        _ => client.get(url),
    };
    let response = request
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .expect("host answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body reads"))
}

/// Returns `GET /admin/plugins` as JSON.
pub async fn plugin_reports(host: &TestHost) -> Value {
    let (status, body) = admin(host, "GET", "/admin/plugins").await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("JSON body")
}

/// Returns the value of one series in `GET /metrics`, or 0 when absent.
pub async fn metric(host: &TestHost, series: &str) -> f64 {
    let (status, body) = admin(host, "GET", "/metrics").await;
    assert_eq!(status, 200, "{body}");
    body.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |value| value.parse().expect("metric value"))
}

/// Posts a plaintext text callback and returns the reply's `Content`, or
/// the whole body when it has none (`success`).
pub async fn send_text(host: &TestHost, from: &str, content: &str, msg_id: u64) -> String {
    let answer = host
        .client("demo")
        .post(Mode::Plain, &text_xml(from, content, msg_id))
        .await;
    assert_eq!(answer.status, 200);
    reply_content(&answer.text())
}

/// Returns the text between `<Content><![CDATA[` and `]]>`, or `text`.
pub fn reply_content(text: &str) -> String {
    text.split_once("<Content><![CDATA[")
        .and_then(|(_, rest)| rest.split_once("]]>"))
        .map_or_else(|| text.to_owned(), |(content, _)| content.to_owned())
}

/// Waits until `done` returns true, checking every 20 ms for at most 10 s.
pub async fn eventually<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !done().await {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
