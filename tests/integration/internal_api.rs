//! The internal token endpoint and the admin endpoints over HTTP.

use serde_json::Value;

use super::outbox_support::{
    ADMIN_KEY, CONSUMER_KEY, CUSTOM_SEND, STABLE_TOKEN, actions_plugin, follower_writes,
    outbox_count, start, wait_until,
};
use super::support::wechat::text_xml;
use super::support::{Mode, USER_1};

const BUDGET: &str = "reply_budget_ms = 1500";

const ONE_TEXT: &str = r#"
[[plugins.config.actions]]
kind = "text"
content = "hello"
"#;

async fn get(url: &str, key: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.expect("host answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body reads"))
}

#[tokio::test]
async fn token_endpoint_checks_keys() {
    let (fake, host) = start(BUDGET, &actions_plugin(ONE_TEXT)).await;
    let url = |account: &str| format!("{}/internal/accounts/{account}/access-token", host.base_url);

    assert_eq!(get(&url("demo"), None).await.0, 401);
    assert_eq!(
        get(&url("demo"), Some("billing-key-wrong-000")).await.0,
        401
    );
    assert_eq!(get(&url("demo"), Some(ADMIN_KEY)).await.0, 401);
    assert_eq!(get(&url("other"), Some(CONSUMER_KEY)).await.0, 403);
    assert_eq!(get(&url("missing"), Some(CONSUMER_KEY)).await.0, 403);
    assert_eq!(fake.requests_to(STABLE_TOKEN).len(), 0);

    let (status, body) = get(&url("demo"), Some(CONSUMER_KEY)).await;
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_str(&body).expect("JSON answer");
    let token = answer["access_token"].as_str().expect("access_token");
    let expires_in = answer["expires_in"].as_i64().expect("expires_in");
    assert!(
        (7190..=7200).contains(&expires_in),
        "expires_in {expires_in}"
    );
    assert_eq!(fake.requests_to(STABLE_TOKEN).len(), 1);
    assert_eq!(
        fake.requests_to(STABLE_TOKEN)[0].json().expect("JSON body")["force_refresh"],
        false
    );

    for _ in 0..10 {
        let (status, again) = get(&url("demo"), Some(CONSUMER_KEY)).await;
        assert_eq!(status, 200);
        let again: Value = serde_json::from_str(&again).expect("JSON answer");
        assert_eq!(again["access_token"], token);
    }

    // The host's own call uses the same token: still one fetch in total.
    follower_writes(&fake);
    host.client("demo")
        .post(Mode::Plain, &text_xml(USER_1, "hi", 24_000_000_000_002_001))
        .await;
    wait_until("the custom message", || outbox_count(&host, "sent") == 1).await;
    let sends = fake.requests_to(CUSTOM_SEND);
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0].access_token.as_deref(), Some(token));
    assert_eq!(fake.requests_to(STABLE_TOKEN).len(), 1);
    assert_eq!(fake.requests_to("/cgi-bin/token").len(), 0);
}

#[tokio::test]
async fn dead_letter_shows_in_admin() {
    let (fake, host) = start(BUDGET, &actions_plugin(ONE_TEXT)).await;
    // The fake has no window for the follower, so it returns 45015.
    host.client("demo")
        .post(Mode::Plain, &text_xml(USER_1, "hi", 24_000_000_000_002_002))
        .await;
    wait_until("the dead letter", || outbox_count(&host, "dead") == 1).await;
    assert_eq!(fake.requests_to(CUSTOM_SEND).len(), 1);

    let list = format!("{}/admin/outbox?state=dead", host.base_url);
    assert_eq!(get(&list, None).await.0, 401);
    assert_eq!(get(&list, Some(CONSUMER_KEY)).await.0, 401);
    let (status, body) = get(&list, Some(ADMIN_KEY)).await;
    assert_eq!(status, 200);
    let listing: Value = serde_json::from_str(&body).expect("JSON listing");
    assert_eq!(listing["counts"], serde_json::json!({"dead": 1}));
    let entry = &listing["entries"][0];
    assert_eq!(entry["state"], "dead");
    assert_eq!(entry["kind"], "custom");
    assert_eq!(entry["source"], "actions");
    assert_eq!(entry["account"], "demo");
    assert_eq!(entry["attempts"], 1);
    assert_eq!(entry["last_errcode"], 45015);
    assert_eq!(
        entry["last_error"],
        "/cgi-bin/message/custom/send rejected: outside the customer-service window or unsubscribed (WeChat errcode 45015: response out of time limit or subscription is canceled)"
    );
    assert!(!body.contains(USER_1), "the listing leaks the openid");
    assert!(!body.contains("hello"), "the listing leaks the content");

    // Once the follower writes, a retry from the admin delivers it.
    follower_writes(&fake);
    let id = entry["id"].as_i64().expect("id");
    let retried = reqwest::Client::new()
        .post(format!("{}/admin/outbox/{id}/retry", host.base_url))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .expect("host answers");
    assert_eq!(retried.status().as_u16(), 200);
    wait_until("the retried entry", || outbox_count(&host, "sent") == 1).await;
    assert_eq!(fake.requests_to(CUSTOM_SEND).len(), 2);
    assert_eq!(fake.deliveries().len(), 1);
}

#[tokio::test]
async fn admin_quota_reports_usage() {
    let (fake, host) = start(BUDGET, &actions_plugin(ONE_TEXT)).await;
    follower_writes(&fake);
    host.client("demo")
        .post(Mode::Plain, &text_xml(USER_1, "hi", 24_000_000_000_002_003))
        .await;
    wait_until("the custom message", || outbox_count(&host, "sent") == 1).await;

    let url = format!("{}/admin/quota/demo", host.base_url);
    assert_eq!(get(&url, None).await.0, 401);
    let (status, body) = get(&url, Some(ADMIN_KEY)).await;
    assert_eq!(status, 200);
    let usage: Value = serde_json::from_str(&body).expect("JSON usage");
    assert_eq!(usage["account"], "demo");
    let custom = usage["apis"]
        .as_array()
        .expect("apis")
        .iter()
        .find(|api| api["api"] == CUSTOM_SEND)
        .expect("custom/send usage")
        .clone();
    assert_eq!(custom["daily_used"], 1);
    assert_eq!(custom["daily_limit"], 500_000);
    assert_eq!(
        get(
            &format!("{}/admin/quota/nosecret", host.base_url),
            Some(ADMIN_KEY)
        )
        .await
        .0,
        404
    );
}
