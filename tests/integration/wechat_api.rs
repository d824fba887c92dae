//! Typed API calls against the fake: request encoding, errcode mapping and
//! retry rules.

use std::collections::BTreeMap;
use std::time::Duration;

use wxhost::fake_wechat::{FakeConfig, Injection};
use wxhost::wechat::*;

use crate::wechat_support::*;

const QRCODE: &str = "/cgi-bin/qrcode/create";
const MENU_CREATE: &str = "/cgi-bin/menu/create";
const BATCH_TAGGING: &str = "/cgi-bin/tags/members/batchtagging";

fn inject(fake: &wxhost::fake_wechat::FakeWeChat, path: &str, times: u32, errcode: i64) {
    fake.inject(Injection {
        path: path.to_owned(),
        times,
        errcode: Some(errcode),
        ..Injection::default()
    });
}

fn qr() -> QrCodeRequest {
    QrCodeRequest::Temporary {
        scene: Scene::Id(123),
        expire_seconds: Some(604_800),
    }
}

#[tokio::test]
async fn menu_body_raw_utf8() {
    let s = setup(Options::default()).await;
    let menu = Menu {
        button: vec![Button::click("菜单", "k1")],
    };
    s.client.create_menu(&menu).await.unwrap();

    let request = &s.fake.requests_to(MENU_CREATE)[0];
    assert_eq!(
        request.content_type.as_deref(),
        Some("application/json; charset=utf-8")
    );
    assert!(
        request
            .body
            .windows(6)
            .any(|w| w == [0xE8, 0x8F, 0x9C, 0xE5, 0x8D, 0x95])
    );
    assert!(!String::from_utf8_lossy(&request.body).contains("\\u83dc"));
    let stored = s.client.get_menu().await.unwrap();
    assert_eq!(stored.menu.unwrap().button, menu.button);
}

#[tokio::test]
async fn invalid_charset_not_retried() {
    let s = setup(Options::default()).await;
    inject(&s.fake, MENU_CREATE, 1, 40033);
    let menu = Menu {
        button: vec![Button::click("菜单", "k1")],
    };

    let err = s.client.create_menu(&menu).await.unwrap_err();

    let ApiError::Api { errcode, rid, .. } = &err else {
        panic!("expected an API error, got {err:?}");
    };
    assert_eq!(*errcode, 40033);
    assert!(rid.is_some());
    assert_eq!(s.fake.requests_to(MENU_CREATE).len(), 1);
}

#[tokio::test]
async fn fake_rejects_escaped_body() {
    let s = setup(Options::default()).await;
    let token = s.broker.token().await.unwrap();
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}{MENU_CREATE}", s.fake.base_url()))
        .query(&[("access_token", token.as_str())])
        .body(r#"{"button":[{"type":"click","name":"\u83dc\u5355","key":"k1"}]}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["errcode"], 40033);
}

#[tokio::test]
async fn non_follower_info() {
    let s = setup(Options::default()).await;
    s.fake.set_user(
        wxhost::fake_wechat::DEFAULT_APPID,
        "oFAKE_user_0002",
        false,
        Some("uFAKE_union_0002".to_owned()),
    );

    let info = s.client.user_info("oFAKE_user_0002", None).await.unwrap();

    assert!(!info.subscribed);
    assert_eq!(info.openid, "oFAKE_user_0002");
    assert_eq!(info.unionid.as_deref(), Some("uFAKE_union_0002"));
    assert_eq!(info.subscribe_time, None);
    assert_eq!(info.nickname, None);
    assert_eq!(info.language, None);
    assert!(info.tagid_list.is_empty());
    let batch = s
        .client
        .user_info_batch(&["oFAKE_user_0002".to_owned()], None)
        .await
        .unwrap();
    assert_eq!(batch, vec![info]);
}

#[tokio::test]
async fn tag_error_surfaced_by_default() {
    let s = setup(Options::default()).await;
    let tag = s.client.create_tag("vip").await.unwrap();
    inject(&s.fake, BATCH_TAGGING, 1, 45159);

    let err = s
        .client
        .batch_tag(tag.id, &[OPENID.to_owned()])
        .await
        .unwrap_err();

    assert_eq!(err.errcode(), Some(45159));
    assert_eq!(s.fake.requests_to(BATCH_TAGGING).len(), 1);
    assert_eq!(s.broker.fetches(), 1);
}

fn tag_retry_options() -> Options {
    Options {
        client: ClientConfig {
            tag_retry: Some(TagRetryPolicy {
                max_retries: 3,
                delay: Duration::from_millis(10),
            }),
        },
        ..Options::default()
    }
}

#[tokio::test]
async fn tag_retry_policy_succeeds() {
    let s = setup(tag_retry_options()).await;
    let tag = s.client.create_tag("vip").await.unwrap();
    inject(&s.fake, BATCH_TAGGING, 3, 45159);

    s.client
        .batch_tag(tag.id, &[OPENID.to_owned()])
        .await
        .unwrap();

    assert_eq!(s.fake.requests_to(BATCH_TAGGING).len(), 4);
    assert_eq!(s.fake.requests_to(STABLE_PATH).len(), 1);
    let info = s.client.user_info(OPENID, None).await.unwrap();
    assert!(!info.subscribed);
}

#[tokio::test]
async fn tag_retry_policy_bounded() {
    let s = setup(tag_retry_options()).await;
    let tag = s.client.create_tag("vip").await.unwrap();
    inject(&s.fake, BATCH_TAGGING, 10, 45159);

    let err = s
        .client
        .batch_tag(tag.id, &[OPENID.to_owned()])
        .await
        .unwrap_err();

    assert_eq!(err.errcode(), Some(45159));
    assert_eq!(s.fake.requests_to(BATCH_TAGGING).len(), 4);
    assert_eq!(s.fake.requests_to(STABLE_PATH).len(), 1);
}

#[tokio::test]
async fn new_tag_visible_after_delay() {
    let mut options = tag_retry_options();
    options.fake = FakeConfig {
        tag_visible_after: Duration::from_millis(15),
        ..FakeConfig::default()
    };
    let s = setup(options).await;
    let tag = s.client.create_tag("vip").await.unwrap();

    s.client
        .batch_tag(tag.id, &[OPENID.to_owned()])
        .await
        .unwrap();

    let calls = s.fake.requests_to(BATCH_TAGGING).len();
    assert!((2..=4).contains(&calls), "{calls} tagging calls");
}

#[tokio::test]
async fn system_busy_retried() {
    let s = setup(Options::default()).await;
    inject(&s.fake, QRCODE, 2, -1);

    let ticket = s.client.create_qrcode(&qr()).await.unwrap();

    assert_eq!(ticket.expire_seconds, Some(604_800));
    assert_eq!(s.fake.requests_to(QRCODE).len(), 3);
}

#[tokio::test]
async fn system_busy_bounded() {
    let s = setup(Options::default()).await;
    inject(&s.fake, QRCODE, 10, -1);

    let err = s.client.create_qrcode(&qr()).await.unwrap_err();

    assert_eq!(err.errcode(), Some(-1));
    assert_eq!(s.fake.requests_to(QRCODE).len(), 4);
}

#[tokio::test]
async fn dropped_connection_retried() {
    let s = setup(Options::default()).await;
    s.fake.inject(Injection {
        path: QRCODE.to_owned(),
        drop: true,
        ..Injection::default()
    });

    s.client.create_qrcode(&qr()).await.unwrap();

    assert_eq!(s.fake.requests_to(QRCODE).len(), 2);
}

#[tokio::test]
async fn transport_error_hides_token() {
    let s = setup(Options::default()).await;
    s.fake.inject(Injection {
        path: QRCODE.to_owned(),
        times: 4,
        drop: true,
        ..Injection::default()
    });

    let err = s.client.create_qrcode(&qr()).await.unwrap_err();

    assert!(matches!(err, ApiError::Transport { .. }), "{err:?}");
    let token = s.broker.token().await.unwrap();
    let mut text = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    while let Some(inner) = source {
        text.push_str(&format!(" {inner} {inner:?}"));
        source = inner.source();
    }
    assert!(!text.contains(token.as_str()), "{text}");
    assert!(!text.contains("access_token"), "{text}");
    assert_eq!(s.fake.requests_to(QRCODE).len(), 4);
}

#[tokio::test]
async fn slow_answer_still_succeeds() {
    let s = setup(Options::default()).await;
    s.fake.inject(Injection {
        path: QRCODE.to_owned(),
        delay_ms: Some(50),
        ..Injection::default()
    });
    let started = std::time::Instant::now();

    s.client.create_qrcode(&qr()).await.unwrap();

    assert!(started.elapsed() >= Duration::from_millis(50));
    assert_eq!(s.fake.requests_to(QRCODE).len(), 1);
}

#[tokio::test]
async fn qrcode_validated_before_call() {
    let s = setup(Options::default()).await;
    let bad = [
        QrCodeRequest::Temporary {
            scene: Scene::Id(0),
            expire_seconds: None,
        },
        QrCodeRequest::Temporary {
            scene: Scene::Id(1),
            expire_seconds: Some(2_592_001),
        },
        QrCodeRequest::Permanent {
            scene: Scene::Id(100_001),
        },
        QrCodeRequest::Permanent {
            scene: Scene::Str("x".repeat(65)),
        },
    ];
    for request in bad {
        let err = s.client.create_qrcode(&request).await.unwrap_err();
        assert!(matches!(err, ApiError::InvalidRequest { .. }), "{err:?}");
    }
    assert!(s.fake.requests().is_empty());
}

#[tokio::test]
async fn qrcode_image_and_json_error() {
    let s = setup(Options::default()).await;
    let ticket = s.client.create_qrcode(&qr()).await.unwrap();

    let image = s.client.show_qrcode(&ticket.ticket).await.unwrap();
    assert_eq!(&image[..3], [0xFF, 0xD8, 0xFF]);
    let image_request = &s.fake.requests_to("/cgi-bin/showqrcode")[0];
    assert_eq!(
        image_request.query_param("ticket"),
        Some(ticket.ticket.as_str())
    );
    assert_eq!(image_request.access_token, None);

    let err = s.client.show_qrcode("gQunknown").await.unwrap_err();
    assert_eq!(err.errcode(), Some(40097));
}

#[tokio::test]
async fn media_upload_multipart_field() {
    let s = setup(Options::default()).await;
    let media = s
        .client
        .upload_media(
            MediaType::Image,
            "a.jpg",
            "image/jpeg",
            vec![0xFF, 0xD8, 0xFF],
        )
        .await
        .unwrap();

    assert_eq!(media.media_type, "image");
    assert!(media.media_id.starts_with("FAKE_MEDIA_"));
    let upload = &s.fake.requests_to("/cgi-bin/media/upload")[0];
    assert_eq!(upload.query_param("type"), Some("image"));
    assert!(
        upload
            .content_type
            .as_deref()
            .unwrap()
            .starts_with("multipart/form-data")
    );
    let body = String::from_utf8_lossy(&upload.body);
    assert!(
        body.contains("name=\"media\"; filename=\"a.jpg\""),
        "{body}"
    );
}

#[tokio::test]
async fn template_client_msg_id_once() {
    let s = setup(Options::default()).await;
    let message = TemplateMessage {
        touser: OPENID.to_owned(),
        template_id: "tpl-1".to_owned(),
        url: None,
        miniprogram: None,
        client_msg_id: Some("MSG_000001".to_owned()),
        data: BTreeMap::from([(
            "keyword1".to_owned(),
            TemplateValue {
                value: "v".to_owned(),
            },
        )]),
    };

    let first = s.client.send_template(&message).await.unwrap();
    let second = s.client.send_template(&message).await.unwrap();

    assert_eq!(first, second);
    assert_eq!(s.fake.deliveries().len(), 1);
    let sent = &s.fake.requests_to("/cgi-bin/message/template/send")[0];
    assert_eq!(sent.json().unwrap()["client_msg_id"], "MSG_000001");
}

#[tokio::test]
async fn batch_sizes_checked_locally() {
    let s = setup(Options::default()).await;
    let many: Vec<String> = (0..101).map(|i| format!("o{i}")).collect();
    let err = s.client.user_info_batch(&many, None).await.unwrap_err();
    assert!(matches!(err, ApiError::InvalidRequest { .. }));
    let err = s.client.batch_tag(100, &many[..51]).await.unwrap_err();
    assert!(matches!(err, ApiError::InvalidRequest { .. }));
    let err = s.client.batch_untag(100, &[]).await.unwrap_err();
    assert!(matches!(err, ApiError::InvalidRequest { .. }));
    assert!(s.fake.requests().is_empty());
}

#[tokio::test]
async fn conditional_menu_roundtrip() {
    let s = setup(Options::default()).await;
    let menu = Menu {
        button: vec![Button::click("默认", "k1")],
    };
    s.client.create_menu(&menu).await.unwrap();
    let rule = MatchRule {
        tag_id: Some("2".to_owned()),
        client_platform_type: None,
    };
    let id = s.client.add_conditional_menu(&menu, &rule).await.unwrap();

    let stored = s.client.get_menu().await.unwrap();
    assert_eq!(stored.conditionalmenu.len(), 1);
    assert_eq!(
        stored.conditionalmenu[0].menuid.map(|m| m.to_string()),
        Some(id)
    );
    assert_eq!(stored.conditionalmenu[0].matchrule, rule);

    s.client.delete_menu().await.unwrap();
    let err = s.client.get_menu().await.unwrap_err();
    assert_eq!(err.errcode(), Some(46003));
}

#[tokio::test]
async fn typing_needs_recent_interaction() {
    let s = setup(Options::default()).await;
    let err = s
        .client
        .send_typing(OPENID, TypingCommand::Typing)
        .await
        .unwrap_err();
    assert_eq!(err.errcode(), Some(45080));
    s.fake
        .record_interaction(
            wxhost::fake_wechat::DEFAULT_APPID,
            OPENID,
            wxhost::fake_wechat::Interaction::Message,
        )
        .unwrap();
    s.client
        .send_typing(OPENID, TypingCommand::Typing)
        .await
        .unwrap();
    let sent = s.fake.requests_to("/cgi-bin/message/custom/typing");
    assert_eq!(sent[1].json().unwrap()["command"], "Typing");
}

#[tokio::test]
async fn wechat_quota_reported() {
    let s = setup(Options::default()).await;
    s.client.create_qrcode(&qr()).await.unwrap();
    let quota = s.client.api_quota(QRCODE).await.unwrap();
    assert_eq!(quota.daily_limit, 100_000);
    assert_eq!(quota.used, 1);
    assert_eq!(quota.remain, 99_999);
}
