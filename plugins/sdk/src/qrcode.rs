//! Parametric QR codes of this official account, for plugins granted the
//! `qrcode` capability, and the scene patterns that match the scenes they
//! carry back.
//!
//! [`create`] blocks the plugin for the API round trip unless the host has
//! the code cached, so a plugin that calls it needs a `deadline_ms` of a
//! few seconds.

use std::fmt;

use serde::Deserialize;

pub use crate::bindings::wxhost::plugin::qrcode::{Kind, QrCode, Scene};

use crate::bindings::wxhost::plugin::qrcode as host;

/// A failed `qrcode` call.
#[derive(Debug, Clone, PartialEq)]
pub enum QrcodeError {
    /// The plugin was not granted the `qrcode` capability.
    NotPermitted,
    /// The scene or lifetime breaks WeChat's limits; the text names which.
    InvalidScene(String),
    /// The account's daily `qrcode/create` quota or call rate is used up.
    Quota,
    /// The account already has 100000 permanent codes.
    PermanentLimit,
    /// WeChat returned this errcode and errmsg.
    Api(i64, String),
    /// The host cannot call WeChat for this account, the call failed or
    /// timed out, or the store failed; the text names which.
    Unavailable(String),
}

impl fmt::Display for QrcodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPermitted => {
                f.write_str("qrcode not permitted: grant the `qrcode` capability")
            }
            Self::InvalidScene(reason) => write!(f, "invalid QR scene: {reason}"),
            Self::Quota => f.write_str("qrcode/create quota used up for today"),
            Self::PermanentLimit => f.write_str("the account has 100000 permanent QR codes"),
            Self::Api(code, message) => {
                write!(f, "qrcode/create failed: errcode {code}: {message}")
            }
            Self::Unavailable(reason) => write!(f, "qrcode unavailable: {reason}"),
        }
    }
}

impl std::error::Error for QrcodeError {}

impl From<host::Error> for QrcodeError {
    fn from(error: host::Error) -> Self {
        match error {
            host::Error::NotPermitted => Self::NotPermitted,
            host::Error::InvalidScene(reason) => Self::InvalidScene(reason),
            host::Error::Quota => Self::Quota,
            host::Error::PermanentLimit => Self::PermanentLimit,
            host::Error::Api((code, message)) => Self::Api(code, message),
            host::Error::Unavailable(reason) => Self::Unavailable(reason),
        }
    }
}

/// Returns a QR code for `scene`, from the host's cache or from WeChat.
pub fn create(scene: &Scene, kind: Kind) -> Result<QrCode, QrcodeError> {
    Ok(host::create(scene, kind)?)
}

impl Scene {
    /// Builds a `scene_str` scene: 1 to 64 characters.
    pub fn text(scene: impl Into<String>) -> Self {
        Self::SceneStr(scene.into())
    }

    /// Builds a `scene_id` scene: 1 to 4294967295 for temporary codes, 1 to
    /// 100000 for permanent ones.
    pub fn id(id: u32) -> Self {
        Self::SceneId(id)
    }
}

/// A pattern for the QR scene of a `subscribe` or `SCAN` event: the exact
/// scene, or a prefix when the pattern ends in `*` (`"spring*"` matches
/// `spring` and `spring_poster`, and `"*"` matches every scene).
/// Deserializes from that string.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub enum ScenePattern {
    /// Matches this scene only.
    Exact(String),
    /// Matches every scene that starts with this text.
    Prefix(String),
}

impl ScenePattern {
    /// Parses `pattern`: a trailing `*` makes it a prefix.
    pub fn new(pattern: &str) -> Self {
        match pattern.strip_suffix('*') {
            Some(prefix) => Self::Prefix(prefix.to_owned()),
            None => Self::Exact(pattern.to_owned()),
        }
    }

    /// Returns true when `scene` matches.
    pub fn matches(&self, scene: &str) -> bool {
        match self {
            Self::Exact(exact) => scene == exact,
            Self::Prefix(prefix) => scene.starts_with(prefix.as_str()),
        }
    }
}

impl From<String> for ScenePattern {
    fn from(pattern: String) -> Self {
        Self::new(&pattern)
    }
}

/// Returns the rest of `scene` after `prefix`, or `None` when `scene`
/// does not start with `prefix` or nothing follows it. A plugin that
/// puts an id into its scenes (`inv_` plus a code) reads the id back
/// with it.
pub fn scene_suffix<'a>(scene: &'a str, prefix: &str) -> Option<&'a str> {
    scene
        .strip_prefix(prefix)
        .filter(|suffix| !suffix.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scene_pattern_exact_and_prefix() {
        let exact = ScenePattern::new("spring");
        assert!(exact.matches("spring"));
        assert!(!exact.matches("spring_poster"));

        let prefix = ScenePattern::new("spring*");
        assert_eq!(prefix, ScenePattern::Prefix("spring".to_owned()));
        assert!(prefix.matches("spring"));
        assert!(prefix.matches("spring_poster"));
        assert!(!prefix.matches("autumn"));

        assert!(ScenePattern::new("*").matches(""));
    }

    #[test]
    fn scene_pattern_deserializes() {
        let patterns: Vec<ScenePattern> = serde_json::from_str(r#"["a", "b*"]"#).unwrap();
        assert_eq!(
            patterns,
            [
                ScenePattern::Exact("a".to_owned()),
                ScenePattern::Prefix("b".to_owned())
            ]
        );
    }

    #[test]
    fn scene_suffix_cases() {
        assert_eq!(scene_suffix("inv_abc", "inv_"), Some("abc"));
        assert_eq!(scene_suffix("inv_", "inv_"), None);
        assert_eq!(scene_suffix("promo", "inv_"), None);
    }

    #[test]
    fn scene_builders() {
        assert_eq!(Scene::text("inv_x"), Scene::SceneStr("inv_x".to_owned()));
        assert_eq!(Scene::id(7), Scene::SceneId(7));
    }

    #[test]
    fn host_error_maps() {
        assert_eq!(
            QrcodeError::from(host::Error::Api((40001, "invalid credential".to_owned())))
                .to_string(),
            "qrcode/create failed: errcode 40001: invalid credential"
        );
        assert_eq!(QrcodeError::from(host::Error::Quota), QrcodeError::Quota);
    }
}
