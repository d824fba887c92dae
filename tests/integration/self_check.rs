//! The `self-check` export: config problems caught by `wxhost check`, by
//! config reloads and by `wxhost plugin check` and `run`.

use std::path::{Path, PathBuf};

use serde_json::Value;
use wxhost::app::Host;
use wxhost::cli::plugin::{RunArgs, check, run};
use wxhost::config::{Config, DEFAULT_MAX_BINARY_BYTES};
use wxhost::runtime::{PluginRuntime, PluginSettings, RuntimeConfig, SelfCheck};
use wxhost_tests::plugins;

use wxhost::lifecycle::content_hash;

use crate::lifecycle_support::{
    ACTIONS_REPLY, admin, install, lifecycle_config, main_plugin, plugin_reports, send_text,
};
use crate::support::{TestHost, USER_1, plugin_dir};

/// The problem that the keyword plugin reports for `mode = "randomone"`.
const RANDOMONE_PROBLEM: &str = "invalid config value `groups`: unknown variant `randomone`, \
     expected `reply_all` or `random_one`; \
     fix `groups` in the plugin's config table";

const TEXT_EVENT: &str = "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[oFollower0001]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello]]></Content><MsgId>1</MsgId></xml>";

/// Returns a `[[plugins]]` table of the keyword plugin with one group
/// whose reply mode is `mode`.
fn keyword_plugin(mode: &str) -> String {
    format!(
        r#"
[[plugins]]
name = "keyword"
path = "{{plugins}}/plugin_keyword.wasm"
messages = ["text"]

[[plugins.config.groups]]
name = "greeting"
phrases = [{{ match = "exact", text = "hello" }}]
replies = [{{ text = "Hi there!" }}]
mode = "{mode}"
"#
    )
}

/// Writes `text`, with `{dir}` and `{plugins}` expanded, to `dir/wxhost.toml`.
fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("wxhost.toml");
    let text = text
        .replace("{dir}", &dir.display().to_string())
        .replace("{plugins}", &plugin_dir().display().to_string());
    std::fs::write(&path, text).expect("write the config");
    path
}

#[test]
fn check_reports_keyword_mode() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = lifecycle_config("watch = false", &keyword_plugin("randomone"));
    let path = write_config(dir.path(), &config);

    // `wxhost check --config FILE` loads the config and builds the host.
    let loaded = Config::load(&path).expect("the config itself is valid");
    let error = match Host::build(&loaded) {
        Ok(_) => panic!("the keyword self-check rejects mode = \"randomone\""),
        Err(error) => error.to_string(),
    };
    assert_eq!(
        error,
        format!(
            "plugins[0].config: plugin keyword (live) rejects it in its self-check: {RANDOMONE_PROBLEM}"
        )
    );
}

#[tokio::test]
async fn reload_rejects_keyword_mode() {
    let config = lifecycle_config("watch = false", &keyword_plugin("random_one"));
    let host = TestHost::start(&config).await;
    assert_eq!(
        send_text(&host, USER_1, "hello", 26_000_000_000_000_001).await,
        "Hi there!"
    );

    host.write_config(&lifecycle_config(
        "watch = false",
        &keyword_plugin("randomone"),
    ));
    let (status, body) = admin(&host, "POST", "/admin/config/reload").await;
    assert_eq!(status, 422, "{body}");
    let answer: Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(answer["applied"], false);
    assert_eq!(
        answer["problems"],
        serde_json::json!([format!(
            "plugins[0].config: plugin keyword (live) rejects it in its self-check: {RANDOMONE_PROBLEM}"
        )])
    );
    assert_eq!(
        send_text(&host, USER_1, "hello", 26_000_000_000_000_002).await,
        "Hi there!"
    );
}

#[test]
fn component_without_self_check_loads() {
    let runtime = PluginRuntime::new(RuntimeConfig {
        max_instances: 1,
        ..RuntimeConfig::default()
    })
    .expect("runtime starts");
    let actions = runtime
        .load(
            "actions",
            &plugins::read(plugins::ACTIONS),
            PluginSettings::default(),
        )
        .expect("a component of the plain plugin world loads");
    assert!(!actions.has_self_check());
    assert_eq!(actions.self_check(), Ok(SelfCheck::NotExported));

    let echo = runtime
        .load(
            "echo",
            &plugins::read(plugins::ECHO),
            PluginSettings::default(),
        )
        .expect("an SDK plugin loads");
    assert!(echo.has_self_check());
    assert_eq!(echo.self_check(), Ok(SelfCheck::Passed));
}

#[test]
fn plugin_check_shows_self_check() {
    let echo = check::check(Path::new(plugins::ECHO), DEFAULT_MAX_BINARY_BYTES)
        .expect("echo passes the check")
        .to_string();
    assert!(
        echo.lines().any(|line| line
            == "self-check: exported; the host runs it with the plugin's config before serving"),
        "{echo}"
    );

    let actions = check::check(Path::new(plugins::ACTIONS), DEFAULT_MAX_BINARY_BYTES)
        .expect("actions passes the check")
        .to_string();
    assert!(
        actions.lines().any(|line| line
            == "self-check: not exported; the host loads the component without checking its config"),
        "{actions}"
    );
}

#[test]
fn plugin_run_stops_on_self_check() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let event = dir.path().join("text.xml");
    std::fs::write(&event, TEXT_EVENT).expect("write the event");
    let settings = dir.path().join("keyword.toml");
    std::fs::write(
        &settings,
        r#"
[[config.groups]]
phrases = [{ match = "exact", text = "hello" }]
replies = [{ text = "Hi there!" }]
mode = "randomone"
"#,
    )
    .expect("write the settings");

    let report = run::run(&RunArgs {
        file: PathBuf::from(plugins::KEYWORD),
        event,
        config: Some(settings),
        account: "demo".to_owned(),
    })
    .expect("the plugin loads");
    assert!(!report.passed());
    assert!(!report.event_run);
    assert_eq!(
        report.self_check,
        SelfCheck::Failed(vec![RANDOMONE_PROBLEM.to_owned()])
    );
    let text = report.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[1], "self-check: failed with these problems:");
    assert_eq!(lines[2], format!("  {RANDOMONE_PROBLEM}"));
    assert_eq!(
        lines[3],
        "event: text, not run because the self-check failed"
    );
}

#[tokio::test]
async fn file_reload_keeps_checked_version() {
    let config = lifecycle_config("watch = false", &main_plugin(""));
    let host = TestHost::start_with_files(&config, &[("main.wasm", plugins::ACTIONS)]).await;
    assert_eq!(
        send_text(&host, USER_1, "before", 26_000_000_000_000_101).await,
        ACTIONS_REPLY
    );

    // The qa-bridge plugin requires `url`, which the `main` table lacks.
    install(host.dir(), "main.wasm", plugins::QA_BRIDGE);
    let (status, body) = admin(&host, "POST", "/admin/plugins/reload").await;
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(answer["files"][0]["result"], "failed");

    let report = plugin_reports(&host).await;
    let live = &report["plugins"][0]["versions"][0];
    assert_eq!(live["state"], "failed");
    assert_eq!(
        live["version"],
        content_hash(&plugins::read(plugins::ACTIONS)).as_str()
    );
    assert_eq!(
        live["last_error"],
        format!(
            "plugin main (live) from {} rejects its config in its self-check: \
             missing config value `url`: set `url` in the plugin's config table",
            host.dir().join("main.wasm").display()
        )
    );
    assert_eq!(
        send_text(&host, USER_1, "after", 26_000_000_000_000_102).await,
        ACTIONS_REPLY
    );
}
