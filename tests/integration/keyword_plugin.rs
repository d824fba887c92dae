//! The keyword plugin replies exactly to configured phrases.

use wxhost::protocol::message::Event;
use wxhost::protocol::reply::{Article, Reply};
use wxhost::runtime::{Directive, PluginLimits};
use wxhost_tests::plugins;

use crate::runtime_support::{ACCOUNT, event, load, memory_kv, text};

const GROUPS: &str = r#"[
    {"name": "营业时间", "priority": 5,
     "phrases": [{"match": "exact", "text": "营业时间"}, {"match": "contains", "text": "几点开门"}],
     "reply": {"text": "每天 9:00-21:00 营业。"}},
    {"name": "新品", "priority": 3,
     "phrases": [{"match": "contains", "text": "新品"}],
     "reply": {"news": [{"title": "春季新品", "description": "三款新茶上市",
                         "pic_url": "https://example.com/spring.jpg",
                         "url": "https://example.com/spring"}]}},
    {"name": "价格", "priority": 9,
     "phrases": [{"match": "exact", "text": "价格"}],
     "reply": {"text": "价格表见菜单。"}}
]"#;

fn keyword(default_reply: Option<&str>) -> wxhost::runtime::Plugin {
    let mut config = vec![("groups", GROUPS)];
    if let Some(reply) = default_reply {
        config.push(("default_reply", reply));
    }
    load(
        "keyword",
        plugins::KEYWORD,
        &config,
        PluginLimits::default(),
    )
}

fn reply_text(text: &str) -> Vec<Directive> {
    vec![Directive::Reply(Reply::Text(text.to_owned()))]
}

#[test]
fn keyword_exact_text() {
    let plugin = keyword(None);
    let kv = memory_kv();
    let directives = plugin.handle(ACCOUNT, &text("  营业时间\n"), &kv).unwrap();
    assert_eq!(directives, reply_text("每天 9:00-21:00 营业。"));
}

#[test]
fn keyword_contains_text() {
    let plugin = keyword(None);
    let directives = plugin
        .handle(ACCOUNT, &text("请问明天几点开门？"), &memory_kv())
        .unwrap();
    assert_eq!(directives, reply_text("每天 9:00-21:00 营业。"));
}

#[test]
fn keyword_exact_needs_whole_message() {
    let plugin = keyword(None);
    let directives = plugin
        .handle(ACCOUNT, &text("营业时间是什么"), &memory_kv())
        .unwrap();
    assert_eq!(directives, vec![Directive::NoReply]);
}

#[test]
fn keyword_news_reply() {
    let plugin = keyword(None);
    let directives = plugin
        .handle(ACCOUNT, &text("有新品吗"), &memory_kv())
        .unwrap();
    let expected = Reply::News(vec![Article {
        title: "春季新品".to_owned(),
        description: "三款新茶上市".to_owned(),
        pic_url: "https://example.com/spring.jpg".to_owned(),
        url: "https://example.com/spring".to_owned(),
    }]);
    assert_eq!(directives, vec![Directive::Reply(expected)]);
}

#[test]
fn keyword_priority_order() {
    let plugin = keyword(None);
    // "价格" is exact for the priority-9 group; "新品价格" only contains
    // "新品", so the priority-3 group replies.
    let directives = plugin.handle(ACCOUNT, &text("价格"), &memory_kv()).unwrap();
    assert_eq!(directives, reply_text("价格表见菜单。"));
    let directives = plugin
        .handle(ACCOUNT, &text("新品价格"), &memory_kv())
        .unwrap();
    assert!(matches!(
        &directives[..],
        [Directive::Reply(Reply::News(_))]
    ));
}

#[test]
fn keyword_no_match() {
    let plugin = keyword(None);
    let directives = plugin.handle(ACCOUNT, &text("你好"), &memory_kv()).unwrap();
    assert_eq!(directives, vec![Directive::NoReply]);
}

#[test]
fn keyword_default_reply() {
    let plugin = keyword(Some(r#"{"text": "您好，回复“价格”查看价格表。"}"#));
    let directives = plugin.handle(ACCOUNT, &text("你好"), &memory_kv()).unwrap();
    assert_eq!(directives, reply_text("您好，回复“价格”查看价格表。"));
}

#[test]
fn keyword_ignores_events() {
    let plugin = keyword(Some(r#"{"text": "默认"}"#));
    let subscribe = event(Event::Subscribe {
        scene: None,
        ticket: None,
        event_key: None,
    });
    let directives = plugin.handle(ACCOUNT, &subscribe, &memory_kv()).unwrap();
    assert_eq!(directives, vec![Directive::NoReply]);
}

#[test]
fn keyword_invalid_config() {
    let plugin = load(
        "keyword-broken",
        plugins::KEYWORD,
        &[("groups", "{not json")],
        PluginLimits::default(),
    );
    let directives = plugin.handle(ACCOUNT, &text("价格"), &memory_kv()).unwrap();
    assert_eq!(directives, vec![Directive::NoReply]);
}
