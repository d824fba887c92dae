//! Parameterised QR codes: the `qrcode/create` request and its checks.

use serde::{Deserialize, Serialize};
use serde_json::json;

/// Maximum lifetime of a temporary QR code: 30 days.
pub const MAX_EXPIRE_SECONDS: u32 = 2_592_000;
/// Largest `scene_id` of a permanent QR code.
pub const MAX_PERMANENT_SCENE_ID: u32 = 100_000;
/// Maximum `scene_str` length, in characters.
pub const MAX_SCENE_STR_CHARS: usize = 64;

/// The scene a QR code carries back in the follow or scan event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scene {
    /// `scene_id`: non-zero; 1 to 100 000 for permanent codes.
    Id(u32),
    /// `scene_str`: 1 to 64 characters.
    Str(String),
}

/// A QR code to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrCodeRequest {
    /// `QR_SCENE` or `QR_STR_SCENE`. Without `expire_seconds` WeChat uses
    /// its default lifetime (60 s in the current documentation).
    Temporary {
        scene: Scene,
        expire_seconds: Option<u32>,
    },
    /// `QR_LIMIT_SCENE` or `QR_LIMIT_STR_SCENE`; at most 100 000 per
    /// account.
    Permanent { scene: Scene },
}

impl QrCodeRequest {
    /// Returns the `action_name` WeChat expects.
    pub fn action_name(&self) -> &'static str {
        match self {
            Self::Temporary {
                scene: Scene::Id(_),
                ..
            } => "QR_SCENE",
            Self::Temporary {
                scene: Scene::Str(_),
                ..
            } => "QR_STR_SCENE",
            Self::Permanent {
                scene: Scene::Id(_),
            } => "QR_LIMIT_SCENE",
            Self::Permanent {
                scene: Scene::Str(_),
            } => "QR_LIMIT_STR_SCENE",
        }
    }

    /// Checks the scene range and the lifetime.
    pub fn validate(&self) -> Result<(), String> {
        let (scene, permanent) = match self {
            Self::Temporary {
                scene,
                expire_seconds,
            } => {
                if let Some(secs) = expire_seconds
                    && (*secs == 0 || *secs > MAX_EXPIRE_SECONDS)
                {
                    return Err(format!(
                        "expire_seconds must be 1 to {MAX_EXPIRE_SECONDS}, got {secs}"
                    ));
                }
                (scene, false)
            }
            Self::Permanent { scene } => (scene, true),
        };
        match scene {
            Scene::Id(0) => Err("scene_id must not be 0".to_owned()),
            Scene::Id(id) if permanent && *id > MAX_PERMANENT_SCENE_ID => Err(format!(
                "scene_id of a permanent QR code must be 1 to {MAX_PERMANENT_SCENE_ID}, got {id}"
            )),
            Scene::Str(s) if s.is_empty() || s.chars().count() > MAX_SCENE_STR_CHARS => {
                Err(format!(
                    "scene_str must be 1 to {MAX_SCENE_STR_CHARS} characters, got {}",
                    s.chars().count()
                ))
            }
            _ => Ok(()),
        }
    }
}

impl Serialize for QrCodeRequest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (scene, expire_seconds) = match self {
            Self::Temporary {
                scene,
                expire_seconds,
            } => (scene, *expire_seconds),
            Self::Permanent { scene } => (scene, None),
        };
        let scene = match scene {
            Scene::Id(id) => json!({ "scene_id": id }),
            Scene::Str(s) => json!({ "scene_str": s }),
        };
        let mut body = json!({
            "action_name": self.action_name(),
            "action_info": { "scene": scene },
        });
        if let Some(secs) = expire_seconds {
            body["expire_seconds"] = json!(secs);
        }
        body.serialize(serializer)
    }
}

/// The response of `qrcode/create`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct QrTicket {
    /// Exchanged for the image at `showqrcode`.
    pub ticket: String,
    /// Lifetime in seconds; absent for permanent codes.
    pub expire_seconds: Option<u64>,
    /// The content the QR code encodes.
    pub url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temporary(scene: Scene, expire_seconds: Option<u32>) -> QrCodeRequest {
        QrCodeRequest::Temporary {
            scene,
            expire_seconds,
        }
    }

    #[test]
    fn scene_ranges() {
        assert!(temporary(Scene::Id(0), None).validate().is_err());
        assert!(temporary(Scene::Id(u32::MAX), Some(60)).validate().is_ok());
        let permanent = |id| QrCodeRequest::Permanent {
            scene: Scene::Id(id),
        };
        assert!(permanent(1).validate().is_ok());
        assert!(permanent(100_000).validate().is_ok());
        assert!(permanent(100_001).validate().is_err());
        assert!(
            temporary(Scene::Str(String::new()), None)
                .validate()
                .is_err()
        );
        assert!(
            temporary(Scene::Str("场".repeat(64)), None)
                .validate()
                .is_ok()
        );
        assert!(
            temporary(Scene::Str("a".repeat(65)), None)
                .validate()
                .is_err()
        );
    }

    #[test]
    fn expire_seconds_range() {
        assert!(temporary(Scene::Id(1), Some(2_592_000)).validate().is_ok());
        assert!(temporary(Scene::Id(1), Some(2_592_001)).validate().is_err());
    }

    #[test]
    fn serializes_documented_shape() {
        let body = serde_json::to_value(temporary(Scene::Id(123), Some(604_800))).unwrap();
        assert_eq!(
            body,
            json!({"expire_seconds":604800,"action_name":"QR_SCENE","action_info":{"scene":{"scene_id":123}}})
        );
        let permanent = QrCodeRequest::Permanent {
            scene: Scene::Str("abc".to_owned()),
        };
        assert_eq!(
            serde_json::to_value(permanent).unwrap(),
            json!({"action_name":"QR_LIMIT_STR_SCENE","action_info":{"scene":{"scene_str":"abc"}}})
        );
    }
}
