//! The keyword plugin's groups through the server: regex phrases,
//! folding, priority, the default reply, media replies and reply-all.

use serde_json::json;

use crate::outbox_support::{CUSTOM_SEND, deliveries_to, follower_writes, start, wait_until};
use crate::support::wechat::text_xml;
use crate::support::{
    Mode, ORIGINAL_ID, TestHost, USER_1, config_with_plugins, normalize_create_time,
};

fn keyword_plugin(extra: &str) -> String {
    format!(
        r#"
[[plugins]]
name = "keyword"
path = "{{plugins}}/plugin_keyword.wasm"
messages = ["text"]

[plugins.config]
default_reply = {{ text = "没有找到答案，回复“帮助”查看菜单。" }}
{extra}

[[plugins.config.groups]]
name = "问候"
priority = 1
phrases = [{{ match = "exact", text = "hello" }}]
reply = {{ text = "你好！" }}

[[plugins.config.groups]]
name = "订单查询"
priority = 8
phrases = [{{ match = "regex", text = '^订单\s*\d{{6}}$' }}]
reply = {{ text = "订单查询请进入“我的订单”。" }}

[[plugins.config.groups]]
name = "海报"
priority = 5
phrases = [{{ match = "contains", text = "海报" }}]
reply = {{ image = "mFAKEposterMediaId" }}

[[plugins.config.groups]]
name = "价格"
priority = 9
phrases = [{{ match = "contains", text = "价格" }}]
replies = [
    {{ text = "价格表如下：" }},
    {{ news = [{{ title = "2024 价目表", description = "全部茶品价格", pic_url = "https://example.com/p.jpg", url = "https://example.com/price" }}] }},
]
mode = "reply_all"
"#
    )
}

fn text_reply(content: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{USER_1}]]></ToUserName><FromUserName><![CDATA[{ORIGINAL_ID}]]></FromUserName><CreateTime>NOW</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content></xml>"
    )
}

async fn send(host: &TestHost, content: &str, msg_id: u64) -> String {
    let answer = host
        .client("demo")
        .post(Mode::Plain, &text_xml(USER_1, content, msg_id))
        .await;
    assert_eq!(answer.status, 200);
    normalize_create_time(&answer.text())
}

#[tokio::test]
async fn keyword_groups_through_server() {
    let host = TestHost::start(&config_with_plugins(&keyword_plugin(""))).await;
    let image = format!(
        "<xml><ToUserName><![CDATA[{USER_1}]]></ToUserName><FromUserName><![CDATA[{ORIGINAL_ID}]]></FromUserName><CreateTime>NOW</CreateTime><MsgType><![CDATA[image]]></MsgType><Image><MediaId><![CDATA[mFAKEposterMediaId]]></MediaId></Image></xml>"
    );
    let cases = [
        // Full-width letters and capitals fold to the exact phrase.
        ("ＨＥＬＬＯ", text_reply("你好！")),
        ("Hello", text_reply("你好！")),
        // The regex matches after full-width digits fold.
        ("订单 123456", text_reply("订单查询请进入“我的订单”。")),
        ("订单１２３４５６", text_reply("订单查询请进入“我的订单”。")),
        ("海报在哪里", image),
        // Priority 9 beats priority 5 when both match.
        ("海报价格", text_reply("价格表如下：")),
        (
            "订单 12345",
            text_reply("没有找到答案，回复“帮助”查看菜单。"),
        ),
    ];
    for (index, (content, expected)) in cases.iter().enumerate() {
        let reply = send(&host, content, 24_000_000_000_005_001 + index as u64).await;
        assert_eq!(reply, *expected, "{content}");
    }
}

#[tokio::test]
async fn default_reply_switched_off() {
    let host = TestHost::start(&config_with_plugins(&keyword_plugin(
        "default_reply_enabled = false",
    )))
    .await;
    let answer = host
        .client("demo")
        .post(
            Mode::Plain,
            &text_xml(USER_1, "随便说说", 24_000_000_000_005_101),
        )
        .await;
    assert_eq!(answer.text(), "success");
}

#[tokio::test]
async fn reply_all_sends_the_rest() {
    let (fake, host) = start("reply_budget_ms = 1500", &keyword_plugin("")).await;
    follower_writes(&fake);
    let reply = send(&host, "价格", 24_000_000_000_005_201).await;
    assert_eq!(reply, text_reply("价格表如下："));

    wait_until("the news message", || {
        !deliveries_to(&fake, CUSTOM_SEND).is_empty()
    })
    .await;
    let custom = deliveries_to(&fake, CUSTOM_SEND);
    assert_eq!(custom.len(), 1);
    assert_eq!(
        custom[0].body,
        json!({
            "touser": USER_1,
            "msgtype": "news",
            "news": {"articles": [{
                "title": "2024 价目表",
                "description": "全部茶品价格",
                "url": "https://example.com/price",
                "picurl": "https://example.com/p.jpg"
            }]}
        })
    );
}
