//! `wxhost plugin new`, `check` and `run` on real components.

use std::path::{Path, PathBuf};
use std::process::Command;

use wxhost::cli::plugin::{NewArgs, RunArgs, check, new, run};
use wxhost::config::DEFAULT_MAX_BINARY_BYTES;
use wxhost_tests::plugins;

const TEXT_EVENT: &str = "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[oFollower0001]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content><MsgId>1</MsgId></xml>";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits inside the workspace")
        .to_owned()
}

fn write(dir: &Path, name: &str, contents: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write test file");
    path
}

fn run_args(file: &str, event: PathBuf, config: Option<PathBuf>) -> RunArgs {
    RunArgs {
        file: PathBuf::from(file),
        event,
        config,
        account: "demo".to_owned(),
    }
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[test]
fn check_valid_component() {
    let report = check::check(Path::new(plugins::ECHO), DEFAULT_MAX_BINARY_BYTES)
        .expect("echo passes the check");
    let text = report.to_string();
    assert!(report.passed());
    assert_eq!(report.info.exports, ["self-check", "handle"]);
    assert!(lines(&text).contains(&"world: wxhost:plugin/plugin (exports self-check, handle)"));
    assert!(lines(&text).contains(&"  wxhost:plugin/log@0.1.0"));
    assert!(lines(&text).contains(&"  wasi:cli/environment@0.2.6"));
    assert_eq!(text.lines().last(), Some("result: valid"));
}

#[test]
fn check_applies_size_limit() {
    let report = check::check(Path::new(plugins::ECHO), 1024).expect("echo compiles");
    let text = report.to_string();
    assert!(!report.passed());
    assert_eq!(report.max_bytes, 1024);
    assert!(
        lines(&text).contains(
            &format!("size: {} bytes of 1024 maximum (TOO LARGE)", report.bytes).as_str()
        ),
        "{text}"
    );
    assert!(
        text.lines().last().is_some_and(
            |line| line.starts_with("result: invalid, the component is larger than 1024 bytes")
        ),
        "{text}"
    );
}

#[test]
fn check_rejects_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "broken.wasm", b"\0asm\x0d\0\x01\0garbage");
    let error = check::check(&file, DEFAULT_MAX_BINARY_BYTES).expect_err("garbage is rejected");
    let message = format!("{error:#}");
    let expected_start = format!("{} is not a valid wxhost plugin", file.display());
    assert!(message.starts_with(&expected_start), "{message}");
    assert!(
        message.contains("failed to compile plugin broken"),
        "{message}"
    );
}

#[test]
fn check_missing_file() {
    let error = check::check(
        Path::new("/nonexistent/plugin.wasm"),
        DEFAULT_MAX_BINARY_BYTES,
    )
    .unwrap_err();
    assert_eq!(
        format!("{error:#}"),
        "failed to read /nonexistent/plugin.wasm: No such file or directory (os error 2)"
    );
}

#[test]
fn run_prints_directives_and_usage() {
    let dir = tempfile::tempdir().unwrap();
    let event = write(dir.path(), "text.xml", TEXT_EVENT.as_bytes());
    let report = run::run(&run_args(plugins::ECHO, event, None)).expect("echo runs");
    let text = report.to_string();
    let lines = lines(&text);

    assert!(report.fault.is_none());
    assert_eq!(lines[1], "self-check: passed");
    assert_eq!(lines[2], "event: text");
    assert_eq!(lines[3], "directives:");
    assert_eq!(lines[4], "  Reply(Text(\"你好\"))");
    assert_eq!(lines[5], "reply XML:");
    assert_eq!(
        lines[6],
        "<xml><ToUserName><![CDATA[oFollower0001]]></ToUserName><FromUserName><![CDATA[gh_test]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content></xml>"
    );
    assert_eq!(lines[7], "usage:");
    assert!(lines[8].starts_with("  time: "), "{}", lines[8]);
    assert!(lines[8].ends_with(" ms of 100 ms deadline"), "{}", lines[8]);
    assert!(lines[9].starts_with("  memory peak: "), "{}", lines[9]);
    assert!(
        lines[9].ends_with(" bytes of 33554432 bytes"),
        "{}",
        lines[9]
    );
    assert_eq!(lines[10], "  log: 0 bytes of 4096 bytes, 0 records dropped");
    assert_eq!(lines[11], "  directives: 1 of 8");
    assert_eq!(lines[12], "  reply: 6 bytes of 16384 bytes");
    assert_eq!(lines.len(), 13);
}

#[test]
fn run_applies_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let event = write(dir.path(), "text.xml", TEXT_EVENT.as_bytes());
    let config = write(
        dir.path(),
        "plugin.toml",
        b"[limits]\nmax_log_bytes_per_call = 250\nmax_directives = 2\n[config]\nlog_records = 3\n",
    );
    let report = run::run(&run_args(plugins::ECHO, event, Some(config))).expect("echo runs");
    let text = report.to_string();
    let lines = lines(&text);
    assert!(lines.contains(&"  log: 200 bytes of 250 bytes, 1 records dropped"));
    assert!(lines.contains(&"  directives: 1 of 2"));
}

#[test]
fn run_reports_fault() {
    let dir = tempfile::tempdir().unwrap();
    let event = write(dir.path(), "text.xml", TEXT_EVENT.as_bytes());
    let report = run::run(&run_args(plugins::TRAP, event, None)).expect("the run completes");
    let text = report.to_string();
    let lines = lines(&text);
    assert!(report.fault.is_some());
    assert_eq!(
        lines[1],
        "self-check: none, the component does not export `self-check`"
    );
    assert!(
        lines[3].starts_with("fault: plugin plugin_trap trapped"),
        "{}",
        lines[3]
    );
    // The fault message ends with the panic message from stderr, which
    // spans lines, so the lines after it are found by content.
    assert!(lines.contains(&"reply: none; the host answers `success`"));
    assert!(lines.contains(&"  directives: none returned (limit 8)"));
    assert!(lines.contains(&"  reply: none returned (limit 16384 bytes)"));
}

#[test]
fn run_rejects_bad_event() {
    let dir = tempfile::tempdir().unwrap();
    let event = write(dir.path(), "bad.xml", b"<xml><Content>hi</Content></xml>");
    let error = run::run(&run_args(plugins::ECHO, event.clone(), None)).unwrap_err();
    let expected = format!(
        "{} is not a callback XML; pass the decrypted <xml> body with ToUserName, FromUserName, CreateTime and MsgType",
        event.display()
    );
    assert!(format!("{error:#}").starts_with(&expected), "{error:#}");
}

#[test]
fn run_rejects_unknown_capability() {
    let dir = tempfile::tempdir().unwrap();
    let event = write(dir.path(), "text.xml", TEXT_EVENT.as_bytes());
    let config = write(dir.path(), "plugin.toml", b"capabilities = [\"net\"]\n");
    let error = run::run(&run_args(plugins::ECHO, event, Some(config.clone()))).unwrap_err();
    assert_eq!(
        format!("{error:#}"),
        format!(
            "{}: capabilities: unknown capability \"net\"; known: kv, followers, qrcode, media, fetch",
            config.display()
        )
    );
}

/// Creates a plugin from the template inside the workspace's target
/// directory, builds it with cargo and runs it on its sample event. The
/// build directory stays between runs, so later runs rebuild only the plugin.
#[test]
fn new_build_run_template() {
    let target = workspace().join("target");
    let parent = target.join("plugin-new-test");
    std::fs::create_dir_all(&parent).unwrap();
    let scratch = tempfile::tempdir_in(&parent).unwrap();

    let created = new::create(&NewArgs {
        name: "hello-sdk".to_owned(),
        dir: scratch.path().to_owned(),
        sdk: None,
    })
    .expect("the template is written");
    assert_eq!(created.sdk_path, "../../../../plugins/sdk");
    assert!(created.dir.join("Cargo.lock").is_file());

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(&created.dir)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(target.join("plugin-new-build"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "build failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let component = target.join("plugin-new-build/wasm32-wasip2/release/hello_sdk.wasm");
    let args = RunArgs {
        file: component,
        event: created.dir.join("events/text.xml"),
        config: Some(created.dir.join("plugin.toml")),
        account: "demo".to_owned(),
    };
    let report = run::run(&args).expect("the new plugin runs");
    let text = report.to_string();
    assert!(report.fault.is_none(), "{text}");
    assert_eq!(
        text.lines().nth(4),
        Some("  Reply(Text(\"Hello! Your message has 9 characters.\"))")
    );
    assert!(
        text.lines()
            .any(|line| line == "  log: 18 bytes of 4096 bytes, 0 records dropped")
    );
}
