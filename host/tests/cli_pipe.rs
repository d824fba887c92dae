//! Commands whose output is piped into a reader that closes early, as
//! `wxhost outbox list | head -1` does.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

use wxhost::store::Store;

const CONFIG: &str = r#"
[store]
path = "wxhost.db"

[[accounts]]
name = "demo"
appid = "wx1234567890abcdef"
token = "fake:faketoken"
"#;

#[test]
fn closed_stdout_ends_without_panic() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = dir.path().join("wxhost.toml");
    std::fs::write(&config, CONFIG).expect("write the config");
    Store::open(&dir.path().join("wxhost.db")).expect("create the store");

    let mut child = Command::new(env!("CARGO_BIN_EXE_wxhost"))
        .args(["outbox", "list", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wxhost");
    // Closing the read end before the command prints makes its first
    // write fail with EPIPE.
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("wait for wxhost");
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        output.status.success() || output.status.signal() == Some(libc::SIGPIPE),
        "{:?}: {stderr}",
        output.status
    );
}
