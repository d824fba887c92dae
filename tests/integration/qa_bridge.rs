//! The qa-bridge plugin through the server, against the demo Q&A
//! service on 127.0.0.1, and fetch refusals through the fetch-probe
//! plugin.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::net::TcpListener;
use wxhost::demo_qa::{self, DemoQaState};

use crate::outbox_support::{CUSTOM_SEND, deliveries_to, follower_writes, start, wait_until};
use crate::support::wechat::text_xml;
use crate::support::{
    Mode, ORIGINAL_ID, TestHost, USER_1, USER_2, config_with_plugins, normalize_create_time,
};

/// Starts the demo Q&A service on an ephemeral loopback port.
async fn demo_service() -> (SocketAddr, DemoQaState) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let state = DemoQaState::new(Duration::ZERO);
    let served = state.clone();
    tokio::spawn(async move {
        let _ = demo_qa::serve(listener, served).await;
    });
    (address, state)
}

/// Returns a loopback port on which nothing listens.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("address").port()
}

/// Returns the qa-bridge plugin's tables, allowed to reach `address`
/// and asking `url`.
fn qa_plugin(address: SocketAddr, url: &str) -> String {
    format!(
        r#"
[[plugins]]
name = "qa"
path = "{{plugins}}/plugin_qa_bridge.wasm"
messages = ["text"]
capabilities = ["fetch", "followers"]

[plugins.limits]
deadline_ms = 10000

[plugins.fetch]
allow = ["{address}"]
timeout_ms = 5000

[plugins.config]
url = "{url}"
fallback = {{ transfer_customer_service = "" }}
no_answer = {{ text = "这个问题我还不会，请换个说法。" }}
"#
    )
}

fn text_reply(content: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{USER_1}]]></ToUserName><FromUserName><![CDATA[{ORIGINAL_ID}]]></FromUserName><CreateTime>NOW</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content></xml>"
    )
}

async fn ask(host: &TestHost, question: &str, msg_id: u64) -> String {
    let answer = host
        .client("demo")
        .post(Mode::Plain, &text_xml(USER_1, question, msg_id))
        .await;
    assert_eq!(answer.status, 200);
    normalize_create_time(&answer.text())
}

#[tokio::test]
async fn qa_text_answer() {
    let (address, service) = demo_service().await;
    let url = format!("http://{address}/ask");
    let host = TestHost::start(&config_with_plugins(&qa_plugin(address, &url))).await;

    let reply = ask(&host, "你们的营业时间是？", 24_000_000_000_004_001).await;
    assert_eq!(
        reply,
        text_reply("我们的营业时间是每天 9:00 至 21:00，节假日照常营业。")
    );

    let requests = service.requests();
    assert_eq!(requests.len(), 1);
    let body = String::from_utf8(requests[0].clone()).expect("UTF-8 body");
    let pseudonym = host
        .state
        .services()
        .pseudonym("demo", USER_1)
        .expect("pseudonym");
    assert_eq!(pseudonym.len(), 32);
    assert_eq!(
        body,
        format!(r#"{{"account":"demo","question":"你们的营业时间是？","user":"{pseudonym}"}}"#)
    );
    assert!(
        !body.contains(USER_1),
        "the body contains the openid: {body}"
    );
}

#[tokio::test]
async fn qa_user_is_stable_pseudonym() {
    let (address, service) = demo_service().await;
    let url = format!("http://{address}/ask");
    let host = TestHost::start(&config_with_plugins(&qa_plugin(address, &url))).await;

    ask(&host, "几点开门", 24_000_000_000_004_010).await;
    ask(&host, "怎么退货", 24_000_000_000_004_011).await;
    let other = host
        .client("demo")
        .post(
            Mode::Plain,
            &text_xml(USER_2, "怎么退货", 24_000_000_000_004_012),
        )
        .await;
    assert_eq!(other.status, 200);

    let services = host.state.services();
    let users: Vec<String> = service
        .requests()
        .iter()
        .map(|body| {
            let body: serde_json::Value = serde_json::from_slice(body).expect("JSON body");
            body["user"].as_str().expect("user field").to_owned()
        })
        .collect();
    let mine = services.pseudonym("demo", USER_1).expect("pseudonym");
    let theirs = services.pseudonym("demo", USER_2).expect("pseudonym");
    assert_eq!(users, [mine.clone(), mine, theirs]);
    for body in service.requests() {
        let body = String::from_utf8(body).expect("UTF-8 body");
        assert!(
            !body.contains(USER_1),
            "the body contains an openid: {body}"
        );
        assert!(
            !body.contains(USER_2),
            "the body contains an openid: {body}"
        );
    }
}

#[tokio::test]
async fn qa_without_followers_omits_user() {
    let (address, service) = demo_service().await;
    let url = format!("http://{address}/ask");
    let plugin = qa_plugin(address, &url).replace(
        r#"capabilities = ["fetch", "followers"]"#,
        r#"capabilities = ["fetch"]"#,
    );
    let host = TestHost::start(&config_with_plugins(&plugin)).await;

    let reply = ask(&host, "你们的营业时间是？", 24_000_000_000_004_020).await;
    assert_eq!(
        reply,
        text_reply("我们的营业时间是每天 9:00 至 21:00，节假日照常营业。")
    );
    let requests = service.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        String::from_utf8(requests[0].clone()).expect("UTF-8 body"),
        r#"{"account":"demo","question":"你们的营业时间是？"}"#
    );
}

#[tokio::test]
async fn qa_news_answer() {
    let (address, _service) = demo_service().await;
    let url = format!("http://{address}/ask");
    let host = TestHost::start(&config_with_plugins(&qa_plugin(address, &url))).await;

    let reply = ask(&host, "会员有什么权益", 24_000_000_000_004_002).await;
    assert_eq!(
        reply,
        format!(
            "<xml><ToUserName><![CDATA[{USER_1}]]></ToUserName><FromUserName><![CDATA[{ORIGINAL_ID}]]></FromUserName><CreateTime>NOW</CreateTime><MsgType><![CDATA[news]]></MsgType><ArticleCount>1</ArticleCount><Articles><item><Title><![CDATA[会员权益说明]]></Title><Description><![CDATA[积分、折扣和生日礼包一览]]></Description><PicUrl><![CDATA[https://example.com/qa/member.jpg]]></PicUrl><Url><![CDATA[https://example.com/qa/member]]></Url></item></Articles></xml>"
        )
    );
}

#[tokio::test]
async fn qa_no_answer_text() {
    let (address, _service) = demo_service().await;
    let url = format!("http://{address}/ask");
    let host = TestHost::start(&config_with_plugins(&qa_plugin(address, &url))).await;

    let reply = ask(&host, "明天天气怎么样", 24_000_000_000_004_003).await;
    assert_eq!(reply, text_reply("这个问题我还不会，请换个说法。"));
}

#[tokio::test]
async fn qa_down_transfers_to_agents() {
    let port = closed_port().await;
    let address: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
    let url = format!("http://{address}/ask");
    let host = TestHost::start(&config_with_plugins(&qa_plugin(address, &url))).await;

    let reply = ask(&host, "退货怎么办", 24_000_000_000_004_004).await;
    assert_eq!(
        reply,
        format!(
            "<xml><ToUserName><![CDATA[{USER_1}]]></ToUserName><FromUserName><![CDATA[{ORIGINAL_ID}]]></FromUserName><CreateTime>NOW</CreateTime><MsgType><![CDATA[transfer_customer_service]]></MsgType></xml>"
        )
    );
}

#[tokio::test]
async fn qa_5xx_takes_fallback() {
    let (address, service) = demo_service().await;
    let url = format!("http://{address}/ask?status=503");
    let plugin = qa_plugin(address, &url).replace(
        r#"fallback = { transfer_customer_service = "" }"#,
        r#"fallback = { text = "智能客服暂时不可用，请稍后再试。" }"#,
    );
    let host = TestHost::start(&config_with_plugins(&plugin)).await;

    let reply = ask(&host, "发票", 24_000_000_000_004_005).await;
    assert_eq!(reply, text_reply("智能客服暂时不可用，请稍后再试。"));
    assert_eq!(service.requests().len(), 1);
}

#[tokio::test]
async fn qa_slow_answer_sent_later() {
    let (address, service) = demo_service().await;
    let url = format!("http://{address}/ask?delay_ms=1500");
    let (fake, host) = start("reply_budget_ms = 300", &qa_plugin(address, &url)).await;
    follower_writes(&fake);

    let started = Instant::now();
    let answer = host
        .client("demo")
        .post(
            Mode::Plain,
            &text_xml(USER_1, "发票怎么开", 24_000_000_000_004_006),
        )
        .await;
    let answered_in = started.elapsed();
    assert_eq!(answer.text(), "success");
    assert!(
        answered_in < Duration::from_millis(1000),
        "answered in {answered_in:?}"
    );

    wait_until("the late answer", || {
        !deliveries_to(&fake, CUSTOM_SEND).is_empty()
    })
    .await;
    let custom = deliveries_to(&fake, CUSTOM_SEND);
    assert_eq!(custom.len(), 1);
    assert_eq!(
        custom[0].body,
        json!({
            "touser": USER_1,
            "msgtype": "text",
            "text": {"content": "下单时可选择开具电子发票，发票会在发货后 24 小时内发送到您的邮箱。"}
        })
    );
    assert_eq!(service.requests().len(), 1);
}

/// Returns the fetch-probe plugin's tables with `capabilities`, allowed
/// to reach `allow` when that is some.
fn probe_plugin(capabilities: &str, allow: Option<&[String]>) -> String {
    let fetch = match allow {
        Some(allow) => {
            let quoted: Vec<String> = allow.iter().map(|entry| format!("{entry:?}")).collect();
            format!("[plugins.fetch]\nallow = [{}]\n", quoted.join(", "))
        }
        None => String::new(),
    };
    format!(
        r#"
[[plugins]]
name = "probe"
path = "{{plugins}}/plugin_fetch_probe.wasm"
messages = ["text"]
capabilities = [{capabilities}]

[plugins.limits]
deadline_ms = 5000

{fetch}"#
    )
}

#[tokio::test]
async fn fetch_refusals() {
    let (address, service) = demo_service().await;
    let port = address.port();
    let other = closed_port().await;
    let allow = vec![address.to_string(), format!("localhost:{port}")];
    let host = TestHost::start(&config_with_plugins(&probe_plugin(
        r#""fetch""#,
        Some(&allow),
    )))
    .await;

    let cases = [
        (
            "http://qa.other.example/ask".to_owned(),
            "error=not-permitted: qa.other.example:80 is not on the plugin's fetch allow list",
        ),
        (
            format!("http://127.0.0.1:{other}/ask"),
            "error=blocked-address",
        ),
        ("http://10.0.0.8/ask".to_owned(), "error=blocked-address"),
        (
            "http://172.16.5.4:8080/".to_owned(),
            "error=blocked-address",
        ),
        ("http://192.168.1.10/".to_owned(), "error=blocked-address"),
        (
            "http://169.254.169.254/latest/meta-data".to_owned(),
            "error=blocked-address",
        ),
        ("http://[fd00::1]/".to_owned(), "error=blocked-address"),
        (
            format!("http://localhost:{port}/healthz"),
            "error=blocked-address",
        ),
        (format!("http://{address}/healthz"), "status=200 body=ok"),
    ];
    for (index, (url, expected)) in cases.iter().enumerate() {
        let reply = ask(&host, url, 24_000_000_000_004_100 + index as u64).await;
        assert_eq!(reply, text_reply(expected), "{url}");
    }
    assert_eq!(service.requests().len(), 0);
}

#[tokio::test]
async fn fetch_needs_capability() {
    let (address, _service) = demo_service().await;
    let plugin = probe_plugin("", None);
    let host = TestHost::start(&config_with_plugins(&plugin)).await;

    let reply = ask(
        &host,
        &format!("http://{address}/healthz"),
        24_000_000_000_004_200,
    )
    .await;
    assert_eq!(
        reply,
        text_reply("error=not-permitted: the plugin lacks the \"fetch\" capability")
    );
}
