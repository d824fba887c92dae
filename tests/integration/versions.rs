//! Canary and shadow versions, rollback, the breaker, failure policies
//! and replay of a recording.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use wxhost::lifecycle::{canary, content_hash};
use wxhost::logging::LogIds;
use wxhost::recording::{pseudonym, read_records, replay};
use wxhost::runtime::{PluginRuntime, PluginSettings, RuntimeConfig};
use wxhost_tests::plugins;

use super::lifecycle_support::{
    ACTIONS_REPLY, admin, eventually, lifecycle_config, main_plugin, metric, plugin_reports,
    replace_by_rename, send_text,
};
use super::outbox_support::{CUSTOM_SEND, deliveries_to, follower_writes, outbox_count, start};
use super::services_support::{QRCODE_CREATE, WELCOME, follow, reply_text, say, unfollow};
use super::support::{TestHost, USER_1};

const ECHO_MAIN: &str = "{plugins}/plugin_echo.wasm";

#[tokio::test]
async fn canary_serves_its_share() {
    let plugin = main_plugin(
        r#"
[plugins.canary]
path = "{plugins}/plugin_actions.wasm"
percent = 30
"#,
    )
    .replace("{dir}/main.wasm", ECHO_MAIN);
    let host = TestHost::start(&lifecycle_config("watch = false", &plugin)).await;

    let mut canary_replies = 0;
    for index in 0..200u64 {
        let openid = format!("oFAKE_canary_{index:05}");
        let content = format!("hello {index}");
        let reply = send_text(&host, &openid, &content, 26_000_000_000_000_000 + index).await;
        let expected = if canary::selects("main", &openid, 30.0) {
            canary_replies += 1;
            ACTIONS_REPLY.to_owned()
        } else {
            content
        };
        assert_eq!(reply, expected, "{openid}");
    }
    assert_eq!(canary_replies, 53);
    let calls = r#"wxhost_plugin_calls_total{plugin="main",role="canary",result="ok"}"#;
    assert_eq!(metric(&host, calls).await, 53.0);
}

#[tokio::test]
async fn trapping_canary_rolls_back() {
    let plugin = main_plugin(
        r#"
[plugins.canary]
path = "{plugins}/plugin_trap.wasm"
percent = 100
min_calls = 3
max_fault_rate = 0.5
"#,
    )
    .replace("{dir}/main.wasm", ECHO_MAIN);
    let host = TestHost::start(&lifecycle_config("watch = false", &plugin)).await;

    for index in 0..3 {
        let reply = send_text(&host, USER_1, "hi", 26_000_000_000_100_000 + index).await;
        assert_eq!(reply, "success", "canary call {index} faults");
    }
    let reply = send_text(&host, USER_1, "after", 26_000_000_000_100_010).await;
    assert_eq!(reply, "after", "the live version serves after the rollback");

    let report = plugin_reports(&host).await;
    let canary = &report["plugins"][0]["versions"][1];
    assert_eq!(canary["role"], "canary");
    assert_eq!(canary["state"], "rolled_back");
    assert_eq!(canary["version"], serde_json::Value::Null);
    assert_eq!(
        canary["last_error"],
        "rolled back: 3 of 3 canary calls within 60 s faulted"
    );
    assert_eq!(
        metric(&host, r#"wxhost_canary_rollbacks_total{plugin="main"}"#).await,
        1.0
    );
    let faults = r#"wxhost_plugin_faults_total{plugin="main",role="canary",kind="trap"}"#;
    assert_eq!(metric(&host, faults).await, 3.0);
}

#[tokio::test]
async fn shadow_sends_nothing() {
    let shadow = r#"
[[plugins]]
name = "main"
path = "{plugins}/plugin_echo.wasm"
messages = ["text"]

[plugins.shadow]
path = "{plugins}/plugin_actions.wasm"

[plugins.config]
reply = "shadow reply"

[[plugins.config.actions]]
kind = "text"
content = "from the shadow"
"#;
    let (fake, host) = start("reply_budget_ms = 2000", shadow).await;
    follower_writes(&fake);

    let reply = send_text_to(&host, "demo", "live only", 26_000_000_000_200_001).await;
    assert_eq!(reply, "live only");
    let changed = r#"wxhost_shadow_runs_total{plugin="main",result="changed"}"#;
    eventually("the shadow run", || async {
        metric(&host, changed).await == 1.0
    })
    .await;

    // Give a wrongly queued action time to reach the fake.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for state in ["pending", "sending", "sent", "dead"] {
        assert_eq!(outbox_count(&host, state), 0, "{state}");
    }
    assert!(deliveries_to(&fake, CUSTOM_SEND).is_empty());
    assert!(fake.deliveries().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shadow_reads_follower_ledger() {
    let welcome = WELCOME.replace(
        "capabilities = [\"kv\", \"followers\"]",
        "capabilities = [\"kv\", \"followers\"]\n\n[plugins.shadow]\npath = \"{plugins}/plugin_welcome.wasm\"",
    );
    assert_ne!(welcome, WELCOME, "the shadow table was added");
    let (_fake, host) = start("reply_budget_ms = 4000", &welcome).await;

    let client = host.client("demo");
    let first = follow(&client, USER_1, 1_700_000_001, None).await;
    assert_eq!(reply_text(&first), "欢迎新朋友");
    let gone = unfollow(&client, USER_1, 1_700_000_002).await;
    assert_eq!(gone.text(), "success");
    // Only the ledger distinguishes a returning follower from a new one.
    let back = follow(&client, USER_1, 1_700_000_003, None).await;
    assert_eq!(reply_text(&back), "欢迎回来");

    let same = r#"wxhost_shadow_runs_total{plugin="welcome",result="same"}"#;
    let changed = r#"wxhost_shadow_runs_total{plugin="welcome",result="changed"}"#;
    eventually("three shadow runs", || async {
        metric(&host, same).await + metric(&host, changed).await == 3.0
    })
    .await;
    assert_eq!(metric(&host, changed).await, 0.0);
    assert_eq!(metric(&host, same).await, 3.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shadow_creates_no_qr_code() {
    let plugins = r#"
[[plugins]]
name = "main"
path = "{plugins}/plugin_echo.wasm"
messages = ["text"]
capabilities = ["kv", "followers", "qrcode", "media"]

[plugins.shadow]
path = "{plugins}/plugin_services_probe.wasm"
"#;
    let (fake, host) = start("reply_budget_ms = 4000", plugins).await;

    let reply = reply_text(&say(&host.client("demo"), USER_1, "qr shadow1", 1).await);
    assert_eq!(reply, "qr shadow1");
    let changed = r#"wxhost_shadow_runs_total{plugin="main",result="changed"}"#;
    eventually("the shadow run", || async {
        metric(&host, changed).await == 1.0
    })
    .await;
    assert!(fake.requests_to(QRCODE_CREATE).is_empty());
    assert!(fake.deliveries().is_empty());
}

async fn send_text_to(host: &TestHost, account: &str, content: &str, msg_id: u64) -> String {
    let xml = super::support::wechat::text_xml(USER_1, content, msg_id);
    let answer = host
        .client(account)
        .post(super::support::Mode::Plain, &xml)
        .await;
    super::lifecycle_support::reply_content(&answer.text())
}

#[tokio::test]
async fn breaker_opens_and_closes() {
    let plugins = r#"
[[plugins]]
name = "flaky"
path = "{dir}/flaky.wasm"
messages = ["text"]
on_fault = "next"

[plugins.breaker]
failures = 3
cool_down_ms = 3000

[plugins.config]
reply = "flaky fixed"

[[plugins]]
name = "echo"
path = "{plugins}/plugin_echo.wasm"
messages = ["text"]
"#;
    let config = lifecycle_config("watch = false", plugins);
    let host = TestHost::start_with_files(&config, &[("flaky.wasm", plugins::TRAP)]).await;
    let breaker = |report: &serde_json::Value| report["plugins"][0]["breaker"].clone();

    for index in 0..3 {
        let content = format!("fault {index}");
        let reply = send_text(&host, USER_1, &content, 26_000_000_000_300_000 + index).await;
        assert_eq!(reply, content, "the next plugin answers");
    }
    let opened = Instant::now();
    let report = plugin_reports(&host).await;
    assert_eq!(breaker(&report)["state"], "open");
    assert_eq!(breaker(&report)["consecutive_faults"], 3);
    assert_eq!(
        send_text(&host, USER_1, "skip", 26_000_000_000_300_010).await,
        "skip"
    );

    // A fixed build does not run before the cool-down ends.
    replace_by_rename(host.dir(), "flaky.wasm", &plugins::read(plugins::ACTIONS));
    let (status, body) = admin(&host, "POST", "/admin/plugins/reload").await;
    assert_eq!(status, 200, "{body}");
    let reload: serde_json::Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(reload["files"][0]["plugin"], "flaky");
    assert_eq!(reload["files"][0]["result"], "loaded");
    assert!(
        opened.elapsed() < Duration::from_millis(2500),
        "cool-down passed too early"
    );
    assert_eq!(
        send_text(&host, USER_1, "skip2", 26_000_000_000_300_011).await,
        "skip2"
    );
    let skipped = r#"wxhost_plugin_skipped_total{plugin="flaky"}"#;
    assert_eq!(metric(&host, skipped).await, 2.0);

    tokio::time::sleep(Duration::from_millis(3100).saturating_sub(opened.elapsed())).await;
    assert_eq!(breaker(&plugin_reports(&host).await)["state"], "half_open");
    assert_eq!(
        send_text(&host, USER_1, "probe", 26_000_000_000_300_012).await,
        "flaky fixed"
    );
    let report = plugin_reports(&host).await;
    assert_eq!(breaker(&report)["state"], "closed");
    assert_eq!(breaker(&report)["consecutive_faults"], 0);
    assert_eq!(
        metric(
            &host,
            r#"wxhost_plugin_breaker_opened_total{plugin="flaky"}"#
        )
        .await,
        1.0
    );
    assert_eq!(
        metric(&host, r#"wxhost_plugin_breaker_state{plugin="flaky"}"#).await,
        0.0
    );
}

#[tokio::test]
async fn fallback_reply_on_fault() {
    let plugins = r#"
[[plugins]]
name = "trap"
path = "{plugins}/plugin_trap.wasm"
messages = ["text"]
on_fault = "fallback"
fallback_reply = "稍后再试"
"#;
    let host = TestHost::start(&lifecycle_config("watch = false", plugins)).await;
    assert_eq!(
        send_text(&host, USER_1, "hi", 26_000_000_000_400_001).await,
        "稍后再试"
    );
}

#[tokio::test]
async fn replay_reports_changed_reply() {
    let config = lifecycle_config(
        "watch = false",
        &main_plugin("").replace("{dir}/main.wasm", ECHO_MAIN),
    )
    .replace(
        "reply_budget_ms = 2000",
        "reply_budget_ms = 2000\nlog_salt = \"fake:salt-for-tests\"",
    ) + "\n[recording]\nenabled = true\npath = \"{dir}/calls.jsonl\"\n";
    let host = TestHost::start(&config).await;
    for (index, content) in ["one", "two", "three"].into_iter().enumerate() {
        let reply = send_text(
            &host,
            USER_1,
            content,
            26_000_000_000_500_000 + index as u64,
        )
        .await;
        assert_eq!(reply, content);
    }

    let records = read_records(&host.dir().join("calls.jsonl")).expect("recording reads");
    assert_eq!(records.len(), 3);
    let follower = pseudonym(USER_1, &LogIds::new(b"salt-for-tests"));
    assert!(
        records[0]
            .xml
            .contains(&format!("<FromUserName><![CDATA[{follower}]]>"))
    );
    assert!(!records[0].xml.contains(USER_1));
    let echo_hash = content_hash(&plugins::read(plugins::ECHO));
    assert_eq!(records[0].calls[0].version, echo_hash);
    assert_eq!(
        records[0].calls[0].directives,
        Some(vec!["reply Text(\"one\")".to_owned()])
    );

    let runtime = PluginRuntime::new(RuntimeConfig {
        max_instances: 2,
        ..RuntimeConfig::default()
    })
    .expect("runtime starts");
    let settings = PluginSettings {
        config: BTreeMap::from([("reply".to_owned(), "\"fixed\"".to_owned())]),
        ..PluginSettings::default()
    };
    let changed = runtime
        .load("main", &plugins::read(plugins::ACTIONS), settings)
        .expect("actions plugin loads");
    let report = replay(&records, &changed);
    let short = &echo_hash[..12];
    let mut expected = Vec::new();
    for (index, content) in ["one", "two", "three"].into_iter().enumerate() {
        expected.push(format!(
            "record {} (account demo, text, recorded with {short}):",
            index + 1
        ));
        expected.push(format!("  -0: reply Text(\"{content}\")"));
        expected.push("  +0: reply Text(\"fixed\")".to_owned());
    }
    assert_eq!(report.lines, expected);
    assert_eq!(
        (
            report.replayed,
            report.changed,
            report.unchanged,
            report.skipped
        ),
        (3, 3, 0, 0)
    );
    assert_eq!(
        report.summary(changed.content_hash()),
        format!(
            "replayed 3 callbacks against {}: 3 changed, 0 unchanged, 0 skipped",
            changed.content_hash()
        )
    );

    let same = runtime
        .load(
            "main",
            &plugins::read(plugins::ECHO),
            PluginSettings::default(),
        )
        .expect("echo plugin loads");
    let report = replay(&records, &same);
    assert_eq!((report.changed, report.unchanged), (0, 3));
    assert!(report.lines.is_empty());
}
