//! Test plugin that calls the host service named by a text command and
//! replies with the result as text:
//!
//! - `ledger`: the sender's ledger record, `none`, or the error;
//! - `pseudonym`: the sender's pseudonym;
//! - `qr SCENE`: a temporary code (600 s) for the scene string;
//! - `qrid ID`: a permanent code for the scene id;
//! - `image SCENE`: the media id of a temporary code's image;
//! - `incr KEY DELTA`: `kv::increment`;
//! - `once KEY`: `kv::set-if-absent`.
//!
//! Errors are replied as `error: ` and the error's debug text.

wit_bindgen::generate!({ path: "../../../wit", world: "plugin" });

use wxhost::plugin::types::{Message, Payload, Reply};
use wxhost::plugin::{followers, kv, media, qrcode};

struct ServicesProbe;

impl Guest for ServicesProbe {
    fn handle(event: Event) -> Vec<Directive> {
        let Payload::Message(Message::Text(text)) = &event.payload else {
            return vec![Directive::NoReply];
        };
        let words: Vec<&str> = text.content.split_whitespace().collect();
        let answer = match words.as_slice() {
            ["ledger"] => ledger(&event.from_user),
            ["pseudonym"] => followers::pseudonym(&event.from_user).map_err(|e| format!("{e:?}")),
            ["qr", scene] => temporary(scene).map(|code| describe(&code)),
            ["qrid", id] => permanent(id),
            ["image", scene] => temporary(scene).and_then(|code| {
                media::qrcode_image(&code.ticket)
                    .map(|id| format!("media={id}"))
                    .map_err(|e| format!("{e:?}"))
            }),
            ["incr", key, delta] => kv::increment(key, delta.parse().unwrap_or(0))
                .map(|value| format!("value={value}"))
                .map_err(|e| format!("{e:?}")),
            ["once", key] => kv::set_if_absent(key, b"set", None)
                .map(|stored| format!("stored={stored}"))
                .map_err(|e| format!("{e:?}")),
            _ => Err("unknown command".to_owned()),
        };
        let text = answer.unwrap_or_else(|error| format!("error: {error}"));
        vec![Directive::Reply(Reply::Text(text))]
    }
}

fn ledger(openid: &str) -> Result<String, String> {
    let follower = followers::get(openid).map_err(|e| format!("{e:?}"))?;
    Ok(match follower {
        None => "none".to_owned(),
        Some(f) => format!(
            "subscribed={} follows={} unfollows={} scans={} first_scene={} last_scene={}",
            f.subscribed,
            f.follow_count,
            f.unfollow_count,
            f.scan_count,
            f.first_scene.as_deref().unwrap_or("-"),
            f.last_scene.as_deref().unwrap_or("-"),
        ),
    })
}

fn temporary(scene: &str) -> Result<qrcode::QrCode, String> {
    let scene = qrcode::Scene::SceneStr(scene.to_owned());
    qrcode::create(&scene, qrcode::Kind::Temporary(600)).map_err(|e| format!("{e:?}"))
}

fn permanent(id: &str) -> Result<String, String> {
    let id = id
        .parse()
        .map_err(|_| "the scene id is not a u32".to_owned())?;
    qrcode::create(&qrcode::Scene::SceneId(id), qrcode::Kind::Permanent)
        .map(|code| describe(&code))
        .map_err(|e| format!("{e:?}"))
}

fn describe(code: &qrcode::QrCode) -> String {
    format!(
        "ticket={} cached={} expire={}",
        code.ticket,
        code.cached,
        code.expire_seconds
            .map_or_else(|| "none".to_owned(), |secs| secs.to_string())
    )
}

export!(ServicesProbe);
