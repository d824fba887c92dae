//! Fresh instances per call, kv grants and limits, the log cap and the
//! deny-all WASI context.

use std::io::Write;
use std::sync::{Arc, Mutex};

use wxhost::protocol::message::Event;
use wxhost::protocol::reply::Reply;
use wxhost::runtime::{Directive, PluginFault, PluginLimits};
use wxhost_tests::plugins;

use crate::runtime_support::{ACCOUNT, event, load, load_with_kv, memory_kv, text};

fn reply_text(text: &str) -> Vec<Directive> {
    vec![Directive::Reply(Reply::Text(text.to_owned()))]
}

#[test]
fn kv_counter_fresh_instance() {
    let plugin = load_with_kv(
        "counter",
        plugins::KV_COUNTER,
        &[],
        PluginLimits::default(),
        true,
    );
    let kv = memory_kv();
    for count in 1..=3 {
        let directives = plugin.handle(ACCOUNT, &text("hi"), &kv).unwrap();
        assert_eq!(
            directives,
            reply_text(&format!("count={count} instance_calls=1"))
        );
    }
}

#[test]
fn kv_counter_per_follower_and_account() {
    let plugin = load_with_kv(
        "counter",
        plugins::KV_COUNTER,
        &[],
        PluginLimits::default(),
        true,
    );
    let kv = memory_kv();
    let mut other_follower = text("hi");
    other_follower.from_user = "oFollower0002".to_owned();

    plugin.handle(ACCOUNT, &text("hi"), &kv).unwrap();
    let directives = plugin.handle(ACCOUNT, &other_follower, &kv).unwrap();
    assert_eq!(directives, reply_text("count=1 instance_calls=1"));
    let directives = plugin.handle("other-account", &text("hi"), &kv).unwrap();
    assert_eq!(directives, reply_text("count=1 instance_calls=1"));
    let directives = plugin.handle(ACCOUNT, &text("hi"), &kv).unwrap();
    assert_eq!(directives, reply_text("count=2 instance_calls=1"));
}

#[test]
fn kv_not_granted() {
    let plugin = load("counter", plugins::KV_COUNTER, &[], PluginLimits::default());
    let directives = plugin.handle(ACCOUNT, &text("hi"), &memory_kv()).unwrap();
    assert_eq!(directives, reply_text("kv error: not-permitted"));
}

#[test]
fn kv_key_too_large() {
    let plugin = load_with_kv(
        "counter",
        plugins::KV_COUNTER,
        &[],
        PluginLimits::default(),
        true,
    );
    // The plugin's key is `count:` plus the openid: 6 + 251 = 257 bytes.
    let mut long_follower = text("hi");
    long_follower.from_user = "o".repeat(251);
    let directives = plugin
        .handle(ACCOUNT, &long_follower, &memory_kv())
        .unwrap();
    assert_eq!(directives, reply_text("kv error: too-large"));

    // 256 bytes is still accepted.
    long_follower.from_user = "o".repeat(250);
    let directives = plugin
        .handle(ACCOUNT, &long_follower, &memory_kv())
        .unwrap();
    assert_eq!(directives, reply_text("count=1 instance_calls=1"));
}

#[test]
fn echo_event_scene() {
    let plugin = load("echo", plugins::ECHO, &[], PluginLimits::default());
    let subscribe = event(Event::Subscribe {
        scene: Some("promo".to_owned()),
        ticket: Some("TICKET".to_owned()),
        event_key: Some("qrscene_promo".to_owned()),
    });
    let directives = plugin.handle(ACCOUNT, &subscribe, &memory_kv()).unwrap();
    assert_eq!(directives, reply_text("event=subscribe key=promo"));

    let click = event(Event::Click {
        key: "MENU_NEWS".to_owned(),
    });
    let directives = plugin.handle(ACCOUNT, &click, &memory_kv()).unwrap();
    assert_eq!(directives, reply_text("event=click key=MENU_NEWS"));
}

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn handle_capturing_logs(records: &str, max_log_bytes_per_call: usize) -> String {
    let limits = PluginLimits {
        max_log_bytes_per_call,
        ..PluginLimits::default()
    };
    let plugin = load("echo", plugins::ECHO, &[("log_records", records)], limits);
    let logs = CapturedLogs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let directives = tracing::subscriber::with_default(subscriber, || {
        plugin.handle(ACCOUNT, &text("hi"), &memory_kv()).unwrap()
    });
    assert_eq!(directives, reply_text("hi"));
    logs.text()
}

#[test]
fn log_cap_obeyed() {
    // 10 records of 100 bytes fit a 1000-byte cap exactly.
    let logs = handle_capturing_logs("10", 1000);
    assert_eq!(logs.matches("echo log record").count(), 10);
    assert_eq!(logs.matches("plugin=\"echo\"").count(), 10);
    assert_eq!(logs.matches("dropped").count(), 0);
}

#[test]
fn log_cap_violated() {
    let logs = handle_capturing_logs("100", 4096);
    assert_eq!(logs.matches("echo log record").count(), 40);
    assert_eq!(
        logs.matches("plugin log records dropped past the per-call cap")
            .count(),
        1
    );
    assert!(logs.contains("dropped=60"), "{logs}");
}

#[test]
fn wasi_grants_nothing() {
    let plugin = load("probe", plugins::WASI_PROBE, &[], PluginLimits::default());
    let directives = plugin.handle(ACCOUNT, &text("hi"), &memory_kv()).unwrap();
    assert_eq!(
        directives,
        reply_text("env=0 args=0 stdin=0 time=0 map=1 fs=err")
    );
}

#[test]
fn wasi_sleep_traps() {
    let plugin = load(
        "probe-sleep",
        plugins::WASI_PROBE,
        &[("mode", "\"sleep\"")],
        PluginLimits::default(),
    );
    let started = std::time::Instant::now();
    let fault = plugin
        .handle(ACCOUNT, &text("hi"), &memory_kv())
        .unwrap_err();
    assert_eq!(
        fault,
        PluginFault::Trap {
            plugin: "probe-sleep".to_owned(),
            message: "plugins cannot sleep: wasi:clocks/monotonic-clock is fixed at 0".to_owned(),
            stderr: String::new(),
        }
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}
