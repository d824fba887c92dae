//! WeChat's retries: the plugin runs once per callback, and every delivery
//! gets the same answer.

use crate::support::wechat::text_xml;
use crate::support::{
    Mode, ORIGINAL_ID, TestHost, USER_1, USER_2, config_with_plugins, normalize_create_time,
};

fn counter() -> String {
    config_with_plugins(
        r#"
[[plugins]]
name = "counter"
path = "{plugins}/plugin_kv_counter.wasm"
messages = ["*"]
events = ["*"]
capabilities = ["kv"]
"#,
    )
}

fn reply_to(user: &str, content: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{user}]]></ToUserName><FromUserName><![CDATA[{ORIGINAL_ID}]]></FromUserName><CreateTime>NOW</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content></xml>"
    )
}

#[tokio::test]
async fn same_msg_id_from_two_followers_runs_twice() {
    let host = TestHost::start(&counter()).await;
    let client = host.client("demo");
    let first = client
        .post(Mode::Plain, &text_xml(USER_1, "a", 24_000_000_000_000_009))
        .await;
    let second = client
        .post(Mode::Plain, &text_xml(USER_2, "b", 24_000_000_000_000_009))
        .await;
    let replay = client
        .post(Mode::Plain, &text_xml(USER_1, "a", 24_000_000_000_000_009))
        .await;
    assert_eq!(
        normalize_create_time(&first.text()),
        reply_to(USER_1, "count=1 instance_calls=1")
    );
    assert_eq!(
        normalize_create_time(&second.text()),
        reply_to(USER_2, "count=1 instance_calls=1")
    );
    assert_eq!(replay.body, first.body, "a retry gets the identical bytes");

    let next = client
        .post(Mode::Plain, &text_xml(USER_1, "c", 24_000_000_000_000_010))
        .await;
    assert_eq!(
        normalize_create_time(&next.text()),
        reply_to(USER_1, "count=2 instance_calls=1")
    );
}

#[tokio::test]
async fn empty_msg_id_falls_back_to_event_key() {
    let host = TestHost::start(&counter()).await;
    let client = host.client("demo");
    let message = |create_time: u64| {
        format!(
            "<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><FromUserName><![CDATA[{USER_1}]]></FromUserName><CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[x]]></Content><MsgId><![CDATA[]]></MsgId></xml>"
        )
    };
    let first = client.post(Mode::Plain, &message(1_700_000_001)).await;
    let retry = client.post(Mode::Plain, &message(1_700_000_001)).await;
    let later = client.post(Mode::Plain, &message(1_700_000_002)).await;
    assert_eq!(
        normalize_create_time(&first.text()),
        reply_to(USER_1, "count=1 instance_calls=1")
    );
    assert_eq!(retry.body, first.body);
    assert_eq!(
        normalize_create_time(&later.text()),
        reply_to(USER_1, "count=2 instance_calls=1")
    );
}

#[tokio::test]
async fn concurrent_duplicates_run_plugin_once() {
    let host = TestHost::start(&counter()).await;
    let client = std::sync::Arc::new(host.client("demo"));
    for mode in [Mode::Plain, Mode::Safe] {
        let msg_id = 24_000_000_000_000_050 + mode as u64;
        let xml = text_xml(USER_1, "same", msg_id);
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let client = client.clone();
            let xml = xml.clone();
            tasks.push(tokio::spawn(async move { client.post(mode, &xml).await }));
        }
        let mut bodies = Vec::new();
        for task in tasks {
            let answer = task.await.expect("request task finishes");
            assert_eq!(answer.status, 200);
            bodies.push(answer.body);
        }
        assert!(
            bodies.windows(2).all(|pair| pair[0] == pair[1]),
            "{mode:?}: all 20 answers are identical"
        );
    }
    // Two callbacks ran, so the counter stands at 2.
    let next = client
        .post(
            Mode::Plain,
            &text_xml(USER_1, "next", 24_000_000_000_000_060),
        )
        .await;
    assert_eq!(
        normalize_create_time(&next.text()),
        reply_to(USER_1, "count=3 instance_calls=1")
    );
}
