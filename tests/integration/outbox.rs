//! Plugin actions through the outbox to a fake of WeChat.

use std::time::{Duration, Instant};

use serde_json::json;
use wxhost::outbox::{EntryState, idempotency_key};

use super::outbox_support::{
    CUSTOM_SEND, TEMPLATE_SEND, actions_plugin, deliveries_to, follower_writes, outbox_count,
    start, wait_until,
};
use super::support::wechat::text_xml;
use super::support::{Mode, USER_1};

const BUDGET: &str = "reply_budget_ms = 1500";
const BATCH_TAGGING: &str = "/cgi-bin/tags/members/batchtagging";

const TEXT_AND_TEMPLATE: &str = r#"
[[plugins.config.actions]]
kind = "text"
content = "你好, from the outbox"

[[plugins.config.actions]]
kind = "template"
template_id = "TPL_ORDER"
url = "https://example.com/order/1"
data = [["keyword1", "order 1"], ["keyword2", "shipped"]]

[[plugins.config.actions]]
kind = "tag"
tag_id = 2
"#;

#[tokio::test]
async fn action_sent_once_across_retries() {
    let (fake, host) = start(BUDGET, &actions_plugin(TEXT_AND_TEMPLATE)).await;
    follower_writes(&fake);
    let client = host.client("demo");
    let xml = text_xml(USER_1, "order status", 24_000_000_000_001_001);

    let (first, second, third, fourth) = tokio::join!(
        client.post(Mode::Plain, &xml),
        client.post(Mode::Plain, &xml),
        client.post(Mode::Plain, &xml),
        client.post(Mode::Plain, &xml),
    );
    for answer in [&first, &second, &third, &fourth] {
        assert_eq!(answer.status, 200);
        assert!(
            answer
                .text()
                .contains("<Content><![CDATA[queued]]></Content>")
        );
    }

    wait_until("2 sent and 1 dead entry", || {
        outbox_count(&host, "sent") == 2 && outbox_count(&host, "dead") == 1
    })
    .await;
    let custom = deliveries_to(&fake, CUSTOM_SEND);
    assert_eq!(custom.len(), 1);
    assert_eq!(
        custom[0].body,
        json!({"touser": USER_1, "msgtype": "text", "text": {"content": "你好, from the outbox"}})
    );
    assert_eq!(fake.requests_to(CUSTOM_SEND).len(), 1);
    assert_eq!(deliveries_to(&fake, TEMPLATE_SEND).len(), 1);

    // Tag 2 does not exist in the fake: one call, 45159, no retry.
    assert_eq!(fake.requests_to(BATCH_TAGGING).len(), 1);
    let dead = host
        .store
        .outbox_list(Some(EntryState::Dead), 10)
        .expect("list");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].kind, "tag");
    assert_eq!(dead[0].last_errcode, Some(45159));
    assert_eq!(dead[0].attempts, 1);
}

#[tokio::test]
async fn template_carries_client_msg_id() {
    let (fake, host) = start(BUDGET, &actions_plugin(TEXT_AND_TEMPLATE)).await;
    follower_writes(&fake);
    let msg_id = 24_000_000_000_001_002u64;
    let answer = host
        .client("demo")
        .post(Mode::Plain, &text_xml(USER_1, "order", msg_id))
        .await;
    assert_eq!(answer.status, 200);

    wait_until("the template message", || {
        !deliveries_to(&fake, TEMPLATE_SEND).is_empty()
    })
    .await;
    let callback_key = format!("demo\u{1f}{USER_1}\u{1f}m{msg_id}");
    let expected_id = idempotency_key(&callback_key, "actions", "1");
    assert_eq!(expected_id.len(), 32);
    let templates = deliveries_to(&fake, TEMPLATE_SEND);
    assert_eq!(templates.len(), 1);
    assert_eq!(
        templates[0].body,
        json!({
            "touser": USER_1,
            "template_id": "TPL_ORDER",
            "url": "https://example.com/order/1",
            "client_msg_id": expected_id,
            "data": {"keyword1": {"value": "order 1"}, "keyword2": {"value": "shipped"}}
        })
    );
}

#[tokio::test]
async fn invalid_actions_dropped() {
    let actions = r#"
[[plugins.config.actions]]
kind = "text"
content = "  "

[[plugins.config.actions]]
kind = "msgmenu"
head_content = "pick one"
items = []

[[plugins.config.actions]]
kind = "template"
template_id = "TPL"
data = [["k1", "a"], ["k1", "b"]]

[[plugins.config.actions]]
kind = "text"
content = "agent"
kf_account = "no-at-sign"

[[plugins.config.actions]]
kind = "news"
title = "a"
url = "ftp://example.com/"

[[plugins.config.actions]]
kind = "text"
content = "the valid one"
"#;
    let (fake, host) = start(BUDGET, &actions_plugin(actions)).await;
    follower_writes(&fake);
    let answer = host
        .client("demo")
        .post(Mode::Plain, &text_xml(USER_1, "go", 24_000_000_000_001_003))
        .await;
    assert_eq!(answer.status, 200);

    wait_until("the valid message", || outbox_count(&host, "sent") == 1).await;
    let counts = host.store.outbox_counts().expect("counts");
    assert_eq!(counts, vec![("sent".to_owned(), 1)]);
    let custom = deliveries_to(&fake, CUSTOM_SEND);
    assert_eq!(custom.len(), 1);
    assert_eq!(custom[0].body["text"]["content"], "the valid one");
}

#[tokio::test]
async fn window_allows_five_messages() {
    let actions: String = (1..=6)
        .map(|n| {
            format!("[[plugins.config.actions]]\nkind = \"text\"\ncontent = \"message {n}\"\n\n")
        })
        .collect();
    let (fake, host) = start(BUDGET, &actions_plugin(&actions)).await;
    follower_writes(&fake);
    let answer = host
        .client("demo")
        .post(
            Mode::Plain,
            &text_xml(USER_1, "six", 24_000_000_000_001_004),
        )
        .await;
    assert_eq!(answer.status, 200);

    wait_until("5 sent entries", || outbox_count(&host, "sent") == 5).await;
    let contents: Vec<String> = deliveries_to(&fake, CUSTOM_SEND)
        .iter()
        .map(|delivery| {
            delivery.body["text"]["content"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert_eq!(
        contents,
        [
            "message 1",
            "message 2",
            "message 3",
            "message 4",
            "message 5"
        ]
    );
    assert_eq!(host.store.outbox_counts().expect("counts").len(), 1);
}

#[tokio::test]
async fn account_without_secret_drops_actions() {
    let (fake, host) = start(BUDGET, &actions_plugin(TEXT_AND_TEMPLATE)).await;
    follower_writes(&fake);
    let answer = host
        .client("nosecret")
        .post(Mode::Plain, &text_xml(USER_1, "hi", 24_000_000_000_001_005))
        .await;
    assert!(
        answer
            .text()
            .contains("<Content><![CDATA[queued]]></Content>")
    );
    assert_eq!(host.store.outbox_counts().expect("counts"), Vec::new());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(fake.deliveries().len(), 0);
}

/// Loop count for the spin plugin that takes longer than the 200 ms
/// budget: about 1 s at 1.7 ns per iteration on the development machine.
const SLOW_LOOPS: u64 = 600_000_000;

#[tokio::test]
async fn late_reply_sent_as_custom_message() {
    let plugin = r#"
[[plugins]]
name = "spin"
path = "{plugins}/plugin_spin.wasm"
messages = ["text"]

[plugins.limits]
deadline_ms = 10000
"#;
    let (fake, host) = start("reply_budget_ms = 200", plugin).await;
    follower_writes(&fake);
    let started = Instant::now();
    let answer = host
        .client("demo")
        .post(
            Mode::Plain,
            &text_xml(USER_1, &SLOW_LOOPS.to_string(), 24_000_000_000_001_006),
        )
        .await;
    let answered_in = started.elapsed();
    assert_eq!(answer.text(), "success");
    assert!(
        answered_in < Duration::from_millis(1000),
        "answered in {answered_in:?}"
    );

    wait_until("the late reply", || {
        !deliveries_to(&fake, CUSTOM_SEND).is_empty()
    })
    .await;
    let custom = deliveries_to(&fake, CUSTOM_SEND);
    assert_eq!(custom.len(), 1);
    assert_eq!(
        custom[0].body,
        json!({"touser": USER_1, "msgtype": "text", "text": {"content": format!("spun {SLOW_LOOPS}")}})
    );
}
