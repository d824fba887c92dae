//! The Python plugin, built with componentize-py, through the real runtime.

use std::sync::LazyLock;

use wxhost::protocol::message::Event;
use wxhost::protocol::reply::Reply;
use wxhost::runtime::{Directive, Plugin, PluginLimits};
use wxhost_tests::plugins;

use crate::runtime_support::{ACCOUNT, event, load, memory_kv, text};

/// Compiling the 18 MB component takes seconds, so the tests share one load.
static PYTHON_ECHO: LazyLock<Plugin> = LazyLock::new(|| {
    load(
        "python-echo",
        plugins::PYTHON_ECHO,
        &[("prefix", "\"py\"")],
        PluginLimits::default(),
    )
});

fn reply_text(text: &str) -> Vec<Directive> {
    vec![Directive::Reply(Reply::Text(text.to_owned()))]
}

#[test]
fn python_text_reply() {
    let directives = PYTHON_ECHO.handle(ACCOUNT, &text("你好"), &memory_kv());
    assert_eq!(directives, Ok(reply_text("py: 你好")));
}

#[test]
fn python_click_reply() {
    let click = event(Event::Click {
        key: "MENU_1".to_owned(),
    });
    let directives = PYTHON_ECHO.handle(ACCOUNT, &click, &memory_kv());
    assert_eq!(directives, Ok(reply_text("py: click MENU_1")));
}

#[test]
fn python_unsubscribe_no_reply() {
    let directives = PYTHON_ECHO.handle(ACCOUNT, &event(Event::Unsubscribe), &memory_kv());
    assert_eq!(directives, Ok(vec![Directive::NoReply]));
}

#[test]
fn python_default_prefix() {
    let plugin = load(
        "python-echo-default",
        plugins::PYTHON_ECHO,
        &[],
        // A generous deadline: this test checks the prefix, and a loaded
        // machine can slow one CPython call past the 100 ms default.
        PluginLimits {
            deadline_ms: 2_000,
            ..PluginLimits::default()
        },
    );
    let directives = plugin.handle(ACCOUNT, &text("hi"), &memory_kv());
    assert_eq!(directives, Ok(reply_text("python-echo: hi")));
}

#[test]
fn python_usage_within_defaults() {
    let (directives, usage) = PYTHON_ECHO.handle_with_usage(ACCOUNT, &text("abc"), &memory_kv());
    let limits = PluginLimits::default();
    assert_eq!(directives, Ok(reply_text("py: abc")));
    assert_eq!(usage.directives, Some(1));
    assert_eq!(usage.reply_bytes, Some(7));
    // The record is the message "python-echo replied" plus "chars" = "7".
    assert_eq!(usage.log_bytes, 19 + 5 + 1);
    assert!(usage.peak_memory_bytes > 0);
    assert!(usage.peak_memory_bytes < limits.max_memory_bytes);
    assert!(usage.elapsed.as_millis() < u128::from(limits.deadline_ms));
}
