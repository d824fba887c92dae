//! Plugin files and the config replaced while callbacks flow.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde_json::Value;
use wxhost::lifecycle::content_hash;
use wxhost_tests::plugins;

use super::lifecycle_support::{
    ACTIONS_REPLY, EMPTY_COMPONENT, admin, eventually, install, lifecycle_config, main_plugin,
    metric, plugin_reports, replace_by_rename, send_text,
};
use super::support::{TestHost, USER_1};

/// One replacement of the plugin file and what the reload must report.
enum Replacement {
    Good(&'static str),
    Truncated,
    NoWorld,
}

fn replacements() -> Vec<Replacement> {
    (0..20)
        .map(|index| match index % 5 {
            3 => Replacement::Truncated,
            4 => Replacement::NoWorld,
            _ if index % 2 == 0 => Replacement::Good(plugins::ACTIONS),
            _ => Replacement::Good(plugins::ECHO),
        })
        .collect()
}

/// Counts of the replies the clients received.
#[derive(Default)]
struct Tally {
    echo: AtomicU64,
    actions: AtomicU64,
    other: AtomicU64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reload_under_load_drops_nothing() {
    let config = lifecycle_config("watch = false", &main_plugin(""));
    let host = TestHost::start_with_files(&config, &[("main.wasm", plugins::ECHO)]).await;
    let host = Arc::new(host);

    // Four clients send text callbacks until the replacements are done.
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let next_msg_id = Arc::new(AtomicU64::new(25_000_000_000_000_000));
    let mut clients = Vec::new();
    for client in 0..4 {
        let (host, stop, tally, next) = (
            host.clone(),
            stop.clone(),
            tally.clone(),
            next_msg_id.clone(),
        );
        clients.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let msg_id = next.fetch_add(1, Ordering::Relaxed);
                let content = format!("c{client}-{msg_id}");
                let reply = send_text(&host, USER_1, &content, msg_id).await;
                let counter = if reply == content {
                    &tally.echo
                } else if reply == ACTIONS_REPLY {
                    &tally.actions
                } else {
                    &tally.other
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    let echo_bytes = plugins::read(plugins::ECHO);
    let mut serving = content_hash(&echo_bytes);
    let (mut loaded, mut failed) = (0, 0);
    for (index, replacement) in replacements().into_iter().enumerate() {
        let bytes = match replacement {
            Replacement::Good(path) => plugins::read(path),
            Replacement::Truncated => echo_bytes[..echo_bytes.len() / 2].to_vec(),
            Replacement::NoWorld => EMPTY_COMPONENT.to_vec(),
        };
        replace_by_rename(host.dir(), "main.wasm", &bytes);
        let (status, body) = admin(&host, "POST", "/admin/plugins/reload").await;
        assert_eq!(status, 200, "{body}");
        let reload: Value = serde_json::from_str(&body).expect("JSON body");
        let file = &reload["files"][0];
        let good = matches!(replacement, Replacement::Good(_));
        if good {
            serving = content_hash(&bytes);
            loaded += 1;
        } else {
            failed += 1;
        }
        let expected = if good { "loaded" } else { "failed" };
        assert_eq!(file["result"], expected, "replacement {index}: {body}");
        assert_eq!(file["version"], serving.as_str(), "replacement {index}");

        let report = plugin_reports(&host).await;
        let live = &report["plugins"][0]["versions"][0];
        assert_eq!(live["version"], serving.as_str(), "replacement {index}");
        assert_eq!(live["state"], if good { "serving" } else { "failed" });
        if !good {
            let error = live["last_error"].as_str().expect("last error is set");
            assert!(
                error.starts_with("failed to load plugin main (live) from "),
                "{error}"
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.expect("client task finishes");
    }

    let (echo, actions, other) = (
        tally.echo.load(Ordering::Relaxed),
        tally.actions.load(Ordering::Relaxed),
        tally.other.load(Ordering::Relaxed),
    );
    assert_eq!(other, 0, "replies from neither version");
    assert!(echo > 0, "no reply from echo");
    assert!(actions > 0, "no reply from actions");
    assert_eq!((loaded, failed), (12, 8));
    let reloads = r#"wxhost_plugin_reloads_total{plugin="main",role="live",result="#;
    assert_eq!(metric(&host, &format!("{reloads}\"loaded\"}}")).await, 12.0);
    assert_eq!(metric(&host, &format!("{reloads}\"failed\"}}")).await, 8.0);
    println!("reload under load: {echo} echo and {actions} actions replies, 0 failed");
}

#[tokio::test]
async fn watcher_loads_replaced_file() {
    let config = lifecycle_config("poll_interval_ms = 50", &main_plugin(""));
    let host = TestHost::start_with_files(&config, &[("main.wasm", plugins::ECHO)]).await;
    assert_eq!(
        send_text(&host, USER_1, "before", 25_000_000_000_100_001).await,
        "before"
    );

    replace_by_rename(host.dir(), "main.wasm", &plugins::read(plugins::ACTIONS));
    let mut msg_id = 25_000_000_000_100_002;
    eventually("the watcher to load the new file", || {
        msg_id += 1;
        let host = &host;
        async move { send_text(host, USER_1, "after", msg_id).await == ACTIONS_REPLY }
    })
    .await;

    // A broken file leaves the new version serving, with the reason shown.
    std::fs::write(host.dir().join("main.wasm"), EMPTY_COMPONENT).expect("write");
    eventually("the watcher to reject the file", || async {
        plugin_reports(&host).await["plugins"][0]["versions"][0]["state"] == "failed"
    })
    .await;
    let report = plugin_reports(&host).await;
    let live = &report["plugins"][0]["versions"][0];
    assert_eq!(
        live["version"],
        content_hash(&plugins::read(plugins::ACTIONS)).as_str()
    );
    let error = live["last_error"].as_str().expect("last error is set");
    assert!(
        error.contains("does not export the wxhost:plugin/plugin world"),
        "{error}"
    );
    assert_eq!(
        send_text(&host, USER_1, "still", 25_000_000_000_100_900).await,
        ACTIONS_REPLY
    );
}

#[tokio::test]
async fn invalid_config_keeps_old_one() {
    let config = lifecycle_config("watch = false", &main_plugin(""));
    let host = TestHost::start_with_files(&config, &[("main.wasm", plugins::ECHO)]).await;

    let invalid = config
        .replace("reply_budget_ms = 2000", "reply_budget_ms = 9000")
        .replace("{dir}/main.wasm", "{dir}/missing.wasm");
    host.write_config(&invalid);
    let (status, body) = admin(&host, "POST", "/admin/config/reload").await;
    assert_eq!(status, 422, "{body}");
    let answer: Value = serde_json::from_str(&body).expect("JSON body");
    let missing = host.dir().join("missing.wasm");
    assert_eq!(
        answer["problems"],
        serde_json::json!([
            "server.reply_budget_ms: 9000 is out of range; use 100 to 4500 (WeChat waits 5000 ms)",
            format!(
                "plugins[0].path: plugin file {} not found; build the plugins first (see README) or fix the path",
                missing.display()
            ),
        ])
    );
    assert_eq!(
        send_text(&host, USER_1, "old", 25_000_000_000_200_001).await,
        "old"
    );
    assert_eq!(
        metric(&host, r#"wxhost_config_reloads_total{result="rejected"}"#).await,
        1.0
    );

    // A valid config that points the plugin elsewhere and moves the
    // listener applies at once, except for the listener.
    install(host.dir(), "other.wasm", plugins::ACTIONS);
    let valid = config
        .replace("{dir}/main.wasm", "{dir}/other.wasm")
        .replace(
            "reply_budget_ms = 2000",
            "reply_budget_ms = 2000\nlisten = \"127.0.0.1:1\"",
        );
    host.write_config(&valid);
    let (status, body) = admin(&host, "POST", "/admin/config/reload").await;
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(
        answer["report"]["reloaded_plugins"],
        serde_json::json!(["main"])
    );
    assert_eq!(
        answer["report"]["restart_required"],
        serde_json::json!(["server.listen"])
    );
    assert_eq!(
        send_text(&host, USER_1, "new", 25_000_000_000_200_002).await,
        ACTIONS_REPLY
    );
}

#[test]
fn artifact_cache_skips_compilation() {
    use wxhost::runtime::{
        ArtifactCache, LoadSource, PluginRuntime, PluginSettings, RuntimeConfig,
    };

    let dir = tempfile::tempdir().expect("temporary directory");
    let cache = ArtifactCache::open(dir.path()).expect("cache opens");
    let runtime = PluginRuntime::new(RuntimeConfig {
        max_instances: 2,
        ..RuntimeConfig::default()
    })
    .expect("runtime starts");
    let wasm = plugins::read(plugins::KEYWORD);
    let load = || {
        let (plugin, source) = runtime
            .load_cached("keyword", &wasm, PluginSettings::default(), Some(&cache))
            .expect("keyword plugin loads");
        assert_eq!(plugin.content_hash(), content_hash(&wasm));
        source
    };

    let LoadSource::Compiled(compiled) = load() else {
        panic!("the first load compiles");
    };
    let LoadSource::Cached(cached) = load() else {
        panic!("the second load reads the cache");
    };
    let files = std::fs::read_dir(dir.path()).expect("cache lists").count();
    assert_eq!(files, 1);
    println!("keyword plugin: compiled in {compiled:?}, read from the cache in {cached:?}");
}
