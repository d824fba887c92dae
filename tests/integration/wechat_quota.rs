//! Quotas and customer-service windows: local rejections happen before any
//! request, and WeChat's limit errcodes are typed, never retried and never
//! cause a token refresh.

use wxhost::fake_wechat::{DEFAULT_APPID, FakeConfig, Interaction};
use wxhost::wechat::*;

use crate::wechat_support::*;

const QRCODE: &str = "/cgi-bin/qrcode/create";

fn now_ms() -> i64 {
    SystemClock.now_ms()
}

fn text(content: &str) -> CustomMessage {
    CustomMessage {
        touser: OPENID.to_owned(),
        body: CustomBody::Text {
            content: content.to_owned(),
        },
        kf_account: None,
    }
}

fn qr() -> QrCodeRequest {
    QrCodeRequest::Permanent {
        scene: Scene::Str("shop".to_owned()),
    }
}

fn assert_wechat_limit(err: &ApiError, kind: LimitKind, errcode: i64, errmsg: &str) {
    let ApiError::Limit {
        kind: actual,
        origin:
            LimitOrigin::WeChat {
                errcode: code,
                errmsg: message,
                ..
            },
        ..
    } = err
    else {
        panic!("expected a WeChat limit error, got {err:?}");
    };
    assert_eq!(*actual, kind);
    assert_eq!(*code, errcode);
    assert_eq!(message, errmsg);
}

#[tokio::test]
async fn window_closed_typed_not_retried() {
    let s = setup(Options::default()).await;
    // wxhost saw a message, but WeChat considers the window closed.
    s.client
        .record_interaction(OPENID, InteractionKind::Message, now_ms())
        .unwrap();

    let err = s.client.send_custom(&text("hi")).await.unwrap_err();

    assert_wechat_limit(
        &err,
        LimitKind::ReplyWindowClosed,
        45015,
        "response out of time limit or subscription is canceled",
    );
    assert!(err.is_reply_window_closed());
    assert_eq!(s.fake.requests_to(CUSTOM_SEND).len(), 1);
    assert_eq!(s.broker.fetches(), 1);
    // The window is now closed locally as well.
    let again = s.client.send_custom(&text("hi")).await.unwrap_err();
    assert!(again.is_local());
    assert_eq!(s.fake.requests_to(CUSTOM_SEND).len(), 1);
}

#[tokio::test]
async fn reply_count_typed_not_retried() {
    let s = setup(Options::default()).await;
    // wxhost allows 5 after a message; WeChat only saw a follow (3).
    s.client
        .record_interaction(OPENID, InteractionKind::Message, now_ms())
        .unwrap();
    s.fake
        .record_interaction(DEFAULT_APPID, OPENID, Interaction::Follow)
        .unwrap();
    for _ in 0..3 {
        s.client.send_custom(&text("hi")).await.unwrap();
    }

    let err = s.client.send_custom(&text("hi")).await.unwrap_err();

    assert_wechat_limit(
        &err,
        LimitKind::ReplyCountExceeded,
        45047,
        "out of response count limit",
    );
    assert_eq!(s.fake.requests_to(CUSTOM_SEND).len(), 4);
    assert_eq!(s.broker.fetches(), 1);
    let again = s.client.send_custom(&text("hi")).await.unwrap_err();
    assert!(again.is_local(), "{again:?}");
    assert!(again.is_reply_count_exceeded(), "{again:?}");
    assert_eq!(s.fake.requests_to(CUSTOM_SEND).len(), 4);
}

#[tokio::test]
async fn daily_quota_typed_not_retried() {
    let s = setup(Options::default()).await;
    s.fake.set_daily_limit(QRCODE, 1);
    s.client.create_qrcode(&qr()).await.unwrap();

    let err = s.client.create_qrcode(&qr()).await.unwrap_err();

    assert_wechat_limit(
        &err,
        LimitKind::DailyQuota,
        45009,
        "reach max api daily quota limit",
    );
    assert!(err.is_quota_exhausted());
    assert_eq!(s.fake.requests_to(QRCODE).len(), 2);
    assert_eq!(s.broker.fetches(), 1);
    // wxhost has recorded the exhausted quota and now rejects locally.
    let again = s.client.create_qrcode(&qr()).await.unwrap_err();
    assert!(again.is_local(), "{again:?}");
    assert!(again.is_quota_exhausted(), "{again:?}");
    assert_eq!(s.fake.requests_to(QRCODE).len(), 2);
}

#[tokio::test]
async fn closed_window_rejected_before_request() {
    let s = setup(Options::default()).await;

    let err = s.client.send_custom(&text("hi")).await.unwrap_err();

    assert!(err.is_local(), "{err:?}");
    assert!(err.is_reply_window_closed(), "{err:?}");
    assert_eq!(err.errcode(), Some(45015));
    assert!(s.fake.requests().is_empty());
}

#[tokio::test]
async fn follow_window_three_then_local_rejection() {
    let s = setup(Options::default()).await;
    s.client
        .record_interaction(OPENID, InteractionKind::Follow, now_ms())
        .unwrap();
    s.fake
        .record_interaction(DEFAULT_APPID, OPENID, Interaction::Follow)
        .unwrap();
    for _ in 0..3 {
        s.client.send_custom(&text("hi")).await.unwrap();
    }

    let err = s.client.send_custom(&text("hi")).await.unwrap_err();

    assert!(err.is_local(), "{err:?}");
    assert!(err.is_reply_count_exceeded(), "{err:?}");
    assert_eq!(err.errcode(), Some(45047));
    assert_eq!(s.fake.requests_to(CUSTOM_SEND).len(), 3);
    assert_eq!(s.fake.deliveries().len(), 3);
}

#[tokio::test]
async fn daily_limit_rejected_before_request() {
    let mut limits = QuotaLimits::default();
    limits.daily.insert(QRCODE.to_owned(), 2);
    let s = setup(Options {
        limits,
        ..Options::default()
    })
    .await;
    s.client.create_qrcode(&qr()).await.unwrap();
    s.client.create_qrcode(&qr()).await.unwrap();

    let err = s.client.create_qrcode(&qr()).await.unwrap_err();

    let ApiError::Limit {
        origin: LimitOrigin::Local { limit, window },
        ..
    } = &err
    else {
        panic!("expected a local limit, got {err:?}");
    };
    assert_eq!((*limit, *window), (2, LimitWindow::Day));
    assert_eq!(s.fake.requests_to(QRCODE).len(), 2);
    let usage = s.quota.usage("main").unwrap();
    let qr_usage = usage.apis.iter().find(|a| a.api == QRCODE).unwrap();
    assert_eq!((qr_usage.daily_used, qr_usage.daily_limit), (2, Some(2)));
}

#[tokio::test]
async fn every_msgtype_delivered() {
    let mut options = Options {
        fake: FakeConfig {
            enforce_reply_windows: false,
            ..FakeConfig::default()
        },
        ..Options::default()
    };
    options.limits.message_window.allowance = 20;
    let s = setup(options).await;
    s.client
        .record_interaction(OPENID, InteractionKind::Message, now_ms())
        .unwrap();
    let s_ = |v: &str| v.to_owned();
    let bodies = vec![
        CustomBody::Text {
            content: s_("你好"),
        },
        CustomBody::Image { media_id: s_("m") },
        CustomBody::Voice { media_id: s_("m") },
        CustomBody::Video {
            media_id: s_("m"),
            thumb_media_id: s_("t"),
            title: s_("ti"),
            description: s_("d"),
        },
        CustomBody::Music {
            title: s_("ti"),
            description: s_("d"),
            musicurl: s_("http://m/1.mp3"),
            hqmusicurl: s_("http://m/1hq.mp3"),
            thumb_media_id: s_("t"),
        },
        CustomBody::News {
            articles: vec![NewsArticle {
                title: s_("ti"),
                description: s_("d"),
                url: s_("http://a/"),
                picurl: s_("http://a/p.png"),
            }],
        },
        CustomBody::MpNews { media_id: s_("m") },
        CustomBody::MpNewsArticle {
            article_id: s_("a"),
        },
        CustomBody::MsgMenu {
            head_content: s_("h"),
            list: vec![MsgMenuItem {
                id: s_("101"),
                content: s_("yes"),
            }],
            tail_content: s_("t"),
        },
        CustomBody::WxCard { card_id: s_("c") },
        CustomBody::MiniProgramPage {
            title: s_("ti"),
            appid: s_("wxmini"),
            pagepath: s_("pages/index"),
            thumb_media_id: s_("t"),
        },
    ];
    let expected: Vec<&str> = bodies.iter().map(CustomBody::msgtype).collect();
    for body in bodies {
        let message = CustomMessage {
            touser: OPENID.to_owned(),
            body,
            kf_account: Some("test1@kf".to_owned()),
        };
        s.client.send_custom(&message).await.unwrap();
    }

    let delivered: Vec<String> = s
        .fake
        .deliveries()
        .iter()
        .map(|d| d.body["msgtype"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(delivered, expected);
    let last = &s.fake.deliveries()[10].body;
    assert_eq!(last["miniprogrampage"]["pagepath"], "pages/index");
    assert_eq!(last["customservice"]["kf_account"], "test1@kf");
}

#[tokio::test]
async fn two_news_articles_rejected() {
    let s = setup(Options::default()).await;
    s.client
        .record_interaction(OPENID, InteractionKind::Message, now_ms())
        .unwrap();
    let article = NewsArticle {
        title: "a".to_owned(),
        description: "b".to_owned(),
        url: "http://a/".to_owned(),
        picurl: "http://a/p.png".to_owned(),
    };
    let message = CustomMessage {
        touser: OPENID.to_owned(),
        body: CustomBody::News {
            articles: vec![article.clone(), article],
        },
        kf_account: None,
    };

    let err = s.client.send_custom(&message).await.unwrap_err();

    assert!(matches!(err, ApiError::InvalidRequest { .. }), "{err:?}");
    assert!(s.fake.requests().is_empty());
}
