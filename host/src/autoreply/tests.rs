use super::*;

const SAMPLE: &str = include_str!("autoreply_sample.json");

const EXPECTED: &str = r#"# Keyword plugin config converted by `wxhost import autoreply`
# from get_current_autoreply_info.
[[plugins]]
name = "keyword"
path = "plugins/plugin_keyword.wasm"
messages = ["text"]

[plugins.config]
default_reply_enabled = true
default_reply = { text = "您好，留言已收到，客服会在工作时间内回复您。" }

[[plugins.config.groups]]
name = "营业时间"
priority = 3
mode = "reply_all"
phrases = [
    { match = "exact", text = "营业时间" },
    { match = "contains", text = "几点开门" },
]
replies = [
    { text = "每天 9:00-21:00 营业。" },
    { image = "mFAKEimageMediaId0001" },
]

[[plugins.config.groups]]
name = "新品推荐"
priority = 2
mode = "random_one"
phrases = [
    { match = "contains", text = "新品" },
]
replies = [
    { news = [{ title = "春季新茶上市", description = "三款明前绿茶", pic_url = "https://mmbiz.qpic.cn/fake/spring.jpg", url = "https://mp.weixin.qq.com/s/fakeSpring" }] },
    { voice = "mFAKEvoiceMediaId0002" },
]

# Not converted:
# - add_friend_autoreply_info (text reply) is a follow reply: configure it in the welcome plugin
# - keyword_autoreply_info.list[2] ("门店视频"): a video reply holds a URL, not a media id; upload the video and add it by media id
# - keyword_autoreply_info.list[2] ("门店视频"): no keyword or no reply left to convert; rule skipped
"#;

#[test]
fn sample_converts_exactly() {
    let info = parse(SAMPLE).unwrap();
    let converted = convert(&info, "plugins/plugin_keyword.wasm");
    assert_eq!(converted.toml, EXPECTED);
    assert_eq!(converted.warnings.len(), 3);
}

#[test]
fn output_is_valid_plugin_config() {
    let info = parse(SAMPLE).unwrap();
    let converted = convert(&info, "plugins/plugin_keyword.wasm");
    let value: toml::Table = toml::from_str(&converted.toml).unwrap();
    let plugin = &value["plugins"][0];
    let groups = plugin["config"]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0]["replies"].as_array().unwrap().len(), 2);
    assert_eq!(
        plugin["config"]["default_reply"]["text"].as_str(),
        Some("您好，留言已收到，客服会在工作时间内回复您。")
    );
}

#[test]
fn closed_autoreply_turns_default_off() {
    let info = parse(r#"{"is_autoreply_open": 0, "message_default_autoreply_info": {"type": "text", "content": "hi"}}"#).unwrap();
    let converted = convert(&info, "k.wasm");
    assert!(converted.toml.contains("default_reply_enabled = false\n"));
    assert_eq!(converted.warnings.len(), 1);
}

#[test]
fn match_mode_alias_accepted() {
    let info = parse(
        r#"{"keyword_autoreply_info": {"list": [{"rule_name": "r", "match_mode": "random_one",
            "keyword_list_info": [{"type": "text", "match_mode": "equal", "content": "a\"b"}],
            "reply_list_info": [{"type": "text", "content": "line1\nline2"}]}]}}"#,
    )
    .unwrap();
    let converted = convert(&info, "k.wasm");
    assert!(converted.toml.contains("mode = \"random_one\"\n"));
    let value: toml::Table = toml::from_str(&converted.toml).unwrap();
    let group = &value["plugins"][0]["config"]["groups"][0];
    assert_eq!(group["phrases"][0]["text"].as_str(), Some("a\"b"));
    assert_eq!(group["replies"][0]["text"].as_str(), Some("line1\nline2"));
}
