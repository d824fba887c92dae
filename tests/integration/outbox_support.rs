//! A host wired to a fake of WeChat, with the actions plugin, for the
//! outbox, token endpoint and admin tests.

use std::time::{Duration, Instant};

use wxhost::fake_wechat::{DEFAULT_SECRET, Delivery, FakeConfig, FakeWeChat, Interaction};

use super::support::{AES_KEY, APPID, ORIGINAL_ID, TOKEN, TestHost, USER_1};

pub const ADMIN_KEY: &str = "admin-key-0123456789";
pub const CONSUMER_KEY: &str = "billing-key-0123456789";
pub const CUSTOM_SEND: &str = "/cgi-bin/message/custom/send";
pub const TEMPLATE_SEND: &str = "/cgi-bin/message/template/send";
pub const STABLE_TOKEN: &str = "/cgi-bin/stable_token";

/// Maximum time a test waits for the outbox worker.
pub const WAIT: Duration = Duration::from_secs(10);

/// A fake and a host whose accounts `demo` and `other` call it. Only
/// `demo` has its appid in the fake. `plugins` contains the
/// `[[plugins]]` tables, and `server` the extra `[server]` keys.
pub async fn start(server: &str, plugins: &str) -> (FakeWeChat, TestHost) {
    let fake = FakeWeChat::start(FakeConfig::default())
        .await
        .expect("fake starts");
    let config = format!(
        r#"
[server]
{server}

[store]
path = "{{dir}}/wxhost.db"

[outbox]
retry_base_ms = 10
retry_max_ms = 50
poll_ms = 20

[admin]
key = "fake:{ADMIN_KEY}"

[[consumers]]
name = "billing"
key = "fake:{CONSUMER_KEY}"
accounts = ["demo"]

[[accounts]]
name = "demo"
appid = "{APPID}"
original_id = "{ORIGINAL_ID}"
token = "fake:{TOKEN}"
encoding_aes_key = "fake:{AES_KEY}"
app_secret = "fake:{DEFAULT_SECRET}"
api_base_url = "{base}"

[[accounts]]
name = "other"
appid = "wx00000000000000aa"
token = "fake:{TOKEN}"
app_secret = "fake:another-secret"
api_base_url = "{base}"

[[accounts]]
name = "nosecret"
appid = "{APPID}"
original_id = "{ORIGINAL_ID}"
token = "fake:{TOKEN}"

{plugins}
"#,
        base = fake.base_url(),
    );
    let host = TestHost::start(&config).await;
    (fake, host)
}

/// Returns the `[[plugins]]` table of the actions plugin for text
/// messages, with `actions` (`[[plugins.config.actions]]` tables) after
/// its `[plugins.config]` line.
pub fn actions_plugin(actions: &str) -> String {
    format!(
        r#"
[[plugins]]
name = "actions"
path = "{{plugins}}/plugin_actions.wasm"
messages = ["text"]
events = ["subscribe"]

[plugins.config]
reply = "queued"

{actions}
"#
    )
}

/// Opens the fake's 48-hour window for [`USER_1`], as WeChat does when the
/// follower writes.
pub fn follower_writes(fake: &FakeWeChat) {
    fake.record_interaction(APPID, USER_1, Interaction::Message)
        .expect("fake knows the appid");
}

/// Waits until `done` holds, polling every 20 ms. Panics after [`WAIT`].
pub async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Returns the number of outbox entries in `state`.
pub fn outbox_count(host: &TestHost, state: &str) -> u64 {
    host.store
        .outbox_counts()
        .expect("outbox counts")
        .into_iter()
        .find(|(name, _)| name == state)
        .map_or(0, |(_, count)| count)
}

/// Returns the fake's accepted messages of `api`.
pub fn deliveries_to(fake: &FakeWeChat, api: &str) -> Vec<Delivery> {
    fake.deliveries()
        .into_iter()
        .filter(|delivery| delivery.api == api)
        .collect()
}
