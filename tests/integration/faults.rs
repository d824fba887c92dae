//! Plugins that trap, loop or exhaust memory cost their callback its reply
//! and nothing more.

use std::time::{Duration, Instant};

use crate::support::wechat::text_xml;
use crate::support::{
    Mode, ORIGINAL_ID, TestHost, USER_1, config_with_plugins, normalize_create_time,
};

fn faulty_then_echo(budget_ms: u64) -> String {
    config_with_plugins(
        r#"
[[accounts]]
name = "healthy"
appid = "wx1234567890abcdef"
token = "fake:faketoken"
plugins = ["echo"]

[[accounts]]
name = "trap"
appid = "wx1234567890abcdef"
token = "fake:faketoken"
plugins = ["trap"]

[[accounts]]
name = "spin"
appid = "wx1234567890abcdef"
token = "fake:faketoken"
plugins = ["spin"]

[[accounts]]
name = "hog"
appid = "wx1234567890abcdef"
token = "fake:faketoken"
plugins = ["hog"]

[[accounts]]
name = "slow"
appid = "wx1234567890abcdef"
token = "fake:faketoken"
plugins = ["slow"]

[[plugins]]
name = "trap"
path = "{plugins}/plugin_trap.wasm"
messages = ["text"]

[[plugins]]
name = "spin"
path = "{plugins}/plugin_spin.wasm"
messages = ["text"]
limits = { deadline_ms = 50 }

[[plugins]]
name = "hog"
path = "{plugins}/plugin_hog.wasm"
messages = ["text"]
limits = { max_memory_bytes = 16777216 }

[[plugins]]
name = "slow"
path = "{plugins}/plugin_spin.wasm"
messages = ["text"]
limits = { deadline_ms = 10000 }

[[plugins]]
name = "echo"
path = "{plugins}/plugin_echo.wasm"
messages = ["text"]
"#,
    )
    .replace(
        "reply_budget_ms = 1500",
        &format!("reply_budget_ms = {budget_ms}"),
    )
}

fn echo_reply(content: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{USER_1}]]></ToUserName><FromUserName><![CDATA[{ORIGINAL_ID}]]></FromUserName><CreateTime>NOW</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content></xml>"
    )
}

#[tokio::test]
async fn faulty_plugins_answer_success_and_host_survives() {
    let host = TestHost::start(&faulty_then_echo(1500)).await;
    let mut msg_id = 24_000_000_000_000_700;
    for account in ["trap", "spin", "hog"] {
        for _ in 0..3 {
            msg_id += 1;
            let answer = host
                .client(account)
                .post(Mode::Plain, &text_xml(USER_1, "go", msg_id))
                .await;
            assert_eq!(answer.status, 200, "{account}");
            assert_eq!(answer.body, b"success", "{account} fault answers success");
        }
        // The next callback on the healthy route is answered normally.
        msg_id += 1;
        let answer = host
            .client("healthy")
            .post(Mode::Plain, &text_xml(USER_1, "still here", msg_id))
            .await;
        assert_eq!(
            normalize_create_time(&answer.text()),
            echo_reply("still here"),
            "after {account}"
        );
    }
}

#[tokio::test]
async fn slow_plugin_gets_success_within_budget() {
    let host = TestHost::start(&faulty_then_echo(300)).await;
    let client = host.client("slow");
    let xml = text_xml(USER_1, "forever", 24_000_000_000_000_800);

    let started = Instant::now();
    let answer = client.post(Mode::Plain, &xml).await;
    let elapsed = started.elapsed();
    assert_eq!(answer.body, b"success");
    // Generous bound: the budget is 300 ms and WeChat gives up at 5 s.
    assert!(
        elapsed < Duration::from_secs(3),
        "answered after {elapsed:?}"
    );

    // WeChat's retry is recognised and does not start the plugin again.
    let retry = client.post(Mode::Plain, &xml).await;
    assert_eq!(retry.body, b"success");
}
