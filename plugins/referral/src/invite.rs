//! The follower's own invite code: a QR code with the scene
//! `{scene_prefix}{pseudonym}`, sent as an image reply or, when the image
//! cannot be uploaded, as a news article that links it.

use std::fmt::Display;

use wxhost_plugin::qrcode::{self, Kind, Scene};
use wxhost_plugin::{Article, Directive, Reply, followers, kv, log, media};

use crate::settings::Settings;

/// Returns the reply that carries `openid`'s invite QR code, or the
/// configured `error_reply` (or nothing) when the code cannot be created.
pub fn reply_with_code(settings: &Settings, openid: &str) -> Vec<Directive> {
    match invite_reply(settings, openid) {
        Ok(reply) => vec![Directive::reply(reply)],
        Err(error) => {
            log::error_with("failed to create the invite code", &error);
            settings.error_reply.iter().map(Directive::reply).collect()
        }
    }
}

fn invite_reply(settings: &Settings, openid: &str) -> Result<Reply, String> {
    let code = followers::pseudonym(openid).map_err(context("pseudonym"))?;
    kv::set_bytes(&format!("inviter/{code}"), openid.as_bytes(), None).map_err(context("kv"))?;

    let scene = Scene::text(format!("{}{code}", settings.scene_prefix));
    let kind = if takes_permanent(settings, &code)? {
        Kind::Permanent
    } else {
        Kind::Temporary(settings.expire_seconds)
    };
    let code = qrcode::create(&scene, kind).map_err(context("qrcode"))?;

    match media::qrcode_image(&code.ticket) {
        Ok(media_id) => Ok(Reply::image(media_id)),
        Err(error) => {
            log::error_with("failed to upload the invite image", &error);
            let article = &settings.fallback_article;
            Ok(Reply::news([Article::new(&article.title, &code.image_url)
                .description(&article.description)
                .pic_url(&code.image_url)]))
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
    if kv::get_bytes(&marker).map_err(context("kv"))?.is_some() {
        return Ok(true);
    }
    let used = kv::increment("permanent-used", 1).map_err(context("kv"))?;
    if used > settings.permanent_budget {
        kv::increment("permanent-used", -1).map_err(context("kv"))?;
        return Ok(false);
    }
    kv::set_bytes(&marker, b"1", None).map_err(context("kv"))?;
    Ok(true)
}

/// Returns a mapper that prefixes an error's message with `step`.
fn context<E: Display>(step: &'static str) -> impl Fn(E) -> String {
    move |error| format!("{step}: {error}")
}
