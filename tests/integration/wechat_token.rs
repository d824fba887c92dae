//! Token broker behaviour against the fake: one fetch per need, one retry
//! per stale token, stable_token rules and sharing between processes.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use wxhost::fake_wechat::{DEFAULT_APPID, DEFAULT_SECRET, FakeConfig, FakeWeChat, Injection};
use wxhost::wechat::{
    ApiError, ClientConfig, QuotaGuard, QuotaLimits, SqliteStore, TokenMode, TokenStore,
    WeChatClient,
};

use crate::wechat_support::*;

const USER_INFO: &str = "/cgi-bin/user/info";

fn classic_options(overlap: Duration) -> Options {
    Options {
        fake: FakeConfig {
            classic_overlap: overlap,
            ..FakeConfig::default()
        },
        token: token_config(TokenMode::Classic),
        ..Options::default()
    }
}

#[tokio::test]
async fn stable_mode_posts_stable_token_only() {
    let s = setup(Options::default()).await;
    s.client.user_info(OPENID, None).await.unwrap();

    assert!(s.fake.requests_to(CLASSIC_PATH).is_empty());
    let fetches = s.fake.requests_to(STABLE_PATH);
    assert_eq!(fetches.len(), 1);
    assert_eq!(fetches[0].method, "POST");
    assert_eq!(
        fetches[0].content_type.as_deref(),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(
        fetches[0].json().unwrap(),
        json!({"grant_type":"client_credential","appid":"wx1234567890abcdef","secret":DEFAULT_SECRET,"force_refresh":false})
    );
    assert_eq!(s.broker.fetches(), 1);
}

#[tokio::test]
async fn stale_token_refetched_once() {
    let s = setup(classic_options(Duration::ZERO)).await;
    let t1 = s.broker.token().await.unwrap();
    foreign_classic_fetch(s.fake.base_url()).await;
    s.fake.clear_requests();

    let info = s.client.user_info(OPENID, None).await.unwrap();
    assert_eq!(info.openid, OPENID);

    let requests = s.fake.requests();
    assert_eq!(paths(&s.fake), [USER_INFO, CLASSIC_PATH, USER_INFO]);
    assert_eq!(requests[0].access_token.as_deref(), Some(t1.as_str()));
    assert_eq!(requests[0].query, requests[2].query);
    assert_eq!(requests[0].body, requests[2].body);
    let t3 = s.broker.token().await.unwrap();
    assert_ne!(t3, t1);
    assert_eq!(requests[2].access_token.as_deref(), Some(t3.as_str()));
    assert_eq!(s.broker.fetches(), 2);
    assert_eq!(s.broker.foreign_refreshes(), 1);
}

#[tokio::test]
async fn stale_token_same_body_resent() {
    let s = setup(classic_options(Duration::ZERO)).await;
    s.client
        .record_interaction(OPENID, wxhost::wechat::InteractionKind::Message, now_ms())
        .unwrap();
    s.fake
        .record_interaction(
            DEFAULT_APPID,
            OPENID,
            wxhost::fake_wechat::Interaction::Message,
        )
        .unwrap();
    s.broker.token().await.unwrap();
    foreign_classic_fetch(s.fake.base_url()).await;
    s.fake.clear_requests();

    s.client.send_custom(&text(OPENID, "菜单")).await.unwrap();

    let sends = s.fake.requests_to(CUSTOM_SEND);
    assert_eq!(sends.len(), 2);
    assert_eq!(sends[0].body, sends[1].body);
    assert_ne!(sends[0].access_token, sends[1].access_token);
    assert_eq!(s.fake.requests_to(CLASSIC_PATH).len(), 1);
    assert_eq!(s.fake.deliveries().len(), 1);
}

#[tokio::test]
async fn replaced_token_not_refetched() {
    let s = setup(classic_options(Duration::ZERO)).await;
    let t1 = s.broker.token().await.unwrap();
    let t2 = s.broker.refresh_after_failure(t1.as_str()).await.unwrap();
    // A second caller reports the same failed token. The cache already
    // contains a newer one, so there is no fetch.
    let again = s.broker.refresh_after_failure(t1.as_str()).await.unwrap();
    assert_eq!(again, t2);
    assert_eq!(s.broker.fetches(), 2);
    assert_eq!(s.fake.requests_to(CLASSIC_PATH).len(), 2);
}

#[tokio::test]
async fn expired_token_refreshed() {
    let s = setup(classic_options(Duration::from_secs(300))).await;
    s.broker.token().await.unwrap();
    s.fake.advance_clock(Duration::from_secs(7200));
    s.fake.clear_requests();

    s.client.user_info(OPENID, None).await.unwrap();

    assert_eq!(paths(&s.fake), [USER_INFO, CLASSIC_PATH, USER_INFO]);
    assert_eq!(s.broker.fetches(), 2);
}

#[tokio::test]
async fn invalid_token_refreshed() {
    let s = setup(classic_options(Duration::from_secs(300))).await;
    s.broker.token().await.unwrap();
    s.fake.clear_requests();
    s.fake.inject(Injection {
        path: USER_INFO.to_owned(),
        errcode: Some(40014),
        errmsg: Some("invalid access_token".to_owned()),
        ..Injection::default()
    });

    s.client.user_info(OPENID, None).await.unwrap();

    assert_eq!(paths(&s.fake), [USER_INFO, CLASSIC_PATH, USER_INFO]);
    assert_eq!(s.broker.fetches(), 2);
}

#[tokio::test]
async fn second_token_error_not_looped() {
    let s = setup(classic_options(Duration::from_secs(300))).await;
    s.fake.inject(Injection {
        path: USER_INFO.to_owned(),
        times: 5,
        errcode: Some(40001),
        errmsg: Some("invalid credential".to_owned()),
        ..Injection::default()
    });

    let err = s.client.user_info(OPENID, None).await.unwrap_err();

    assert_eq!(err.errcode(), Some(40001));
    assert_eq!(s.fake.requests_to(USER_INFO).len(), 2);
    assert_eq!(s.broker.fetches(), 2);
}

async fn config_error(
    fake: FakeConfig,
    appid: &str,
    secret: &str,
    mode: TokenMode,
) -> (ApiError, usize) {
    let fake = FakeWeChat::start(fake).await.unwrap();
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let mut s = wire(
        fake,
        store,
        token_config(mode),
        QuotaLimits::default(),
        ClientConfig::default(),
    );
    let mut credentials = credentials();
    credentials.appid = appid.to_owned();
    credentials.secret = wxhost::wechat::AppSecret::new(secret);
    let broker = wxhost::wechat::TokenBroker::new(
        credentials,
        token_config(mode),
        http(s.fake.base_url()),
        s.store.clone(),
    );
    s.broker = Arc::new(broker);
    let err = s.broker.token().await.unwrap_err();
    (err, s.fake.requests().len())
}

#[tokio::test]
async fn config_errors_not_retried() {
    let cases = [
        (
            DEFAULT_APPID.replace('1', "9"),
            DEFAULT_SECRET,
            TokenMode::Stable,
            40013,
        ),
        (DEFAULT_APPID.to_owned(), "wrong", TokenMode::Stable, 40125),
        (
            DEFAULT_APPID.replace('1', "9"),
            DEFAULT_SECRET,
            TokenMode::Classic,
            40013,
        ),
        (DEFAULT_APPID.to_owned(), "wrong", TokenMode::Classic, 40001),
    ];
    for (appid, secret, mode, code) in cases {
        let (err, requests) = config_error(FakeConfig::default(), &appid, secret, mode).await;
        let ApiError::Config { errcode, hint, .. } = &err else {
            panic!("{mode:?} {code}: expected a config error, got {err:?}");
        };
        assert_eq!(*errcode, code);
        assert!(!hint.contains(secret), "{hint}");
        assert_eq!(requests, 1, "{mode:?} {code}");
    }
}

#[tokio::test]
async fn ip_whitelist_reports_egress_ip() {
    let fake = FakeConfig {
        ip_whitelist: Some(vec!["192.0.2.10".parse().unwrap()]),
        ..FakeConfig::default()
    };
    let (err, requests) =
        config_error(fake, DEFAULT_APPID, DEFAULT_SECRET, TokenMode::Stable).await;
    let ApiError::Config { errcode, hint, .. } = &err else {
        panic!("expected a config error, got {err:?}");
    };
    assert_eq!(*errcode, 40164);
    assert!(hint.contains("egress IP 127.0.0.1 "), "{hint}");
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn foreign_force_refresh_needs_no_force() {
    let s = setup(Options::default()).await;
    let s1 = s.broker.token().await.unwrap();
    let s2 = foreign_force_refresh(s.fake.base_url()).await;
    assert_ne!(s1.as_str(), s2);
    s.fake.clear_requests();

    s.client.user_info(OPENID, None).await.unwrap();

    assert_eq!(paths(&s.fake), [USER_INFO, STABLE_PATH, USER_INFO]);
    let fetch = &s.fake.requests_to(STABLE_PATH)[0];
    assert_eq!(fetch.json().unwrap()["force_refresh"], json!(false));
    assert_eq!(s.broker.token().await.unwrap().as_str(), s2);
}

#[tokio::test]
async fn same_token_triggers_force() {
    let s = setup(Options::default()).await;
    let s1 = s.broker.token().await.unwrap();
    s.fake.clear_requests();
    s.fake.inject(Injection {
        path: USER_INFO.to_owned(),
        errcode: Some(40001),
        errmsg: Some("invalid credential, access_token is invalid or not latest".to_owned()),
        ..Injection::default()
    });

    s.client.user_info(OPENID, None).await.unwrap();

    assert_eq!(
        paths(&s.fake),
        [USER_INFO, STABLE_PATH, STABLE_PATH, USER_INFO]
    );
    let fetches = s.fake.requests_to(STABLE_PATH);
    assert_eq!(fetches[0].json().unwrap()["force_refresh"], json!(false));
    assert_eq!(fetches[1].json().unwrap()["force_refresh"], json!(true));
    let s2 = s.broker.token().await.unwrap();
    assert_ne!(s2, s1);
    assert_eq!(
        s.fake.requests_to(USER_INFO)[1].access_token.as_deref(),
        Some(s2.as_str())
    );
}

#[tokio::test]
async fn force_spacing_enforced() {
    let s = setup(Options::default()).await;
    s.broker.token().await.unwrap();
    let stale = Injection {
        path: USER_INFO.to_owned(),
        errcode: Some(40001),
        ..Injection::default()
    };
    s.fake.inject(stale.clone());
    s.client.user_info(OPENID, None).await.unwrap();
    s.fake.inject(stale);
    s.fake.clear_requests();

    // The second forced refresh would come less than 30 s after the first.
    let err = s.client.user_info(OPENID, None).await.unwrap_err();

    let ApiError::ForceRefreshBudget { reason, .. } = &err else {
        panic!("expected a budget error, got {err:?}");
    };
    assert!(reason.contains("30000 ms must pass"), "{reason}");
    assert_eq!(paths(&s.fake), [USER_INFO, STABLE_PATH]);
}

#[tokio::test]
async fn force_daily_budget_enforced() {
    let s = setup(Options::default()).await;
    s.broker.token().await.unwrap();
    let now = now_ms();
    for i in 0..20 {
        s.store
            .record_force_refresh("main", now - 1_000 * (40 + i))
            .unwrap();
    }
    // Sanity: all 20 fall on today's calendar day in UTC+8 unless the test
    // runs within 60 s after midnight there.
    s.fake.inject(Injection {
        path: USER_INFO.to_owned(),
        errcode: Some(40001),
        ..Injection::default()
    });
    s.fake.clear_requests();

    let err = s.client.user_info(OPENID, None).await.unwrap_err();

    let ApiError::ForceRefreshBudget { reason, .. } = &err else {
        panic!("expected a budget error, got {err:?}");
    };
    assert_eq!(reason, "20 forced refreshes already used today");
    assert_eq!(paths(&s.fake), [USER_INFO, STABLE_PATH]);
}

#[tokio::test]
async fn fifty_callers_one_fetch() {
    let s = setup(Options::default()).await;
    let client = Arc::new(s.client);
    let calls = (0..50).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.user_info(OPENID, None).await })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.unwrap().unwrap();
    }
    assert_eq!(s.fake.requests_to(STABLE_PATH).len(), 1);
    assert_eq!(s.fake.requests_to(USER_INFO).len(), 50);
    assert_eq!(s.broker.fetches(), 1);
}

#[tokio::test]
async fn restart_reuses_stored_token() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wxhost.db");
    let fake = FakeWeChat::start(FakeConfig::default()).await.unwrap();
    let first = broker_on_file(fake.base_url(), &path, TokenMode::Stable);
    let token = first.token().await.unwrap();
    drop(first);

    let restarted = broker_on_file(fake.base_url(), &path, TokenMode::Stable);
    assert_eq!(restarted.token().await.unwrap(), token);
    assert_eq!(restarted.fetches(), 0);
    assert_eq!(fake.requests_to(STABLE_PATH).len(), 1);
}

#[tokio::test]
async fn two_processes_share_classic_token() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wxhost.db");
    let fake = FakeWeChat::start(FakeConfig {
        classic_overlap: Duration::ZERO,
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let a = broker_on_file(fake.base_url(), &path, TokenMode::Classic);
    let b = broker_on_file(fake.base_url(), &path, TokenMode::Classic);

    let (ta, tb) = tokio::join!(a.token(), b.token());
    let (ta, tb) = (ta.unwrap(), tb.unwrap());

    assert_eq!(ta, tb);
    assert_eq!(fake.requests_to(CLASSIC_PATH).len(), 1);
    assert_eq!(a.fetches() + b.fetches(), 1);
    // The shared token is still the latest, so both processes' calls pass
    // without a 40001 and without another fetch.
    let quota = Arc::new(QuotaGuard::new(
        QuotaLimits::default(),
        Arc::new(SqliteStore::open_in_memory().unwrap()),
    ));
    for broker in [a, b] {
        let client = WeChatClient::new(
            http(fake.base_url()),
            broker,
            quota.clone(),
            ClientConfig::default(),
        );
        client.user_info(OPENID, None).await.unwrap();
    }
    assert_eq!(fake.requests_to(CLASSIC_PATH).len(), 1);
    assert_eq!(fake.requests_to(USER_INFO).len(), 2);
}

fn now_ms() -> i64 {
    wxhost::wechat::Clock::now_ms(&wxhost::wechat::SystemClock)
}

fn text(openid: &str, content: &str) -> wxhost::wechat::CustomMessage {
    wxhost::wechat::CustomMessage {
        touser: openid.to_owned(),
        body: wxhost::wechat::CustomBody::Text {
            content: content.to_owned(),
        },
        kf_account: None,
    }
}
