//! User info and tag types.

use serde::{Deserialize, Deserializer, Serialize};

/// Most openids one `user/info/batchget` call takes.
pub const MAX_BATCHGET: usize = 100;
/// Most openids one tagging call takes.
pub const MAX_TAGGING: usize = 50;

/// A follower's profile from `user/info`. For a user who does not follow
/// the account WeChat returns only `subscribe`, `openid` and sometimes
/// `unionid`, so every other field is optional. Since 2021-12-27 WeChat no
/// longer fills `nickname` and `headimgurl`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UserInfo {
    /// `subscribe`: 1 for a follower, 0 otherwise.
    #[serde(rename = "subscribe", deserialize_with = "flag")]
    pub subscribed: bool,
    pub openid: String,
    #[serde(default)]
    pub unionid: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    /// Time of the last follow, in Unix seconds.
    #[serde(default)]
    pub subscribe_time: Option<u64>,
    #[serde(default)]
    pub remark: Option<String>,
    #[serde(default)]
    pub groupid: Option<i64>,
    #[serde(default)]
    pub tagid_list: Vec<u64>,
    /// The follow source, for example `ADD_SCENE_QR_CODE`.
    #[serde(default)]
    pub subscribe_scene: Option<String>,
    #[serde(default)]
    pub qr_scene: Option<u64>,
    #[serde(default)]
    pub qr_scene_str: Option<String>,
    #[serde(default)]
    pub nickname: Option<String>,
    #[serde(default)]
    pub headimgurl: Option<String>,
}

fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(u8::deserialize(deserializer)? != 0)
}

/// The response of `user/info/batchget`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct UserInfoList {
    pub user_info_list: Vec<UserInfo>,
}

/// A tag from `tags/create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub id: u64,
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct TagResponse {
    pub tag: Tag,
}

/// The response of `openapi/quota/get`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ApiQuota {
    pub daily_limit: u64,
    pub used: u64,
    pub remain: u64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ApiQuotaResponse {
    pub quota: ApiQuota,
}

/// The response of `media/upload`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UploadedMedia {
    #[serde(rename = "type")]
    pub media_type: String,
    pub media_id: String,
    pub created_at: u64,
}

/// The kinds of temporary media `media/upload` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Image,
    Voice,
    Video,
    Thumb,
}

impl MediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Voice => "voice",
            Self::Video => "video",
            Self::Thumb => "thumb",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_follower_parses() {
        let info: UserInfo = serde_json::from_str(
            r#"{"subscribe":0,"openid":"oFAKE_user_0002","unionid":"uFAKE_union_0002"}"#,
        )
        .unwrap();
        assert_eq!(
            info,
            UserInfo {
                subscribed: false,
                openid: "oFAKE_user_0002".to_owned(),
                unionid: Some("uFAKE_union_0002".to_owned()),
                language: None,
                subscribe_time: None,
                remark: None,
                groupid: None,
                tagid_list: Vec::new(),
                subscribe_scene: None,
                qr_scene: None,
                qr_scene_str: None,
                nickname: None,
                headimgurl: None,
            }
        );
    }

    #[test]
    fn follower_parses() {
        let info: UserInfo = serde_json::from_str(
            r#"{"subscribe":1,"openid":"o1","language":"zh_CN","subscribe_time":1382694957,
                "remark":"","groupid":0,"tagid_list":[128,2],"subscribe_scene":"ADD_SCENE_QR_CODE",
                "qr_scene":98765,"qr_scene_str":"","nickname":"","headimgurl":""}"#,
        )
        .unwrap();
        assert!(info.subscribed);
        assert_eq!(info.tagid_list, vec![128, 2]);
        assert_eq!(info.qr_scene, Some(98765));
        assert_eq!(info.subscribe_scene.as_deref(), Some("ADD_SCENE_QR_CODE"));
    }
}
