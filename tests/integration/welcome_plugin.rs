//! The welcome plugin through the real server: first-time and returning
//! followers, QR channels, scans and exact channel counts.

use wxhost::cli::stats::{ChannelStats, channel_stats};

use super::services_support::{WELCOME, follow, reply_text, scan, start, unfollow};
use super::support::{TestHost, USER_1, USER_2, unix_now};

fn stats(host: &TestHost) -> Vec<ChannelStats> {
    channel_stats(&host.store, "demo", "welcome", unix_now()).expect("stats read")
}

fn channel(name: &str, counts: [i64; 5]) -> ChannelStats {
    let [follows, new, returning, unfollows, scans] = counts;
    ChannelStats {
        channel: name.to_owned(),
        follows,
        new,
        returning,
        unfollows,
        scans,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_unfollow_follow_replies() {
    let (_fake, host) = start(WELCOME).await;
    let client = host.client("demo");

    let first = follow(&client, USER_1, 1_700_000_001, None).await;
    assert_eq!(reply_text(&first), "欢迎新朋友");
    let gone = unfollow(&client, USER_1, 1_700_000_002).await;
    assert_eq!(gone.text(), "success");
    let back = follow(&client, USER_1, 1_700_000_003, None).await;
    assert_eq!(reply_text(&back), "欢迎回来");

    assert_eq!(stats(&host), vec![channel("direct", [2, 1, 1, 1, 0])]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_by_follower_not_new() {
    let (_fake, host) = start(WELCOME).await;
    let client = host.client("demo");

    let first = follow(&client, USER_1, 1_700_000_001, None).await;
    assert_eq!(reply_text(&first), "欢迎新朋友");
    let scanned = scan(&client, USER_1, 1_700_000_002, "SCAN", "123").await;
    assert_eq!(reply_text(&scanned), "门店扫码");
    let other = scan(&client, USER_1, 1_700_000_003, "SCAN", "unlisted").await;
    assert_eq!(reply_text(&other), "您已关注");

    let services = host.state.services();
    let record = services
        .follower("demo", USER_1)
        .expect("ledger reads")
        .expect("recorded");
    assert_eq!(record.follow_count, 1);
    assert_eq!(record.scan_count, 2);
    assert_eq!(
        stats(&host),
        vec![
            channel("direct", [1, 1, 0, 0, 0]),
            channel("other", [0, 0, 0, 0, 1]),
            channel("store", [0, 0, 0, 0, 1]),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_scene_parsing() {
    let (_fake, host) = start(WELCOME).await;
    let client = host.client("demo");
    let services = host.state.services();

    // Only the one leading `qrscene_` is WeChat's prefix.
    let poster = follow(&client, USER_1, 1_700_000_001, Some("qrscene_qrscene_abc")).await;
    assert_eq!(reply_text(&poster), "海报新朋友");
    let record = services.follower("demo", USER_1).unwrap().unwrap();
    assert_eq!(record.first_scene.as_deref(), Some("qrscene_abc"));

    let store = follow(&client, USER_2, 1_700_000_002, Some("qrscene_123")).await;
    assert_eq!(reply_text(&store), "门店新朋友");
    let record = services.follower("demo", USER_2).unwrap().unwrap();
    assert_eq!(record.first_scene.as_deref(), Some("123"));

    // SCAN carries the scene without a prefix, under either case of the
    // event name.
    let upper = scan(&client, USER_2, 1_700_000_003, "SCAN", "123").await;
    assert_eq!(reply_text(&upper), "门店扫码");
    let lower = scan(&client, USER_2, 1_700_000_004, "scan", "123").await;
    assert_eq!(reply_text(&lower), "门店扫码");

    assert_eq!(
        stats(&host),
        vec![
            channel("poster", [1, 1, 0, 0, 0]),
            channel("store", [1, 1, 0, 0, 2]),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_counts_exact() {
    let (_fake, host) = start(WELCOME).await;
    let client = host.client("demo");

    for index in 0..3u64 {
        let openid = format!("oFAKE_poster_{index:04}");
        let answer = follow(
            &client,
            &openid,
            1_700_000_100 + index,
            Some("qrscene_poster_a"),
        )
        .await;
        assert_eq!(reply_text(&answer), "海报新朋友");
    }
    for index in 0..2u64 {
        let openid = format!("oFAKE_store_{index:04}");
        follow(&client, &openid, 1_700_000_200 + index, Some("qrscene_123")).await;
    }
    follow(&client, USER_1, 1_700_000_300, None).await;

    // A retried follow (the identical callback) counts once.
    for _ in 0..3 {
        let answer = follow(&client, USER_2, 1_700_000_400, Some("qrscene_poster_b")).await;
        assert_eq!(reply_text(&answer), "海报新朋友");
    }
    // Unfollows count against the channel of the latest follow.
    unfollow(&client, "oFAKE_poster_0000", 1_700_000_500).await;
    let back = follow(
        &client,
        "oFAKE_poster_0000",
        1_700_000_600,
        Some("qrscene_123"),
    )
    .await;
    assert_eq!(reply_text(&back), "欢迎回来");

    assert_eq!(
        stats(&host),
        vec![
            channel("direct", [1, 1, 0, 0, 0]),
            channel("poster", [4, 4, 0, 1, 0]),
            channel("store", [3, 2, 1, 0, 0]),
        ]
    );
    assert_eq!(stats(&host)[1].net(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_committed_before_reply() {
    let (_fake, host) = start(WELCOME).await;
    let client = host.client("demo");
    let answer = follow(&client, USER_1, 1_700_000_001, Some("qrscene_poster_a")).await;
    assert_eq!(reply_text(&answer), "海报新朋友");

    // A second connection reads only committed rows.
    let other = wxhost::store::Store::open(&host.dir().join("wxhost.db")).expect("second store");
    let record = other
        .ledger_get("demo", USER_1)
        .expect("ledger reads")
        .expect("recorded");
    assert_eq!(record.follow_count, 1);
    assert_eq!(record.first_scene.as_deref(), Some("poster_a"));
    let new = other
        .kv_get("demo", "welcome", "channel/poster/new", unix_now())
        .expect("kv reads");
    assert_eq!(new, Some(b"1".to_vec()));
}
