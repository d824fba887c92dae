//! Helpers shared by the end-to-end tests: a host on an ephemeral port and
//! a client that signs and encrypts callbacks the way WeChat does.

#![allow(dead_code, reason = "each test module uses a different subset")]

pub mod wechat;

use std::path::PathBuf;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use wxhost::app::Host;
use wxhost::config::Config;
use wxhost::outbox::WorkerHandle;

pub use wechat::{CallbackClient, Mode};

/// F1 fixture values used across the tests.
pub const TOKEN: &str = "faketoken";
pub const APPID: &str = "wx1234567890abcdef";
pub const ORIGINAL_ID: &str = "gh_fakeacct001";
pub const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
pub const USER_1: &str = "oFAKE_user_0001";
pub const USER_2: &str = "oFAKE_user_0002";

/// A host serving on 127.0.0.1 with an ephemeral port and running its
/// outbox worker, stopped on drop.
pub struct TestHost {
    pub base_url: String,
    /// The host's own store.
    pub store: wxhost::store::Store,
    pub state: wxhost::server::AppState,
    shutdown: Option<oneshot::Sender<()>>,
    _worker: WorkerHandle,
    _dir: tempfile::TempDir,
}

impl TestHost {
    /// Starts a host from TOML config text. `{dir}` in the text is replaced
    /// by a fresh temporary directory and `{plugins}` by the directory of
    /// the built plugin components.
    pub async fn start(config_text: &str) -> TestHost {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let text = config_text
            .replace("{dir}", &dir.path().display().to_string())
            .replace("{plugins}", &plugin_dir().display().to_string());
        let config = Config::parse(&text, dir.path()).expect("test config is valid");
        let host = Host::build(&config).expect("host builds from the test config");
        let host_state = host.state.clone();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("listener has an address");
        let worker = host.start_worker();
        let store = host.store.clone();
        let (sender, receiver) = oneshot::channel::<()>();
        let state = host.state.clone();
        tokio::spawn(async move {
            let shutdown = async {
                let _ = receiver.await;
            };
            let _ = wxhost::server::serve(listener, state, shutdown).await;
            drop(host);
        });
        TestHost {
            base_url: format!("http://{address}"),
            store,
            state: host_state,
            shutdown: Some(sender),
            _worker: worker,
            _dir: dir,
        }
    }

    /// Returns a client for the account named `account`.
    pub fn client(&self, account: &str) -> CallbackClient {
        CallbackClient::new(&format!("{}/wechat/{account}", self.base_url))
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        if let Some(sender) = self.shutdown.take() {
            let _ = sender.send(());
        }
    }
}

/// Returns the directory that holds the built plugin components.
pub fn plugin_dir() -> PathBuf {
    PathBuf::from(wxhost_tests::plugins::KEYWORD)
        .parent()
        .expect("plugin path has a parent directory")
        .to_owned()
}

/// A config with one account (`demo`, F1 keys, any mode) and the given
/// `[[plugins]]` tables appended.
pub fn config_with_plugins(plugins: &str) -> String {
    format!(
        r#"
[server]
reply_budget_ms = 1500

[store]
path = "{{dir}}/wxhost.db"

[[accounts]]
name = "demo"
appid = "{APPID}"
original_id = "{ORIGINAL_ID}"
token = "fake:{TOKEN}"
encoding_aes_key = "fake:{AES_KEY}"

[[accounts]]
name = "strict"
appid = "{APPID}"
original_id = "{ORIGINAL_ID}"
token = "fake:{TOKEN}"
encoding_aes_key = "fake:{AES_KEY}"
security = "safe"

{plugins}
"#
    )
}

/// Replaces the ten-digit `CreateTime` value with `NOW` after checking that
/// it is within 5 s of the current time, so replies compare exactly.
pub fn normalize_create_time(xml: &str) -> String {
    let Some(start) = xml.find("<CreateTime>") else {
        return xml.to_owned();
    };
    let value_start = start + "<CreateTime>".len();
    let value_end = value_start
        + xml[value_start..]
            .find("</CreateTime>")
            .expect("CreateTime is closed");
    let value = &xml[value_start..value_end];
    assert_eq!(value.len(), 10, "CreateTime {value:?} is not Unix seconds");
    let seconds: u64 = value.parse().expect("CreateTime is a number");
    let now = unix_now();
    assert!(
        seconds.abs_diff(now) <= 5,
        "CreateTime {seconds} is more than 5 s from now ({now})"
    );
    format!("{}NOW{}", &xml[..value_start], &xml[value_end..])
}

/// Returns the current Unix time in seconds.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock is after 1970")
        .as_secs()
}
