//! kill -9 of the real `wxhost` binary while its outbox worker delivers
//! 1,000 customer-service messages to a fake of WeChat in this process.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use wxhost::fake_wechat::{DEFAULT_APPID, DEFAULT_SECRET, FakeConfig, FakeWeChat, Interaction};
use wxhost::outbox::{Action, NewEntry};
use wxhost::store::Store;
use wxhost::wechat::CustomBody;

const MESSAGES: usize = 1000;
/// Deliveries seen by the fake at which each kill happens.
const KILL_AT: [usize; 3] = [200, 450, 700];
const CUSTOM_SEND: &str = "/cgi-bin/message/custom/send";
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

fn openid(index: usize) -> String {
    format!("oKILL_user_{index:04}")
}

fn content(index: usize) -> String {
    format!("message {index:04}")
}

fn write_config(dir: &Path, base_url: &str) -> std::path::PathBuf {
    let path = dir.join("wxhost.toml");
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"

[store]
path = "wxhost.db"

[outbox]
poll_ms = 20
retry_base_ms = 10
retry_max_ms = 100
worker_timeout_secs = 2

[[accounts]]
name = "demo"
appid = "{DEFAULT_APPID}"
token = "fake:faketoken"
app_secret = "fake:{DEFAULT_SECRET}"
api_base_url = "{base_url}"
"#
    );
    std::fs::write(&path, text).expect("write the config");
    path
}

fn enqueue(store: &Store) {
    let entries: Vec<NewEntry> = (0..MESSAGES)
        .map(|index| {
            let action = Action::Custom {
                body: CustomBody::Text {
                    content: content(index),
                },
                kf_account: None,
            };
            NewEntry {
                idempotency_key: format!("kill-test-{index:04}"),
                account: "demo".to_owned(),
                openid: openid(index),
                source: "kill-test".to_owned(),
                kind: action.kind().to_owned(),
                action: serde_json::to_string(&action).expect("action serializes"),
            }
        })
        .collect();
    assert_eq!(store.outbox_insert(&entries, 0).expect("enqueue"), MESSAGES);
}

fn start_host(config: &Path, log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("open the host log");
    Command::new(env!("CARGO_BIN_EXE_wxhost"))
        .args(["serve", "--config"])
        .arg(config)
        .env("RUST_LOG", "wxhost=warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start wxhost")
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < STEP_TIMEOUT,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn count(store: &Store, state: &str) -> u64 {
    store
        .outbox_counts()
        .expect("outbox counts")
        .into_iter()
        .find(|(name, _)| name == state)
        .map_or(0, |(_, count)| count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_delivery_loses_nothing() {
    let fake = FakeWeChat::start(FakeConfig::default())
        .await
        .expect("fake starts");
    for index in 0..MESSAGES {
        fake.record_interaction(DEFAULT_APPID, &openid(index), Interaction::Message)
            .expect("fake knows the appid");
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = write_config(dir.path(), fake.base_url());
    let store = Store::open(&dir.path().join("wxhost.db")).expect("open the store");
    enqueue(&store);
    let log = dir.path().join("wxhost.log");

    let delivered = || fake.deliveries().len();
    for kill_at in KILL_AT {
        let mut host = start_host(&config, &log);
        wait_for(&format!("{kill_at} deliveries"), || delivered() >= kill_at).await;
        host.kill().expect("SIGKILL the host");
        host.wait().expect("reap the host");
        eprintln!("killed at {} deliveries", delivered());
    }

    let mut host = start_host(&config, &log);
    wait_for("the outbox to drain", || {
        count(&store, "sent") == MESSAGES as u64
    })
    .await;
    host.kill().expect("stop the host");
    host.wait().expect("reap the host");

    let mut received: BTreeMap<String, usize> = BTreeMap::new();
    for delivery in fake.deliveries() {
        assert_eq!(delivery.api, CUSTOM_SEND);
        let text = delivery.body["text"]["content"]
            .as_str()
            .expect("text content")
            .to_owned();
        *received.entry(text).or_default() += 1;
    }
    let missing: Vec<String> = (0..MESSAGES)
        .map(content)
        .filter(|text| !received.contains_key(text))
        .collect();
    assert_eq!(missing, Vec::<String>::new(), "messages never delivered");
    assert_eq!(received.len(), MESSAGES);
    let duplicates: usize = received.values().map(|count| count - 1).sum();
    eprintln!(
        "{MESSAGES} messages, {} kills, {duplicates} duplicates",
        KILL_AT.len()
    );
    assert!(
        duplicates <= KILL_AT.len(),
        "{duplicates} duplicates after {} kills",
        KILL_AT.len()
    );
    assert_eq!(count(&store, "dead"), 0);
    assert_eq!(
        fake.requests_to("/cgi-bin/stable_token").len(),
        1,
        "restarts reuse the stored access token"
    );
}
