//! The `followers`, `qrcode`, `media` and new `kv` imports through the
//! real server, with the services-probe plugin and the fake of WeChat.

use super::services_support::{
    MEDIA_UPLOAD, QRCODE_CREATE, SHOW_QRCODE, follow, probe, reply_text, say, start, unfollow,
};
use super::support::{USER_1, USER_2};

const ALL: &str = r#""kv", "followers", "qrcode", "media""#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_cache_one_create_per_scene() {
    let (fake, host) = start(&probe(ALL)).await;
    let client = host.client("demo");

    let first = reply_text(&say(&client, USER_1, "qr s1", 1).await);
    let second = reply_text(&say(&client, USER_2, "qr s1", 2).await);
    let ticket = first
        .strip_prefix("ticket=")
        .and_then(|rest| rest.split(' ').next())
        .expect("a ticket")
        .to_owned();
    assert_eq!(first, format!("ticket={ticket} cached=false expire=600"));
    assert!(second.starts_with(&format!("ticket={ticket} cached=true expire=")));
    assert_eq!(fake.requests_to(QRCODE_CREATE).len(), 1);

    let other = reply_text(&say(&client, USER_1, "qr s2", 3).await);
    assert!(other.contains("cached=false"), "{other}");
    assert_eq!(fake.requests_to(QRCODE_CREATE).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_image_cached_per_ticket() {
    let (fake, host) = start(&probe(ALL)).await;
    let client = host.client("demo");

    let first = reply_text(&say(&client, USER_1, "image s1", 1).await);
    let second = reply_text(&say(&client, USER_1, "image s1", 2).await);
    assert!(first.starts_with("media=FAKE_MEDIA_"), "{first}");
    assert_eq!(second, first);
    assert_eq!(fake.requests_to(SHOW_QRCODE).len(), 1);
    assert_eq!(fake.requests_to(MEDIA_UPLOAD).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_limits_checked_before_call() {
    let (fake, host) = start(&probe(ALL)).await;
    let client = host.client("demo");

    let too_big = reply_text(&say(&client, USER_1, "qrid 100001", 1).await);
    assert_eq!(
        too_big,
        "error: Error::InvalidScene(\"scene_id of a permanent QR code must be 1 to 100000, got 100001\")"
    );
    let long = "a".repeat(65);
    let too_long = reply_text(&say(&client, USER_1, &format!("qr {long}"), 2).await);
    assert_eq!(
        too_long,
        "error: Error::InvalidScene(\"scene_str must be 1 to 64 characters, got 65\")"
    );
    assert_eq!(fake.requests_to(QRCODE_CREATE).len(), 0);

    let permanent = reply_text(&say(&client, USER_1, "qrid 100000", 3).await);
    assert!(
        permanent.ends_with(" cached=false expire=none"),
        "{permanent}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_not_permitted_without_grant() {
    let (fake, host) = start(&probe("")).await;
    let client = host.client("demo");

    let cases = [
        ("ledger", "error: Error::NotPermitted"),
        ("pseudonym", "error: Error::NotPermitted"),
        ("qr s1", "error: Error::NotPermitted"),
        ("qrid 1", "error: Error::NotPermitted"),
        ("incr n 1", "error: Error::NotPermitted"),
        ("once k", "error: Error::NotPermitted"),
    ];
    for (index, (command, expected)) in cases.into_iter().enumerate() {
        let answer = say(&client, USER_1, command, index as u64 + 1).await;
        assert_eq!(reply_text(&answer), expected, "command {command}");
    }
    assert_eq!(fake.requests_to(QRCODE_CREATE).len(), 0);

    // `media` alone is not enough for `image`, which needs `qrcode` first.
    let (_fake, media_only) = start(&probe(r#""media""#)).await;
    let answer = say(&media_only.client("demo"), USER_1, "image s1", 1).await;
    assert_eq!(reply_text(&answer), "error: Error::NotPermitted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_recorded_before_plugins() {
    let (_fake, host) = start(&probe(ALL)).await;
    let client = host.client("demo");

    assert_eq!(reply_text(&say(&client, USER_1, "ledger", 1).await), "none");
    follow(&client, USER_1, 1_700_000_001, Some("qrscene_poster_1")).await;
    unfollow(&client, USER_1, 1_700_000_002).await;
    follow(&client, USER_1, 1_700_000_003, None).await;
    assert_eq!(
        reply_text(&say(&client, USER_1, "ledger", 2).await),
        "subscribed=true follows=2 unfollows=1 scans=0 first_scene=poster_1 last_scene=-"
    );

    let mine = reply_text(&say(&client, USER_1, "pseudonym", 3).await);
    let again = reply_text(&say(&client, USER_1, "pseudonym", 4).await);
    let theirs = reply_text(&say(&client, USER_2, "pseudonym", 5).await);
    assert_eq!(mine.len(), 32);
    assert_eq!(mine, again);
    assert_ne!(mine, theirs);
    assert!(!mine.contains("oFAKE"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kv_increment_and_set_if_absent() {
    let (_fake, host) = start(&probe(ALL)).await;
    let client = host.client("demo");

    let replies = [
        ("incr n 5", "value=5"),
        ("incr n -2", "value=3"),
        ("once k", "stored=true"),
        ("once k", "stored=false"),
        (
            "incr k 1",
            "error: Error::Store(\"the value is not a decimal 64-bit integer\")",
        ),
    ];
    for (index, (command, expected)) in replies.into_iter().enumerate() {
        let answer = say(&client, USER_1, command, index as u64 + 1).await;
        assert_eq!(reply_text(&answer), expected, "command {command}");
    }
}
