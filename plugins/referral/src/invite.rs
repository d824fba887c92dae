//! The follower's own invite code: a QR code with the scene
//! `{scene_prefix}{pseudonym}`, sent as an image reply or, when the image
//! cannot be uploaded, as a news article that links it.

use crate::settings::Settings;
use crate::wxhost::plugin::types::{Article, Reply};
use crate::wxhost::plugin::{followers, kv, media, qrcode};
use crate::{Directive, log_error};

/// Returns the reply that carries `openid`'s invite QR code, or the
/// configured `error_reply` (or nothing) when the code cannot be created.
pub fn reply_with_code(settings: &Settings, openid: &str) -> Vec<Directive> {
    match invite_reply(settings, openid) {
        Ok(reply) => vec![Directive::Reply(reply)],
        Err(error) => {
            log_error("failed to create the invite code", error);
            settings
                .error_reply
                .iter()
                .map(|reply| Directive::Reply(reply.to_wit()))
                .collect()
        }
    }
}

fn invite_reply(settings: &Settings, openid: &str) -> Result<Reply, String> {
    let code = followers::pseudonym(openid).map_err(|e| format!("pseudonym: {e:?}"))?;
    kv::set(&format!("inviter/{code}"), openid.as_bytes(), None)
        .map_err(|e| format!("kv: {e:?}"))?;

    let scene = qrcode::Scene::SceneStr(format!("{}{code}", settings.scene_prefix));
    let kind = if takes_permanent(settings, &code)? {
        qrcode::Kind::Permanent
    } else {
        qrcode::Kind::Temporary(settings.expire_seconds)
    };
    let code = qrcode::create(&scene, kind).map_err(|e| format!("qrcode: {e:?}"))?;

    match media::qrcode_image(&code.ticket) {
        Ok(media_id) => Ok(Reply::Image(media_id)),
        Err(error) => {
            log_error("failed to upload the invite image", format!("{error:?}"));
            let article = &settings.fallback_article;
            Ok(Reply::News(vec![Article {
                title: article.title.clone(),
                description: article.description.clone(),
                pic_url: code.image_url.clone(),
                url: code.image_url,
            }]))
        }
    }
}

/// Returns true when `code` gets a permanent QR code: it has one already,
/// or `permanent_budget` has room for one more.
fn takes_permanent(settings: &Settings, code: &str) -> Result<bool, String> {
    if settings.permanent_budget <= 0 {
        return Ok(false);
    }
    let marker = format!("permanent/{code}");
    if kv::get(&marker)
        .map_err(|e| format!("kv: {e:?}"))?
        .is_some()
    {
        return Ok(true);
    }
    let used = kv::increment("permanent-used", 1).map_err(|e| format!("kv: {e:?}"))?;
    if used > settings.permanent_budget {
        kv::increment("permanent-used", -1).map_err(|e| format!("kv: {e:?}"))?;
        return Ok(false);
    }
    kv::set(&marker, b"1", None).map_err(|e| format!("kv: {e:?}"))?;
    Ok(true)
}
