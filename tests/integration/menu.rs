//! The menu plugin through the server, and `menu push` against the fake
//! of WeChat.

use std::sync::Arc;

use wxhost::apis::AccountApis;
use wxhost::config::{Config, ConfigError, MenuConfig};
use wxhost::fake_wechat::{DEFAULT_SECRET, FakeConfig, FakeWeChat};
use wxhost::menu::{self, MenuPushError};
use wxhost::wechat::SqliteStore;

use crate::support::wechat::event_xml;
use crate::support::{
    APPID, Mode, ORIGINAL_ID, TOKEN, TestHost, USER_1, config_with_plugins, normalize_create_time,
};

const MENU_PLUGIN: &str = r#"
[[plugins]]
name = "menu"
path = "{plugins}/plugin_menu.wasm"
events = ["click", "scancode_waitmsg", "pic_photo_or_album", "location_select"]

[plugins.config]
scancode_waitmsg = "您扫描的是：{scan_result}（{scan_type}）"

[plugins.config.clicks]
TODAY = { text = "今日推荐：明前龙井。" }
POSTER = { image = "mFAKEposterMediaId" }

[plugins.config.answers]
SHOP_PHOTO = "已收到 {count} 张门店照片，谢谢！"
"#;

fn text_reply(content: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{USER_1}]]></ToUserName><FromUserName><![CDATA[{ORIGINAL_ID}]]></FromUserName><CreateTime>NOW</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content></xml>"
    )
}

#[tokio::test]
async fn menu_events_answered() {
    let host = TestHost::start(&config_with_plugins(MENU_PLUGIN)).await;
    let client = host.client("demo");
    let image_reply = format!(
        "<xml><ToUserName><![CDATA[{USER_1}]]></ToUserName><FromUserName><![CDATA[{ORIGINAL_ID}]]></FromUserName><CreateTime>NOW</CreateTime><MsgType><![CDATA[image]]></MsgType><Image><MediaId><![CDATA[mFAKEposterMediaId]]></MediaId></Image></xml>"
    );
    let cases = [
        (
            "CLICK",
            "<EventKey><![CDATA[TODAY]]></EventKey>".to_owned(),
            text_reply("今日推荐：明前龙井。"),
        ),
        (
            "CLICK",
            "<EventKey><![CDATA[POSTER]]></EventKey>".to_owned(),
            image_reply,
        ),
        (
            "scancode_waitmsg",
            "<EventKey><![CDATA[SCAN_QUERY]]></EventKey><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[https://example.com/p/42]]></ScanResult></ScanCodeInfo>".to_owned(),
            text_reply("您扫描的是：https://example.com/p/42（qrcode）"),
        ),
        (
            "pic_photo_or_album",
            "<EventKey><![CDATA[SHOP_PHOTO]]></EventKey><SendPicsInfo><Count>2</Count><PicList><item><PicMd5Sum><![CDATA[aaa]]></PicMd5Sum></item><item><PicMd5Sum><![CDATA[bbb]]></PicMd5Sum></item></PicList></SendPicsInfo>".to_owned(),
            text_reply("已收到 2 张门店照片，谢谢！"),
        ),
        (
            "location_select",
            "<EventKey><![CDATA[NEAR]]></EventKey><SendLocationInfo><Location_X><![CDATA[23.1]]></Location_X><Location_Y><![CDATA[113.3]]></Location_Y><Scale><![CDATA[15]]></Scale><Label><![CDATA[广州市海珠区新港中路]]></Label><Poiname><![CDATA[]]></Poiname></SendLocationInfo>".to_owned(),
            text_reply("已收到您选择的位置：广州市海珠区新港中路"),
        ),
        (
            "location_select",
            "<EventKey><![CDATA[NEAR]]></EventKey><SendLocationInfo><Location_X><![CDATA[23.1]]></Location_X><Location_Y><![CDATA[113.3]]></Location_Y><Scale><![CDATA[15]]></Scale><Label><![CDATA[]]></Label><Poiname><![CDATA[]]></Poiname></SendLocationInfo>".to_owned(),
            text_reply("已收到您选择的位置：纬度 23.1，经度 113.3"),
        ),
    ];
    for (index, (event, extra, expected)) in cases.iter().enumerate() {
        let xml = event_xml(USER_1, event, 1_700_000_500 + index as u64, extra);
        let answer = client.post(Mode::Plain, &xml).await;
        assert_eq!(answer.status, 200, "{event}");
        assert_eq!(normalize_create_time(&answer.text()), *expected, "{event}");
    }

    // A key with no reply and no unknown_click passes: `success`.
    let xml = event_xml(
        USER_1,
        "CLICK",
        1_700_000_600,
        "<EventKey><![CDATA[OTHER]]></EventKey>",
    );
    assert_eq!(client.post(Mode::Plain, &xml).await.text(), "success");
}

const MENU: &str = r#"
[[accounts.menu.button]]
type = "click"
name = "今日推荐"
key = "TODAY"

[[accounts.menu.button]]
name = "服务"

[[accounts.menu.button.sub_button]]
type = "scancode_waitmsg"
name = "扫码查询"
key = "SCAN_QUERY"

[[accounts.menu.button.sub_button]]
type = "view"
name = "官网"
url = "https://example.com/"

[[accounts.menu.button.sub_button]]
type = "miniprogram"
name = "小程序"
url = "https://example.com/mp"
appid = "wx0000000000000001"
pagepath = "pages/index/index"

[[accounts.menu.conditional]]
matchrule = { tag_id = 2 }

[[accounts.menu.conditional.button]]
type = "click"
name = "会员专区"
key = "VIP"
"#;

fn account_config(dir: &std::path::Path, base_url: &str, menu: &str) -> String {
    format!(
        r#"
[store]
path = "{dir}/wxhost.db"

[[accounts]]
name = "demo"
appid = "{APPID}"
token = "fake:{TOKEN}"
app_secret = "fake:{DEFAULT_SECRET}"
api_base_url = "{base_url}"
{menu}
"#,
        dir = dir.display()
    )
}

#[tokio::test]
async fn menu_push_sends_exact_json() {
    let fake = FakeWeChat::start(FakeConfig::default())
        .await
        .expect("fake");
    let dir = tempfile::tempdir().expect("tempdir");
    let text = account_config(dir.path(), fake.base_url(), MENU);
    let config = Config::parse(&text, dir.path()).expect("valid config");
    let store = SqliteStore::open(&dir.path().join("wxhost.db")).expect("store");
    let apis = AccountApis::build(&config, Arc::new(store)).expect("apis");
    let client = apis.client("demo").expect("client");
    let menu = config
        .account("demo")
        .and_then(|a| a.menu.as_ref())
        .expect("menu");

    let ids = menu::push(client, menu).await.expect("push");
    assert_eq!(ids.len(), 1);

    let created = fake.requests_to("/cgi-bin/menu/create");
    assert_eq!(created.len(), 1);
    assert_eq!(
        String::from_utf8(created[0].body.clone()).expect("UTF-8"),
        r#"{"button":[{"type":"click","name":"今日推荐","key":"TODAY"},{"name":"服务","sub_button":[{"type":"scancode_waitmsg","name":"扫码查询","key":"SCAN_QUERY"},{"type":"view","name":"官网","url":"https://example.com/"},{"type":"miniprogram","name":"小程序","url":"https://example.com/mp","appid":"wx0000000000000001","pagepath":"pages/index/index"}]}]}"#
    );
    let conditional = fake.requests_to("/cgi-bin/menu/addconditional");
    assert_eq!(conditional.len(), 1);
    assert_eq!(
        String::from_utf8(conditional[0].body.clone()).expect("UTF-8"),
        r#"{"button":[{"type":"click","name":"会员专区","key":"VIP"}],"matchrule":{"tag_id":"2"}}"#
    );
    assert!(created[0].seq < conditional[0].seq);
}

const BAD_MENU: &str = r#"
[[accounts.menu.button]]
type = "click"
name = "一二三四五六"
key = "A"

[[accounts.menu.button]]
type = "view"
name = "更多"
url = "https://example.com/"

[[accounts.menu.button.sub_button]]
type = "click"
name = "无键"

[[accounts.menu.button.sub_button]]
type = "link"
name = "链接"
url = "ftp://example.com/"

[[accounts.menu.button.sub_button]]
type = "miniprogram"
name = "小程序"
pagepath = "pages/index/index"
url = "https://example.com/"

[[accounts.menu.button]]
type = "click"
name = "三"
key = "C"

[[accounts.menu.button]]
type = "click"
name = "四"
key = "D"

[[accounts.menu.conditional]]
matchrule = { sex = "1" }

[[accounts.menu.conditional.button]]
type = "click"
name = "专区"
key = "VIP"
"#;

fn expected_problems(prefix: &str) -> Vec<(String, String)> {
    [
        ("menu.button", "a menu has 1 to 3 buttons, found 4"),
        ("menu.button[0].name", "\"一二三四五六\" is 18 bytes; use 1 to 16 bytes of UTF-8"),
        ("menu.button[1].type", "a button with sub_button has no type; remove it"),
        ("menu.button[1].sub_button[0].key", "missing; this button type needs it"),
        (
            "menu.button[1].sub_button[1].type",
            "unknown button type \"link\"; use one of click, view, scancode_push, scancode_waitmsg, pic_sysphoto, pic_photo_or_album, pic_weixin, location_select, media_id, view_limited, article_id, article_view_limited, miniprogram",
        ),
        ("menu.button[1].sub_button[1].url", "\"ftp://example.com/\" is not an http or https URL"),
        ("menu.button[1].sub_button[2].appid", "missing; this button type needs it"),
        (
            "menu.conditional[0].matchrule",
            "set tag_id or client_platform_type; a rule needs at least one",
        ),
        (
            "menu.conditional[0].matchrule.sex",
            "WeChat rejects rules on personal data (errcode 65320); remove it",
        ),
    ]
    .iter()
    .map(|(field, message)| (format!("{prefix}{field}"), (*message).to_owned()))
    .collect()
}

#[tokio::test]
async fn invalid_menu_rejected_before_calls() {
    let fake = FakeWeChat::start(FakeConfig::default())
        .await
        .expect("fake");
    let dir = tempfile::tempdir().expect("tempdir");

    let text = account_config(dir.path(), fake.base_url(), BAD_MENU);
    let Err(ConfigError::Invalid { problems, .. }) = Config::parse(&text, dir.path()) else {
        panic!("the invalid menu loaded");
    };
    let found: Vec<(String, String)> = problems
        .into_iter()
        .map(|problem| (problem.field, problem.message))
        .collect();
    assert_eq!(found, expected_problems("accounts[0]."));

    // `menu::push` checks again before any call.
    let good = Config::parse(
        &account_config(dir.path(), fake.base_url(), MENU),
        dir.path(),
    )
    .expect("valid config");
    let store = SqliteStore::open(&dir.path().join("wxhost.db")).expect("store");
    let apis = AccountApis::build(&good, Arc::new(store)).expect("apis");
    let table: toml::Table = toml::from_str(BAD_MENU).expect("TOML");
    let bad: MenuConfig = table["accounts"]["menu"]
        .clone()
        .try_into()
        .expect("menu shape");
    let Err(MenuPushError::Invalid(problems)) =
        menu::push(apis.client("demo").expect("client"), &bad).await
    else {
        panic!("the invalid menu was pushed");
    };
    assert_eq!(problems, expected_problems(""));
    assert_eq!(fake.requests().len(), 0);
}
