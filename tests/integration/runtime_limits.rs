//! Limits in obeyed/violated pairs: deadline, memory, traps, output size,
//! and load-time checks.

use std::time::{Duration, Instant};

use wxhost::protocol::reply::Reply;
use wxhost::runtime::{Directive, Error, PluginFault, PluginLimits, PluginSettings};
use wxhost_tests::plugins;

use crate::runtime_support::{ACCOUNT, RUNTIME, load, memory_kv, text};

fn reply_text(text: &str) -> Vec<Directive> {
    vec![Directive::Reply(Reply::Text(text.to_owned()))]
}

fn deadline(deadline_ms: u64) -> PluginLimits {
    PluginLimits {
        deadline_ms,
        ..PluginLimits::default()
    }
}

fn memory(max_memory_bytes: usize) -> PluginLimits {
    PluginLimits {
        max_memory_bytes,
        ..PluginLimits::default()
    }
}

#[test]
fn deadline_obeyed() {
    let plugin = load("spin", plugins::SPIN, &[], deadline(50));
    let directives = plugin.handle(ACCOUNT, &text("1000"), &memory_kv()).unwrap();
    assert_eq!(directives, reply_text("spun 1000"));
}

#[test]
fn deadline_violated() {
    let plugin = load("spin", plugins::SPIN, &[], deadline(50));
    let kv = memory_kv();

    let started = Instant::now();
    let fault = plugin.handle(ACCOUNT, &text("forever"), &kv).unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(
        fault,
        PluginFault::DeadlineExceeded {
            plugin: "spin".to_owned(),
            deadline_ms: 50,
        }
    );
    assert!(
        elapsed >= Duration::from_millis(50),
        "stopped after {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(500),
        "stopped after {elapsed:?}"
    );

    // The next call gets a fresh store and returns normally.
    let directives = plugin.handle(ACCOUNT, &text("10"), &kv).unwrap();
    assert_eq!(directives, reply_text("spun 10"));
}

#[test]
fn memory_limit_obeyed() {
    let plugin = load("hog", plugins::HOG, &[], memory(16 << 20));
    let directives = plugin.handle(ACCOUNT, &text("4"), &memory_kv()).unwrap();
    assert_eq!(directives, reply_text("allocated 4 MiB"));
}

#[test]
fn memory_limit_violated() {
    let plugin = load("hog", plugins::HOG, &[], memory(16 << 20));
    let kv = memory_kv();

    let fault = plugin.handle(ACCOUNT, &text("all"), &kv).unwrap_err();
    assert_eq!(
        fault,
        PluginFault::MemoryLimit {
            plugin: "hog".to_owned(),
            max_memory_bytes: 16 << 20,
            stderr: "memory allocation of 1048576 bytes failed\n\
                     note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"
                .to_owned(),
        }
    );

    // The host survives, and the next call starts from a fresh memory.
    let directives = plugin.handle(ACCOUNT, &text("8"), &kv).unwrap();
    assert_eq!(directives, reply_text("allocated 8 MiB"));
}

#[test]
fn trap_panic_names_plugin() {
    let plugin = load("trap", plugins::TRAP, &[], PluginLimits::default());
    let fault = plugin
        .handle(ACCOUNT, &text("hi"), &memory_kv())
        .unwrap_err();
    let PluginFault::Trap {
        plugin: name,
        message,
        stderr,
    } = &fault
    else {
        panic!("expected a trap, got {fault:?}");
    };
    assert_eq!(name, "trap");
    assert_eq!(
        message,
        "wasm trap: wasm `unreachable` instruction executed"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(
        lines[0].starts_with("thread '<unnamed>' (1) panicked at plugins/testing/trap/src/lib.rs:"),
        "{stderr}"
    );
    assert_eq!(lines[1], "plugin-trap: deliberate panic");
    assert_eq!(fault.plugin(), "trap");
}

#[test]
fn trap_unreachable() {
    let plugin = load(
        "trap-unreachable",
        plugins::TRAP,
        &[("mode", "\"unreachable\"")],
        PluginLimits::default(),
    );
    let fault = plugin
        .handle(ACCOUNT, &text("hi"), &memory_kv())
        .unwrap_err();
    assert_eq!(
        fault,
        PluginFault::Trap {
            plugin: "trap-unreachable".to_owned(),
            message: "wasm trap: wasm `unreachable` instruction executed".to_owned(),
            stderr: String::new(),
        }
    );
}

#[test]
fn trap_exit_call() {
    let plugin = load(
        "trap-exit",
        plugins::TRAP,
        &[("mode", "\"exit\"")],
        PluginLimits::default(),
    );
    let fault = plugin
        .handle(ACCOUNT, &text("hi"), &memory_kv())
        .unwrap_err();
    let PluginFault::Trap { message, .. } = &fault else {
        panic!("expected a trap, got {fault:?}");
    };
    // WASI preview 2 `exit` carries only success or failure, so status 3
    // arrives as 1.
    assert_eq!(message, "Exited with i32 exit status 1");
}

#[test]
fn directives_limit_obeyed() {
    let limits = PluginLimits {
        max_directives: 1,
        ..PluginLimits::default()
    };
    let plugin = load("echo", plugins::ECHO, &[], limits);
    let directives = plugin
        .handle(ACCOUNT, &text("hello"), &memory_kv())
        .unwrap();
    assert_eq!(directives, reply_text("hello"));
}

#[test]
fn directives_limit_violated() {
    let limits = PluginLimits {
        max_directives: 0,
        ..PluginLimits::default()
    };
    let plugin = load("echo", plugins::ECHO, &[], limits);
    let fault = plugin
        .handle(ACCOUNT, &text("hello"), &memory_kv())
        .unwrap_err();
    assert_eq!(
        fault,
        PluginFault::TooManyDirectives {
            plugin: "echo".to_owned(),
            count: 1,
            max: 0,
        }
    );
}

#[test]
fn reply_size_obeyed() {
    let limits = PluginLimits {
        max_reply_bytes: 5,
        ..PluginLimits::default()
    };
    let plugin = load("echo", plugins::ECHO, &[], limits);
    let directives = plugin
        .handle(ACCOUNT, &text("hello"), &memory_kv())
        .unwrap();
    assert_eq!(directives, reply_text("hello"));
}

#[test]
fn reply_size_violated() {
    let limits = PluginLimits {
        max_reply_bytes: 4,
        ..PluginLimits::default()
    };
    let plugin = load("echo", plugins::ECHO, &[], limits);
    let fault = plugin
        .handle(ACCOUNT, &text("hello"), &memory_kv())
        .unwrap_err();
    assert_eq!(
        fault,
        PluginFault::InvalidOutput {
            plugin: "echo".to_owned(),
            reason: "reply of 5 text bytes exceeds the limit of 4".to_owned(),
        }
    );
}

#[test]
fn load_rejects_garbage() {
    let error = RUNTIME
        .load("junk", b"not wasm", PluginSettings::default())
        .unwrap_err();
    assert!(
        matches!(&error, Error::Compile { name, .. } if name == "junk"),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "failed to compile plugin junk");
}

#[test]
fn load_rejects_missing_export() {
    // The smallest valid component: a header with no imports or exports.
    let empty_component = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
    let error = RUNTIME
        .load("empty", &empty_component, PluginSettings::default())
        .unwrap_err();
    assert!(
        matches!(&error, Error::MissingExport { name, .. } if name == "empty"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "plugin empty does not export the wxhost:plugin/plugin world \
         (expected `handle: func(event) -> list<directive>`)"
    );
}

#[test]
fn load_rejects_memory_above_slot() {
    let settings = PluginSettings {
        limits: memory(128 << 20),
        ..PluginSettings::default()
    };
    let error = RUNTIME
        .load("big", &plugins::read(plugins::ECHO), settings)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid limits for plugin big: max_memory_bytes 134217728 exceeds \
         the runtime's max_memory_bytes 67108864"
    );
}

#[test]
fn load_reports_content_hash() {
    let plugin = load("echo", plugins::ECHO, &[], PluginLimits::default());
    assert_eq!(plugin.name(), "echo");
    assert_eq!(plugin.content_hash().len(), 64);
    assert!(
        plugin
            .content_hash()
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
}
