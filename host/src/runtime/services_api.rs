//! The host side of the `followers`, `qrcode` and `media` imports: the
//! grant check, the conversion between WIT and [`crate::services`] types,
//! and a log record for every failed service call.

use super::bindings::wxhost::plugin::{followers, media, qrcode};
use super::host_api::HostCtx;
use crate::services::{Follower, QrCode, ServiceError};
use crate::wechat::{QrCodeRequest, Scene};

impl HostCtx {
    fn log_failure(&self, service: &'static str, error: &ServiceError) {
        tracing::warn!(
            plugin = %self.plugin.name,
            account = %self.account,
            service,
            error = %error,
            "plugin service call failed"
        );
    }
}

impl followers::Host for HostCtx {
    fn get(&mut self, openid: String) -> Result<Option<followers::Follower>, followers::Error> {
        if !self.plugin.grants.followers {
            return Err(followers::Error::NotPermitted);
        }
        match self.services.follower(&self.account, &openid) {
            Ok(found) => Ok(found.map(follower_to_wit)),
            Err(error) => {
                self.log_failure("followers", &error);
                Err(followers::Error::Store(error.to_string()))
            }
        }
    }

    fn pseudonym(&mut self, openid: String) -> Result<String, followers::Error> {
        if !self.plugin.grants.followers {
            return Err(followers::Error::NotPermitted);
        }
        self.services
            .pseudonym(&self.account, &openid)
            .map_err(|error| {
                self.log_failure("followers", &error);
                followers::Error::Store(error.to_string())
            })
    }
}

impl qrcode::Host for HostCtx {
    fn create(
        &mut self,
        scene: qrcode::Scene,
        kind: qrcode::Kind,
    ) -> Result<qrcode::QrCode, qrcode::Error> {
        if !self.plugin.grants.qrcode {
            return Err(qrcode::Error::NotPermitted);
        }
        let scene = match scene {
            qrcode::Scene::SceneId(id) => Scene::Id(id),
            qrcode::Scene::SceneStr(text) => Scene::Str(text),
        };
        let request = match kind {
            qrcode::Kind::Temporary(seconds) => QrCodeRequest::Temporary {
                scene,
                expire_seconds: Some(seconds),
            },
            qrcode::Kind::Permanent => QrCodeRequest::Permanent { scene },
        };
        match self
            .services
            .create_qrcode(&self.account, &request, now_secs())
        {
            Ok(code) => Ok(qr_code_to_wit(code)),
            Err(error) => {
                self.log_failure("qrcode", &error);
                Err(qrcode_error(error))
            }
        }
    }
}

impl media::Host for HostCtx {
    fn qrcode_image(&mut self, ticket: String) -> Result<String, media::Error> {
        if !self.plugin.grants.media {
            return Err(media::Error::NotPermitted);
        }
        self.services
            .qrcode_image(&self.account, &ticket, now_secs())
            .map_err(|error| {
                self.log_failure("media", &error);
                media_error(error)
            })
    }
}

fn follower_to_wit(follower: Follower) -> followers::Follower {
    followers::Follower {
        subscribed: follower.subscribed,
        first_follow_time: follower.first_follow_at,
        last_follow_time: follower.last_follow_at,
        last_unfollow_time: follower.last_unfollow_at,
        follow_count: follower.follow_count,
        unfollow_count: follower.unfollow_count,
        scan_count: follower.scan_count,
        first_scene: follower.first_scene,
        last_scene: follower.last_scene,
        unionid: follower.unionid,
    }
}

fn qr_code_to_wit(code: QrCode) -> qrcode::QrCode {
    qrcode::QrCode {
        ticket: code.ticket,
        url: code.url,
        image_url: code.image_url,
        expire_seconds: code.expire_seconds,
        cached: code.cached,
    }
}

fn qrcode_error(error: ServiceError) -> qrcode::Error {
    match error {
        ServiceError::InvalidScene(reason) => qrcode::Error::InvalidScene(reason),
        ServiceError::Quota => qrcode::Error::Quota,
        ServiceError::PermanentLimit => qrcode::Error::PermanentLimit,
        ServiceError::Api { errcode, message } => qrcode::Error::Api((errcode, message)),
        ServiceError::Unavailable(reason) => qrcode::Error::Unavailable(reason),
    }
}

fn media_error(error: ServiceError) -> media::Error {
    match error {
        ServiceError::Quota => media::Error::Quota,
        ServiceError::Api { errcode, message } => media::Error::Api((errcode, message)),
        other => media::Error::Unavailable(other.to_string()),
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}
