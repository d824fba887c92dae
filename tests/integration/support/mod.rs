//! Helpers shared by the end-to-end tests: a host on an ephemeral port and
//! a client that signs and encrypts callbacks the way WeChat does.

#![allow(dead_code, reason = "each test module uses a different subset")]

pub mod wechat;

use std::path::{Path, PathBuf};

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
    /// The config file the host was built from, which reloads read again.
    pub config_path: PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
    watcher: tokio::task::JoinHandle<()>,
    _worker: WorkerHandle,
    _dir: tempfile::TempDir,
}

impl TestHost {
    /// Starts a host from TOML config text, written to `wxhost.toml` in a
    /// fresh temporary directory. `{dir}` in the text is replaced by that
    /// directory and `{plugins}` by the directory of the built plugin
    /// components. The host polls its plugin files and handles SIGHUP.
    pub async fn start(config_text: &str) -> TestHost {
        TestHost::start_with_files(config_text, &[]).await
    }

    /// Like [`TestHost::start`], after copying each `(name, component
    /// path)` of `files` into the temporary directory as `name`.
    pub async fn start_with_files(config_text: &str, files: &[(&str, &str)]) -> TestHost {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        for (name, source) in files {
            std::fs::copy(source, dir.path().join(name)).expect("copy a plugin component");
        }
        let config_path = dir.path().join("wxhost.toml");
        std::fs::write(&config_path, expand(config_text, dir.path())).expect("write the config");
        let config = Config::load(&config_path).expect("test config is valid");
        let host = Host::build_with(&config, Some(config_path.clone()), None)
            .expect("host builds from the test config");
        let host_state = host.state.clone();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("listener has an address");
        let worker = host.start_worker();
        let watcher = host.start_reloading();
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
            config_path,
            shutdown: Some(sender),
            watcher,
            _worker: worker,
            _dir: dir,
        }
    }

    /// Returns the temporary directory of the config and the store.
    pub fn dir(&self) -> &Path {
        self._dir.path()
    }

    /// Replaces the config file with `config_text`, expanded like
    /// [`TestHost::start`] does.
    pub fn write_config(&self, config_text: &str) {
        std::fs::write(&self.config_path, expand(config_text, self.dir()))
            .expect("write the config");
    }

    /// Returns a client for the account named `account`.
    pub fn client(&self, account: &str) -> CallbackClient {
        CallbackClient::new(&format!("{}/wechat/{account}", self.base_url))
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        self.watcher.abort();
        if let Some(sender) = self.shutdown.take() {
            let _ = sender.send(());
        }
    }
}

fn expand(config_text: &str, dir: &Path) -> String {
    config_text
        .replace("{dir}", &dir.display().to_string())
        .replace("{plugins}", &plugin_dir().display().to_string())
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
