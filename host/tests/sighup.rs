//! SIGHUP makes the real `wxhost` binary read its config file again: a
//! changed account Token applies without a restart, and an invalid file
//! is rejected while the old config keeps serving.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use wxhost::protocol::signature::compute_signature;

const STEP_TIMEOUT: Duration = Duration::from_secs(30);

fn config_text(port: u16, token: &str, budget_ms: u32) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:{port}"
reply_budget_ms = {budget_ms}

[store]
path = "wxhost.db"

[[accounts]]
name = "demo"
appid = "wx1234567890abcdef"
token = "fake:{token}"
"#
    )
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    listener.local_addr().expect("local address").port()
}

fn start_host(config: &Path, log: &Path) -> Child {
    let log = std::fs::File::create(log).expect("create the host log");
    Command::new(env!("CARGO_BIN_EXE_wxhost"))
        .args(["serve", "--config"])
        .arg(config)
        .env("RUST_LOG", "wxhost=info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start wxhost")
}

fn hang_up(host: &Child) {
    let status = Command::new("kill")
        .args(["-HUP", &host.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -HUP failed");
}

/// Returns the HTTP status of a URL verification signed with `token`.
async fn verify(port: u16, token: &str) -> Option<u16> {
    let signature = compute_signature(&[token, "1700000000", "42"]);
    let url = format!(
        "http://127.0.0.1:{port}/wechat/demo?signature={signature}&timestamp=1700000000&nonce=42&echostr=hello"
    );
    let response = reqwest::get(url).await.ok()?;
    Some(response.status().as_u16())
}

async fn wait_for_status(port: u16, token: &str, expected: u16) {
    let started = Instant::now();
    while verify(port, token).await != Some(expected) {
        assert!(
            started.elapsed() < STEP_TIMEOUT,
            "timed out waiting for HTTP {expected} with token {token}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn sighup_reloads_config() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (config, log) = (
        dir.path().join("wxhost.toml"),
        dir.path().join("wxhost.log"),
    );
    let port = free_port();
    std::fs::write(&config, config_text(port, "firsttoken", 3000)).expect("write the config");
    let mut host = start_host(&config, &log);
    wait_for_status(port, "firsttoken", 200).await;

    // An invalid file: the old Token keeps working.
    std::fs::write(&config, config_text(port, "secondtoken", 9000)).expect("write the config");
    hang_up(&host);
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(&log).expect("read the log");
        if text.contains("config reload rejected") {
            assert!(
                text.contains("server.reply_budget_ms: 9000 is out of range"),
                "{text}"
            );
            break;
        }
        assert!(
            started.elapsed() < STEP_TIMEOUT,
            "no rejection logged:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(verify(port, "firsttoken").await, Some(200));
    assert_eq!(verify(port, "secondtoken").await, Some(403));

    // A valid file: the new Token applies without a restart.
    std::fs::write(&config, config_text(port, "secondtoken", 3000)).expect("write the config");
    hang_up(&host);
    wait_for_status(port, "secondtoken", 200).await;
    assert_eq!(verify(port, "firsttoken").await, Some(403));

    host.kill().expect("stop the host");
    host.wait().expect("reap the host");
    let text = std::fs::read_to_string(&log).expect("read the log");
    assert!(text.contains("config reloaded"), "{text}");
}
