//! kill -9 of the real `wxhost` binary while its outbox worker delivers
//! 1,000 customer-service messages to a fake of WeChat in this process,
//! under both `outbox.in_doubt` policies.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use wxhost::fake_wechat::{DEFAULT_APPID, DEFAULT_SECRET, FakeConfig, FakeWeChat, Interaction};
use wxhost::outbox::{Action, EntryState, NewEntry};
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

fn write_config(dir: &Path, base_url: &str, in_doubt: &str) -> std::path::PathBuf {
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
in_doubt = "{in_doubt}"

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

/// What a run of kills leaves behind: the messages the fake received,
/// with their counts, and the store.
struct KillRun {
    received: BTreeMap<String, usize>,
    store: Store,
    _dir: tempfile::TempDir,
}

/// Queues the messages, kills the host at each of `KILL_AT`, then lets a
/// last host run until no entry is pending or sending.
async fn run_with_kills(in_doubt: &str) -> KillRun {
    let fake = FakeWeChat::start(FakeConfig::default())
        .await
        .expect("fake starts");
    for index in 0..MESSAGES {
        fake.record_interaction(DEFAULT_APPID, &openid(index), Interaction::Message)
            .expect("fake knows the appid");
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = write_config(dir.path(), fake.base_url(), in_doubt);
    let store = Store::open(&dir.path().join("wxhost.db")).expect("open the store");
    enqueue(&store);
    let log = dir.path().join("wxhost.log");

    let delivered = || fake.deliveries().len();
    for kill_at in KILL_AT {
        let mut host = start_host(&config, &log);
        wait_for(&format!("{kill_at} deliveries"), || delivered() >= kill_at).await;
        host.kill().expect("SIGKILL the host");
        host.wait().expect("reap the host");
        eprintln!("{in_doubt}: killed at {} deliveries", delivered());
    }

    let mut host = start_host(&config, &log);
    wait_for("the outbox to drain", || {
        count(&store, "pending") == 0 && count(&store, "sending") == 0
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
    assert_eq!(count(&store, "dead"), 0);
    assert_eq!(
        fake.requests_to("/cgi-bin/stable_token").len(),
        1,
        "restarts reuse the stored access token"
    );
    KillRun {
        received,
        store,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_policy_loses_nothing() {
    let run = run_with_kills("resend").await;

    let missing: Vec<String> = (0..MESSAGES)
        .map(content)
        .filter(|text| !run.received.contains_key(text))
        .collect();
    assert_eq!(missing, Vec::<String>::new(), "messages never delivered");
    assert_eq!(run.received.len(), MESSAGES);
    assert_eq!(count(&run.store, "sent"), MESSAGES as u64);
    let duplicates: usize = run.received.values().map(|count| count - 1).sum();
    eprintln!(
        "resend: {MESSAGES} messages, {} kills, {duplicates} duplicates",
        KILL_AT.len()
    );
    assert!(
        duplicates <= KILL_AT.len(),
        "{duplicates} duplicates after {} kills",
        KILL_AT.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_policy_sends_nothing_twice() {
    let run = run_with_kills("hold").await;

    let duplicated: Vec<&String> = run
        .received
        .iter()
        .filter(|(_, count)| **count > 1)
        .map(|(text, _)| text)
        .collect();
    assert_eq!(duplicated, Vec::<&String>::new(), "messages sent twice");

    let in_doubt = run
        .store
        .outbox_list(Some(EntryState::InDoubt), MESSAGES)
        .expect("list in_doubt entries");
    assert!(
        in_doubt.len() <= KILL_AT.len(),
        "{} entries in doubt after {} kills",
        in_doubt.len(),
        KILL_AT.len()
    );
    assert_eq!(
        count(&run.store, "sent") + in_doubt.len() as u64,
        MESSAGES as u64
    );
    // Entries were queued in order, so entry id N carries message N - 1.
    let held: Vec<String> = in_doubt
        .iter()
        .map(|entry| content(usize::try_from(entry.id - 1).expect("ids start at 1")))
        .collect();
    let missing: Vec<String> = (0..MESSAGES)
        .map(content)
        .filter(|text| !run.received.contains_key(text))
        .filter(|text| !held.contains(text))
        .collect();
    assert_eq!(
        missing,
        Vec::<String>::new(),
        "messages neither sent nor held"
    );
    eprintln!(
        "hold: {MESSAGES} messages, {} kills, {} in doubt, {} of them never reached the fake",
        KILL_AT.len(),
        held.len(),
        held.iter()
            .filter(|text| !run.received.contains_key(*text))
            .count()
    );
}
