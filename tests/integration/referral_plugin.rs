//! The referral plugin through the real server and the fake of WeChat:
//! invite codes as image replies, and exactly-once inviter credit.

use std::time::Duration;

use serde_json::json;
use wxhost::cli::stats::invite_stats;
use wxhost::fake_wechat::{FakeWeChat, Injection};

use super::outbox_support::wait_until;
use super::services_support::{
    CUSTOM_SEND, MEDIA_UPLOAD, QRCODE_CREATE, SHOW_QRCODE, WELCOME, click, element, follow,
    opens_window, referral, reply_text, say, scan, start, unfollow,
};
use super::support::{TestHost, USER_1, USER_2, unix_now};

/// The inviter in these tests.
const INVITER: &str = USER_1;

fn pseudonym(host: &TestHost, openid: &str) -> String {
    let services = host.state.services();
    services.pseudonym("demo", openid).expect("pseudonym")
}

fn invites(host: &TestHost) -> Vec<(String, i64)> {
    invite_stats(&host.store, "demo", "referral", 10, unix_now()).expect("stats read")
}

/// Makes `INVITER` a follower who requests an invite code, and returns
/// the code.
async fn inviter_asks(host: &TestHost, fake: &FakeWeChat) -> String {
    let client = host.client("demo");
    follow(&client, INVITER, 1_700_000_000, None).await;
    opens_window(fake, INVITER);
    let answer = say(&client, INVITER, "邀请", 1).await;
    assert_eq!(element(&answer, "MsgType"), "image");
    pseudonym(host, INVITER)
}

fn customer_messages_to(fake: &FakeWeChat, openid: &str) -> Vec<serde_json::Value> {
    fake.deliveries()
        .into_iter()
        .filter(|delivery| delivery.api == CUSTOM_SEND && delivery.touser == openid)
        .map(|delivery| delivery.body)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_keyword_replies_image() {
    let (fake, host) = start(&format!("{WELCOME}{}", referral("inv_"))).await;
    let client = host.client("demo");
    let code = inviter_asks(&host, &fake).await;

    let creates = fake.requests_to(QRCODE_CREATE);
    assert_eq!(creates.len(), 1);
    assert_eq!(
        creates[0].json().expect("JSON body"),
        json!({
            "expire_seconds": 2_592_000,
            "action_name": "QR_STR_SCENE",
            "action_info": { "scene": { "scene_str": format!("inv_{code}") } }
        })
    );
    assert_eq!(fake.requests_to(SHOW_QRCODE).len(), 1);
    assert_eq!(fake.requests_to(MEDIA_UPLOAD).len(), 1);

    // Asking again, by keyword or menu, costs no API call.
    let again = say(&client, INVITER, " 邀请 ", 2).await;
    let clicked = click(&client, INVITER, 1_700_000_010, "INVITE").await;
    let first_media = element(&again, "MediaId");
    assert!(first_media.starts_with("FAKE_MEDIA_"), "{first_media}");
    assert_eq!(element(&clicked, "MediaId"), first_media);
    assert_eq!(fake.requests_to(QRCODE_CREATE).len(), 1);
    assert_eq!(fake.requests_to(MEDIA_UPLOAD).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_failure_falls_back_to_news() {
    let (fake, host) = start(&referral("inv_")).await;
    fake.inject(Injection {
        path: MEDIA_UPLOAD.to_owned(),
        errcode: Some(40004),
        errmsg: Some("invalid media type".to_owned()),
        ..Injection::default()
    });
    let answer = say(&host.client("demo"), INVITER, "邀请", 1).await;
    assert_eq!(element(&answer, "MsgType"), "news");
    assert_eq!(element(&answer, "Title"), "您的邀请码");
    let url = element(&answer, "Url");
    assert!(
        url.starts_with("https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=gQFAKE"),
        "{url}"
    );
    assert_eq!(element(&answer, "PicUrl"), url);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retried_subscribe_credits_once() {
    let (fake, host) = start(&format!("{WELCOME}{}", referral("inv_"))).await;
    let client = host.client("demo");
    let code = inviter_asks(&host, &fake).await;

    let key = format!("qrscene_inv_{code}");
    for delivery in 0..4 {
        let answer = follow(&client, USER_2, 1_700_000_100, Some(&key)).await;
        assert_eq!(reply_text(&answer), "感谢受邀关注", "delivery {delivery}");
    }
    assert_eq!(invites(&host), vec![(code.clone(), 1)]);

    wait_until("the inviter's message", || {
        !customer_messages_to(&fake, INVITER).is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let messages = customer_messages_to(&fake, INVITER);
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0]["text"]["content"],
        json!("您已成功邀请 1 位新朋友")
    );

    // Unfollowing and following again through the same code credits
    // nothing more: the follower is returning.
    unfollow(&client, USER_2, 1_700_000_200).await;
    let back = follow(&client, USER_2, 1_700_000_300, Some(&key)).await;
    assert_eq!(reply_text(&back), "欢迎回来");
    assert_eq!(invites(&host), vec![(code, 1)]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(customer_messages_to(&fake, INVITER).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_followers_credit_exactly() {
    let (fake, host) = start(&format!("{WELCOME}{}", referral("inv_"))).await;
    let code = inviter_asks(&host, &fake).await;
    let key = format!("qrscene_inv_{code}");

    let mut tasks = Vec::new();
    for index in 0..100u64 {
        let client = host.client("demo");
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            let openid = format!("oFAKE_new_{index:04}");
            follow(&client, &openid, 1_700_001_000 + index, Some(&key)).await
        }));
    }
    for task in tasks {
        let answer = task.await.expect("task finishes");
        assert_eq!(answer.status, 200);
    }
    assert_eq!(invites(&host), vec![(code, 100)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_invite_credits_nothing() {
    let (fake, host) = start(&format!("{WELCOME}{}", referral("inv_"))).await;
    let client = host.client("demo");

    // A first follow through one's own code: the follower asked for a
    // code before the ledger saw a follow.
    opens_window(&fake, USER_2);
    say(&client, USER_2, "邀请", 7).await;
    let own = format!("qrscene_inv_{}", pseudonym(&host, USER_2));
    let answer = follow(&client, USER_2, 1_700_000_100, Some(&own)).await;
    assert_eq!(answer.text(), "success");

    // A returning follow through one's own code.
    let code = inviter_asks(&host, &fake).await;
    unfollow(&client, INVITER, 1_700_000_200).await;
    let key = format!("qrscene_inv_{code}");
    let back = follow(&client, INVITER, 1_700_000_300, Some(&key)).await;
    assert_eq!(reply_text(&back), "欢迎回来");

    assert_eq!(invites(&host), Vec::<(String, i64)>::new());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.requests_to(CUSTOM_SEND).len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefix_stripped_once() {
    // Codes whose scene itself starts with `qrscene_`.
    let (fake, host) = start(&referral("qrscene_")).await;
    let client = host.client("demo");
    let code = inviter_asks(&host, &fake).await;
    let creates = fake.requests_to(QRCODE_CREATE);
    let body = creates[0].json().expect("JSON body");
    assert_eq!(
        body["action_info"]["scene"]["scene_str"],
        json!(format!("qrscene_{code}"))
    );

    let key = format!("qrscene_qrscene_{code}");
    let answer = follow(&client, USER_2, 1_700_000_100, Some(&key)).await;
    assert_eq!(reply_text(&answer), "感谢受邀关注");
    assert_eq!(invites(&host), vec![(code, 1)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_of_invite_code() {
    let (fake, host) = start(&referral("inv_")).await;
    let client = host.client("demo");
    let code = inviter_asks(&host, &fake).await;
    let scene = format!("inv_{code}");

    follow(&client, USER_2, 1_700_000_100, None).await;
    let upper = scan(&client, USER_2, 1_700_000_200, "SCAN", &scene).await;
    assert_eq!(reply_text(&upper), "您已关注，无需再扫邀请码");
    let lower = scan(&client, USER_2, 1_700_000_300, "scan", &scene).await;
    assert_eq!(reply_text(&lower), "您已关注，无需再扫邀请码");
    assert_eq!(invites(&host), Vec::<(String, i64)>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inviter_message_needs_following_inviter() {
    let (fake, host) = start(&format!("{WELCOME}{}", referral("inv_"))).await;
    let client = host.client("demo");
    let code = inviter_asks(&host, &fake).await;
    unfollow(&client, INVITER, 1_700_000_050).await;

    let key = format!("qrscene_inv_{code}");
    let answer = follow(&client, USER_2, 1_700_000_100, Some(&key)).await;
    assert_eq!(reply_text(&answer), "感谢受邀关注");
    assert_eq!(invites(&host), vec![(code, 1)]);

    // The ledger records the inviter as gone, so the host drops the
    // message instead of queueing it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.requests_to(CUSTOM_SEND).len(), 0);
    assert_eq!(super::outbox_support::outbox_count(&host, "pending"), 0);
    assert_eq!(super::outbox_support::outbox_count(&host, "sent"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uncredited_follow_gets_reply() {
    let referral = referral("inv_").replace(
        "[plugins.config]\n",
        "[plugins.config]\nuncredited_reply = { text = \"欢迎关注\" }\n",
    );
    let (fake, host) = start(&format!("{WELCOME}{referral}")).await;
    let client = host.client("demo");

    // Welcome passes first-time followers of invite codes to referral,
    // which credits no one for an unknown code.
    let unknown = follow(&client, USER_2, 1_700_000_100, Some("qrscene_inv_nobody")).await;
    assert_eq!(reply_text(&unknown), "欢迎关注");

    // A first follow through one's own code credits no one either.
    opens_window(&fake, "oFAKE_self");
    say(&client, "oFAKE_self", "邀请", 7).await;
    let own = format!("qrscene_inv_{}", pseudonym(&host, "oFAKE_self"));
    let answer = follow(&client, "oFAKE_self", 1_700_000_200, Some(&own)).await;
    assert_eq!(reply_text(&answer), "欢迎关注");

    // A credited follow still gets the invitee reply.
    let code = inviter_asks(&host, &fake).await;
    let key = format!("qrscene_inv_{code}");
    let credited = follow(&client, "oFAKE_new", 1_700_000_300, Some(&key)).await;
    assert_eq!(reply_text(&credited), "感谢受邀关注");
    assert_eq!(invites(&host), vec![(code, 1)]);
}
